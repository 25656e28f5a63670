// SwarmMonitoring: Prometheus, Alertmanager, node exporters and the project's exporter as Swarm
// services on the cluster, with alert rules for this platform's quorums (prometheusConfig.ts).
import { ruleProblem, rules } from "../host/grammar";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import * as fs from "fs";
import * as path from "path";
import * as commandTypes from "@pulumi/command/types/input";
import { EndpointMode, PublishMode, SwarmService, SwarmServiceArgs } from "../service/swarmService";
import { isPort, prefix, throwIfAny } from "../host/validation";
import {
    MonitoredZooKeeperServer,
    MonitoringPlan,
    alertRules,
    alertmanagerConfig,
    prometheusConfig,
    rulesFile,
} from "./prometheusConfig";
import { DOCKER_READ_IMAGE, DockerReadProxy } from "../dockerRead";

/** The images scripts/images.sh builds; real clusters push them (or the official ones) to their registry. */
export const MONITORING_IMAGES = {
    prometheus: "swarm-ha-prometheus:2.42",
    alertmanager: "swarm-ha-alertmanager:0.25",
    nodeExporter: "swarm-ha-node-exporter:1.5",
    exporter: "swarm-ha-exporter:2",
    dockerRead: DOCKER_READ_IMAGE,
};

/**
 * The classic graph page of the Prometheus at `base` ("http://ADDRESS:9090") plotting `expr` over
 * `range`: the page the lab's image serves whole (scripts/images.sh gives it its scripts).
 */
export function prometheusGraphUrl(base: string, expr: string, range = "15m"): string {
    return `${base}/classic/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0&g0.range_input=${range}`;
}

/** Grafana's image when `images.grafana` does not name one: the official one (none is built here). */
export const GRAFANA_IMAGE = "grafana/grafana:11.3.0";

/** The dashboards given to Grafana, as kept in components/monitoring/dashboards (by file name). */
export const DASHBOARDS = ["swarm", "zookeeper", "services"];

const dashboardDirs = [
    path.join(__dirname, "dashboards"),
    path.join(__dirname, "..", "..", "..", "components", "monitoring", "dashboards"),
];

/** A dashboard's JSON text, from beside the source or beside the built JavaScript. */
export function dashboardJson(name: string): string {
    const dir = dashboardDirs.find((d) => fs.existsSync(path.join(d, `${name}.json`)));
    if (!dir) {
        throw new Error(
            `swarm-ha: dashboard ${name}.json is in neither ${dashboardDirs.join(" nor ")}`,
        );
    }
    return fs.readFileSync(path.join(dir, `${name}.json`), "utf8");
}

/** Grafana's provisioning: Prometheus as its one datasource, found by name on the monitoring network. */
export function grafanaDatasource(prometheus: string): string {
    return [
        "apiVersion: 1",
        "datasources:",
        "  - name: Prometheus",
        "    type: prometheus",
        "    uid: prometheus",
        "    access: proxy",
        `    url: http://${prometheus}`,
        "    isDefault: true",
        "    editable: false",
        "",
    ].join("\n");
}

/** Grafana's provisioning: the dashboards in the folder the configs are mounted in. */
export const GRAFANA_DASHBOARD_PROVIDER = [
    "apiVersion: 1",
    "providers:",
    "  - name: swarm-ha",
    "    folder: swarm-ha",
    "    type: file",
    "    disableDeletion: true",
    "    allowUiUpdates: false",
    "    options:",
    "      path: /etc/grafana/dashboards",
    "",
].join("\n");

/** The images SwarmMonitoring runs. */
export interface MonitoringImages {
    /** Default: "swarm-ha-prometheus:2.42" (Debian's prometheus, built by scripts/images.sh). */
    prometheus?: pulumi.Input<string>;
    /** Default: "swarm-ha-alertmanager:0.25" (Debian's prometheus-alertmanager). */
    alertmanager?: pulumi.Input<string>;
    /** Default: "swarm-ha-node-exporter:1.5" (Debian's prometheus-node-exporter). */
    nodeExporter?: pulumi.Input<string>;
    /** Default: "swarm-ha-exporter:2" (images/cmd/exporter). */
    exporter?: pulumi.Input<string>;
    /** With `grafana`. Default: "grafana/grafana:11.3.0" (the official image, from its registry). */
    grafana?: pulumi.Input<string>;
    /** The monitoring's own read-only Docker API proxy, without `dockerRead`. Default: "swarm-ha-docker-read:2". */
    dockerRead?: pulumi.Input<string>;
}

/** The ZooKeeper ensemble the monitoring probes. */
export interface MonitoredZooKeeperArgs {
    servers: MonitoredZooKeeperServer[];
    /** The voting servers. Default: all of `servers`. */
    participants?: number;
    /**
     * With the ensemble's TLS, its CA's certificate (ZooKeeperEnsemble's `tlsCa`): the exporter
     * asks the servers over TLS (the targets name their secure client ports). Default: none.
     */
    tlsCa?: pulumi.Input<string>;
}

/** An overlay network of services that ask to be scraped. */
export interface ScrapeNetworkArgs {
    name: string;
    id: pulumi.Input<string>;
}

/** Grafana, as a service of the monitoring. */
export interface GrafanaArgs {
    /** The port it publishes. Default: 3000. */
    port?: number;
}

/**
 * SwarmMonitoring's resource options: Pulumi's, and what only a program composing components can
 * give (a resource is no input another language could pass).
 */
export interface SwarmMonitoringOptions extends pulumi.ComponentResourceOptions {
    /**
     * The cluster's read-only Docker API (DockerReadProxy), which the exporter and Prometheus's
     * discovery read the swarm through; give the one the other components use. Default: the
     * monitoring runs its own, `NAME-docker-read`.
     */
    dockerRead?: DockerReadProxy;
}

export interface SwarmMonitoringArgs {
    /** The cluster's name, the `cluster` label of every series and alert. Required. */
    cluster: string;
    /** The engines' metrics port (SwarmCluster's `engineMetricsPort`); unset: engines are not scraped. */
    engineMetricsPort?: number;
    /** The ensemble's servers, probed through the exporter; ZooKeeper's alerts need them. Default: none. */
    zookeeper?: MonitoredZooKeeperArgs;
    /** How often every target is scraped and rules evaluated, as a duration. Default: "15s". */
    scrapeInterval?: string;
    /** How long a condition holds before its alert fires, as a duration. Default: "1m". */
    alertAfter?: string;
    /** How long Prometheus keeps samples, as a duration. Default: "15d". */
    retention?: string;
    /**
     * The overlay networks of services that ask to be scraped (SwarmService's `metrics`), by name and
     * ID: Prometheus joins them and scrapes each task at its address there. Default: none.
     */
    scrapeNetworks?: ScrapeNetworkArgs[];
    /** Port node exporters publish on every node (host mode). Default: 9100. */
    nodeExporterPort?: number;
    /** Ports Prometheus and Alertmanager publish. Default: 9090 and 9093. */
    prometheusPort?: number;
    alertmanagerPort?: number;
    /**
     * How those two ports are published: "ingress" (every node answers) or "host" (the node running
     * the task). Default: "ingress".
     */
    publishMode?: PublishMode;
    /** How the services find each other on the monitoring network: "vip" or "dnsrr". Default: "vip". */
    endpointMode?: EndpointMode;
    /**
     * Alertmanager's whole configuration (its receivers may hold credentials: given to it as a Docker
     * secret). Default: alerts kept in Alertmanager with no receiver.
     */
    alertmanagerConfig?: pulumi.Input<string>;
    /** Default: the project's images. */
    images?: MonitoringImages;
    /**
     * A node label, KEY=VALUE, that pins Prometheus to the manager carrying it, so that its
     * history (a volume on that node) survives a restart or an update. Default: none, any manager
     * (a task moved to another manager starts with an empty history).
     */
    prometheusLabel?: string;
    /**
     * Grafana, as a service: Prometheus provisioned as its datasource and the project's dashboards
     * (components/monitoring/dashboards: the swarm's nodes and managers, ZooKeeper, the services
     * and the registry) as Docker configs, rolled when they change; its admin password generated
     * (`grafanaAdminPassword`, a secret); its data in the volume NAME-grafana. Default: none.
     */
    grafana?: GrafanaArgs;
    /** A manager's SSH connection: each service's tasks are read there after each change. Default: none. */
    tasksFrom?: commandTypes.remote.ConnectionArgs;
}

const COMPONENT = "SwarmMonitoring";
const EXPORTER_PORT = 9142;

/** Checks a SwarmMonitoring's arguments; one error naming the component, field, value and rule. */
export function validateSwarmMonitoringArgs(
    name: string,
    args: SwarmMonitoringArgs,
    opts?: SwarmMonitoringOptions,
): void {
    const p = prefix(COMPONENT, name);
    const problems: string[] = [];
    for (const [field, value] of [
        ["scrapeInterval", args.scrapeInterval],
        ["alertAfter", args.alertAfter],
        ["retention", args.retention],
    ] as const) {
        if (value !== undefined && !rules.promDuration.test(value)) {
            problems.push(
                `${p}: ${field} is "${value}"; use a Prometheus duration such as "15s", "1m" or "15d".`,
            );
        }
    }
    for (const [field, value] of [
        ["engineMetricsPort", args.engineMetricsPort],
        ["nodeExporterPort", args.nodeExporterPort],
        ["prometheusPort", args.prometheusPort],
        ["alertmanagerPort", args.alertmanagerPort],
        ["grafana port", args.grafana?.port],
    ] as const) {
        if (value !== undefined && !isPort(value)) {
            problems.push(`${p}: ${field} is ${value}; use a whole number from 1 to 65535.`);
        }
    }
    const servers = args.zookeeper?.servers ?? [];
    const participants = args.zookeeper?.participants;
    if (
        participants !== undefined &&
        (!Number.isInteger(participants) || participants < 1 || participants > servers.length)
    ) {
        problems.push(
            `${p}: zookeeper.participants is ${participants}; use a whole number from 1 to the ${servers.length} servers given.`,
        );
    }
    for (const s of servers) {
        if (!/^[^:\s]+:[0-9]+$/.test(s.target)) {
            problems.push(
                `${p}: zookeeper server ${s.id} target is "${s.target}"; use host:port (its client port).`,
            );
        }
    }
    problems.push(...ruleProblem(`${p}: prometheusLabel`, rules.nodeLabel, args.prometheusLabel));
    for (const [which, image] of Object.entries(args.images ?? {})) {
        if (typeof image === "string") {
            problems.push(...ruleProblem(`${p}: images.${which}`, rules.image, image));
        }
    }
    if (opts?.dockerRead !== undefined && args.images?.dockerRead !== undefined) {
        problems.push(
            `${p}: images.dockerRead is set with dockerRead; the proxy given runs its own image, so drop one of them.`,
        );
    }
    const nets = (args.scrapeNetworks ?? []).map((n) => n.name);
    for (const n of nets) {
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(n)) {
            problems.push(
                `${p}: scrapeNetworks name "${n}" is not a network name; use letters, digits, '_', '.' and '-'.`,
            );
        }
    }
    throwIfAny(problems);
}

export class SwarmMonitoring extends pulumi.ComponentResource {
    /** The network the monitoring services share. */
    public readonly network: docker.Network;
    get prometheus(): SwarmService {
        return monitoringInternals.get(this)!.prometheus;
    }
    get alertmanager(): SwarmService {
        return monitoringInternals.get(this)!.alertmanager;
    }
    /** The node exporters, one task per node. */
    get nodeExporter(): SwarmService {
        return monitoringInternals.get(this)!.nodeExporter;
    }
    /** The project's exporter of the swarm's state and ZooKeeper's `mntr`. */
    get exporter(): SwarmService {
        return monitoringInternals.get(this)!.exporter;
    }
    /** The read-only Docker API the exporter and Prometheus read: the one given, or the monitoring's own. */
    get dockerRead(): DockerReadProxy {
        return monitoringInternals.get(this)!.dockerRead;
    }
    /** The names of the alerts Prometheus evaluates. */
    public readonly alerts: string[];
    /** Where Prometheus and Alertmanager answer: their published ports. */
    public readonly prometheusPort: number;
    public readonly alertmanagerPort: number;
    /** Grafana, with `grafana`: the service, where it answers, and its admin password (a secret). */
    get grafana(): SwarmService | undefined {
        return monitoringInternals.get(this)!.grafana;
    }
    public readonly grafanaPort: number | undefined;
    public readonly grafanaAdminPassword: pulumi.Output<string> | undefined;

    constructor(name: string, args: SwarmMonitoringArgs, opts?: SwarmMonitoringOptions) {
        super("swarm-ha:index:SwarmMonitoring", name, {}, opts);
        validateSwarmMonitoringArgs(name, args, opts);
        const images = { ...MONITORING_IMAGES, ...args.images };
        const endpointMode = args.endpointMode ?? "vip";
        const publishMode = args.publishMode ?? "ingress";
        this.prometheusPort = args.prometheusPort ?? 9090;
        this.alertmanagerPort = args.alertmanagerPort ?? 9093;
        const nodeExporterPort = args.nodeExporterPort ?? 9100;
        const servers = args.zookeeper?.servers ?? [];
        const plan: MonitoringPlan = {
            cluster: args.cluster,
            scrapeInterval: args.scrapeInterval ?? "15s",
            alertAfter: args.alertAfter ?? "1m",
            engineMetricsPort: args.engineMetricsPort,
            nodeExporterPort,
            exporter: `${name}-exporter:${EXPORTER_PORT}`,
            alertmanager: `${name}-alertmanager:9093`,
            zookeeper: servers,
            zookeeperParticipants: args.zookeeper?.participants ?? servers.length,
            taskNetworks: (args.scrapeNetworks ?? []).map((n) => n.name),
        };
        this.alerts = alertRules(plan).map((r) => r.alert);

        this.network = new docker.Network(
            `${name}-network`,
            { name, driver: "overlay", attachable: true },
            { parent: this },
        );
        const onNetwork = [{ id: this.network.id }];
        // What every monitoring service shares: the network, how it is found, and where its tasks
        // are read after a change.
        const common: Partial<SwarmServiceArgs> = {
            networks: onNetwork,
            endpointMode,
            tasksFrom: args.tasksFrom,
        };
        // Only a manager's engine answers for the swarm's nodes, services and tasks: the exporter
        // and Prometheus read them through the proxy beside them, never the engine's socket
        // (Prometheus publishes a port).
        const dockerRead =
            opts?.dockerRead ??
            new DockerReadProxy(
                `${name}-docker-read`,
                { image: images.dockerRead, tasksFrom: args.tasksFrom },
                { parent: this },
            );
        const dockerApi = dockerRead.mount;
        const onAManager = ["node.role==manager"];
        // One task with a volume or a port of its own: the old one stops before the new one starts.
        const stopFirst = { order: "stop-first" as const };

        const exporter = new SwarmService(
            `${name}-exporter`,
            {
                ...common,
                image: images.exporter,
                env: {
                    LISTEN: `:${EXPORTER_PORT}`,
                    DOCKER_SOCKET: dockerRead.socket,
                    ...(args.zookeeper?.tlsCa ? { ZOOKEEPER_TLS_CA: args.zookeeper.tlsCa } : {}),
                },
                mounts: [dockerApi],
                constraints: onAManager,
            },
            { parent: this, dependsOn: [dockerRead] },
        );
        const nodeExporter = new SwarmService(
            `${name}-node-exporter`,
            {
                ...common,
                image: images.nodeExporter,
                global: true,
                args: [
                    "--path.procfs=/host/proc",
                    "--path.sysfs=/host/sys",
                    "--path.rootfs=/host/root",
                    `--web.listen-address=:${nodeExporterPort}`,
                ],
                mounts: [
                    { type: "bind", source: "/proc", target: "/host/proc", readOnly: true },
                    { type: "bind", source: "/sys", target: "/host/sys", readOnly: true },
                    { type: "bind", source: "/", target: "/host/root", readOnly: true },
                ],
                // Scraped on every node at the node's address: one task per node, its port there.
                ports: [
                    { target: nodeExporterPort, published: nodeExporterPort, publishMode: "host" },
                ],
                updateConfig: stopFirst,
                rollbackConfig: stopFirst,
                waitForConvergence: false,
            },
            { parent: this },
        );
        const alertmanager = new SwarmService(
            `${name}-alertmanager`,
            {
                ...common,
                image: images.alertmanager,
                args: [
                    "--config.file=/run/secrets/alertmanager.yml",
                    "--storage.path=/alertmanager",
                    "--cluster.listen-address=",
                    "--web.listen-address=:9093",
                ],
                secrets: {
                    "alertmanager.yml": {
                        content: args.alertmanagerConfig ?? alertmanagerConfig(),
                        mode: 0o400,
                    },
                },
                mounts: [
                    { type: "volume", source: `${name}-alertmanager`, target: "/alertmanager" },
                ],
                ports: [{ target: 9093, published: this.alertmanagerPort, publishMode }],
                updateConfig: stopFirst,
                rollbackConfig: stopFirst,
            },
            { parent: this },
        );
        const prometheus = new SwarmService(
            `${name}-prometheus`,
            {
                ...common,
                image: images.prometheus,
                args: [
                    "--config.file=/etc/prometheus/prometheus.yml",
                    "--storage.tsdb.path=/prometheus",
                    `--storage.tsdb.retention.time=${args.retention ?? "15d"}`,
                    "--web.listen-address=:9090",
                ],
                configs: {
                    "prometheus.yml": {
                        content: prometheusConfig(plan),
                        target: "/etc/prometheus/prometheus.yml",
                    },
                    "rules.yml": { content: rulesFile(plan), target: "/etc/prometheus/rules.yml" },
                },
                networks: [...onNetwork, ...(args.scrapeNetworks ?? []).map((n) => ({ id: n.id }))],
                mounts: [
                    dockerApi,
                    { type: "volume", source: `${name}-prometheus`, target: "/prometheus" },
                ],
                constraints: args.prometheusLabel
                    ? [...onAManager, `node.labels.${args.prometheusLabel.replace("=", "==")}`]
                    : onAManager,
                ports: [{ target: 9090, published: this.prometheusPort, publishMode }],
                updateConfig: stopFirst,
                rollbackConfig: stopFirst,
            },
            { parent: this, dependsOn: [dockerRead, exporter, alertmanager] },
        );
        let grafana: SwarmService | undefined;
        if (args.grafana) {
            this.grafanaPort = args.grafana.port ?? 3000;
            this.grafanaAdminPassword = new random.RandomPassword(
                `${name}-grafana-admin`,
                { length: 24, special: false },
                { parent: this },
            ).result;
            const dashboards = Object.fromEntries(
                DASHBOARDS.map((d) => [
                    `dashboard-${d}.json`,
                    { content: dashboardJson(d), target: `/etc/grafana/dashboards/${d}.json` },
                ]),
            );
            grafana = new SwarmService(
                `${name}-grafana`,
                {
                    ...common,
                    image: images.grafana ?? GRAFANA_IMAGE,
                    env: {
                        GF_SECURITY_ADMIN_PASSWORD__FILE: "/run/secrets/grafana-admin",
                        GF_USERS_ALLOW_SIGN_UP: "false",
                        GF_ANALYTICS_REPORTING_ENABLED: "false",
                        GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
                    },
                    secrets: {
                        "grafana-admin": { content: this.grafanaAdminPassword, mode: 0o400 },
                    },
                    configs: {
                        "datasource.yml": {
                            content: grafanaDatasource(`${name}-prometheus:9090`),
                            target: "/etc/grafana/provisioning/datasources/swarm-ha.yml",
                        },
                        "dashboards.yml": {
                            content: GRAFANA_DASHBOARD_PROVIDER,
                            target: "/etc/grafana/provisioning/dashboards/swarm-ha.yml",
                        },
                        ...dashboards,
                    },
                    mounts: [
                        { type: "volume", source: `${name}-grafana`, target: "/var/lib/grafana" },
                    ],
                    ports: [{ target: 3000, published: this.grafanaPort, publishMode }],
                    updateConfig: stopFirst,
                    rollbackConfig: stopFirst,
                },
                { parent: this, dependsOn: [prometheus] },
            );
        }
        monitoringInternals.set(this, {
            prometheus,
            alertmanager,
            nodeExporter,
            exporter,
            dockerRead,
            grafana,
        });
        this.registerOutputs({
            network: this.network.name,
            alerts: this.alerts,
            prometheusPort: this.prometheusPort,
            alertmanagerPort: this.alertmanagerPort,
        });
    }
}

/**
 * What a monitoring keeps for the program that composes it and out of its outputs (and so of the
 * package's schema): its services and its Docker API proxy, components of this package.
 */
const monitoringInternals = new WeakMap<
    SwarmMonitoring,
    {
        prometheus: SwarmService;
        alertmanager: SwarmService;
        nodeExporter: SwarmService;
        exporter: SwarmService;
        dockerRead: DockerReadProxy;
        grafana: SwarmService | undefined;
    }
>();

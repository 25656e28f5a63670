// Unit tests of SwarmMonitoring: its Swarm services (images, placement, ports, mounts, networks,
// configs and the Alertmanager secret; the read-only Docker API instead of the engine's socket, its
// own or a given DockerReadProxy), the Prometheus configuration and alert rules it renders,
// SwarmService's `metrics` labels, the stack's `monitoring` setting and every validation message.
import { Recorder, RecordedResource, resolve, settle } from "../../test/unit/recorder";

const recorder = new Recorder();
recorder.install();

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
    DASHBOARDS,
    DockerReadProxy,
    GRAFANA_DASHBOARD_PROVIDER,
    GRAFANA_IMAGE,
    MONITORING_IMAGES,
    dashboardJson,
    grafanaDatasource,
    MonitoringPlan,
    SwarmMonitoring,
    SwarmMonitoringArgs,
    alertRules,
    alertmanagerConfig,
    prometheusConfig,
    serviceLabels,
    validateSwarmMonitoringArgs,
} from "../internal";
import { parseMonitoring } from "../../config";

const provider = new docker.Provider("cluster-provider", { host: "ssh://root@10.0.0.1:22" });
const ZK = [
    { id: 1, target: "172.30.213.11:2181" },
    { id: 2, target: "172.30.213.12:2181" },
    { id: 3, target: "172.30.213.13:2181" },
];

async function build(
    name: string,
    args: SwarmMonitoringArgs,
    dockerRead?: DockerReadProxy,
): Promise<RecordedResource[]> {
    const before = recorder.resources.length;
    const m = new SwarmMonitoring(name, args, {
        provider,
        transformations: [recorder.transformation],
        dockerRead,
    });
    recorder.nameComponent(m, name);
    await resolve(m.prometheus.serviceName);
    await settle();
    return recorder.resources.slice(before).filter((x) => x.name !== "cluster-provider");
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const inputsOf = (name: string) => recorder.byName(name).inputs as Record<string, any>;
const decode = (data: string): string => Buffer.from(data, "base64").toString("utf8");

const plan = (extra: Partial<MonitoringPlan> = {}): MonitoringPlan => ({
    cluster: "lab",
    scrapeInterval: "5s",
    alertAfter: "10s",
    engineMetricsPort: 9323,
    nodeExporterPort: 9100,
    exporter: "monitoring-exporter:9142",
    alertmanager: "monitoring-alertmanager:9093",
    zookeeper: ZK,
    zookeeperParticipants: 3,
    taskNetworks: ["backend"],
    ...extra,
});

describe("SwarmMonitoring", () => {
    test("four services on a network of their own, each where it must run", async () => {
        const rs = await build("monitoring", {
            cluster: "lab",
            engineMetricsPort: 9323,
            zookeeper: { servers: ZK },
            scrapeNetworks: [{ name: "backend", id: "backend-id" }],
            endpointMode: "dnsrr",
            publishMode: "host",
        });
        expect(rs.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
            [
                "swarm-ha:index:SwarmMonitoring monitoring",
                "docker:index/network:Network monitoring-network",
                "swarm-ha:index:DockerReadProxy monitoring-docker-read",
                "swarm-ha:index:SwarmService monitoring-docker-read-proxy",
                "docker:index/service:Service monitoring-docker-read-proxy-service",
                "swarm-ha:index:SwarmService monitoring-exporter",
                "docker:index/service:Service monitoring-exporter-service",
                "swarm-ha:index:SwarmService monitoring-node-exporter",
                "docker:index/service:Service monitoring-node-exporter-service",
                "swarm-ha:index:SwarmService monitoring-alertmanager",
                "docker:index/secret:Secret monitoring-alertmanager-secret-alertmanager.yml",
                "docker:index/service:Service monitoring-alertmanager-service",
                "swarm-ha:index:SwarmService monitoring-prometheus",
                "docker:index/serviceConfig:ServiceConfig monitoring-prometheus-config-prometheus.yml",
                "docker:index/serviceConfig:ServiceConfig monitoring-prometheus-config-rules.yml",
                // Alertmanager's config object's name carries a hash of its content keyed with a
                // secret salt (its content is an output, which could hold a secret).
                "random:index/randomPassword:RandomPassword monitoring-alertmanager-file-salt",
                "docker:index/service:Service monitoring-prometheus-service",
            ].sort(),
        );
        for (const child of [
            "monitoring-network",
            "monitoring-docker-read",
            "monitoring-exporter",
            "monitoring-node-exporter",
            "monitoring-alertmanager",
            "monitoring-prometheus",
        ]) {
            expect(recorder.byName(child).parent).toBe("monitoring");
        }
        expect(recorder.providerOf("monitoring-prometheus-service")).toContain("cluster-provider");
        expect(inputsOf("monitoring-network")).toEqual({
            name: "monitoring",
            driver: "overlay",
            attachable: true,
        });

        const exporter = inputsOf("monitoring-exporter-service");
        expect(exporter.taskSpec.containerSpec.image).toBe("swarm-ha-exporter:2");
        expect(exporter.taskSpec.containerSpec.env).toEqual({
            LISTEN: ":9142",
            DOCKER_SOCKET: "/run/docker-read/docker.sock",
        });
        // The exporter and Prometheus: the proxy's socket, read-only, never the engine's.
        const readOnlyApi = {
            type: "volume",
            source: "monitoring-docker-read-socket",
            target: "/run/docker-read",
            readOnly: true,
        };
        expect(exporter.taskSpec.containerSpec.mounts).toEqual([readOnlyApi]);
        expect(exporter.taskSpec.placement.constraints).toEqual(["node.role==manager"]);
        expect(recorder.byName("monitoring-exporter").dependsOn).toEqual([
            "monitoring-docker-read",
        ]);
        // The proxy: on every manager (where the exporter and Prometheus run), no port, no network.
        const proxy = inputsOf("monitoring-docker-read-proxy-service");
        expect(proxy.mode).toEqual({ global: true });
        expect(proxy.taskSpec.placement).toEqual({ constraints: ["node.role==manager"] });
        expect(proxy.taskSpec.containerSpec.image).toBe("swarm-ha-docker-read:2");
        expect(proxy.taskSpec.containerSpec.mounts).toEqual([
            {
                type: "bind",
                source: "/var/run/docker.sock",
                target: "/var/run/docker.sock",
                readOnly: false,
            },
            {
                type: "volume",
                source: "monitoring-docker-read-socket",
                target: "/run/docker-read",
                readOnly: false,
            },
        ]);
        expect(proxy.endpointSpec.ports).toEqual([]);
        expect(proxy.taskSpec.networksAdvanceds).toBeUndefined();
        expect(exporter.endpointSpec.mode).toBe("dnsrr");

        const nodeExporter = inputsOf("monitoring-node-exporter-service");
        expect(nodeExporter.mode).toEqual({ global: true });
        expect(nodeExporter.endpointSpec.ports).toEqual([
            expect.objectContaining({ targetPort: 9100, publishedPort: 9100, publishMode: "host" }),
        ]);
        expect(
            nodeExporter.taskSpec.containerSpec.mounts.map((m: { target: string }) => m.target),
        ).toEqual(["/host/proc", "/host/sys", "/host/root"]);
        expect(nodeExporter.updateConfig.order).toBe("stop-first");

        const prometheus = inputsOf("monitoring-prometheus-service");
        expect(prometheus.mode).toEqual({ replicated: { replicas: 1 } });
        expect(prometheus.taskSpec.containerSpec.image).toBe("swarm-ha-prometheus:2.42");
        expect(prometheus.taskSpec.containerSpec.args).toEqual([
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            "--storage.tsdb.retention.time=15d",
            "--web.listen-address=:9090",
        ]);
        expect(prometheus.taskSpec.placement.constraints).toEqual(["node.role==manager"]);
        expect(prometheus.taskSpec.containerSpec.mounts).toEqual([
            readOnlyApi,
            {
                type: "volume",
                source: "monitoring-prometheus",
                target: "/prometheus",
                readOnly: false,
            },
        ]);
        // Its own network, then the networks of the tasks it scrapes.
        expect(prometheus.taskSpec.networksAdvanceds).toEqual([
            { id: "monitoring-network-id" },
            { id: "backend-id" },
        ]);
        expect(prometheus.endpointSpec.ports).toEqual([
            expect.objectContaining({ targetPort: 9090, publishedPort: 9090, publishMode: "host" }),
        ]);
        expect(prometheus.updateConfig.order).toBe("stop-first");
        expect(recorder.byName("monitoring-prometheus").dependsOn.sort()).toEqual([
            "monitoring-alertmanager",
            "monitoring-docker-read",
            "monitoring-exporter",
        ]);
        // No service that publishes a port holds the engine's socket; only the proxy does.
        const services = rs.filter((r) => r.type === "docker:index/service:Service");
        expect(services).toHaveLength(5);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const withSocket = services.filter((r: any) =>
            (r.inputs.taskSpec.containerSpec.mounts ?? []).some(
                (m: { source?: string }) => m.source === "/var/run/docker.sock",
            ),
        );
        expect(withSocket.map((r) => r.name)).toEqual(["monitoring-docker-read-proxy-service"]);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        expect(withSocket.map((r: any) => r.inputs.endpointSpec.ports)).toEqual([[]]);
        const config = inputsOf("monitoring-prometheus-config-prometheus.yml");
        expect(JSON.parse(decode(config.data))).toEqual(
            JSON.parse(
                prometheusConfig(
                    plan({ scrapeInterval: "15s", alertAfter: "1m", taskNetworks: ["backend"] }),
                ),
            ),
        );

        const alertmanager = inputsOf("monitoring-alertmanager-service");
        expect(alertmanager.taskSpec.containerSpec.image).toBe("swarm-ha-alertmanager:0.25");
        expect(alertmanager.taskSpec.containerSpec.args[0]).toBe(
            "--config.file=/run/secrets/alertmanager.yml",
        );
        const secret = recorder.byName("monitoring-alertmanager-secret-alertmanager.yml");
        expect(secret.secretPaths).toContain("data");
        expect(decode(secret.inputs.data as string)).toBe(alertmanagerConfig());
        expect(MONITORING_IMAGES).toEqual({
            prometheus: "swarm-ha-prometheus:2.42",
            alertmanager: "swarm-ha-alertmanager:0.25",
            nodeExporter: "swarm-ha-node-exporter:1.5",
            exporter: "swarm-ha-exporter:2",
            dockerRead: "swarm-ha-docker-read:2",
        });
    });

    test("a proxy given is used as it is, none of its own; its own runs images.dockerRead", async () => {
        const shared = new DockerReadProxy(
            "mon-shared-read",
            {},
            { provider, transformations: [recorder.transformation] },
        );
        const rs = await build("mon-shared", { cluster: "lab" }, shared);
        expect(rs.map((r) => r.name).filter((n) => n.includes("docker-read"))).toEqual([]);
        for (const consumer of ["mon-shared-exporter", "mon-shared-prometheus"]) {
            expect(recorder.byName(consumer).dependsOn).toContain("mon-shared-read");
            expect(inputsOf(`${consumer}-service`).taskSpec.containerSpec.mounts[0]).toEqual({
                type: "volume",
                source: "mon-shared-read-socket",
                target: "/run/docker-read",
                readOnly: true,
            });
        }
        await build("mon-img", {
            cluster: "lab",
            images: { dockerRead: "registry.example/swarm-ha-docker-read:2" },
        });
        expect(inputsOf("mon-img-docker-read-proxy-service").taskSpec.containerSpec.image).toBe(
            "registry.example/swarm-ha-docker-read:2",
        );
        expect(() =>
            validateSwarmMonitoringArgs(
                "mon",
                { cluster: "lab", images: { dockerRead: "x:1" } },
                { dockerRead: shared },
            ),
        ).toThrow(
            'SwarmMonitoring "mon": images.dockerRead is set with dockerRead; the proxy given runs its own image, so drop one of them.',
        );
    });

    test("a given Alertmanager configuration stays secret; images can be replaced", async () => {
        const own =
            "route: {receiver: pager}\nreceivers: [{name: pager, webhook_configs: [{url: 'https://pager.example/TOKEN'}]}]\n";
        await build("mon2", {
            cluster: "prod",
            alertmanagerConfig: pulumi.secret(own),
            images: { prometheus: "registry.example/prometheus:2.53" },
        });
        const secret = recorder.byName("mon2-alertmanager-secret-alertmanager.yml");
        expect(secret.secretPaths).toContain("data");
        expect(decode(secret.inputs.data as string)).toBe(own);
        expect(inputsOf("mon2-prometheus-service").taskSpec.containerSpec.image).toBe(
            "registry.example/prometheus:2.53",
        );
        expect(inputsOf("mon2-exporter-service").taskSpec.containerSpec.image).toBe(
            "swarm-ha-exporter:2",
        );
        // Defaults: vip, ingress, nothing but its own network.
        const prometheus = inputsOf("mon2-prometheus-service");
        expect(prometheus.endpointSpec.mode).toBe("vip");
        expect(prometheus.endpointSpec.ports[0].publishMode).toBe("ingress");
        expect(prometheus.taskSpec.networksAdvanceds).toHaveLength(1);
    });

    test("prometheusLabel pins Prometheus and its history's volume to the manager with that label", async () => {
        await build("mon3", { cluster: "prod", prometheusLabel: "monitoring=prometheus" });
        const prometheus = inputsOf("mon3-prometheus-service");
        expect(prometheus.taskSpec.placement.constraints).toEqual([
            "node.role==manager",
            "node.labels.monitoring==prometheus",
        ]);
        expect(prometheus.taskSpec.containerSpec.mounts).toContainEqual({
            type: "volume",
            source: "mon3-prometheus",
            target: "/prometheus",
            readOnly: false,
        });
        expect(() =>
            validateSwarmMonitoringArgs("m", { cluster: "c", prometheusLabel: "monitoring" }),
        ).toThrow(
            `SwarmMonitoring "m": prometheusLabel is "monitoring"; use KEY=VALUE, a label some node has, such as "monitoring=prometheus" (the key as labels' keys; the value without spaces, "=" or "!").`,
        );
    });

    test("grafana: Prometheus as its datasource and the project's dashboards as configs, its admin password generated", async () => {
        const rs = await build("mon4", { cluster: "prod", grafana: {}, publishMode: "host" });
        expect(rs.map((r) => `${r.type} ${r.name}`).filter((r) => r.includes("grafana"))).toEqual(
            expect.arrayContaining([
                "random:index/randomPassword:RandomPassword mon4-grafana-admin",
                "swarm-ha:index:SwarmService mon4-grafana",
                "docker:index/service:Service mon4-grafana-service",
                "docker:index/secret:Secret mon4-grafana-secret-grafana-admin",
                "docker:index/serviceConfig:ServiceConfig mon4-grafana-config-datasource.yml",
                "docker:index/serviceConfig:ServiceConfig mon4-grafana-config-dashboards.yml",
                ...DASHBOARDS.map(
                    (d) =>
                        `docker:index/serviceConfig:ServiceConfig mon4-grafana-config-dashboard-${d}.json`,
                ),
            ]),
        );
        const grafana = inputsOf("mon4-grafana-service");
        expect(grafana.taskSpec.containerSpec.image).toBe(GRAFANA_IMAGE);
        expect(grafana.taskSpec.containerSpec.env).toEqual({
            GF_SECURITY_ADMIN_PASSWORD__FILE: "/run/secrets/grafana-admin",
            GF_USERS_ALLOW_SIGN_UP: "false",
            GF_ANALYTICS_REPORTING_ENABLED: "false",
            GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
        });
        expect(grafana.endpointSpec.ports).toEqual([
            { targetPort: 3000, publishedPort: 3000, protocol: "tcp", publishMode: "host" },
        ]);
        expect(grafana.taskSpec.containerSpec.mounts).toContainEqual({
            type: "volume",
            source: "mon4-grafana",
            target: "/var/lib/grafana",
            readOnly: false,
        });
        expect(recorder.byName("mon4-grafana").dependsOn).toContain("mon4-prometheus");
        const config = (n: string) => decode(inputsOf(`mon4-grafana-config-${n}`).data as string);
        expect(config("datasource.yml")).toBe(grafanaDatasource("mon4-prometheus:9090"));
        expect(config("datasource.yml")).toContain("url: http://mon4-prometheus:9090\n");
        expect(config("dashboards.yml")).toBe(GRAFANA_DASHBOARD_PROVIDER);
        for (const d of DASHBOARDS) {
            expect(config(`dashboard-${d}.json`)).toBe(dashboardJson(d));
        }
        const targets = (grafana.taskSpec.containerSpec.configs as { fileName: string }[]).map(
            (c) => c.fileName,
        );
        expect(targets.sort()).toEqual(
            [
                "/etc/grafana/provisioning/datasources/swarm-ha.yml",
                "/etc/grafana/provisioning/dashboards/swarm-ha.yml",
                ...DASHBOARDS.map((d) => `/etc/grafana/dashboards/${d}.json`),
            ].sort(),
        );
        const secret = recorder.byName("mon4-grafana-secret-grafana-admin");
        expect(secret.secretPaths).toContain("data");
    });

    test("the dashboards: what Grafana's file provisioning needs, every query on the provisioned datasource", () => {
        const uids = new Set<string>();
        for (const name of DASHBOARDS) {
            const d = JSON.parse(dashboardJson(name)) as {
                uid: string;
                title: string;
                schemaVersion: number;
                panels: {
                    id: number;
                    type: string;
                    title: string;
                    gridPos: { h: number; w: number; x: number; y: number };
                    datasource: { type: string; uid: string };
                    targets: { refId: string; expr: string }[];
                }[];
            };
            expect(d.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
            expect(uids.has(d.uid)).toBe(false);
            uids.add(d.uid);
            expect(d.title.length).toBeGreaterThan(0);
            expect(Number.isInteger(d.schemaVersion)).toBe(true);
            expect(d.panels.length).toBeGreaterThan(0);
            expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
            for (const p of d.panels) {
                expect(["timeseries", "stat"]).toContain(p.type);
                expect(p.title.length).toBeGreaterThan(0);
                const g = p.gridPos;
                expect([g.h, g.w, g.x, g.y].every(Number.isInteger)).toBe(true);
                expect(g.x + g.w).toBeLessThanOrEqual(24);
                expect(p.datasource).toEqual({ type: "prometheus", uid: "prometheus" });
                expect(p.targets.length).toBeGreaterThan(0);
                expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
                for (const t of p.targets) expect(t.expr.trim().length).toBeGreaterThan(0);
            }
        }
        expect(grafanaDatasource("p:9090")).toContain("    uid: prometheus\n");
    });

    test("with ZooKeeper's TLS, the exporter gets the ensemble's CA", async () => {
        const ca = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
        await build("mon3", {
            cluster: "prod",
            zookeeper: { servers: [{ id: 1, target: "10.0.0.11:2281" }], tlsCa: ca },
        });
        expect(inputsOf("mon3-exporter-service").taskSpec.containerSpec.env).toEqual({
            LISTEN: ":9142",
            DOCKER_SOCKET: "/run/docker-read/docker.sock",
            ZOOKEEPER_TLS_CA: ca,
        });
    });

    test("the constructor validates before creating any child", () => {
        const before = recorder.resources.length;
        expect(
            () =>
                new SwarmMonitoring("bad", { cluster: "x", scrapeInterval: "often" }, { provider }),
        ).toThrow('SwarmMonitoring "bad": scrapeInterval is "often"');
        expect(recorder.resources.slice(before).filter((r) => r.name.startsWith("bad"))).toEqual(
            [],
        );
    });
});

describe("Prometheus's configuration", () => {
    test("jobs: itself, the exporter, node exporters and engines by Swarm discovery, ZooKeeper through the exporter, tasks", () => {
        const c = JSON.parse(prometheusConfig(plan()));
        expect(c.global).toEqual({
            scrape_interval: "5s",
            evaluation_interval: "5s",
            external_labels: { cluster: "lab" },
        });
        expect(c.rule_files).toEqual(["/etc/prometheus/rules.yml"]);
        expect(c.alerting.alertmanagers[0].static_configs[0].targets).toEqual([
            "monitoring-alertmanager:9093",
        ]);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const jobs = Object.fromEntries(c.scrape_configs.map((j: any) => [j.job_name, j]));
        expect(Object.keys(jobs)).toEqual([
            "prometheus",
            "swarm",
            "node",
            "docker-engine",
            "zookeeper",
            "tasks",
        ]);
        expect(jobs.swarm.static_configs).toEqual([{ targets: ["monitoring-exporter:9142"] }]);
        expect(jobs["docker-engine"].dockerswarm_sd_configs).toEqual([
            { host: "unix:///run/docker-read/docker.sock", role: "nodes" },
        ]);
        // Every discovery reads the read-only proxy's socket, never the engine's.
        expect(
            c.scrape_configs
                // eslint-disable-next-line @typescript-eslint/no-explicit-any
                .flatMap((j: any) => j.dockerswarm_sd_configs ?? [])
                .map((d: { host: string; role: string }) => `${d.role} ${d.host}`),
        ).toEqual([
            "nodes unix:///run/docker-read/docker.sock",
            "nodes unix:///run/docker-read/docker.sock",
            "tasks unix:///run/docker-read/docker.sock",
        ]);
        expect(JSON.stringify(c)).not.toContain("/var/run/docker.sock");
        expect(jobs["docker-engine"].relabel_configs[0]).toEqual({
            source_labels: ["__meta_dockerswarm_node_address"],
            target_label: "__address__",
            replacement: "$1:9323",
        });
        expect(jobs.node.relabel_configs[0].replacement).toBe("$1:9100");
        expect(jobs.zookeeper.metrics_path).toBe("/probe");
        expect(jobs.zookeeper.static_configs[1]).toEqual({
            targets: ["172.30.213.12:2181"],
            labels: { server: "2" },
        });
        expect(jobs.zookeeper.relabel_configs[2]).toEqual({
            target_label: "__address__",
            replacement: "monitoring-exporter:9142",
        });
        const keep = jobs.tasks.relabel_configs.filter(
            (r: { action?: string }) => r.action === "keep",
        );
        expect(keep).toEqual([
            {
                source_labels: ["__meta_dockerswarm_service_label_swarm_ha_metrics_port"],
                regex: ".+",
                action: "keep",
            },
            {
                source_labels: ["__meta_dockerswarm_task_desired_state"],
                regex: "running",
                action: "keep",
            },
            {
                source_labels: ["__meta_dockerswarm_network_name"],
                regex: "backend",
                action: "keep",
            },
        ]);
    });

    test("without engine metrics, ZooKeeper or networks to share, those jobs scrape nothing", () => {
        const c = JSON.parse(
            prometheusConfig(
                plan({
                    engineMetricsPort: undefined,
                    zookeeper: [],
                    zookeeperParticipants: 0,
                    taskNetworks: [],
                }),
            ),
        );
        expect(c.scrape_configs.map((j: { job_name: string }) => j.job_name)).toEqual([
            "prometheus",
            "swarm",
            "node",
            "tasks",
        ]);
        expect(c.scrape_configs[3].relabel_configs[2].regex).toBe("^$");
    });
});

describe("alert rules", () => {
    test("the swarm's and ZooKeeper's quorums, nodes, services and targets", () => {
        const rules = alertRules(plan());
        expect(rules.map((r) => `${r.alert} ${r.labels.severity} ${r.for}`)).toEqual([
            "SwarmManagersWithoutMajority critical 10s",
            "SwarmManagerUnreachable warning 10s",
            "SwarmNodeDown warning 10s",
            "SwarmServiceBelowReplicas warning 10s",
            "MonitoringTargetDown warning 10s",
            "ZooKeeperServerDown warning 10s",
            "ZooKeeperNoLeader critical 10s",
            "ZooKeeperFollowersNotSynced warning 10s",
        ]);
        const expr = Object.fromEntries(rules.map((r) => [r.alert, r.expr]));
        expect(expr.SwarmManagersWithoutMajority).toBe(
            "(sum(swarm_ha_manager_reachable) * 2 <= count(swarm_ha_manager_reachable)) or (swarm_ha_swarm_api_up == 0)",
        );
        expect(expr.ZooKeeperNoLeader).toBe(
            '(sum(zk_server_state{state=~"leader|standalone"}) or vector(0)) < 1',
        );
        expect(expr.ZooKeeperFollowersNotSynced).toBe("max(zk_synced_followers) < 2");
    });

    test("five participants want four synced followers; one server wants none; no ensemble, no ZooKeeper alert", () => {
        const five = alertRules(plan({ zookeeperParticipants: 5 }));
        expect(five.find((r) => r.alert === "ZooKeeperFollowersNotSynced")?.expr).toBe(
            "max(zk_synced_followers) < 4",
        );
        const one = alertRules(plan({ zookeeper: [ZK[0]], zookeeperParticipants: 1 }));
        expect(one.map((r) => r.alert)).not.toContain("ZooKeeperFollowersNotSynced");
        expect(one.map((r) => r.alert)).toContain("ZooKeeperNoLeader");
        const none = alertRules(plan({ zookeeper: [], zookeeperParticipants: 0 }));
        expect(none.map((r) => r.alert).filter((a) => a.startsWith("ZooKeeper"))).toEqual([]);
    });
});

describe("validation and settings", () => {
    test("every problem at once, naming the component, field, value and rule", () => {
        expect(() =>
            validateSwarmMonitoringArgs("monitoring", {
                cluster: "lab",
                scrapeInterval: "5 s",
                alertAfter: "soon",
                prometheusPort: 0,
                zookeeper: { servers: [{ id: 1, target: "zk1" }], participants: 2 },
                scrapeNetworks: [{ name: "back end", id: "x" }],
            }),
        ).toThrow(
            [
                'SwarmMonitoring "monitoring": scrapeInterval is "5 s"; use a Prometheus duration such as "15s", "1m" or "15d".',
                'SwarmMonitoring "monitoring": alertAfter is "soon"; use a Prometheus duration such as "15s", "1m" or "15d".',
                'SwarmMonitoring "monitoring": prometheusPort is 0; use a whole number from 1 to 65535.',
                'SwarmMonitoring "monitoring": zookeeper.participants is 2; use a whole number from 1 to the 1 servers given.',
                'SwarmMonitoring "monitoring": zookeeper server 1 target is "zk1"; use host:port (its client port).',
                `SwarmMonitoring "monitoring": scrapeNetworks name "back end" is not a network name; use letters, digits, '_', '.' and '-'.`,
            ].join("\n"),
        );
    });

    test("SwarmService's metrics become the labels Prometheus's task discovery keeps", () => {
        expect(serviceLabels({ image: "web", metrics: { port: 8080 } })).toEqual([
            { label: "swarm-ha.metrics.path", value: "/metrics" },
            { label: "swarm-ha.metrics.port", value: "8080" },
        ]);
        expect(serviceLabels({ image: "web", metrics: { port: 80, path: "/stats" } })).toEqual([
            { label: "swarm-ha.metrics.path", value: "/stats" },
            { label: "swarm-ha.metrics.port", value: "80" },
        ]);
    });

    test("swarm-ha:monitoring: off unless enabled, the engines' port defaulted, its shape checked", () => {
        expect(parseMonitoring(undefined)).toBeUndefined();
        expect(parseMonitoring({})).toBeUndefined();
        expect(parseMonitoring({ enabled: false, scrapeInterval: "5s" })).toBeUndefined();
        expect(parseMonitoring({ enabled: true })).toEqual({
            enabled: true,
            engineMetricsPort: 9323,
        });
        // Images, Alertmanager's configuration (a secret) and Prometheus's pin, from stack config.
        const own = "route:\n  receiver: pager\nreceivers:\n  - name: pager\n";
        const parsed = parseMonitoring({
            enabled: true,
            images: { prometheus: "prom/prometheus:v2.53.0", exporter: "reg.example/exporter:2" },
            alertmanagerConfig: own,
            prometheusLabel: "monitoring=prometheus",
        })!;
        expect(parsed.images).toEqual({
            prometheus: "prom/prometheus:v2.53.0",
            exporter: "reg.example/exporter:2",
        });
        expect(pulumi.Output.isInstance(parsed.alertmanagerConfig)).toBe(true);
        expect(parsed.prometheusLabel).toBe("monitoring=prometheus");
        expect(() =>
            parseMonitoring({ enabled: true, alertmanagerConfig: "receivers: []\nTOKEN-123" }),
        ).toThrow(
            "swarm-ha:monitoring.alertmanagerConfig has no top-level route: and receivers:; give Alertmanager's whole configuration as YAML (its value is secret, not shown).",
        );
        expect(() =>
            parseMonitoring({ enabled: true, alertmanagerConfig: "receivers: []\nTOKEN-123" }),
        ).not.toThrow(/TOKEN-123/);
        expect(() => parseMonitoring(true)).toThrow(
            "swarm-ha:monitoring is true; give a map such as { enabled: true }.",
        );
        expect(() =>
            parseMonitoring({
                enabled: "yes",
                colour: 1,
                publishMode: "mesh",
                endpointMode: "vip",
            }),
        ).toThrow(
            [
                'swarm-ha:monitoring.enabled is "yes"; give true or false.',
                "swarm-ha:monitoring.colour is not a setting; use enabled, engineMetricsPort, scrapeInterval, alertAfter, retention, publishMode, endpointMode, prometheusPort, alertmanagerPort, nodeExporterPort, images, grafana, alertmanagerConfig, prometheusLabel.",
                'swarm-ha:monitoring.publishMode is "mesh"; use "ingress" or "host".',
            ].join("\n"),
        );
    });
});

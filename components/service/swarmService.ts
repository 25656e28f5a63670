// SwarmService: a Docker Swarm service through @pulumi/docker's docker.Service, with the overlay
// networks, secrets and configs it needs. The Docker provider comes through resource options
// (SwarmCluster exposes one), never through args.
import { createHash, createHmac } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import * as inputs from "@pulumi/docker/types/input";
import * as commandTypes from "@pulumi/command/types/input";
import { imageRegistry, ruleProblem, rules } from "../host/grammar";
import { remoteStep } from "../host/remoteStep";
import { shellQuote } from "../host/remoteScript";
import { duplicates, isPort, prefix, throwIfAny } from "../host/validation";

/** Service labels a SwarmService sets when it asks to be scraped (`metrics`); Prometheus keeps them. */
export const METRICS_PORT_LABEL = "swarm-ha.metrics.port";
export const METRICS_PATH_LABEL = "swarm-ha.metrics.path";

/** A published port. */
/** The protocol of a published port. */
export const PortProtocol = {
    Tcp: "tcp",
    Udp: "udp",
    Sctp: "sctp",
} as const;
export type PortProtocol = (typeof PortProtocol)[keyof typeof PortProtocol];

/** Where a published port answers. */
export const PublishMode = {
    /** The routing mesh: every node answers. */
    Ingress: "ingress",
    /** Only the nodes that run a task. */
    Host: "host",
} as const;
export type PublishMode = (typeof PublishMode)[keyof typeof PublishMode];

/** How a service's tasks are found by name on its networks. */
export const EndpointMode = {
    /** One virtual IP. */
    Vip: "vip",
    /** DNS round robin over the tasks' addresses. */
    Dnsrr: "dnsrr",
} as const;
export type EndpointMode = (typeof EndpointMode)[keyof typeof EndpointMode];

/** The order of a rolling update. */
export const UpdateOrder = {
    /** The new task is up before the old one stops. */
    StartFirst: "start-first",
    /** The old task stops first. */
    StopFirst: "stop-first",
} as const;
export type UpdateOrder = (typeof UpdateOrder)[keyof typeof UpdateOrder];

/** What a failed rolling update does. */
export const UpdateFailureAction = {
    Rollback: "rollback",
    Pause: "pause",
    Continue: "continue",
} as const;
export type UpdateFailureAction = (typeof UpdateFailureAction)[keyof typeof UpdateFailureAction];

/** When a task is restarted. */
export const RestartCondition = {
    None: "none",
    OnFailure: "on-failure",
    Any: "any",
} as const;
export type RestartCondition = (typeof RestartCondition)[keyof typeof RestartCondition];

/** The kind of a mount. */
export const MountType = {
    Bind: "bind",
    Volume: "volume",
    Tmpfs: "tmpfs",
} as const;
export type MountType = (typeof MountType)[keyof typeof MountType];

export interface ServicePortArgs {
    /** Port inside the container. */
    target: number;
    /** Port on the swarm (ingress) or on each host running a task (host). Default: Docker picks. */
    published?: number;
    /** "tcp", "udp" or "sctp". Default: "tcp". */
    protocol?: PortProtocol;
    /**
     * "ingress" (the routing mesh: every node answers) or "host" (only nodes running a task).
     * Default: "ingress".
     */
    publishMode?: PublishMode;
}

/**
 * A network the service attaches to, one of: by `id`; an existing network by `name`, its ID looked
 * up through the provider at every run; or, with `create`, an overlay network the component creates
 * (named `<service>-<name>`).
 */
export interface ServiceNetworkArgs {
    /** A network's ID, such as a docker.Network's `id`. */
    id?: pulumi.Input<string>;
    /** A network's name. */
    name?: string;
    /** Create the overlay network `name` (as `<service>-<name>`). Default: false. */
    create?: boolean;
    /** With `create`: containers outside services may attach. Default: false. */
    attachable?: boolean;
}

/** Credentials for an image's private registry. */
export interface RegistryAuthArgs {
    /** The registry's host and port, as the image names it. */
    server: string;
    username: string;
    /** Pass it as a secret. */
    password: pulumi.Input<string>;
}

/** CPUs (fractions allowed) and memory in bytes. */
export interface ServiceResourcesArgs {
    cpus?: number;
    memoryBytes?: number;
}

/** When and how often a task is restarted. */
export interface RestartPolicyArgs {
    condition?: RestartCondition;
    /** As a Go duration. */
    delay?: string;
    maxAttempts?: number;
    /** As a Go duration. */
    window?: string;
}

/** A container health check. */
export interface HealthcheckArgs {
    /** e.g. ["CMD", "wget", "-qO-", "localhost"]. */
    test: string[];
    interval?: string;
    timeout?: string;
    retries?: number;
    startPeriod?: string;
}

/** A bind, volume or tmpfs mount. */
export interface ServiceMountArgs {
    type: MountType;
    target: string;
    source?: string;
    readOnly?: boolean;
}

/** Where a service's tasks serve Prometheus metrics. */
export interface ServiceMetricsArgs {
    port: number;
    /** Default: "/metrics". */
    path?: string;
}

/** A secret or config given by content; mounted at /run/secrets/<key> or at `target`. */
export interface ServiceFileArgs {
    /** The content. For secrets, pass a Pulumi secret. */
    content: pulumi.Input<string>;
    /** Path (configs) or file name (secrets) in the container. Default: the key. */
    target?: string;
    /** File mode, as a number (0o444 is 292). Default: 0o444. */
    mode?: number;
}

/** Rolling update (or rollback) behaviour. */
export interface ServiceUpdateArgs {
    /** Tasks updated at once. Default: 1. */
    parallelism?: number;
    /** Wait between batches, as a Go duration. Default: "5s". */
    delay?: string;
    /** "start-first" (new task up before the old stops) or "stop-first". Default: "start-first". */
    order?: UpdateOrder;
    /** "rollback", "pause" or "continue". Default for updates: "rollback"; for rollbacks: "pause". */
    failureAction?: UpdateFailureAction;
    /** Time to watch each task for failure after it starts. Default: "15s". */
    monitor?: string;
    /** Share of failed tasks tolerated during the update. Default: 0. */
    maxFailureRatio?: string;
}

export interface SwarmServiceArgs {
    /** The image, e.g. "nginx:1.27" or a locally loaded "swarm-ha-web:3". Required, non-empty. */
    image: pulumi.Input<string>;
    /**
     * Credentials for the image's private registry (`server`: its host and port as the image names
     * it): sent with every create and update, so that each node pulls with them, as `docker service
     * create --with-registry-auth` does. Pass the password as a secret. Default: none.
     */
    registryAuth?: RegistryAuthArgs;
    /**
     * Run the image by the digest its tag names now: at every preview and `up` the registry is asked
     * from where Pulumi runs (with `registryAuth` when given), and the service runs
     * `IMAGE@sha256:...`; a tag moved to another digest shows in the preview as an image change and
     * rolls the service. An image given with a digest is run as given. Default: false.
     */
    pinDigest?: boolean;
    /** Replicas of a replicated service (a whole number, 0 or more). Default: 1 unless `global`. */
    replicas?: number;
    /** One task on every node that matches the placement, instead of `replicas`. Default: false. */
    global?: boolean;
    /** Overrides the image's entrypoint. Default: the image's. */
    command?: pulumi.Input<string>[];
    /** Arguments to the command. Default: the image's. */
    args?: pulumi.Input<string>[];
    /** Environment variables. Default: none. */
    env?: Record<string, pulumi.Input<string>>;
    /** Environment variables whose values are secrets (kept secret in state). Default: none. */
    secretEnv?: Record<string, pulumi.Input<string>>;
    /** Published ports. Default: none. */
    ports?: ServicePortArgs[];
    /** "vip" (one virtual IP) or "dnsrr" (DNS round robin). Default: "vip". */
    endpointMode?: EndpointMode;
    /** Networks to attach. Default: none (the default ingress/bridge only). */
    networks?: ServiceNetworkArgs[];
    /** Placement constraints, e.g. "node.role==worker". Default: none. */
    constraints?: string[];
    /** Placement preferences, e.g. "spread=node.labels.zone". Default: none. */
    placementPreferences?: string[];
    /** At most this many tasks on one node. Default: no limit. */
    maxReplicasPerNode?: number;
    /** Resource limits: CPUs (fractions allowed) and memory in bytes. Default: none. */
    limits?: ServiceResourcesArgs;
    /** Resource reservations: CPUs and memory in bytes. Default: none. */
    reservations?: ServiceResourcesArgs;
    /** Restart policy. Default: Docker's (any exit, 5 s apart, no limit), given in full to the provider. */
    restartPolicy?: RestartPolicyArgs;
    /** Health check, e.g. { test: ["CMD", "wget", "-qO-", "localhost"] }. Default: the image's. */
    healthcheck?: HealthcheckArgs;
    /** Rolling update settings. Default: 1 at a time, start-first, rollback on failure. */
    updateConfig?: ServiceUpdateArgs;
    /** Rollback settings. Default: 1 at a time, start-first, pause on failure. */
    rollbackConfig?: ServiceUpdateArgs;
    /** Secrets by key, created under names carrying a hash of their content. Default: none. */
    secrets?: Record<string, ServiceFileArgs>;
    /** Configs by key, created under names carrying a hash of their content. Default: none. */
    configs?: Record<string, ServiceFileArgs>;
    /** Mounts (bind, volume or tmpfs). Default: none. */
    mounts?: ServiceMountArgs[];
    /** Service labels. Default: none. */
    labels?: Record<string, string>;
    /**
     * Register the running tasks in the service registry (ServiceRegistry) as ROOT/<service>/<task id>,
     * reached at the first published port on the task's node (see `registerPort`). Sets the label
     * `swarm-ha.register`, which the registrar follows. Default: false.
     */
    register?: boolean;
    /**
     * With `register`, the port registered instead, at the task's address on its overlay network
     * (the label `swarm-ha.register.port`). Default: the first published port.
     */
    registerPort?: number;
    /**
     * Scrape the tasks' Prometheus metrics (SwarmMonitoring): at `port` and `path` (default
     * "/metrics") of each task's address on a network Prometheus shares with it. Sets the labels
     * `swarm-ha.metrics.port` and `swarm-ha.metrics.path`. Default: not scraped.
     */
    metrics?: ServiceMetricsArgs;
    /**
     * Wait for a replicated service's tasks to converge on create and update. With `tasksFrom`,
     * the tasks step waits, asking the swarm every quarter second; without it, the Docker provider
     * does (it first asks 7 s after an update, then every 5 s or more). Default: true.
     */
    waitForConvergence?: boolean;
    /** Longest wait for convergence, as a Go duration. Default: "3m". */
    convergenceTimeout?: string;
    /**
     * A manager's SSH connection (one of SwarmCluster's `managerConnections`): after each change of the
     * service, its running tasks are read there (`tasks`, `addresses`). Default: none.
     */
    tasksFrom?: commandTypes.remote.ConnectionArgs;
}

/** A running task, as `docker service ps` shows it. */
export interface ServiceTask {
    id: string;
    node: string;
    /** The node's address in the swarm. */
    address: string;
    state: string;
    /** Since when, as docker says it ("2 minutes ago"). */
    since: string;
}

const COMPONENT = "SwarmService";

/** What is wrong with one of `networks`: it names a network by exactly one of `id` and `name`. */
function networkProblems(at: string, n: ServiceNetworkArgs): string[] {
    if (n.id === undefined && n.name === undefined) {
        return [`${at} gives neither id nor name; give one of them.`];
    }
    if (n.id !== undefined && n.name !== undefined) {
        return [`${at} gives both an id and the name "${n.name}"; give one of them.`];
    }
    const asks = (["create", "attachable"] as const).filter((k) => n[k] === true);
    if (n.id !== undefined && asks.length > 0) {
        return [
            `${at} gives an id with ${asks.join(" and ")} true; those are for a network by name.`,
        ];
    }
    if (n.attachable === true && n.create !== true) {
        return [
            `${at} ("${n.name}") has attachable true without create; attachable is for a network the service creates, so set create: true.`,
        ];
    }
    return [];
}

/** Checks a SwarmService's arguments; one error naming the component, field, value and rule. */
export function validateSwarmServiceArgs(name: string, args: SwarmServiceArgs): void {
    const p = prefix(COMPONENT, name);
    const problems: string[] = [];
    if (typeof args.image === "string" && args.image.trim() === "") {
        problems.push(`${p}: image is empty; give an image reference such as "nginx:1.27".`);
    } else if (typeof args.image === "string") {
        problems.push(...ruleProblem(`${p}: image`, rules.image, args.image));
    }
    problems.push(
        ...ruleProblem(`${p}: the name`, rules.name, name),
        ...Object.keys({ ...args.env, ...args.secretEnv }).flatMap((k) =>
            ruleProblem(`${p}: env name`, rules.envName, k),
        ),
        ...Object.entries(args.labels ?? {}).flatMap(([k, v]) => [
            ...ruleProblem(`${p}: label key`, rules.labelKey, k),
            ...ruleProblem(`${p}: label ${k}`, rules.labelValue, v),
        ]),
        ...(args.constraints ?? []).flatMap((c) =>
            ruleProblem(`${p}: constraint`, rules.constraint, c),
        ),
        ...(args.placementPreferences ?? []).flatMap((c) =>
            ruleProblem(`${p}: placementPreferences entry`, rules.preference, c),
        ),
        ...(args.networks ?? []).flatMap((n, i) =>
            ruleProblem(`${p}: networks[${i}] name`, rules.dockerName, n.name),
        ),
        ...[...Object.values(args.secrets ?? {}), ...Object.values(args.configs ?? {})].flatMap(
            (f) => ruleProblem(`${p}: target`, rules.containerPath, f.target),
        ),
    );
    if (args.registryAuth) {
        const auth = args.registryAuth;
        problems.push(
            ...ruleProblem(`${p}: registryAuth server`, rules.registry, auth.server),
            ...ruleProblem(`${p}: registryAuth username`, rules.registryUser, auth.username),
        );
        if (typeof auth.password === "string" && !rules.registryPassword.test(auth.password)) {
            // Never shown: it is a password.
            problems.push(`${p}: registryAuth password; ${rules.registryPassword.says}.`);
        }
        if (
            typeof args.image === "string" &&
            rules.image.test(args.image) &&
            rules.registry.test(auth.server) &&
            imageRegistry(args.image) !== auth.server
        ) {
            problems.push(
                `${p}: registryAuth server is "${auth.server}" but the image "${args.image}" is pulled from ${imageRegistry(args.image)}; give the credentials of the image's registry.`,
            );
        }
    }
    if (args.global && args.replicas !== undefined) {
        problems.push(
            `${p}: replicas is ${args.replicas} with global true; a global service runs one task per node, so leave replicas unset.`,
        );
    }
    if (args.replicas !== undefined && (!Number.isInteger(args.replicas) || args.replicas < 0)) {
        problems.push(`${p}: replicas is ${args.replicas}; use a whole number of at least 0.`);
    }
    for (const port of args.ports ?? []) {
        if (!isPort(port.target)) {
            problems.push(`${p}: ports target ${port.target} is not a port; use 1 to 65535.`);
        }
        if (port.published !== undefined && !isPort(port.published)) {
            problems.push(`${p}: ports published ${port.published} is not a port; use 1 to 65535.`);
        }
    }
    const published = (args.ports ?? [])
        .filter((x) => x.published !== undefined)
        .map((x) => `${x.published}/${x.protocol ?? "tcp"}`);
    for (const dup of duplicates(published)) {
        problems.push(
            `${p}: published port ${dup} is used more than once; published ports must be unique.`,
        );
    }
    if (
        args.convergenceTimeout !== undefined &&
        durationSeconds(args.convergenceTimeout) === undefined
    ) {
        problems.push(
            `${p}: convergenceTimeout is "${args.convergenceTimeout}"; use a Go duration such as "3m" or "90s".`,
        );
    }
    if (
        args.maxReplicasPerNode !== undefined &&
        (!Number.isInteger(args.maxReplicasPerNode) || args.maxReplicasPerNode < 1)
    ) {
        problems.push(
            `${p}: maxReplicasPerNode is ${args.maxReplicasPerNode}; use a whole number of at least 1.`,
        );
    }
    for (const [field, files] of [
        ["secrets", args.secrets],
        ["configs", args.configs],
    ] as const) {
        for (const key of Object.keys(files ?? {})) {
            problems.push(...ruleProblem(`${p}: ${field} key`, rules.dockerName, key));
        }
    }
    if (args.registerPort !== undefined && !isPort(args.registerPort)) {
        problems.push(`${p}: registerPort ${args.registerPort} is not a port; use 1 to 65535.`);
    }
    if (args.registerPort !== undefined && args.register !== true) {
        problems.push(
            `${p}: registerPort is ${args.registerPort} but register is not true; set register: true to register the service.`,
        );
    }
    if (args.metrics && !isPort(args.metrics.port)) {
        problems.push(`${p}: metrics port ${args.metrics.port} is not a port; use 1 to 65535.`);
    }
    if (args.metrics?.path !== undefined && !/^\/\S*$/.test(args.metrics.path)) {
        problems.push(
            `${p}: metrics path "${args.metrics.path}" is not a path; use one such as "/metrics".`,
        );
    }
    (args.networks ?? []).forEach((n, i) =>
        problems.push(...networkProblems(`${p}: networks[${i}]`, n)),
    );
    const networkNames = (args.networks ?? []).flatMap((n) =>
        n.name !== undefined ? [n.name] : [],
    );
    for (const dup of duplicates(networkNames)) {
        problems.push(`${p}: network "${dup}" is listed more than once.`);
    }
    throwIfAny(problems);
}

/**
 * The first 12 hex digits of the SHA-256 of a content, keyed with `salt` (HMAC) when given: the
 * suffix of secret and config names, plain in state and in `docker secret ls`, so that of a secret
 * is keyed with a secret salt and cannot be tested against guesses.
 */
export function contentHash(content: string, salt?: string): string {
    const hash = salt === undefined ? createHash("sha256") : createHmac("sha256", salt);
    return hash.update(content).digest("hex").slice(0, 12);
}

/** docker.Service's updateConfig (or rollbackConfig) from the component's settings and defaults. */
export function updateSpec(
    given: ServiceUpdateArgs | undefined,
    failureDefault: "rollback" | "pause",
): inputs.ServiceUpdateConfig {
    return {
        parallelism: given?.parallelism ?? 1,
        delay: given?.delay ?? "5s",
        order: given?.order ?? "start-first",
        failureAction: given?.failureAction ?? failureDefault,
        monitor: given?.monitor ?? "15s",
        maxFailureRatio: given?.maxFailureRatio ?? "0",
    };
}

/**
 * docker.Service's restartPolicy, every field given. The provider sends fields left out as zero on an
 * update but not on create, so the task spec the swarm stored would differ from the next one sent,
 * and any change (even of the replicas only) would replace every task.
 */
export function restartSpec(
    given: SwarmServiceArgs["restartPolicy"],
): inputs.ServiceTaskSpecRestartPolicy {
    return {
        condition: given?.condition ?? "any",
        delay: given?.delay ?? "5s",
        maxAttempts: given?.maxAttempts ?? 0,
        window: given?.window ?? "0s",
    };
}

/** docker.Service's endpointSpec from the ports and endpoint mode. */
export function endpointSpec(args: SwarmServiceArgs): inputs.ServiceEndpointSpec {
    return {
        mode: args.endpointMode ?? "vip",
        ports: (args.ports ?? []).map((port) => ({
            targetPort: port.target,
            publishedPort: port.published,
            protocol: port.protocol ?? "tcp",
            publishMode: port.publishMode ?? "ingress",
        })),
    };
}

/**
 * The command that prints a service's running tasks ("task ID NODE ADDRESS STATE SINCE...") and
 * every node's address ("node ADDRESS"), on a manager.
 */
export function tasksCommand(service: string, convergenceSeconds?: number): string {
    return [
        "set -eu",
        ...(convergenceSeconds === undefined ? [] : convergenceWait(service, convergenceSeconds)),
        `docker service ps ${shellQuote(service)} --filter desired-state=running --format '{{.ID}} {{.Node}} {{.CurrentState}}' |`,
        `  while read -r id node rest; do echo "task $id $node $(docker node inspect -f '{{.Status.Addr}}' "$node") $rest"; done`,
        "docker node ls -q | xargs docker node inspect -f 'node {{.Status.Addr}}'",
    ].join("\n");
}

/**
 * The one path of a service's diff the preview hides: the Docker provider's plan of the containers'
 * sysctl map, which this component never sets (see the service's hideDiffs).
 */
const SYSCTL_PATH = "taskSpec.containerSpec.sysctl";

/** How often the tasks step asks the swarm whether a service has converged. */
export const CONVERGENCE_POLL_SECONDS = 0.25;

/**
 * Lines that wait (bounded) until a replicated service has converged, as `docker service update
 * --detach=false` waits: no update or rollback in progress, and its replicas running, each on the
 * service's current spec (the swarm's own `_up-to-date` filter, which docker's CLI waits with), no
 * other task meant to run. An update the swarm rolled back or paused fails with its own message,
 * unless that update started longer ago than the bound: a status left by an earlier run, which the
 * swarm keeps until the next update, is not this run's.
 */
function convergenceWait(service: string, seconds: number): string[] {
    const bound = Math.ceil(seconds);
    const ps =
        "docker service ps \"$svc\" --filter desired-state=running --format '{{.CurrentState}}'";
    return [
        `svc=${shellQuote(service)}`,
        "why() { docker service inspect \"$svc\" --format '{{if .UpdateStatus}}{{.UpdateStatus.Message}}{{end}}'; }",
        `until=$(($(date +%s) + ${bound}))`,
        "while :; do",
        "  st=$(docker service inspect \"$svc\" --format '{{if .UpdateStatus}}{{.UpdateStatus.State}} {{if .UpdateStatus.StartedAt}}{{.UpdateStatus.StartedAt.Unix}}{{else}}0{{end}}{{else}}none 0{{end}} {{.Spec.Mode.Replicated.Replicas}}')",
        "  update=${st%% *} replicas=${st##* } started=${st#* }",
        "  started=${started% *}",
        `  [ $(($(date +%s) - started)) -le ${bound} ] || case "$update" in rollback_completed | paused | rollback_paused) update=earlier ;; esac`,
        '  case "$update" in',
        '    rollback_completed) echo "swarm-ha: service $svc: service rollback completed: $(why)" >&2; exit 1 ;;',
        '    paused | rollback_paused) echo "swarm-ha: service $svc: the update is $update: $(why)" >&2; exit 1 ;;',
        "  esac",
        `  fresh=$(${ps} --filter _up-to-date=true | grep -c '^Running' || true)`,
        `  meant=$(${ps} | grep -c . || true)`,
        '  case "$update" in updating | rollback_started) ;; *) [ "$fresh" = "$replicas" ] && [ "$meant" = "$replicas" ] && break ;; esac',
        `  [ "$(date +%s)" -lt "$until" ] || { echo "swarm-ha: service $svc: not converged after ${bound} s: $fresh of $replicas running on its current spec, $meant meant to run, update $update" >&2; exit 1; }`,
        `  sleep ${CONVERGENCE_POLL_SECONDS}`,
        "done",
    ];
}

/** Seconds of a Go duration ("3m", "90s", "1m30s", "500ms"); undefined when it is not one. */
export function durationSeconds(text: string): number | undefined {
    const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
    if (!/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(text)) return undefined;
    let total = 0;
    for (const [, n, u] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g))
        total += Number(n) * unit[u];
    return total;
}

/** Reads what {@link tasksCommand} printed. */
export function parseTasks(stdout: string): { tasks: ServiceTask[]; nodes: string[] } {
    const tasks: ServiceTask[] = [];
    const nodes: string[] = [];
    for (const line of stdout.split("\n")) {
        const [kind, ...f] = line.trim().split(/\s+/);
        if (kind === "task" && f.length >= 4) {
            tasks.push({
                id: f[0],
                node: f[1],
                address: f[2],
                state: f[3],
                since: f.slice(4).join(" "),
            });
        } else if (kind === "node" && f.length === 1) {
            nodes.push(f[0]);
        }
    }
    return { tasks: tasks.sort((a, b) => (a.id < b.id ? -1 : 1)), nodes: nodes.sort() };
}

/**
 * Where the service answers, as "ADDRESS:PORT": for a port published in host mode, the nodes running
 * a task; in ingress mode, every node.
 */
export function serviceAddresses(
    ports: ServicePortArgs[],
    report: { tasks: ServiceTask[]; nodes: string[] },
): string[] {
    const found = new Set<string>();
    for (const port of ports.filter((p) => p.published !== undefined)) {
        const hosts =
            (port.publishMode ?? "ingress") === "host"
                ? report.tasks.map((t) => t.address)
                : report.nodes;
        for (const host of hosts) found.add(`${host}:${port.published}`);
    }
    return [...found].sort();
}

/**
 * The service's labels: the caller's, the registry's when it asks to be registered, and
 * monitoring's when it asks to be scraped.
 */
export function serviceLabels(args: SwarmServiceArgs): { label: string; value: string }[] {
    const labels: Record<string, string> = { ...args.labels };
    if (args.register) {
        labels["swarm-ha.register"] = "true";
        if (args.registerPort !== undefined) {
            labels["swarm-ha.register.port"] = String(args.registerPort);
        }
    }
    if (args.metrics) {
        labels[METRICS_PORT_LABEL] = String(args.metrics.port);
        labels[METRICS_PATH_LABEL] = args.metrics.path ?? "/metrics";
    }
    return Object.entries(labels)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([label, value]) => ({ label, value }));
}

const nanoCpus = (cpus: number | undefined): number | undefined =>
    cpus === undefined ? undefined : Math.round(cpus * 1e9);

/** A Swarm service on the cluster of the Docker provider given in `opts.provider`. */
export class SwarmService extends pulumi.ComponentResource {
    /** The service's name in the swarm. */
    public readonly serviceName: pulumi.Output<string>;
    /** The docker.Service resource. */
    public readonly service: docker.Service;
    /** Published ports as "published/protocol (mode)". */
    public readonly endpoints: string[];
    /** Running tasks after the last change, with `tasksFrom`; else undefined. */
    public readonly tasks: pulumi.Output<ServiceTask[]> | undefined;
    /** "ADDRESS:PORT" where the service answers, with `tasksFrom`; else undefined. */
    public readonly addresses: pulumi.Output<string[]> | undefined;

    constructor(name: string, args: SwarmServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("swarm-ha:index:SwarmService", name, {}, opts);
        validateSwarmServiceArgs(name, args);

        const networks: inputs.ServiceTaskSpecNetworksAdvanced[] = [];
        const created: pulumi.Resource[] = [];
        for (const net of args.networks ?? []) {
            if (net.id !== undefined) {
                networks.push({ id: net.id });
            } else if (net.create) {
                const network = new docker.Network(
                    `${name}-net-${net.name}`,
                    {
                        name: `${name}-${net.name}`,
                        driver: "overlay",
                        attachable: net.attachable ?? false,
                    },
                    { parent: this },
                );
                created.push(network);
                networks.push({ id: network.id });
            } else {
                const found = docker.getNetworkOutput({ name: net.name! }, { parent: this });
                networks.push({ id: found.id });
            }
        }

        // Secrets and configs are immutable in a swarm while in use: a new content makes a new
        // object (its name carries the content's hash) and the service rolls onto it; the old one
        // is deleted after the service no longer uses it (the provider asks to delete first, which
        // Swarm refuses while the service uses it).
        // The hashes in secrets' names (and in those of configs whose content is an output, which
        // can be secret) are keyed with a salt of the service's own, a secret, made once.
        const salted = (content: pulumi.Input<string>, secret: boolean) =>
            secret || typeof content !== "string";
        const needsSalt =
            Object.keys(args.secrets ?? {}).length > 0 ||
            Object.values(args.configs ?? {}).some((f) => salted(f.content, false));
        const salt = needsSalt
            ? new random.RandomPassword(
                  `${name}-file-salt`,
                  { length: 32, special: false },
                  { parent: this },
              ).result
            : undefined;
        const hashed = (
            key: string,
            content: pulumi.Input<string>,
            secret: boolean,
        ): pulumi.Output<string> =>
            pulumi.unsecret(
                pulumi
                    .all([content, salted(content, secret) ? salt : undefined])
                    .apply(([c, k]) => `${name}-${key}-${contentHash(c, k)}`),
            );
        const base64 = (content: pulumi.Input<string>): pulumi.Output<string> =>
            pulumi.output(content).apply((c) => Buffer.from(c, "utf8").toString("base64"));
        const secretRefs = Object.keys(args.secrets ?? {})
            .sort()
            .map((key) => {
                const file = args.secrets![key];
                const secret = new docker.Secret(
                    `${name}-secret-${key}`,
                    {
                        name: hashed(key, file.content, true),
                        data: pulumi.secret(base64(file.content)),
                    },
                    { parent: this, deleteBeforeReplace: false },
                );
                return {
                    secretId: secret.id,
                    secretName: secret.name,
                    fileName: file.target ?? key,
                    fileMode: file.mode ?? 0o444,
                };
            });
        const configRefs = Object.keys(args.configs ?? {})
            .sort()
            .map((key) => {
                const file = args.configs![key];
                const config = new docker.ServiceConfig(
                    `${name}-config-${key}`,
                    { name: hashed(key, file.content, false), data: base64(file.content) },
                    { parent: this, deleteBeforeReplace: false },
                );
                return {
                    configId: config.id,
                    configName: config.name,
                    fileName: file.target ?? `/${key}`,
                    fileMode: file.mode ?? 0o444,
                };
            });

        const env: Record<string, pulumi.Input<string>> = { ...args.env };
        for (const [k, v] of Object.entries(args.secretEnv ?? {})) {
            env[k] = pulumi.secret(v);
        }

        const global = args.global ?? false;
        const waitForConvergence = args.waitForConvergence ?? true;
        const auth = args.registryAuth && {
            serverAddress: args.registryAuth.server,
            username: args.registryAuth.username,
            password: pulumi.secret(args.registryAuth.password),
        };
        const spec: docker.ServiceArgs = {
            name,
            mode: global ? { global: true } : { replicated: { replicas: args.replicas ?? 1 } },
            taskSpec: {
                containerSpec: {
                    image: args.pinDigest ? this.pinned(name, args) : args.image,
                    commands: args.command,
                    args: args.args,
                    env: Object.keys(env).length > 0 ? env : undefined,
                    secrets: secretRefs.length > 0 ? secretRefs : undefined,
                    configs: configRefs.length > 0 ? configRefs : undefined,
                    mounts: args.mounts?.map((m) => ({
                        type: m.type,
                        target: m.target,
                        source: m.source,
                        readOnly: m.readOnly ?? false,
                    })),
                    healthcheck: args.healthcheck && {
                        tests: args.healthcheck.test,
                        interval: args.healthcheck.interval ?? "30s",
                        timeout: args.healthcheck.timeout ?? "5s",
                        retries: args.healthcheck.retries ?? 3,
                        startPeriod: args.healthcheck.startPeriod ?? "0s",
                    },
                },
                placement: {
                    constraints: args.constraints,
                    prefs: args.placementPreferences,
                    maxReplicas: args.maxReplicasPerNode,
                },
                resources:
                    args.limits || args.reservations
                        ? {
                              limits: args.limits && {
                                  nanoCpus: nanoCpus(args.limits.cpus),
                                  memoryBytes: args.limits.memoryBytes,
                              },
                              reservation: args.reservations && {
                                  nanoCpus: nanoCpus(args.reservations.cpus),
                                  memoryBytes: args.reservations.memoryBytes,
                              },
                          }
                        : undefined,
                restartPolicy: restartSpec(args.restartPolicy),
                networksAdvanceds: networks.length > 0 ? networks : undefined,
            },
            endpointSpec: endpointSpec(args),
            updateConfig: updateSpec(args.updateConfig, "rollback"),
            rollbackConfig: updateSpec(args.rollbackConfig, "pause"),
            // The provider can wait for replicated services only; with a tasks step, it waits.
            convergeConfig:
                waitForConvergence && !global && !args.tasksFrom
                    ? { delay: "2s", timeout: args.convergenceTimeout ?? "3m" }
                    : undefined,
            labels: serviceLabels(args),
            auth,
        };
        this.service = new docker.Service(`${name}-service`, spec, {
            parent: this,
            dependsOn: created,
            // The provider plans the sysctl map, which this component never sets, as {} on every
            // update, and the CLI shows it as [unknown] since no input has it: a scale previewed a
            // task spec change that never happens. It stays empty; the preview names the path as
            // hidden, without a value.
            hideDiffs: [SYSCTL_PATH],
            // The registry's password: the plugin gives the auth block back among its outputs,
            // which the state must keep encrypted.
            ...(auth ? { additionalSecretOutputs: ["auth"] } : {}),
        });
        this.serviceName = this.service.name;
        this.endpoints = (args.ports ?? [])
            .filter((p) => p.published !== undefined)
            .map((p) => `${p.published}/${p.protocol ?? "tcp"} (${p.publishMode ?? "ingress"})`);
        if (args.tasksFrom) {
            // After each change (the service's spec as the provider stored it), on a manager.
            const report = remoteStep(
                `${name}-tasks`,
                {
                    connection: args.tasksFrom,
                    create: tasksCommand(
                        name,
                        waitForConvergence && !global
                            ? durationSeconds(args.convergenceTimeout ?? "3m")
                            : undefined,
                    ),
                    // What the swarm reports, and what was asked: a rollback finished before the
                    // provider read the service back reports the old spec, yet the step must run.
                    // Each as a hash: a preview shows two values changing, not the provider's
                    // planned spec, which lists empty fields (args: [], sysctl: {}) that the
                    // update never sets.
                    triggers: [
                        pulumi
                            .all([
                                this.service.mode,
                                this.service.taskSpec,
                                this.service.endpointSpec,
                            ])
                            .apply((reported) => contentHash(JSON.stringify(reported))),
                        pulumi
                            .output({
                                mode: spec.mode,
                                taskSpec: spec.taskSpec,
                                endpointSpec: spec.endpointSpec,
                            })
                            .apply((asked) => contentHash(JSON.stringify(asked))),
                    ],
                },
                { parent: this, dependsOn: [this.service] },
            ).stdout.apply(parseTasks);
            this.tasks = report.apply((r) => r.tasks);
            this.addresses = report.apply((r) => serviceAddresses(args.ports ?? [], r));
        }
        this.registerOutputs({
            serviceName: this.serviceName,
            endpoints: this.endpoints,
            tasks: this.tasks,
            addresses: this.addresses,
        });
    }

    /**
     * The image by the digest its tag names now (pinDigest), asked of its registry at every
     * preview and up by a Docker provider of the service's own that holds the registry's
     * credentials and never dials an engine: `IMAGE@sha256:...`. An image with a digest is kept.
     */
    private pinned(name: string, args: SwarmServiceArgs): pulumi.Output<string> {
        if (typeof args.image === "string" && args.image.includes("@")) {
            return pulumi.output(args.image);
        }
        const auth = args.registryAuth;
        const lookup = new docker.Provider(
            `${name}-registry`,
            {
                disableDockerDaemonCheck: true,
                registryAuth: auth && [
                    {
                        address: auth.server,
                        username: auth.username,
                        password: pulumi.secret(auth.password),
                    },
                ],
            },
            { parent: this },
        );
        return pulumi
            .output(args.image)
            .apply((image) =>
                image.includes("@")
                    ? pulumi.output(image)
                    : docker
                          .getRegistryImageOutput(
                              { name: image },
                              { provider: lookup, parent: this },
                          )
                          .apply((found) => `${image}@${found.sha256Digest}`),
            );
    }
}

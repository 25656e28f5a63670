// The stack's configuration: read in one place, validated with errors that name the config key,
// and turned into the components' arguments. Components never read config themselves.
import { createHmac } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as pulumi from "@pulumi/pulumi";
import {
    BACKUP_DEFAULTS,
    REGISTRAR_IMAGE,
    DOCKER_READ_IMAGE,
    DockerInstallMethod,
    NodeAvailability,
    SwarmNodeArgs,
    BackupArgs,
    SwarmRecoveryArgs,
    SwarmRole,
    SWARM_PORTS,
    ZOOKEEPER_DEFAULTS,
    ZooKeeperServerArgs,
} from "./components/internal";
import { ServiceSettings, parseServices } from "./serviceConfig";
import { STACK } from "./configSchema";
import { rules, shown } from "./components/host/grammar";
import { Schema, check, unknownKey } from "./components/host/schema";

export const NAMESPACE = "swarm-ha";

/** One entry of `swarm-ha:nodes` as written in a stack file. */
export interface NodeConfig {
    name: string;
    host: string;
    advertiseAddress?: string;
    role: SwarmRole;
    labels?: Record<string, string>;
    availability?: NodeAvailability;
    sshUser?: string;
    sshPort?: number;
    hostKey?: string;
}

/** Everything the program needs, validated and with defaults applied. */
export interface StackSettings {
    clusterName: string;
    nodes: SwarmNodeArgs[];
    sshUser: string;
    sshPort: number;
    sshPrivateKey: pulumi.Output<string>;
    /** The key's file on this machine, with `sshPrivateKeyFile`; the Docker provider's ssh uses it. */
    sshPrivateKeyFile?: string;
    sshDialAttempts: number;
    /**
     * A host with no recorded key is trusted with the key it presents at the first run, kept in
     * the stack's state and required afterwards; off, such a host is refused.
     */
    trustOnFirstUse: boolean;
    dockerInstall: DockerInstallMethod;
    dockerVersion?: string;
    /** With docker-ce, Docker's apt repository or a mirror of it; unset: Docker's own. */
    dockerRepository?: string;
    autolock: boolean;
    /** `swarm-ha:joinTokenRotation`: change it to rotate the join tokens. */
    joinTokenRotation: number;
    /** The services by name (`swarm-ha:services`); none when unset. */
    services: Record<string, ServiceSettings>;
    zookeeper?: ZooKeeperSettings;
    /** The registrar's image (`swarm-ha:registrarImage`), for services that ask to be registered. */
    registrarImage: string;
    /**
     * The read-only Docker API proxy's image (`swarm-ha:dockerReadImage`), for the registry and the
     * monitoring.
     */
    dockerReadImage: string;
    /** Monitoring and alerting (`swarm-ha:monitoring`); absent when not enabled. */
    monitoring?: MonitoringSettings;
    /** The hosts' firewall (`swarm-ha:firewall`): on unless the stack turns it off; absent then. */
    firewall?: FirewallSettings;
    /**
     * Backups of the swarm's Raft state (`swarm-ha:backup`), its defaults applied; absent when the
     * stack sets none of its fields.
     */
    backup?: Required<BackupArgs>;
    /** A swarm without its majority rebuilt from one manager (`swarm-ha:recovery`); absent: none. */
    recovery?: SwarmRecoveryArgs;
}

/** `swarm-ha:monitoring` as written in a stack file. */
export interface MonitoringSettings {
    enabled?: boolean;
    /** The engines' metrics port SwarmCluster sets. Default: 9323. */
    engineMetricsPort?: number;
    scrapeInterval?: string;
    alertAfter?: string;
    retention?: string;
    publishMode?: "ingress" | "host";
    endpointMode?: "vip" | "dnsrr";
    prometheusPort?: number;
    alertmanagerPort?: number;
    nodeExporterPort?: number;
    /** The images, each defaulting to the project's (scripts/images.sh). */
    images?: {
        prometheus?: string;
        alertmanager?: string;
        nodeExporter?: string;
        exporter?: string;
        grafana?: string;
    };
    /** Grafana with the project's dashboards, when enabled; its published port (3000). */
    grafana?: { enabled?: boolean; port?: number };
    /** Alertmanager's whole configuration (YAML: route, receivers), a secret. */
    alertmanagerConfig?: pulumi.Output<string>;
    /** KEY=VALUE: the manager label that pins Prometheus and its history. */
    prometheusLabel?: string;
}

/**
 * `swarm-ha:monitoring` when enabled, the engines' port defaulted; unset or `enabled: false` is no
 * monitoring. Its shape is checked with the stack's ({@link checkStack}).
 */
export function parseMonitoring(raw: unknown): MonitoringSettings | undefined {
    fail(check(STACK.fields.monitoring, raw ?? undefined, key("monitoring")));
    const m = raw as
        | (Omit<MonitoringSettings, "alertmanagerConfig"> & { alertmanagerConfig?: string })
        | undefined
        | null;
    if (!m?.enabled) return undefined;
    const config = m.alertmanagerConfig;
    // Alertmanager refuses a configuration without these at its start, after the roll began.
    if (config !== undefined && !(/^route:/m.test(config) && /^receivers:/m.test(config))) {
        fail([
            `${key("monitoring")}.alertmanagerConfig has no top-level route: and receivers:; give Alertmanager's whole configuration as YAML (its value is secret, not shown).`,
        ]);
    }
    return {
        ...m,
        engineMetricsPort: m.engineMetricsPort ?? 9323,
        alertmanagerConfig: config === undefined ? undefined : pulumi.secret(config),
    };
}

/** `swarm-ha:firewall` as written in a stack file. */
export interface FirewallSettings {
    enabled?: boolean;
    /**
     * Networks (IPv4 CIDR) besides the members that may reach ZooKeeper's client port and the
     * monitoring's published ports.
     */
    clientNetworks?: string[];
    /** Seconds a rules change waits for a new SSH connection before it is undone. Default: 30. */
    confirmSeconds?: number;
}

/** `swarm-ha:zkTls` as written in a stack file. */
export interface ZooKeeperTlsSettings {
    enabled?: boolean;
    secureClientPort?: number;
    rotation?: number;
}

/** The ZooKeeper ensemble; absent when `swarm-ha:zkServers` is not set. */
export interface ZooKeeperSettings {
    servers: ZooKeeperServerArgs[];
    install: "distro" | "tarball";
    version?: string;
    url?: string;
    sha512?: string;
    tickTime: number;
    heapMb: number;
    auth: boolean;
    /** The super password with auth; unset: generated. */
    superPassword?: pulumi.Output<string>;
    dynamicReconfig: boolean;
    /** `swarm-ha:zkTls` when enabled. */
    tls?: ZooKeeperTlsSettings;
}

/** What the settings are read from: the stack's configuration, or plain values in tests. */
export interface ConfigSource {
    /** Every `swarm-ha:*` key that is set (without the namespace). */
    keys(): string[];
    /**
     * A setting's value as given: text as Pulumi keeps it (maps and lists as JSON), or, in tests,
     * the value itself; undefined when unset.
     */
    raw(key: string): unknown;
    /** A secret setting; undefined when unset or empty (a declared default of ""). */
    getSecret(key: string): pulumi.Output<string> | undefined;
    /** The text of a file on this machine; undefined when it cannot be read. */
    readFile(file: string): string | undefined;
    /**
     * Whether a setting holds a secret: one set with --secret, or a map or list with a part set
     * with --secret --path (Pulumi tells the program the key, not the part). Default: none does.
     */
    isSecret?(key: string): boolean;
}

/** The stack's configuration as a ConfigSource. */
/**
 * Whether Pulumi marked a key secret (the SDK's own check, which its typings do not declare; its
 * presence is tested).
 */
export function isConfigSecret(fullKey: string): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtime = require("@pulumi/pulumi/runtime/config") as {
        isConfigSecret: (k: string) => boolean;
    };
    return runtime.isConfigSecret(fullKey);
}

export function stackConfig(): ConfigSource {
    const config = new pulumi.Config(NAMESPACE);
    const prefix = `${NAMESPACE}:`;
    return {
        keys: () =>
            Object.keys(pulumi.runtime.allConfig())
                .filter((k) => k.startsWith(prefix))
                .map((k) => k.slice(prefix.length)),
        // Raw, so that a map holding a value set with --secret reads without a warning; the
        // parts that are secret become Pulumi secrets where they are used.
        raw: (k) => pulumi.runtime.getConfig(prefix + k),
        // Read raw first: config.get on a secret warns, and an empty value means unset.
        getSecret: (k) => (pulumi.runtime.getConfig(prefix + k) ? config.getSecret(k) : undefined),
        isSecret: (k) => isConfigSecret(prefix + k),
        readFile: (file) => {
            try {
                return fs.readFileSync(file, "utf8");
            } catch {
                return undefined;
            }
        },
    };
}

/** A path as written in a stack file: a leading `~/` is the home directory of whoever runs Pulumi. */
export function expandHome(file: string): string {
    return file === "~" || file.startsWith("~/") ? os.homedir() + file.slice(1) : file;
}

/**
 * The host key an OpenSSH known_hosts text holds for a host and port ("ssh-ed25519 AAAA..."): plain
 * and hashed entries, `[host]:port` for ports other than 22; revoked and CA lines are skipped.
 */
export function knownHostKey(text: string, host: string, port: number): string | undefined {
    const name = port === 22 ? host : `[${host}]:${port}`;
    const matches = (pattern: string): boolean => {
        const hashed = /^\|1\|([^|]+)\|(.+)$/.exec(pattern);
        if (hashed) {
            const mac = createHmac("sha1", Buffer.from(hashed[1], "base64")).update(name);
            return mac.digest("base64") === hashed[2];
        }
        return pattern === name;
    };
    for (const line of text.split("\n")) {
        const fields = line.trim().split(/\s+/);
        if (fields.length < 3 || fields[0].startsWith("#") || fields[0].startsWith("@")) {
            continue;
        }
        if (fields[0].split(",").some(matches)) {
            return `${fields[1]} ${fields[2]}`;
        }
    }
    return undefined;
}

/**
 * Thrown for invalid stack configuration; the message names the config key. A RunError, so that
 * Pulumi prints the message alone, without a stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

const key = (k: string): string => `${NAMESPACE}:${k}`;

function fail(problems: string[]): void {
    if (problems.length > 0) {
        throw new ConfigError(problems.join("\n"));
    }
}

/**
 * A value as Pulumi keeps it, turned into what its schema holds: text of a number or boolean, or
 * the JSON of a map or list (text that is not is left as text, for the check to name). An empty
 * text is unset, as the declared defaults of "" are.
 */
function typed(schema: Schema, value: unknown): unknown {
    if (typeof value !== "string") return value;
    if (value === "") return undefined;
    switch (schema.kind) {
        case "number":
            return /^-?[0-9]+(\.[0-9]+)?$/.test(value.trim()) ? Number(value) : value;
        case "boolean":
            return value === "true" ? true : value === "false" ? false : value;
        case "list":
        case "map":
        case "object":
            try {
                return JSON.parse(value) as unknown;
            } catch {
                return value;
            }
        default:
            return value;
    }
}

/**
 * Reads every `swarm-ha:*` setting and checks the whole stack against its schema: every problem at
 * once, each naming the key path as written; a key that is not a setting is refused with the
 * nearest valid name.
 */
export function checkStack(config: ConfigSource): {
    values: Record<string, unknown>;
    problems: string[];
} {
    const names = Object.keys(STACK.fields);
    const problems = config
        .keys()
        .filter((k) => !Object.prototype.hasOwnProperty.call(STACK.fields, k))
        .sort()
        .map((k) => unknownKey(key(k), k, names));
    const values: Record<string, unknown> = {};
    for (const [k, schema] of Object.entries(STACK.fields)) {
        const value = typed(schema, config.raw(k));
        values[k] = value;
        if (value === undefined && schema.required) {
            problems.push(`${key(k)} is not set; ${schema.missing ?? "give it"}.`);
        } else {
            problems.push(...check(schema, value, key(k)));
        }
    }
    return { values, problems };
}

/** A host's key from `swarm-ha:knownHostsFile`, by host and port (the stack's port when unset). */
export type KnownHost = (host: string, port?: number) => string | undefined;

/** `swarm-ha:nodes`, checked with the stack ({@link checkStack}), as the cluster's nodes. */
export function parseNodes(
    raw: NodeConfig[],
    hostKeys: Record<string, string>,
    knownHost: KnownHost = () => undefined,
): SwarmNodeArgs[] {
    return raw.map((n) => {
        // Own entries only: a node named "constructor" must not find Object's.
        const recorded = Object.prototype.hasOwnProperty.call(hostKeys, n.name)
            ? hostKeys[n.name]
            : undefined;
        const hostKey = n.hostKey ?? recorded ?? knownHost(n.host, n.sshPort);
        return {
            name: n.name,
            host: n.host,
            advertiseAddress: n.advertiseAddress,
            role: n.role,
            labels: n.labels
                ? Object.fromEntries(Object.entries(n.labels).map(([k, v]) => [k, String(v)]))
                : undefined,
            availability: n.availability,
            ssh:
                n.sshUser !== undefined || n.sshPort !== undefined || hostKey !== undefined
                    ? { user: n.sshUser, port: n.sshPort, hostKey }
                    : undefined,
        };
    });
}

/** One entry of `swarm-ha:zkServers` as written in a stack file. */
interface ZooKeeperServerConfig {
    id: number;
    node?: string;
    host?: string;
    address?: string;
    hostKey?: string;
}

/**
 * Reads `swarm-ha:zkServers`: each entry `{ id, node }` (a node of the cluster, by name: its SSH
 * settings and host key too) or `{ id, host, address?, hostKey? }` (a host of its own).
 */
export function parseZooKeeperServers(
    raw: ZooKeeperServerConfig[],
    nodes: SwarmNodeArgs[],
    knownHost: KnownHost = () => undefined,
): ZooKeeperServerArgs[] {
    const problems: string[] = [];
    const servers = raw.map((e, i): ZooKeeperServerArgs => {
        const at = `${key("zkServers")}[${i}]`;
        if (e.node !== undefined) {
            const node = nodes.find((n) => n.name === e.node);
            for (const field of ["host", "address", "hostKey"] as const) {
                if (e[field] !== undefined) {
                    problems.push(
                        `${at}.${field} is set with node; a server on a node is reached as the node is, so drop ${field} or node.`,
                    );
                }
            }
            if (!node) {
                problems.push(`${at}.node is "${e.node}", which is not a node in ${key("nodes")}.`);
                return { id: e.id, host: "" };
            }
            return { id: e.id, host: node.host, address: node.advertiseAddress, ssh: node.ssh };
        }
        if (e.host === undefined) {
            problems.push(`${at} has neither node nor host; name a cluster node or give a host.`);
            return { id: e.id, host: "" };
        }
        const hostKey = e.hostKey ?? knownHost(e.host);
        return {
            id: e.id,
            host: e.host,
            address: e.address,
            ssh: hostKey !== undefined ? { hostKey } : undefined,
        };
    });
    fail(problems);
    return servers;
}

/**
 * The SSH private key: `swarm-ha:sshPrivateKey` (secret config), or the file `swarm-ha:sshPrivateKeyFile`
 * names on the machine that runs Pulumi (read as a secret; the Docker provider's ssh uses the file).
 */
function readPrivateKey(
    config: ConfigSource,
): Pick<StackSettings, "sshPrivateKey" | "sshPrivateKeyFile"> {
    const file = (config.raw("sshPrivateKeyFile") as string | undefined) || undefined;
    const secret = config.getSecret("sshPrivateKey");
    if (file !== undefined && secret !== undefined) {
        throw new ConfigError(
            `${key("sshPrivateKey")} and ${key("sshPrivateKeyFile")} are both set; keep one.`,
        );
    }
    if (file === undefined) {
        if (secret === undefined) {
            throw new ConfigError(
                `${key("sshPrivateKey")} is not set; run 'pulumi config set --secret sshPrivateKey < KEYFILE', or name the key's file in ${key("sshPrivateKeyFile")}.`,
            );
        }
        return { sshPrivateKey: secret };
    }
    const path = expandHome(file);
    const text = config.readFile(path);
    if (text === undefined) {
        throw new ConfigError(
            `${key("sshPrivateKeyFile")} is "${file}", which cannot be read; give the path of an SSH private key (the lab's is made by 'npm run lab -- up').`,
        );
    }
    return { sshPrivateKey: pulumi.secret(text), sshPrivateKeyFile: path };
}

/** The settings that only mean something with another one, set without it. */
function idleSettings(v: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const zk = Array.isArray(v.zkServers) && v.zkServers.length > 0;
    const needsEnsemble = [
        "zkInstall",
        "zkVersion",
        "zkUrl",
        "zkSha512",
        "zkTickTime",
        "zkHeapMb",
        "zkAuth",
        "zkSuperPassword",
        "zkDynamicReconfig",
        "zkTls",
    ];
    // Set: given, and not the value Pulumi.yaml declares (which every stack is given).
    const set = (k: string): boolean =>
        v[k] !== undefined &&
        JSON.stringify(v[k]) !== JSON.stringify(STACK.fields[k].default) &&
        !(typeof v[k] === "object" && Object.keys(v[k] as object).length === 0);
    for (const k of zk ? [] : needsEnsemble.filter(set)) {
        problems.push(
            `${key(k)} is set but ${key("zkServers")} is empty, so there is no ensemble for it; declare the servers or drop ${k}.`,
        );
    }
    if (zk && v.zkSuperPassword !== undefined && v.zkAuth === false) {
        problems.push(
            `${key("zkSuperPassword")} is set but ${key("zkAuth")} is false, so nothing would use it; drop zkAuth: false (auth is on by default) or the password.`,
        );
    }
    if (zk && v.zkInstall !== "tarball") {
        for (const k of ["zkUrl", "zkSha512", "zkVersion"].filter((k) => v[k] !== undefined)) {
            problems.push(
                `${key(k)} is set but ${key("zkInstall")} is not "tarball"; the distro's package has its own version and source, so set zkInstall: tarball or drop ${k}.`,
            );
        }
    }
    if (v.dockerVersion !== undefined && v.dockerInstall !== "docker-ce") {
        problems.push(
            `${key("dockerVersion")} is ${shown(v.dockerVersion)} but ${key("dockerInstall")} is not "docker-ce"; a version pin needs docker-ce, so set dockerInstall: docker-ce or drop the pin.`,
        );
    }
    if (v.dockerRepository !== undefined && v.dockerInstall !== "docker-ce") {
        problems.push(
            `${key("dockerRepository")} is ${shown(v.dockerRepository)} but ${key("dockerInstall")} is not "docker-ce"; only docker-ce is installed from an apt repository of Docker's, so set dockerInstall: docker-ce or drop the repository.`,
        );
    }
    // A map that is switched on by `enabled`, given settings but no `enabled`: off, silently. (The
    // firewall is on unless a stack turns it off.)
    const grafana = (v.monitoring as { grafana?: unknown } | undefined)?.grafana;
    for (const [k, m] of [
        ["monitoring", v.monitoring],
        ["zkTls", v.zkTls],
        ["monitoring.grafana", grafana],
    ] as const) {
        if (m !== null && typeof m === "object" && !Array.isArray(m)) {
            const others = Object.keys(m).filter((f) => f !== "enabled");
            if (others.length > 0 && !("enabled" in m)) {
                problems.push(
                    `${key(k)} sets ${others.join(", ")} but not enabled, so it stays off; add enabled: true (or enabled: false to keep the settings while it is off).`,
                );
            }
        }
    }
    const firewall = v.firewall as { enabled?: boolean; clientNetworks?: unknown[] } | undefined;
    for (const [name, svc] of Object.entries(
        (v.services ?? {}) as Record<string, { ports?: unknown }>,
    )) {
        const ports = Array.isArray(svc?.ports) ? (svc.ports as Record<string, unknown>[]) : [];
        for (const [i, port] of ports.entries()) {
            if (port?.from === undefined) continue;
            const at = `${key("services")}.${name}.ports[${i}].from`;
            if (firewall?.enabled === false) {
                problems.push(
                    `${at} is set but ${key("firewall")} is off; only the firewall can keep other sources out, so turn it on or drop from.`,
                );
            } else if (port.published === undefined) {
                problems.push(
                    `${at} is set but the port has no published port; give published, so that the firewall knows which port to close.`,
                );
            } else if (port.protocol === "sctp") {
                problems.push(
                    `${at} is set on an sctp port; the firewall restricts tcp and udp ports only, so drop from or use tcp or udp.`,
                );
            }
        }
    }
    const names = new Set(
        (Array.isArray(v.nodes) ? v.nodes : []).map((n) => (n as { name?: unknown })?.name),
    );
    for (const name of Object.keys((v.hostKeys ?? {}) as object)) {
        if (!names.has(name)) {
            problems.push(
                `${key("hostKeys")}.${name} names no node of ${key("nodes")}, so no host would be checked with it; fix the name or drop the entry.`,
            );
        }
    }
    const services = (v.services ?? {}) as Record<string, { zookeeper?: boolean }>;
    for (const [name, svc] of Object.entries(services)) {
        if (svc.zookeeper === true && !zk) {
            problems.push(
                `${key("services")}.${name}.zookeeper is true but ${key("zkServers")} is empty, so there is no ensemble to connect it to; declare the servers or drop zookeeper.`,
            );
        }
    }
    return problems;
}

/** A port the stack's hosts give to one use: who asks for it (a key, or what uses it), and how. */
interface PortClaim {
    port: number;
    protocols: string[];
    /** The key that sets it (`swarm-ha:monitoring.prometheusPort`), or the use it is fixed for. */
    by: string;
    /** Claims of one group (SSH on every node) share their port with each other. */
    group: string;
}

/**
 * The ports every host of the stack gives out: SSH's, the swarm's, the ensemble's, the
 * monitoring's, and each service's published ports (ingress publishes them on every node), and a
 * problem for each port two uses ask for, naming both.
 */
export function portProblems(settings: Omit<StackSettings, "sshPrivateKey">): string[] {
    const claims: PortClaim[] = [];
    const claim = (port: number, protocols: string[], by: string, group = by) =>
        claims.push({ port, protocols, by, group });
    claim(settings.sshPort, ["tcp"], key("sshPort"), "ssh");
    settings.nodes.forEach((n, i) => {
        if (n.ssh?.port !== undefined)
            claim(n.ssh.port, ["tcp"], `${key("nodes")}[${i}].sshPort`, "ssh");
    });
    claim(SWARM_PORTS.management, ["tcp"], "the swarm's management port");
    claim(SWARM_PORTS.gossip, ["tcp", "udp"], "the swarm's gossip port");
    claim(SWARM_PORTS.dataPath, ["udp"], "the swarm's overlay traffic");
    const zk = settings.zookeeper;
    const hosts = new Set(settings.nodes.map((n) => n.host));
    // ZooKeeper's ports are the nodes' only when a server runs on one of them.
    if (zk && zk.servers.some((s) => hosts.has(s.host))) {
        if (zk.tls) {
            claim(zk.tls.secureClientPort ?? 2281, ["tcp"], `${key("zkTls")}.secureClientPort`);
        } else {
            claim(2181, ["tcp"], "ZooKeeper's client port");
        }
        claim(2888, ["tcp"], "ZooKeeper's peer port");
        claim(3888, ["tcp"], "ZooKeeper's election port");
    }
    const m = settings.monitoring;
    if (m) {
        const at = `${key("monitoring")}.`;
        claim(m.prometheusPort ?? 9090, ["tcp"], `${at}prometheusPort`);
        claim(m.alertmanagerPort ?? 9093, ["tcp"], `${at}alertmanagerPort`);
        claim(m.nodeExporterPort ?? 9100, ["tcp"], `${at}nodeExporterPort`);
        claim(m.engineMetricsPort ?? 9323, ["tcp"], `${at}engineMetricsPort`);
        if (m.grafana?.enabled) claim(m.grafana.port ?? 3000, ["tcp"], `${at}grafana.port`);
    }
    for (const name of Object.keys(settings.services).sort()) {
        (settings.services[name].args.ports ?? []).forEach((p, i) => {
            if (p.published !== undefined) {
                const by = `${key("services")}.${name}.ports[${i}].published`;
                claim(p.published, [p.protocol ?? "tcp"], by, `service ${name}`);
            }
        });
    }
    const problems: string[] = [];
    claims.forEach((c, i) => {
        const first = claims
            .slice(0, i)
            .find(
                (o) =>
                    o.port === c.port &&
                    o.group !== c.group &&
                    o.protocols.some((p) => c.protocols.includes(p)),
            );
        if (first) {
            problems.push(
                `${c.by} is ${c.port}, which ${first.by} (${first.port}) uses too; give each its own port.`,
            );
        }
    });
    return problems;
}

/**
 * Runs one part of reading the settings; a ConfigError it throws becomes problems of the whole
 * stack's list (`problems`), so that one refusal shows every problem; undefined then.
 */
function collect<T>(problems: string[], part: () => T): T | undefined {
    try {
        return part();
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems.push(...e.message.split("\n"));
        return undefined;
    }
}

/** Reads and validates the stack's settings: every problem at once, before anything else. */
export function readSettings(config: ConfigSource): StackSettings {
    const { values: v, problems } = checkStack(config);
    problems.push(...idleSettings(v));
    fail(problems);
    const sshPort = (v.sshPort as number | undefined) ?? 22;
    const knownHostsFile = v.knownHostsFile as string | undefined;
    let knownHost: KnownHost = () => undefined;
    if (knownHostsFile !== undefined) {
        const text = config.readFile(expandHome(knownHostsFile));
        if (text === undefined) {
            problems.push(
                `${key("knownHostsFile")} is "${knownHostsFile}", which cannot be read; give an OpenSSH known_hosts file (the lab writes one with 'npm run lab -- up').`,
            );
        }
        knownHost = (host, port) => {
            const found =
                text === undefined ? undefined : knownHostKey(text, host, port ?? sshPort);
            if (found !== undefined && !rules.hostKey.test(found)) {
                problems.push(
                    `${key("knownHostsFile")} "${knownHostsFile}" holds ${shown(found)} for ${host}; ${rules.hostKey.says}.`,
                );
                return undefined;
            }
            return found;
        };
    }
    const nodes = parseNodes(
        v.nodes as NodeConfig[],
        (v.hostKeys as Record<string, string> | undefined) ?? {},
        knownHost,
    );
    const dockerInstall = (v.dockerInstall as DockerInstallMethod | undefined) ?? "distro";
    const services = parseServices(
        v.services,
        (file) => config.readFile(expandHome(file)),
        config.isSecret?.("services") ?? false,
    );
    problems.push(...services.problems);
    const zkRaw = v.zkServers as ZooKeeperServerConfig[] | undefined;
    const tls = v.zkTls as ZooKeeperTlsSettings | undefined;
    // Unset or empty: no ensemble.
    const zookeeper: ZooKeeperSettings | undefined =
        zkRaw === undefined || zkRaw.length === 0
            ? undefined
            : {
                  servers:
                      collect(problems, () => parseZooKeeperServers(zkRaw, nodes, knownHost)) ?? [],
                  install: (v.zkInstall as ZooKeeperSettings["install"] | undefined) ?? "distro",
                  version: v.zkVersion as string | undefined,
                  url: v.zkUrl as string | undefined,
                  sha512: v.zkSha512 as string | undefined,
                  tickTime: (v.zkTickTime as number | undefined) ?? ZOOKEEPER_DEFAULTS.tickTime,
                  heapMb: (v.zkHeapMb as number | undefined) ?? ZOOKEEPER_DEFAULTS.heapMb,
                  auth: (v.zkAuth as boolean | undefined) ?? true,
                  superPassword: config.getSecret("zkSuperPassword"),
                  dynamicReconfig: (v.zkDynamicReconfig as boolean | undefined) ?? false,
                  tls: tls?.enabled ? tls : undefined,
              };
    const registered = Object.keys(services.services).filter(
        (name) => services.services[name].args.register,
    );
    if (zookeeper === undefined) {
        problems.push(
            ...registered.map(
                (name) =>
                    `${key("services")}.${name}.register is true but ${key("zkServers")} is empty; the registry lives in ZooKeeper, so declare the ensemble or drop register.`,
            ),
        );
    }
    const monitoring = parseMonitoring(v.monitoring);
    const pin = monitoring?.prometheusLabel;
    if (pin !== undefined) {
        const [labelKey, value] = [pin.slice(0, pin.indexOf("=")), pin.slice(pin.indexOf("=") + 1)];
        const carriers = nodes.filter(
            (n) => n.role === "manager" && String(n.labels?.[labelKey]) === value,
        );
        if (carriers.length !== 1) {
            problems.push(
                `${key("monitoring")}.prometheusLabel is "${pin}" but ${carriers.length === 0 ? "no manager" : `${carriers.length} managers (${carriers.map((n) => n.name).join(", ")})`} in ${key("nodes")} carry it; give that label to exactly one manager, where Prometheus keeps its history.`,
            );
        }
    }
    const firewall = v.firewall as FirewallSettings | undefined;
    const backup = v.backup as BackupArgs | undefined;
    const managerCount = nodes.filter((n) => n.role === "manager").length;
    if (backup && Object.keys(backup).length > 0 && managerCount < 3) {
        problems.push(
            `${key("backup")} is set but ${key("nodes")} has ${managerCount} manager${managerCount === 1 ? "" : "s"}; a backup stops one manager's engine for the copy, which only a swarm of 3 or more managers keeps its quorum through, so add managers or drop backup.`,
        );
    }
    // Unset, or {} (the stack's default): no recovery.
    const asked = v.recovery as Partial<SwarmRecoveryArgs> | undefined;
    const recovery =
        asked && Object.keys(asked).length > 0 ? (asked as SwarmRecoveryArgs) : undefined;
    if (recovery && recovery.node === undefined) {
        problems.push(
            `${key("recovery")}.node is missing; name the manager the swarm is rebuilt from, such as { node: "m1" }.`,
        );
    } else if (recovery && !nodes.some((n) => n.name === recovery.node && n.role === "manager")) {
        problems.push(
            `${key("recovery")}.node is ${shown(recovery.node)} but no manager in ${key("nodes")} has that name; name the manager the swarm is rebuilt from.`,
        );
    }
    const settings = {
        firewall: firewall?.enabled === false ? undefined : { ...firewall, enabled: true },
        recovery,
        backup:
            backup && Object.keys(backup).length > 0
                ? { ...BACKUP_DEFAULTS, ...backup }
                : undefined,
        zookeeper,
        monitoring,
        registrarImage: (v.registrarImage as string | undefined) ?? REGISTRAR_IMAGE,
        dockerReadImage: (v.dockerReadImage as string | undefined) ?? DOCKER_READ_IMAGE,
        clusterName: (v.clusterName as string | undefined) ?? "swarm",
        nodes,
        sshUser: (v.sshUser as string | undefined) ?? "root",
        sshPort,
        ...(collect(problems, () => readPrivateKey(config)) ?? {
            sshPrivateKey: pulumi.secret(""),
        }),
        sshDialAttempts: (v.sshDialAttempts as number | undefined) ?? 30,
        trustOnFirstUse: (v.trustOnFirstUse as boolean | undefined) ?? false,
        dockerInstall,
        dockerVersion: v.dockerVersion as string | undefined,
        dockerRepository: v.dockerRepository as string | undefined,
        autolock: (v.autolock as boolean | undefined) ?? false,
        joinTokenRotation: (v.joinTokenRotation as number | undefined) ?? 0,
        services: services.services,
    };
    problems.push(...portProblems(settings));
    fail(problems);
    return settings;
}

// The stack's configuration: read in one place, validated with errors that name the config key,
// and turned into the components' arguments. Components never read config themselves.
import { createHmac } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as pulumi from "@pulumi/pulumi";
import {
    REGISTRAR_IMAGE,
    DockerInstallMethod,
    NodeAvailability,
    SwarmNodeArgs,
    SwarmRole,
    ZooKeeperServerArgs,
} from "./components";
import { ServiceSettings, parseServices, shapeProblems } from "./serviceConfig";

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
    dockerInstall: DockerInstallMethod;
    dockerVersion?: string;
    autolock: boolean;
    /** `swarm-ha:joinTokenRotation`: change it to rotate the join tokens. */
    joinTokenRotation: number;
    /** The services by name (`swarm-ha:services`); none when unset. */
    services: Record<string, ServiceSettings>;
    zookeeper?: ZooKeeperSettings;
    /** The registrar's image (`swarm-ha:registrarImage`), for services that ask to be registered. */
    registrarImage: string;
    /** Monitoring and alerting (`swarm-ha:monitoring`); absent when not enabled. */
    monitoring?: MonitoringSettings;
    /** The hosts' firewall (`swarm-ha:firewall`); absent when not enabled. */
    firewall?: FirewallSettings;
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
}

const MONITORING_FIELDS: Record<keyof MonitoringSettings, "boolean" | "number" | "string"> = {
    enabled: "boolean",
    engineMetricsPort: "number",
    scrapeInterval: "string",
    alertAfter: "string",
    retention: "string",
    publishMode: "string",
    endpointMode: "string",
    prometheusPort: "number",
    alertmanagerPort: "number",
    nodeExporterPort: "number",
};

/**
 * A setting that is a map of `fields` (`swarm-ha:NAME`): it, and the problems of its shape; thrown
 * at once when it is not a map at all (`example` shows one).
 */
function settingsMap<T>(
    name: string,
    raw: unknown,
    fields: Record<string, "string" | "number" | "boolean" | "list" | "map">,
    example: string,
): [T, string[]] {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new ConfigError(
            `${key(name)} is ${JSON.stringify(raw)}; give a map such as ${example}.`,
        );
    }
    return [raw as T, shapeProblems(key(name), raw, fields)];
}

/**
 * Checks the shape of `swarm-ha:monitoring` and returns it when enabled (SwarmMonitoring checks the
 * values' rules); unset or `enabled: false` is no monitoring.
 */
export function parseMonitoring(raw: unknown): MonitoringSettings | undefined {
    if (raw === undefined || raw === null) return undefined;
    const [m, problems] = settingsMap<MonitoringSettings>(
        "monitoring",
        raw,
        MONITORING_FIELDS,
        "{ enabled: true }",
    );
    if (m.publishMode !== undefined && !["ingress", "host"].includes(m.publishMode)) {
        problems.push(
            `${key("monitoring")}.publishMode is "${m.publishMode}"; use "ingress" or "host".`,
        );
    }
    if (m.endpointMode !== undefined && !["vip", "dnsrr"].includes(m.endpointMode)) {
        problems.push(
            `${key("monitoring")}.endpointMode is "${m.endpointMode}"; use "vip" or "dnsrr".`,
        );
    }
    fail(problems);
    return m.enabled ? { ...m, engineMetricsPort: m.engineMetricsPort ?? 9323 } : undefined;
}

/** `swarm-ha:firewall` as written in a stack file. */
export interface FirewallSettings {
    enabled?: boolean;
    /** Networks (IPv4 CIDR) besides the members that may reach ZooKeeper's client port. */
    clientNetworks?: string[];
    /** Seconds a rules change waits for a new SSH connection before it is undone. Default: 30. */
    confirmSeconds?: number;
}

const FIREWALL_FIELDS: Record<keyof FirewallSettings, "boolean" | "number" | "list"> = {
    enabled: "boolean",
    clientNetworks: "list",
    confirmSeconds: "number",
};

/** `swarm-ha:firewall`, checked for shape; absent when not enabled. */
export function parseFirewall(raw: unknown): FirewallSettings | undefined {
    if (raw === undefined || raw === null) return undefined;
    const [f, problems] = settingsMap<FirewallSettings>(
        "firewall",
        raw,
        FIREWALL_FIELDS,
        '{ enabled: true, clientNetworks: ["10.1.0.0/16"] }',
    );
    for (const network of Array.isArray(f.clientNetworks) ? f.clientNetworks : []) {
        if (typeof network !== "string") {
            problems.push(
                `${key("firewall")}.clientNetworks holds ${JSON.stringify(network)}; give IPv4 networks as text ("10.1.0.0/16").`,
            );
        }
    }
    fail(problems);
    return f.enabled ? f : undefined;
}

/** `swarm-ha:zkTls` as written in a stack file. */
export interface ZooKeeperTlsSettings {
    enabled?: boolean;
    secureClientPort?: number;
    rotation?: number;
}

const ZK_TLS_FIELDS: Record<keyof ZooKeeperTlsSettings, "boolean" | "number" | "list"> = {
    enabled: "boolean",
    secureClientPort: "number",
    rotation: "number",
};

/** `swarm-ha:zkTls`, checked for shape (ZooKeeperEnsemble checks its values); absent when off. */
export function parseZooKeeperTls(raw: unknown): ZooKeeperTlsSettings | undefined {
    if (raw === undefined || raw === null) return undefined;
    const [t, problems] = settingsMap<ZooKeeperTlsSettings>(
        "zkTls",
        raw,
        ZK_TLS_FIELDS,
        "{ enabled: true }",
    );
    fail(problems);
    return t.enabled ? t : undefined;
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

/** What the settings are read from: pulumi.Config, or a plain object in tests. */
export interface ConfigSource {
    get(key: string): string | undefined;
    getObject<T>(key: string): T | undefined;
    getBoolean(key: string): boolean | undefined;
    getNumber(key: string): number | undefined;
    /** A secret setting; undefined when unset or empty (a declared default of ""). */
    getSecret(key: string): pulumi.Output<string> | undefined;
    /** The text of a file on this machine; undefined when it cannot be read. */
    readFile(file: string): string | undefined;
}

/** The stack's configuration as a ConfigSource. */
export function stackConfig(): ConfigSource {
    const config = new pulumi.Config(NAMESPACE);
    return {
        get: (key) => config.get(key),
        // Raw, so that a map holding a value set with --secret reads without a warning; the
        // parts that are secret become Pulumi secrets where they are used.
        getObject: <T>(key: string) => {
            const raw = pulumi.runtime.getConfig(`${NAMESPACE}:${key}`);
            return raw === undefined ? undefined : (JSON.parse(raw) as T);
        },
        getBoolean: (key) => config.getBoolean(key),
        getNumber: (key) => config.getNumber(key),
        // Read raw first: config.get on a secret warns, and an empty value means unset.
        getSecret: (key) =>
            pulumi.runtime.getConfig(`${NAMESPACE}:${key}`) ? config.getSecret(key) : undefined,
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

/** Thrown for invalid stack configuration; the message names the config key. */
export class ConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

const key = (k: string): string => `${NAMESPACE}:${k}`;
const ROLES = ["manager", "worker"];
const INSTALLS = ["distro", "docker-ce", "none"];

function fail(problems: string[]): void {
    if (problems.length > 0) {
        throw new ConfigError(problems.join("\n"));
    }
}

/** A host's key from `swarm-ha:knownHostsFile`, by host and port (the stack's port when unset). */
export type KnownHost = (host: string, port?: number) => string | undefined;

/** Checks the shape of `swarm-ha:nodes`; the components check the rules between nodes. */
export function parseNodes(
    raw: unknown,
    hostKeys: Record<string, string>,
    knownHost: KnownHost = () => undefined,
): SwarmNodeArgs[] {
    const problems: string[] = [];
    if (!Array.isArray(raw) || raw.length === 0) {
        throw new ConfigError(
            `${key("nodes")} is missing or empty; list the hosts as objects with name, host and role.`,
        );
    }
    const nodes: SwarmNodeArgs[] = [];
    raw.forEach((entry: unknown, i: number) => {
        const at = `${key("nodes")}[${i}]`;
        if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
            problems.push(
                `${at} is ${JSON.stringify(entry)}; each node is an object with name, host and role.`,
            );
            return;
        }
        const n = entry as Partial<NodeConfig>;
        for (const field of ["name", "host"] as const) {
            if (typeof n[field] !== "string" || n[field] === "") {
                problems.push(
                    `${at}.${field} is ${JSON.stringify(n[field])}; give a non-empty string.`,
                );
            }
        }
        if (!ROLES.includes(String(n.role))) {
            problems.push(`${at}.role is ${JSON.stringify(n.role)}; use "manager" or "worker".`);
        }
        if (n.sshPort !== undefined && typeof n.sshPort !== "number") {
            problems.push(`${at}.sshPort is ${JSON.stringify(n.sshPort)}; give a number.`);
        }
        if (n.labels !== undefined && (typeof n.labels !== "object" || Array.isArray(n.labels))) {
            problems.push(`${at}.labels is ${JSON.stringify(n.labels)}; give a map of strings.`);
        }
        const hostKey =
            n.hostKey ?? hostKeys[String(n.name)] ?? knownHost(String(n.host), n.sshPort);
        nodes.push({
            name: String(n.name),
            host: String(n.host),
            advertiseAddress: n.advertiseAddress,
            role: n.role as SwarmRole,
            labels: n.labels
                ? Object.fromEntries(Object.entries(n.labels).map(([k, v]) => [k, String(v)]))
                : undefined,
            availability: n.availability,
            ssh:
                n.sshUser !== undefined || n.sshPort !== undefined || hostKey !== undefined
                    ? { user: n.sshUser, port: n.sshPort, hostKey }
                    : undefined,
        });
    });
    fail(problems);
    return nodes;
}

/**
 * Reads `swarm-ha:zkServers`: each entry `{ id, node }` (a node of the cluster, by name: its SSH
 * settings and host key too) or `{ id, host, address?, hostKey? }` (a host of its own).
 */
export function parseZooKeeperServers(
    raw: unknown,
    nodes: SwarmNodeArgs[],
    knownHost: KnownHost = () => undefined,
): ZooKeeperServerArgs[] {
    if (!Array.isArray(raw)) {
        throw new ConfigError(
            `${key("zkServers")} is ${JSON.stringify(raw)}; give a list of { id, node } or { id, host }.`,
        );
    }
    const problems: string[] = [];
    const servers = raw.map((entry: unknown, i: number): ZooKeeperServerArgs => {
        const at = `${key("zkServers")}[${i}]`;
        const e = (entry ?? {}) as {
            id?: unknown;
            node?: unknown;
            host?: unknown;
            address?: unknown;
            hostKey?: unknown;
        };
        if (typeof e.id !== "number") {
            problems.push(
                `${at}.id is ${JSON.stringify(e.id)}; give the server's myid, a number from 1 to 255.`,
            );
        }
        if (typeof e.node === "string") {
            const node = nodes.find((n) => n.name === e.node);
            if (!node) {
                problems.push(`${at}.node is "${e.node}", which is not a node in ${key("nodes")}.`);
                return { id: Number(e.id), host: "" };
            }
            return {
                id: Number(e.id),
                host: node.host,
                address: node.advertiseAddress,
                ssh: node.ssh,
            };
        }
        if (typeof e.host !== "string" || e.host === "") {
            problems.push(`${at} has neither node nor host; name a cluster node or give a host.`);
        }
        const hostKey = typeof e.hostKey === "string" ? e.hostKey : knownHost(String(e.host));
        return {
            id: Number(e.id),
            host: String(e.host),
            address: e.address as string | undefined,
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
    const file = config.get("sshPrivateKeyFile") || undefined;
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

/** Reads and validates the stack's settings. */
export function readSettings(config: ConfigSource): StackSettings {
    const problems: string[] = [];
    const sshPort = config.getNumber("sshPort") ?? 22;
    const hostKeys = config.getObject<Record<string, string>>("hostKeys") ?? {};
    const knownHostsFile = config.get("knownHostsFile") || undefined;
    let knownHost: KnownHost = () => undefined;
    if (knownHostsFile !== undefined) {
        const text = config.readFile(expandHome(knownHostsFile));
        if (text === undefined) {
            throw new ConfigError(
                `${key("knownHostsFile")} is "${knownHostsFile}", which cannot be read; give an OpenSSH known_hosts file (the lab writes one with 'npm run lab -- up').`,
            );
        }
        knownHost = (host, port) => knownHostKey(text, host, port ?? sshPort);
    }
    const nodes = parseNodes(config.getObject<unknown>("nodes"), hostKeys, knownHost);
    const dockerInstall = (config.get("dockerInstall") ?? "distro") as DockerInstallMethod;
    if (!INSTALLS.includes(dockerInstall)) {
        problems.push(
            `${key("dockerInstall")} is "${dockerInstall}"; use "distro", "docker-ce" or "none".`,
        );
    }
    const services = parseServices(config.getObject<unknown>("services"), (file) =>
        config.readFile(expandHome(file)),
    );
    problems.push(...services.problems);
    fail(problems);
    const zkRaw = config.getObject<unknown>("zkServers");
    // Unset or empty: no ensemble.
    const zookeeper: ZooKeeperSettings | undefined =
        zkRaw === undefined || (Array.isArray(zkRaw) && zkRaw.length === 0)
            ? undefined
            : {
                  servers: parseZooKeeperServers(zkRaw, nodes, knownHost),
                  install: (config.get("zkInstall") ?? "distro") as ZooKeeperSettings["install"],
                  version: config.get("zkVersion") || undefined,
                  url: config.get("zkUrl") || undefined,
                  sha512: config.get("zkSha512") || undefined,
                  tickTime: config.getNumber("zkTickTime") ?? 2000,
                  heapMb: config.getNumber("zkHeapMb") ?? 512,
                  auth: config.getBoolean("zkAuth") ?? false,
                  superPassword: config.getSecret("zkSuperPassword"),
                  dynamicReconfig: config.getBoolean("zkDynamicReconfig") ?? false,
                  tls: parseZooKeeperTls(config.getObject<unknown>("zkTls")),
              };
    const registered = Object.keys(services.services).filter(
        (name) => services.services[name].args.register,
    );
    if (registered.length > 0 && zookeeper === undefined) {
        fail(
            registered.map(
                (name) =>
                    `${key("services")}.${name}.register is true but ${key("zkServers")} is empty; the registry lives in ZooKeeper, so declare the ensemble or drop register.`,
            ),
        );
    }
    const monitoring = parseMonitoring(config.getObject<unknown>("monitoring"));
    const firewall = parseFirewall(config.getObject<unknown>("firewall"));
    return {
        firewall,
        zookeeper,
        monitoring,
        registrarImage: config.get("registrarImage") || REGISTRAR_IMAGE,
        clusterName: config.get("clusterName") ?? "swarm",
        nodes,
        sshUser: config.get("sshUser") ?? "root",
        sshPort,
        ...readPrivateKey(config),
        sshDialAttempts: config.getNumber("sshDialAttempts") ?? 30,
        dockerInstall,
        dockerVersion: config.get("dockerVersion") || undefined,
        autolock: config.getBoolean("autolock") ?? false,
        joinTokenRotation: config.getNumber("joinTokenRotation") ?? 0,
        services: services.services,
    };
}

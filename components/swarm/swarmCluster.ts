// SwarmCluster: installs Docker on SSH-reachable hosts, forms a Docker Swarm with an odd number of
// managers, joins workers, applies labels and availability, removes nodes safely, and hands out a
// Docker provider bound to the cluster.
import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as types from "@pulumi/command/types/input";
import {
    ScriptParams,
    scriptsDir,
    shellQuote,
    stepCommand,
    stepCommandOutput,
} from "../host/remoteScript";
import {
    SWARM_PORTS,
    SwarmFirewallArgs,
    firewallParameters,
    firewallSteps,
    sharedFirewallProblems,
} from "../host/firewall";
import { placeScripts, remoteStep } from "../host/remoteStep";
import { NodeAvailability, SwarmNodeArgs, SwarmRole, sortByName } from "./swarmNode";
import { preflightCluster, preflightSkipped } from "./swarmPreflight";
import { Children } from "../host/hostChecks";
import {
    SshArgs,
    connectionFor,
    resolveSsh,
    ResolvedSsh,
    sshProblems,
    unverifiedHostProblems,
} from "../host/ssh";
import { SwarmObservation } from "./swarmDrift";
import { BACKUP_DEFAULTS, BackupArgs, backupProblems, backupUnits } from "../host/backup";
import { SwarmProbe } from "./swarmProbe";
import { probeHostOf } from "../host/probeHost";
import { ruleProblem, rules, shown } from "../host/grammar";
import {
    duplicates,
    isIPv4Network,
    isPort,
    prefix,
    throwIfAny,
    ValidationError,
    wholeNumberProblems,
} from "../host/validation";

/** How Docker gets onto the hosts. */
export const DockerInstallMethod = {
    /** The OS package docker.io. */
    Distro: "distro",
    /** Docker's apt repository (or a mirror of it). */
    DockerCe: "docker-ce",
    /** Already installed (verified). */
    None: "none",
} as const;
export type DockerInstallMethod = (typeof DockerInstallMethod)[keyof typeof DockerInstallMethod];

/** How Docker gets onto the hosts. */
export interface DockerInstallArgs {
    /**
     * "distro": the OS package docker.io; "docker-ce": Docker's apt repository; "none": Docker must
     * already be installed (verified). Default: "distro".
     */
    install?: DockerInstallMethod;
    /** With "docker-ce", the exact apt version to pin (e.g. "5:27.3.1-1~debian.12~bookworm"). Default: latest. */
    version?: string;
    /**
     * With "docker-ce", the base URL of Docker's apt repository or of a mirror that keeps its layout
     * (DISTRO/gpg, the signing key; DISTRO/dists/CODENAME/stable): a datacenter's own mirror, for
     * hosts that cannot reach Docker's. Default: DOCKER_CE_REPOSITORY.
     */
    repository?: string;
    /**
     * Port of each engine's Prometheus metrics (daemon.json's `metrics-addr`, on the node's advertise
     * address). An engine already running is restarted for it, one node at a time, each back in the
     * swarm before the next. Unset leaves the engines' setting as it is. Default: unset.
     */
    metricsPort?: number;
}

/**
 * SwarmCluster's defaults, in one place: the Args' doc comments name them, and validation and the
 * steps read them.
 */
export const SWARM_DEFAULTS = {
    advertisePort: SWARM_PORTS.management,
    dataPathPort: SWARM_PORTS.dataPath,
    /** Seconds for every node to be Ready and every manager Reachable. */
    readyTimeoutSeconds: 120,
    /** Seconds for a removed node's tasks to move before it leaves. */
    drainTimeoutSeconds: 60,
} as const;

export interface SwarmClusterArgs {
    /** The hosts, managers and workers. At least one manager; an odd number of them. */
    nodes: SwarmNodeArgs[];
    /** SSH settings for every node; a node's `ssh` overrides them. */
    ssh: SshArgs;
    /** How Docker is installed. Default: `{ install: "distro" }`. */
    docker?: DockerInstallArgs;
    /**
     * The manager that initialises the swarm, and that runs the manager-side steps while it manages
     * the swarm (see `observed`). Default: the first manager by name.
     */
    bootstrapManager?: string;
    /**
     * The swarm as found on the hosts when the program started (observeSwarm). With it, a
     * node found drifted (engine stopped, out of the swarm, role, availability or labels changed by
     * hand) has its steps run again, and the manager-side steps (tokens, node settings, drain and
     * removal, the ready check) run on a manager that manages the swarm: the one of the last run
     * while it does, else the bootstrap manager, else the first that answers. Default: nothing
     * found: no repair, and those steps stay on the manager of the last run.
     */
    observed?: SwarmObservation;
    /**
     * Ask the hosts before any resource, when `observed` is not given: each node's host key and a
     * login with `ssh.privateKey` (a host presenting another key, or refusing the key, is refused
     * by name), the swarm's members (a change of managers that would leave it without a majority
     * is refused) and each node's drift (warned of, and repaired, as with `observed`). Needs every
     * node's `ssh.hostKey`, one `ssh.privateKey` for all, and OpenSSH's `ssh` on the machine that
     * runs Pulumi; without a host key it is skipped. Default: true.
     */
    checkHosts?: boolean;
    /**
     * The overlay networks that the services on this cluster encrypt (made by the program, e.g.
     * docker.Network with `options: { encrypted: "" }`). With any, the hosts are also asked (with
     * `checkHosts`) whether their kernel can carry IPsec ESP with AES-GCM, and a node whose kernel
     * cannot is refused by name: such a network would drop all traffic between hosts. Default: none.
     */
    encryptedNetworks?: string[];
    /** Swarm management port (advertise and listen). Default: SWARM_DEFAULTS.advertisePort (2377). */
    advertisePort?: number;
    /** VXLAN data path port. Default: Docker's, SWARM_DEFAULTS.dataPathPort (4789). */
    dataPathPort?: number;
    /** Address pools for overlay networks, in CIDR form. Default: Docker's (10.0.0.0/8). */
    defaultAddressPool?: string[];
    /** Subnet size carved out of the pools. Default: Docker's (24). */
    defaultAddressPoolMaskLength?: number;
    /** Lock the swarm's keys at rest; managers need the unlock key after a restart. Default: false. */
    autolock?: boolean;
    /**
     * The join tokens' rotation: change it (up by one) and the next run rotates both join tokens
     * once, on a manager; nodes already in the swarm stay, and later joins use the new tokens. 0
     * leaves them as the swarm made them. Default: 0.
     */
    joinTokenRotation?: number;
    /** Validity of node certificates, as a Go duration ("2160h"). Default: Docker's (2160h). */
    certExpiry?: string;
    /** Task history kept per service. Default: Docker's (5). */
    taskHistoryLimit?: number;
    /** Accept an even number of managers (no gain in fault tolerance). Default: false. */
    allowEvenManagers?: boolean;
    /**
     * Seconds to wait for every node to be Ready and every manager Reachable. Default:
     * SWARM_DEFAULTS.readyTimeoutSeconds (120).
     */
    readyTimeoutSeconds?: number;
    /**
     * Seconds to wait for a removed node's tasks to move before it leaves. Default:
     * SWARM_DEFAULTS.drainTimeoutSeconds (60).
     */
    drainTimeoutSeconds?: number;
    /**
     * Extra `ssh` options for the Docker provider, which connects to a manager with the system's ssh
     * client and so cannot take `ssh.privateKey` as text: give it the key's file
     * (`["-i", "/path/key"]`), or leave it to the ssh agent or the default identities of the user
     * who runs Pulumi. The manager's host key is checked as for the other steps. Default: none.
     */
    dockerSshOpts?: string[];
    /** The hosts' firewall (SwarmFirewallArgs). Default: none (every port as it is). */
    firewall?: SwarmFirewallArgs;
    /**
     * Backups of the swarm's Raft state (BackupArgs): on a schedule, from a timer on every manager
     * (the first reachable manager that does not lead takes each), and in a run before the
     * managers change (a manager added, removed, promoted or demoted), with one manager's engine
     * stopped for the copy only while the others keep the quorum. Needs 3 or more managers.
     * Default: none.
     */
    backup?: BackupArgs;
    /**
     * Recovery of a swarm that lost the majority of its managers (SwarmRecoveryArgs): before the
     * rest of the run, `docker swarm init --force-new-cluster` on one manager, from its own state
     * or from a backup restored there; the other declared managers then join it again. A swarm
     * that has its quorum there is left alone. Remove it once the swarm is whole. Default: none.
     */
    recovery?: SwarmRecoveryArgs;
    /**
     * Create the Docker provider (`provider`). Turn it off where the Docker provider plugin is not
     * installed and no SwarmService uses the cluster. Default: true.
     */
    dockerProvider?: boolean;
}

/** How a swarm that lost the majority of its managers is made whole again. */
export interface SwarmRecoveryArgs {
    /**
     * The manager the swarm is rebuilt from: one that survived (its own state), or, with `backup`,
     * the host the backup is restored on. It runs the manager-side steps of that run.
     */
    node: string;
    /**
     * A backup to restore first (no manager survived): "latest" (the newest swarm backup in the
     * node's backup folder, `backup.target`), or one archive's file name there. Default: none
     * (the node's own state).
     */
    backup?: string;
}

/** A node as the cluster reports it. */
export interface SwarmNodeInfo {
    name: string;
    host: string;
    address: string;
    role: SwarmRole;
    nodeId: string;
}

/** A node's state as seen on a manager when the cluster became ready. */
export interface SwarmNodeStatus {
    name: string;
    nodeId: string;
    role: SwarmRole;
    state: string;
    reachability: string;
    leader: boolean;
    address: string;
}

const COMPONENT = "SwarmCluster";
const NAME_RULE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ROLES: string[] = Object.values(SwarmRole);
const AVAILABILITIES: string[] = Object.values(NodeAvailability);
const INSTALL_METHODS: string[] = Object.values(DockerInstallMethod);
/** Docker's own apt repository, the default source of docker-ce. */
export const DOCKER_CE_REPOSITORY = "https://download.docker.com/linux";
const READY_INTERVAL_SECONDS = 0.5;

/**
 * Checks a SwarmCluster's arguments; throws one error naming the component, each field, value and
 * rule broken. Called before any child is created.
 */
export function validateSwarmClusterArgs(name: string, args: SwarmClusterArgs): void {
    const p = prefix(COMPONENT, name);
    // The name is part of the folder the scripts are placed in on every host.
    const problems: string[] = ruleProblem(`${p}: the name`, rules.clusterName, name);
    (args.encryptedNetworks ?? []).forEach((n, i) =>
        problems.push(...ruleProblem(`${p}: encryptedNetworks[${i}]`, rules.dockerName, n)),
    );
    const nodes = args.nodes ?? [];
    if (nodes.length === 0) {
        throwIfAny([`${p}: nodes is empty; give at least one node with role "manager".`]);
    }
    for (const node of nodes) {
        if (!NAME_RULE.test(node.name ?? "")) {
            problems.push(
                `${p}: nodes name "${node.name}" is not valid; use lower-case letters, digits and '-' (it becomes part of resource names).`,
            );
        }
        const at = `${p}: node "${node.name}"`;
        problems.push(
            ...ruleProblem(`${at} host`, rules.host, node.host ?? ""),
            ...ruleProblem(`${at} advertiseAddress`, rules.host, node.advertiseAddress),
            ...sshProblems(`${at} ssh.`, node.ssh),
            ...unverifiedHostProblems(`${at} (${node.host})`, resolveSsh(args.ssh, node.ssh)),
        );
        if (!ROLES.includes(node.role)) {
            problems.push(
                `${p}: node "${node.name}" has role "${node.role}"; use "manager" or "worker".`,
            );
        }
        if (node.availability !== undefined && !AVAILABILITIES.includes(node.availability)) {
            problems.push(
                `${p}: node "${node.name}" has availability "${node.availability}"; use "active", "pause" or "drain".`,
            );
        }
        for (const [key, value] of Object.entries(node.labels ?? {})) {
            problems.push(
                ...ruleProblem(`${at} label key`, rules.labelKey, key),
                ...ruleProblem(`${at} label ${key}`, rules.labelValue, value),
            );
        }
    }
    const managers = nodes.filter((n) => n.role === "manager");
    if (managers.length === 0) {
        problems.push(`${p}: no node has role "manager"; a swarm needs at least one manager.`);
    } else if (managers.length % 2 === 0 && !args.allowEvenManagers) {
        problems.push(
            `${p}: ${managers.length} managers given; use an odd number (1, 3, 5, 7) so the swarm keeps a quorum, or set allowEvenManagers.`,
        );
    }
    for (const dup of duplicates(nodes.map((n) => n.name))) {
        problems.push(`${p}: node name "${dup}" is used more than once; names must be unique.`);
    }
    for (const dup of duplicates(nodes.map((n) => n.host))) {
        problems.push(`${p}: host "${dup}" is used by more than one node; hosts must be unique.`);
    }
    for (const dup of duplicates(nodes.map((n) => n.advertiseAddress ?? n.host))) {
        problems.push(
            `${p}: advertise address "${dup}" is used by more than one node; advertise addresses must be unique.`,
        );
    }
    problems.push(...sshProblems(`${p}: ssh.`, args.ssh));
    const ports: [string, number | undefined][] = [
        ["advertisePort", args.advertisePort],
        ["dataPathPort", args.dataPathPort],
    ];
    for (const [field, value] of ports) {
        if (value !== undefined && !isPort(value)) {
            problems.push(`${p}: ${field} is ${value}; use a port from 1 to 65535.`);
        }
    }
    const swarmPort = args.advertisePort ?? SWARM_DEFAULTS.advertisePort;
    if (args.dataPathPort !== undefined && args.dataPathPort === swarmPort) {
        problems.push(
            `${p}: dataPathPort ${args.dataPathPort} is also the advertise port; the two need different ports.`,
        );
    }
    const install = args.docker?.install ?? "distro";
    if (!INSTALL_METHODS.includes(install)) {
        problems.push(`${p}: docker.install is "${install}"; use "distro", "docker-ce" or "none".`);
    }
    const metricsPort = args.docker?.metricsPort;
    if (metricsPort !== undefined && !isPort(metricsPort)) {
        problems.push(
            `${p}: docker.metricsPort is ${metricsPort}; use a whole number from 1 to 65535.`,
        );
    }
    problems.push(
        ...ruleProblem(`${p}: docker.version`, rules.debianVersion, args.docker?.version),
        ...ruleProblem(`${p}: docker.repository`, rules.url, args.docker?.repository),
        ...ruleProblem(`${p}: certExpiry`, rules.goDuration, args.certExpiry),
        ...(args.defaultAddressPool ?? []).flatMap((pool) =>
            ruleProblem(`${p}: defaultAddressPool`, rules.ipv4Network, pool),
        ),
    );
    if (args.docker?.version !== undefined && install !== "docker-ce") {
        problems.push(
            `${p}: docker.version "${args.docker.version}" is set with docker.install "${install}"; a version pin needs "docker-ce".`,
        );
    }
    if (args.docker?.repository !== undefined && install !== "docker-ce") {
        problems.push(
            `${p}: docker.repository is set with docker.install "${install}"; only "docker-ce" installs from an apt repository of Docker's.`,
        );
    }
    if (
        args.bootstrapManager !== undefined &&
        !managers.some((m) => m.name === args.bootstrapManager)
    ) {
        problems.push(
            `${p}: bootstrapManager "${args.bootstrapManager}" is not the name of a manager in nodes.`,
        );
    }
    problems.push(...firewallProblems(p, nodes, args.firewall));
    if (args.recovery) {
        const { node, backup } = args.recovery;
        if (!managers.some((m) => m.name === node)) {
            problems.push(
                `${p}: recovery.node "${node}" is not the name of a manager in nodes; name the manager the swarm is rebuilt from.`,
            );
        }
        problems.push(...ruleProblem(`${p}: recovery.backup`, rules.swarmBackup, backup));
    }
    if (args.backup) {
        problems.push(...backupProblems((field) => `${p}: backup.${field}`, args.backup));
        if (managers.length < 3) {
            problems.push(
                `${p}: backup is set but the swarm has ${managers.length} manager${managers.length === 1 ? "" : "s"}; a backup stops one manager's engine for the copy, which only a swarm of 3 or more managers keeps its quorum through, so add managers or drop the backups.`,
            );
        }
    }
    problems.push(
        ...wholeNumberProblems(p, [
            ["taskHistoryLimit", args.taskHistoryLimit, 0],
            ["defaultAddressPoolMaskLength", args.defaultAddressPoolMaskLength, 8],
            ["readyTimeoutSeconds", args.readyTimeoutSeconds, 1],
            ["drainTimeoutSeconds", args.drainTimeoutSeconds, 0],
            ["joinTokenRotation", args.joinTokenRotation, 0],
        ]),
    );
    throwIfAny(problems);
}

/** The firewall's rules are per IPv4 address: each node's, the ensemble's, the client networks'. */
function firewallProblems(
    p: string,
    nodes: SwarmNodeArgs[],
    firewall: SwarmFirewallArgs | undefined,
): string[] {
    if (!firewall) return [];
    const problems: string[] = [];
    for (const node of nodes) {
        const address = node.advertiseAddress ?? node.host;
        if (!net.isIPv4(address)) {
            problems.push(
                `${p}: node "${node.name}" has address "${address}"; the firewall admits members by IPv4 address, so give one as advertiseAddress.`,
            );
        }
    }
    const zk = firewall.zooKeeper;
    for (const address of zk?.servers ?? []) {
        if (!net.isIPv4(address)) {
            problems.push(`${p}: firewall.zooKeeper.servers "${address}" is not an IPv4 address.`);
        }
    }
    for (const network of zk?.clientNetworks ?? []) {
        if (!isIPv4Network(network)) {
            problems.push(
                `${p}: firewall.zooKeeper.clientNetworks "${network}" is not an IPv4 network; write it as ADDRESS/BITS (10.1.0.0/16, 192.0.2.7/32).`,
            );
        }
    }
    for (const field of ["clientPort", "peerPort", "electionPort"] as const) {
        if (zk && !isPort(zk[field])) {
            problems.push(
                `${p}: firewall.zooKeeper.${field} is ${zk[field]}; use a port from 1 to 65535.`,
            );
        }
    }
    const seen = new Set<string>();
    for (const [i, r] of (firewall.restricted ?? []).entries()) {
        const at = `${p}: firewall.restricted[${i}]`;
        const protocol = r.protocol ?? "tcp";
        if (!isPort(r.port)) problems.push(`${at}.port is ${r.port}; use a port from 1 to 65535.`);
        if (protocol !== "tcp" && protocol !== "udp") {
            problems.push(`${at}.protocol is "${String(protocol)}"; use "tcp" or "udp".`);
        }
        for (const network of r.from ?? []) {
            if (!isIPv4Network(network)) {
                problems.push(
                    `${at}.from "${network}" is not an IPv4 network; write it as ADDRESS/BITS (10.1.0.0/16, 192.0.2.7/32).`,
                );
            }
        }
        const key = `${protocol}/${r.port}`;
        if (seen.has(key)) {
            problems.push(`${at}: ${key} is restricted twice; give its networks once.`);
        }
        seen.add(key);
    }
    problems.push(...sharedFirewallProblems(p, firewall));
    return problems;
}

/** The manager that bootstraps the swarm: the one asked for, else the first manager by name. */
export function chooseBootstrapManager(args: SwarmClusterArgs): SwarmNodeArgs {
    const managers = sortByName(args.nodes.filter((n) => n.role === "manager"));
    return managers.find((m) => m.name === args.bootstrapManager) ?? managers[0];
}

/**
 * The manager that runs the manager-side steps while no other manages the swarm: the one a
 * recovery rebuilds it from, else the bootstrap manager.
 */
function preferredManager(args: SwarmClusterArgs): SwarmNodeArgs {
    const recovering = args.recovery?.node;
    return args.nodes.find((n) => n.name === recovering) ?? chooseBootstrapManager(args);
}

/**
 * Flags for `docker swarm init` from the cluster's swarm options: one argument per line, as init.sh
 * reads them (split at newlines only, so a value is never more than one argument).
 */
export function swarmInitFlags(args: SwarmClusterArgs): string {
    const flags: string[] = [];
    if (args.dataPathPort !== undefined) {
        flags.push(`--data-path-port=${args.dataPathPort}`);
    }
    for (const pool of args.defaultAddressPool ?? []) {
        flags.push(`--default-addr-pool=${pool}`);
    }
    if (args.defaultAddressPoolMaskLength !== undefined) {
        flags.push(`--default-addr-pool-mask-length=${args.defaultAddressPoolMaskLength}`);
    }
    return [...flags, swarmUpdateFlags(args)].filter((f) => f !== "").join("\n");
}

/** Flags for `docker swarm update`: the options that can change after init, one per line. */
export function swarmUpdateFlags(args: SwarmClusterArgs): string {
    const flags: string[] = [];
    if (args.autolock !== undefined) {
        flags.push(`--autolock=${args.autolock}`);
    }
    if (args.certExpiry !== undefined) {
        flags.push(`--cert-expiry=${args.certExpiry}`);
    }
    if (args.taskHistoryLimit !== undefined) {
        flags.push(`--task-history-limit=${args.taskHistoryLimit}`);
    }
    return flags.join("\n");
}

/** `KEY=VALUE` lines of a node's labels, sorted, as node.sh takes them. */
export function labelLines(labels: Record<string, string> | undefined): string {
    return Object.keys(labels ?? {})
        .sort()
        .map((key) => `${key}=${(labels ?? {})[key]}`)
        .join("\n");
}

/** Reads `key=value` lines printed by a remote step. */
export function parseKeyValues(stdout: string): Record<string, string> {
    const values: Record<string, string> = {};
    for (const line of stdout.split("\n")) {
        const match = /^([a-z]+)=(.*)$/.exec(line.trim());
        if (match) {
            values[match[1]] = match[2];
        }
    }
    return values;
}

/** Reads the node lines printed by ready.sh. */
export function parseReadyReport(stdout: string): SwarmNodeStatus[] {
    return stdout
        .split("\n")
        .map((line) => line.trim().split(/\s+/))
        .filter((fields) => fields.length >= 7)
        .map(([name, nodeId, role, state, reachability, leader, address]) => ({
            name,
            nodeId,
            role: role as SwarmRole,
            state,
            reachability,
            leader: leader === "true",
            address: address.replace(/:\d+$/, ""),
        }));
}

/**
 * What ssh's ProxyCommand runs to reach the first manager that answers: `node -e RELAY PORT HOST...`
 * connects to each host's port in turn (3 s each) and relays the connection. Node.js is there
 * wherever a Pulumi program in TypeScript runs. No single quotes or '%' in it (shell and ssh tokens).
 */
export const MANAGER_RELAY = [
    'const net = require("net");',
    "const [port, ...hosts] = process.argv.slice(1);",
    "const next = (i) => {",
    "  if (i >= hosts.length) {",
    '    process.stderr.write("swarm-ha: no manager answers on port " + port + ": " + hosts.join(", ") + "\\n");',
    "    process.exit(1);",
    "  }",
    "  let up = false;",
    "  const s = net.connect({ host: hosts[i], port: Number(port), timeout: 3000 });",
    '  s.once("connect", () => { up = true; s.setTimeout(0); process.stdin.pipe(s); s.pipe(process.stdout); });',
    '  s.once("timeout", () => s.destroy(new Error("timeout")));',
    '  s.once("error", () => { if (!up) next(i + 1); });',
    '  s.once("close", () => { if (up) process.exit(0); });',
    "};",
    "next(0);",
].join(" ");

/**
 * The Docker provider's ssh options: the caller's, then non-interactive, through the first manager
 * that answers (the bootstrap manager first; ProxyCommand, see {@link MANAGER_RELAY}), and the host
 * key checked against the managers' keys when every manager's is known (KnownHostsCommand prints
 * them as known_hosts lines), else not checked, as the cluster's other connections.
 */
export function dockerSshOptions(
    managers: { host: string; ssh: ResolvedSsh }[],
    extra: string[] = [],
): pulumi.Output<string[]> {
    const port = managers[0].ssh.port;
    // ssh runs ProxyCommand through a shell: every host is one quoted word, never text.
    const hosts = managers.map((m) => shellQuote(proxyHost(m.host))).join(" ");
    return pulumi.all(managers.map((m) => m.ssh.hostKey)).apply((keys) => {
        const known = keys.every((k) => typeof k === "string" && k !== "");
        const options = [
            ...extra,
            "-o",
            "BatchMode=yes",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
        ];
        if (managers.length > 1) {
            options.push("-o", `ProxyCommand=node -e '${MANAGER_RELAY}' ${Number(port)} ${hosts}`);
        }
        if (!known) {
            return [...options, "-o", "StrictHostKeyChecking=no"];
        }
        const lines = (keys as string[]).map(knownHostsWords);
        return [
            ...options,
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            `KnownHostsCommand=/usr/bin/printf "%H %%s %%s\\n" ${lines.join(" ")}`,
        ];
    });
}

/**
 * A host as ProxyCommand may carry it: a host that follows the host grammar, and none of the
 * characters ssh expands there ('%'). Validation refuses anything else before this; this is the
 * second wall.
 */
function proxyHost(host: string): string {
    if (!rules.host.test(host)) {
        throw new ValidationError(`swarm-ha: the manager host ${shown(host)}; ${rules.host.says}.`);
    }
    return host;
}

/** "TYPE BASE64" of a host key, checked to its grammar, for KnownHostsCommand's arguments. */
function knownHostsWords(key: string): string {
    if (!rules.hostKey.test(key)) {
        throw new ValidationError(
            `swarm-ha: a manager's host key ${shown(key)}; ${rules.hostKey.says}.`,
        );
    }
    return key.trim().split(/\s+/).slice(0, 2).join(" ");
}

/**
 * The first of `managers` whose SSH port accepts a connection from here (2 s each, in order), else
 * the first: where steps that only read the swarm run, so that they work while a manager is down.
 */
export async function answeringManager<
    T extends { host: string; connection: { port?: pulumi.Input<number> } },
>(managers: T[]): Promise<T> {
    for (const m of managers) {
        const port =
            Number(await new Promise((ok) => pulumi.output(m.connection.port).apply(ok))) || 22;
        const answered = await new Promise<boolean>((ok) => {
            const socket = net.connect({ host: m.host, port, timeout: 2000 });
            socket.once("connect", () => (socket.destroy(), ok(true)));
            socket.once("timeout", () => (socket.destroy(), ok(false)));
            socket.once("error", () => ok(false));
        });
        if (answered) {
            return m;
        }
    }
    return managers[0];
}

/**
 * A Docker Swarm on SSH-reachable hosts: Docker installed everywhere, one swarm with the given
 * managers and workers, labels and availability applied, and a Docker provider for services.
 */
export class SwarmCluster extends pulumi.ComponentResource {
    /** Managers with their swarm node IDs. */
    public readonly managers: pulumi.Output<SwarmNodeInfo[]>;
    /** Workers with their swarm node IDs. */
    public readonly workers: pulumi.Output<SwarmNodeInfo[]>;
    /** Every node's state when the cluster became ready. */
    public readonly nodeStatus: pulumi.Output<SwarmNodeStatus[]>;
    /** The swarm's cluster ID. */
    public readonly clusterId: pulumi.Output<string>;
    /** Address of the Raft leader when the cluster became ready. */
    public readonly leaderAddress: pulumi.Output<string>;
    /** Token for joining managers (secret). */
    public readonly managerJoinToken: pulumi.Output<string>;
    /** Token for joining workers (secret). */
    public readonly workerJoinToken: pulumi.Output<string>;
    /** The unlock key with autolock, else empty (secret). */
    public readonly unlockKey: pulumi.Output<string>;
    /** How many managers may fail while the swarm keeps a quorum: (managers - 1) / 2. */
    public readonly faultTolerance: number;
    /** Docker host URL of the bootstrap manager (`ssh://user@host:port`). */
    public readonly dockerHost: string;
    /**
     * Every manager's address and SSH connection, the bootstrap manager first: for steps that read
     * the swarm (SwarmService's `tasksFrom`; `answeringManager` picks one that answers).
     */
    get managerConnections(): ManagerConnection[] {
        return clusterInternals.get(this)!.managerConnections;
    }
    /** The port of every engine's Prometheus metrics, or undefined where the cluster does not set it. */
    public readonly engineMetricsPort: number | undefined;
    /** A Docker provider bound to the cluster, for SwarmService; undefined with dockerProvider false. */
    get provider(): docker.Provider | undefined {
        return clusterInternals.get(this)!.provider;
    }

    constructor(name: string, args: SwarmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("swarm-ha:index:SwarmCluster", name, {}, opts);
        validateSwarmClusterArgs(name, args);

        // Asked before any child is registered: a refusal leaves nothing registered.
        const asked = asksItsHosts(name, args, this) ? preflightCluster(name, args) : undefined;
        const children = new Children(asked, (found) =>
            buildCluster(
                this,
                name,
                found ? { ...args, observed: found.observed, firewall: found.firewall } : args,
            ),
        );
        const part = <T>(pick: (p: ClusterParts) => pulumi.Output<T>) => children.output(pick);
        this.clusterId = part((p) => p.clusterId);
        this.managerJoinToken = pulumi.secret(part((p) => p.managerJoinToken));
        this.workerJoinToken = pulumi.secret(part((p) => p.workerJoinToken));
        this.unlockKey = pulumi.secret(part((p) => p.unlockKey));
        this.nodeStatus = part((p) => p.nodeStatus);
        this.managers = part((p) => p.managers);
        this.workers = part((p) => p.workers);
        this.engineMetricsPort = args.docker?.metricsPort;
        this.leaderAddress = this.nodeStatus.apply(
            (status) => status.find((s) => s.leader)?.address ?? "",
        );
        const managers = sortByName(args.nodes.filter((n) => n.role === "manager"));
        this.faultTolerance = Math.floor((managers.length - 1) / 2);

        // 8. The Docker provider, on the bootstrap manager first, then the others: it uses the
        //    first that answers.
        const bootstrap = chooseBootstrapManager(args);
        const sshOf = (n: SwarmNodeArgs): ResolvedSsh => resolveSsh(args.ssh, n.ssh);
        const bootstrapSsh = sshOf(bootstrap);
        this.dockerHost = `ssh://${bootstrapSsh.user}@${bootstrap.host}:${bootstrapSsh.port}`;
        const inOrder = [bootstrap, ...managers.filter((m) => m !== bootstrap)];
        const providerManagers = inOrder.map((m) => ({ host: m.host, ssh: sshOf(m) }));
        const managerConnections = inOrder.map((m) => ({
            host: m.host,
            connection: connectionFor(m.host, sshOf(m)),
        }));
        const provider =
            (args.dockerProvider ?? true)
                ? new docker.Provider(
                      `${name}-provider`,
                      {
                          host: this.dockerHost,
                          sshOpts: dockerSshOptions(providerManagers, args.dockerSshOpts),
                      },
                      {
                          parent: this,
                          dependsOn: children.resources((p) => [p.engineReady]),
                      },
                  )
                : undefined;
        clusterInternals.set(this, { built: children.done, managerConnections, provider });

        this.registerOutputs({
            managers: this.managers,
            workers: this.workers,
            nodeStatus: this.nodeStatus,
            clusterId: this.clusterId,
            leaderAddress: this.leaderAddress,
            managerJoinToken: this.managerJoinToken,
            workerJoinToken: this.workerJoinToken,
            unlockKey: this.unlockKey,
            faultTolerance: this.faultTolerance,
            dockerHost: this.dockerHost,
        });
    }

    /**
     * Resolves once every child is registered, so that a resource with `dependsOn: [cluster]` waits
     * for all of them, those registered after the cluster asked its hosts included. Pulumi calls it
     * from ComponentResource's constructor, before this class's own: one turn later, that has run.
     */
    protected async initialize(): Promise<unknown> {
        await Promise.resolve();
        // Nothing kept when the constructor refused its arguments.
        return clusterInternals.get(this)?.built;
    }
}

/** A manager's address and SSH connection, for steps that read the swarm. */
export interface ManagerConnection {
    host: string;
    connection: types.remote.ConnectionArgs;
}

/**
 * What a cluster keeps for the program that composes it and out of its outputs (and so of the
 * package's schema): its children's registration, after the cluster's own checks when it asks its
 * hosts, its managers' connections and its Docker provider (which Pulumi's analyzer cannot yet
 * describe: a program of another language makes its own from `dockerHost`).
 */
const clusterInternals = new WeakMap<
    SwarmCluster,
    {
        built: Promise<unknown>;
        managerConnections: ManagerConnection[];
        provider: docker.Provider | undefined;
    }
>();

/**
 * Whether the cluster asks its hosts before its resources (see `checkHosts` and `observed`); when
 * it would but cannot, a note says why.
 */
function asksItsHosts(name: string, args: SwarmClusterArgs, owner: pulumi.Resource): boolean {
    if (args.observed !== undefined || args.checkHosts === false) return false;
    const skipped = preflightSkipped(args);
    if (skipped) {
        pulumi.log.info(
            `${prefix(COMPONENT, name)}: the hosts are not asked before the run (${skipped}): no quorum, drift or login check.`,
            owner,
        );
    }
    return !skipped;
}

/** What the cluster's steps give its outputs and its Docker provider. */
interface ClusterParts {
    clusterId: pulumi.Output<string>;
    managerJoinToken: pulumi.Output<string>;
    workerJoinToken: pulumi.Output<string>;
    unlockKey: pulumi.Output<string>;
    nodeStatus: pulumi.Output<SwarmNodeStatus[]>;
    managers: pulumi.Output<SwarmNodeInfo[]>;
    workers: pulumi.Output<SwarmNodeInfo[]>;
    /** The last step: every engine in the swarm and Ready, with its settings. */
    engineReady: pulumi.Resource;
}

/** The cluster's steps, in order: every child but the Docker provider. */
function buildCluster(owner: SwarmCluster, name: string, args: SwarmClusterArgs): ClusterParts {
    const plan = planCluster(owner, name, args);
    const prepared = prepareHosts(plan);
    const installs = installDocker(plan, prepared);
    const recovered = recoverSwarm(plan, installs, prepared.firewalls);
    const init = initSwarm(plan, installs, [...prepared.firewalls, ...recovered]);
    const clusterId = init.stdout.apply((out) => parseKeyValues(out).cluster ?? "");
    const tokens = readTokens(plan, init);
    const tokenValues = tokens.stdout.apply(parseKeyValues);
    const managerJoinToken = pulumi.secret(tokenValues.apply((v) => v.manager ?? ""));
    const workerJoinToken = pulumi.secret(tokenValues.apply((v) => v.worker ?? ""));
    const unlockKey = pulumi.secret(tokenValues.apply((v) => v.unlock ?? ""));
    const backup = backUp(plan, prepared, installs, tokens, unlockKey);
    const { joins, nodeIds } = joinNodes(plan, {
        installs,
        firewalls: prepared.firewalls,
        init,
        tokens: backup ?? tokens,
        managerJoinToken,
        workerJoinToken,
        unlockKey,
    });
    const nodeSteps = applyNodeSettings(plan, joins, nodeIds);
    const ready = waitReady(plan, nodeSteps, nodeIds);
    const nodeStatus = ready.stdout.apply(parseReadyReport);
    const engineReady = restartEnginesForMetrics(plan, ready, unlockKey);
    const info = (list: SwarmNodeArgs[]): pulumi.Output<SwarmNodeInfo[]> =>
        pulumi.all(list.map((n) => nodeIds.get(n.name)!)).apply((ids) =>
            list.map((n, i) => ({
                name: n.name,
                host: n.host,
                address: plan.addressOf(n),
                role: n.role,
                nodeId: ids[i],
            })),
        );
    return {
        clusterId,
        managerJoinToken,
        workerJoinToken,
        unlockKey,
        nodeStatus,
        managers: info(plan.managers),
        workers: info(plan.workers),
        engineReady,
    };
}

/**
 * What every step of a cluster reads, worked out once: its nodes (sorted by name), the managers,
 * the workers and the bootstrap manager, their SSH settings and addresses, the scripts' folder on
 * the hosts, the probe's repair counts, and the step manager that runs the manager-side steps.
 */
interface ClusterPlan {
    owner: SwarmCluster;
    name: string;
    args: SwarmClusterArgs;
    swarmPort: string;
    nodes: SwarmNodeArgs[];
    managers: SwarmNodeArgs[];
    workers: SwarmNodeArgs[];
    bootstrap: SwarmNodeArgs;
    dir: string;
    sshOf: (n: SwarmNodeArgs) => ResolvedSsh;
    addressOf: (n: SwarmNodeArgs) => string;
    base: (n: SwarmNodeArgs) => Record<string, string>;
    metricsAddressOf: ((n: SwarmNodeArgs) => string) | undefined;
    probe: SwarmProbe;
    /** How many times the probe found the node drifted in that way. */
    count: (kind: pulumi.Output<Record<string, number>>, n: SwarmNodeArgs) => pulumi.Output<number>;
    /** A step's command, with REPAIR=N once the node was found drifted: it runs again then. */
    repaired: (
        script: string,
        params: Record<string, pulumi.Input<string>>,
        times: pulumi.Output<number>,
        extra?: pulumi.Input<ScriptParams>,
    ) => pulumi.Output<string>;
    /** The step manager: its node, connection, NODE and HOST parameters, and address. */
    step: {
        node: pulumi.Output<SwarmNodeArgs>;
        connection: pulumi.Output<types.remote.ConnectionArgs>;
        base: { NODE: pulumi.Output<string>; HOST: pulumi.Output<string> };
        address: pulumi.Output<string>;
    };
}

/**
 * 0. The plan, and the probe: what the program found on the hosts, kept per node as counts that go
 *    into the node's steps (REPAIR=N, once a node was found drifted), and the manager that runs the
 *    manager-side steps.
 */
function planCluster(owner: SwarmCluster, name: string, args: SwarmClusterArgs): ClusterPlan {
    const nodes = sortByName(args.nodes);
    const managers = nodes.filter((n) => n.role === "manager");
    const bootstrap = chooseBootstrapManager(args);
    const sshOf = (n: SwarmNodeArgs): ResolvedSsh => resolveSsh(args.ssh, n.ssh);
    const addressOf = (n: SwarmNodeArgs): string => n.advertiseAddress ?? n.host;
    const metricsPort = args.docker?.metricsPort;
    const dir = scriptsDir(name);
    const drift = args.observed?.drift;
    const probe = new SwarmProbe(
        `${name}-probe`,
        {
            nodes: nodes.map((n) => n.name),
            managers: managers.map((m) => m.name),
            engineDrift: Object.keys(drift?.engine ?? {}).sort(),
            specDrift: Object.keys(drift?.spec ?? {}).sort(),
            restart: drift?.restart ?? {},
            answering: args.observed?.answering ?? [],
            preferred: preferredManager(args).name,
        },
        { parent: owner, provider: probeHostOf(owner, name) },
    );
    // While recovering, the node the swarm is rebuilt from: it is the one that manages it then.
    const recovering = args.recovery && preferredManager(args);
    const stepNode = recovering
        ? pulumi.output(recovering)
        : probe.stepManager.apply((m) => managers.find((n) => n.name === m) ?? bootstrap);
    return {
        owner,
        name,
        args,
        swarmPort: String(args.advertisePort ?? SWARM_DEFAULTS.advertisePort),
        nodes,
        managers,
        workers: nodes.filter((n) => n.role === "worker"),
        bootstrap,
        dir,
        sshOf,
        addressOf,
        base: (n) => ({ NODE: n.name, HOST: n.host }),
        metricsAddressOf:
            metricsPort === undefined ? undefined : (n) => `${addressOf(n)}:${metricsPort}`,
        probe,
        count: (kind, n) => kind.apply((c) => c?.[n.name] ?? 0),
        repaired: (script, params, times, extra = {}) =>
            pulumi
                .all([pulumi.all(params), times, extra])
                .apply(([p, t, e]) =>
                    stepCommand(
                        dir,
                        script,
                        t > 0 ? { ...p, ...e, REPAIR: String(t) } : { ...p, ...e },
                    ),
                ),
        step: {
            node: stepNode,
            connection: stepNode.apply((m) => pulumi.output(connectionFor(m.host, sshOf(m)))),
            base: { NODE: stepNode.apply((m) => m.name), HOST: stepNode.apply((m) => m.host) },
            address: stepNode.apply(addressOf),
        },
    };
}

/** Each host's connection, its engine's repair count and its placed scripts; the firewall's steps. */
interface PreparedHosts {
    hosts: Map<
        string,
        {
            connection: ReturnType<typeof connectionFor>;
            engineRepairs: pulumi.Output<number>;
            scripts: pulumi.Resource;
        }
    >;
    firewalls: pulumi.Resource[];
}

/**
 * 1. Every host in parallel: wait for SSH (the connection's bounded dial), place the scripts. With
 *    a firewall, its rules too, confirmed, before the swarm exists and before any node joins:
 *    members, and only they, reach the swarm's ports from the start.
 */
function prepareHosts(plan: ClusterPlan): PreparedHosts {
    const { args, name, dir, owner } = plan;
    const firewallParams =
        args.firewall &&
        firewallParameters(
            args.firewall,
            plan.nodes.map(plan.addressOf),
            plan.swarmPort,
            args.dataPathPort ?? SWARM_DEFAULTS.dataPathPort,
        );
    const prepared: PreparedHosts = { hosts: new Map(), firewalls: [] };
    for (const node of plan.nodes) {
        const connection = connectionFor(node.host, plan.sshOf(node));
        const engineRepairs = plan.count(plan.probe.engine, node);
        const scripts = placeScripts(`${name}-scripts-${node.name}`, connection, dir, owner, {
            repairs: engineRepairs,
        });
        prepared.hosts.set(node.name, { connection, engineRepairs, scripts });
        if (firewallParams) {
            // Both steps run again when the host's rules are repaired (not in force).
            prepared.firewalls.push(
                firewallSteps(
                    name,
                    node.name,
                    connection,
                    dir,
                    plan.base(node),
                    firewallParams,
                    { parent: owner, after: scripts },
                    (script, params) => plan.repaired(script, params, engineRepairs),
                ),
            );
        }
    }
    return prepared;
}

/**
 * 1b. Docker on every host: installed or verified, enabled and started; it stays installed when
 *     the cluster goes. After every host's rules are confirmed: a confirmation queued behind the
 *     engine installs (a minute or more each, as many at once as the CLI's parallelism) came after
 *     the rollback's deadline on 13 hosts, and the rules were undone.
 */
function installDocker(
    plan: ClusterPlan,
    prepared: PreparedHosts,
): Map<string, command.remote.Command> {
    const { args } = plan;
    const install = args.docker?.install ?? "distro";
    const installs = new Map<string, command.remote.Command>();
    for (const node of plan.nodes) {
        const { connection, engineRepairs, scripts } = prepared.hosts.get(node.name)!;
        installs.set(
            node.name,
            remoteStep(
                `${plan.name}-docker-${node.name}`,
                {
                    connection,
                    create: plan.repaired(
                        "docker",
                        {
                            ...plan.base(node),
                            INSTALL: install,
                            DOCKER_VERSION: args.docker?.version ?? "",
                            ...(install === "docker-ce"
                                ? {
                                      DOCKER_REPOSITORY:
                                          args.docker?.repository ?? DOCKER_CE_REPOSITORY,
                                  }
                                : {}),
                            ...(plan.metricsAddressOf
                                ? { METRICS_ADDR: plan.metricsAddressOf(node) }
                                : {}),
                        },
                        engineRepairs,
                        // The engine run found lost (Down for the managers): restarted while it is
                        // that run, so once.
                        plan.probe.restart.apply((r): ScriptParams =>
                            r?.[node.name] ? { RESTART: r[node.name] } : {},
                        ),
                    ),
                },
                { parent: plan.owner, dependsOn: [scripts, ...prepared.firewalls] },
            ),
        );
    }
    return installs;
}

/**
 * 1c. Recovery, with `recovery`: before init, on the node it names, a swarm without its majority is
 *     forced into a new cluster of that one manager (from a backup restored first, when asked);
 *     init then only reports it, and the other managers join it as replaced hosts do.
 */
function recoverSwarm(
    plan: ClusterPlan,
    installs: Map<string, command.remote.Command>,
    firewalls: pulumi.Resource[],
): command.remote.Command[] {
    const { args } = plan;
    const node = args.recovery && plan.managers.find((m) => m.name === args.recovery!.node);
    if (!node) return [];
    return [
        remoteStep(
            `${plan.name}-recover`,
            {
                connection: connectionFor(node.host, plan.sshOf(node)),
                create: stepCommand(plan.dir, "recover", {
                    ...plan.base(node),
                    ADVERTISE_ADDR: plan.addressOf(node),
                    SWARM_PORT: plan.swarmPort,
                    ATTEMPTS: attemptsIn(
                        args.readyTimeoutSeconds ?? SWARM_DEFAULTS.readyTimeoutSeconds,
                    ),
                    INTERVAL: String(READY_INTERVAL_SECONDS),
                    ...(args.recovery!.backup
                        ? {
                              BACKUP: args.recovery!.backup,
                              TARGET: args.backup?.target ?? BACKUP_DEFAULTS.target,
                          }
                        : {}),
                }),
            },
            { parent: plan.owner, dependsOn: [installs.get(node.name)!, ...firewalls] },
        ),
    ];
}

/**
 * 2. Bootstrap: init on one manager, unless it already manages this swarm (then it only reports
 *    the swarm's cluster ID): the bootstrap manager first, later the step manager.
 */
function initSwarm(
    plan: ClusterPlan,
    installs: Map<string, command.remote.Command>,
    firewalls: pulumi.Resource[],
): command.remote.Command {
    const { step, dir } = plan;
    return remoteStep(
        `${plan.name}-init`,
        {
            connection: step.connection,
            create: stepCommandOutput(dir, "init", {
                ...step.base,
                ADVERTISE_ADDR: step.address,
                SWARM_PORT: plan.swarmPort,
                OTHER_MANAGERS: step.node.apply((s) =>
                    plan.managers
                        .filter((m) => m.name !== s.name)
                        .map(plan.addressOf)
                        .join(" "),
                ),
                INIT_FLAGS: swarmInitFlags(plan.args),
                UPDATE_FLAGS: swarmUpdateFlags(plan.args),
            }),
            delete: stepCommandOutput(dir, "leave", { ...step.base, FORCE: "yes" }),
        },
        {
            parent: plan.owner,
            dependsOn: [...plan.managers.map((m) => installs.get(m.name)!), ...firewalls],
        },
    );
}

/** 3. Tokens: read on the step manager; secret in state, never logged. */
function readTokens(plan: ClusterPlan, init: command.remote.Command): command.remote.Command {
    const { args } = plan;
    return remoteStep(
        `${plan.name}-tokens`,
        {
            connection: plan.step.connection,
            create: stepCommandOutput(plan.dir, "tokens", {
                ...plan.step.base,
                AUTOLOCK: String(args.autolock ?? false),
                ...(args.joinTokenRotation ? { ROTATION: String(args.joinTokenRotation) } : {}),
            }),
            logging: "none",
        },
        { parent: plan.owner, dependsOn: [init], additionalSecretOutputs: ["stdout"] },
    );
}

/**
 * 3b. Backups, with `backup`: the timer on every manager; and a backup taken in this run on the step
 *     manager before the joins, demotions and removals, whenever the managers change (a manager
 *     added, removed, promoted or demoted: the list of managers is its trigger). The joins, and so
 *     every node's settings and every removal, wait for it. It skips (saying why) while the swarm
 *     could not spare a manager, so a run that repairs a degraded swarm is not stopped by it.
 */
function backUp(
    plan: ClusterPlan,
    prepared: PreparedHosts,
    installs: Map<string, command.remote.Command>,
    tokens: command.remote.Command,
    unlockKey: pulumi.Output<string>,
): command.remote.Command | undefined {
    const { args, dir, owner } = plan;
    if (!args.backup) return undefined;
    const target = args.backup.target ?? BACKUP_DEFAULTS.target;
    const keep = args.backup.keep ?? BACKUP_DEFAULTS.keep;
    const schedule = args.backup.schedule ?? BACKUP_DEFAULTS.schedule;
    const wait = {
        attempts: attemptsIn(args.readyTimeoutSeconds ?? SWARM_DEFAULTS.readyTimeoutSeconds),
        interval: String(READY_INTERVAL_SECONDS),
    };
    for (const manager of plan.managers) {
        const units = backupUnits(
            "swarm",
            dir,
            plan.name,
            {
                ...plan.base(manager),
                TARGET: target,
                KEEP: String(keep),
                ATTEMPTS: wait.attempts,
                INTERVAL: wait.interval,
                TAKER: "first",
            },
            schedule,
        );
        const params = {
            ...plan.base(manager),
            UNIT: units.unit,
            SCHEDULE: schedule,
            SERVICE_UNIT: units.service,
            TIMER_UNIT: units.timer,
        };
        remoteStep(
            `${plan.name}-backup-schedule-${manager.name}`,
            {
                connection: connectionFor(manager.host, plan.sshOf(manager)),
                // Again on a host found drifted (a fresh one at the address has no timer).
                create: plan.repaired(
                    "backup-schedule",
                    params,
                    prepared.hosts.get(manager.name)!.engineRepairs,
                ),
                delete: stepCommand(dir, "backup-schedule", { ...params, REMOVE: "yes" }),
            },
            { parent: owner, dependsOn: [installs.get(manager.name)!] },
        );
    }
    return remoteStep(
        `${plan.name}-backup`,
        {
            connection: plan.step.connection,
            create: stepCommandOutput(
                dir,
                "backup",
                {
                    ...plan.step.base,
                    TARGET: target,
                    KEEP: String(keep),
                    ATTEMPTS: wait.attempts,
                    INTERVAL: wait.interval,
                    REASON: "change",
                    TAKER: "self",
                    AUTOLOCK: String(args.autolock ?? false),
                },
                ["backups"],
            ),
            triggers: [plan.managers.map((m) => m.name).join(" ")],
            stdin: args.autolock ? unlockKey : undefined,
        },
        { parent: owner, dependsOn: [tokens], additionalSecretOutputs: ["stdin"] },
    );
}

/**
 * 4. Joins: every node, the bootstrap manager too (it is in the swarm after init and only reports
 *    its node ID, until its host is replaced), through the bootstrap manager, else any other;
 *    managers one at a time (Raft membership changes are serial), then workers in parallel. Each
 *    join has a "forget" step on the step manager that it depends on, so that on removal the order
 *    is: drain and demote, leave, then remove the entry.
 */
function joinNodes(
    plan: ClusterPlan,
    after: {
        installs: Map<string, command.remote.Command>;
        firewalls: pulumi.Resource[];
        init: command.remote.Command;
        tokens: command.remote.Command;
        managerJoinToken: pulumi.Output<string>;
        workerJoinToken: pulumi.Output<string>;
        unlockKey: pulumi.Output<string>;
    },
): {
    joins: Map<string, command.remote.Command>;
    nodeIds: Map<string, pulumi.Output<string>>;
} {
    const { name, dir, step, addressOf, owner, args } = plan;
    const managerAddresses = plan.managers.map(addressOf).join(" ");
    const nodeIds = new Map<string, pulumi.Output<string>>();
    const joins = new Map<string, command.remote.Command>();
    const joinOne = (node: SwarmNodeArgs, previous: pulumi.Resource): command.remote.Command => {
        const forget = remoteStep(
            `${name}-forget-${node.name}`,
            {
                connection: step.connection,
                create: "true",
                delete: stepCommandOutput(dir, "forget", {
                    ...step.base,
                    ADVERTISE_ADDR: addressOf(node),
                }),
            },
            { parent: owner, dependsOn: [after.init] },
        );
        const join = remoteStep(
            `${name}-join-${node.name}`,
            {
                connection: connectionFor(node.host, plan.sshOf(node)),
                create: plan.repaired(
                    "join",
                    {
                        ...plan.base(node),
                        ADVERTISE_ADDR: addressOf(node),
                        SWARM_PORT: plan.swarmPort,
                        // Not the step manager: a join's command stays the same when that one
                        // moves (the step would run again on every node, down ones too).
                        JOIN_ADDR: addressOf(plan.bootstrap),
                        MANAGERS: managerAddresses,
                    },
                    plan.count(plan.probe.engine, node),
                ),
                delete: stepCommand(dir, "leave", plan.base(node)),
                // With autolock, a manager's unlock key on the next line: a manager found locked
                // (its engine restarted) is unlocked by this step run again.
                stdin:
                    node.role !== "manager"
                        ? after.workerJoinToken
                        : args.autolock
                          ? pulumi.secret(
                                pulumi.interpolate`${after.managerJoinToken}\n${after.unlockKey}`,
                            )
                          : after.managerJoinToken,
            },
            {
                parent: owner,
                dependsOn: [
                    ...new Set([after.installs.get(node.name)!, forget, after.tokens, previous]),
                    ...after.firewalls,
                ],
                additionalSecretOutputs: ["stdin"],
            },
        );
        nodeIds.set(
            node.name,
            join.stdout.apply((out) => parseKeyValues(out).node ?? ""),
        );
        joins.set(node.name, join);
        return join;
    };
    let previousManager: pulumi.Resource = after.tokens;
    for (const manager of plan.managers) {
        previousManager = joinOne(manager, previousManager);
    }
    for (const worker of plan.workers) {
        joinOne(worker, previousManager);
    }
    return { joins, nodeIds };
}

/** How many checks, READY_INTERVAL_SECONDS apart, fit in a wait of `seconds`. */
const attemptsIn = (seconds: number): string =>
    String(Math.max(1, Math.ceil(seconds / READY_INTERVAL_SECONDS)));

/**
 * 5. Role, labels and availability on the step manager; in place on change, and again when the
 *    probe found them changed by hand. A node that joined again has its old entry removed.
 *    Deleting one drains the node, waits for its tasks to move and demotes it, before it leaves;
 *    and before any manager leaves, as it runs on one of them.
 */
function applyNodeSettings(
    plan: ClusterPlan,
    joins: Map<string, command.remote.Command>,
    nodeIds: Map<string, pulumi.Output<string>>,
): command.remote.Command[] {
    const { step } = plan;
    const drainAttempts = attemptsIn(
        plan.args.drainTimeoutSeconds ?? SWARM_DEFAULTS.drainTimeoutSeconds,
    );
    return plan.nodes.map((node) => {
        const nodeId = nodeIds.get(node.name)!;
        return remoteStep(
            `${plan.name}-node-${node.name}`,
            {
                connection: step.connection,
                create: plan.repaired(
                    "node",
                    {
                        ...step.base,
                        NODE_ID: nodeId,
                        ADVERTISE_ADDR: plan.addressOf(node),
                        ROLE: node.role,
                        AVAILABILITY: node.availability ?? "active",
                        LABELS: labelLines(node.labels),
                    },
                    plan.count(plan.probe.spec, node),
                ),
                delete: stepCommandOutput(plan.dir, "drain", {
                    ...step.base,
                    NODE_ID: nodeId,
                    DRAIN_ATTEMPTS: drainAttempts,
                }),
            },
            // After every manager's join: on delete, every drain runs before any manager leaves,
            // the step manager among them.
            {
                parent: plan.owner,
                dependsOn: [
                    ...new Set([
                        ...plan.managers.map((m) => joins.get(m.name)!),
                        joins.get(node.name)!,
                    ]),
                ],
            },
        );
    });
}

/** 6. Ready: every node Ready, every manager Reachable, within a bounded wait. */
function waitReady(
    plan: ClusterPlan,
    nodeSteps: command.remote.Command[],
    nodeIds: Map<string, pulumi.Output<string>>,
): command.remote.Command {
    const { nodes } = plan;
    const expected = pulumi
        .all(nodes.map((n) => nodeIds.get(n.name)!))
        .apply((ids) => nodes.map((n, i) => `${n.name} ${ids[i]} ${n.role}`).join("\n"));
    // Nodes whose host did not answer when the run started are reported, not waited for: a run
    // with a host down (a manager's too) still converges the rest.
    const unreachable = (plan.args.observed?.unreachable ?? []).filter((n) =>
        nodes.some((x) => x.name === n),
    );
    // Asked again after an engine was restarted for being lost: that node must be Ready too.
    const restarted = plan.probe.restart.apply((r): ScriptParams => {
        const lost = Object.keys(r ?? {}).sort();
        return lost.length > 0 ? { RESTARTED: lost.map((n) => `${n}=${r[n]}`).join(" ") } : {};
    });
    return remoteStep(
        `${plan.name}-ready`,
        {
            connection: plan.step.connection,
            create: restarted.apply((again) =>
                stepCommandOutput(plan.dir, "ready", {
                    ...again,
                    ...plan.step.base,
                    EXPECTED: expected,
                    ATTEMPTS: attemptsIn(
                        plan.args.readyTimeoutSeconds ?? SWARM_DEFAULTS.readyTimeoutSeconds,
                    ),
                    INTERVAL: String(READY_INTERVAL_SECONDS),
                    ...(unreachable.length > 0
                        ? { UNREACHABLE: unreachable.sort().join(" ") }
                        : {}),
                }),
            ),
        },
        { parent: plan.owner, dependsOn: nodeSteps },
    );
}

/**
 * 7. Engine metrics: one node at a time, managers first, each back in the swarm before the next,
 *    so that a restart for a new address never takes a second manager away. What comes after the
 *    cluster (its Docker provider) waits for the last of them.
 */
function restartEnginesForMetrics(
    plan: ClusterPlan,
    ready: command.remote.Command,
    unlockKey: pulumi.Output<string>,
): pulumi.Resource {
    const { args, metricsAddressOf } = plan;
    let engineReady: pulumi.Resource = ready;
    if (!metricsAddressOf) return engineReady;
    for (const node of [...plan.managers, ...plan.workers]) {
        engineReady = remoteStep(
            `${plan.name}-engine-${node.name}`,
            {
                connection: connectionFor(node.host, plan.sshOf(node)),
                create: stepCommand(plan.dir, "engine", {
                    ...plan.base(node),
                    ROLE: node.role,
                    METRICS_ADDR: metricsAddressOf(node),
                    ATTEMPTS: attemptsIn(
                        args.readyTimeoutSeconds ?? SWARM_DEFAULTS.readyTimeoutSeconds,
                    ),
                    INTERVAL: String(READY_INTERVAL_SECONDS),
                    AUTOLOCK: String(args.autolock ?? false),
                }),
                // A restarted manager of an autolocked swarm needs the key to rejoin.
                stdin: args.autolock && node.role === "manager" ? unlockKey : undefined,
            },
            { parent: plan.owner, dependsOn: [engineReady], additionalSecretOutputs: ["stdin"] },
        );
    }
    return engineReady;
}

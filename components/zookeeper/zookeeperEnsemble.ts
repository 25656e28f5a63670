// ZooKeeperEnsemble: a ZooKeeper ensemble on hosts reachable over SSH, run as a systemd service,
// health-checked with the four-letter words, and reconfigured one server at a time, leader last.
import { spawnSync } from "child_process";
import { createHash, createHmac } from "crypto";
import * as net from "net";
import { ruleProblem, rules } from "../host/grammar";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as types from "@pulumi/command/types/input";
import * as random from "@pulumi/random";
import { probeHostOf } from "../host/probeHost";
import { Children, ComponentHost, askHosts, unaskedReason } from "../host/hostChecks";
import { ZooKeeperProbe } from "./zookeeperProbe";
import {
    renderScript,
    scriptsDir,
    shellQuote,
    stepCommand,
    stepCommandOutput,
} from "../host/remoteScript";
import {
    SWARM_PORTS,
    SharedFirewallArgs,
    firewallParameters,
    firewallSteps,
    sharedFirewallProblems,
} from "../host/firewall";
import { placeScripts, remoteStep } from "../host/remoteStep";
import { BACKUP_DEFAULTS, BackupArgs, backupProblems, backupUnits } from "../host/backup";
import {
    SshArgs,
    SshOverrides,
    connectionFor,
    resolveSsh,
    sshProblems,
    unverifiedHostProblems,
} from "../host/ssh";
import {
    duplicates,
    isIPv4Network,
    isPort,
    prefix,
    throwIfAny,
    wholeNumberProblems,
} from "../host/validation";

/** One ZooKeeper server. */
export interface ZooKeeperServerArgs {
    /** The server's myid, 1 to 255; chosen by you and never derived from the list's order. */
    id: number;
    /** Address or DNS name to reach the host over SSH. */
    host: string;
    /** Address the other servers and clients use. Default: `host`. */
    address?: string;
    /** SSH settings for this host only; unset fields come from the ensemble's `ssh`. */
    ssh?: SshOverrides;
}

/** A digest user of the platform and the znodes it owns. */
export interface ZooKeeperUserArgs {
    /** The user's name: a letter, then up to 31 letters, digits, `_` or `-`; not "super". */
    name: string;
    /**
     * The znodes it owns, each with everything below it: absolute paths of names made of letters,
     * digits, `.`, `_` and `-` (not `/zookeeper`, ZooKeeper's own). At least one.
     */
    paths: string[];
}

/** How ZooKeeper gets onto the hosts. */
export const ZooKeeperInstallMethod = {
    /** The OS package `zookeeper`, with Java from the OS. */
    Distro: "distro",
    /** Apache's binary tarball from `url`, checked against `sha512`. */
    Tarball: "tarball",
} as const;
export type ZooKeeperInstallMethod =
    (typeof ZooKeeperInstallMethod)[keyof typeof ZooKeeperInstallMethod];

/** Where ZooKeeper's admin server listens. */
export const ZooKeeperAdminServer = {
    /** Not started. */
    Off: "off",
    /** Bound to 127.0.0.1. */
    Localhost: "localhost",
} as const;
export type ZooKeeperAdminServer = (typeof ZooKeeperAdminServer)[keyof typeof ZooKeeperAdminServer];

/** Automatic purge of old snapshots and transaction logs. */
export interface ZooKeeperAutopurgeArgs {
    /** Snapshots (and their logs) kept. Default: 3. */
    snapRetainCount?: number;
    /** Hours between purges. Default: 24. */
    purgeIntervalHours?: number;
}

/**
 * Digest authentication with a `super` user, which the ensemble's own steps alone use. A missing
 * password is generated (random.RandomPassword) and exposed only as the secret `superPassword`.
 */
export interface ZooKeeperAuthArgs {
    /** Default: true; false turns it off. */
    enabled?: boolean;
    /** The super user's password (a secret). Default: generated. */
    superPassword?: pulumi.Input<string>;
}

/** How ZooKeeper gets onto the hosts. */
export interface ZooKeeperInstallArgs {
    /**
     * "distro": the OS package `zookeeper` with Java from the OS; "tarball": Apache's binary tarball
     * from `url`, checked against `sha512`. Default: "distro".
     */
    method?: ZooKeeperInstallMethod;
    /** With "tarball": the version, used in the install path (/opt/zookeeper/VERSION). Required there. */
    version?: string;
    /** With "tarball": where to download apache-zookeeper-VERSION-bin.tar.gz from. Required there. */
    url?: string;
    /** With "tarball": the tarball's sha512, 128 hex digits. Required there. */
    sha512?: string;
    /** The Java runtime package. Default: "default-jre-headless". */
    javaPackage?: string;
}

/**
 * The ensemble's defaults, in one place: the component's arguments, the stack settings' schema (and
 * through it Pulumi.yaml's, which the docs test compares) and the rendered zoo.cfg read them here.
 */
export const ZOOKEEPER_DEFAULTS = {
    /** The basic time unit in milliseconds. */
    tickTime: 2000,
    /** Each server's JVM heap in MiB (-Xms and -Xmx). */
    heapMb: 512,
} as const;

export interface ZooKeeperEnsembleArgs {
    /** The servers: 1, 3, 5 or 7 of them (even sizes only with `allowEven`). */
    servers: ZooKeeperServerArgs[];
    /** SSH settings for every server; a server's `ssh` overrides them. */
    ssh: SshArgs;
    /** How ZooKeeper is installed. Default: `{ method: "distro" }`. */
    install?: ZooKeeperInstallArgs;
    /** Port clients connect to. Default: 2181. */
    clientPort?: number;
    /** Port followers use to reach the leader. Default: 2888. */
    peerPort?: number;
    /** Port of leader election. Default: 3888. */
    electionPort?: number;
    /** The basic time unit in milliseconds. Default: ZOOKEEPER_DEFAULTS.tickTime (2000). */
    tickTime?: number;
    /** Ticks a follower may take to connect and sync to the leader. Default: 10. */
    initLimit?: number;
    /** Ticks a follower may lag behind the leader. Default: 5. */
    syncLimit?: number;
    /** Snapshots and myid. Default: "/var/lib/zookeeper". */
    dataDir?: string;
    /** Transaction log. Default: the dataDir. */
    dataLogDir?: string;
    /** JVM heap in MiB (-Xms and -Xmx). Default: ZOOKEEPER_DEFAULTS.heapMb (512). */
    heapMb?: number;
    /** Extra JVM flags. Default: none. */
    jvmFlags?: string;
    /** Four-letter words answered. Default: ["srvr", "mntr", "ruok"] (srvr and mntr are needed). */
    fourLetterWords?: string[];
    /** The admin server: "off", or "localhost" (bound to 127.0.0.1). Default: "off". */
    adminServer?: ZooKeeperAdminServer;
    /** Port of the admin server when on. Default: 8080. */
    adminPort?: number;
    /** Automatic purge of old snapshots and logs. Default: keep 3, purge every 24 hours. */
    autopurge?: ZooKeeperAutopurgeArgs;
    /**
     * Digest authentication with a `super` user, which the ensemble's own steps alone use. Default:
     * on (`enabled` defaults to true; `{ enabled: false }` turns it off). A missing password is
     * generated (random.RandomPassword) and exposed only as the secret `superPassword`. Servers
     * read its digest from `zoo.cfg` (mode 0600, the `zookeeper` user's), never from their
     * command line.
     */
    auth?: ZooKeeperAuthArgs;
    /**
     * Digest users of the platform (the registrar), each with a generated password (the secret
     * `userPasswords[name]`) and the znodes it owns. The digest scheme works with or without `auth`;
     * with it, the `NAME-acl` step (as the super user) creates each path that is missing and gives
     * it and everything below it the ACL `digest:NAME:DIGEST:cdrwa,world:anyone:r`: only the user
     * writes, anyone reads. Default: none.
     */
    users?: ZooKeeperUserArgs[];
    /**
     * Change the membership with ZooKeeper's dynamic reconfiguration (`reconfig -members`, as the
     * super user, so it needs `auth.enabled`) instead of restarting the servers with the new list.
     * Servers are added or removed without a restart, and the leader may be one of the removed.
     * Default: false.
     */
    dynamicReconfig?: boolean;
    /**
     * TLS between the servers (quorum) and for clients, on `secureClientPort` instead of the plain
     * client port. Default: off. See ZooKeeperTlsArgs.
     */
    tls?: ZooKeeperTlsArgs;
    /**
     * nftables rules on the servers' hosts, for servers on hosts of their own (a cluster's nodes
     * get SwarmCluster's, which close the ensemble's ports too). Default: none.
     */
    firewall?: ZooKeeperFirewallArgs;
    /** Accept an even number of servers (no gain in fault tolerance). Default: false. */
    allowEven?: boolean;
    /** Remove a removed server's data directories. Default: false (kept). */
    purgeOnDelete?: boolean;
    /**
     * Backups of the servers' data (BackupArgs): each server's latest snapshot and the logs after
     * it, copied while it runs, on a schedule from a timer on every server, and in a run from the
     * first server before the ensemble changes (a restart roll, a server added or removed).
     * Default: none.
     */
    backup?: BackupArgs;
    /** Seconds to wait for the ensemble to be healthy, at start and after each restart. Default: 180. */
    readyTimeoutSeconds?: number;
    /**
     * The ids of the servers whose host is repaired in this run (found drifted or replaced by the
     * cluster's survey): the probe does not count them as down at preview, since up starts them
     * again before it asks. Default: none.
     */
    repairing?: number[];
    /**
     * Ask the servers' hosts before any resource: each host's key and a login with `ssh.privateKey`
     * (a host presenting another key, or refusing the key, is refused by name). Needs every
     * server's `ssh.hostKey`, one `ssh.privateKey` for all, and OpenSSH's `ssh` on the machine that
     * runs Pulumi; without a host key it is skipped. A program that asked them already turns it
     * off. Default: true.
     */
    checkHosts?: boolean;
}

/**
 * ZooKeeperEnsemble's resource options: Pulumi's, and what only a program composing components can
 * give (a resource is no input another language could pass).
 */
export interface ZooKeeperEnsembleOptions extends pulumi.ComponentResourceOptions {
    /**
     * What the ensemble's steps on its hosts wait for, e.g. the SwarmCluster whose managers host it
     * (both install packages with apt). Unlike `dependsOn` on the ensemble, what touches no host
     * (its passwords, its probe's provider) does not wait, so a preview or an up with nothing to
     * change does not either. Default: nothing.
     */
    after?: pulumi.Resource[];
}

/**
 * ZooKeeper's TLS. The component makes a CA on the machine running Pulumi, with openssl (which must
 * be there: the component refuses TLS without it); the CA's key stays there, only in state, as a
 * secret. Each server makes its own key and a certificate signing request; the CA signs the request
 * where Pulumi runs, for the server's address, and the server puts key and certificate in a PKCS12
 * keystore whose password is a generated secret. No server's key leaves its host and the CA's key
 * reaches none. Servers authenticate each other with these certificates; clients check the server's
 * against the CA (`tlsCa`) and authenticate with digest auth (`auth`). There is no plain client port.
 */
export interface ZooKeeperTlsArgs {
    enabled: boolean;
    /** Port of TLS clients. Default: 2281. */
    secureClientPort?: number;
    /**
     * Raise it by one to give every server a new key, certificate and keystore password, rolled
     * out one server at a time, leader last; the CA stays. Default: 0.
     */
    rotation?: number;
}

/**
 * The firewall of servers on hosts of their own: the cluster's rules (the same table, `inet
 * swarm_ha`, script and confirmation by a new SSH connection, else a rollback after
 * `confirmSeconds`): the peer and election ports from the servers only, the client port from the
 * servers, `members` and `clientNetworks` only, nothing else filtered. Removed with the server.
 */
export interface ZooKeeperFirewallArgs extends SharedFirewallArgs {
    /** Addresses (IPv4) that may reach the client port besides the servers: the cluster's nodes. */
    members: string[];
    /** Networks (IPv4, ADDRESS/BITS) that may reach the client port too. Default: none. */
    clientNetworks?: string[];
    /** The servers (ids) whose hosts get the rules. Default: every server. */
    servers?: number[];
    // `leaving`: the ensemble's servers that `servers` no longer lists ({@link leavingServers}).
}

/**
 * What a server's host says of the ensemble it runs in: the address of each `server.N=` line of its
 * zoo.cfg, or of the dynamic file ZooKeeper rewrites at each reconfiguration. Nothing where none
 * runs. Read-only; as root, since zoo.cfg is the zookeeper user's alone.
 */
export const ENSEMBLE_ADDRESSES_COMMAND =
    'c=/etc/zookeeper-ensemble/zoo.cfg; if [ -r "$c" ]; then d=$(sed -n "s/^dynamicConfigFile=//p" "$c"); ' +
    'cat "$c"; if [ -n "$d" ] && [ -r "$d" ]; then cat "$d"; fi; fi | ' +
    "sed -n 's/^server\\.[0-9][0-9]*=\\([^:;]*\\):.*/\\1/p'";

/**
 * The addresses the servers' hosts answered to {@link ENSEMBLE_ADDRESSES_COMMAND} (undefined where
 * one did not answer) that are not among `addresses`, the servers the stack lists: those leaving
 * the ensemble in this run. Only IPv4 addresses, which is what the firewall admits; sorted, once
 * each.
 */
export function leavingServers(addresses: string[], answers: (string | undefined)[]): string[] {
    const listed = new Set(addresses);
    const found = answers.flatMap((a) => (a ?? "").split("\n").map((l) => l.trim()));
    return [...new Set(found.filter((a) => net.isIPv4(a) && !listed.has(a)))].sort();
}

/** Where each server keeps its keystore, its password and the CA's certificate. */
export const TLS_DIR = "/etc/zookeeper-ensemble/tls";

/** A server as the ensemble reports it when it became ready. */
export interface ZooKeeperServerStatus {
    id: number;
    address: string;
    mode: string;
}

const COMPONENT = "ZooKeeperEnsemble";
const HEALTH_INTERVAL_SECONDS = 0.5;

/** Checks a ZooKeeperEnsemble's arguments; one error naming the component, fields, values and rules. */
export function validateZooKeeperArgs(name: string, args: ZooKeeperEnsembleArgs): void {
    const p = prefix(COMPONENT, name);
    // The name is part of the folder the scripts are placed in on every host.
    const problems: string[] = ruleProblem(`${p}: the name`, rules.clusterName, name);
    const servers = args.servers ?? [];
    const size = servers.length;
    const odd = [1, 3, 5, 7].includes(size);
    const even = [2, 4, 6].includes(size);
    if (!odd && !(even && args.allowEven)) {
        problems.push(
            even
                ? `${p}: ${size} servers given; use 1, 3, 5 or 7 so the ensemble keeps a quorum, or set allowEven.`
                : `${p}: ${size} servers given; use 1, 3, 5 or 7.`,
        );
    }
    for (const s of servers) {
        if (!Number.isInteger(s.id) || s.id < 1 || s.id > 255) {
            problems.push(
                `${p}: server id ${s.id} is not valid; ids are whole numbers from 1 to 255.`,
            );
        }
        const at = `${p}: server ${s.id}`;
        problems.push(
            ...ruleProblem(`${at} host`, rules.host, s.host ?? ""),
            ...ruleProblem(`${at} address`, rules.host, s.address),
            ...sshProblems(`${at} ssh.`, s.ssh),
            ...unverifiedHostProblems(`${at} (${s.host})`, resolveSsh(args.ssh, s.ssh)),
        );
    }
    problems.push(...sshProblems(`${p}: ssh.`, args.ssh));
    for (const dup of duplicates(servers.map((s) => String(s.id)))) {
        problems.push(`${p}: server id ${dup} is used more than once; ids must be unique.`);
    }
    for (const dup of duplicates(servers.map((s) => s.address ?? s.host))) {
        problems.push(
            `${p}: address "${dup}" is used by more than one server; addresses must be unique.`,
        );
    }
    const ports: [string, number][] = [
        args.tls?.enabled
            ? ["tls.secureClientPort", args.tls.secureClientPort ?? 2281]
            : ["clientPort", args.clientPort ?? 2181],
        ["peerPort", args.peerPort ?? 2888],
        ["electionPort", args.electionPort ?? 3888],
    ];
    if (args.adminServer === "localhost") {
        ports.push(["adminPort", args.adminPort ?? 8080]);
    }
    for (const [field, value] of ports) {
        if (!isPort(value)) {
            problems.push(`${p}: ${field} is ${value}; use a port from 1 to 65535.`);
        }
    }
    for (const dup of duplicates(ports.map(([, v]) => String(v)))) {
        const fields = ports.filter(([, v]) => String(v) === dup).map(([f]) => f);
        problems.push(`${p}: ${fields.join(" and ")} are both ${dup}; each port must be distinct.`);
    }
    const install = args.install ?? {};
    const method = install.method ?? "distro";
    if (method !== "distro" && method !== "tarball") {
        problems.push(`${p}: install.method is "${method}"; use "distro" or "tarball".`);
    }
    problems.push(
        ...ruleProblem(`${p}: install.version`, rules.releaseVersion, install.version),
        ...ruleProblem(`${p}: install.url`, rules.url, install.url),
        ...ruleProblem(`${p}: install.javaPackage`, rules.debianPackage, install.javaPackage),
        ...ruleProblem(`${p}: dataDir`, rules.hostPath, args.dataDir),
        ...ruleProblem(`${p}: dataLogDir`, rules.hostPath, args.dataLogDir),
        ...ruleProblem(`${p}: jvmFlags`, rules.jvmFlags, args.jvmFlags),
        ...(args.fourLetterWords ?? []).flatMap((w) =>
            ruleProblem(`${p}: fourLetterWords`, rules.fourLetterWord, w),
        ),
    );
    if (method === "tarball") {
        if (!install.sha512 || !/^[0-9a-fA-F]{128}$/.test(install.sha512)) {
            problems.push(
                `${p}: install.sha512 is ${install.sha512 === undefined ? "missing" : `"${install.sha512}"`}; the tarball method needs the tarball's sha512 (128 hex digits).`,
            );
        }
        if (!install.url) {
            problems.push(
                `${p}: install.url is missing; the tarball method needs the tarball's URL.`,
            );
        }
        if (!install.version) {
            problems.push(
                `${p}: install.version is missing; the tarball method needs the version.`,
            );
        }
    }
    if (args.dynamicReconfig && !authOn(args)) {
        problems.push(
            `${p}: dynamicReconfig is on and auth.enabled is not; ZooKeeper lets only the super user reconfigure, so turn auth on.`,
        );
    }
    if (args.dynamicReconfig && args.tls?.enabled) {
        problems.push(
            `${p}: dynamicReconfig and tls.enabled are both on; this release reconfigures over the plain client port only, so turn one of them off.`,
        );
    }
    problems.push(...firewallProblems(p, args), ...userProblems(p, args.users ?? []));
    const words = args.fourLetterWords ?? ["srvr", "mntr", "ruok"];
    for (const needed of ["srvr", "mntr"]) {
        if (!words.includes(needed)) {
            problems.push(
                `${p}: fourLetterWords lacks "${needed}"; the health check needs srvr and mntr.`,
            );
        }
    }
    problems.push(
        ...wholeNumberProblems(p, [
            ["tickTime", args.tickTime, 1],
            ["initLimit", args.initLimit, 1],
            ["syncLimit", args.syncLimit, 1],
            ["heapMb", args.heapMb, 16],
            ["readyTimeoutSeconds", args.readyTimeoutSeconds, 1],
            ["tls.rotation", args.tls?.rotation, 0],
        ]),
    );
    if (args.backup) {
        problems.push(...backupProblems((field) => `${p}: backup.${field}`, args.backup));
    }
    throwIfAny(problems);
}

/** Whether the ensemble has a super user: `auth.enabled`, on unless turned off. */
export function authOn(args: Pick<ZooKeeperEnsembleArgs, "auth">): boolean {
    return args.auth?.enabled ?? true;
}

const USER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const ZNODE_PATH = /^(\/[A-Za-z0-9._-]+)+$/;

/** Users' names and paths reach a ZooKeeper command line and ACLs: plain names only. */
function userProblems(p: string, users: ZooKeeperUserArgs[]): string[] {
    const problems: string[] = [];
    for (const u of users) {
        const at = `${p}: users "${u.name}"`;
        if (typeof u.name !== "string" || !USER_NAME.test(u.name)) {
            problems.push(
                `${p}: users has the name ${JSON.stringify(u.name)}; use a letter, then up to 31 letters, digits, '_' or '-'.`,
            );
        } else if (u.name === "super") {
            problems.push(
                `${at} is the ensemble's own super user, which only the ensemble's steps use; give the platform's user a name of its own, such as "registrar".`,
            );
        }
        if (!Array.isArray(u.paths) || u.paths.length === 0) {
            problems.push(`${at} owns no paths; give at least one, such as "/services".`);
        }
        for (const path of Array.isArray(u.paths) ? u.paths : []) {
            const segments = typeof path === "string" ? path.split("/").slice(1) : [];
            if (
                typeof path !== "string" ||
                !ZNODE_PATH.test(path) ||
                segments.some((x) => x === "." || x === "..")
            ) {
                problems.push(
                    `${at} has the path ${JSON.stringify(path)}; use an absolute ZooKeeper path of names made of letters, digits, '.', '_' and '-', such as "/services".`,
                );
            } else if (path === "/zookeeper" || path.startsWith("/zookeeper/")) {
                problems.push(
                    `${at} has the path "${path}", which is ZooKeeper's own; use another path.`,
                );
            }
        }
    }
    for (const dup of duplicates(users.map((u) => u.name))) {
        problems.push(`${p}: users "${dup}" is declared more than once; names must be unique.`);
    }
    const owners = new Map<string, string>();
    for (const u of users) {
        for (const path of Array.isArray(u.paths) ? u.paths : []) {
            for (const [other, owner] of owners) {
                const nested =
                    other === path || other.startsWith(`${path}/`) || path.startsWith(`${other}/`);
                if (nested && owner !== u.name) {
                    problems.push(
                        `${p}: users "${owner}" and "${u.name}" both own "${other === path || other.startsWith(`${path}/`) ? other : path}"; a znode has one owner.`,
                    );
                }
            }
            owners.set(path, u.name);
        }
    }
    return problems;
}

/** The firewall's rules are per IPv4 address: the servers', the members', the client networks'. */
function firewallProblems(p: string, args: ZooKeeperEnsembleArgs): string[] {
    const firewall = args.firewall;
    if (!firewall) return [];
    const problems: string[] = [];
    for (const s of args.servers ?? []) {
        const address = s.address ?? s.host;
        if (!net.isIPv4(address)) {
            problems.push(
                `${p}: server ${s.id} has address "${address}"; the firewall admits servers by IPv4 address, so give one as address.`,
            );
        }
    }
    for (const address of firewall.members) {
        if (!net.isIPv4(address)) {
            problems.push(`${p}: firewall.members "${address}" is not an IPv4 address.`);
        }
    }
    for (const network of firewall.clientNetworks ?? []) {
        if (!isIPv4Network(network)) {
            problems.push(
                `${p}: firewall.clientNetworks "${network}" is not an IPv4 network; write it as ADDRESS/BITS (10.1.0.0/16, 192.0.2.7/32).`,
            );
        }
    }
    const ids = new Set((args.servers ?? []).map((s) => s.id));
    for (const id of firewall.servers ?? []) {
        if (!ids.has(id)) {
            problems.push(`${p}: firewall.servers names ${id}, which is not a server's id.`);
        }
    }
    problems.push(...sharedFirewallProblems(p, firewall));
    return problems;
}

/**
 * The firewall step's parameters, the same on every server that gets the rules: the cluster's
 * firewall with the servers and `members` as its members (the swarm's ports are closed to the
 * others too, as on the cluster's nodes; nothing listens there).
 */
export function zooKeeperFirewallParameters(args: ZooKeeperEnsembleArgs): Record<string, string> {
    const firewall = args.firewall!;
    const servers = sortById(args.servers).map((s) => s.address ?? s.host);
    return firewallParameters(
        {
            confirmSeconds: firewall.confirmSeconds,
            zooKeeper: {
                servers: [...new Set([...servers, ...(firewall.leaving ?? [])])],
                clientPort: clientPortOf(args),
                peerPort: args.peerPort ?? 2888,
                electionPort: args.electionPort ?? 3888,
                clientNetworks: firewall.clientNetworks,
            },
        },
        [...servers, ...firewall.members],
        String(SWARM_PORTS.management),
        SWARM_PORTS.dataPath,
    );
}

/**
 * zoo.cfg for the ensemble: the same text on every server. With dynamicReconfig the server list is
 * not in it: it lives in the dynamic file ZooKeeper rewrites ({@link renderMembers}).
 */
export function renderZooCfg(args: ZooKeeperEnsembleArgs): string {
    const dataDir = args.dataDir ?? "/var/lib/zookeeper";
    const lines = [
        "# Written by the swarm-ha ZooKeeperEnsemble; changes roll out one server at a time.",
        `tickTime=${args.tickTime ?? ZOOKEEPER_DEFAULTS.tickTime}`,
        `initLimit=${args.initLimit ?? 10}`,
        `syncLimit=${args.syncLimit ?? 5}`,
        `dataDir=${dataDir}`,
        `dataLogDir=${args.dataLogDir ?? dataDir}`,
        ...(args.tls?.enabled ? renderTlsCfg(args.tls) : [`clientPort=${args.clientPort ?? 2181}`]),
        `4lw.commands.whitelist=${(args.fourLetterWords ?? ["srvr", "mntr", "ruok"]).join(",")}`,
    ];
    if ((args.adminServer ?? "off") === "off") {
        lines.push("admin.enableServer=false");
    } else {
        lines.push(
            "admin.enableServer=true",
            "admin.serverAddress=127.0.0.1",
            `admin.serverPort=${args.adminPort ?? 8080}`,
        );
    }
    lines.push(
        `autopurge.snapRetainCount=${args.autopurge?.snapRetainCount ?? 3}`,
        `autopurge.purgeInterval=${args.autopurge?.purgeIntervalHours ?? 24}`,
    );
    if (args.dynamicReconfig) {
        lines.push("reconfigEnabled=true", "standaloneEnabled=false");
    } else {
        lines.push(...renderMembers(args, false));
    }
    return lines.map(propertyLine).join("\n");
}

/**
 * A `key=value` line as Java's Properties (which ZooKeeper reads zoo.cfg with) must be written for
 * the value to stay one value: a backslash, a line break or any control or non-ASCII character in
 * it escaped (`\n`, `\uXXXX`), so that no value can start another key. Valid settings hold none,
 * so their lines are unchanged; comments pass as they are. Keys are the component's own.
 */
export function propertyLine(line: string): string {
    if (line.startsWith("#")) return line;
    const at = line.indexOf("=");
    const key = line.slice(0, at);
    if (at < 1 || !/^[A-Za-z0-9._]+$/.test(key)) {
        throw new Error(`swarm-ha: zoo.cfg line ${JSON.stringify(line)} has no valid key`);
    }
    const value = line
        .slice(at + 1)
        .replace(/[^\x20-\x7e]|\\/g, (c) =>
            c === "\\" ? "\\\\" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
        )
        .replace(/^ /, "\\ ");
    return `${key}=${value}`;
}

/**
 * zoo.cfg's TLS lines: the secure client port only, with Netty (ZooKeeper's TLS needs it), and the
 * same keystore and CA for clients and for the quorum. Clients need no certificate of their own.
 */
export function renderTlsCfg(tls: ZooKeeperTlsArgs): string[] {
    const stores = (scope: string) => [
        `${scope}.keyStore.location=${TLS_DIR}/keystore.p12`,
        `${scope}.keyStore.type=PKCS12`,
        `${scope}.keyStore.passwordPath=${TLS_DIR}/keystore.pass`,
        `${scope}.trustStore.location=${TLS_DIR}/ca.crt`,
        `${scope}.trustStore.type=PEM`,
    ];
    return [
        `secureClientPort=${tls.secureClientPort ?? 2281}`,
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
        ...stores("ssl"),
        "ssl.clientAuth=none",
        "sslQuorum=true",
        ...stores("ssl.quorum"),
    ];
}

/** The port clients use: the secure client port with TLS, else the client port. */
export function clientPortOf(args: Pick<ZooKeeperEnsembleArgs, "clientPort" | "tls">): number {
    return args.tls?.enabled ? (args.tls.secureClientPort ?? 2281) : (args.clientPort ?? 2181);
}

/**
 * The server lines, in id order: `server.N=address:peerPort:electionPort`, with the role
 * (":participant") as dynamic configuration writes it.
 */
export function renderMembers(args: ZooKeeperEnsembleArgs, dynamic: boolean): string[] {
    const role = dynamic ? ":participant" : "";
    return sortById(args.servers).map((s) =>
        propertyLine(
            `server.${s.id}=${s.address ?? s.host}:${args.peerPort ?? 2888}:${args.electionPort ?? 3888}${role}`,
        ),
    );
}

/** The client connect string: "address:port,..." in id order. */
export function connectString(args: ZooKeeperEnsembleArgs): string {
    return sortById(args.servers)
        .map((s) => `${s.address ?? s.host}:${clientPortOf(args)}`)
        .join(",");
}

/** ZooKeeper's digest of a user's password: "USER:" + base64(sha1("USER:" + password)). */
export function digestOf(user: string, password: string): string {
    return `${user}:${createHash("sha1").update(`${user}:${password}`).digest("base64")}`;
}

/** ZooKeeper's digest of the super user's password: "super:" + base64(sha1("super:" + password)). */
export function superDigest(password: string): string {
    return digestOf("super", password);
}

/**
 * What the ACL step is told in plain text: one "USER PATH" line per path owned, in the order
 * given. The digests come on stdin ({@link aclStdin}).
 */
export function renderOwnedPaths(users: ZooKeeperUserArgs[]): string {
    return users.flatMap((u) => u.paths.map((path) => `${u.name} ${path}`)).join("\n");
}

/**
 * The ACL step's stdin: the super password, then one "USER:DIGEST" line per user. A digest is as
 * good as a password to a dictionary, so it travels only here, as a secret.
 */
export function aclStdin(superPassword: string, users: [string, string][]): string {
    return [superPassword, ...users.map(([user, password]) => digestOf(user, password))].join("\n");
}

/**
 * The command that makes the ensemble's CA where Pulumi runs: an EC P-256 key and a self-signed
 * certificate valid 10 years, printed as PEM (key first). The key never touches a disk but a
 * temporary directory only this user reads, removed on exit.
 */
export function caCommand(name: string): string {
    return [
        "set -eu",
        "umask 077",
        "d=$(mktemp -d) && trap 'rm -rf \"$d\"' EXIT",
        "openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \\",
        `  -subj ${shellQuote(`/CN=swarm-ha ${name} ZooKeeper CA`)} -keyout "$d/key" -out "$d/crt" 2>/dev/null`,
        'cat "$d/key" "$d/crt"',
    ].join("\n");
}

/** The certificate (not the key) from PEM text holding both. */
export function certificateOf(pem: string): string {
    return pemBlock(pem, "CERTIFICATE", "the ZooKeeper CA command printed no certificate");
}

/**
 * The first PEM block labelled `label` in `text` (other lines and blocks skipped), with a final
 * newline; `missing` is the error's message when there is none.
 */
export function pemBlock(text: string, label: string, missing: string): string {
    const match = new RegExp(
        `-----BEGIN ${label}-----\\n[A-Za-z0-9+/=\\n]*?-----END ${label}-----`,
    ).exec(text);
    if (!match) {
        throw new Error(`swarm-ha: ${missing}`);
    }
    return `${match[0]}\n`;
}

/**
 * The certificate's subjectAltName for a server's address: an IP entry for an address of digits
 * and dots, else a DNS entry (validation lets only IPv4 addresses and host names through).
 */
export function subjectAltName(address: string): string {
    return /^[0-9.]+$/.test(address) ? `IP:${address}` : `DNS:${address}`;
}

/**
 * The command that signs a server's certificate request where Pulumi runs. On stdin: the CA's
 * output (its key, then its certificate), then the request; the CA's key is never on a command line
 * or in an environment, and only in a temporary directory this user alone reads, removed on exit.
 * The request's signature is checked, and the certificate says what the CA decides, not the
 * request: the server's address, server and client use, not a CA, 825 days. Prints the certificate.
 */
export function signCommand(id: number, address: string): string {
    const ext = [
        `subjectAltName=${subjectAltName(address)}`,
        "extendedKeyUsage=serverAuth,clientAuth",
        "basicConstraints=critical,CA:FALSE",
    ];
    return [
        "set -eu",
        "umask 077",
        "d=$(mktemp -d) && trap 'rm -rf \"$d\"' EXIT",
        'cat >"$d/in"',
        // openssl 3.0 exits 0 when the signature does not verify: its words tell.
        'v=$(openssl req -in "$d/in" -noout -verify 2>&1) || v=',
        'case $v in *"verify OK"*) ;; *)',
        `  echo ${shellQuote(`swarm-ha: the certificate request of ZooKeeper server ${id} is not a request signed by its key`)} >&2`,
        "  exit 1 ;;",
        "esac",
        `cat >"$d/ext" <<'SWARM_HA_EXT'`,
        ...ext,
        "SWARM_HA_EXT",
        // A serial file of its own: openssl's default name for it can fall outside $d.
        'openssl x509 -req -in "$d/in" -CA "$d/in" -CAkey "$d/in" -CAserial "$d/serial" \\',
        '  -CAcreateserial -days 825 -extfile "$d/ext" -out "$d/crt"',
        'cat "$d/crt"',
    ].join("\n");
}

/**
 * Runs `openssl version` where Pulumi runs: its answer, or why it did not run. The CA and the
 * signing of the servers' requests need it there.
 */
export function localOpenssl(): { version?: string; error?: string } {
    const run = spawnSync("openssl", ["version"], {
        encoding: "utf8",
        timeout: 10_000,
        env: process.env,
    });
    if (run.error) return { error: run.error.message };
    if (run.status !== 0) {
        return { error: `it exited with ${run.status ?? run.signal}: ${run.stderr.trim()}` };
    }
    return { version: run.stdout.trim() };
}

/** With TLS, the refusal when openssl does not run where Pulumi runs (`found`: localOpenssl's). */
export function localOpensslProblems(
    name: string,
    args: Pick<ZooKeeperEnsembleArgs, "tls">,
    found: { version?: string; error?: string },
): string[] {
    if (!args.tls?.enabled || found.error === undefined) return [];
    return [
        `${prefix(COMPONENT, name)}: tls.enabled is on and openssl does not run on the machine running Pulumi (${found.error}); the ensemble's CA and the signing of each server's certificate run openssl there, so install it (Debian and Ubuntu: apt-get install openssl) or put it on PATH.`,
    ];
}

/** Reads the "id address mode" lines printed by zk-ready.sh. */
export function parseEnsembleReport(stdout: string): ZooKeeperServerStatus[] {
    return stdout
        .split("\n")
        .map((line) => line.trim().split(/\s+/))
        .filter((f) => f.length === 3 && /^\d+$/.test(f[0]))
        .map(([id, address, mode]) => ({ id: Number(id), address, mode }));
}

const sha = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 16);

/** HMAC-SHA-256 of a secret keyed with a secret salt: nothing to test guesses against without it. */
export function saltedSha(salt: string, secret: string): string {
    return createHmac("sha256", salt).update(secret).digest("hex").slice(0, 16);
}

function sortById<T extends { id: number }>(items: T[]): T[] {
    return [...items].sort((a, b) => a.id - b.id);
}

/**
 * A ZooKeeper ensemble on SSH-reachable hosts (the cluster's managers, or hosts of its own):
 * installed in parallel, started as the systemd unit `zookeeper-ensemble`, ready when every server
 * serves and the leader has all followers in sync. A configuration change restarts one server at a
 * time, the leader last, waiting for the ensemble to be healthy before and after each restart. The
 * membership changes the same way, or with `dynamicReconfig` by one `reconfig -members`; a server
 * stopped by hand is found at the next preview and started by `up`.
 */
export class ZooKeeperEnsemble extends pulumi.ComponentResource {
    /** "address:port,..." for clients. */
    public readonly connectString: string;
    /** Each server's id, address and mode when the ensemble became ready. */
    public readonly servers: pulumi.Output<ZooKeeperServerStatus[]>;
    /** The super user's password with auth (secret); undefined without. */
    public readonly superPassword: pulumi.Output<string> | undefined;
    /** Each of `users`' password by name (secrets). */
    public readonly userPasswords: Record<string, pulumi.Output<string>>;
    /** With TLS, the CA's certificate (PEM) that clients check the servers' against. */
    public readonly tlsCa: pulumi.Output<string> | undefined;
    /**
     * The steps after which the ensemble serves: every server up with one leader, then its users'
     * znodes and ACLs. What uses the ensemble depends on these, not on the whole component: the
     * probe and its heal steps after them need not be waited for.
     */
    get serving(): pulumi.Input<pulumi.Resource[]> {
        return ensembleInternals.get(this)!.serving;
    }

    constructor(name: string, args: ZooKeeperEnsembleArgs, opts?: ZooKeeperEnsembleOptions) {
        super("swarm-ha:index:ZooKeeperEnsemble", name, {}, opts);
        validateZooKeeperArgs(name, args);
        // At preview too, before any child: TLS's CA and signing run openssl where Pulumi runs.
        if (args.tls?.enabled) throwIfAny(localOpensslProblems(name, args, localOpenssl()));

        // Each server's host key and a login with the ensemble's key, before any child: a refusal
        // leaves nothing registered and is the run's error, once (see SwarmCluster's).
        const at = prefix(COMPONENT, name);
        const hosts = serverHosts(args);
        const skipped = args.checkHosts !== false && unaskedReason(hosts, args.ssh.privateKey);
        if (skipped) {
            pulumi.log.info(
                `${at}: the hosts are not asked before the run (${skipped}): no login check.`,
                this,
            );
        }
        const asked =
            args.checkHosts !== false && !skipped
                ? askHosts(
                      at,
                      hosts,
                      args.ssh.privateKey,
                      () => [],
                      async () => undefined,
                  )
                : undefined;
        const children = new Children(asked, () => buildEnsemble(this, name, args, opts?.after));
        const part = <T>(pick: (p: EnsembleParts) => pulumi.Output<T>) => children.output(pick);
        this.superPassword = authOn(args)
            ? pulumi.secret(part((p) => p.secrets.superPassword!))
            : undefined;
        this.userPasswords = Object.fromEntries(
            (args.users ?? []).map((u) => [
                u.name,
                pulumi.secret(part((p) => p.secrets.userPasswords[u.name])),
            ]),
        );
        this.tlsCa = args.tls?.enabled ? part((p) => p.secrets.tlsCa!) : undefined;
        this.servers = part((p) => p.servers);
        ensembleInternals.set(this, {
            built: children.done,
            serving: children.resources((p) => p.serving),
        });
        this.connectString = connectString(args);

        this.registerOutputs({
            connectString: this.connectString,
            servers: this.servers,
            superPassword: this.superPassword,
            userPasswords: this.userPasswords,
            tlsCa: this.tlsCa,
        });
    }

    /**
     * Resolves once every child is registered, so that `dependsOn: [ensemble]` waits for all of
     * them (see SwarmCluster's).
     */
    protected async initialize(): Promise<unknown> {
        await Promise.resolve();
        // Nothing kept when the constructor refused its arguments.
        return ensembleInternals.get(this)?.built;
    }
}

/**
 * What an ensemble keeps for the program that composes it and out of its outputs (and so of the
 * package's schema): its children's registration, after the ensemble's own checks when it asks its
 * hosts, and the steps after which it serves.
 */
const ensembleInternals = new WeakMap<
    ZooKeeperEnsemble,
    { built: Promise<unknown>; serving: pulumi.Input<pulumi.Resource[]> }
>();

/** The servers' hosts, once each, as the ensemble's checks ask them. */
function serverHosts(args: ZooKeeperEnsembleArgs): ComponentHost[] {
    const byHost = new Map<string, ComponentHost>();
    for (const s of [...args.servers].sort((a, b) => a.id - b.id)) {
        if (!byHost.has(s.host)) {
            byHost.set(s.host, {
                node: `zookeeper-${s.id}`,
                host: s.host,
                ssh: resolveSsh(args.ssh, s.ssh),
            });
        }
    }
    return [...byHost.values()];
}

/** What the ensemble's steps give its outputs. */
interface EnsembleParts {
    secrets: EnsembleSecrets;
    servers: pulumi.Output<ZooKeeperServerStatus[]>;
    serving: pulumi.Resource[];
}

/** The ensemble's steps, in order: every child. */
function buildEnsemble(
    owner: ZooKeeperEnsemble,
    name: string,
    args: ZooKeeperEnsembleArgs,
    after: pulumi.Resource[] | undefined,
): EnsembleParts {
    const plan = planEnsemble(owner, name, args, after);
    const secrets = makeSecrets(plan);
    const installs = installServers(plan);
    const prepared = issueCertificates(plan, installs, secrets);
    const config = serverConfig(plan, installs, configHashOf(plan, secrets));
    const backup = backUp(plan, installs, config.configHash);
    if (backup) {
        for (const waits of prepared.values()) waits.push(backup);
    }
    const started = startNewServers(plan, prepared, config, secrets);
    const configured = rollServers(plan, started, config, secrets);
    const finished = finishRoll(plan, configured, config, secrets);
    const reconfigured = reconfigureMembers(plan, finished, config, secrets);
    const ready = waitServing(plan, reconfigured, config);
    const acl = grantUserAcls(plan, ready, config, secrets);
    healServers(plan, ready);
    return {
        secrets,
        servers: ready.stdout.apply(parseEnsembleReport),
        serving: acl ? [ready, acl] : [ready],
    };
}

/** What every step of an ensemble reads, worked out once from its arguments. */
interface EnsemblePlan {
    owner: ZooKeeperEnsemble;
    name: string;
    args: ZooKeeperEnsembleArgs;
    /** What the steps on the hosts wait for (ZooKeeperEnsembleOptions' `after`). */
    after: pulumi.Resource[] | undefined;
    /** The servers by id; the first runs the ensemble-wide steps. */
    servers: ZooKeeperServerArgs[];
    first: ZooKeeperServerArgs;
    dir: string;
    dataDir: string;
    dataLogDir: string;
    clientPort: string;
    tlsOn: boolean;
    rotation: string;
    zooCfg: string;
    members: string;
    serverLines: string;
    dynamic: string;
    /** The parameters of every step that checks the ensemble's health (zk-health.sh). */
    health: Record<string, string>;
    base: (s: ZooKeeperServerArgs) => Record<string, string>;
    connection: (s: ZooKeeperServerArgs) => types.remote.ConnectionArgs;
}

function planEnsemble(
    owner: ZooKeeperEnsemble,
    name: string,
    args: ZooKeeperEnsembleArgs,
    after: pulumi.Resource[] | undefined,
): EnsemblePlan {
    const servers = sortById(args.servers);
    const dataDir = args.dataDir ?? "/var/lib/zookeeper";
    const clientPort = String(clientPortOf(args));
    const tlsOn = args.tls?.enabled ?? false;
    const serverLines = servers.map((s) => `${s.id} ${s.address ?? s.host}`).join("\n");
    const dynamic = String(args.dynamicReconfig ?? false);
    const attempts = String(
        Math.max(1, Math.ceil((args.readyTimeoutSeconds ?? 180) / HEALTH_INTERVAL_SECONDS)),
    );
    return {
        owner,
        name,
        args,
        after,
        servers,
        first: servers[0],
        dir: scriptsDir(name),
        dataDir,
        dataLogDir: args.dataLogDir ?? dataDir,
        clientPort,
        tlsOn,
        rotation: String(args.tls?.rotation ?? 0),
        zooCfg: renderZooCfg(args),
        members: renderMembers(args, true).join("\n"),
        serverLines,
        dynamic,
        health: {
            SERVERS: serverLines,
            CLIENT_PORT: clientPort,
            ATTEMPTS: attempts,
            DYNAMIC: dynamic,
            TLS_CA: tlsOn ? `${TLS_DIR}/ca.crt` : "",
        },
        base: (s) => ({ NODE: `zookeeper-${s.id}`, HOST: s.host }),
        connection: (s) => connectionFor(s.host, resolveSsh(args.ssh, s.ssh)),
    };
}

/** The ensemble's secrets: the super user's, its users', the configuration's salt, TLS's. */
interface EnsembleSecrets {
    superPassword: pulumi.Output<string> | undefined;
    /** The super password's digest, which the servers get on stdin. */
    digest: pulumi.Output<string> | undefined;
    userPasswords: Record<string, pulumi.Output<string>>;
    salt: pulumi.Output<string> | undefined;
    tls: { ca: pulumi.Output<string>; password: pulumi.Output<string> } | undefined;
    tlsCa: pulumi.Output<string> | undefined;
}

/**
 * 0. The secrets. Auth: the password (given or generated) stays secret; servers get its digest on
 *    stdin. The platform's users: a generated password each, secret. A salt that only state holds
 *    (as a secret): the configuration's hash, plain text in the steps and on the hosts, covers the
 *    super digest without letting a dictionary test it. TLS: the CA is made where Pulumi runs, its
 *    key kept only in state, as a secret; the keystores' password is generated anew with each
 *    rotation. The CA's inputs never change: an update runs its command again, which would make a
 *    new CA.
 */
function makeSecrets(plan: EnsemblePlan): EnsembleSecrets {
    const { args, name, owner } = plan;
    const secrets: EnsembleSecrets = {
        superPassword: undefined,
        digest: undefined,
        userPasswords: {},
        salt: undefined,
        tls: undefined,
        tlsCa: undefined,
    };
    if (authOn(args)) {
        const password =
            args.auth?.superPassword !== undefined
                ? pulumi.secret(args.auth.superPassword)
                : new random.RandomPassword(
                      `${name}-super-password`,
                      { length: 32, special: false },
                      { parent: owner },
                  ).result;
        secrets.superPassword = pulumi.secret(password);
        secrets.digest = pulumi.secret(pulumi.output(password).apply(superDigest));
    }
    secrets.userPasswords = Object.fromEntries(
        (args.users ?? []).map((u) => [
            u.name,
            pulumi.secret(
                new random.RandomPassword(
                    `${name}-user-${u.name}`,
                    { length: 32, special: false },
                    { parent: owner },
                ).result,
            ),
        ]),
    );
    if (secrets.digest) {
        secrets.salt = new random.RandomPassword(
            `${name}-config-salt`,
            { length: 32, special: false },
            { parent: owner },
        ).result;
    }
    if (plan.tlsOn) {
        const ca = new command.local.Command(
            `${name}-tls-ca`,
            { create: caCommand(name), logging: "none" },
            { parent: owner, additionalSecretOutputs: ["stdout"] },
        );
        secrets.tls = {
            ca: ca.stdout,
            password: new random.RandomPassword(
                `${name}-keystore-password`,
                { length: 32, special: false, keepers: { rotation: plan.rotation } },
                { parent: owner },
            ).result,
        };
        secrets.tlsCa = pulumi.unsecret(ca.stdout.apply(certificateOf));
    }
    return secrets;
}

/** What a server runs: a change here restarts the servers, one at a time. */
function configHashOf(plan: EnsemblePlan, secrets: EnsembleSecrets): pulumi.Output<string> {
    const { args } = plan;
    const tlsIdentity = secrets.tlsCa
        ? secrets.tlsCa.apply((crt) => `tls ${plan.rotation} ${sha(crt)}`)
        : pulumi.output("");
    return pulumi.unsecret(
        pulumi
            .all([secrets.digest ?? "", secrets.salt ?? "", tlsIdentity])
            .apply(([d, k, t]) =>
                sha(
                    [
                        plan.zooCfg,
                        args.heapMb ?? ZOOKEEPER_DEFAULTS.heapMb,
                        args.jvmFlags ?? "",
                        d ? saltedSha(k, d) : sha(d),
                    ]
                        .concat(t ? [t] : [])
                        .join("\n"),
                ),
            ),
    );
}

/**
 * 1. Install on every server in parallel, once the scripts are placed; the packages stay when the
 *    ensemble goes. With a firewall, a server's rules come first, confirmed by a new SSH
 *    connection.
 */
function installServers(plan: EnsemblePlan): Map<number, command.remote.Command> {
    const { args, name, dir, owner, after } = plan;
    const install = args.install ?? {};
    const installs = new Map<number, command.remote.Command>();
    const guarded = new Set(args.firewall?.servers ?? plan.servers.map((s) => s.id));
    const firewallParams = args.firewall && zooKeeperFirewallParameters(args);
    for (const s of plan.servers) {
        const scripts = placeScripts(`${name}-scripts-${s.id}`, plan.connection(s), dir, owner, {
            after,
        });
        const ready =
            firewallParams && guarded.has(s.id)
                ? firewallSteps(
                      name,
                      String(s.id),
                      plan.connection(s),
                      dir,
                      plan.base(s),
                      firewallParams,
                      { parent: owner, after: scripts },
                  )
                : scripts;
        installs.set(
            s.id,
            remoteStep(
                `${name}-install-${s.id}`,
                {
                    connection: plan.connection(s),
                    create: stepCommand(dir, "zk-install", {
                        ...plan.base(s),
                        METHOD: install.method ?? "distro",
                        URL: install.url ?? "",
                        SHA512: install.sha512 ?? "",
                        VERSION: install.version ?? "",
                        JAVA_PACKAGE: install.javaPackage ?? "default-jre-headless",
                        DATA_DIR: plan.dataDir,
                        DATA_LOG_DIR: plan.dataLogDir,
                        DYNAMIC: plan.dynamic,
                        TLS: String(plan.tlsOn),
                    }),
                },
                { parent: owner, dependsOn: [ready] },
            ),
        );
    }
    return installs;
}

/**
 * 1b. With TLS, each server's key and certificate request, made on the server (the key never
 *     leaves it); the request signed by the CA where Pulumi runs (the CA's key on stdin there,
 *     never on a host); then the keystore, built on the server from its key and the certificate
 *     (the password and the certificates on stdin). A rotation makes a new key, a new CA or address
 *     signs again; a re-run keeps the key and signs nothing. Returns what each server's start waits
 *     for.
 */
function issueCertificates(
    plan: EnsemblePlan,
    installs: Map<number, command.remote.Command>,
    secrets: EnsembleSecrets,
): Map<number, command.remote.Command[]> {
    const { name, dir, owner, rotation } = plan;
    const { tls, tlsCa } = secrets;
    const prepared = new Map<number, command.remote.Command[]>();
    for (const s of plan.servers) {
        const install = installs.get(s.id)!;
        if (!tls || !tlsCa) {
            prepared.set(s.id, [install]);
            continue;
        }
        const address = s.address ?? s.host;
        const request = remoteStep(
            `${name}-tls-request-${s.id}`,
            {
                connection: plan.connection(s),
                create: stepCommand(dir, "zk-tls-request", {
                    ...plan.base(s),
                    MYID: String(s.id),
                    TLS_DIR,
                    ROTATION: rotation,
                }),
            },
            { parent: owner, dependsOn: [install] },
        );
        const csr = request.stdout.apply((out) =>
            pemBlock(
                out,
                "CERTIFICATE REQUEST",
                `server ${s.id}'s request step printed no certificate request`,
            ),
        );
        const signed = new command.local.Command(
            `${name}-tls-sign-${s.id}`,
            {
                create: signCommand(s.id, address),
                stdin: pulumi.secret(pulumi.interpolate`${tls.ca}\n${csr}`),
                logging: "none",
                addPreviousOutputInEnv: false,
            },
            { parent: owner, dependsOn: [request], additionalSecretOutputs: ["stdin"] },
        );
        // The certificate is public: the diff shows it, the server gets it on stdin.
        const certificate = pulumi.unsecret(
            signed.stdout.apply((out) =>
                pemBlock(
                    out,
                    "CERTIFICATE",
                    `signing server ${s.id}'s request printed no certificate`,
                ),
            ),
        );
        const issued = remoteStep(
            `${name}-tls-${s.id}`,
            {
                connection: plan.connection(s),
                create: stepCommandOutput(dir, "zk-tls", {
                    ...plan.base(s),
                    MYID: String(s.id),
                    TLS_DIR,
                    ROTATION: rotation,
                    CA_SHA256: tlsCa.apply(sha),
                    CERT_SHA256: certificate.apply(sha),
                }),
                stdin: pulumi.secret(pulumi.interpolate`${tls.password}\n${certificate}${tlsCa}`),
            },
            { parent: owner, dependsOn: [request, signed], additionalSecretOutputs: ["stdin"] },
        );
        prepared.set(s.id, [install, issued]);
    }
    return prepared;
}

/** Each server's Java classpath (from its install) and its configuration step's command. */
interface ServerConfig {
    configHash: pulumi.Output<string>;
    classpath: (s: ZooKeeperServerArgs) => pulumi.Output<string>;
    command: (s: ZooKeeperServerArgs, phase: "start" | "roll") => pulumi.Output<string>;
}

function serverConfig(
    plan: EnsemblePlan,
    installs: Map<number, command.remote.Command>,
    configHash: pulumi.Output<string>,
): ServerConfig {
    const { args } = plan;
    const classpath = (s: ZooKeeperServerArgs): pulumi.Output<string> =>
        installs.get(s.id)!.stdout.apply((out) => /^classpath=(.*)$/m.exec(out)?.[1] ?? "");
    return {
        configHash,
        classpath,
        command: (s, phase) =>
            stepCommandOutput(
                plan.dir,
                "zk-config",
                {
                    ...plan.base(s),
                    ...plan.health,
                    MYID: String(s.id),
                    DATA_DIR: plan.dataDir,
                    ZOO_CFG: plan.zooCfg,
                    MEMBERS: plan.members,
                    CLASSPATH_ZK: classpath(s),
                    HEAP_MB: String(args.heapMb ?? ZOOKEEPER_DEFAULTS.heapMb),
                    JVM_FLAGS: args.jvmFlags ?? "",
                    CONFIG_HASH: configHash,
                    DEFER_LEADER: "true",
                    PHASE: phase,
                },
                ["zk-health"],
            ),
    };
}

/**
 * 1d. Backups, with `backup`: the timer on every server (each backs up its own data); and a backup
 *     taken in this run on the first server before any server starts, rolls or is removed, whenever
 *     the configuration or the list of servers changes (both are its triggers).
 */
function backUp(
    plan: EnsemblePlan,
    installs: Map<number, command.remote.Command>,
    configHash: pulumi.Output<string>,
): command.remote.Command | undefined {
    const { args, dir, owner, name } = plan;
    if (!args.backup) return undefined;
    const target = args.backup.target ?? BACKUP_DEFAULTS.target;
    const params = (s: ZooKeeperServerArgs) => ({
        ...plan.base(s),
        MYID: String(s.id),
        DATA_DIR: plan.dataDir,
        DATA_LOG_DIR: plan.dataLogDir,
        TARGET: target,
        KEEP: String(args.backup!.keep ?? BACKUP_DEFAULTS.keep),
    });
    const schedule = args.backup.schedule ?? BACKUP_DEFAULTS.schedule;
    for (const s of plan.servers) {
        const units = backupUnits("zookeeper", dir, name, params(s), schedule);
        const unitParams = {
            ...plan.base(s),
            UNIT: units.unit,
            SCHEDULE: schedule,
            SERVICE_UNIT: units.service,
            TIMER_UNIT: units.timer,
        };
        remoteStep(
            `${name}-backup-schedule-${s.id}`,
            {
                connection: plan.connection(s),
                create: stepCommand(dir, "backup-schedule", unitParams),
                delete: stepCommand(dir, "backup-schedule", { ...unitParams, REMOVE: "yes" }),
            },
            { parent: owner, dependsOn: [installs.get(s.id)!] },
        );
    }
    return remoteStep(
        `${name}-backup`,
        {
            connection: plan.connection(plan.first),
            create: stepCommand(dir, "zk-backup", { ...params(plan.first), REASON: "change" }, [
                "backups",
            ]),
            triggers: [configHash, plan.serverLines],
        },
        { parent: owner, dependsOn: [installs.get(plan.first.id)!] },
    );
}

/**
 * 2. Start: every server that is not running yet (a new one) starts at once with the new list, so
 *    that it follows the current leader before the others count it.
 */
function startNewServers(
    plan: EnsemblePlan,
    prepared: Map<number, command.remote.Command[]>,
    config: ServerConfig,
    secrets: EnsembleSecrets,
): command.remote.Command[] {
    return plan.servers.map((s) =>
        remoteStep(
            `${plan.name}-start-${s.id}`,
            {
                connection: plan.connection(s),
                create: config.command(s, "start"),
                stdin: secrets.digest ?? "",
            },
            {
                parent: plan.owner,
                dependsOn: prepared.get(s.id)!,
                additionalSecretOutputs: ["stdin"],
            },
        ),
    );
}

/**
 * 3. Roll: one running server at a time in id order; each restarts only when the ensemble is
 *    healthy and waits for it to be healthy again; the leader defers to the finish. Deleting one
 *    (a server taken out) stops it, after the others run the new list.
 */
function rollServers(
    plan: EnsemblePlan,
    started: command.remote.Command[],
    config: ServerConfig,
    secrets: EnsembleSecrets,
): command.remote.Command[] {
    const configured: command.remote.Command[] = [];
    for (const s of plan.servers) {
        const previous = configured[configured.length - 1];
        configured.push(
            remoteStep(
                `${plan.name}-server-${s.id}`,
                {
                    connection: plan.connection(s),
                    create: config.command(s, "roll"),
                    delete: stepCommand(plan.dir, "zk-remove", {
                        ...plan.base(s),
                        DATA_DIR: plan.dataDir,
                        DATA_LOG_DIR: plan.dataLogDir,
                        PURGE: String(plan.args.purgeOnDelete ?? false),
                    }),
                    stdin: secrets.digest ?? "",
                },
                {
                    parent: plan.owner,
                    dependsOn: previous ? [...started, previous] : started,
                    additionalSecretOutputs: ["stdin"],
                },
            ),
        );
    }
    return configured;
}

/**
 * 4. Finish: a server still on the old configuration (the leader) restarts last. With dynamic
 *    reconfiguration it first reconfigures itself out, handing the lead to a synced follower, and
 *    is added back after its restart (as the super user, password on stdin).
 */
function finishRoll(
    plan: EnsemblePlan,
    configured: command.remote.Command[],
    config: ServerConfig,
    secrets: EnsembleSecrets,
): command.remote.Command[] {
    const finished: command.remote.Command[] = [];
    for (const s of plan.servers) {
        const previous = finished[finished.length - 1];
        finished.push(
            remoteStep(
                `${plan.name}-finish-${s.id}`,
                {
                    connection: plan.connection(s),
                    create: stepCommandOutput(
                        plan.dir,
                        "zk-finish",
                        {
                            ...plan.base(s),
                            ...plan.health,
                            MYID: String(s.id),
                            CONFIG_HASH: config.configHash,
                            CLASSPATH_ZK: config.classpath(s),
                        },
                        ["zk-health"],
                    ),
                    stdin: plan.args.dynamicReconfig ? secrets.superPassword! : "",
                },
                {
                    parent: plan.owner,
                    dependsOn: previous ? [...configured, previous] : configured,
                    additionalSecretOutputs: ["stdin"],
                },
            ),
        );
    }
    return finished;
}

/**
 * 5. With dynamic reconfiguration: the ensemble's membership becomes the list, from a server of
 *    it, as the super user (the password on stdin); added servers already follow. Returns what
 *    the ready check waits for.
 */
function reconfigureMembers(
    plan: EnsemblePlan,
    finished: command.remote.Command[],
    config: ServerConfig,
    secrets: EnsembleSecrets,
): command.remote.Command[] {
    if (!plan.args.dynamicReconfig) return finished;
    const { first } = plan;
    return [
        remoteStep(
            `${plan.name}-members`,
            {
                connection: plan.connection(first),
                create: stepCommandOutput(
                    plan.dir,
                    "zk-members",
                    {
                        ...plan.base(first),
                        ...plan.health,
                        MEMBERS: plan.members,
                        CLASSPATH_ZK: config.classpath(first),
                    },
                    ["zk-health"],
                ),
                stdin: secrets.superPassword!,
            },
            { parent: plan.owner, dependsOn: finished, additionalSecretOutputs: ["stdin"] },
        ),
    ];
}

/** 6. Ready: every server serving, one leader, all followers in sync. */
function waitServing(
    plan: EnsemblePlan,
    reconfigured: command.remote.Command[],
    config: ServerConfig,
): command.remote.Command {
    const { first } = plan;
    return remoteStep(
        `${plan.name}-ready`,
        {
            connection: plan.connection(first),
            create: stepCommandOutput(
                plan.dir,
                "zk-ready",
                { ...plan.base(first), ...plan.health, CONFIG_HASH: config.configHash },
                ["zk-health"],
            ),
        },
        { parent: plan.owner, dependsOn: reconfigured },
    );
}

/**
 * 6b. With auth and users: each user's znodes made and given its ACL, as the super user (its
 *     password and the users' digests on stdin); a new password runs it again.
 */
function grantUserAcls(
    plan: EnsemblePlan,
    ready: command.remote.Command,
    config: ServerConfig,
    secrets: EnsembleSecrets,
): command.remote.Command | undefined {
    const users = plan.args.users ?? [];
    const superPassword = secrets.superPassword;
    if (!superPassword || users.length === 0) return undefined;
    const { first } = plan;
    const passwords = users.map((u) => secrets.userPasswords[u.name]);
    return remoteStep(
        `${plan.name}-acl`,
        {
            connection: plan.connection(first),
            create: stepCommandOutput(
                plan.dir,
                "zk-acl",
                {
                    ...plan.base(first),
                    ...plan.health,
                    ADDRESS: first.address ?? first.host,
                    OWNED: renderOwnedPaths(users),
                    CLASSPATH_ZK: config.classpath(first),
                },
                ["zk-health"],
            ),
            stdin: pulumi.secret(
                pulumi.all([superPassword, ...passwords]).apply(([password, ...rest]) =>
                    aclStdin(
                        password,
                        users.map((u, i): [string, string] => [u.name, rest[i]]),
                    ),
                ),
            ),
        },
        { parent: plan.owner, dependsOn: [ready], additionalSecretOutputs: ["stdin"] },
    );
}

/**
 * 7. Heal: at every preview and up the probe asks each server `srvr`, over SSH from the first
 *    server's host that answers; when one answers nothing (stopped by hand), its generation grows
 *    and each server's heal step runs once, starting a stopped server.
 */
function healServers(plan: EnsemblePlan, ready: command.remote.Command): void {
    const { args, servers, name, owner } = plan;
    const repairing = servers
        .filter((s) => args.repairing?.includes(s.id))
        .map((s) => `${s.id} ${s.address ?? s.host}`);
    const probe = new ZooKeeperProbe(
        `${name}-serving`,
        {
            servers: plan.serverLines.split("\n"),
            clientPort: Number(plan.clientPort),
            via: pulumi.all(
                servers.map((s) => {
                    const ssh = resolveSsh(args.ssh, s.ssh);
                    return pulumi.output(ssh.hostKey).apply((hostKey) => ({
                        host: s.host,
                        port: ssh.port,
                        user: ssh.user,
                        ...(hostKey ? { hostKey } : {}),
                    }));
                }),
            ),
            privateKeys: servers.map((s) => resolveSsh(args.ssh, s.ssh).privateKey),
            script: renderScript("zk-serving", plan.health, ["zk-health"]),
            // Only when there are: an unchanged stack's probe keeps the inputs it had.
            ...(repairing.length > 0 ? { repairing } : {}),
        },
        { parent: owner, dependsOn: [ready], provider: probeHostOf(owner, name) },
    );
    for (const s of servers) {
        remoteStep(
            `${name}-heal-${s.id}`,
            {
                connection: plan.connection(s),
                create: stepCommand(
                    plan.dir,
                    "zk-heal",
                    { ...plan.base(s), ...plan.health, MYID: String(s.id) },
                    ["zk-health"],
                ),
                triggers: [probe.generation],
            },
            { parent: owner, dependsOn: [probe] },
        );
    }
}

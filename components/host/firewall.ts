// The hosts' firewall, shared by SwarmCluster and ZooKeeperEnsemble: its arguments, the parameters
// of its script (firewall.sh, the same on every host that gets the rules), its two steps (the rules,
// then their confirmation over a new SSH connection) and the checks both components make of it.
import * as net from "net";
import * as types from "@pulumi/command/types/input";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { stepCommand, stepCommandOutput } from "./remoteScript";
import { remoteStep } from "./remoteStep";
import { wholeNumberProblems } from "./validation";

/** How long the firewall's rules wait for their confirmation by default: see confirmSeconds. */
export const FIREWALL_CONFIRM_SECONDS = 120;

/** The fields both components' firewalls have, declared and checked once. */
export interface SharedFirewallArgs {
    /**
     * Seconds a change waits for a new SSH connection to confirm it before it is undone. The
     * confirmation is a step of its own, which the engine may queue behind other hosts' steps when
     * they outnumber the CLI's parallelism. Default: FIREWALL_CONFIRM_SECONDS (120).
     */
    confirmSeconds?: number;
    /**
     * Addresses (IPv4) still in the swarm or the ensemble that the stack no longer lists: they stay
     * allowed while they leave, or the swarm or the ensemble would lose them before they stop (the
     * run after that takes them out). Default: none.
     */
    leaving?: string[];
}

/** The checks of SharedFirewallArgs' fields, the same in both components. */
export function sharedFirewallProblems(p: string, firewall: SharedFirewallArgs): string[] {
    const problems: string[] = [];
    for (const address of firewall.leaving ?? []) {
        if (!net.isIPv4(address)) {
            problems.push(`${p}: firewall.leaving "${address}" is not an IPv4 address.`);
        }
    }
    problems.push(
        ...wholeNumberProblems(p, [["firewall.confirmSeconds", firewall.confirmSeconds, 5]]),
    );
    return problems;
}

/**
 * The hosts' firewall: nftables rules in a table of their own (`inet swarm_ha`) on every node, that
 * drop what is not a member's on the swarm's ports (the management port, 7946/tcp+udp, 4789/udp)
 * and, with `zooKeeper`, on the ensemble's: peer and election ports from its servers and the members
 * only (a server leaving the ensemble stays a member until it is stopped), the
 * client port from members and `clientNetworks` only; with `restricted`, those published ports from
 * members and each one's networks only, on the input path and on the forward path that Docker's
 * published ports take. Nothing else is filtered: SSH, loopback and the host's own containers never
 * are. A change is confirmed by a new SSH connection, else rolled
 * back after `confirmSeconds`; confirmed rules are loaded again at boot. Removed with the cluster.
 */
export interface SwarmFirewallArgs extends SharedFirewallArgs {
    /** The ZooKeeper ensemble on these hosts, whose ports the rules close too. Default: none. */
    zooKeeper?: FirewalledZooKeeperArgs;
    /**
     * Ports (published by services, or the engines' metrics port) that only members and `from`
     * reach; every other source is dropped, also after Docker's NAT. Default: none.
     */
    restricted?: RestrictedPortArgs[];
}

/** A ZooKeeper ensemble whose ports the swarm's firewall closes to non-members. */
export interface FirewalledZooKeeperArgs {
    /** Its servers' addresses (IPv4). */
    servers: string[];
    clientPort: number;
    peerPort: number;
    electionPort: number;
    /** Networks (IPv4 CIDR) besides the members that may reach the client port. Default: none. */
    clientNetworks?: string[];
}

/** The protocol of a port the firewall restricts. */
export const FirewallProtocol = {
    Tcp: "tcp",
    Udp: "udp",
} as const;
export type FirewallProtocol = (typeof FirewallProtocol)[keyof typeof FirewallProtocol];

/** A port the firewall opens only to the members and some networks. */
export interface RestrictedPortArgs {
    port: number;
    /** Default: "tcp". */
    protocol?: FirewallProtocol;
    /** IPv4 networks (ADDRESS/BITS) besides the members that reach it. Default: none. */
    from?: string[];
}

/** Docker Swarm's own ports, as Docker uses them unless a swarm is told others. */
export const SWARM_PORTS = { management: 2377, gossip: 7946, dataPath: 4789 } as const;

/**
 * The firewall step's parameters, the same on every host that gets the rules: `members` (IPv4
 * addresses) and those leaving reach the swarm's ports and ZooKeeper's client port.
 */
export function firewallParameters(
    firewall: SwarmFirewallArgs,
    members: string[],
    swarmPort: string,
    dataPort: number,
): Record<string, string> {
    const allowed = [...new Set([...members, ...(firewall.leaving ?? [])])];
    const zk = firewall.zooKeeper;
    return {
        MEMBERS: allowed.join(" "),
        SWARM_PORT: swarmPort,
        DATA_PORT: String(dataPort),
        CONFIRM_SECONDS: String(firewall.confirmSeconds ?? FIREWALL_CONFIRM_SECONDS),
        ...(firewall.restricted?.length
            ? {
                  RESTRICTED: firewall.restricted
                      .map((r) => `${r.protocol ?? "tcp"}/${r.port}=${(r.from ?? []).join(",")}`)
                      .join(" "),
              }
            : {}),
        ...(zk
            ? {
                  ENSEMBLE: zk.servers.join(" "),
                  CLIENTS: (zk.clientNetworks ?? []).join(" "),
                  ZK_CLIENT_PORT: String(zk.clientPort),
                  ZK_PEER_PORTS: `${zk.peerPort}, ${zk.electionPort}`,
              }
            : {}),
    };
}

/** Renders a step's command from its script and parameters. */
export type StepRenderer = (
    script: string,
    params: Record<string, pulumi.Input<string>>,
) => pulumi.Input<string>;

/**
 * A host's firewall (firewall.sh with `params`), then its confirmation over a new SSH connection
 * (firewall-confirm.sh), the proof that SSH still gets in, which keeps the rules; without it they
 * are rolled back. Deleting the first step removes the rules. Named `OWNER-firewall-ID` and
 * `OWNER-firewall-ok-ID`; returns the confirmation, which what needs the rules depends on.
 * `render` may add parameters of the owner's (the cluster's repairs). Default: as they are.
 */
export function firewallSteps(
    owner: string,
    id: string,
    connection: types.remote.ConnectionArgs,
    dir: string,
    base: Record<string, string>,
    params: Record<string, string>,
    opts: { parent: pulumi.Resource; after: pulumi.Resource },
    render: StepRenderer = (script, p) => stepCommandOutput(dir, script, p),
): command.remote.Command {
    const rules = remoteStep(
        `${owner}-firewall-${id}`,
        {
            connection,
            create: render("firewall", { ...base, ...params }),
            delete: stepCommand(dir, "firewall-remove", base),
        },
        { parent: opts.parent, dependsOn: [opts.after] },
    );
    return remoteStep(
        `${owner}-firewall-ok-${id}`,
        {
            connection,
            create: render("firewall-confirm", {
                ...base,
                GENERATION: rules.stdout.apply((out) => /^generation=(\S+)$/m.exec(out)?.[1] ?? ""),
            }),
        },
        { parent: opts.parent, dependsOn: [rules] },
    );
}

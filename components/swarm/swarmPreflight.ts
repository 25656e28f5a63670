// SwarmCluster's own checks before any of its resources, for a program that composes it without
// asking the hosts itself: each node's host key and a login with the cluster's key, its kernel's
// IPsec (with encrypted networks), the swarm's members (a change of managers that would lose the
// quorum is refused) and each node's drift, which the cluster then repairs. The stack's program
// asks every host once for all its components and passes what it found as `observed`; then the
// cluster asks nothing.
import * as pulumi from "@pulumi/pulumi";
import { SshArgs, resolveSsh } from "../host/ssh";
import { ComponentHost, HostAsker, OPENSSH, askHosts, unaskedReason } from "../host/hostChecks";
import { prefix, throwIfAny } from "../host/validation";
import { IPSEC_COMMAND, ipsecProblems } from "../host/ipsec";
import { SwarmFirewallArgs } from "../host/firewall";
import {
    LEADER_WAIT,
    LeaderWait,
    NODE_COMMAND,
    SwarmObservation,
    driftMessages,
    managing,
    observeSwarm,
} from "./swarmDrift";
import { SwarmMember, quorumProblems } from "./swarmQuorum";
import { SwarmNodeArgs, sortByName } from "./swarmNode";

/** What the checks read of SwarmClusterArgs. */
export interface PreflightArgs {
    nodes: SwarmNodeArgs[];
    ssh: SshArgs;
    firewall?: SwarmFirewallArgs;
    encryptedNetworks?: string[];
}

/** What the cluster found on its hosts before its resources: its `observed`, and its firewall. */
export interface SwarmPreflight {
    observed: SwarmObservation;
    /** The firewall with the nodes the swarm still has and the cluster no longer lists (leaving). */
    firewall: SwarmFirewallArgs | undefined;
}

/** How the cluster's hosts are asked, and how long it waits for a leader. */
export interface SwarmAsker extends HostAsker {
    wait: LeaderWait;
}

const OPENSSH_WAITING: SwarmAsker = { ...OPENSSH, wait: LEADER_WAIT };

/** The cluster's nodes as hosts to ask, in the order of their names. */
function nodeHosts(args: PreflightArgs): ComponentHost[] {
    return sortByName(args.nodes).map((n) => ({
        node: n.name,
        host: n.host,
        ssh: resolveSsh(args.ssh, n.ssh),
    }));
}

/**
 * Why the cluster cannot ask its hosts itself, or undefined when it can: every node needs a recorded
 * host key (a host connected to unchecked, with acceptAnyHostKey, is not logged in to beforehand)
 * and the cluster's one private key.
 */
export function preflightSkipped(args: PreflightArgs): string | undefined {
    return unaskedReason(nodeHosts(args), args.ssh.privateKey);
}

/**
 * Asks every node's host, all at once and each over one connection, before the cluster registers
 * anything: throws one error naming every host that presents another host key or refuses the key,
 * and a change of managers that would leave the swarm without a majority; warns of each node found
 * drifted (the cluster repairs it) and of a swarm with no leader. Undefined when a value it needs is
 * known only later (a key a resource computes, at preview).
 */
export async function preflightCluster(
    name: string,
    args: PreflightArgs,
    asker: SwarmAsker = OPENSSH_WAITING,
): Promise<SwarmPreflight | undefined> {
    const nodes = sortByName(args.nodes);
    const p = prefix("SwarmCluster", name);
    const encrypted = args.encryptedNetworks ?? [];
    const found = await askHosts(
        p,
        nodeHosts(args),
        args.ssh.privateKey,
        () => [NODE_COMMAND, ...(encrypted.length > 0 ? [IPSEC_COMMAND] : [])],
        async (survey, file, logins) => {
            throwIfAny(await ipsecProblems(encrypted, logins, file, survey.run));
            return observeSwarm(nodes, logins, file, survey.run, {
                ...asker.wait,
                onWait: (m) => pulumi.log.info(`${p}: ${m}`),
            });
        },
        asker,
    );
    if (!found) return undefined;
    if (found.observation.unreachable.length === nodes.length) {
        // No ssh here, or every host down: nothing was learnt, so nothing is taken from it.
        pulumi.log.warn(
            `${p}: no host answered over SSH before the run (${nodes.map((n) => n.host).join(", ")}), so the quorum and drift were not checked; the steps dial each host themselves.`,
        );
        return undefined;
    }
    if (found.members) throwIfAny(quorumProblems(name, found.members, nodes));
    if (found.leaderless.length > 0) {
        pulumi.log.warn(
            `${p}: no manager could list the swarm's nodes (${managing(found.leaderless)}): it has no leader, most likely because a majority of its managers is down; drift and quorum were not checked, and steps that change the swarm fail until they are back.`,
        );
    }
    for (const message of driftMessages(nodes, found.observation.drift)) {
        pulumi.log.warn(message);
    }
    return {
        observed: found.observation,
        firewall: args.firewall && withLeaving(args.firewall, nodes, found.members),
    };
}

/** The firewall with the swarm's members the cluster no longer lists added to its `leaving`. */
export function withLeaving(
    firewall: SwarmFirewallArgs,
    nodes: SwarmNodeArgs[],
    members: SwarmMember[] | undefined,
): SwarmFirewallArgs {
    const listed = new Set(nodes.map((n) => n.advertiseAddress ?? n.host));
    const gone = (members ?? []).map((m) => m.address).filter((a) => !listed.has(a));
    if (gone.length === 0) return firewall;
    return { ...firewall, leaving: [...new Set([...(firewall.leaving ?? []), ...gone])].sort() };
}

// A node of the swarm as a stack describes it: what SwarmCluster, the drift survey and the quorum
// plan all read, kept apart from them so that none of them imports another for its types.
import { SshOverrides } from "../host/ssh";

export type SwarmRole = "manager" | "worker";
export type NodeAvailability = "active" | "pause" | "drain";

/** One host of the cluster. */
export interface SwarmNodeArgs {
    /**
     * Stable key of the node, used in child resource names (lower-case letters, digits and '-').
     * Renaming a node replaces its resources; the order of `nodes` never matters.
     */
    name: string;
    /** Address or DNS name to reach the host over SSH. */
    host: string;
    /** Address other nodes use to reach this one (swarm traffic). Default: `host`. */
    advertiseAddress?: string;
    /** "manager" (takes part in Raft) or "worker". */
    role: SwarmRole;
    /** Node labels for placement constraints (`node.labels.KEY`). Default: none. */
    labels?: Record<string, string>;
    /** Scheduling availability: "active", "pause" or "drain". Default: "active". */
    availability?: NodeAvailability;
    /** SSH settings for this host only; unset fields come from the cluster's `ssh`. */
    ssh?: SshOverrides;
}

/** Nodes in the order of their names, whatever the order they were given in. */
export function sortByName<T extends { name: string }>(items: T[]): T[] {
    return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// A node of the swarm as a stack describes it: what SwarmCluster, the drift survey and the quorum
// plan all read, kept apart from them so that none of them imports another for its types.
import { SshOverrides } from "../host/ssh";

/**
 * A node's part in the swarm. Each enum here is an object of its values with a type of the same
 * name, so that TypeScript programs write the plain strings ("manager") and Pulumi's component
 * analyzer offers the values as an enum to other languages.
 */
export const SwarmRole = {
    /** Takes part in Raft, and runs tasks unless drained. */
    Manager: "manager",
    /** Runs tasks only. */
    Worker: "worker",
} as const;
export type SwarmRole = (typeof SwarmRole)[keyof typeof SwarmRole];

/** A node's scheduling availability. */
export const NodeAvailability = {
    Active: "active",
    Pause: "pause",
    Drain: "drain",
} as const;
export type NodeAvailability = (typeof NodeAvailability)[keyof typeof NodeAvailability];

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

// The quorum-aware plan: before anything changes, the swarm's managers as a manager sees them now
// are compared with the managers the stack asks for, and a change that would leave the swarm
// without a majority of reachable managers while it runs is refused, with the numbers.
import { SwarmNodeArgs } from "./swarmNode";
import { prefix } from "../host/validation";

/** A node of the running swarm as a manager reports it. */
export interface SwarmMember {
    /** The swarm's node ID. */
    id: string;
    hostname: string;
    /** The node's address in the swarm (a manager's Raft address, without the port). */
    address: string;
    role: "manager" | "worker";
    /** A manager's reachability as Raft sees it; false for workers. */
    reachable: boolean;
    /** The node's state: "ready", "down", "unknown", "disconnected". */
    state: string;
    /** Its availability: "active", "pause" or "drain". */
    availability: string;
    /** Its labels. */
    labels: Record<string, string>;
}

/**
 * What a manager is asked: one line per node, "ID HOSTNAME ADDRESS ROLE REACHABILITY STATE
 * AVAILABILITY LABELS" (the Raft address for managers, "-" for a worker's reachability, the labels
 * as JSON, last as they may hold spaces). Fails where no swarm answers.
 */
export const MEMBERS_COMMAND =
    // Not a pipe: its status would be the last command's, and a swarm without a leader (an
    // election) would answer "no nodes".
    "ids=$(docker node ls -q) && docker node inspect $ids --format " +
    "'{{.ID}} {{.Description.Hostname}} {{if .ManagerStatus}}{{.ManagerStatus.Addr}}{{else}}{{.Status.Addr}}{{end}} {{.Spec.Role}} {{if .ManagerStatus}}{{.ManagerStatus.Reachability}}{{else}}-{{end}} {{.Status.State}} {{.Spec.Availability}} {{json .Spec.Labels}}'";

/** Parses MEMBERS_COMMAND's output. */
export function parseMembers(stdout: string): SwarmMember[] {
    return stdout
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length >= 8 && (f[3] === "manager" || f[3] === "worker"))
        .map(([id, hostname, addr, role, reachability, state, availability, ...labels]) => ({
            id,
            hostname,
            address: addr.replace(/:\d+$/, ""),
            role: role as "manager" | "worker",
            reachable: role === "manager" && reachability === "reachable",
            state,
            availability,
            labels: (JSON.parse(labels.join(" ")) ?? {}) as Record<string, string>,
        }));
}

/**
 * The problems of moving the swarm from `members` to the managers `nodes` asks for: a change of its
 * managers while half or fewer are reachable, or removals and demotions that, done reachable ones
 * first (the worst order), would leave half or fewer of the remaining managers reachable. Each
 * message names the managers, the reachable ones and how many a majority needs.
 */
export function quorumProblems(
    name: string,
    members: SwarmMember[],
    nodes: SwarmNodeArgs[],
): string[] {
    const p = prefix("SwarmCluster", name);
    const addressOf = (n: SwarmNodeArgs): string => n.advertiseAddress ?? n.host;
    const wanted = new Set(nodes.filter((n) => n.role === "manager").map(addressOf));
    const managers = members.filter((m) => m.role === "manager");
    if (managers.length === 0) return [];
    const reachable = managers.filter((m) => m.reachable);
    const leaving = managers.filter((m) => !wanted.has(m.address));
    const joining = [...wanted].filter((a) => !managers.some((m) => m.address === a));
    const down = managers.filter((m) => !m.reachable).map((m) => `${m.hostname} (${m.address})`);
    const majority = (count: number): number => Math.floor(count / 2) + 1;
    const now = `managers ${managers.length}, reachable ${reachable.length}${down.length ? ` (unreachable: ${down.join(", ")})` : ""}`;
    if (leaving.length === 0 && joining.length === 0) return [];
    if (reachable.length < majority(managers.length)) {
        return [
            `${p}: the swarm has no majority of reachable managers now (${now}, a majority needs ${majority(managers.length)}), so it cannot change its managers; bring the unreachable managers back first.`,
        ];
    }
    const leavingReachable = leaving.filter((m) => m.reachable);
    const left = managers.length - leavingReachable.length;
    const leftReachable = reachable.length - leavingReachable.length;
    if (leavingReachable.length > 0 && leftReachable < majority(left)) {
        const names = leavingReachable.map((m) => m.hostname).join(", ");
        return [
            `${p}: removing or demoting ${names} would leave ${leftReachable} reachable of ${left} managers while it runs, and a majority needs ${majority(left)} (${now}); bring the unreachable managers back, or change fewer managers in one up.`,
        ];
    }
    return [];
}

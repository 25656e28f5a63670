// Drift: the swarm as its hosts and a manager report it when the program starts, compared with what
// the stack asks for. Commands run only when their inputs change, so a node that left the swarm, a
// label changed or an engine stopped by hand goes unseen by them; SwarmCluster's probe counts each
// node found so (see swarmProbe.ts), and the node's steps run again.
import { SshLoginCheck, firstAnswer, runOnAll, sshRun } from "../host/ssh";
import { SwarmNodeArgs } from "./swarmNode";
import { MEMBERS_COMMAND, SwarmMember, parseMembers } from "./swarmQuorum";

/** What a host says of its engine and its place in a swarm. */
export interface NodeReport {
    /** systemd's word for docker.service: "active", "inactive", "failed"... */
    engine: string;
    /** The engine's LocalNodeState ("active", "inactive", "locked", ...); "" when it is not running. */
    swarm: string;
    /** Its swarm node ID; "" outside a swarm. */
    nodeId: string;
    /** Whether it manages the swarm (answers the manager API). */
    control: boolean;
    /** The swarm's cluster ID, on managers; "". */
    cluster: string;
    /** systemd's InvocationID of the running docker.service: one engine run; "" when stopped. */
    invocation: string;
    /** Seconds that engine run has lasted; 0 when not known. */
    runningSeconds: number;
    /**
     * Its firewall: "on"; "off" (placed by a run, not in force now: rolled back, removed);
     * "unconfirmed" (in force, its rollback still due: the run that applied them stopped before
     * confirming them); or "" (none placed).
     */
    firewall: string;
}

/** The firewall's reasons to run a node's steps again. */
export const FIREWALL_OFF =
    "its firewall rules are not in force (rolled back, as no new SSH connection confirmed them, or removed by hand)";
export const FIREWALL_UNCONFIRMED =
    "its firewall rules are about to roll back (the run that applied them stopped before confirming them)";
const FIREWALL_DRIFT: Record<string, string> = {
    off: FIREWALL_OFF,
    unconfirmed: FIREWALL_UNCONFIRMED,
};

/**
 * What each host is asked: one line of key=value pairs. The engine is asked only when systemd runs
 * it, since asking a stopped engine through its socket would start it.
 */
export const NODE_COMMAND =
    "if systemctl is-active -q docker.service; then docker info --format " +
    "'engine=active swarm={{.Swarm.LocalNodeState}} node={{.Swarm.NodeID}} control={{.Swarm.ControlAvailable}} cluster={{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}}{{end}}'; " +
    // This engine run, and how long it has run (systemd's monotonic clock is the kernel's uptime).
    'echo "invocation=$(systemctl show -p InvocationID --value docker.service)" ' +
    '"running=$(($(cut -d. -f1 /proc/uptime) - $(systemctl show -p ActiveEnterTimestampMonotonic --value docker.service) / 1000000))"; ' +
    'else echo "engine=$(systemctl is-active docker.service)"; fi; ' +
    // The firewall's rules, where a run placed them (firewall.sh): in force, or not.
    "if [ -f /etc/swarm-ha/firewall/pending.nft ]; then " +
    "if [ -f /etc/swarm-ha/firewall/applied ] && nft list table inet swarm_ha >/dev/null 2>&1; then " +
    "if systemctl is-active -q swarm-ha-firewall-rollback.timer; then echo firewall=unconfirmed; " +
    "else echo firewall=on; fi; else echo firewall=off; fi; fi";

/** Parses NODE_COMMAND's output. */
export function parseNodeReport(stdout: string): NodeReport {
    const values = Object.fromEntries(
        stdout
            .trim()
            .split(/\s+/)
            .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
    );
    return {
        engine: values.engine || "unknown",
        swarm: values.swarm ?? "",
        nodeId: values.node ?? "",
        control: values.control === "true",
        cluster: values.cluster ?? "",
        invocation: values.invocation ?? "",
        runningSeconds: Number(values.running) || 0,
        firewall: values.firewall ?? "",
    };
}

/** Per node, why its steps must run again: its engine or membership, or its settings. */
export interface SwarmDrift {
    /** The engine stopped or the node out of the swarm: its Docker, join and node steps run. */
    engine: Record<string, string[]>;
    /** Role, availability or labels not as asked: its node step runs. */
    spec: Record<string, string[]>;
    /**
     * Workers the managers see Down while their engine runs and says it is in the swarm (its
     * heartbeats lost, docker/for-linux#209): the InvocationID of that engine run, which the
     * node's Docker step restarts, once (also in `engine`). Present only when there is one.
     */
    restart?: Record<string, string>;
}

/**
 * How long an engine must have run before its node counts as lost while Down: one that has just
 * started is Down for the managers until its first heartbeats (seconds), and is left to them.
 */
export const SEEN_DOWN_AFTER_SECONDS = 60;

/** Why a manager's join step runs again. */
export const LOCKED = "its swarm is locked (autolock: its engine restarted)";

/** Why a worker's engine is restarted. */
export const SEEN_DOWN =
    "the managers see it Down while its engine runs and says it is in the swarm (its heartbeats are lost)";

const labelText = (labels: Record<string, string>): string =>
    `{${Object.keys(labels)
        .sort()
        .map((k) => `${k}=${labels[k]}`)
        .join(", ")}}`;

/**
 * The drift of each node the swarm has an entry for: `reports` holds what each host answered (a host
 * that did not answer is left out: nothing can be done there, and its steps' bounded dial says so),
 * `members` the swarm as a manager sees it (undefined when no manager answered: there is no swarm to
 * compare with).
 */
export function swarmDrift(
    nodes: SwarmNodeArgs[],
    reports: Record<string, NodeReport | undefined>,
    members: SwarmMember[] | undefined,
): SwarmDrift {
    const drift: SwarmDrift = { engine: {}, spec: {} };
    const add = (kind: "engine" | "spec", node: string, reason: string): void => {
        (drift[kind][node] ??= []).push(reason);
    };
    // Rules a run placed and that are not in force: whether or not there is a swarm yet (a first
    // run whose rules were rolled back never made one).
    for (const node of nodes) {
        const reason = FIREWALL_DRIFT[reports[node.name]?.firewall ?? ""];
        if (reason) add("engine", node.name, reason);
    }
    if (members === undefined) return drift;
    for (const node of nodes) {
        const report = reports[node.name];
        // A node the swarm has no entry for is new (or was removed by hand): its steps run anyway.
        const address = node.advertiseAddress ?? node.host;
        if (!report || !members.some((m) => m.address === address)) continue;
        if (drift.engine[node.name]) continue;
        // "activating": starting (after a reboot, say); only an engine that is not is drift.
        if (report.engine !== "active" && report.engine !== "activating") {
            add(
                "engine",
                node.name,
                `its Docker engine is not running (systemd: ${report.engine})`,
            );
            continue;
        }
        if (report.swarm === "inactive") {
            add("engine", node.name, "it is not in the swarm");
            continue;
        }
        // An autolocked manager whose engine restarted: its join step unlocks it with the key.
        if (report.swarm === "locked") {
            add("engine", node.name, LOCKED);
            continue;
        }
        const member = members.find((m) => m.id === report.nodeId);
        if (!member) continue;
        // Only a worker: restarting managers at once could cost the quorum, and an autolocked
        // manager needs its key to come back; Raft's reachability and the ready check see them.
        if (
            member.state === "down" &&
            report.swarm === "active" &&
            node.role === "worker" &&
            report.invocation !== "" &&
            report.runningSeconds >= SEEN_DOWN_AFTER_SECONDS
        ) {
            add("engine", node.name, SEEN_DOWN);
            (drift.restart ??= {})[node.name] = report.invocation;
        }
        if (member.role !== node.role) {
            add("spec", node.name, `it is a ${member.role}, the stack says ${node.role}`);
        }
        const availability = node.availability ?? "active";
        if (member.availability !== availability) {
            add(
                "spec",
                node.name,
                `its availability is ${member.availability}, the stack says ${availability}`,
            );
        }
        const labels = node.labels ?? {};
        if (labelText(member.labels) !== labelText(labels)) {
            add(
                "spec",
                node.name,
                `its labels are ${labelText(member.labels)}, the stack says ${labelText(labels)}`,
            );
        }
    }
    return drift;
}

/**
 * The managers that can run the cluster's manager-side steps now: those whose engine manages the
 * swarm that `members` came from (its cluster ID), in the order of `nodes`.
 */
export function answeringManagers(
    nodes: SwarmNodeArgs[],
    reports: Record<string, NodeReport | undefined>,
    cluster: string,
): string[] {
    return nodes
        .filter((n) => n.role === "manager")
        .filter((n) => {
            const r = reports[n.name];
            return r !== undefined && r.control && r.swarm === "active" && r.cluster === cluster;
        })
        .map((n) => n.name);
}

/** One line per drifted node for the run's output: node, host, what was found, what `up` does. */
export function driftMessages(nodes: SwarmNodeArgs[], drift: SwarmDrift): string[] {
    return nodes.flatMap((n) => {
        const engine = drift.engine[n.name];
        const spec = drift.spec[n.name];
        if (!engine && !spec) return [];
        const does =
            engine?.length === 1 && Object.values(FIREWALL_DRIFT).includes(engine[0])
                ? "up applies them again"
                : engine?.length === 1 && engine[0] === LOCKED
                  ? "up unlocks it with the unlock key (its join step, run again)"
                  : drift.restart?.[n.name]
                    ? "up restarts its engine and waits for it to be Ready"
                    : engine
                      ? "up starts its engine, joins it to the swarm and applies its settings"
                      : "up applies the stack's settings";
        return [
            `swarm-ha: ${n.name} (${n.host}): ${[...(engine ?? []), ...(spec ?? [])].join("; ")}; ${does}.`,
        ];
    });
}

/** The swarm as found when the program started, for SwarmCluster's `observed`. */
export interface SwarmObservation {
    drift: SwarmDrift;
    /** The managers that manage the swarm now, in the order of the nodes. */
    answering: string[];
    /** The nodes whose host did not answer over SSH (down, or cut off). */
    unreachable: string[];
}

/**
 * sshRun with time for an election: a manager's `docker info` waits for the swarm's leader (5 s and
 * more measured on the lab, right after the leader's host went away). A host that does not answer
 * SSH still fails in its 3 s connect timeout.
 */
const slowRun: typeof sshRun = (check, keyFile, knownHosts, command) =>
    sshRun(check, keyFile, knownHosts, command, 30000);

/** "m2 manages it", "m2, m3 manage it". */
export const managing = (names: string[]): string =>
    `${names.join(", ")} ${names.length === 1 ? "manages" : "manage"} it`;

/** How observeSwarm asks again while the swarm elects a leader, and what it says meanwhile. */
export interface LeaderWait {
    attempts: number;
    delayMs: number;
    /** Told once, before the first wait. */
    onWait?: (message: string) => void;
}

/**
 * A manager that has just lost its leader (a manager's host gone, a restart) answers nothing for
 * an election's time: about 10 s with Swarm's defaults.
 */
export const LEADER_WAIT: LeaderWait = { attempts: 10, delayMs: 2000 };

/**
 * Asks every node's host (all at once, over SSH with `keyFile`; `hosts` gives each node's login,
 * under its name) and then the managers that manage the swarm, in turn, until one lists its nodes
 * (again, per `wait`, while none can: an election): the drift of each node, the managers that
 * answer, the swarm's members (undefined when no manager answered) and, when none could list them
 * even after the wait, the managers asked (the swarm has no leader: its majority of managers lost).
 */
export async function observeSwarm(
    nodes: SwarmNodeArgs[],
    hosts: SshLoginCheck[],
    keyFile: string,
    run: typeof sshRun = slowRun,
    wait: LeaderWait = LEADER_WAIT,
): Promise<{
    observation: SwarmObservation;
    members: SwarmMember[] | undefined;
    leaderless: string[];
}> {
    const outputs = await runOnAll(hosts, keyFile, NODE_COMMAND, run);
    const reports: Record<string, NodeReport | undefined> = Object.fromEntries(
        hosts.map((h, i) => [
            h.node,
            outputs[i] === undefined ? undefined : parseNodeReport(outputs[i]!),
        ]),
    );
    const inControl = nodes
        .filter((n) => n.role === "manager" && reports[n.name]?.control)
        .map((n) => n.name);
    const asked = hosts.filter((h) => inControl.includes(h.node));
    let answer = await firstAnswer(asked, keyFile, MEMBERS_COMMAND, run);
    for (let i = 1; answer === undefined && asked.length > 0 && i < wait.attempts; i++) {
        if (i === 1) {
            wait.onWait?.(
                `no manager lists the swarm's nodes (${managing(inControl)}): it has no leader now; asking again for up to ${Math.round(((wait.attempts - 1) * wait.delayMs) / 1000)} s`,
            );
        }
        await new Promise((resolve) => setTimeout(resolve, wait.delayMs));
        answer = await firstAnswer(asked, keyFile, MEMBERS_COMMAND, run);
    }
    const members = answer === undefined ? undefined : parseMembers(answer);
    const cluster = inControl.length > 0 ? reports[inControl[0]!]!.cluster : "";
    return {
        observation: {
            drift: swarmDrift(nodes, reports, members),
            answering: members ? answeringManagers(nodes, reports, cluster) : [],
            unreachable: hosts.filter((h) => reports[h.node] === undefined).map((h) => h.node),
        },
        members,
        leaderless: members ? [] : inControl,
    };
}

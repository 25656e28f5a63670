// Unit tests of drift: what the hosts and a manager report, which nodes are found drifted and why,
// which managers can run the manager-side steps, and how the probe keeps its counts and its step
// manager from one run to the next.
import {
    NODE_COMMAND,
    NodeReport,
    SwarmMember,
    SwarmNodeArgs,
    answeringManagers,
    driftMessages,
    observeSwarm,
    parseNodeReport,
    FIREWALL_OFF,
    FIREWALL_UNCONFIRMED,
    LOCKED,
    SEEN_DOWN,
    SEEN_DOWN_AFTER_SECONDS,
    swarmDrift,
} from "../internal";
import {
    SwarmProbeInputs,
    SwarmProbeState,
    nextProbeState,
    swarmProbeProvider,
} from "./swarmProbe";

const swarmProbeDiff = async (
    olds: Partial<SwarmProbeState>,
    news: SwarmProbeState,
): Promise<boolean | undefined> =>
    (await swarmProbeProvider.diff!("swarm", olds as SwarmProbeState, news)).changes;
import { MEMBERS_COMMAND } from "./swarmQuorum";

const NODES: SwarmNodeArgs[] = [
    { name: "m1", host: "10.0.0.11", role: "manager", labels: { zone: "a" } },
    { name: "m2", host: "10.0.0.12", role: "manager", labels: { zone: "b" } },
    { name: "m3", host: "10.0.0.13", role: "manager" },
    { name: "w1", host: "10.0.0.21", role: "worker", labels: { tier: "web", zone: "a" } },
    { name: "w2", host: "10.0.0.22", role: "worker", availability: "drain" },
];

const report = (nodeId: string, control = false, extra: Partial<NodeReport> = {}): NodeReport => ({
    engine: "active",
    swarm: "active",
    nodeId,
    control,
    cluster: control ? "C1" : "",
    invocation: `run-${nodeId}`,
    runningSeconds: 3600,
    firewall: "",
    ...extra,
});

const member = (
    id: string,
    address: string,
    role: "manager" | "worker",
    labels: Record<string, string> = {},
    availability = "active",
): SwarmMember => ({
    id,
    hostname: id,
    address,
    role,
    reachable: role === "manager",
    state: "ready",
    availability,
    labels,
});

const MEMBERS: SwarmMember[] = [
    member("i1", "10.0.0.11", "manager", { zone: "a" }),
    member("i2", "10.0.0.12", "manager", { zone: "b" }),
    member("i3", "10.0.0.13", "manager"),
    member("i4", "10.0.0.21", "worker", { tier: "web", zone: "a" }),
    member("i5", "10.0.0.22", "worker", {}, "drain"),
];

const REPORTS: Record<string, NodeReport | undefined> = {
    m1: report("i1", true),
    m2: report("i2", true),
    m3: report("i3", true),
    w1: report("i4"),
    w2: report("i5"),
};

describe("what a host reports", () => {
    test("a running engine in a swarm, and one stopped (the engine is not asked then)", () => {
        expect(
            parseNodeReport(
                "engine=active swarm=active node=i1 control=true cluster=C1\ninvocation=5f0c running=742\n",
            ),
        ).toEqual({
            engine: "active",
            swarm: "active",
            nodeId: "i1",
            control: true,
            cluster: "C1",
            invocation: "5f0c",
            runningSeconds: 742,
            firewall: "",
        });
        expect(parseNodeReport("engine=inactive\nfirewall=off\n")).toEqual({
            engine: "inactive",
            swarm: "",
            nodeId: "",
            control: false,
            cluster: "",
            invocation: "",
            runningSeconds: 0,
            firewall: "off",
        });
        expect(NODE_COMMAND).toMatch(/^if systemctl is-active -q docker.service; then docker info/);
        expect(NODE_COMMAND).toContain("nft list table inet swarm_ha");
    });
});

describe("the firewall's drift", () => {
    test("rules placed and not in force: drift, swarm or not; rules in force, or none placed: none", () => {
        const reports = {
            ...REPORTS,
            m3: report("i3", true, { firewall: "off" }),
            w1: report("i4", false, { firewall: "on" }),
            w2: report("i5", false, { firewall: "unconfirmed" }),
        };
        const expected = { engine: { m3: [FIREWALL_OFF], w2: [FIREWALL_UNCONFIRMED] }, spec: {} };
        expect(swarmDrift(NODES, reports, MEMBERS)).toEqual(expected);
        // A first run whose rules were rolled back made no swarm: nothing to compare, still drift.
        expect(swarmDrift(NODES, reports, undefined)).toEqual(expected);
        expect(driftMessages(NODES, expected)).toEqual([
            "swarm-ha: m3 (10.0.0.13): its firewall rules are not in force (rolled back, as no new SSH connection confirmed them, or removed by hand); up applies them again.",
            "swarm-ha: w2 (10.0.0.22): its firewall rules are about to roll back (the run that applied them stopped before confirming them); up applies them again.",
        ]);
    });
});

describe("swarmDrift", () => {
    test("everything as asked: no drift", () => {
        expect(swarmDrift(NODES, REPORTS, MEMBERS)).toEqual({ engine: {}, spec: {} });
    });

    test("a worker the managers see Down while its engine runs and says it is in the swarm: its engine run is restarted", () => {
        const down = (id: string): SwarmMember[] =>
            MEMBERS.map((m) => (m.id === id ? { ...m, state: "down" } : m));
        const drift = swarmDrift(NODES, REPORTS, down("i4"));
        expect(drift).toEqual({
            engine: { w1: [SEEN_DOWN] },
            spec: {},
            restart: { w1: "run-i4" },
        });
        expect(driftMessages(NODES, drift)).toEqual([
            "swarm-ha: w1 (10.0.0.21): the managers see it Down while its engine runs and says it is in the swarm (its heartbeats are lost); up restarts its engine and waits for it to be Ready.",
        ]);
        // Not for an engine that started less than a minute ago: its first heartbeats are due.
        const young = { ...REPORTS, w1: report("i4", false, { runningSeconds: 20 }) };
        expect(swarmDrift(NODES, young, down("i4"))).toEqual({ engine: {}, spec: {} });
        expect(SEEN_DOWN_AFTER_SECONDS).toBe(60);
        // Not for a manager (a restart could cost the quorum; Raft's reachability sees it).
        expect(swarmDrift(NODES, REPORTS, down("i2"))).toEqual({ engine: {}, spec: {} });
        // Not for a host that says it is out of the swarm: that is the join's drift.
        const out = { ...REPORTS, w1: report("", false, { swarm: "inactive" }) };
        expect(swarmDrift(NODES, out, down("i4"))).toEqual({
            engine: { w1: ["it is not in the swarm"] },
            spec: {},
        });
    });

    test("an autolocked manager whose engine restarted: its join step runs again to unlock it", () => {
        const reports = { ...REPORTS, m2: report("", false, { swarm: "locked" }) };
        const drift = swarmDrift(NODES, reports, MEMBERS);
        expect(drift).toEqual({ engine: { m2: [LOCKED] }, spec: {} });
        expect(driftMessages(NODES, drift)).toEqual([
            "swarm-ha: m2 (10.0.0.12): its swarm is locked (autolock: its engine restarted); up unlocks it with the unlock key (its join step, run again).",
        ]);
    });

    test("an engine stopped, a node out of the swarm, labels, availability and role changed by hand", () => {
        const members = MEMBERS.map((m) =>
            m.id === "i2"
                ? { ...m, labels: { zone: "x" } }
                : m.id === "i5"
                  ? { ...m, availability: "active", role: "manager" as const }
                  : m,
        );
        const reports = {
            ...REPORTS,
            m3: report("", false, { engine: "inactive", swarm: "" }),
            w1: report("", false, { swarm: "inactive" }),
        };
        const drift = swarmDrift(NODES, reports, members);
        expect(drift).toEqual({
            engine: {
                m3: ["its Docker engine is not running (systemd: inactive)"],
                w1: ["it is not in the swarm"],
            },
            spec: {
                m2: ["its labels are {zone=x}, the stack says {zone=b}"],
                w2: [
                    "it is a manager, the stack says worker",
                    "its availability is active, the stack says drain",
                ],
            },
        });
        expect(driftMessages(NODES, drift)).toEqual([
            "swarm-ha: m2 (10.0.0.12): its labels are {zone=x}, the stack says {zone=b}; up applies the stack's settings.",
            "swarm-ha: m3 (10.0.0.13): its Docker engine is not running (systemd: inactive); up starts its engine, joins it to the swarm and applies its settings.",
            "swarm-ha: w1 (10.0.0.21): it is not in the swarm; up starts its engine, joins it to the swarm and applies its settings.",
            "swarm-ha: w2 (10.0.0.22): it is a manager, the stack says worker; its availability is active, the stack says drain; up applies the stack's settings.",
        ]);
    });

    test("an engine starting (after a reboot) is not drift", () => {
        const starting = { ...REPORTS, w1: report("", false, { engine: "activating", swarm: "" }) };
        expect(swarmDrift(NODES, starting, MEMBERS)).toEqual({ engine: {}, spec: {} });
    });

    test("no swarm to compare with, a host that did not answer, a node the swarm never had: none drifted", () => {
        const fresh = { ...REPORTS, w1: report("", false, { swarm: "inactive" }) };
        expect(swarmDrift(NODES, fresh, undefined)).toEqual({ engine: {}, spec: {} });
        expect(swarmDrift(NODES, { ...REPORTS, w1: undefined }, MEMBERS)).toEqual({
            engine: {},
            spec: {},
        });
        const added: SwarmNodeArgs = { name: "w3", host: "10.0.0.23", role: "worker" };
        expect(
            swarmDrift(
                [...NODES, added],
                { ...REPORTS, w3: report("", false, { engine: "inactive" }) },
                MEMBERS,
            ),
        ).toEqual({ engine: {}, spec: {} });
    });

    test("the managers that can run the steps: managing the swarm the members came from", () => {
        const reports = {
            ...REPORTS,
            m1: report("", false, { engine: "inactive" }),
            m3: report("z9", true, { cluster: "OTHER" }),
        };
        expect(answeringManagers(NODES, reports, "C1")).toEqual(["m2"]);
        expect(answeringManagers(NODES, REPORTS, "C1")).toEqual(["m1", "m2", "m3"]);
    });
});

describe("observeSwarm", () => {
    const hosts = NODES.map((n) => ({ node: n.name, host: n.host, port: 22, user: "root" }));

    test("asks every host, then the first manager that manages the swarm, for its members", async () => {
        const asked: string[] = [];
        const lines: Record<string, string> = {
            "10.0.0.11": "engine=inactive",
            "10.0.0.12": "engine=active swarm=active node=i2 control=true cluster=C1",
            "10.0.0.13": "engine=active swarm=active node=i3 control=true cluster=C1",
            "10.0.0.21": "engine=active swarm=inactive node= control=false cluster=",
        };
        const members = [
            "i1 m1 10.0.0.11:2377 manager unreachable down active {}",
            "i2 m2 10.0.0.12:2377 manager reachable ready active {}",
            "i3 m3 10.0.0.13:2377 manager reachable ready active null",
            "i4 w1 10.0.0.21 worker - down active {}",
            "i5 w2 10.0.0.22 worker - ready drain {}",
        ].join("\n");
        const run = async (c: { host: string }, _k: string, _h: string, command: string) => {
            asked.push(`${c.host} ${command === MEMBERS_COMMAND ? "members" : "node"}`);
            if (command === MEMBERS_COMMAND) return { ok: true, stdout: members, stderr: "" };
            const line = lines[c.host];
            return line
                ? { ok: true, stdout: `${line}\n`, stderr: "" }
                : { ok: false, stdout: "", stderr: "timeout" };
        };
        const { observation } = await observeSwarm(NODES, hosts, "/key", run);
        expect(asked).toEqual([
            "10.0.0.11 node",
            "10.0.0.12 node",
            "10.0.0.13 node",
            "10.0.0.21 node",
            "10.0.0.22 node",
            "10.0.0.12 members",
        ]);
        expect(observation).toEqual({
            answering: ["m2", "m3"],
            unreachable: ["w2"],
            drift: {
                engine: {
                    m1: ["its Docker engine is not running (systemd: inactive)"],
                    w1: ["it is not in the swarm"],
                },
                spec: { m2: ["its labels are {}, the stack says {zone=b}"] },
            },
        });
    });

    test("no host answers: nothing found, nothing drifted, no manager asked", async () => {
        const run = async () => ({ ok: false, stdout: "", stderr: "no route" });
        expect(await observeSwarm(NODES, hosts, "/key", run)).toEqual({
            observation: {
                answering: [],
                drift: { engine: {}, spec: {} },
                unreachable: ["m1", "m2", "m3", "w1", "w2"],
            },
            members: undefined,
            leaderless: [],
        });
    });

    /** m1 gone; m2 and m3 in control; the members command answers from the given attempt on. */
    function electing(answersFrom: number) {
        const asked: string[] = [];
        let round = 0;
        const run = async (c: { host: string }, _k: string, _h: string, command: string) => {
            if (command !== MEMBERS_COMMAND) {
                const id = c.host.slice(-2);
                return c.host === "10.0.0.11"
                    ? { ok: false, stdout: "", stderr: "no route" }
                    : {
                          ok: true,
                          stdout: `engine=active swarm=active node=i${id} control=${c.host.startsWith("10.0.0.1")} cluster=C1\n`,
                          stderr: "",
                      };
            }
            asked.push(c.host);
            if (c.host === "10.0.0.12") round++;
            return round >= answersFrom
                ? {
                      ok: true,
                      stdout: "i2 m2 10.0.0.12:2377 manager reachable ready active {}",
                      stderr: "",
                  }
                : { ok: false, stdout: "", stderr: "The swarm does not have a leader." };
        };
        return { asked, run };
    }

    test("while the swarm elects a leader, its managers are asked again, each in turn", async () => {
        const { asked, run } = electing(3);
        const said: string[] = [];
        const wait = { attempts: 5, delayMs: 1, onWait: (m: string) => said.push(m) };
        const { members, leaderless } = await observeSwarm(NODES, hosts, "/key", run, wait);
        expect(asked).toEqual(["10.0.0.12", "10.0.0.13", "10.0.0.12", "10.0.0.13", "10.0.0.12"]);
        expect(said).toEqual([
            "no manager lists the swarm's nodes (m2, m3 manage it): it has no leader now; asking again for up to 0 s",
        ]);
        expect(members?.map((m) => m.hostname)).toEqual(["m2"]);
        expect(leaderless).toEqual([]);
    });

    test("no leader after the wait: no members, the managers asked, nothing drifted", async () => {
        const { asked, run } = electing(Infinity);
        const result = await observeSwarm(NODES, hosts, "/key", run, { attempts: 3, delayMs: 1 });
        expect(asked).toHaveLength(6);
        expect(result.members).toBeUndefined();
        expect(result.leaderless).toEqual(["m2", "m3"]);
        expect(result.observation.drift).toEqual({ engine: {}, spec: {} });
    });
});

describe("the probe's state", () => {
    const inputs = (extra: Partial<SwarmProbeInputs> = {}): SwarmProbeInputs => ({
        nodes: ["m1", "m2", "m3", "w1"],
        managers: ["m1", "m2", "m3"],
        engineDrift: [],
        specDrift: [],
        restart: {},
        answering: ["m1", "m2", "m3"],
        preferred: "m1",
        ...extra,
    });
    const zero = { m1: 0, m2: 0, m3: 0, w1: 0 };

    test("created: every count 0 whatever is found, the preferred manager", () => {
        expect(nextProbeState({}, inputs({ engineDrift: ["w1"], specDrift: ["m2"] }))).toEqual({
            nodes: ["m1", "m2", "m3", "w1"],
            managers: ["m1", "m2", "m3"],
            engine: zero,
            spec: zero,
            restart: {},
            stepManager: "m1",
        });
    });

    test("the engine run to restart is kept until another is found, and goes with its node", async () => {
        const before = nextProbeState({}, inputs());
        const lost = nextProbeState(before, inputs({ engineDrift: ["w1"], restart: { w1: "r1" } }));
        expect(lost.restart).toEqual({ w1: "r1" });
        // Found healthy the next time: kept, so the Docker step's command stays as it is.
        const healthy = nextProbeState(lost, inputs());
        expect(healthy).toEqual(lost);
        expect(await swarmProbeDiff(lost, healthy)).toBe(false);
        // Lost again, in another engine run: that one.
        expect(nextProbeState(healthy, inputs({ restart: { w1: "r2" } })).restart).toEqual({
            w1: "r2",
        });
        // The node removed from the stack: its entry too.
        expect(nextProbeState(lost, inputs({ nodes: ["m1", "m2", "m3"] })).restart).toEqual({});
        // A state kept before restarts existed compares equal to one with none.
        const older: Partial<SwarmProbeState> = { ...before };
        delete older.restart;
        expect(await swarmProbeDiff(older, before)).toBe(false);
    });

    test("a drifted node's count grows by one per run that finds it; a new node starts at 0", () => {
        const before = nextProbeState({}, inputs());
        const once = nextProbeState(before, inputs({ engineDrift: ["w1"], specDrift: ["m2"] }));
        expect(once.engine).toEqual({ ...zero, w1: 1 });
        expect(once.spec).toEqual({ ...zero, m2: 1 });
        const grown = nextProbeState(
            once,
            inputs({ nodes: ["m1", "m2", "m3", "w1", "w2"], engineDrift: ["w1", "w2"] }),
        );
        expect(grown.engine).toEqual({ ...zero, w1: 2, w2: 0 });
        // Nothing found the next time: the counts stay, so the steps do not run again.
        expect(nextProbeState(grown, inputs({ nodes: grown.nodes }))).toEqual(grown);
    });

    test("the step manager stays while it answers, moves when it does not, and comes back to nothing", () => {
        const before = nextProbeState({}, inputs());
        const moved = nextProbeState(before, inputs({ answering: ["m2", "m3"] }));
        expect(moved.stepManager).toBe("m2");
        // m1 answers again: the steps stay on m2 (a move would run them again for nothing).
        expect(nextProbeState(moved, inputs()).stepManager).toBe("m2");
        // Nothing known (no manager answered): it stays.
        expect(nextProbeState(moved, inputs({ answering: [] })).stepManager).toBe("m2");
        // m2 is no longer a manager of the stack, and the preferred one answers.
        expect(
            nextProbeState(moved, inputs({ managers: ["m1", "m3"], answering: ["m1", "m3"] }))
                .stepManager,
        ).toBe("m1");
        // Neither the previous nor the preferred one answers: the first that does.
        expect(nextProbeState(moved, inputs({ answering: ["m3"] })).stepManager).toBe("m3");
    });
});

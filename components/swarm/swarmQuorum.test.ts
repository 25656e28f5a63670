// Unit tests of the quorum-aware plan: the swarm's members as a manager reports them, and which
// changes of managers are refused before anything changes, with the numbers.
import { SwarmMember, SwarmNodeArgs, parseMembers, quorumProblems } from "../internal";

const m = (n: number, reachable = true): SwarmMember => ({
    id: `idm${n}`,
    hostname: `m${n}`,
    address: `10.0.0.1${n}`,
    role: "manager",
    reachable,
    state: reachable ? "ready" : "down",
    availability: "active",
    labels: {},
});
const w = (n: number): SwarmMember => ({
    id: `idw${n}`,
    hostname: `w${n}`,
    address: `10.0.0.2${n}`,
    role: "worker",
    reachable: false,
    state: "ready",
    availability: "active",
    labels: {},
});
const node = (n: string, role: "manager" | "worker"): SwarmNodeArgs => ({
    name: n,
    host: `10.0.0.${n.startsWith("m") ? 1 : 2}${n.slice(1)}`,
    role,
});
const nodes = (managers: number[], workers: number[] = [1]): SwarmNodeArgs[] => [
    ...managers.map((i) => node(`m${i}`, "manager")),
    ...workers.map((i) => node(`w${i}`, "worker")),
];

test("parses a manager's report: Raft addresses without the port, reachability of managers only, labels", () => {
    const out = [
        'a1 lab-m1 172.30.213.11:2377 manager reachable ready active {"zone":"a"}',
        "a2 lab-m2 172.30.213.12:2377 manager unreachable down active null",
        'a3 lab-w1 172.30.213.21 worker - ready drain {"note":"two words","zone":"a"}',
        "",
    ].join("\n");
    const member = (
        id: string,
        hostname: string,
        address: string,
        role: "manager" | "worker",
        reachable: boolean,
        state: string,
        availability: string,
        labels: Record<string, string>,
    ): SwarmMember => ({ id, hostname, address, role, reachable, state, availability, labels });
    expect(parseMembers(out)).toEqual([
        member("a1", "lab-m1", "172.30.213.11", "manager", true, "ready", "active", { zone: "a" }),
        member("a2", "lab-m2", "172.30.213.12", "manager", false, "down", "active", {}),
        member("a3", "lab-w1", "172.30.213.21", "worker", false, "ready", "drain", {
            note: "two words",
            zone: "a",
        }),
    ]);
});

test("no change of managers, or a fresh swarm: nothing to refuse, whatever is down", () => {
    expect(quorumProblems("lab", [m(1), m(2, false), m(3, false), w(1)], nodes([1, 2, 3]))).toEqual(
        [],
    );
    expect(quorumProblems("lab", [], nodes([1, 2, 3]))).toEqual([]);
});

test("all reachable: demoting two of three, or removing two of five, keeps a majority", () => {
    expect(quorumProblems("lab", [m(1), m(2), m(3), w(1)], nodes([1], [1, 2, 3]))).toEqual([]);
    expect(quorumProblems("lab", [m(1), m(2), m(3), m(4), m(5)], nodes([1, 2, 3]))).toEqual([]);
});

test("one of three down: demoting a reachable manager is refused with the numbers", () => {
    const members = [m(1), m(2), m(3, false), w(1)];
    const wanted = [
        node("m1", "manager"),
        node("m2", "worker"),
        node("m3", "manager"),
        node("w1", "worker"),
    ];
    expect(quorumProblems("lab", members, wanted)).toEqual([
        'SwarmCluster "lab": removing or demoting m2 would leave 1 reachable of 2 managers while it runs, and a majority needs 2 (managers 3, reachable 2 (unreachable: m3 (10.0.0.13))); bring the unreachable managers back, or change fewer managers in one up.',
    ]);
    // Removing the one that is down is fine: two of two remain reachable.
    expect(quorumProblems("lab", members, nodes([1, 2]))).toEqual([]);
});

test("five managers, one down: two reachable ones may go, three may not", () => {
    const members = [m(1), m(2), m(3), m(4), m(5, false)];
    expect(quorumProblems("lab", members, nodes([1, 2, 5]))).toEqual([]);
    expect(quorumProblems("lab", members, nodes([1, 5]))).toEqual([
        'SwarmCluster "lab": removing or demoting m2, m3, m4 would leave 1 reachable of 2 managers while it runs, and a majority needs 2 (managers 5, reachable 4 (unreachable: m5 (10.0.0.15))); bring the unreachable managers back, or change fewer managers in one up.',
    ]);
});

test("no majority now: any change of managers is refused, a new one too", () => {
    const members = [m(1), m(2, false), m(3, false)];
    expect(quorumProblems("lab", members, nodes([1, 2, 3, 4, 5]))).toEqual([
        'SwarmCluster "lab": the swarm has no majority of reachable managers now (managers 3, reachable 1 (unreachable: m2 (10.0.0.12), m3 (10.0.0.13)), a majority needs 2), so it cannot change its managers; bring the unreachable managers back first.',
    ]);
});

// End to end: a 3-server ZooKeeper ensemble on the lab's managers through the real engine; znodes
// round-trip through its connect string; a tickTime change restarts the servers one at a time,
// leader last, while a client keeps reading; a server down keeps writes working, and one stopped by
// hand is started by the next up; growing to 5 and shrinking to 3, by restarts with the new list
// and then by dynamic reconfiguration, which can remove the leader.
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { changes, openStack } from "../../scripts/automation";
import { NodeConfig } from "../../config";
import {
    Ops,
    WITHOUT_MONITORING,
    freshLab,
    freshStack,
    killEngine,
    lab,
    onHost,
    opsCollector,
    record,
    transcript,
} from "./helpers";
import { ZkClient } from "../../components/registry/zkClient";
import { srvrMode } from "../../components/zookeeper/zookeeperProbe";
import { superDigest } from "../../components/zookeeper/zookeeperEnsemble";

jest.setTimeout(20 * 60 * 1000);

const MANAGERS: NodeConfig[] = [
    { name: "lab-m1", host: "172.30.213.11", role: "manager" },
    { name: "lab-m2", host: "172.30.213.12", role: "manager" },
    { name: "lab-m3", host: "172.30.213.13", role: "manager" },
];
const ADDRESSES = MANAGERS.map((m) => m.host);
const THREE = [1, 2, 3].map((id) => ({ id, node: `lab-m${id}` }));
const FIVE = [...THREE, { id: 4, host: "172.30.213.21" }, { id: 5, host: "172.30.213.22" }];
const ZNODE = "/swarm-ha-e2e";

let stack: Stack;
let connect = "";
/** The super password random.RandomPassword generated, once auth is on. */
let superPassword = "";

const modes = (): Promise<string[]> => Promise.all(ADDRESSES.map((a) => srvrMode(a)));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const FIVE_ADDRESSES = [...ADDRESSES, "172.30.213.21", "172.30.213.22"];
const HOST_OF: Record<string, string> = {
    "172.30.213.11": "lab-m1",
    "172.30.213.12": "lab-m2",
    "172.30.213.13": "lab-m3",
    "172.30.213.21": "lab-w1",
    "172.30.213.22": "lab-w2",
};

/**
 * Waits (bounded) until `addresses` serve with one leader among them and the rest following;
 * returns their modes in the order of `addresses`.
 */
async function healthyModes(addresses: string[], seconds = 90): Promise<string[]> {
    const until = Date.now() + seconds * 1000;
    let seen: string[] = [];
    while (Date.now() < until) {
        seen = await Promise.all(addresses.map((a) => srvrMode(a)));
        const leaders = seen.filter((m) => m === "leader").length;
        const followers = seen.filter((m) => m === "follower").length;
        if (leaders === 1 && followers === addresses.length - 1) {
            return seen;
        }
        await sleep(1000);
    }
    throw new Error(`no healthy ensemble of ${addresses.join(", ")}; modes: ${seen.join(", ")}`);
}

/** The leader of `addresses` once they are healthy. */
async function leaderAmong(addresses: string[], seconds = 90): Promise<string> {
    const seen = await healthyModes(addresses, seconds);
    return addresses[seen.indexOf("leader")];
}

/** The modes of the three managers' servers once they are healthy. */
const waitHealthy = (seconds: number): Promise<string[]> => healthyModes(ADDRESSES, seconds);

/** After a roll: the ensemble healthy, and every manager's zoo.cfg with the new tickTime. */
async function expectRolledTo(tickTime: number): Promise<void> {
    expect((await waitHealthy(60)).sort()).toEqual(["follower", "follower", "leader"]);
    for (const m of MANAGERS) {
        expect(onHost(m.name, "grep ^tickTime= /etc/zookeeper-ensemble/zoo.cfg")).toBe(
            `tickTime=${tickTime}`,
        );
    }
}

/**
 * The servers of `addresses` that answer no `srvr` within 1 s and, asked again at once, none within
 * 3 s either. A server restarting is silent for seconds; one busy starting the JVM of another on
 * the lab's 2 cores may miss the first second, and is not down.
 */
async function serversSilent(addresses: string[]): Promise<string[]> {
    const first = await Promise.all(addresses.map((a) => srvrMode(a)));
    const missed = addresses.filter((_, i) => first[i] === "down");
    if (missed.length === 0) return missed;
    const again = await Promise.all(missed.map((a) => srvrMode(a, 2181, 3000)));
    return missed.filter((_, i) => again[i] === "down");
}

/**
 * Runs `work` while a client reads every 100 ms and a monitor asks every server `srvr` every 250 ms
 * (see {@link serversSilent}).
 * Returns the successful reads, the longest gap between them and the most of `watched` down at once.
 */
async function watchedWhile(
    watched: string[],
    work: () => Promise<unknown>,
): Promise<{ reads: number; longestGap: number; mostDown: number }> {
    const client = await ZkClient.connect(connect);
    let going = true;
    let lastRead = Date.now();
    let longestGap = 0;
    let reads = 0;
    let mostDown = 0;
    const bounded = Date.now() + 15 * 60 * 1000;
    const reader = (async () => {
        while (going && Date.now() < bounded) {
            try {
                await client.get(ZNODE);
                longestGap = Math.max(longestGap, Date.now() - lastRead);
                lastRead = Date.now();
                reads++;
            } catch {
                // part of the gap
            }
            await sleep(100);
        }
    })();
    const monitor = (async () => {
        while (going && Date.now() < bounded) {
            const silent = await serversSilent(watched);
            mostDown = Math.max(mostDown, silent.length);
            await sleep(250);
        }
    })();
    try {
        await work();
    } finally {
        going = false;
        await Promise.all([reader, monitor]);
        client.close();
    }
    return { reads, longestGap, mostDown };
}

/** {@link watchedWhile} an `up`, with the operations the engine performed. */
async function upWatched(
    watched: string[],
): Promise<{ ops: Ops; reads: number; longestGap: number; mostDown: number }> {
    const ops: Ops = {};
    const watch = await watchedWhile(watched, () =>
        stack.up({ onOutput: record, onEvent: opsCollector(ops), color: "never" }),
    );
    return { ops, ...watch };
}

/** Runs an up and kills its engine as soon as it prints `when`; the up fails. */
async function upKilledAt(when: RegExp): Promise<void> {
    let killed = 0;
    const interrupted = stack.up({
        color: "never",
        onOutput: (out) => {
            record(out);
            if (!killed && when.test(out)) killed = killEngine(stack.name);
        },
    });
    await expect(interrupted).rejects.toThrow();
    expect(killed).toBe(1);
}

beforeAll(async () => {
    // Managers for the cluster and the first three ZooKeeper servers; two spare hosts for growing.
    freshLab(3, 2);
    stack = await openStack({ stack: "zk-e2e", settingsFrom: "dev", config: WITHOUT_MONITORING });
    await freshStack(stack);
    stack = await openStack({ stack: "zk-e2e", settingsFrom: "dev", config: WITHOUT_MONITORING });
    // ZooKeeper is what this file is about: the services stay out.
    await stack.removeConfig("swarm-ha:services");
    // Auth is on by default; this file starts without it and turns it on by a rolling restart.
    // The firewall is on (the default): servers 4 and 5, on hosts that are not members, get the
    // ensemble's rules, and every host keeps a leaving server's ports open until it stops.
    await stack.setAllConfig({
        "swarm-ha:nodes": { value: JSON.stringify(MANAGERS) },
        "swarm-ha:zkAuth": { value: "false" },
    });
});

test("a 3-server ensemble converges: one leader, two followers", async () => {
    const result = await stack.up({ onOutput: record, color: "never" });
    expect(Object.keys(changes(result.summary.resourceChanges))).toEqual(["create"]);
    const zk = result.outputs.zookeeper.value as {
        connectString: string;
        servers: { id: number; mode: string }[];
    };
    connect = zk.connectString;
    expect(connect).toBe("172.30.213.11:2181,172.30.213.12:2181,172.30.213.13:2181");
    expect(zk.servers.map((s) => s.mode).sort()).toEqual(["follower", "follower", "leader"]);
    expect((await modes()).sort()).toEqual(["follower", "follower", "leader"]);
    for (const [i, m] of MANAGERS.entries()) {
        expect(onHost(m.name, "cat /var/lib/zookeeper/myid")).toBe(String(i + 1));
        expect(onHost(m.name, "systemctl is-enabled zookeeper-ensemble")).toBe("enabled");
    }
});

test("a znode round-trips through the connect string: create, get, set, delete", async () => {
    const client = await ZkClient.connect(connect);
    try {
        if (await client.exists(ZNODE)) await client.remove(ZNODE);
        await client.create(ZNODE, "one");
        expect(await client.get(ZNODE)).toBe("one");
        await client.set(ZNODE, "two");
        expect(await client.get(ZNODE)).toBe("two");
        await client.remove(ZNODE);
        expect(await client.exists(ZNODE)).toBe(false);
        await client.create(ZNODE, "kept for the readers");
    } finally {
        client.close();
    }
});

test("a tickTime change restarts one server at a time, leader last, while a client reads", async () => {
    const before = await modes();
    const leaderBefore = ADDRESSES[before.indexOf("leader")];
    const mark = transcript.length;
    await stack.setAllConfig({ "swarm-ha:zkTickTime": { value: "3000" } });
    const { ops, reads, longestGap, mostDown } = await upWatched(ADDRESSES);
    console.log(
        `tickTime rolling restart: ${reads} reads, longest gap between successful reads ${longestGap} ms, at most ${mostDown} server process(es) down at once`,
    );
    expect(ops.update).toEqual(
        expect.arrayContaining([
            "zookeeper-server-1",
            "zookeeper-server-2",
            "zookeeper-server-3",
            "zookeeper-ready",
        ]),
    );
    expect(ops.create ?? []).toEqual([]);
    expect(ops.delete ?? []).toEqual([]);
    expect(mostDown).toBeLessThanOrEqual(1);
    // The engine's progress, before it repeats each resource's messages under "Diagnostics:".
    const progress = transcript.slice(mark).join("").split("Diagnostics:")[0];
    const restarts = [
        ...new Set([...progress.matchAll(/restarted server (\d)/g)].map((m) => Number(m[1]))),
    ];
    console.log(`restart order: ${restarts.join(", ")}; leader before: ${leaderBefore}`);
    expect([...restarts].sort()).toEqual([1, 2, 3]);
    expect(ADDRESSES[restarts[restarts.length - 1] - 1]).toBe(leaderBefore);
    for (const m of MANAGERS) {
        expect(onHost(m.name, "grep ^tickTime= /etc/zookeeper-ensemble/zoo.cfg")).toBe(
            "tickTime=3000",
        );
    }
    await waitHealthy(60);
});

test("an up killed mid-roll: locked until pulumi cancel, then up finishes the roll; at most one server down, no znode lost", async () => {
    const client = await ZkClient.connect(connect);
    await client.create("/swarm-ha-e2e-interrupted", "written before the kill");
    client.close();
    const { mostDown, longestGap } = await watchedWhile(ADDRESSES, async () => {
        await stack.setAllConfig({ "swarm-ha:zkTickTime": { value: "2500" } });
        await upKilledAt(/restarted server \d/);
        // The killed run left its lock: the next up is refused until `pulumi cancel`.
        await expect(stack.up({ onOutput: record, color: "never" })).rejects.toThrow(/locked/i);
        await stack.cancel();
        await stack.up({ onOutput: record, color: "never" });
    });
    console.log(
        `interrupted roll, recovered by cancel and up: at most ${mostDown} server(s) down at once, longest read gap ${longestGap} ms`,
    );
    expect(mostDown).toBeLessThanOrEqual(1);
    await expectRolledTo(2500);
    const reader = await ZkClient.connect(connect);
    try {
        expect(await reader.get("/swarm-ha-e2e-interrupted")).toBe("written before the kill");
        expect(await reader.get(ZNODE)).toBeDefined();
    } finally {
        reader.close();
    }
});

test("with one server down writes keep working; when it is back, up finds the ensemble whole", async () => {
    const client = await ZkClient.connect(connect);
    try {
        lab("stop", "lab-m3");
        await client.set(ZNODE, "written with a server down");
        expect(await client.get(ZNODE)).toBe("written with a server down");
        lab("start", "lab-m3");
        const result = await stack.up({ onOutput: record, color: "never" });
        expect(changes(result.summary.resourceChanges)).toEqual({});
        expect((await waitHealthy(120)).sort()).toEqual(["follower", "follower", "leader"]);
        expect(await client.get(ZNODE)).toBe("written with a server down");
    } finally {
        client.close();
    }
});

test("a server stopped by hand: writes keep working, preview shows the heal, and up starts it", async () => {
    onHost("lab-m2", "systemctl stop zookeeper-ensemble");
    const client = await ZkClient.connect(connect);
    try {
        await client.set(ZNODE, "written with server 2 stopped");
        expect(await client.get(ZNODE)).toBe("written with server 2 stopped");
    } finally {
        client.close();
    }
    const ops: Ops = {};
    const preview = await stack.preview({ onEvent: opsCollector(ops), color: "never" });
    expect(changes(preview.changeSummary)).toEqual({ update: 1, replace: 3 });
    expect(ops.update).toEqual(["zookeeper-serving"]);
    expect(ops.replace).toEqual(["zookeeper-heal-1", "zookeeper-heal-2", "zookeeper-heal-3"]);
    const mark = transcript.length;
    await stack.up({ onOutput: record, color: "never" });
    expect(transcript.slice(mark).join("")).toMatch(/server 2 was stopped: started it/);
    expect(onHost("lab-m2", "systemctl is-active zookeeper-ensemble")).toBe("active");
    expect((await waitHealthy(60)).sort()).toEqual(["follower", "follower", "leader"]);
    const again = await stack.preview({ color: "never" });
    expect(changes(again.changeSummary)).toEqual({});
    const reader = await ZkClient.connect("172.30.213.12:2181");
    try {
        expect(await reader.get(ZNODE)).toBe("written with server 2 stopped");
        await reader.set(ZNODE, "written with a server down");
    } finally {
        reader.close();
    }
});

test("growing 3 to 5 servers keeps a quorum: the running servers restart one at a time first", async () => {
    await stack.setAllConfig({ "swarm-ha:zkServers": { value: JSON.stringify(FIVE) } });
    const mark = transcript.length;
    const { ops, longestGap, mostDown } = await upWatched(ADDRESSES);
    // No running server restarted with the new list before 4 and 5 followed the leader: with 4
    // and 5 still looking, a restarted server and they could elect a second leader.
    const progress = transcript.slice(mark).join("").split("Diagnostics:")[0];
    const followed = progress.indexOf("added servers 4 5 follow the leader");
    expect(followed).toBeGreaterThan(-1);
    expect(progress.search(/restarted server \d/)).toBeGreaterThan(followed);
    console.log(
        `grow 3 -> 5: longest read gap ${longestGap} ms, at most ${mostDown} of the first 3 down at once`,
    );
    expect(ops.create).toEqual(
        expect.arrayContaining(["zookeeper-install-4", "zookeeper-server-5"]),
    );
    expect(mostDown).toBeLessThanOrEqual(1);
    expect((await healthyModes(FIVE_ADDRESSES, 60)).sort()).toEqual([
        "follower",
        "follower",
        "follower",
        "follower",
        "leader",
    ]);
    const client = await ZkClient.connect("172.30.213.21:2181");
    try {
        expect(await client.get(ZNODE)).toBe("written with a server down");
    } finally {
        client.close();
    }
});

/**
 * Makes the leader of the five servers one of `wanted`. A removed server is made leader by
 * restarting the leader (the election prefers the highest id); a kept one by stopping 4 and 5
 * until 1-3 elect, then starting them again (they follow the leader they find).
 */
async function leadFrom(wanted: string[]): Promise<string> {
    let leader = await leaderAmong(FIVE_ADDRESSES);
    for (let i = 0; i < 4 && !wanted.includes(leader); i++) {
        if (wanted.includes("172.30.213.22")) {
            onHost(HOST_OF[leader], "systemctl restart zookeeper-ensemble");
        } else {
            onHost("lab-w1", "systemctl stop zookeeper-ensemble");
            onHost("lab-w2", "systemctl stop zookeeper-ensemble");
            await leaderAmong(ADDRESSES);
            onHost("lab-w1", "systemctl start zookeeper-ensemble");
            onHost("lab-w2", "systemctl start zookeeper-ensemble");
        }
        await sleep(2000);
        leader = await leaderAmong(FIVE_ADDRESSES);
    }
    expect(wanted).toContain(leader);
    return leader;
}

test("shrinking 5 to 3 without dynamic reconfiguration: a removed leader is refused before anything restarts", async () => {
    const leader = await leadFrom(FIVE_ADDRESSES.slice(3));
    const pids = FIVE_ADDRESSES.map((a) =>
        onHost(HOST_OF[a], "systemctl show -p MainPID --value zookeeper-ensemble"),
    );
    await stack.setAllConfig({ "swarm-ha:zkServers": { value: JSON.stringify(THREE) } });
    await expect(stack.up({ onOutput: record, color: "never" })).rejects.toThrow(
        /leads the ensemble and is being removed; .* nothing was restarted. Keep it in the list, or turn on dynamicReconfig/,
    );
    console.log(`static shrink with the leader ${leader} among the removed: refused`);
    const after = FIVE_ADDRESSES.map((a) =>
        onHost(HOST_OF[a], "systemctl show -p MainPID --value zookeeper-ensemble"),
    );
    expect(after).toEqual(pids);
    expect(await leaderAmong(FIVE_ADDRESSES)).toBe(leader);
    await stack.setAllConfig({ "swarm-ha:zkServers": { value: JSON.stringify(FIVE) } });
});

test("shrinking 5 to 3 without dynamic reconfiguration: with a kept leader, one restart at a time", async () => {
    const leader = await leadFrom(ADDRESSES);
    await stack.setAllConfig({ "swarm-ha:zkServers": { value: JSON.stringify(THREE) } });
    const { ops, longestGap, mostDown } = await upWatched(ADDRESSES);
    console.log(
        `static shrink 5 -> 3 (leader ${leader} kept): longest read gap ${longestGap} ms, at most ${mostDown} of 1-3 down at once`,
    );
    expect(ops.delete).toEqual(
        expect.arrayContaining(["zookeeper-server-4", "zookeeper-server-5"]),
    );
    expect(mostDown).toBeLessThanOrEqual(1);
    expect((await waitHealthy(60)).sort()).toEqual(["follower", "follower", "leader"]);
    expect(await srvrMode("172.30.213.21")).toBe("down");
    expect(onHost("lab-w1", "cat /var/lib/zookeeper/myid")).toBe("4");
});

test("turning on auth (a generated super password) and dynamic reconfiguration restarts the servers one at a time", async () => {
    await stack.setAllConfig({
        "swarm-ha:zkAuth": { value: "true" },
        "swarm-ha:zkDynamicReconfig": { value: "true" },
    });
    const { ops, longestGap, mostDown } = await upWatched(ADDRESSES);
    console.log(
        `static -> dynamic with auth: longest read gap ${longestGap} ms, at most ${mostDown} down at once`,
    );
    // random.RandomPassword makes the super password, on the official random plugin 4.21.1.
    expect(ops.create).toEqual([
        "default_4_21_1",
        "zookeeper-config-salt",
        "zookeeper-members",
        "zookeeper-super-password",
    ]);
    // Nested in the zookeeper output, so the output as a whole is not marked secret; what it must
    // never be is written plain or printed, which the last test checks.
    const zk = (await stack.outputs()).zookeeper;
    superPassword = (zk.value as { superPassword: string }).superPassword;
    expect(superPassword).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(mostDown).toBeLessThanOrEqual(1);
    // The leader still ran without reconfig, so it could not hand over: it restarted in place.
    expect(transcript.join("")).toMatch(/could not hand over \(ZooKeeper answered: .*disabled/);
    expect((await waitHealthy(60)).sort()).toEqual(["follower", "follower", "leader"]);
    for (const m of MANAGERS) {
        expect(onHost(m.name, "grep -c ^server\\. /etc/zookeeper-ensemble/zoo.cfg || true")).toBe(
            "0",
        );
        expect(onHost(m.name, "grep ^reconfigEnabled= /etc/zookeeper-ensemble/zoo.cfg")).toBe(
            "reconfigEnabled=true",
        );
    }
});

test("with dynamic reconfiguration, growing 3 to 5 restarts none of the running servers", async () => {
    const pids = MANAGERS.map((m) =>
        onHost(m.name, "systemctl show -p MainPID --value zookeeper-ensemble"),
    );
    await stack.setAllConfig({ "swarm-ha:zkServers": { value: JSON.stringify(FIVE) } });
    const { ops, longestGap, mostDown } = await upWatched(ADDRESSES);
    console.log(
        `dynamic grow 3 -> 5: longest read gap ${longestGap} ms, at most ${mostDown} of 1-3 down at once`,
    );
    expect(ops.update).toEqual(expect.arrayContaining(["zookeeper-members"]));
    // No restart: the same processes, which the PIDs show. The monitor's figure is reported and
    // bounded rather than required to be 0: a server slower than 4 s under load would count once.
    expect(mostDown).toBeLessThanOrEqual(1);
    expect(
        MANAGERS.map((m) => onHost(m.name, "systemctl show -p MainPID --value zookeeper-ensemble")),
    ).toEqual(pids);
    await leaderAmong(FIVE_ADDRESSES);
    expect(transcript.join("")).toMatch(/members: 1 2 3 -> 1 2 3 4 5/);
});

test("with dynamic reconfiguration, shrinking 5 to 3 removes the leader and keeps a quorum, the other removed server stopped", async () => {
    const leader = await leadFrom(FIVE_ADDRESSES.slice(3));
    // The other server being removed is already stopped: a member that goes need not answer.
    const stopped = FIVE_ADDRESSES.slice(3).find((a) => a !== leader)!;
    onHost(HOST_OF[stopped], "systemctl stop zookeeper-ensemble");
    const pids = MANAGERS.map((m) =>
        onHost(m.name, "systemctl show -p MainPID --value zookeeper-ensemble"),
    );
    await stack.setAllConfig({ "swarm-ha:zkServers": { value: JSON.stringify(THREE) } });
    const { ops, longestGap, mostDown } = await upWatched(ADDRESSES);
    console.log(
        `dynamic shrink 5 -> 3 removing the leader ${leader}, ${stopped} stopped: longest read gap ${longestGap} ms, at most ${mostDown} of 1-3 down at once`,
    );
    expect(ops.delete).toEqual(
        expect.arrayContaining(["zookeeper-server-4", "zookeeper-server-5"]),
    );
    // No kept server restarted: the same processes (the monitor's figure is reported, see above).
    expect(mostDown).toBeLessThanOrEqual(1);
    expect(
        MANAGERS.map((m) => onHost(m.name, "systemctl show -p MainPID --value zookeeper-ensemble")),
    ).toEqual(pids);
    expect((await waitHealthy(60)).sort()).toEqual(["follower", "follower", "leader"]);
    expect(await srvrMode("172.30.213.21")).toBe("down");
    expect(await srvrMode("172.30.213.22")).toBe("down");
    const client = await ZkClient.connect(connect);
    try {
        expect(await client.get(ZNODE)).toBe("written with a server down");
    } finally {
        client.close();
    }
});

test("with dynamic reconfiguration, a tickTime change hands the lead over before the leader restarts, then adds it back", async () => {
    const leader = await leaderAmong(ADDRESSES);
    const leaderId = ADDRESSES.indexOf(leader) + 1;
    const mark = transcript.length;
    await stack.setAllConfig({ "swarm-ha:zkTickTime": { value: "2400" } });
    const { reads, longestGap, mostDown } = await upWatched(ADDRESSES);
    const progress = transcript.slice(mark).join("").split("Diagnostics:")[0];
    const handedTo = Number(/handed the lead to server (\d)/.exec(progress)?.[1]);
    console.log(
        `dynamic tickTime roll: server ${leaderId} handed the lead to ${handedTo}; ${reads} reads, longest gap ${longestGap} ms, at most ${mostDown} down at once`,
    );
    expect(mostDown).toBeLessThanOrEqual(1);
    expect(progress).toContain(`server ${leaderId} handed the lead to server ${handedTo}`);
    expect([1, 2, 3].filter((id) => id !== leaderId)).toContain(handedTo);
    expect(progress).toContain(`restarted server ${leaderId} last, outside the ensemble`);
    expect(progress).toContain(`server ${leaderId} is back in the ensemble`);
    // The followers restarted in place first, each once.
    const restarted = new Set(
        [...progress.matchAll(/restarted server (\d)(?! last)/g)].map((m) => m[1]),
    );
    expect([...restarted].map(Number).sort()).toEqual([1, 2, 3].filter((id) => id !== leaderId));
    await expectRolledTo(2400);
    expect(await leaderAmong(ADDRESSES)).not.toBe(leader);
    await expectAllVoteAgain(leader);
});

/**
 * After a handover: the three vote again (the ensemble's configuration lists each as a
 * participant; the one added back also names its client port), the old leader keeps no handover
 * file, and no host keeps the rule that sent clients away.
 */
async function expectAllVoteAgain(oldLeader: string): Promise<void> {
    const client = await ZkClient.connect(connect);
    try {
        const config = (await client.get("/zookeeper/config")).split("\n");
        const members = config.filter((l) => l.startsWith("server.")).map((l) => l.split(";")[0]);
        expect(members.sort()).toEqual(
            ADDRESSES.map((a, i) => `server.${i + 1}=${a}:2888:3888:participant`),
        );
    } finally {
        client.close();
    }
    expect(onHost(HOST_OF[oldLeader], "ls /etc/zookeeper-ensemble/handover 2>&1 || true")).toMatch(
        /No such file/,
    );
    for (const m of MANAGERS) expect(onHost(m.name, "nft list tables")).not.toContain("zk_drain");
}

test("an up killed once the leader has left the ensemble: the next up restarts it outside and adds it back", async () => {
    const leader = await leaderAmong(ADDRESSES);
    const leaderId = ADDRESSES.indexOf(leader) + 1;
    const mark = transcript.length;
    await stack.setAllConfig({ "swarm-ha:zkTickTime": { value: "2600" } });
    await upKilledAt(/handed the lead to server \d/);
    await stack.cancel();
    await stack.up({ onOutput: record, color: "never" });
    const progress = transcript.slice(mark).join("");
    console.log(
        `handover interrupted: ${[...progress.matchAll(/server \d (?:handed the lead to server \d|is back in the ensemble)|restarted server \d last, outside the ensemble/g)].map((m) => m[0]).join("; ")}`,
    );
    expect(progress).toContain(`server ${leaderId} is back in the ensemble`);
    await expectRolledTo(2600);
    expect(await leaderAmong(ADDRESSES)).not.toBe(leader);
    await expectAllVoteAgain(leader);
});

test("the generated super password is in neither the stored state nor anything the engine printed", async () => {
    const result = await stack.preview({ onOutput: record, color: "never" });
    expect(changes(result.changeSummary)).toEqual({});
    const dir = path.join(process.env.SWARM_HA_STATE!, ".pulumi", "stacks", "swarm-ha");
    const state = fs.readFileSync(path.join(dir, `${stack.name}.json`), "utf8");
    expect(superPassword).not.toBe("");
    expect(state).not.toContain(superPassword);
    expect(transcript.join("")).not.toContain(superPassword);
    // Nor its digest (a dictionary reverses it as well as the password): not in state, not in
    // anything printed, not on any server's command line, which every user of the host sees.
    const digest = superDigest(superPassword).slice("super:".length);
    expect(state).not.toContain(digest);
    expect(transcript.join("")).not.toContain(digest);
    for (const m of MANAGERS) {
        const args = onHost(m.name, "ps -eo args");
        expect(args).toContain("QuorumPeerMain");
        expect(args).not.toContain("superDigest");
        expect(args).not.toContain(digest);
        // zoo.cfg, which holds it, is the zookeeper user's alone, also as ZooKeeper rewrote it on
        // the reconfigurations above.
        expect(onHost(m.name, "stat -c '%a %U' /etc/zookeeper-ensemble/zoo.cfg")).toBe(
            "600 zookeeper",
        );
    }
});

afterAll(async () => {
    await stack?.destroy({ onOutput: record, color: "never" });
});

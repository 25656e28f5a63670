// End to end: a 3-server ZooKeeper ensemble on the lab's managers through the real engine; znodes
// round-trip through its connect string; a tickTime change restarts the servers one at a time,
// leader last, while a client keeps reading; a server down keeps writes working.
import { Stack } from "@pulumi/pulumi/automation";
import { changes, openStack } from "../../scripts/automation";
import { NodeConfig } from "../../config";
import { Ops, lab, onHost, opsCollector, record, removeStack, transcript } from "./helpers";
import { ZkClient } from "./zk";
import { srvrMode } from "../../scripts/srvr";

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

const modes = (): Promise<string[]> => Promise.all(ADDRESSES.map((a) => srvrMode(a)));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitHealthy(seconds: number): Promise<string[]> {
    const until = Date.now() + seconds * 1000;
    let seen: string[] = [];
    while (Date.now() < until) {
        seen = await modes();
        if (
            seen.filter((m) => m === "leader").length === 1 &&
            seen.filter((m) => m === "follower").length === 2
        ) {
            return seen;
        }
        await sleep(1000);
    }
    throw new Error(`ensemble not healthy after ${seconds}s; modes seen: ${seen.join(", ")}`);
}

beforeAll(async () => {
    lab("down");
    // Managers for the cluster and the first three ZooKeeper servers; two spare hosts for growing.
    lab("up", "--managers", "3", "--workers", "2");
    stack = await openStack({ stack: "zk-e2e", settingsFrom: "dev" });
    await removeStack(stack);
    stack = await openStack({ stack: "zk-e2e", settingsFrom: "dev" });
    await stack.setAllConfig({ "swarm-ha:nodes": { value: JSON.stringify(MANAGERS) } });
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
    const client = await ZkClient.connect(connect);
    let reading = true;
    let lastRead = Date.now();
    let longestGap = 0;
    let reads = 0;
    let mostDown = 0;
    const reader = (async () => {
        const until = Date.now() + 15 * 60 * 1000;
        while (reading && Date.now() < until) {
            try {
                await client.get(ZNODE);
                const now = Date.now();
                longestGap = Math.max(longestGap, now - lastRead);
                lastRead = now;
                reads++;
            } catch {
                // counted as part of the gap
            }
            await sleep(100);
        }
    })();
    const monitor = (async () => {
        const until = Date.now() + 15 * 60 * 1000;
        while (reading && Date.now() < until) {
            const seen = await modes();
            mostDown = Math.max(mostDown, seen.filter((m) => m === "down").length);
            await sleep(250);
        }
    })();
    const mark = transcript.length;
    const ops: Ops = {};
    try {
        await stack.setAllConfig({ "swarm-ha:zkTickTime": { value: "3000" } });
        await stack.up({ onOutput: record, onEvent: opsCollector(ops), color: "never" });
    } finally {
        reading = false;
        await Promise.all([reader, monitor]);
        client.close();
    }
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

/**
 * Runs `up` while a client reads every 100 ms and a monitor asks every server `srvr` every 250 ms.
 * Returns the longest gap between successful reads and the most of `watched` down at once.
 */
async function upWatched(
    watched: string[],
): Promise<{ ops: Ops; longestGap: number; mostDown: number }> {
    const client = await ZkClient.connect(connect);
    let going = true;
    let lastRead = Date.now();
    let longestGap = 0;
    let mostDown = 0;
    const bounded = Date.now() + 15 * 60 * 1000;
    const reader = (async () => {
        while (going && Date.now() < bounded) {
            try {
                await client.get(ZNODE);
                longestGap = Math.max(longestGap, Date.now() - lastRead);
                lastRead = Date.now();
            } catch {
                // part of the gap
            }
            await sleep(100);
        }
    })();
    const monitor = (async () => {
        while (going && Date.now() < bounded) {
            const seen = await Promise.all(watched.map((a) => srvrMode(a)));
            mostDown = Math.max(mostDown, seen.filter((m) => m === "down").length);
            await sleep(250);
        }
    })();
    const ops: Ops = {};
    try {
        await stack.up({ onOutput: record, onEvent: opsCollector(ops), color: "never" });
    } finally {
        going = false;
        await Promise.all([reader, monitor]);
        client.close();
    }
    return { ops, longestGap, mostDown };
}

test("growing 3 to 5 servers keeps a quorum: the running servers restart one at a time first", async () => {
    await stack.setAllConfig({ "swarm-ha:zkServers": { value: JSON.stringify(FIVE) } });
    const { ops, longestGap, mostDown } = await upWatched(ADDRESSES);
    console.log(
        `grow 3 -> 5: longest read gap ${longestGap} ms, at most ${mostDown} of the first 3 down at once`,
    );
    expect(ops.create).toEqual(
        expect.arrayContaining(["zookeeper-install-4", "zookeeper-server-5"]),
    );
    expect(mostDown).toBeLessThanOrEqual(1);
    const five = [...ADDRESSES, "172.30.213.21", "172.30.213.22"];
    const until = Date.now() + 60000;
    let seen: string[] = [];
    while (Date.now() < until) {
        seen = await Promise.all(five.map((a) => srvrMode(a)));
        if (
            seen.filter((m) => m === "leader").length === 1 &&
            seen.filter((m) => m === "follower").length === 4
        )
            break;
        await sleep(1000);
    }
    expect(seen.sort()).toEqual(["follower", "follower", "follower", "follower", "leader"]);
    const client = await ZkClient.connect("172.30.213.21:2181");
    try {
        expect(await client.get(ZNODE)).toBe("written with a server down");
    } finally {
        client.close();
    }
});

test("shrinking 5 to 3: with a kept leader it keeps a quorum; with a removed leader it refuses before restarting anything", async () => {
    const five = [...ADDRESSES, "172.30.213.21", "172.30.213.22"];
    const leader = five[(await Promise.all(five.map((a) => srvrMode(a)))).indexOf("leader")];
    await stack.setAllConfig({ "swarm-ha:zkServers": { value: JSON.stringify(THREE) } });
    if (ADDRESSES.includes(leader)) {
        const { ops, longestGap, mostDown } = await upWatched(ADDRESSES);
        console.log(
            `shrink 5 -> 3 (leader ${leader} kept): longest read gap ${longestGap} ms, at most ${mostDown} down`,
        );
        expect(ops.delete).toEqual(
            expect.arrayContaining(["zookeeper-server-4", "zookeeper-server-5"]),
        );
        expect(mostDown).toBeLessThanOrEqual(1);
        expect((await waitHealthy(60)).sort()).toEqual(["follower", "follower", "leader"]);
        expect(await srvrMode("172.30.213.21")).toBe("down");
        expect(onHost("lab-w1", "cat /var/lib/zookeeper/myid")).toBe("4");
    } else {
        console.log(`shrink 5 -> 3 with the leader ${leader} among the removed: refused`);
        await expect(stack.up({ onOutput: record, color: "never" })).rejects.toThrow(
            /leads the ensemble and is being removed; .* nothing was restarted/,
        );
        const modes5 = await Promise.all(five.map((a) => srvrMode(a)));
        expect(modes5.sort()).toEqual(["follower", "follower", "follower", "follower", "leader"]);
        await stack.setAllConfig({ "swarm-ha:zkServers": { value: JSON.stringify(FIVE) } });
        await stack.up({ onOutput: record, color: "never" });
        expect((await Promise.all(five.map((a) => srvrMode(a)))).sort()).toEqual(modes5.sort());
    }
});

afterAll(async () => {
    await stack?.destroy({ onOutput: record, color: "never" });
});

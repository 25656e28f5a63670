// The clients of the ZooKeeper bench, in a process of their own so that the engine's work in the
// bench's process (an inline program) never delays them: 3 read and 3 write one znode every 50 ms
// through the connect string. Prints "ready" once every session is up; when its stdin ends, prints
// one line of JSON: the longest gap between two successes of any reader and of any writer, in ms,
// and every gap over 300 ms with the time it ended.
//   ts-node scripts/zkClients.ts CONNECT_STRING SPIN_DELAY_MS
import { ZkClient } from "../components/internal";

const ZNODE = "/swarm-ha-bench";
const PERIOD_MS = 50;
/** However the parent ends, the clients stop within this. */
const BOUND_MS = 15 * 60 * 1000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
    const [connect, spin] = process.argv.slice(2);
    // No retries inside the library (its back-off starts at 1 s): each client tries again itself
    // every 50 ms.
    const options = { spinDelayMs: Number(spin ?? "1000"), retries: 0 };
    const setup = await ZkClient.connect(connect, options);
    if (!(await setup.exists(ZNODE))) await setup.create(ZNODE, "0");
    setup.close();
    const sessions = await Promise.all(
        [0, 1, 2, 3, 4, 5].map(() => ZkClient.connect(connect, options)),
    );
    let going = true;
    const stopped = new Promise<void>((resolve) => process.stdin.on("end", resolve).resume());
    void stopped.then(() => (going = false));
    const long: { kind: string; ms: number; ended: string }[] = [];
    const until = Date.now() + BOUND_MS;
    const run = async (zk: ZkClient, write: boolean): Promise<number> => {
        let last = Date.now();
        let longest = 0;
        for (let i = 0; going && Date.now() < until; i++) {
            try {
                await (write ? zk.set(ZNODE, String(i)) : zk.get(ZNODE));
                const gap = Date.now() - last;
                if (gap > 300)
                    long.push({
                        kind: write ? "write" : "read",
                        ms: gap,
                        ended: new Date().toISOString(),
                    });
                longest = Math.max(longest, gap);
                last = Date.now();
            } catch {
                // part of the gap
            }
            await sleep(PERIOD_MS);
        }
        zk.close();
        return longest;
    };
    const runs = sessions.map((zk, i) => run(zk, i >= 3));
    console.log("ready");
    const gaps = await Promise.all(runs);
    console.log(
        JSON.stringify({
            read: Math.max(...gaps.slice(0, 3)),
            write: Math.max(...gaps.slice(3)),
            long,
        }),
    );
}

main().catch((e: Error) => {
    console.error(`zkClients: ${e.message}`);
    process.exit(1);
});

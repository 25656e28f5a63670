// `npm run bench`: what converging the dev cluster costs, measured on fresh lab hosts, next to the
// floor: the same remote scripts run directly over SSH, in parallel wherever the steps allow; then a
// service created, updated and scaled through the Docker plugin, each next to the same change made
// with the docker CLI over SSH; then the service registry's lag over many task changes; then
// ZooKeeper's rolling restarts with the gaps clients see. Prints figures; asserts nothing. About 20
// minutes (two fresh labs). `npm run bench -- converge` measures converges from bare hosts at 3, 7
// and 18 hosts next to the floor, and `npm run bench -- preview` previews and no-op ups.
import { execFileSync, spawn } from "child_process";
import { Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as path from "path";
import {
    REPO,
    changes,
    labInfo,
    labNodes,
    labStackEnv,
    loadEnv,
    openStack,
    stackNodes,
    withoutEnsemble,
} from "./automation";
import { renderScript } from "../components/host/remoteScript";
import { firewallParameters } from "../components/host/firewall";
import { labelLines } from "../components/swarm/swarmCluster";
import { NodeConfig } from "../config";
import { ZkClient } from "../components/internal";
import { Row, cliRun, previewBench, printRows } from "./benchPreview";
import { Figure, writeMeasured } from "./measured";

const LAB = `${__dirname}/../lab/lab.sh`;
const NODES: NodeConfig[] = stackNodes("dev");
/** The web image under a second tag: an image update that needs nothing pulled. */
const NEXT_IMAGE = "swarm-ha-web:bench-next";

function lab(...args: string[]): void {
    execFileSync("bash", [LAB, ...args], { stdio: ["ignore", "ignore", "inherit"] });
}

async function timed<T>(what: string, f: () => Promise<T>): Promise<number> {
    const start = process.hrtime.bigint();
    await f();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`${what.padEnd(58)} ${seconds.toFixed(1).padStart(6)} s`);
    return seconds;
}

/** Runs a script on a host over SSH with the lab key, stdin given; resolves with stdout. */
function ssh(host: string, script: string, stdin = ""): Promise<string> {
    const info = labInfo();
    return new Promise((resolve, reject) => {
        const child = spawn("ssh", [
            "-i",
            info.privateKeyPath,
            "-o",
            `UserKnownHostsFile=${info.knownHosts}`,
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            `root@${host}`,
            script,
        ]);
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("close", (code) =>
            code === 0 ? resolve(out) : reject(new Error(`${host}: exit ${code}: ${err}`)),
        );
        child.stdin.end(stdin);
    });
}

const value = (out: string, key: string): string =>
    new RegExp(`^${key}=(.*)$`, "m").exec(out)?.[1] ?? "";

/**
 * The cluster's steps, run directly on `nodes`: the time no tool can beat with these scripts. Every
 * host at once: its firewall (the rules, then their confirmation over a new connection) beside
 * Docker's install; then init on the first manager once the managers have Docker and every host its
 * rules, the other managers joining one at a time, the workers at once; then each node's settings
 * and the wait until every node is Ready. The same scripts and parameters as the stack's steps.
 */
async function floor(nodes: NodeConfig[]): Promise<void> {
    const managers = nodes.filter((n) => n.role === "manager");
    const [m1] = managers;
    const base = (n: NodeConfig) => ({ NODE: n.name, HOST: n.host });
    const rules = firewallParameters(
        {},
        nodes.map((n) => n.host),
        "2377",
        4789,
    );
    const firewall = async (n: NodeConfig): Promise<void> => {
        const out = await ssh(n.host, renderScript("firewall", { ...base(n), ...rules }));
        await ssh(
            n.host,
            renderScript("firewall-confirm", { ...base(n), GENERATION: value(out, "generation") }),
        );
    };
    const docker = (n: NodeConfig) =>
        ssh(n.host, renderScript("docker", { ...base(n), INSTALL: "distro", DOCKER_VERSION: "" }));
    const firewalls = Promise.all(nodes.map(firewall));
    const installs = new Map(nodes.map((n) => [n.name, docker(n)]));
    await Promise.all([firewalls, ...managers.map((m) => installs.get(m.name))]);
    const init = await ssh(
        m1.host,
        renderScript("init", {
            ...base(m1),
            ADVERTISE_ADDR: m1.host,
            SWARM_PORT: "2377",
            OTHER_MANAGERS: managers
                .slice(1)
                .map((m) => m.host)
                .join(" "),
            INIT_FLAGS: "",
            UPDATE_FLAGS: "",
        }),
    );
    const tokens = await ssh(m1.host, renderScript("tokens", { ...base(m1), AUTOLOCK: "false" }));
    const ids: Record<string, string> = { [m1.name]: value(init, "node") };
    const join = async (n: NodeConfig): Promise<void> => {
        await installs.get(n.name);
        const out = await ssh(
            n.host,
            renderScript("join", {
                ...base(n),
                ADVERTISE_ADDR: n.host,
                SWARM_PORT: "2377",
                JOIN_ADDR: m1.host,
                MANAGERS: managers.map((m) => m.host).join(" "),
            }),
            value(tokens, n.role),
        );
        ids[n.name] = value(out, "node");
    };
    for (const n of managers.slice(1)) {
        await join(n);
    }
    await Promise.all(nodes.filter((x) => x.role === "worker").map(join));
    await Promise.all(
        nodes.map((n) =>
            ssh(
                m1.host,
                renderScript("node", {
                    ...base(m1),
                    NODE_ID: ids[n.name],
                    ADVERTISE_ADDR: n.host,
                    ROLE: n.role,
                    AVAILABILITY: "active",
                    LABELS: labelLines(n.labels),
                }),
            ),
        ),
    );
    await ssh(
        m1.host,
        renderScript("ready", {
            ...base(m1),
            EXPECTED: nodes.map((n) => `${n.name} ${ids[n.name]} ${n.role}`).join("\n"),
            ATTEMPTS: "60",
            INTERVAL: "2",
        }),
    );
}

/** The sizes `npm run bench -- converge` measures: managers and workers. */
const CONVERGE_SIZES: Record<string, [number, number]> = {
    "3": [3, 0],
    "7": [3, 4],
    "18": [9, 9],
};

/**
 * A converge from bare hosts (no Docker) through `pulumi up` next to the floor (the same scripts
 * by hand over SSH, fully parallel, see {@link floor}), on a fresh lab of each size: the cluster
 * alone with the dev stack's settings (the firewall on), the engine running every step it can at
 * once (--parallel of 4 per host: with the CLI's default, 4 per core, 18 hosts' firewall
 * confirmations queue past their window). The two converges run on two fresh labs, the stack's
 * first; Docker's packages come from the same mirror both times.
 */
async function converge(sizes: string[]): Promise<void> {
    const rows: string[] = [];
    for (const size of sizes) {
        const [managers, workers] = CONVERGE_SIZES[size];
        const stack = await freshStack(managers, workers);
        const nodes = labNodes();
        await stack.setConfig("swarm-ha:nodes", { value: JSON.stringify(nodes) });
        const viaPulumi = await timed(`pulumi up: ${size} bare hosts to converged`, async () => {
            const r = await stack.up({ color: "never", parallel: 4 * nodes.length });
            if (Object.keys(changes(r.summary.resourceChanges)).join() !== "create") {
                throw new Error(`unexpected changes ${JSON.stringify(r.summary.resourceChanges)}`);
            }
        });
        await stack.workspace.removeStack("bench", { force: true });
        lab("down");
        lab("up", "--managers", String(managers), "--workers", String(workers));
        const byHand = await timed(`floor: ${size} hosts, the same scripts over SSH`, () =>
            floor(nodes),
        );
        rows.push(
            `  ${size.padStart(2)} hosts (${managers} managers, ${workers} workers): pulumi up ${viaPulumi.toFixed(1)} s, floor ${byHand.toFixed(1)} s, ${(viaPulumi / byHand).toFixed(2)} times the floor`,
        );
        writeMeasured(
            `converge-${size}`,
            `converge ${size}`,
            ["hosts", "`pulumi up`", "floor"],
            [
                {
                    what: `${size} (${managers} managers, ${workers} workers)`,
                    project: viaPulumi,
                    reference: byHand,
                },
            ],
        );
    }
    console.log("converge from bare hosts, the cluster with its firewall:");
    rows.forEach((r) => console.log(r));
}

/**
 * A service's life on the converged cluster, each change through `pulumi up` (the Docker plugin) and
 * then the same change with the docker CLI over SSH on a manager, for a service of its own (another
 * port), with the same update settings. Both wait until the swarm has converged.
 */
async function services(stack: Stack): Promise<void> {
    lab("load-image", NEXT_IMAGE);
    // From no service, also on a stack an earlier run kept (BENCH_KEEP).
    await stack.setConfig("swarm-ha:services", { value: "{}" });
    await stack.up({ color: "never" });
    const update = { parallelism: 1, delay: "1s", monitor: "3s", order: "start-first" };
    const web = (image: string, replicas: number) => ({
        web: {
            image,
            replicas,
            ports: [{ target: 80, published: 80, mode: "host" }],
            endpointMode: "dnsrr",
            update,
        },
    });
    // Each change through the plain CLI, as a user's `pulumi up --yes --skip-preview` from the
    // repository, on the bench stack's settings; its breakdown is printed after its time.
    const env = labStackEnv(loadEnv());
    const settings = path.join(stack.workspace.workDir, "Pulumi.bench.yaml");
    const up = (image: string, replicas: number) => async () => {
        await stack.setConfig("swarm-ha:services", { value: JSON.stringify(web(image, replicas)) });
        const run = await cliRun(
            ["up", "--yes", "--skip-preview", "--stack", "bench", "--config-file", settings],
            env,
        );
        lastRows = run.rows;
    };
    let lastRows: Row[] = [];
    const manager = NODES[0].host;
    const cli = (args: string) => () => ssh(manager, `docker service ${args} >/dev/null`);
    const flags =
        "--update-parallelism 1 --update-delay 1s --update-monitor 3s --update-order start-first";
    const steps: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
        [
            "service create, 3 replicas",
            up("swarm-ha-web:3", 3),
            cli(
                `create --detach=false --name cli --replicas 3 --publish mode=host,target=80,published=8081 --endpoint-mode dnsrr ${flags} swarm-ha-web:3`,
            ),
        ],
        [
            "image update, rolling one task at a time",
            up(NEXT_IMAGE, 3),
            cli(`update --detach=false --image ${NEXT_IMAGE} cli`),
        ],
        ["scale 3 to 4", up(NEXT_IMAGE, 4), cli("scale --detach=false cli=4")],
    ];
    const figures: Figure[] = [];
    for (const [what, viaPulumi, viaCli] of steps) {
        const pulumiSeconds = await timed(`pulumi up: ${what}`, viaPulumi);
        const cliSeconds = await timed(`docker CLI over SSH: ${what}`, viaCli);
        console.log(
            `    ${(pulumiSeconds / cliSeconds).toFixed(2)} times the CLI's; where the up's time went:`,
        );
        printRows(lastRows);
        figures.push({ what, project: pulumiSeconds, reference: cliSeconds });
    }
    await ssh(manager, "docker service rm cli >/dev/null");
    writeMeasured(
        "services",
        "services",
        ["change", "`pulumi up`", "docker CLI over SSH"],
        figures,
    );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The q-quantile of the values (nearest rank). */
function quantile(values: number[], q: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * The registry's lag: ZooKeeper is given the ensemble and a registered service, `lag`, whose tasks are
 * then started and stopped by `docker service scale` and killed by `docker kill`, on a manager over
 * SSH. A client here watches /services/lag and notes when each task's znode appears and goes. A
 * task's start is the swarm's timestamp of its running state; a stop by scale is the service's
 * update time (the swarm orders the stop then); a kill is the failed task's timestamp. The lab's
 * hosts share this machine's clock.
 */
async function registryLag(stack: Stack): Promise<void> {
    await stack.setConfig("swarm-ha:zkServers", {
        value: JSON.stringify([1, 2, 3].map((id) => ({ id, node: `lab-m${id}` }))),
    });
    const lag = { image: "swarm-ha-web:3", replicas: 2, register: true, registerPort: 80 };
    await stack.setConfig("swarm-ha:services", { value: JSON.stringify({ lag }) });
    await timed("pulumi up: ZooKeeper and the registry added", () => stack.up({ color: "never" }));
    const manager = NODES[0].host;
    const connect = NODES.filter((n) => n.role === "manager")
        .map((n) => `${n.host}:2181`)
        .join(",");
    const zk = await ZkClient.connect(connect);
    const appeared = new Map<string, number>();
    const gone = new Map<string, number>();
    let watching = true;
    const watcher = (async () => {
        let known = new Set<string>();
        while (watching) {
            const { names, changed } = await zk.watchChildren("/services/lag");
            const now = Date.now();
            for (const id of names) if (!known.has(id) && !appeared.has(id)) appeared.set(id, now);
            for (const id of known) if (!names.includes(id)) gone.set(id, now);
            known = new Set(names);
            await Promise.race([changed, sleep(1000)]);
        }
    })();
    const started = new Map<string, number>();
    const stopped = new Map<string, number>();
    /** The running tasks' IDs with the time each started running. */
    const runningTasks = async (): Promise<Map<string, number>> => {
        const out = await ssh(
            manager,
            "docker service ps lag -q --no-trunc --filter desired-state=running | xargs -r docker inspect -f '{{.ID}} {{.Status.State}} {{json .Status.Timestamp}}'",
        );
        const tasks = new Map<string, number>();
        for (const [id, state, at] of out
            .trim()
            .split("\n")
            .map((l) => l.split(" "))) {
            if (state === "running") tasks.set(id, Date.parse(JSON.parse(at) as string));
        }
        return tasks;
    };
    const settle = async (n: number): Promise<Map<string, number>> => {
        for (let i = 0; i < 120; i++, await sleep(250)) {
            const tasks = await runningTasks();
            if (tasks.size === n) return tasks;
        }
        throw new Error(`lag: ${n} running tasks expected within 30 s`);
    };
    // The first two tasks ran before the watch began: not measured.
    const before = new Set((await settle(2)).keys());
    const record = (tasks: Map<string, number>): void => {
        for (const [id, at] of tasks) if (!before.has(id) && !started.has(id)) started.set(id, at);
    };
    for (let cycle = 0; cycle < 6; cycle++) {
        await ssh(manager, "docker service scale --detach lag=6 >/dev/null 2>&1");
        const six = await settle(6);
        record(six);
        await ssh(manager, "docker service scale --detach lag=2 >/dev/null 2>&1");
        const orderedAt = Date.parse(
            await ssh(manager, "docker service inspect -f '{{.UpdatedAt}}' lag"),
        );
        const after = await settle(2);
        for (const id of six.keys()) if (!after.has(id)) stopped.set(id, orderedAt);
    }
    for (let kill = 0; kill < 4; kill++) {
        const tasks = await settle(2);
        const [id] = [...tasks.keys()];
        const node = (await ssh(manager, `docker inspect -f '{{.NodeID}}' ${id}`)).trim();
        const host = (
            await ssh(manager, `docker node inspect -f '{{.Status.Addr}}' ${node}`)
        ).trim();
        await ssh(
            host,
            `docker kill $(docker ps -q --filter label=com.docker.swarm.task.id=${id})`,
        );
        for (let i = 0; i < 120; i++, await sleep(250)) {
            const failedAt = await ssh(
                manager,
                `docker inspect -f '{{.Status.State}} {{json .Status.Timestamp}}' ${id}`,
            );
            const [state, at] = failedAt.trim().split(" ");
            if (state !== "running") {
                stopped.set(id, Date.parse(JSON.parse(at) as string));
                break;
            }
        }
        record(await settle(2));
    }
    await sleep(2000);
    watching = false;
    await watcher;
    zk.close();
    const lags = (events: Map<string, number>, seen: Map<string, number>): number[] =>
        [...events].filter(([id]) => seen.has(id)).map(([id, at]) => seen.get(id)! - at);
    const starts = lags(started, appeared);
    const stops = lags(stopped, gone);
    const all = [...starts, ...stops];
    const missing = started.size + stopped.size - all.length;
    const figures = (xs: number[]): string =>
        `p50 ${quantile(xs, 0.5)} ms, p99 ${quantile(xs, 0.99)} ms, max ${Math.max(...xs)} ms`;
    console.log(
        `registry lag over ${all.length} task changes (${missing} not seen): ${figures(all)}`,
    );
    console.log(`  ${starts.length} starts (scale up, replacements): ${figures(starts)}`);
    console.log(`  ${stops.length} stops (scale down, kills): ${figures(stops)}`);
}

/**
 * How long a client waits, at random, before another round of servers after trying each once: the
 * bench's clients use 100 ms rather than node-zookeeper-client's 1000, so that the gaps measured are
 * the ensemble's, not the client library's wait.
 */
const BENCH_SPIN_DELAY_MS = 100;

/**
 * Runs `work` while 3 clients read and 3 write one znode every 50 ms through the connect string (so
 * some sit on the leader), in a process of their own (scripts/zkClients.ts: the engine's work here
 * never delays them); returns the longest time between two successes of any reader and of any
 * writer, in ms.
 */
async function clientGaps(
    connect: string,
    work: () => Promise<unknown>,
): Promise<{ read: number; write: number }> {
    const child = spawn(
        `${__dirname}/../node_modules/.bin/ts-node`,
        ["--transpile-only", `${__dirname}/zkClients.ts`, connect, String(BENCH_SPIN_DELAY_MS)],
        { stdio: ["pipe", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    for (let i = 0; i < 600 && !out.includes("ready\n"); i++) {
        if (child.exitCode !== null) throw new Error(`zkClients exited with ${child.exitCode}`);
        await sleep(100);
    }
    if (!out.includes("ready\n")) {
        child.kill();
        throw new Error("zkClients: no sessions within 60 s");
    }
    try {
        await work();
    } finally {
        child.stdin.end();
    }
    const code = await exited;
    const last = out.trim().split("\n").pop() ?? "";
    if (code !== 0 || !last.startsWith("{"))
        throw new Error(`zkClients exited with ${code}: ${last}`);
    return JSON.parse(last) as { read: number; write: number };
}

/** The longest read and write gaps of each run, by ensemble size and method. */
type Rolls = { servers: number; method: string; gaps: { read: number; write: number }[] };

/**
 * ZooKeeper's rolling restarts: a tickTime change rolled over the whole ensemble, 3 runs each, by
 * both methods in the same run: static membership (one server at a time, the leader last: the
 * others elect a new leader) and dynamic reconfiguration (the leader hands over to a synced
 * follower before its restart); first on 3 servers, then 5, then 5 and 3 with dynamic
 * reconfiguration on. Prints each run's longest read and write gaps, then a summary.
 */
async function zkRolls(stack: Stack): Promise<void> {
    const three = [1, 2, 3].map((id) => ({ id, node: `lab-m${id}` }));
    const five = [...three, { id: 4, node: "lab-w1" }, { id: 5, node: "lab-w2" }];
    const connect = (n: number) =>
        ["172.30.213.11", "172.30.213.12", "172.30.213.13", "172.30.213.21", "172.30.213.22"]
            .slice(0, n)
            .map((a) => `${a}:2181`)
            .join(",");
    let tick = 2000;
    const summary: Rolls[] = [];
    const rolls = async (n: number, method: string): Promise<void> => {
        const measured: Rolls = { servers: n, method, gaps: [] };
        for (let run = 1; run <= 3; run++) {
            tick = tick === 2000 ? 2200 : 2000;
            await stack.setConfig("swarm-ha:zkTickTime", { value: String(tick) });
            let started = 0;
            const gaps = await clientGaps(connect(n), () => {
                started = Date.now();
                return stack.up({ color: "never" });
            });
            measured.gaps.push(gaps);
            console.log(
                `zookeeper roll, ${n} servers, ${method}, run ${run}: longest read gap ${gaps.read} ms, write gap ${gaps.write} ms (${((Date.now() - started) / 1000).toFixed(0)} s)`,
            );
        }
        summary.push(measured);
    };
    await stack.setAllConfig({
        "swarm-ha:zkServers": { value: JSON.stringify(three) },
        "swarm-ha:zkHeapMb": { value: "256" },
    });
    await timed("pulumi up: 3 ZooKeeper servers", () => stack.up({ color: "never" }));
    await rolls(3, "static (election)");
    await stack.setConfig("swarm-ha:zkServers", { value: JSON.stringify(five) });
    await timed("pulumi up: grown to 5 servers (rolling)", () => stack.up({ color: "never" }));
    await rolls(5, "static (election)");
    await stack.setAllConfig({
        "swarm-ha:zkAuth": { value: "true" },
        "swarm-ha:zkDynamicReconfig": { value: "true" },
    });
    await timed("pulumi up: auth and dynamicReconfig on", () => stack.up({ color: "never" }));
    await rolls(5, "dynamic (handover)");
    await stack.setConfig("swarm-ha:zkServers", { value: JSON.stringify(three) });
    await timed("pulumi up: shrunk to 3 (reconfig)", () => stack.up({ color: "never" }));
    await rolls(3, "dynamic (handover)");
    console.log("zookeeper rolls, longest gaps over 3 runs each (ms):");
    for (const r of summary.sort((a, b) => a.servers - b.servers)) {
        const list = (k: "read" | "write") => r.gaps.map((g) => g[k]).join("/");
        console.log(
            `  ${r.servers} servers, ${r.method.padEnd(19)} read ${list("read")}, write ${list("write")}`,
        );
    }
}

/** Whether a bench stack kept by an earlier run (BENCH_KEEP=1) is there. */
async function benchStackKept(): Promise<boolean> {
    const env = loadEnv();
    const settings = path.join(env.SWARM_HA_CACHE, "workspaces", "bench", "Pulumi.bench.yaml");
    if (!fs.existsSync(settings)) return false;
    const stacks = execFileSync("pulumi", ["stack", "ls", "--json"], {
        cwd: path.dirname(settings),
        env: labStackEnv(env),
        encoding: "utf8",
    });
    return (JSON.parse(stacks) as { name: string }[]).some((s) => s.name === "bench");
}

/**
 * A fresh lab (3 managers and 2 workers unless told) and the bench stack on it, from the dev stack's
 * settings, with the cluster alone.
 */
async function freshStack(managers = 3, workers = 2): Promise<Stack> {
    lab("down");
    lab("up", "--managers", String(managers), "--workers", String(workers));
    execFileSync("docker", ["tag", "swarm-ha-web:3", NEXT_IMAGE]);
    let stack = await openStack({ stack: "bench", settingsFrom: "dev" });
    // A bench run killed earlier leaves the stack locked: unlock it first, as a user would.
    await stack.cancel().catch(() => undefined);
    await stack.workspace.removeStack("bench", { force: true });
    stack = await openStack({ stack: "bench", settingsFrom: "dev" });
    await withoutEnsemble(stack);
    await stack.removeConfig("swarm-ha:services");
    // The monitoring's services would only add to each converge measured here.
    await stack.setConfig("swarm-ha:monitoring", { value: JSON.stringify({ enabled: false }) });
    return stack;
}

/**
 * `npm run bench` measures everything; `npm run bench -- services` the service changes next to the
 * docker CLI alone, `npm run bench -- registry` the registry's lag alone,
 * `npm run bench -- zookeeper` ZooKeeper's rolling restarts alone, and `npm run bench -- preview`
 * the phases of a preview and of a no-op up with the plain CLI (`preview dev` or `preview 18`: the
 * dev stack or the 18 hosts only), `npm run bench -- converge [3] [7] [18]` converges from bare
 * hosts next to the floor. With BENCH_KEEP=1 a part (services, registry, zookeeper) keeps the bench
 * stack, and runs on the one an earlier such run kept, as long as the lab is still that run's.
 */
async function main(): Promise<void> {
    const only = process.argv[2];
    // The program as the CLI runs it, built now: a source newer than bin/ would have the first
    // measured run compile it (launch.js), seconds that no later run pays.
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.json"], {
        cwd: REPO,
        stdio: "inherit",
    });
    if (only === "preview") {
        await previewBench(process.argv[3] ? [process.argv[3]] : ["dev", "18"]);
        return;
    }
    if (only === "converge") {
        const sizes = process.argv.slice(3);
        const unknown = sizes.filter((n) => !Object.keys(CONVERGE_SIZES).includes(n));
        if (unknown.length > 0)
            throw new Error(
                `converge: no size ${unknown.join(", ")}; use ${Object.keys(CONVERGE_SIZES).join(", ")}`,
            );
        await converge(sizes.length > 0 ? sizes : Object.keys(CONVERGE_SIZES));
        lab("down");
        lab("up");
        return;
    }
    console.log("bench: 3 managers + 2 workers on fresh lab hosts (Docker installed from Debian)");
    const parts: Record<string, (stack: Stack) => Promise<void>> = {
        services,
        registry: registryLag,
        zookeeper: zkRolls,
    };
    if (only !== undefined) {
        if (!parts[only])
            throw new Error(`no part named ${only}; use ${Object.keys(parts).join(" or ")}`);
        // BENCH_KEEP=1: the bench stack is kept at the end, and a kept one is used as it is (the
        // lab as that run left it), to measure again without a converge from bare hosts.
        const keep = process.env.BENCH_KEEP === "1";
        const kept = keep && (await benchStackKept());
        const stack = kept
            ? await openStack({ stack: "bench", keepSettings: true, lab: false })
            : await freshStack();
        await timed(`pulumi up: ${kept ? "the kept stack" : "bare hosts to converged"}`, () =>
            stack.up({ color: "never" }),
        );
        await parts[only](stack);
        if (!keep) await stack.workspace.removeStack("bench", { force: true });
        return;
    }
    const stack = await freshStack();
    // The cluster alone, as the floor below does the cluster's steps only.
    await timed("pulumi up: bare hosts to converged", async () => {
        const r = await stack.up({ color: "never" });
        if (Object.keys(changes(r.summary.resourceChanges)).join() !== "create") {
            throw new Error(`unexpected changes ${JSON.stringify(r.summary.resourceChanges)}`);
        }
    });
    await timed("pulumi up with nothing to change", () => stack.up({ color: "never" }));
    await timed("pulumi preview", () => stack.preview({ color: "never" }));
    await services(stack);
    await registryLag(stack);
    await stack.setConfig("swarm-ha:services", { value: "{}" });
    await zkRolls(stack);
    await stack.workspace.removeStack("bench", { force: true });

    lab("down");
    lab("up", "--managers", "3", "--workers", "2");
    await timed("floor: the same scripts over SSH, parallel where allowed", () => floor(NODES));
    lab("down");
    lab("up");
}

main().catch((e: Error) => {
    console.error(`bench: ${e.message}`);
    process.exit(1);
});

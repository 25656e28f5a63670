// `npm run bench -- preview`: where the time of a preview and of a no-op `up` goes, with the plain
// CLI from the repository root as users run it, on a converged stack: the dev stack on fresh lab
// hosts, then the same settings on 9 managers and 9 workers. Each run's phases come from the CLI's
// streamed engine events (when each arrives) and from the program's own records (phases.ts); the
// same questions asked by hand over SSH are timed next to them. Prints figures; asserts nothing.
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { REPO, labInfo, labNodes, labStackEnv, loadEnv } from "./automation";
import { readPhases } from "../phases";
import { writeMeasured } from "./measured";

const RUNS = 3;
const LAB = path.join(REPO, "lab", "lab.sh");

/** One row of a run's breakdown: a phase, when it started after the CLI did, and its length. */
export interface Row {
    name: string;
    at: number;
    seconds: number;
}

/** One timed CLI run: its whole time and its breakdown. */
interface CliRun {
    seconds: number;
    rows: Row[];
}

function lab(...args: string[]): void {
    execFileSync("bash", [LAB, ...args], { stdio: ["ignore", "ignore", "inherit"] });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1];

/** The engine events' resource type → the provider doing the step (components count as "program"). */
function stepper(type: string): string {
    if (type.startsWith("pulumi:providers:")) return `${type.slice(17)} provider's start`;
    const pkg = type.split(":")[0];
    return pkg === "swarm-ha" || pkg === "pulumi" ? "" : `${pkg} steps`;
}

/**
 * Runs `pulumi ARGS --json` in the repository with the program's phases recorded, and reads the
 * engine's events as they stream: the CLI's and the language host's start, the program's phases,
 * each provider's start and steps (first to last event), the engine to its summary, the exit.
 */
export function cliRun(args: string[], env: Record<string, string>): Promise<CliRun> {
    const record = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-bench-")), "phases");
    return new Promise((resolve, reject) => {
        const start = Date.now();
        const child = spawn("pulumi", [...args, "--json", "--color", "never"], {
            cwd: REPO,
            env: { ...env, SWARM_HA_PHASES: record, PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "1" },
            stdio: ["ignore", "pipe", "pipe"],
        });
        const spans = new Map<string, { first: number; last: number; count: number }>();
        // Each step that changes something: from its start to its outputs (or failure).
        const changed = new Map<string, { name: string; at: number; end?: number }>();
        let summary = 0;
        let buffered = "";
        let err = "";
        const seen = (line: string): void => {
            const at = (Date.now() - start) / 1000;
            let event: Record<string, { metadata?: { type: string; urn: string; op: string } }>;
            try {
                event = JSON.parse(line);
            } catch {
                return;
            }
            if (event.summaryEvent) summary = at;
            const type = event.resourcePreEvent?.metadata?.type;
            const who = type ? stepper(type) : "";
            if (who) {
                const s = spans.get(who) ?? { first: at, last: at, count: 0 };
                spans.set(who, { first: s.first, last: at, count: s.count + 1 });
            }
            const pre = event.resourcePreEvent?.metadata;
            if (pre && pre.op !== "same" && who) {
                const name = `${pre.op} ${pre.urn.split("::").pop()}`;
                changed.set(`${pre.op} ${pre.urn}`, { name, at });
            }
            const done = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
            const step = done && changed.get(`${done.op} ${done.urn}`);
            if (step) step.end = at;
        };
        child.stdout.on("data", (d: Buffer) => {
            const lines = (buffered + d.toString()).split("\n");
            buffered = lines.pop() ?? "";
            lines.forEach(seen);
        });
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("close", (code) => {
            const seconds = (Date.now() - start) / 1000;
            if (code !== 0) {
                reject(new Error(`pulumi ${args.join(" ")} exited ${code}: ${err.slice(-2000)}`));
                return;
            }
            const program = readPhases(record).map((p) => ({
                name: p.name,
                at: (p.start - start) / 1000,
                seconds: (p.end - p.start) / 1000,
            }));
            fs.rmSync(path.dirname(record), { recursive: true, force: true });
            const loaded = program.find((p) => p.name === "loading the program");
            const providers = [...spans].map(([name, s]) => ({
                name: name.endsWith("steps") ? `${name} (${s.count} resources)` : name,
                at: s.first,
                seconds: s.last - s.first,
            }));
            const checked = Math.max(
                ...program
                    .filter((p) => p.name !== "constructing the components")
                    .map((p) => p.at + p.seconds),
            );
            resolve({
                seconds,
                rows: [
                    {
                        name: "the CLI and the language host start",
                        at: 0,
                        seconds: loaded?.at ?? 0,
                    },
                    ...program,
                    ...providers.sort((a, b) => a.at - b.at),
                    ...[...changed.values()].map((c) => ({
                        name: `  ${c.name}`,
                        at: c.at,
                        seconds: (c.end ?? c.at) - c.at,
                    })),
                    {
                        name: "after the checks, to the engine's summary",
                        at: checked,
                        seconds: summary - checked,
                    },
                    {
                        name: "the CLI's exit after the summary",
                        at: summary,
                        seconds: seconds - summary,
                    },
                ],
            });
        });
    });
}

/** Prints a run's breakdown, a row a line. */
export function printRows(rows: Row[]): void {
    for (const row of rows) {
        console.log(
            `    ${row.name.padEnd(60)} at ${row.at.toFixed(2).padStart(5)} s ${row.seconds.toFixed(2).padStart(5)} s`,
        );
    }
}

/** Runs the CLI RUNS times; prints each time, the median, and the median run's breakdown. */
export async function measured(
    what: string,
    args: string[],
    env: Record<string, string>,
): Promise<number> {
    const runs: CliRun[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await cliRun(args, env));
    const middle = median(runs.map((r) => r.seconds));
    const run = runs.find((r) => r.seconds === middle)!;
    console.log(
        `${`pulumi ${args.join(" ")}: ${what}`.padEnd(66)} ${middle.toFixed(1).padStart(5)} s median (${runs.map((r) => r.seconds.toFixed(1)).join(", ")})`,
    );
    printRows(run.rows);
    return middle;
}

/**
 * The same questions by hand: one SSH command on every host at once (the engine's state and the
 * swarm's view: `docker info`), then the swarm's nodes and services listed on a manager.
 */
function byHand(hosts: string[]): number {
    const info = labInfo();
    const ssh = (host: string, command: string) =>
        `ssh -i ${info.privateKeyPath} -o UserKnownHostsFile=${info.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes root@${host} '${command}' >/dev/null`;
    const all = hosts.map((h) => `${ssh(h, "docker info --format {{.Swarm.LocalNodeState}}")} &`);
    const script = [...all, "wait", ssh(hosts[0], "docker node ls && docker service ls")].join(
        "\n",
    );
    const start = Date.now();
    execFileSync("bash", ["-c", script], { stdio: "inherit" });
    return (Date.now() - start) / 1000;
}

/** Converges the stack with the plain CLI, then measures its preview and no-op ups. */
async function measureStack(
    label: string,
    key: string,
    stackArgs: string[],
    env: Record<string, string>,
): Promise<void> {
    const start = Date.now();
    // The converge runs 4 steps per host at once: the CLI's default, 4 per core (8 here), queues
    // a host's firewall confirmation behind the others' steps past its 30 s window at 18 hosts.
    const hostCount = labInfo().hosts.length;
    try {
        execFileSync(
            "pulumi",
            ["up", "--yes", "--skip-preview", "--parallel", String(4 * hostCount), ...stackArgs],
            {
                cwd: REPO,
                env,
                stdio: ["ignore", "pipe", "pipe"],
                maxBuffer: 64 * 1024 * 1024,
            },
        );
    } catch (e) {
        const out = `${(e as { stdout?: Buffer }).stdout ?? ""}`;
        throw new Error(`${label}: the converge failed:\n${out.slice(-4000)}`);
    }
    const hosts = labInfo().hosts.map((h) => h.address);
    console.log(
        `${label}: ${hosts.length} hosts, converged from packaged hosts in ${((Date.now() - start) / 1000).toFixed(1)} s`,
    );
    const preview = await measured("unchanged", ["preview", ...stackArgs], env);
    const noop = await measured(
        "nothing to change",
        ["up", "--yes", "--skip-preview", ...stackArgs],
        env,
    );
    const both = await measured(
        "nothing to change, with its preview",
        ["up", "--yes", ...stackArgs],
        env,
    );
    const hand = [byHand(hosts), byHand(hosts), byHand(hosts)];
    const reference = median(hand);
    console.log(
        `${"by hand: docker info on every host at once, nodes and services listed".padEnd(66)} ${reference.toFixed(1).padStart(5)} s median (${hand.map((s) => s.toFixed(1)).join(", ")})`,
    );
    writeMeasured(
        key,
        key.replace("-", " "),
        [
            `${label}, ${hosts.length} hosts, median of ${RUNS}`,
            "`pulumi`",
            "by hand: `docker info` on every host, nodes and services listed",
        ],
        [
            { what: "`pulumi preview`", project: preview, reference },
            { what: "`pulumi up`, nothing to change", project: noop, reference },
            { what: "`pulumi up` with its preview", project: both, reference },
        ],
    );
}

/**
 * The dev stack's settings on 9 managers and 9 workers (ZooKeeper on the first three), written into
 * the stack's file beside its encryption salt.
 */
function eighteenHostConfig(file: string): void {
    const salt = /^encryptionsalt: .*$/m.exec(fs.readFileSync(file, "utf8"))?.[0] ?? "";
    const dev = yaml.load(fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    const config = { ...dev.config, "swarm-ha:nodes": labNodes() };
    fs.writeFileSync(file, `${yaml.dump({ config })}${salt}\n`);
}

/** Measures the stacks named: "dev" (the dev stack on 5 hosts) and "18" (9 managers, 9 workers). */
export async function previewBench(stacks: string[]): Promise<void> {
    const env = labStackEnv(loadEnv());
    const pulumi = (...args: string[]) =>
        execFileSync("pulumi", args, { cwd: REPO, env, stdio: ["ignore", "ignore", "ignore"] });
    const forget = (stack: string) => {
        for (const args of [
            ["cancel", "--yes"],
            ["stack", "rm", "--force", "--yes", "--preserve-config"],
        ]) {
            try {
                pulumi(...args, "--stack", stack);
            } catch {
                // Not there: nothing to forget.
            }
        }
    };
    console.log(
        `bench preview: the plain CLI from ${REPO}, ${RUNS} runs each, on ${os.cpus().length} cores`,
    );
    if (stacks.includes("dev")) {
        lab("down");
        forget("dev");
        lab("up", "--packaged");
        await measureStack("dev stack", "preview-dev", ["--stack", "dev"], env);
    }
    // The dev stack stays converged on the lab, unless the lab makes way for 18 hosts.
    if (!stacks.includes("18")) return;
    forget("dev");

    // A stack of the bench's own: its file is made by `stack init` and removed with the stack.
    const name = "bench-18";
    lab("down");
    lab("up", "--managers", "9", "--workers", "9", "--packaged");
    forget(name);
    pulumi("stack", "init", name);
    eighteenHostConfig(path.join(REPO, `Pulumi.${name}.yaml`));
    await measureStack("9 managers + 9 workers", "preview-18", ["--stack", name], env);
    forget(name);
    fs.rmSync(path.join(REPO, `Pulumi.${name}.yaml`), { force: true });
    lab("down");
}

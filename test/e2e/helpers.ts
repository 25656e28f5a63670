// Helpers of the end-to-end tests: the lab's commands, commands on lab hosts over SSH, and stacks
// run through the project's Automation API runner with everything the engine printed kept.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import { REPO, changes, loadEnv, stackNodes } from "../../scripts/automation";
import { NodeConfig } from "../../config";

loadEnv();

/**
 * The dev stack's settings without monitoring, for the files that are not about it: it adds the
 * engines' metrics steps and four services to every converge (test/e2e/monitoring.test.ts and the
 * plain CLI's dev stack keep it).
 */
export const WITHOUT_MONITORING: ConfigMap = {
    "swarm-ha:monitoring": { value: JSON.stringify({ enabled: false }) },
};

/**
 * `npm run stack -- ACTION STACK --from FROM --config JSON` in a child process, as a user would run
 * it (an error of the program is its output, not the test's); its exit status and output, recorded.
 */
export function stackCli(
    action: string,
    stack: string,
    from: string,
    config: Record<string, unknown>,
): { status: number; out: string } {
    const r = spawnSync(
        "npx",
        ["ts-node", "--transpile-only", "scripts/stack.ts", action, stack, "--from", from].concat([
            "--config",
            JSON.stringify(config),
        ]),
        { cwd: REPO, encoding: "utf8", env: process.env, timeout: 10 * 60 * 1000 },
    );
    const out = `${r.stdout}${r.stderr}`;
    record(out);
    return { status: r.status ?? 1, out };
}

/** Runs `lab/lab.sh ARGS...` and returns what it printed. */
export function lab(...args: string[]): string {
    return execFileSync("bash", [path.join(REPO, "lab", "lab.sh"), ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 15 * 60 * 1000,
    });
}

/**
 * E2E_KEEP=1: a file keeps the lab's hosts and its stack as its last run left them, instead of
 * fresh hosts and an empty stack, so that one scenario (`-t NAME`) runs in the time of its own
 * steps on a platform that is already there (docs/development.md, "One scenario alone").
 */
export const KEEP = process.env.E2E_KEEP === "1";

/**
 * A file's lab: fresh hosts (Docker, ZooKeeper and Java installed, nothing configured), or with
 * E2E_KEEP the hosts there (made if missing).
 */
export function freshLab(managers: number, workers: number): void {
    if (!KEEP) lab("down");
    lab("up", "--managers", String(managers), "--workers", String(workers), "--packaged");
}

/** Runs a shell command on a lab host as root over SSH with the lab key; returns stdout. */
export function onHost(host: string, command: string): string {
    return lab("ssh", host, command).trim();
}

/** Everything the engine printed during a test file, to search for secrets. */
export const transcript: string[] = [];

export const record = (s: string): void => {
    transcript.push(s);
    if (process.env.E2E_VERBOSE) {
        process.stdout.write(s);
    }
};

/** Removes a stack's state, whatever it holds (a lock too), so a test starts from nothing. */
export async function removeStack(stack: Stack): Promise<void> {
    // A run killed earlier leaves the stack locked: `pulumi cancel` first, as a user would.
    await stack.cancel().catch(() => undefined);
    await stack.workspace.removeStack(stack.name, { force: true });
}

/** A file's stack at its start: emptied (see removeStack), or with E2E_KEEP as it is. */
export async function freshStack(stack: Stack): Promise<void> {
    if (!KEEP) await removeStack(stack);
}

/**
 * Kills the engine of a stack's running `pulumi up` as a crash would: the CLI of the Automation API
 * and every process under it (the plugins and theirs), with SIGKILL. Returns how many CLI processes
 * it killed.
 */
export function killEngine(stack: string): number {
    let pids: string[] = [];
    try {
        pids = execFileSync("pgrep", ["-f", `pulumi up .*--stack ${stack}( |$)`], {
            encoding: "utf8",
        })
            .trim()
            .split("\n")
            .filter(Boolean);
    } catch {
        return 0; // none running
    }
    // The CLI and every process under it: the plugins, and what they started (the dynamic
    // provider's Node.js), which would otherwise live on as orphans.
    const tree = pids.flatMap((pid) => [pid, ...descendants(pid)]);
    for (const pid of tree) {
        try {
            process.kill(Number(pid), "SIGKILL");
        } catch {
            // gone already
        }
    }
    return pids.length;
}

/** The processes under `pid`, children first found, collected before any is killed. */
export function descendants(pid: string): string[] {
    let children: string[] = [];
    try {
        children = execFileSync("pgrep", ["-P", pid], { encoding: "utf8" })
            .trim()
            .split("\n")
            .filter(Boolean);
    } catch {
        return []; // none
    }
    return children.flatMap((c) => [c, ...descendants(c)]);
}

/** The operations the engine performed (or planned), by resource name: { create: [...], ... }. */
export type Ops = Record<string, string[]>;

/** An onEvent handler that collects resource operations into `ops` (same and read left out). */
export function opsCollector(
    ops: Ops,
): (event: import("@pulumi/pulumi/automation").EngineEvent) => void {
    return (event) => {
        const meta = event.resourcePreEvent?.metadata;
        if (!meta || meta.op === "same" || meta.op === "read") {
            return;
        }
        const name = meta.urn.split("::").pop() ?? meta.urn;
        (ops[meta.op] ??= []).push(name);
        ops[meta.op].sort();
    };
}

/** `up` with its output recorded: the operations it performed, by resource, and its summary. */
export async function upWithOps(
    stack: Stack,
): Promise<{ ops: Ops; summary: Record<string, number> }> {
    const ops: Ops = {};
    const result = await stack.up({ onOutput: record, onEvent: opsCollector(ops), color: "never" });
    return { ops, summary: changes(result.summary.resourceChanges) };
}

/** The dev stack's nodes, as committed: 3 managers and 2 workers with zone labels. */
export const DEV: NodeConfig[] = stackNodes("dev");

/** A third worker the lab makes with `up --workers 3`, for growing the dev cluster by one. */
export const W3: NodeConfig = {
    name: "lab-w3",
    host: "172.30.213.23",
    role: "worker",
    labels: { zone: "c" },
};

/**
 * The stack's state file as the backend stores it, secrets encrypted (the Automation API's
 * exportStack shows them decrypted, so a secret is always found there).
 */
export function storedState(stack: string): string {
    const file = path.join(
        process.env.SWARM_HA_STATE ?? "",
        ".pulumi",
        "stacks",
        "swarm-ha",
        `${stack}.json`,
    );
    return fs.readFileSync(file, "utf8");
}

/** Where a string occurs in a JSON text, as short excerpts, for a readable failure. */
export function whereIn(json: string, needle: string): string[] {
    const found: string[] = [];
    for (let i = json.indexOf(needle); i >= 0; i = json.indexOf(needle, i + 1)) {
        found.push(json.slice(Math.max(0, i - 200), i).replace(needle, "<secret>") + "<secret>");
    }
    return found;
}

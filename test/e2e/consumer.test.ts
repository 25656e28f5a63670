// End to end: examples/consumer, a program of its own that imports the built package by name, run
// with the plain CLI on three lab managers. With no help from the stack's program, its SwarmCluster
// refuses a host presenting another key and a key the hosts refuse, before any step and changing
// nothing; converges; says at preview what was changed by hand on its hosts and repairs it in the
// next up; and refuses a change of managers that would lose the quorum while one is down.
import { SpawnSyncReturns, execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO, labInfo, labStackEnv } from "../../scripts/automation";
import { freshLab, onHost, record } from "./helpers";

jest.setTimeout(15 * 60 * 1000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-consumer-"));
const project = path.join(work, "consumer");
const STACK = "consumer-e2e";

/** Runs the pulumi CLI in the consumer's project; its exit status and output, recorded. */
function pulumi(args: string[]): { status: number; out: string } {
    const r: SpawnSyncReturns<string> = spawnSync(
        "pulumi",
        [...args, "--stack", STACK, "--color", "never", "--non-interactive"],
        {
            cwd: project,
            encoding: "utf8",
            timeout: 10 * 60 * 1000,
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...labStackEnv(process.env), ...agent },
        },
    );
    const out = `${r.stdout}${r.stderr}`;
    record(out);
    return { status: r.status ?? 1, out };
}

function ok(args: string[]): string {
    const r = pulumi(args);
    if (r.status !== 0) {
        throw new Error(`pulumi ${args.join(" ")} exited ${r.status}:\n${r.out.slice(-3000)}`);
    }
    return r.out;
}

/** The three managers of the lab, as the consumer's config lists them. */
const managers = () => labInfo().hosts.filter((h) => /^lab-m[123]$/.test(h.name));

/** A list setting, item by item, as `pulumi config set --path` writes one. */
function setList(key: string, values: string[]): void {
    pulumi(["config", "rm", key]);
    values.forEach((v, i) => ok(["config", "set", "--path", `${key}[${i}]`, v]));
}

/** The consumer's config: the lab's managers, their keys and the lab's SSH key. */
function configure(hosts = managers(), hostKeys = hosts.map((h) => h.hostKey), keyFile?: string) {
    setList(
        "managers",
        hosts.map((h) => h.address),
    );
    setList("hostKeys", hostKeys);
    const key = fs.readFileSync(keyFile ?? labInfo().privateKeyPath, "utf8");
    // From stdin, as a user pipes a key file: never on a command line.
    const r = spawnSync(
        "pulumi",
        ["config", "set", "--secret", "sshPrivateKey", "--stack", STACK, "--non-interactive"],
        { cwd: project, input: key, encoding: "utf8", env: labStackEnv(process.env) },
    );
    if (r.status !== 0) throw new Error(`config set sshPrivateKey: ${r.stderr}`);
}

/** What the CLI prints under "Diagnostics:", to the summary after it. */
const diagnostics = (out: string): string =>
    out.slice(out.indexOf("Diagnostics:"), out.indexOf("Resources:", out.indexOf("Diagnostics:")));

/** The resources the stack's state holds, by type and name. */
function stored(): string[] {
    const state = JSON.parse(ok(["stack", "export"])) as {
        deployment: { resources?: { type: string; urn: string }[] };
    };
    return (state.deployment.resources ?? []).map((r) => `${r.type} ${r.urn.split("::").pop()}`);
}

/** Whether any step reached a host: the scripts every step sources are placed first. */
const placed = (host: string) =>
    onHost(host, "if [ -e /var/lib/swarm-ha ]; then echo placed; else echo nothing; fi");

/** Asks `read` every 2 s until it says `expected`, for 60 s at most; fails with what it said last. */
function waitFor(what: string, read: () => string, expected: string): void {
    let last = "";
    for (let i = 0; i < 30; i++) {
        last = read();
        if (last === expected) return;
        execFileSync("sleep", ["2"]);
    }
    throw new Error(`waited 60 s for ${what}; last seen: ${last}`);
}

/** Stops a host's engine as a crash would, the lab's image loader with it (it would start it). */
const stopEngine = (host: string) =>
    onHost(host, "systemctl stop lab-images.path && systemctl stop docker.service docker.socket");
const startEngine = (host: string) =>
    onHost(host, "systemctl start docker.service && systemctl start lab-images.path");

/**
 * The Docker provider reaches a manager with the system's ssh, which cannot take the key as text:
 * as the example's users do, the key is in an ssh agent. This one is the test's own, ended after.
 */
const agent: Record<string, string> = {};
function startAgent(): void {
    const out = execFileSync("ssh-agent", ["-s"], { encoding: "utf8" });
    for (const name of ["SSH_AUTH_SOCK", "SSH_AGENT_PID"]) {
        agent[name] = new RegExp(`${name}=([^;]+);`).exec(out)![1];
    }
    execFileSync("ssh-add", ["-q", labInfo().privateKeyPath], {
        env: { ...process.env, ...agent },
        stdio: "ignore",
    });
}

beforeAll(() => {
    freshLab(3, 0);
    startAgent();
    // The program as a team copies it: its own files, the SDK, and swarm-ha by package name (this
    // checkout, built).
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO, stdio: "ignore" });
    fs.mkdirSync(path.join(project, "node_modules"), { recursive: true });
    for (const f of ["index.ts", "Pulumi.yaml", "package.json", "tsconfig.json"]) {
        fs.copyFileSync(path.join(REPO, "examples", "consumer", f), path.join(project, f));
    }
    fs.symlinkSync(
        path.join(REPO, "node_modules", "@pulumi"),
        path.join(project, "node_modules", "@pulumi"),
    );
    fs.symlinkSync(REPO, path.join(project, "node_modules", "swarm-ha"));
    pulumi(["stack", "rm", "--force", "--yes"]);
    execFileSync("pulumi", ["stack", "init", STACK, "--non-interactive"], {
        cwd: project,
        env: labStackEnv(process.env),
        stdio: "ignore",
    });
    ok(["config", "set", "apiImage", "swarm-ha-web:3"]);
    ok(["config", "set", "routingMesh", "false"]);
});

afterAll(() => {
    pulumi(["stack", "rm", "--force", "--yes"]);
    if (agent.SSH_AGENT_PID) process.kill(Number(agent.SSH_AGENT_PID));
    fs.rmSync(work, { recursive: true, force: true });
});

test("a host presenting another key than its recorded one is refused by name, and an up changes nothing", () => {
    const [m1, m2] = managers();
    configure(managers(), [m1.hostKey, m1.hostKey, managers()[2].hostKey]);
    const preview = pulumi(["preview"]);
    expect(preview.status).not.toBe(0);
    const refusal = `swarm-ha: m2 (${m2.address}): the host presents the SSH host key ${m2.hostKey}, but ${m1.hostKey} is expected (from its ssh.hostKey); if the host was rebuilt, record its new key.`;
    expect(preview.out).toContain(refusal);
    // Said once among the diagnostics, as the message alone: no stack, no "unhandled exception".
    expect(diagnostics(preview.out).split(refusal)).toHaveLength(2);
    expect(preview.out).not.toMatch(/unhandled exception|ValidationError|^\s+at /m);
    expect(preview.out).not.toMatch(/command:remote:Command/);

    const up = pulumi(["up", "--yes"]);
    expect(up.status).not.toBe(0);
    expect(up.out).toContain(refusal);
    // The component's own entry at most: no step, no provider.
    expect(
        stored().filter((r) => !/^(pulumi:pulumi:Stack|swarm-ha:index:SwarmCluster) /.test(r)),
    ).toEqual([]);
    for (const h of managers()) expect(placed(h.name)).toBe("nothing");
});

test("a key the hosts refuse is refused for each of them, naming the user, host and key", () => {
    const other = path.join(work, "other");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const print = execFileSync("ssh-keygen", ["-l", "-f", other], { encoding: "utf8" }).split(
        /\s+/,
    )[1];
    configure(managers(), undefined, other);
    const preview = pulumi(["preview"]);
    expect(preview.status).not.toBe(0);
    for (const [i, h] of managers().entries()) {
        expect(preview.out).toContain(
            `swarm-ha: m${i + 1} (${h.address}): root@${h.address}:22 refuses the SSH key ${print} (publickey); authorize its public half for root there, or give the key that is (ssh.privateKey).`,
        );
    }
    expect(preview.out).not.toMatch(/command:remote:Command/);
});

test("with the right keys, up converges the cluster and its service, and a second preview plans nothing", () => {
    configure();
    ok(["up", "--yes"]);
    const nodes = onHost(
        "lab-m1",
        "docker node ls --format '{{.Hostname}} {{.ManagerStatus}} {{.Status}}'",
    );
    expect(nodes.split("\n").sort()).toEqual([
        "lab-m1 Leader Ready",
        "lab-m2 Reachable Ready",
        "lab-m3 Reachable Ready",
    ]);
    expect(ok(["preview", "--diff"])).toMatch(/\d+ unchanged/);
    expect(pulumi(["preview", "--expect-no-changes"]).status).toBe(0);
});

test("a manager drained and an engine stopped by hand: said at preview, repaired by the next up", () => {
    const [, m2, m3] = managers();
    onHost("lab-m1", "docker node update --availability drain lab-m2 >/dev/null");
    stopEngine("lab-m3");
    const preview = ok(["preview"]);
    expect(preview).toContain(
        `swarm-ha: m2 (${m2.address}): its availability is drain, the stack says active; up applies the stack's settings.`,
    );
    expect(preview).toContain(
        `swarm-ha: m3 (${m3.address}): its Docker engine is not running (systemd: inactive); up starts its engine, joins it to the swarm and applies its settings.`,
    );
    ok(["up", "--yes"]);
    expect(onHost("lab-m1", "docker node inspect lab-m2 --format '{{.Spec.Availability}}'")).toBe(
        "active",
    );
    expect(onHost("lab-m3", "systemctl is-active docker.service")).toBe("active");
    expect(onHost("lab-m1", "docker node inspect lab-m3 --format '{{.Status.State}}'")).toBe(
        "ready",
    );
    expect(pulumi(["preview", "--expect-no-changes"]).status).toBe(0);
});

test("removing two managers while the third is down is refused with the numbers, and nothing changes", () => {
    const [m1, , m3] = managers();
    stopEngine("lab-m3");
    try {
        // The managers see m3 unreachable after their heartbeats time out: the refusal is about that.
        waitFor(
            "lab-m3 unreachable",
            () =>
                onHost(
                    "lab-m1",
                    "docker node inspect lab-m3 --format '{{.ManagerStatus.Reachability}}'",
                ),
            "unreachable",
        );
        configure([m1]);
        const preview = pulumi(["preview"]);
        expect(preview.status).not.toBe(0);
        expect(preview.out).toContain(
            `SwarmCluster "apps": removing or demoting lab-m2 would leave 1 reachable of 2 managers while it runs, and a majority needs 2 (managers 3, reachable 2 (unreachable: lab-m3 (${m3.address}))); bring the unreachable managers back, or change fewer managers in one up.`,
        );
        expect(onHost("lab-m1", "docker node ls -q | wc -l")).toBe("3");
    } finally {
        startEngine("lab-m3");
        configure();
    }
});

// The plain CLI as users run it, from the repository root, on the official plugins: after
// `npm run lab -- up`, `pulumi stack select dev`, `pulumi preview` and `pulumi up` converge the dev
// stack (cluster, ZooKeeper, the registry and the web service, whose tasks answer on the published
// port and are listed by `npm run discover`); a pull request's `pulumi preview`, run from a
// checkout of its own, shows exactly the change and applies nothing; no committed file is edited and nothing secret is printed or stored in plain.
import { SpawnSyncReturns, execFile, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO, labInfo, labStackEnv } from "../../scripts/automation";
import { descendants, lab, onHost } from "./helpers";
import { httpGet } from "../../scripts/http";

jest.setTimeout(15 * 60 * 1000);

const printed: string[] = [];

/** Runs the pulumi CLI in `cwd` (the repository by default); returns its exit status and output. */
function pulumi(args: string[], cwd = REPO): { status: number; out: string } {
    const r: SpawnSyncReturns<string> = spawnSync("pulumi", [...args, "--color", "never"], {
        cwd,
        encoding: "utf8",
        timeout: 10 * 60 * 1000,
        stdio: ["ignore", "pipe", "pipe"],
        // scripts/env.sh's environment (helpers load it): jest's process.env is the test's own;
        // with the dev stack's passphrase, as the README has users give it to that stack.
        env: labStackEnv(process.env),
    });
    const out = `${r.stdout}${r.stderr}`;
    printed.push(out);
    return { status: r.status ?? 1, out };
}

/** Runs the CLI and requires success; a failure shows the end of what it printed. */
function ok(args: string[], cwd = REPO): string {
    const r = pulumi(args, cwd);
    if (r.status !== 0) {
        throw new Error(`pulumi ${args.join(" ")} exited ${r.status}:\n${r.out.slice(-3000)}`);
    }
    return r.out;
}

/** The tracked files that differ from the commit: none, if the CLI edited nothing. */
const edited = (): string =>
    execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
        cwd: REPO,
        encoding: "utf8",
    });

/** Where the local backend keeps the project's stack state files (dev.json). */
const STACKS_DIR = path.join(process.env.SWARM_HA_STATE!, ".pulumi", "stacks", "swarm-ha");

let editedBefore = "";
/** What the `up` after an interrupted one printed. */
let recovered = "";

/** Unlocks and forgets the dev stack's state (its committed file stays). */
function forgetDevStack(): void {
    pulumi(["cancel", "--yes", "--stack", "dev"]);
    pulumi(["stack", "rm", "dev", "--force", "--yes", "--preserve-config"]);
}

beforeAll(() => {
    editedBefore = edited();
    lab("down");
    // Any earlier state of the dev stack belongs to hosts that are gone.
    forgetDevStack();
    // Fresh hosts; `lab up` stages the web image and creates the dev stack. lab-w3 is not a member:
    // the outsider, in the same network, that the platform must be closed to.
    lab("up", "--workers", "3");
});

// Whatever failed here, the next file's `lab up` finds no dev stack left locked by a killed run.
afterAll(forgetDevStack);

test("pulumi stack select dev, then preview plans the whole platform", () => {
    ok(["stack", "select", "dev"]);
    const out = ok(["preview"]);
    expect(out).toMatch(/\+ 10\d to create/);
    for (const planned of [
        "lab-join-lab-w2",
        "zookeeper-ready",
        "web-service",
        "front-service",
        "registry-registrar-service",
        "lab-engine-lab-w2",
        "monitoring-prometheus-service",
    ]) {
        expect(out).toContain(planned);
    }
});

/**
 * Starts `pulumi up` in its own process group and kills the whole group and every process under
 * the CLI (the plugins and the program; some plugins start their own group) with SIGKILL once its
 * output matches `when`, as a crash of the machine running it would; resolves with what it printed.
 */
function upKilledWhen(when: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--color", "never"], {
            cwd: REPO,
            env: labStackEnv(process.env),
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let killed = false;
        const kill = (): void => {
            killed = true;
            const tree = descendants(String(child.pid));
            process.kill(-child.pid!, "SIGKILL");
            for (const pid of tree) {
                try {
                    process.kill(Number(pid), "SIGKILL");
                } catch {
                    // gone with the group
                }
            }
        };
        const timer = setTimeout(kill, 8 * 60 * 1000);
        const onData = (d: Buffer): void => {
            out += d.toString();
            if (!killed && when.test(out)) kill();
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        child.on("close", () => {
            clearTimeout(timer);
            printed.push(out);
            if (killed && when.test(out)) resolve(out);
            else reject(new Error(`pulumi up never printed ${when}:\n${out.slice(-3000)}`));
        });
    });
}

test("pulumi up killed while nodes join: locked until pulumi cancel, then up converges one swarm", async () => {
    await upKilledWhen(/lab-join-lab-\w+ creating/);
    const locked = pulumi(["up", "--yes", "--skip-preview"]);
    expect(locked.status).not.toBe(0);
    expect(locked.out).toMatch(/locked/i);
    ok(["cancel", "--yes"]);
    recovered = ok(["up", "--yes", "--skip-preview"]);
    // The backend writes each state file whole (scripts/env.sh): no .attrs sidecar, written in
    // place, that a kill could have left empty.
    expect(fs.existsSync(path.join(STACKS_DIR, "dev.json"))).toBe(true);
    expect(fs.readdirSync(STACKS_DIR).filter((f) => /^dev\.json.*\.attrs$/.test(f))).toEqual([]);
    // One swarm: the managers report the same cluster ID (workers see none), every node active.
    const managers = ["lab-m1", "lab-m2", "lab-m3"].map((h) =>
        onHost(h, "docker info -f '{{.Swarm.LocalNodeState}} {{.Swarm.Cluster.ID}}'"),
    );
    const workers = ["lab-w1", "lab-w2"].map((h) =>
        onHost(h, "docker info -f '{{.Swarm.LocalNodeState}}'"),
    );
    console.log(`after the kill and recovery: ${[...managers, ...workers].join("; ")}`);
    expect(new Set(managers).size).toBe(1);
    expect(managers[0]).toMatch(/^active \w+$/);
    expect(workers).toEqual(["active", "active"]);
    expect(
        onHost("lab-m1", "docker node ls --format '{{.Hostname}} {{.Status}}' | sort").split("\n"),
    ).toEqual(["lab-m1 Ready", "lab-m2 Ready", "lab-m3 Ready", "lab-w1 Ready", "lab-w2 Ready"]);
});

test("pulumi up converged the cluster, ZooKeeper and the services; front reaches web by name", async () => {
    expect(recovered).toMatch(/Resources:\n\s+\+ \d+ created/);
    const tasks = onHost(
        "lab-m1",
        "docker service ps web --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'",
    ).split("\n");
    expect(tasks).toHaveLength(3);
    const nodes = tasks.map((t) => t.split(" ")[0]);
    const host = (name: string) => labInfo().hosts.find((h) => h.name === name)!.address;
    for (const node of nodes) {
        expect(await httpGet(`http://${host(node)}/`)).toMatch(/^200 swarm-ha web on /);
    }
    // front asks web by name over the overlay every 2 s and serves the last answer on 8080.
    const front = JSON.parse(ok(["stack", "output", "services", "--json"])).front as {
        endpoints: string[];
    };
    expect(front.endpoints).toHaveLength(1);
    let answer = "";
    for (let i = 0; i < 15 && !answer.startsWith("200 swarm-ha web on"); i++) {
        answer = await httpGet(`http://${front.endpoints[0]}/`);
        await new Promise((r) => setTimeout(r, 1000));
    }
    expect(answer).toMatch(/^200 swarm-ha web on /);
    // Each server's mode, asked again for up to 10 s while it says none: right after the up, on this
    // machine's two busy cores, a server was seen to answer srvr after nc's one second.
    const modes = ["lab-m1", "lab-m2", "lab-m3"].map((m) => {
        let mode = "";
        for (let i = 0; i < 10 && mode === ""; i++) {
            if (i > 0) execFileSync("sleep", ["1"]);
            mode = onHost(m, "echo srvr | nc -q 1 127.0.0.1 2181 | sed -n 's/^Mode: //p'");
        }
        return mode;
    });
    expect(modes.sort()).toEqual(["follower", "follower", "leader"]);
    // web's tasks are in the registry: `npm run discover` reads the dev stack's outputs and lists
    // them (the registrar reads the swarm every 250 ms: a few rounds at most).
    const ids = onHost(
        "lab-m1",
        "docker service ps web --filter desired-state=running --no-trunc --format '{{.ID}}'",
    )
        .split("\n")
        .sort();
    let listed: string[] = [];
    for (let i = 0; i < 20 && listed.join() !== ids.join(); i++) {
        const out = execFileSync("npm", ["run", "-s", "discover", "--", "web"], {
            cwd: REPO,
            encoding: "utf8",
            env: process.env,
        });
        listed = out
            .trim()
            .split("\n")
            .map((l) => l.split(/\s+/)[1])
            .sort();
        if (listed.join() !== ids.join()) await new Promise((r) => setTimeout(r, 500));
    }
    expect(listed).toEqual(ids);
});

/** `command` on lab host `host`, as onHost, without waiting: so that scans from two hosts overlap. */
function onHostLater(host: string, command: string): Promise<string> {
    return new Promise((resolve, reject) =>
        execFile(
            "bash",
            [path.join(REPO, "lab", "lab.sh"), "ssh", host, command],
            { encoding: "utf8", timeout: 5 * 60 * 1000 },
            (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
        ),
    );
}

/** The TCP ports of each target that accept a connection from lab host `from` (netcat's scan of every port). */
async function openPorts(from: string, targets: string[]): Promise<Record<string, number[]>> {
    const out = await onHostLater(
        from,
        targets
            .map(
                (t) =>
                    `nc -z -v -w 1 ${t} 1-65535 2>&1 | sed -n 's/^Connection to \\([0-9.]*\\) \\([0-9]*\\) port.*succeeded!$/\\1 \\2/p' &`,
            )
            .join("\n") + "\nwait",
    );
    const open: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t, []]));
    for (const line of out.split("\n").filter(Boolean)) {
        const [address, port] = line.split(" ");
        open[address].push(Number(port));
    }
    for (const t of targets) open[t].sort((a, b) => a - b);
    return open;
}

/** The packets a member's firewall has dropped on the swarm's UDP ports (7946 and 4789). */
function udpDrops(host: string): number {
    const rule = onHost(host, "nft list chain inet swarm_ha input")
        .split("\n")
        .find((l) => /^\s*udp dport .* @members counter/.test(l));
    return Number(/packets (\d+)/.exec(rule ?? "")?.[1] ?? NaN);
}

test("closed by default: a host that is not a member reaches SSH and the services' ports only; a member, the platform", async () => {
    const members = labInfo()
        .hosts.filter((h) => h.name !== "lab-w3")
        .map((h) => h.address);
    const web = new Set(
        onHost(
            "lab-m1",
            "docker service ps web --filter desired-state=running --format '{{.Node}}'",
        ).split("\n"),
    );
    const front = onHost(
        "lab-m1",
        "docker service ps front --filter desired-state=running --format '{{.Node}}'",
    );
    const address = (name: string) => labInfo().hosts.find((h) => h.name === name)!.address;
    // lab-w1 asks itself too: where a task of its own publishes.
    const [outsider, member] = await Promise.all([
        openPorts("lab-w3", members),
        openPorts("lab-w1", members),
    ]);
    const rows = members.map(
        (a) =>
            `${a.padEnd(15)} outsider: ${outsider[a].join(" ").padEnd(12)} member (lab-w1): ${member[a].join(" ")}`,
    );
    console.log(`TCP ports that accept a connection, of every port 1-65535:\n${rows.join("\n")}`);
    for (const h of labInfo().hosts.filter((h) => h.name !== "lab-w3")) {
        // SSH, and the services' own published ports (host mode) where their tasks run.
        const expected = [
            22,
            ...(web.has(h.name) ? [80] : []),
            ...(front === h.name ? [8080] : []),
        ];
        expect([h.name, outsider[h.address]]).toEqual([h.name, expected.sort((a, b) => a - b)]);
    }
    // A member reaches the platform: the engines' metrics and the node exporters everywhere,
    // Prometheus and Alertmanager where they run, the swarm's and ZooKeeper's ports.
    for (const a of Object.keys(member)) {
        expect(member[a]).toEqual(expect.arrayContaining([22, 7946, 9100, 9323]));
    }
    const managers = ["lab-m1", "lab-m2", "lab-m3"].map(address).filter((a) => member[a]);
    for (const a of managers) expect(member[a]).toEqual(expect.arrayContaining([2181, 2377, 3888]));
    expect(Object.values(member).flat()).toEqual(expect.arrayContaining([9090, 9093]));
    // UDP has no answer to tell: each member's drop counter for the swarm's UDP ports grows by the
    // outsider's datagrams (gossip and VXLAN).
    const before = members.map((a) => udpDrops(labInfo().hosts.find((h) => h.address === a)!.name));
    onHost(
        "lab-w3",
        members
            .map((a) => `for p in 7946 4789; do printf x | nc -u -w 1 ${a} $p & done`)
            .concat("wait")
            .join("; "),
    );
    const after = members.map((a) => udpDrops(labInfo().hosts.find((h) => h.address === a)!.name));
    for (const [i, a] of members.entries()) {
        expect([a, after[i] - before[i]]).toEqual([a, 2]);
    }
});

test("no secret the state holds is in the stored state, the CLI's output or any host's process list", () => {
    // Every secret of the stack, as the state decrypted shows them: keys, passwords, tokens.
    const secrets = new Set<string>();
    const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
    const hostKeys = labInfo().hosts.map((h) => h.hostKey.split(" ").slice(0, 2).join(" "));
    const isPublic = (line: string): boolean =>
        line === SECRET_SIG ||
        /^[0-9.:,; ]+$/.test(line) ||
        hostKeys.includes(line.split(" ").slice(0, 2).join(" "));
    const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") {
            const o = v as Record<string, unknown>;
            if (o["4dabf18193072939515e22adb298388d"] === SECRET_SIG) {
                const text = typeof o.plaintext === "string" ? o.plaintext : "";
                const value: unknown = text ? JSON.parse(text) : undefined;
                const strings = (x: unknown): string[] =>
                    typeof x === "string"
                        ? [x]
                        : Array.isArray(x)
                          ? x.flatMap(strings)
                          : x && typeof x === "object"
                            ? Object.values(x).flatMap(strings)
                            : [];
                // Lines of a key or a certificate's text, each long enough to mean something. A
                // secret as a whole (an SSH connection, for its private key) holds public values
                // too: addresses and ports, the hosts' public keys, a nested secret's marker.
                for (const s of strings(value).flatMap((t) => t.split("\n"))) {
                    const line = s.trim();
                    if (line.length < 12 || /^-----/.test(line) || isPublic(line)) continue;
                    secrets.add(line);
                }
            } else Object.values(o).forEach(walk);
        }
    };
    // Read apart from the other runs' output, which is searched below.
    const exported = spawnSync("pulumi", ["stack", "export", "--show-secrets"], {
        cwd: REPO,
        encoding: "utf8",
        env: labStackEnv(process.env),
        maxBuffer: 256 * 1024 * 1024,
    });
    expect(exported.status).toBe(0);
    walk(JSON.parse(exported.stdout));
    const join = onHost(
        "lab-m1",
        "docker swarm join-token -q worker; docker swarm join-token -q manager",
    );
    for (const t of join.split("\n")) secrets.add(t);
    console.log(`secrets searched for: ${secrets.size}`);
    expect(secrets.size).toBeGreaterThan(5);
    const state = fs.readFileSync(path.join(STACKS_DIR, "dev.json"), "utf8");
    const output = printed.join("");
    const processes = labInfo()
        .hosts.filter((h) => h.name !== "lab-w3")
        .map((h) => `${h.name}:\n${onHost(h.name, "ps -eo args")}`)
        .join("\n");
    const found = [...secrets].flatMap((secret) =>
        [
            ["state", state],
            ["output", output],
            ["processes", processes],
        ]
            .filter(([, text]) => text.includes(secret))
            .map(([where]) => `${where}: ${secret.slice(0, 6)}...`),
    );
    expect(found).toEqual([]);
});

test("preview after up expects no changes, as a pull request without changes sees", () => {
    expect(ok(["preview", "--expect-no-changes"])).toMatch(/\d+ unchanged/);
});

test("a pull request's preview, from its own checkout, shows the change and applies nothing", () => {
    const checkout = fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-pr-"));
    try {
        const skip = new Set(["node_modules", ".git", "bin"].map((d) => path.join(REPO, d)));
        fs.cpSync(REPO, checkout, { recursive: true, filter: (src) => !skip.has(src) });
        fs.symlinkSync(path.join(REPO, "node_modules"), path.join(checkout, "node_modules"));
        const dev = fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8");
        const scaled = dev.replace(/(\n {4}web:\n(?: {6}.*\n)*? {6}replicas: )3\n/, "$14\n");
        expect(scaled).not.toBe(dev);
        fs.writeFileSync(path.join(checkout, "Pulumi.dev.yaml"), scaled);
        const out = ok(["preview", "--stack", "dev", "--diff"], checkout);
        // The replicas, and the one path SwarmService hides, named without a value (the provider
        // plans the sysctl map it never sets as empty); nothing else of the task spec.
        expect(out).toMatch(/~ docker:index\/service:Service: \(update\)/);
        expect(out).toMatch(/replicas\s*: 3 => 4/);
        const hidden = /^\s*~ taskSpec\.containerSpec\.sysctl \(hidden\)\n/m;
        expect(out).toMatch(hidden);
        expect(out.replace(hidden, "")).not.toMatch(/taskSpec/);
        expect(out).toMatch(/~ 1 to update/);
        // The tasks step runs again, which its two hashes changing say: what the swarm reports
        // and what was asked; not the provider's planned task spec.
        const hash = '"[0-9a-f]{12}" => "[0-9a-f]{12}"';
        expect(out).toMatch(
            new RegExp(
                `~ triggers: \\[\\n\\s*~ \\[0\\]: ${hash}\\n\\s*~ \\[1\\]: ${hash}\\n\\s*\\]`,
            ),
        );
        expect(out).toMatch(/\+-1 to replace/);
    } finally {
        fs.rmSync(checkout, { recursive: true, force: true });
    }
    expect(
        onHost("lab-m1", "docker service inspect -f '{{.Spec.Mode.Replicated.Replicas}}' web"),
    ).toBe("3");
});

test("nothing committed was edited, and the runs printed no plugin warning", () => {
    expect(edited()).toBe(editedBefore);
    const all = printed.join("");
    expect(all).not.toContain("PULUMI_COMMAND_STDOUT");
    // The one plugin warning expected: the run after the killed one names the operations it left
    // pending. (The program's own, "swarm-ha: NODE (HOST): ...", say what the hosts showed.)
    const warnings = all.split("\n").filter((l) => /^\s*warning:/.test(l));
    expect(
        warnings.filter((w) => !/pending operation/.test(w) && !/warning: swarm-ha: /.test(w)),
    ).toEqual([]);
});

test("the lab's private key is in neither the stored state nor the CLI's output", () => {
    const key = fs.readFileSync(labInfo().privateKeyPath, "utf8").split("\n")[1];
    const state = fs.readFileSync(path.join(STACKS_DIR, "dev.json"), "utf8");
    expect(key.length).toBeGreaterThan(20);
    expect(state.includes(key)).toBe(false);
    expect(printed.join("").includes(key)).toBe(false);
    expect(state).toContain('"ciphertext"');
});

test("pulumi destroy removes the service and every host leaves the swarm", () => {
    ok(["destroy", "--yes", "--skip-preview"]);
    for (const host of ["lab-m1", "lab-w2"]) {
        expect(onHost(host, "docker info -f '{{.Swarm.LocalNodeState}}'")).toBe("inactive");
    }
});

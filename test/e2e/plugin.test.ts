// End to end: swarm-ha as a plugin package (plugin/), as a program of another language gets it.
// The CLI asks it for its schema; `pulumi package add` generates an SDK of it for a new project,
// whose program previews a SwarmCluster on three lab managers: the component runs in the plugin's
// process, given what the program passed through the engine, and asks the hosts as it does in a
// TypeScript program. The SDK here is Node.js's: the Go language host cannot be built on this
// project's machines (docs/library.md).
import { SpawnSyncReturns, execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO, labInfo, labStackEnv } from "../../scripts/automation";
import { freshLab, onHost, record } from "./helpers";

jest.setTimeout(15 * 60 * 1000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-plugin-"));
const project = path.join(work, "program");
const STACK = "plugin-e2e";
const PLUGIN = path.join(REPO, "plugin");

/** Runs the pulumi CLI in the program's project; its exit status and output, recorded. */
function pulumi(args: string[], input?: string): { status: number; out: string } {
    const r: SpawnSyncReturns<string> = spawnSync(
        "pulumi",
        [...args, "--color", "never", "--non-interactive"],
        {
            cwd: project,
            encoding: "utf8",
            input,
            timeout: 10 * 60 * 1000,
            stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
            env: labStackEnv(process.env),
        },
    );
    const out = `${r.stdout}${r.stderr}`;
    record(out);
    return { status: r.status ?? 1, out };
}

function ok(args: string[], input?: string): string {
    const r = pulumi(args, input);
    if (r.status !== 0) {
        throw new Error(`pulumi ${args.join(" ")} exited ${r.status}:\n${r.out.slice(-3000)}`);
    }
    return r.out;
}

/** The three managers of the lab. */
const managers = () => labInfo().hosts.filter((h) => /^lab-m[123]$/.test(h.name));

/** The program, written against the generated SDK only: the hosts' keys as given. */
function writeProgram(hostKeys: string[]): void {
    const nodes = managers().map((h, i) => ({
        name: `m${i + 1}`,
        host: h.address,
        role: "ROLE",
        ssh: { hostKey: hostKeys[i] },
    }));
    fs.writeFileSync(
        path.join(project, "index.ts"),
        [
            'import * as pulumi from "@pulumi/pulumi";',
            'import * as swarmHa from "@pulumi/swarm-ha";',
            "",
            'const privateKey = new pulumi.Config().requireSecret("sshPrivateKey");',
            'const cluster = new swarmHa.SwarmCluster("apps", {',
            `    nodes: ${JSON.stringify(nodes).replace(/"ROLE"/g, "swarmHa.SwarmRole.Manager")},`,
            "    ssh: { privateKey },",
            "    dockerProvider: false,",
            "});",
            "export const dockerHost = cluster.dockerHost;",
            "export const faultTolerance = cluster.faultTolerance;",
            "",
        ].join("\n"),
    );
}

/** What the CLI prints under "Diagnostics:", to the summary after it. */
const diagnostics = (out: string): string =>
    out.slice(out.indexOf("Diagnostics:"), out.indexOf("Resources:", out.indexOf("Diagnostics:")));

beforeAll(() => {
    freshLab(3, 0);
    // The plugin host loads the built library.
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO, stdio: "ignore" });
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: plugin-e2e\nruntime: nodejs\n");
    fs.writeFileSync(
        path.join(project, "package.json"),
        JSON.stringify({ name: "plugin-e2e", private: true, main: "index.ts" }),
    );
    execFileSync("pulumi", ["stack", "init", STACK, "--non-interactive"], {
        cwd: project,
        env: labStackEnv(process.env),
        stdio: "ignore",
    });
    // From stdin, as a user pipes a key file: never on a command line.
    ok(
        ["config", "set", "--secret", "sshPrivateKey"],
        fs.readFileSync(labInfo().privateKeyPath, "utf8"),
    );
});

afterAll(() => {
    pulumi(["stack", "rm", "--force", "--yes", "--stack", STACK]);
    fs.rmSync(work, { recursive: true, force: true });
});

test("the CLI reads the package's schema: the six components, enums and named types", () => {
    const schema = JSON.parse(
        execFileSync("pulumi", ["package", "get-schema", PLUGIN], {
            cwd: work,
            encoding: "utf8",
            env: labStackEnv(process.env),
            stdio: ["ignore", "pipe", "pipe"],
        }),
    ) as {
        name: string;
        resources: Record<string, { isComponent: boolean; inputProperties: object }>;
        types: Record<string, { enum?: { value: string }[]; properties?: object }>;
    };
    expect(schema.name).toBe("swarm-ha");
    expect(Object.keys(schema.resources).sort()).toEqual(
        [
            "DockerReadProxy",
            "ServiceRegistry",
            "SwarmCluster",
            "SwarmMonitoring",
            "SwarmService",
            "ZooKeeperEnsemble",
        ].map((c) => `swarm-ha:index:${c}`),
    );
    for (const r of Object.values(schema.resources)) expect(r.isComponent).toBe(true);
    expect(Object.keys(schema.resources["swarm-ha:index:SwarmCluster"].inputProperties)).toEqual(
        expect.arrayContaining(["nodes", "ssh", "firewall", "checkHosts"]),
    );
    expect(schema.types["swarm-ha:index:SwarmRole"].enum!.map((e) => e.value)).toEqual([
        "manager",
        "worker",
    ]);
    expect(Object.keys(schema.types["swarm-ha:index:SwarmNodeArgs"].properties!)).toEqual(
        expect.arrayContaining(["name", "host", "role", "ssh"]),
    );
});

test("a program using the generated SDK previews a SwarmCluster on the lab; a wrong host key is refused", () => {
    // As a user of another language does: the SDK generated into the project, and installed.
    ok(["package", "add", PLUGIN]);
    expect(fs.existsSync(path.join(project, "sdks", "swarm-ha"))).toBe(true);
    expect(fs.readFileSync(path.join(project, "Pulumi.yaml"), "utf8")).toContain(
        `swarm-ha: ${PLUGIN}`,
    );

    // One host's key recorded as another's: the component, in the plugin, refuses it by name.
    const [m1, m2, m3] = managers();
    writeProgram([m1.hostKey, m1.hostKey, m3.hostKey]);
    const refused = pulumi(["preview", "--stack", STACK]);
    expect(refused.status).not.toBe(0);
    const refusal = `swarm-ha: m2 (${m2.address}): the host presents the SSH host key ${m2.hostKey}, but ${m1.hostKey} is expected (from its ssh.hostKey); if the host was rebuilt, record its new key.`;
    expect(diagnostics(refused.out)).toContain(refusal);
    expect(refused.out).not.toMatch(/command:remote:Command/);

    // The right keys: the plan of a new swarm, every step on the three hosts.
    writeProgram(managers().map((h) => h.hostKey));
    const preview = ok(["preview", "--stack", STACK]);
    expect(preview).toMatch(/\+\s+swarm-ha:index:SwarmCluster\s+apps\s+create/);
    for (const step of [
        "apps-docker-m1",
        "apps-docker-m3",
        "apps-init",
        "apps-join-m2",
        "apps-ready",
    ]) {
        expect(preview).toMatch(new RegExp(`\\+\\s+command:remote:Command\\s+${step}\\s+create`));
    }
    expect(preview).toContain(`dockerHost    : "ssh://root@${m1.address}:22"`);
    expect(preview).toContain("faultTolerance: 1");
    // A preview changes nothing on the hosts: not even the scripts are placed.
    for (const h of managers()) {
        expect(
            onHost(h.name, "if [ -e /var/lib/swarm-ha ]; then echo placed; else echo nothing; fi"),
        ).toBe("nothing");
    }
    // The private key stays a secret through the engine and the plugin.
    const key = fs.readFileSync(labInfo().privateKeyPath, "utf8").split("\n")[1];
    expect(preview).not.toContain(key);
});

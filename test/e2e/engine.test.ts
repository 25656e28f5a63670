// The real Pulumi engine here (npm run setup), on the official plugins installed as versioned
// plugins: a smoke stack of one command:local:Command and one command:remote:Command against a lab
// host goes through up, preview, refresh and destroy on the local file backend.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { changes, labInfo, labStackEnv, loadEnv } from "../../scripts/automation";
import { lab } from "./helpers";

jest.setTimeout(10 * 60 * 1000);

let stack: Stack;
const printed: string[] = [];
const onOutput = (s: string): void => {
    printed.push(s);
};

beforeAll(async () => {
    lab("up");
    const env = labStackEnv(loadEnv());
    const info = labInfo();
    const host = info.hosts.find((h) => h.name === "lab-m1")!;
    const key = fs.readFileSync(info.privateKeyPath, "utf8");
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-smoke-"));
    const program = async (): Promise<Record<string, unknown>> => {
        const local = new command.local.Command("smoke-local", {
            create: "echo local-ok",
            delete: "true",
        });
        const remote = new command.remote.Command("smoke-remote", {
            connection: {
                host: host.address,
                user: "root",
                privateKey: pulumi.secret(key),
                hostKey: host.hostKey,
            },
            create: "echo smoke > /tmp/swarm-ha-smoke && hostname",
            delete: "rm -f /tmp/swarm-ha-smoke",
        });
        return { local: local.stdout, remote: remote.stdout };
    };
    stack = await LocalWorkspace.createOrSelectStack(
        { stackName: "smoke", projectName: "swarm-ha-smoke", program },
        { workDir, envVars: env, projectSettings: { name: "swarm-ha-smoke", runtime: "nodejs" } },
    );
    await stack.workspace.removeStack("smoke", { force: true }).catch(() => undefined);
    stack = await LocalWorkspace.createOrSelectStack(
        { stackName: "smoke", projectName: "swarm-ha-smoke", program },
        { workDir, envVars: env, projectSettings: { name: "swarm-ha-smoke", runtime: "nodejs" } },
    );
});

test("the CLI is the one setup provides, with a version", async () => {
    expect(stack.workspace.pulumiVersion).toMatch(/^3\.\d+\.\d+/);
    const [major, minor] = stack.workspace.pulumiVersion.split(".").map(Number);
    expect(major * 1000 + minor).toBeGreaterThanOrEqual(3200);
});

test("the official plugins are installed at the versions the npm packages pin, none on PATH", () => {
    const listed = JSON.parse(
        execFileSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8", env: process.env }),
    ) as { name: string; kind: string; version: string }[];
    const resource = listed
        .filter((p) => p.kind === "resource")
        .map((p) => `${p.name} ${p.version}`);
    const pinned = (pkg: string): string =>
        (
            JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), "utf8")) as {
                version: string;
            }
        ).version;
    expect(resource).toEqual(
        expect.arrayContaining([
            `command ${pinned("@pulumi/command")}`,
            `docker ${pinned("@pulumi/docker")}`,
            `random ${pinned("@pulumi/random")}`,
        ]),
    );
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        for (const name of ["command", "docker", "random"]) {
            expect(fs.existsSync(path.join(dir, `pulumi-resource-${name}`))).toBe(false);
        }
    }
});

test("up creates both commands and returns their output", async () => {
    const result = await stack.up({ onOutput, color: "never" });
    expect(result.summary.resourceChanges).toEqual({ create: 3 });
    expect(result.outputs.local.value).toBe("local-ok");
    expect(result.outputs.remote.value).toBe("lab-m1");
    const state = await stack.exportStack();
    const provider = (
        state.deployment.resources as { type: string; inputs: { version?: string } }[]
    ).find((r) => r.type === "pulumi:providers:command");
    expect(provider?.inputs.version).toBe("1.2.1");
    expect(lab("ssh", "lab-m1", "cat /tmp/swarm-ha-smoke").trim()).toBe("smoke");
});

test("preview after up shows no changes", async () => {
    const result = await stack.preview({ onOutput, color: "never" });
    expect(changes(result.changeSummary)).toEqual({});
});

test("refresh keeps every resource", async () => {
    const result = await stack.refresh({ onOutput, color: "never" });
    expect(changes(result.summary.resourceChanges)).toEqual({});
});

test("destroy runs the delete commands and empties the stack", async () => {
    const result = await stack.destroy({ onOutput, color: "never" });
    expect(result.summary.resourceChanges).toEqual({ delete: 3 });
    expect(
        lab("ssh", "lab-m1", "test -e /tmp/swarm-ha-smoke && echo left || echo gone").trim(),
    ).toBe("gone");
    const state = await stack.exportStack();
    expect(state.deployment.resources ?? []).toEqual([]);
});

test("the private key never reached the engine's output or the state", async () => {
    const key = fs.readFileSync(labInfo().privateKeyPath, "utf8");
    const body = key.split("\n")[1];
    expect(printed.join("").includes(body)).toBe(false);
});

// Every remote step the swarm and the ensemble register, built with the nastiest values the
// validation lets through (label values with spaces, globs, quotes and command substitutions, host
// names in upper case): the parameters at the head of each step's command text are run here, in a
// throwaway directory, and arrive as the values given, with nothing in them run. The scripts never
// evaluate them again (scriptRules.test.ts), and the riskiest uses are run whole in
// hostileSteps.test.ts.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Recorder, resolve, settle, stepStdout } from "../../test/unit/recorder";

const recorder = new Recorder(stepStdout);
recorder.install();

import { SwarmCluster, ZooKeeperEnsemble, labelLines } from "../internal";
import { rules } from "./grammar";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "step-params-"));
const marker = path.join(dir, "ran");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Valid, and as hostile as validation allows: runs a command wherever a shell parses it. */
const NASTY = `rack 4 * $(touch ${marker}) \`touch ${marker}\` ;touch ${marker}; 'q' "d" \\ ~ $HOME %s`;

/** The parameter lines of a step's command text: between `set -eu` and the scripts it sources. */
function parameterBlock(text: string): string | undefined {
    const m = /^set -eu\n([\s\S]*?)\n\. '/.exec(text);
    return m?.[1];
}

test("every step's parameters arrive as the values given, and nothing in them runs", async () => {
    expect(rules.labelValue.test(NASTY)).toBe(true);
    const labels = { zone: NASTY, "com.example/tier": "a=b" };
    const cluster = new SwarmCluster("c", {
        nodes: [
            { name: "m1", host: "M1.Example.internal", role: "manager", labels },
            { name: "w1", host: "10.1.0.21", role: "worker", labels },
        ],
        ssh: { privateKey: "k", acceptAnyHostKey: true },
        checkHosts: false,
        docker: { metricsPort: 9323 },
        certExpiry: "2160h",
        dockerProvider: false,
    });
    const zk = new ZooKeeperEnsemble("zk", {
        servers: [{ id: 1, host: "ZK1.Example.internal" }],
        ssh: { privateKey: "k", acceptAnyHostKey: true },
        checkHosts: false,
        jvmFlags: "-XX:+UseG1GC -Dzookeeper.x=%s",
    });
    await resolve(cluster.nodeStatus);
    await resolve(zk.connectString);
    await settle();
    const steps = recorder.resources.filter((r) => r.type === "command:remote:Command");
    expect(steps.length).toBeGreaterThan(10);
    let blocks = 0;
    let labelSteps = 0;
    for (const step of steps) {
        for (const field of ["create", "update", "delete"]) {
            const text = step.inputs[field];
            const block = typeof text === "string" ? parameterBlock(text) : undefined;
            if (block === undefined) continue;
            blocks++;
            // Each parameter printed back, NUL-separated, as the step's script would read it.
            const names = [...block.matchAll(/^([A-Z][A-Z0-9_]*)='/gm)].map((m) => m[1]);
            const printed = execFileSync(
                "sh",
                ["-c", `${block}\n${names.map((n) => `printf '%s\\0' "$${n}"`).join("\n")}`],
                { cwd: dir, encoding: "utf8", env: { PATH: "/usr/bin:/bin", HOME: dir } },
            );
            const values = Object.fromEntries(
                printed
                    .split("\0")
                    .slice(0, -1)
                    .map((v, i) => [names[i], v]),
            );
            if ("LABELS" in values) {
                labelSteps++;
                expect(values.LABELS).toBe(labelLines(labels));
            }
            if ("JVM_FLAGS" in values) {
                expect(values.JVM_FLAGS).toBe("-XX:+UseG1GC -Dzookeeper.x=%s");
            }
            if ("HOST" in values) {
                expect(["M1.Example.internal", "10.1.0.21", "ZK1.Example.internal"]).toContain(
                    values.HOST,
                );
            }
        }
    }
    expect(blocks).toBeGreaterThan(10);
    expect(labelSteps).toBe(2);
    expect(fs.existsSync(marker)).toBe(false);
});

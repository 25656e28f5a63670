// End to end: the swarm alone (no ZooKeeper, no services) on 3 managers and 2 workers of fresh lab
// hosts. Drift made by hand (a worker that left the swarm, a manager's label changed, a worker's
// engine stopped) is shown by preview, repaired by up, and the next preview is empty; so is a worker
// whose heartbeats are lost while its engine runs (its engine restarted). Then the
// bootstrap manager's host is replaced by a fresh machine at its address: the next up, with no
// config edit, rejoins it to the same swarm and removes its old entry. A new join token rotation
// number rotates both tokens once. Every check reads the hosts.
import { Stack } from "@pulumi/pulumi/automation";
import { changes, openStack, plainOutputs, withoutEnsemble } from "../../scripts/automation";
import {
    Ops,
    WITHOUT_MONITORING,
    freshLab,
    freshStack,
    lab,
    onHost,
    opsCollector,
    record,
    removeStack,
    upWithOps,
} from "./helpers";

jest.setTimeout(20 * 60 * 1000);

const ALL = ["lab-m1", "lab-m2", "lab-m3", "lab-w1", "lab-w2"];

let stack: Stack;

/** The steps of one host that run again when its engine or membership is found drifted. */
const HOST_STEPS = ["docker", "firewall", "firewall-ok", "join", "node", "scripts"];

/** `docker node ls` on a manager: one "HOSTNAME ID STATUS AVAILABILITY MANAGER-STATUS" per entry. */
function entries(manager: string): string[] {
    return onHost(
        manager,
        "docker node ls --format '{{.Hostname}} {{.ID}} {{.Status}} {{.Availability}} {{.ManagerStatus}}'",
    )
        .split("\n")
        .map((l) => l.trim())
        .sort();
}

/** Each host's view: "HOSTNAME ENGINE SWARM-STATE CLUSTER-ID" (the cluster ID on managers). */
function views(): string[] {
    return ALL.map((h) =>
        onHost(
            h,
            "echo $(hostname) $(systemctl is-active docker.service) $(docker info --format '{{.Swarm.LocalNodeState}} {{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}}{{end}}')",
        ),
    );
}

/** views() when every host runs its engine in the one swarm (the cluster ID on managers). */
function inTheSwarm(): string[] {
    return ALL.map((h) => `${h} active active${h.includes("-m") ? ` ${clusterId}` : ""}`);
}

async function previewOps(): Promise<{
    ops: Ops;
    warnings: string;
    summary: Record<string, number>;
}> {
    const ops: Ops = {};
    let printed = "";
    const result = await stack.preview({
        onOutput: (s) => {
            printed += s;
            record(s);
        },
        onEvent: opsCollector(ops),
        color: "never",
    });
    // The warnings as the diagnostics at the end list them.
    const warnings = printed
        .split("\n")
        .map((l) => /^\s*warning: (swarm-ha: lab-.*)$/.exec(l)?.[1])
        .filter((l) => l !== undefined)
        .join("\n");
    return { ops, warnings, summary: changes(result.changeSummary) };
}

const up = () => upWithOps(stack);

beforeAll(async () => {
    freshLab(3, 2);
    const config = {
        ...WITHOUT_MONITORING,
        "swarm-ha:services": { value: "{}" },
        "swarm-ha:sshDialAttempts": { value: "3" },
    };
    stack = await openStack({ stack: "recovery", settingsFrom: "dev", config });
    await freshStack(stack);
    stack = await openStack({ stack: "recovery", settingsFrom: "dev", config });
    await withoutEnsemble(stack);
    // The swarm every scenario starts from (with E2E_KEEP, whatever the last run left missing).
    converged = await up();
    clusterId = String(plainOutputs(await stack.outputs()).clusterId);
});

let converged: Awaited<ReturnType<typeof up>>;
let clusterId = "";

test("up converges the swarm alone, and the preview after it is empty", async () => {
    expect(Object.keys(converged.summary)).toEqual(["create"]);
    expect(clusterId).toMatch(/^[a-z0-9]{25}$/);
    expect(views()).toEqual(inTheSwarm());
    expect((await previewOps()).summary).toEqual({});
});

test("drift by hand: preview shows it, up repairs it, the next preview is empty", async () => {
    const oldW1 = entries("lab-m1")
        .find((e) => e.startsWith("lab-w1 "))!
        .split(" ")[1];
    onHost("lab-w1", "docker swarm leave");
    onHost("lab-m1", "docker node update --label-add zone=x lab-m2");
    // The lab's image loader first: it would start Docker again.
    onHost(
        "lab-w2",
        "systemctl stop lab-images.path && systemctl stop docker.service docker.socket",
    );

    let since = Date.now();
    const preview = await previewOps();
    const previewSeconds = (Date.now() - since) / 1000;
    expect(preview.warnings.split("\n")).toEqual([
        "swarm-ha: lab-m2 (172.30.213.12): its labels are {zone=x}, the stack says {zone=b}; up applies the stack's settings.",
        "swarm-ha: lab-w1 (172.30.213.21): it is not in the swarm; up starts its engine, joins it to the swarm and applies its settings.",
        "swarm-ha: lab-w2 (172.30.213.22): its Docker engine is not running (systemd: inactive); up starts its engine, joins it to the swarm and applies its settings.",
    ]);
    // Only the drifted nodes' steps (and the ready check, which reads their node IDs); the
    // manager-side steps stay where they were. Their firewall's too: a host found so may be a new
    // machine at its address, whose rules are not there.
    const drifted = ["lab-w1", "lab-w2"].flatMap((n) => HOST_STEPS.map((s) => `lab-${s}-${n}`));
    expect(preview.ops).toEqual({
        update: ["lab-node-lab-m2", "lab-probe", "lab-ready", ...drifted].sort(),
    });

    since = Date.now();
    const repaired = await up();
    console.log(
        `drift on 3 nodes: preview ${previewSeconds.toFixed(1)} s, up repairing it ${((Date.now() - since) / 1000).toFixed(1)} s`,
    );
    expect(repaired.summary).toEqual({ update: expect.any(Number) });
    const table = entries("lab-m1");
    // Five entries: lab-w1's old one removed, its new one Ready.
    expect(table.map((e) => e.split(" ")[0])).toEqual(ALL);
    expect(table.find((e) => e.startsWith("lab-w1 "))).not.toContain(oldW1);
    for (const e of table) {
        expect(e).toMatch(/^\S+ \S+ Ready Active/);
    }
    expect(onHost("lab-m1", "docker node inspect -f '{{json .Spec.Labels}}' lab-m2")).toBe(
        '{"zone":"b"}',
    );
    expect(views()).toEqual(inTheSwarm());
    expect((await previewOps()).summary).toEqual({});
});

/**
 * Blocks a host's swarm control traffic (TCP 2377 to and from the managers) for as long as its
 * engine's current run lasts: a transient unit holds the rules and takes them away once
 * docker.service runs as another invocation. The node's heartbeats are lost while its engine runs
 * and says it is in the swarm, as in docker/for-linux#209, and only a restart of that engine ends it.
 */
function loseHeartbeats(host: string): void {
    const rules = (op: string) =>
        `iptables ${op} OUTPUT -p tcp --dport 2377 -j DROP; iptables ${op} INPUT -p tcp --sport 2377 -j DROP`;
    onHost(
        host,
        [
            "cat > /run/e2e-lose-heartbeats <<'SCRIPT'",
            "run() { systemctl show -p InvocationID --value docker.service; }",
            "lost=$(run)",
            rules("-I"),
            'while [ "$(run)" = "$lost" ]; do sleep 0.2; done',
            rules("-D"),
            "SCRIPT",
            "systemd-run -q --unit=e2e-lose-heartbeats --collect /bin/sh /run/e2e-lose-heartbeats",
        ].join("\n"),
    );
}

/** Waits (bounded) until `check` holds, asking every 2 s; fails naming what it waited for. */
async function waitUntil(what: string, seconds: number, check: () => boolean): Promise<void> {
    for (const until = Date.now() + seconds * 1000; !check();) {
        if (Date.now() > until) throw new Error(`gave up after ${seconds} s waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 2000));
    }
}

test("a worker the managers see Down while its engine runs: preview names it, up restarts that engine run, it is Ready", async () => {
    const run = () => onHost("lab-w1", "systemctl show -p InvocationID --value docker.service");
    const lost = run();
    const state = () => onHost("lab-m1", "docker node inspect -f '{{.Status.State}}' lab-w1");
    const uptime = () =>
        Number(
            onHost(
                "lab-w1",
                "echo $(($(cut -d. -f1 /proc/uptime) - $(systemctl show -p ActiveEnterTimestampMonotonic --value docker.service) / 1000000))",
            ),
        );
    loseHeartbeats("lab-w1");
    let since = Date.now();
    await waitUntil("the managers to see lab-w1 Down", 120, () => state() === "down");
    const downAfter = (Date.now() - since) / 1000;
    // Its engine runs and still says it is in the swarm; an engine that started less than a
    // minute ago is left to its first heartbeats, so this one must be older.
    expect(onHost("lab-w1", "docker info --format '{{.Swarm.LocalNodeState}}'")).toBe("active");
    await waitUntil("lab-w1's engine to have run a minute", 90, () => uptime() >= 60);

    since = Date.now();
    const preview = await previewOps();
    const previewSeconds = (Date.now() - since) / 1000;
    expect(preview.warnings).toBe(
        "swarm-ha: lab-w1 (172.30.213.21): the managers see it Down while its engine runs and says it is in the swarm (its heartbeats are lost); up restarts its engine and waits for it to be Ready.",
    );
    expect(preview.ops).toEqual({
        update: [
            "lab-probe",
            "lab-ready",
            // Its node settings too: they read the ID its join reports, unknown at preview.
            ...HOST_STEPS.map((s) => `lab-${s}-lab-w1`),
        ].sort(),
    });
    // Nothing restarted by the preview.
    expect(run()).toBe(lost);
    expect(state()).toBe("down");

    since = Date.now();
    const repaired = await up();
    const upSeconds = (Date.now() - since) / 1000;
    console.log(
        `lost worker: Down after ${downAfter.toFixed(1)} s; preview naming it ${previewSeconds.toFixed(1)} s; up restarting its engine ${upSeconds.toFixed(1)} s`,
    );
    expect(repaired.summary).toEqual({ update: expect.any(Number) });
    expect(run()).not.toBe(lost);
    expect(onHost("lab-w1", "systemctl is-active e2e-lose-heartbeats.service || true")).toBe(
        "inactive",
    );
    // The ready check waited for it: Ready when up returned, the same swarm node.
    expect(state()).toBe("ready");
    expect(views()).toEqual(inTheSwarm());
    // Repaired once: the next preview is empty, and another up restarts nothing.
    const after = run();
    expect((await previewOps()).summary).toEqual({});
    expect(run()).toBe(after);
});

test("the bootstrap manager's host replaced: up rejoins it to the same swarm, no config edit", async () => {
    const oldM1 = entries("lab-m2")
        .find((e) => e.startsWith("lab-m1 "))!
        .split(" ")[1];
    lab("replace", "lab-m1");
    expect(onHost("lab-m1", "command -v dockerd || echo none")).toBe("none");

    const preview = await previewOps();
    expect(preview.warnings).toBe(
        "swarm-ha: lab-m1 (172.30.213.11): its Docker engine is not running (systemd: inactive); up starts its engine, joins it to the swarm and applies its settings.",
    );
    expect(Object.keys(preview.summary)).toEqual(["update"]);

    const since = Date.now();
    await up();
    console.log(
        `bootstrap manager's host replaced: up rejoining it ${((Date.now() - since) / 1000).toFixed(1)} s`,
    );
    expect(String(plainOutputs(await stack.outputs()).clusterId)).toBe(clusterId);
    // Never a second swarm: every manager in the one it had.
    expect(views()).toEqual(inTheSwarm());
    const table = entries("lab-m2");
    expect(table.map((e) => e.split(" ")[0])).toEqual(ALL);
    expect(table.find((e) => e.startsWith("lab-m1 "))).not.toContain(oldM1);
    expect(table.find((e) => e.startsWith("lab-m1 "))).toMatch(/ Ready Active (Reachable|Leader)$/);
    expect(table.filter((e) => / (Reachable|Leader)$/.test(e))).toHaveLength(3);
    expect((await previewOps()).summary).toEqual({});
});

test("join tokens rotated by a number in config: once, the nodes stay, the outputs follow", async () => {
    const token = (role: string) => onHost("lab-m2", `docker swarm join-token -q ${role}`);
    const before = [token("worker"), token("manager")];
    await stack.setConfig("swarm-ha:joinTokenRotation", { value: "1" });
    const preview = await previewOps();
    // The tokens step; the joins, whose stdin is the token (each finds its node in the swarm); the
    // node settings and the ready check, which read the node IDs the joins report.
    expect(preview.ops).toEqual({
        update: [
            "lab-tokens",
            "lab-ready",
            ...ALL.flatMap((n) => [`lab-join-${n}`, `lab-node-${n}`]),
        ].sort(),
    });
    await up();
    const after = [token("worker"), token("manager")];
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    const outputs = plainOutputs(await stack.outputs());
    expect([outputs.workerJoinToken, outputs.managerJoinToken]).toEqual(after);
    expect(views()).toEqual(inTheSwarm());
    // Once: the next preview is empty, and the tokens stay.
    expect((await previewOps()).summary).toEqual({});
    expect([token("worker"), token("manager")]).toEqual(after);
});

test("destroy: every host has left the swarm", async () => {
    await stack.destroy({ onOutput: record, color: "never" });
    for (const h of ALL) {
        expect(onHost(h, "docker info --format '{{.Swarm.LocalNodeState}}'")).toBe("inactive");
    }
    await removeStack(stack);
});

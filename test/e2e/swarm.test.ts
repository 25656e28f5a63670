// End to end: the real engine converges the dev program's 3-manager, 2-worker swarm on fresh lab
// hosts, then scales, survives a manager restart, keeps its secrets, refuses bad input and
// destroys cleanly. Every check reads the hosts over SSH.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import { changes, labInfo, openStack } from "../../scripts/automation";
import { NodeConfig } from "../../config";
import {
    DEV,
    Ops,
    W3,
    WITHOUT_MONITORING,
    freshLab,
    freshStack,
    lab,
    onHost,
    opsCollector,
    record,
    stackCli,
    storedState,
    transcript,
    whereIn,
} from "./helpers";

jest.setTimeout(20 * 60 * 1000);

const ALL = ["lab-m1", "lab-m2", "lab-m3", "lab-w1", "lab-w2"];

let stack: Stack;

async function withNodes(nodes: NodeConfig[], extra: ConfigMap = {}): Promise<void> {
    await stack.setAllConfig({ "swarm-ha:nodes": { value: JSON.stringify(nodes) }, ...extra });
}

async function upCollecting(): Promise<{ ops: Ops; summary: Record<string, number> }> {
    const ops: Ops = {};
    const result = await stack.up({ onOutput: record, onEvent: opsCollector(ops), color: "never" });
    return { ops, summary: changes(result.summary.resourceChanges) };
}

/** `docker node ls` on a manager: hostname -> "status availability managerStatus". */
function nodeTable(manager = "lab-m1"): Record<string, string> {
    const out = onHost(
        manager,
        "docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}'",
    );
    return Object.fromEntries(
        out.split("\n").map((line) => {
            const [host, ...rest] = line.trim().split(" ");
            return [host, rest.join(" ").trim()];
        }),
    );
}

function waitFor(what: string, check: () => boolean, seconds = 90): void {
    const until = Date.now() + seconds * 1000;
    let last = "";
    while (Date.now() < until) {
        try {
            if (check()) return;
        } catch (e) {
            last = (e as Error).message;
        }
        execSleep(2);
    }
    throw new Error(`gave up after ${seconds}s waiting for ${what}; last error: ${last}`);
}

function execSleep(seconds: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}

beforeAll(async () => {
    freshLab(3, 3);
    stack = await openStack({ stack: "e2e", settingsFrom: "dev", config: WITHOUT_MONITORING });
    await freshStack(stack);
    stack = await openStack({
        stack: "e2e",
        settingsFrom: "dev",
        config: { ...WITHOUT_MONITORING, "swarm-ha:sshDialAttempts": { value: "3" } },
    });
    await withNodes(DEV);
});

let clusterId = "";

test("up converges 3 managers and 2 workers with their labels", async () => {
    const { summary } = await upCollecting();
    expect(Object.keys(summary)).toEqual(["create"]);
    const table = nodeTable();
    expect(Object.keys(table).sort()).toEqual(ALL);
    for (const host of ALL) {
        expect(table[host]).toMatch(/^Ready Active/);
    }
    const managerStatus = ["lab-m1", "lab-m2", "lab-m3"].map((m) => table[m].split(" ")[2]).sort();
    expect(managerStatus).toEqual(["Leader", "Reachable", "Reachable"]);
    for (const node of DEV) {
        const labels = JSON.parse(
            onHost("lab-m1", `docker node inspect -f '{{json .Spec.Labels}}' ${node.name}`),
        );
        expect(labels).toEqual(node.labels);
    }
    for (const host of ALL) {
        expect(onHost(host, "systemctl is-enabled docker; systemctl is-active docker")).toBe(
            "enabled\nactive",
        );
    }
    // lab-w3's Docker (installed, as on every packaged lab host) is not started, and no script
    // was placed there: only the swarm's hosts were touched.
    expect(
        onHost("lab-w3", "echo $(systemctl is-active docker.service) $(ls /var/lib/swarm-ha 2>&1)"),
    ).toBe("inactive ls: cannot access '/var/lib/swarm-ha': No such file or directory");
});

test("the stack's outputs agree with what the hosts report", async () => {
    const outputs = await stack.outputs();
    clusterId = onHost("lab-m2", "docker info -f '{{.Swarm.Cluster.ID}}'");
    expect(outputs.clusterId.value).toBe(clusterId);
    const ids = (names: string[]) =>
        names.map((n) => onHost("lab-m1", `docker node inspect -f '{{.ID}}' ${n}`));
    const managers = outputs.managers.value as { name: string; nodeId: string }[];
    expect(managers.map((m) => m.nodeId)).toEqual(ids(["lab-m1", "lab-m2", "lab-m3"]));
    const workers = outputs.workers.value as { name: string; nodeId: string }[];
    expect(workers.map((w) => w.nodeId)).toEqual(ids(["lab-w1", "lab-w2"]));
    const leaderName = onHost(
        "lab-m1",
        `docker node ls --filter role=manager --format '{{.ManagerStatus}} {{.Hostname}}' | awk '$1 == "Leader" { print $2 }'`,
    );
    const leader = DEV.find((n) => n.name === leaderName)!;
    expect(outputs.leaderAddress.value).toBe(leader.host);
    expect(outputs.faultTolerance.value).toBe(1);
    expect(outputs.managerJoinToken.secret).toBe(true);
    expect(outputs.workerJoinToken.secret).toBe(true);
});

test("a second up changes nothing and preview shows no changes", async () => {
    const { summary } = await upCollecting();
    expect(summary).toEqual({});
    const previewed = await stack.preview({ onOutput: record, color: "never" });
    expect(changes(previewed.changeSummary)).toEqual({});
});

test("scale out by one worker creates only that node's resources", async () => {
    await withNodes([...DEV, W3]);
    const { ops } = await upCollecting();
    expect(ops).toEqual({
        create: [
            "lab-docker-lab-w3",
            "lab-firewall-lab-w3",
            "lab-firewall-ok-lab-w3",
            "lab-forget-lab-w3",
            "lab-join-lab-w3",
            "lab-node-lab-w3",
            "lab-scripts-lab-w3",
        ],
        // Every host's firewall lets the new node in before it joins; the probe counts it from now on.
        update: [
            ...["lab-m1", "lab-m2", "lab-m3", "lab-w1", "lab-w2"].flatMap((n) => [
                `lab-firewall-${n}`,
            ]),
            ...["lab-m1", "lab-m2", "lab-m3", "lab-w1", "lab-w2"].flatMap((n) => [
                `lab-firewall-ok-${n}`,
            ]),
            "lab-probe",
            "lab-ready",
        ],
    });
    expect(nodeTable()["lab-w3"]).toMatch(/^Ready Active/);
});

test("scale in drains the node, it leaves, and its entry is gone", async () => {
    await withNodes(DEV);
    const { ops } = await upCollecting();
    expect(ops).toEqual({
        delete: [
            "lab-docker-lab-w3",
            "lab-firewall-lab-w3",
            "lab-firewall-ok-lab-w3",
            "lab-forget-lab-w3",
            "lab-join-lab-w3",
            "lab-node-lab-w3",
            "lab-scripts-lab-w3",
        ],
        update: ["lab-probe", "lab-ready"],
    });
    expect(transcript.join("")).toMatch(/drained \w+/);
    expect(onHost("lab-w3", "docker info -f '{{.Swarm.LocalNodeState}}'")).toBe("inactive");
    expect(onHost("lab-w3", "ls /var/lib/swarm-ha 2>&1 || true")).toMatch(/No such file/);
    expect(Object.keys(nodeTable()).sort()).toEqual(ALL);
    // The next up takes it out of every host's rules: it was let in only while it left.
    const after = await upCollecting();
    expect(after.ops).toEqual({
        update: ALL.flatMap((n) => [`lab-firewall-${n}`, `lab-firewall-ok-${n}`]).sort(),
    });
});

test("a restarted manager host rejoins the same swarm", async () => {
    lab("stop", "lab-m2");
    lab("start", "lab-m2");
    const { summary } = await upCollecting();
    expect(summary).toEqual({});
    waitFor("every node Ready and every manager Reachable after the restart", () => {
        const table = nodeTable();
        return (
            ALL.every((h) => table[h]?.startsWith("Ready")) &&
            ["lab-m1", "lab-m2", "lab-m3"].every((m) => /Leader|Reachable/.test(table[m]))
        );
    });
    expect(onHost("lab-m2", "docker info -f '{{.Swarm.Cluster.ID}}'")).toBe(clusterId);
});

test("no join token or private key is in the state or in anything the engine printed", async () => {
    const state = storedState("e2e");
    const secrets = [
        onHost("lab-m1", "docker swarm join-token -q worker"),
        onHost("lab-m1", "docker swarm join-token -q manager"),
        fs.readFileSync(labInfo().privateKeyPath, "utf8").split("\n")[1],
    ];
    const printed = transcript.join("");
    for (const secret of secrets) {
        expect(secret.length).toBeGreaterThan(20);
        expect(whereIn(state, secret)).toEqual([]);
        expect(printed.includes(secret)).toBe(false);
    }
    expect(state).toContain('"ciphertext"'); // the secrets are there, encrypted
    // The official command plugin's warning about sshd refusing its environment variables.
    expect(printed).not.toContain("PULUMI_COMMAND_STDOUT");
});

/** `npm run stack` on the e2e stack from the dev stack's settings, as a user would run it. */
const e2eCli = (action: string, config: Record<string, unknown>) =>
    stackCli(action, "e2e", "dev", config);

const E2E_CONFIG = { "swarm-ha:sshDialAttempts": 3, "swarm-ha:monitoring": { enabled: false } };

test("an even manager count fails at preview with the validation message, changing nothing", async () => {
    const nodes = DEV.map((n) => (n.name === "lab-w1" ? { ...n, role: "manager" } : n));
    const r = e2eCli("preview", { ...E2E_CONFIG, "swarm-ha:nodes": nodes });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(
        'SwarmCluster "lab": 4 managers given; use an odd number (1, 3, 5, 7) so the swarm keeps a quorum, or set allowEvenManagers.',
    );
});

test("hostile settings are refused at preview, each naming its key, with no stack trace and nothing run", async () => {
    // Each would have run a command on this machine if pasted into a shell or an ssh option.
    const marker = path.join(os.tmpdir(), `swarm-ha-injected-${process.pid}`);
    fs.rmSync(marker, { force: true });
    const nodes = DEV.map((n, i) =>
        i === 0
            ? { ...n, host: `172.30.213.11$(touch ${marker})` }
            : i === 1
              ? { ...n, sshUser: `-oProxyCommand=touch ${marker}` }
              : i === 2
                ? { ...n, advertiseAdress: n.host }
                : n,
    );
    const r = e2eCli("preview", {
        ...E2E_CONFIG,
        "swarm-ha:nodes": nodes,
        "swarm-ha:sevices": {},
    });
    expect(r.status).not.toBe(0);
    for (const message of [
        `swarm-ha:sevices is not a setting; did you mean services?`,
        `swarm-ha:nodes[0].host is "172.30.213.11$(touch ${marker})"; use an IPv4 address or a host name`,
        `swarm-ha:nodes[1].sshUser is "-oProxyCommand=touch ${marker}"; use a user name of letters`,
        `swarm-ha:nodes[2].advertiseAdress is not a setting; did you mean advertiseAddress?`,
    ]) {
        expect(r.out).toContain(message);
    }
    expect(r.out).not.toContain("Unhandled exception");
    expect(r.out).not.toMatch(/^\s+at \S+ \(/m);
    expect(fs.existsSync(marker)).toBe(false);
});

test("a duplicate host fails at preview with the validation message, changing nothing", async () => {
    const nodes = DEV.map((n) => (n.name === "lab-w2" ? { ...n, host: "172.30.213.21" } : n));
    const r = e2eCli("preview", { ...E2E_CONFIG, "swarm-ha:nodes": nodes });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(
        'SwarmCluster "lab": host "172.30.213.21" is used by more than one node; hosts must be unique.',
    );
    const ok = e2eCli("preview", { ...E2E_CONFIG, "swarm-ha:nodes": DEV });
    expect(ok.status).toBe(0);
    expect(ok.out).toContain("changes: {}");
});

test("a wrong host key fails at preview in seconds, naming the node, host, presented and expected key", async () => {
    const keys = Object.fromEntries(labInfo().hosts.map((h) => [h.name, h.hostKey]));
    const started = Date.now();
    const r = e2eCli("preview", {
        ...E2E_CONFIG,
        "swarm-ha:hostKeys": { "lab-w1": keys["lab-m1"] },
    });
    const seconds = (Date.now() - started) / 1000;
    const key = (k: string) => k.split(" ").slice(0, 2).join(" ");
    console.log(`a wrong host key refused at preview in ${seconds.toFixed(1)} s`);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(
        `swarm-ha: lab-w1 (172.30.213.21): the host presents the SSH host key ${key(keys["lab-w1"])}, but ${key(keys["lab-m1"])} is expected`,
    );
});

test("a key the hosts refuse fails at preview in seconds, naming node, user and key; as a file or a secret", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wrong-key-"));
    const wrong = path.join(dir, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "wrong", "-f", wrong]);
    const print = execFileSync("ssh-keygen", ["-l", "-f", wrong], { encoding: "utf8" }).split(
        " ",
    )[1];
    for (const [how, config] of [
        ["file", { "swarm-ha:sshPrivateKeyFile": wrong }],
        [
            "secret",
            {
                "swarm-ha:sshPrivateKeyFile": "",
                "swarm-ha:sshPrivateKey": fs.readFileSync(wrong, "utf8"),
            },
        ],
    ] as const) {
        const started = Date.now();
        const r = e2eCli("preview", { ...E2E_CONFIG, ...config });
        const seconds = (Date.now() - started) / 1000;
        console.log(
            `a key the hosts refuse (${how}) refused at preview in ${seconds.toFixed(1)} s`,
        );
        expect(r.status).not.toBe(0);
        for (const n of DEV) {
            expect(r.out).toContain(
                `swarm-ha: ${n.name} (${n.host}): root@${n.host}:22 refuses the SSH key ${print} (publickey)`,
            );
        }
        // The key's text is in neither the output nor a file left behind.
        const body = fs.readFileSync(wrong, "utf8").split("\n")[1];
        expect(r.out).not.toContain(body);
    }
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("swarm-ha-key-"))).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
});

/** Waits (bounded, 2 s apart) until lab-m1 reports `node` with a manager status matching `status`. */
async function managerStatus(node: string, status: RegExp): Promise<void> {
    let seen = "";
    for (let i = 0; i < 45 && !status.test(seen); i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 2000));
        seen = nodeTable("lab-m1")[node] ?? "";
    }
    expect(seen).toMatch(status);
}

test("a service asking for encrypted networks is refused at preview on this kernel, naming every host", async () => {
    const web = { image: "swarm-ha-web:3", networks: ["secure"], encrypted: true };
    const r = e2eCli("preview", { ...E2E_CONFIG, "swarm-ha:services": { web } });
    expect(r.status).not.toBe(0);
    // The lab's kernel has neither ESP nor GCM: Docker would take the network and drop its traffic.
    const said = r.out
        .split("\n")
        .map((l) => /(swarm-ha: lab-\S+ \(\S+\): its kernel cannot .*)$/.exec(l)?.[1])
        .filter((l) => l !== undefined);
    expect([...new Set(said)]).toEqual(
        DEV.map(
            (n) =>
                `swarm-ha: ${n.name} (${n.host}): its kernel cannot carry encrypted overlay networks (IPsec ESP with AES-GCM: "Error: Requested AEAD algorithm not found."), so secure would drop all traffic between hosts; use kernels with ESP and GCM (CONFIG_INET_ESP, CONFIG_CRYPTO_GCM), or drop encrypted from the services.`,
        ),
    );
});

test("demoting a manager while another is down is refused at preview with the numbers", async () => {
    // Three managers before and after: lab-m2 becomes a worker and lab-w1 a manager.
    const swap = (nodes: NodeConfig[], demote: string): NodeConfig[] =>
        nodes.map((n) =>
            n.name === demote
                ? { ...n, role: "worker" }
                : n.name === "lab-w1"
                  ? { ...n, role: "manager" }
                  : n,
        );
    lab("stop", "lab-m3");
    try {
        await managerStatus("lab-m3", / Unreachable$/);
        const r = e2eCli("preview", { ...E2E_CONFIG, "swarm-ha:nodes": swap(DEV, "lab-m2") });
        expect(r.status).not.toBe(0);
        expect(r.out).toContain(
            'SwarmCluster "lab": removing or demoting lab-m2 would leave 1 reachable of 2 managers while it runs, and a majority needs 2 (managers 3, reachable 2 (unreachable: lab-m3 (172.30.213.13)))',
        );
        // Demoting the manager that is down instead keeps two of two reachable: planned.
        const ok = e2eCli("preview", { ...E2E_CONFIG, "swarm-ha:nodes": swap(DEV, "lab-m3") });
        expect(ok.out).not.toContain("a majority needs");
        expect({ status: ok.status, end: ok.status === 0 ? "" : ok.out.slice(-2000) }).toEqual({
            status: 0,
            end: "",
        });
    } finally {
        lab("start", "lab-m3");
        await managerStatus("lab-m3", / (Reachable|Leader)$/);
    }
});

test("an unreachable host fails naming it and leaves the other nodes as they were", async () => {
    stack = await openStack({
        stack: "e2e",
        settingsFrom: "dev",
        config: { ...WITHOUT_MONITORING, "swarm-ha:sshDialAttempts": { value: "3" } },
    });
    // The manager the last test restarted is Reachable, and may still be Down for a moment.
    waitFor("every node Ready", () => ALL.every((h) => nodeTable()[h]?.startsWith("Ready")));
    const before = nodeTable();
    // Its key recorded, as every host's must be: the host that should have it is not there.
    const hostKey = labInfo().hosts.find((h) => h.name === "lab-w1")!.hostKey;
    await withNodes([...DEV, { name: "lab-w9", host: "172.30.213.29", role: "worker", hostKey }]);
    const ops: Ops = {};
    const failed = stack.up({ onOutput: record, onEvent: opsCollector(ops), color: "never" });
    await expect(failed).rejects.toThrow(/172\.30\.213\.29/);
    // Besides lab-w9's own steps, only the probe, which counts the new node from now on, and every
    // host's firewall, which lets a new node in before it joins.
    const touched = Object.entries(ops)
        .flatMap(([op, names]) => names.map((n) => `${op} ${n}`))
        .filter((x) => !x.includes("lab-w9"));
    expect(touched).toEqual(
        [
            "update lab-probe",
            ...ALL.flatMap((n) => [`update lab-firewall-${n}`, `update lab-firewall-ok-${n}`]),
        ].sort(),
    );
    expect(nodeTable()).toEqual(before);
});

test("a failing step's error is its own message and a short command, not the script", async () => {
    onHost("lab-w3", "apt-get remove -y -qq docker.io >/dev/null 2>&1; command -v docker || true");
    await withNodes([...DEV, W3], { "swarm-ha:dockerInstall": { value: "none" } });
    const printed: string[] = [];
    const failed = stack.up({ onOutput: (s) => (record(s), printed.push(s)), color: "never" });
    await expect(failed).rejects.toThrow(
        'swarm-ha: lab-w3 (172.30.213.23): docker.install is "none" but no docker command is installed',
    );
    const diagnostic = printed.join("").split("command:remote:Command (lab-docker-lab-w3):")[1];
    const error = diagnostic.trim().split("\n").slice(0, 2).join("\n");
    console.log(`a failing step's error, as the official command plugin prints it:\n${error}`);
    expect(error.length).toBeLessThan(500);
    expect(error).toMatch(/^error: Process exited with status 1: running "set -eu\\n/);
    expect(error).toMatch(/\n\s*swarm-ha: lab-w3 \(172\.30\.213\.23\): docker.install is "none"/);
    await stack.removeConfig("swarm-ha:dockerInstall");
});

test("after bad input, the committed nodes converge with nothing left over", async () => {
    await withNodes(DEV);
    await upCollecting();
    const previewed = await stack.preview({ onOutput: record, color: "never" });
    expect(changes(previewed.changeSummary)).toEqual({});
});

test("destroy: every host has left the swarm and Docker stays installed", async () => {
    await stack.destroy({ onOutput: record, color: "never" });
    for (const host of ALL) {
        expect(onHost(host, "docker info -f '{{.Swarm.LocalNodeState}}'")).toBe("inactive");
        expect(onHost(host, "systemctl is-active docker")).toBe("active");
    }
});

// End to end: a swarm of three managers and a worker that loses the majority of its managers, and
// `up` with swarm-ha:recovery brings it back whole: first with a manager that survived (two hosts
// replaced by fresh ones: `docker swarm init --force-new-cluster` there, the others joined again),
// then with none (all three replaced: the latest backup restored on the host that took it, then
// forced). Each time the cluster keeps its ID, its config, secret, network and service, and every
// node is Ready with three managers. Every check reads the hosts.
import { spawnSync } from "child_process";
import { Stack } from "@pulumi/pulumi/automation";
import { REPO, openStack, plainOutputs, withoutEnsemble } from "../../scripts/automation";
import { BackupRecord, parseBackupList } from "../../components/host/backup";
import {
    WITHOUT_MONITORING,
    freshLab,
    freshStack,
    lab,
    onHost,
    record,
    upWithOps,
} from "./helpers";

jest.setTimeout(25 * 60 * 1000);

const TARGET = "/var/backups/swarm-ha-e2e";
const MANAGERS = ["lab-m1", "lab-m2", "lab-m3"];
const NODES = [
    { name: "lab-m1", host: "172.30.213.11", role: "manager" },
    { name: "lab-m2", host: "172.30.213.12", role: "manager" },
    { name: "lab-m3", host: "172.30.213.13", role: "manager" },
    { name: "lab-w1", host: "172.30.213.21", role: "worker" },
];

let stack: Stack;
let clusterId = "";

/** A lab host replaced by a fresh one, whose lab unit does not start Docker behind a step's back. */
function replace(host: string): void {
    lab("replace", host);
    onHost(host, "systemctl stop lab-images.path");
}

/** What a manager says of the swarm: its cluster, nodes, managers and the objects made here. */
function swarmOn(host: string): Record<string, string> {
    const ask = (command: string) => onHost(host, command).split("\n").sort().join(" ");
    return {
        cluster: onHost(host, "docker info -f '{{.Swarm.Cluster.ID}}'"),
        nodes: ask("docker node ls --format '{{.Hostname}} {{.Status}}'"),
        managers: ask(
            "docker node ls --filter role=manager --format '{{.ManagerStatus}}' | sed 's/Leader/Reachable/'",
        ),
        objects: [
            ask("docker config ls --format '{{.Name}}'"),
            ask("docker secret ls --format '{{.Name}}'"),
            ask("docker network inspect -f '{{.Name}}' e2e-net 2>/dev/null || true"),
            ask("docker service ls --format '{{.Name}}'"),
        ].join(" | "),
    };
}

const whole = (): Record<string, string> => ({
    cluster: clusterId,
    nodes: "lab-m1 Ready lab-m2 Ready lab-m3 Ready lab-w1 Ready",
    managers: "Reachable Reachable Reachable",
    objects: "e2e-config | e2e-secret | e2e-net | e2e-svc",
});

async function upWith(recovery: Record<string, string> | undefined): Promise<void> {
    if (recovery) {
        await stack.setConfig("swarm-ha:recovery", { value: JSON.stringify(recovery) });
    } else {
        await stack.removeConfig("swarm-ha:recovery");
    }
    const since = Date.now();
    const { summary } = await upWithOps(stack);
    record(`up: ${JSON.stringify(summary)} in ${((Date.now() - since) / 1000).toFixed(1)} s\n`);
}

beforeAll(async () => {
    freshLab(3, 1);
    for (const h of [...MANAGERS, "lab-w1"]) onHost(h, "systemctl stop lab-images.path");
    const config = {
        ...WITHOUT_MONITORING,
        "swarm-ha:services": { value: "{}" },
        "swarm-ha:sshDialAttempts": { value: "3" },
        "swarm-ha:nodes": { value: JSON.stringify(NODES) },
        "swarm-ha:backup": { value: JSON.stringify({ keep: 3, target: TARGET }) },
    };
    stack = await openStack({ stack: "restore", settingsFrom: "dev", config });
    await freshStack(stack);
    stack = await openStack({ stack: "restore", settingsFrom: "dev", config });
    await withoutEnsemble(stack);
    await upWithOps(stack);
    clusterId = String(plainOutputs(await stack.outputs()).clusterId);
    // What a restore must bring back: the swarm's own objects (the service's spec; no task needs
    // its image here).
    onHost("lab-m1", "echo config | docker config create e2e-config - >/dev/null");
    onHost("lab-m1", "echo secret | docker secret create e2e-secret - >/dev/null");
    onHost("lab-m1", "docker network create -d overlay e2e-net >/dev/null");
    onHost(
        "lab-m1",
        "docker service create -d --name e2e-svc --replicas 0 --no-resolve-image swarm-ha-web:3 >/dev/null",
    );
    expect(swarmOn("lab-m1")).toEqual(whole());
});

test("two managers' hosts replaced: up with recovery from the survivor brings the swarm back whole", async () => {
    replace("lab-m2");
    replace("lab-m3");
    // No leader: once Raft's lease is over, the survivor cannot list the swarm.
    const lists = () =>
        onHost("lab-m1", "docker node ls -q >/dev/null 2>&1 && echo yes || echo no");
    const until = Date.now() + 60_000;
    while (lists() === "yes" && Date.now() < until) spawnSync("sleep", ["2"]);
    expect(lists()).toBe("no");
    await upWith({ node: "lab-m1" });
    for (const m of MANAGERS) expect(swarmOn(m)).toEqual(whole());
    // Once whole, recovery is removed: the next run changes nothing of the swarm.
    await upWith(undefined);
    expect(swarmOn("lab-m2")).toEqual(whole());
});

test("all three managers' hosts replaced: up with recovery from the latest backup", async () => {
    // A backup, as the timers take them (the first reachable manager that does not lead).
    for (const m of MANAGERS) onHost(m, "systemctl start --no-block swarm-ha-backup.service");
    const until = Date.now() + 120_000;
    let records: BackupRecord[] = [];
    while (records.length === 0 && Date.now() < until) {
        spawnSync("sleep", ["2"]);
        records = MANAGERS.flatMap((m) =>
            parseBackupList(onHost(m, `cat ${TARGET}/swarm-*.txt 2>/dev/null || true`), m),
        );
    }
    expect(records).toHaveLength(1);
    const [b] = records;
    // Kept off the managers (a share would be), then placed on the fresh host that took it.
    const fetch = (command: string, input?: Buffer): Buffer => {
        const r = spawnSync("bash", [`${REPO}/lab/lab.sh`, "ssh", b.host!, command], {
            input,
            maxBuffer: 256 * 1024 * 1024,
            timeout: 120_000,
        });
        if (r.status !== 0) throw new Error(`${b.host}: ${command}: ${r.stderr.toString()}`);
        return r.stdout;
    };
    const name = b.file.replace(/\.tar\.gz$/, "");
    const archive = fetch(`cat ${TARGET}/${name}.tar.gz`);
    const recordText = fetch(`cat ${TARGET}/${name}.txt`);
    for (const m of MANAGERS) replace(m);
    fetch(`mkdir -p ${TARGET} && cat > ${TARGET}/${name}.tar.gz`, archive);
    fetch(`cat > ${TARGET}/${name}.txt`, recordText);
    await upWith({ node: b.host!, backup: "latest" });
    for (const m of MANAGERS) expect(swarmOn(m)).toEqual(whole());
    await upWith(undefined);
    expect(swarmOn("lab-m1")).toEqual(whole());
});

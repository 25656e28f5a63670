// End to end: swarm-ha:backup on three lab managers and a worker, with a ZooKeeper ensemble on two
// of the managers and the worker. Every manager gets the swarm's timer; fired on all of them at
// once, one manager takes the backup, with its engine stopped only for the copy while the others
// keep the quorum; each backup is a whole archive with its record, the oldest beyond keep go, and
// the stack's output lists them. Each ZooKeeper server's timer backs up its own snapshot and logs.
// A run that changes the managers and ZooKeeper's configuration takes a backup of each before the
// promotion, the removal and the roll; the swarm's restores: on another host, `docker swarm init
// --force-new-cluster` from it brings back the same cluster with its nodes and objects as they
// were before the change. Every check reads the hosts.
import { spawnSync } from "child_process";
import { Stack } from "@pulumi/pulumi/automation";
import { REPO, openStack, plainOutputs } from "../../scripts/automation";
import { BackupRecord, parseBackupList } from "../../components/host/backup";
import { WITHOUT_MONITORING, freshLab, freshStack, onHost, record, upWithOps } from "./helpers";

jest.setTimeout(20 * 60 * 1000);

const TARGET = "/var/backups/swarm-ha-e2e";
const MANAGERS = ["lab-m1", "lab-m2", "lab-m3"];
/** ZooKeeper's servers by id: on two managers and the worker (lab-m3 leaves the swarm later). */
const SERVERS: Record<number, string> = { 1: "lab-m1", 2: "lab-m2", 3: "lab-w1" };
const NODES = [
    { name: "lab-m1", host: "172.30.213.11", role: "manager" },
    { name: "lab-m2", host: "172.30.213.12", role: "manager" },
    { name: "lab-m3", host: "172.30.213.13", role: "manager" },
    { name: "lab-w1", host: "172.30.213.21", role: "worker" },
];

let stack: Stack;
let clusterId = "";

/** The backup records of a kind in TARGET on a host. */
function recordsOn(host: string, kind = "swarm"): BackupRecord[] {
    return parseBackupList(onHost(host, `cat ${TARGET}/${kind}-*.txt 2>/dev/null || true`), host);
}

/** `docker node ls` on a manager: hostname -> "status availability managerStatus". */
function managerStatus(host: string): string[] {
    return onHost(
        host,
        "docker node ls --filter role=manager --format '{{.Hostname}} {{.ManagerStatus}}'",
    )
        .split("\n")
        .sort();
}

/** Fires a backup timer's service on `hosts` at once and waits (bounded) until each has run. */
function fireTimers(hosts: string[], unit = "swarm-ha-backup"): void {
    for (const h of hosts) onHost(h, `systemctl start --no-block ${unit}.service`);
    const until = Date.now() + 120_000;
    for (const h of hosts) {
        let state = "";
        while (
            (state = onHost(h, `systemctl is-active ${unit}.service || true`)) === "activating"
        ) {
            if (Date.now() > until) throw new Error(`the backup service on ${h} did not finish`);
            spawnSync("sleep", ["1"]);
        }
        if (state !== "inactive") {
            const last = onHost(h, `journalctl -u ${unit}.service -o cat --no-pager -n 5 || true`);
            throw new Error(`the backup service on ${h} is ${state}: ${last}`);
        }
    }
}

beforeAll(async () => {
    freshLab(3, 1);
    // The lab starts Docker again whenever its socket is there, to load its images (none are needed
    // here): that would undo a backup's stop of the engine, as a client of the socket would.
    for (const h of [...MANAGERS, "lab-w1"]) onHost(h, "systemctl stop lab-images.path");
    const config = {
        ...WITHOUT_MONITORING,
        "swarm-ha:services": { value: "{}" },
        "swarm-ha:sshDialAttempts": { value: "3" },
        "swarm-ha:nodes": { value: JSON.stringify(NODES) },
        "swarm-ha:zkServers": {
            value: JSON.stringify(
                Object.entries(SERVERS).map(([id, node]) => ({ id: Number(id), node })),
            ),
        },
        "swarm-ha:backup": {
            value: JSON.stringify({ schedule: "*-*-* 04:00:00", keep: 2, target: TARGET }),
        },
    };
    stack = await openStack({ stack: "backup", settingsFrom: "dev", config });
    await freshStack(stack);
    stack = await openStack({ stack: "backup", settingsFrom: "dev", config });
});

test("up converges with a timer on every manager; its own backup skips a swarm of one manager", async () => {
    const { summary } = await upWithOps(stack);
    expect(Object.keys(summary)).toEqual(["create"]);
    const outputs = plainOutputs(await stack.outputs());
    clusterId = String(outputs.clusterId);
    // Listed at the run's start: none yet. The run's backup came before the joins, when the swarm
    // had one manager, which cannot be stopped without losing it.
    expect(outputs.backups).toEqual([]);
    for (const m of MANAGERS) {
        expect(
            onHost(
                m,
                "systemctl is-enabled swarm-ha-backup.timer; systemctl is-active swarm-ha-backup.timer",
            ),
        ).toBe("enabled\nactive");
        expect(
            onHost(m, "systemctl show -p TimersCalendar --value swarm-ha-backup.timer"),
        ).toContain("OnCalendar=*-*-* 04:00:00");
        expect(recordsOn(m)).toEqual([]);
    }
    expect(onHost("lab-w1", "ls /etc/systemd/system/swarm-ha-backup.timer 2>&1 || true")).toContain(
        "No such file",
    );
});

test("the timers fire on every manager at once: one manager takes a checked backup, the swarm keeps its quorum", () => {
    // Objects a restore must bring back.
    onHost("lab-m1", "echo marker | docker config create e2e-backup-marker - >/dev/null");
    onHost("lab-m1", "docker network create -d overlay e2e-backup-net >/dev/null");
    const run = (m: string) => onHost(m, "systemctl show -p InvocationID --value docker.service");
    const before = Object.fromEntries(MANAGERS.map((m) => [m, run(m)]));
    fireTimers(MANAGERS);
    const taken = MANAGERS.flatMap((h) => recordsOn(h));
    expect(taken).toHaveLength(1);
    const [b] = taken;
    // The leader's host is asked who leads; the taker is the first other reachable manager.
    const leader = managerStatus("lab-m1")
        .find((l) => l.endsWith(" Leader"))!
        .split(" ")[0];
    const first = MANAGERS.filter((m) => m !== leader)[0];
    expect(b.host).toBe(first);
    expect(b).toMatchObject({
        kind: "swarm",
        cluster: clusterId,
        node: first,
        autolock: false,
        reason: "schedule",
    });
    // Only the taker's engine was stopped (and started again: a new run of it); the others' ran on.
    for (const m of MANAGERS) {
        if (m === first) expect(run(m)).not.toBe(before[m]);
        else expect(run(m)).toBe(before[m]);
    }
    // Checked where it lies: its digest, an archive holding the Raft state.
    const archive = `${TARGET}/${b.file}`;
    expect(onHost(first, `sha256sum ${archive} | cut -d' ' -f1`)).toBe(b.sha256);
    expect(onHost(first, `tar -tzf ${archive} | grep -c '^swarm/raft/' || true`)).not.toBe("0");
    expect(onHost(first, `stat -c %a ${TARGET} ${archive}`)).toBe("700\n600");
    // The taker has its availability back.
    expect(onHost("lab-m1", `docker node inspect -f '{{.Spec.Availability}}' ${first}`)).toBe(
        "active",
    );
    // The swarm came back whole: three managers, one leading.
    const status = managerStatus("lab-m1")
        .map((l) => l.split(" ")[1])
        .sort();
    expect(status).toEqual(["Leader", "Reachable", "Reachable"]);
});

let kept: BackupRecord[] = [];

test("each ZooKeeper server's timer backs up its own latest snapshot and the logs after it", () => {
    const servers = Object.values(SERVERS);
    for (const h of servers) {
        expect(onHost(h, "systemctl is-active swarm-ha-zk-backup.timer")).toBe("active");
    }
    fireTimers(servers, "swarm-ha-zk-backup");
    for (const [id, h] of Object.entries(SERVERS)) {
        const records = recordsOn(h, "zookeeper");
        expect(records).toHaveLength(1);
        const [b] = records;
        expect(b).toMatchObject({ kind: "zookeeper", server: Number(id), reason: "schedule" });
        const files = onHost(h, `tar -tzf ${TARGET}/${b.file}`).split("\n");
        expect(files).toContain(`version-2/snapshot.${b.zxid}`);
        expect(onHost(h, `sha256sum ${TARGET}/${b.file} | cut -d' ' -f1`)).toBe(b.sha256);
    }
});

test("keep: 2: each new backup removes the oldest beyond it", () => {
    const taker = MANAGERS.flatMap((h) => recordsOn(h))[0].host!;
    const first = recordsOn(taker)[0].file;
    for (let i = 0; i < 2; i++) {
        spawnSync("sleep", ["1"]); // a new second: the backups' names are by the second
        fireTimers([taker]);
    }
    kept = recordsOn(taker);
    expect(kept).toHaveLength(2);
    expect(kept.map((r) => r.file)).not.toContain(first);
    const files = onHost(taker, `ls ${TARGET} | grep "^swarm-"`).split("\n").sort();
    expect(files).toEqual(
        kept.flatMap((r) => [r.file, r.file.replace(/\.tar\.gz$/, ".txt")]).sort(),
    );
});

let changeBackup: BackupRecord | undefined;

test("a change of managers and of ZooKeeper's configuration: each backed up before it", async () => {
    const promoted = NODES.filter((n) => n.name !== "lab-m3").map((n) =>
        n.name === "lab-w1" ? { ...n, role: "manager" } : n,
    );
    await stack.setConfig("swarm-ha:nodes", { value: JSON.stringify(promoted) });
    await stack.setConfig("swarm-ha:zkTickTime", { value: "2200" });
    const { ops } = await upWithOps(stack);
    expect(ops.replace).toEqual(expect.arrayContaining(["lab-backup", "zookeeper-backup"]));
    // ZooKeeper's: on server 1, before its restart in the roll.
    const zk = recordsOn("lab-m1", "zookeeper").filter((r) => r.reason === "change");
    expect(zk).toHaveLength(1);
    const restarted = onHost(
        "lab-m1",
        `date -u -d "$(systemctl show -p ActiveEnterTimestamp --value zookeeper-ensemble)" +%Y%m%dT%H%M%SZ`,
    );
    expect(zk[0].time <= restarted).toBe(true);
    expect(ops.delete).toEqual(expect.arrayContaining(["lab-backup-schedule-lab-m3"]));
    expect(ops.create).toEqual(expect.arrayContaining(["lab-backup-schedule-lab-w1"]));
    // The run listed what the managers held at its start: the two the timer kept.
    const outputs = plainOutputs(await stack.outputs());
    const listed = outputs.backups as BackupRecord[];
    const swarmListed = listed.filter((r) => r.kind === "swarm").map((r) => r.file);
    expect(swarmListed.sort()).toEqual(kept.map((r) => r.file).sort());
    // And ZooKeeper's, one for each server, each on its server's host.
    const zkListed = listed.filter((r) => r.kind === "zookeeper");
    expect(zkListed.map((r) => [r.server, r.host]).sort()).toEqual([
        [1, "172.30.213.11"],
        [2, "172.30.213.12"],
        [3, "172.30.213.21"],
    ]);
    const changes = ["lab-m1", "lab-m2", "lab-w1"]
        .flatMap((h) => recordsOn(h))
        .filter((r) => r.reason === "change");
    expect(changes).toHaveLength(1);
    changeBackup = changes[0];
    expect(changeBackup.cluster).toBe(clusterId);
    expect(onHost("lab-m3", "ls /etc/systemd/system/swarm-ha-backup.timer 2>&1 || true")).toContain(
        "No such file",
    );
    expect(managerStatus("lab-m1").map((l) => l.split(" ")[0])).toEqual([
        "lab-m1",
        "lab-m2",
        "lab-w1",
    ]);
});

test("that backup restores on another host: the same cluster, as it was before the change", () => {
    const b = changeBackup!;
    // Carried from the manager that took it to lab-m3 (out of the swarm now), through this machine.
    const lab = (host: string, command: string, input?: Buffer) => {
        const r = spawnSync("bash", [`${REPO}/lab/lab.sh`, "ssh", host, command], {
            input,
            maxBuffer: 256 * 1024 * 1024,
            timeout: 120_000,
        });
        record(r.stderr.toString());
        if (r.status !== 0) throw new Error(`${host}: ${command}: ${r.stderr.toString()}`);
        return r.stdout;
    };
    const archive = lab(b.host!, `cat ${TARGET}/${b.file}`);
    lab(
        "lab-m3",
        "set -e; systemctl stop docker.socket docker.service; rm -rf /var/lib/docker/swarm; " +
            "tar -C /var/lib/docker -xzf -; systemctl start docker.service",
        archive,
    );
    lab(
        "lab-m3",
        "docker swarm init --force-new-cluster --advertise-addr 172.30.213.13 >/dev/null",
    );
    expect(onHost("lab-m3", "docker info -f '{{.Swarm.Cluster.ID}}'")).toBe(clusterId);
    // Its nodes as they were before the change: four (lab-m3 still a member), lab-w1 a worker.
    const nodes = onHost("lab-m3", "docker node ls --format '{{.Hostname}} {{.ManagerStatus}}'")
        .split("\n")
        .map((l) => l.trim());
    expect(nodes).toHaveLength(4);
    expect(nodes).toContain("lab-w1");
    expect(onHost("lab-m3", "docker config ls --format '{{.Name}}'")).toContain(
        "e2e-backup-marker",
    );
    expect(onHost("lab-m3", "docker network ls --format '{{.Name}}'")).toContain("e2e-backup-net");
    // The restored swarm is a copy on a host the stack left: the lab's next file starts afresh.
    onHost("lab-m3", "docker swarm leave --force >/dev/null");
});

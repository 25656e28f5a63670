// Unit tests of ZooKeeper's backups: the steps ZooKeeperEnsemble adds (exact names, order,
// parameters, triggers), its backup setting's rules, and zk-backup.sh itself run here on a data
// folder of its own (the latest snapshot and the logs it needs, the record, the check, the pruning).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Recorder, SECRET_KEY, resolve, settle } from "../../test/unit/recorder";

const recorder = new Recorder((name) =>
    /-install-\d+$/.test(name)
        ? "classpath=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar\njava=x"
        : name.endsWith("-ready")
          ? "1 10.2.0.1 follower\n2 10.2.0.2 leader\n3 10.2.0.3 follower"
          : undefined,
);
recorder.install();
// The first ensemble built loads the SDK's runtime: seconds on a busy machine.
jest.setTimeout(30000);

import { ZooKeeperEnsemble, ZooKeeperEnsembleArgs, validateZooKeeperArgs } from "../internal";
import { scriptText, scriptsDir } from "../host/remoteScript";
import { BACKUP_DEFAULTS, parseBackupList } from "../host/backup";

const args = (
    ids: number[],
    extra: Partial<ZooKeeperEnsembleArgs> = {},
): ZooKeeperEnsembleArgs => ({
    servers: ids.map((id) => ({ id, host: `10.2.0.${id}` })),
    ssh: { privateKey: pulumi.secret(SECRET_KEY), acceptAnyHostKey: true },
    checkHosts: false,
    ...extra,
});

async function build(name: string, a: ZooKeeperEnsembleArgs): Promise<void> {
    const zk = new ZooKeeperEnsemble(name, a, { transformations: [recorder.transformation] });
    recorder.nameComponent(zk, name);
    await resolve(zk.servers);
    await settle();
}

const deps = (n: string) => recorder.byName(n).dependsOn.sort();

describe("ZooKeeperEnsemble with backup", () => {
    test("a timer on every server, and a backup before any start, roll or removal", async () => {
        await build("zk", args([1, 2, 3], { backup: { keep: 4, target: "/srv/zk-backups" } }));
        const names = recorder.resources.map((r) => r.name).filter((n) => /^zk-backup/.test(n));
        expect(names.sort()).toEqual([
            "zk-backup",
            "zk-backup-schedule-1",
            "zk-backup-schedule-2",
            "zk-backup-schedule-3",
        ]);
        expect(deps("zk-backup")).toEqual(["zk-install-1"]);
        expect(deps("zk-backup-schedule-2")).toEqual(["zk-install-2"]);
        // Every start waits for it, so every roll and every removal (at the end of the run) too.
        for (const id of [1, 2, 3]) {
            expect(deps(`zk-start-${id}`)).toContain("zk-backup");
        }
        const dir = scriptsDir("zk");
        const step = recorder.byName("zk-backup");
        expect(step.inputs.connection).toMatchObject({ host: "10.2.0.1" });
        expect(step.inputs.create).toBe(
            [
                "set -eu",
                "DATA_DIR='/var/lib/zookeeper'",
                "DATA_LOG_DIR='/var/lib/zookeeper'",
                "HOST='10.2.0.1'",
                "KEEP='4'",
                "MYID='1'",
                "NODE='zookeeper-1'",
                "REASON='change'",
                "TARGET='/srv/zk-backups'",
                `. '${dir}/lib.sh'`,
                `. '${dir}/backups.sh'`,
                `. '${dir}/zk-backup.sh'`,
            ].join("\n"),
        );
        // Its triggers: the configuration's hash (a roll) and the servers (one added or removed).
        const triggers = step.inputs.triggers as string[];
        expect(triggers).toHaveLength(2);
        expect(triggers[0]).toMatch(/^[0-9a-f]{16}$/);
        expect(triggers[1]).toBe("1 10.2.0.1\n2 10.2.0.2\n3 10.2.0.3");
        const schedule = recorder.byName("zk-backup-schedule-3").inputs;
        expect(schedule.connection).toMatchObject({ host: "10.2.0.3" });
        expect(schedule.create).toContain("UNIT='swarm-ha-zk-backup'");
        expect(schedule.create).toContain(`SCHEDULE='${BACKUP_DEFAULTS.schedule}'`);
        expect(schedule.create).toContain("Environment=MYID=3\n");
        expect(schedule.create).toContain(`ExecStart=/bin/sh ${dir}/zk-backup-timer.sh`);
        expect(schedule.delete).toContain("REMOVE='yes'");
    });

    test("without backup: none of these steps, and the starts wait as before", async () => {
        await build("plainzk", args([1, 2, 3]));
        expect(recorder.resources.filter((r) => r.name.startsWith("plainzk-backup"))).toEqual([]);
        expect(deps("plainzk-start-1")).not.toContain("plainzk-backup");
    });

    test.each([
        [{ schedule: "hourly\nExecStartPre=/bin/id" }, "backup.schedule is"],
        [{ target: "/proc" }, 'backup.target is "/proc"'],
        [{ keep: -1 }, "backup.keep is -1; use a whole number from 1 to 1000."],
    ])("refused, naming the field: %j", (backup, message) => {
        expect(() => validateZooKeeperArgs("zk", args([1, 2, 3], { backup }))).toThrow(
            `ZooKeeperEnsemble "zk": ${message}`,
        );
    });
});

describe("zk-backup.sh (run here, on a data folder of its own)", () => {
    /** Runs zk-backup.sh on `files` (name -> text) in DIR/data/version-2; its status and output. */
    function backup(
        files: Record<string, string>,
        keep = 2,
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "zk-backup-")),
    ): { status: number; out: string; target: string } {
        const data = path.join(dir, "data", "version-2");
        fs.mkdirSync(data, { recursive: true });
        for (const [name, text] of Object.entries(files)) {
            fs.writeFileSync(path.join(data, name), text);
        }
        const target = path.join(dir, "target");
        const r = spawnSync(
            "sh",
            [
                "-c",
                `set -eu\nNODE=zookeeper-2 HOST=10.2.0.2 MYID=2 DATA_DIR='${dir}/data' DATA_LOG_DIR='${dir}/data' TARGET='${target}' KEEP=${keep} REASON=schedule BACKUP_LOCK='${dir}/lock'\n${scriptText("lib")}\n${scriptText("backups")}\n${scriptText("zk-backup")}`,
            ],
            { encoding: "utf8" },
        );
        return { status: r.status ?? 1, out: `${r.stdout}${r.stderr}`, target };
    }

    const listed = (target: string, file: string) =>
        spawnSync("tar", ["-tzf", path.join(target, file)], { encoding: "utf8" })
            .stdout.trim()
            .split("\n")
            .sort();

    test("the latest snapshot and the logs from the one holding its zxid on; the rest left", () => {
        const r = backup({
            "snapshot.100000000": "old snapshot",
            "snapshot.20000000a": "new snapshot",
            "log.100000001": "before the snapshot's log",
            "log.200000001": "holds the snapshot's zxid",
            "log.300000001": "after it",
            acceptedEpoch: "2",
        });
        expect(r.status).toBe(0);
        const [record] = parseBackupList(
            fs
                .readdirSync(r.target)
                .filter((f) => f.endsWith(".txt"))
                .map((f) => fs.readFileSync(path.join(r.target, f), "utf8"))
                .join(""),
        );
        expect(record).toMatchObject({
            kind: "zookeeper",
            server: 2,
            node: "zookeeper-2",
            zxid: "20000000a",
            reason: "schedule",
        });
        expect(record.file).toMatch(/^zookeeper-2-[0-9]{8}T[0-9]{6}Z\.tar\.gz$/);
        expect(listed(r.target, record.file)).toEqual([
            "version-2/",
            "version-2/log.200000001",
            "version-2/log.300000001",
            "version-2/snapshot.20000000a",
        ]);
        const digest = spawnSync("sha256sum", [path.join(r.target, record.file)], {
            encoding: "utf8",
        }).stdout.split(" ")[0];
        expect(record.sha256).toBe(digest);
        expect(r.out).toContain("snapshot.20000000a and 2 log(s)");
    });

    test("the oldest of this server's beyond keep are removed, another server's never", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zk-backup-"));
        const target = path.join(dir, "target");
        fs.mkdirSync(target);
        for (const name of [
            "zookeeper-2-20240101T000000Z",
            "zookeeper-2-20250101T000000Z",
            "zookeeper-3-20200101T000000Z",
        ]) {
            fs.writeFileSync(path.join(target, `${name}.txt`), "old");
            fs.writeFileSync(path.join(target, `${name}.tar.gz`), "old");
        }
        const r = backup({ "snapshot.1": "s" }, 2, dir);
        expect(r.out).toContain("1 older removed, 2 kept at most");
        const left = fs.readdirSync(target);
        expect(left).not.toContain("zookeeper-2-20240101T000000Z.txt");
        expect(left).toContain("zookeeper-2-20250101T000000Z.tar.gz");
        expect(left).toContain("zookeeper-3-20200101T000000Z.txt");
    });

    test("no snapshot yet (a new server): nothing to back up, nothing written", () => {
        const r = backup({ "log.1": "only a log" });
        expect(r.status).toBe(0);
        expect(r.out).toContain("backup: no snapshot in");
        expect(fs.existsSync(r.target)).toBe(false);
    });
});

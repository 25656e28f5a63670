// Unit tests of the swarm's backups and recovery: the steps SwarmCluster adds (exact names, order,
// parameters, secrets), their settings' rules with hostile values, and the scripts run here with a
// fake engine: backup.sh (the copy, the record, the check, the pruning, each reason it skips),
// recover.sh, and node.sh's removal of old entries after a recovery.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
    Recorder,
    SECRET_KEY,
    UNLOCK_KEY,
    resolve,
    settle,
    stepStdout,
} from "../../test/unit/recorder";

const recorder = new Recorder(stepStdout);
recorder.install();
// The first cluster built loads the SDK's runtime: seconds on a busy machine.
jest.setTimeout(30000);

import {
    SwarmCluster,
    SwarmClusterArgs,
    SwarmNodeArgs,
    validateSwarmClusterArgs,
} from "../internal";
import { scriptText, scriptsDir } from "../host/remoteScript";
import { BACKUP_DEFAULTS, parseBackupList } from "../host/backup";

function nodes(managers: number, workers: number): SwarmNodeArgs[] {
    return [
        ...Array.from({ length: managers }, (_, i) => ({
            name: `m${i + 1}`,
            host: `10.1.0.${11 + i}`,
            role: "manager" as const,
        })),
        ...Array.from({ length: workers }, (_, i) => ({
            name: `w${i + 1}`,
            host: `10.1.0.${21 + i}`,
            role: "worker" as const,
        })),
    ];
}

function args(list: SwarmNodeArgs[], extra: Partial<SwarmClusterArgs> = {}): SwarmClusterArgs {
    return {
        nodes: list,
        ssh: { privateKey: pulumi.secret(SECRET_KEY), acceptAnyHostKey: true },
        checkHosts: false,
        dockerProvider: false,
        ...extra,
    };
}

async function build(name: string, a: SwarmClusterArgs): Promise<void> {
    const c = new SwarmCluster(name, a, { transformations: [recorder.transformation] });
    recorder.nameComponent(c, name);
    await resolve(c.managers);
    await settle();
}

const deps = (n: string) => recorder.byName(n).dependsOn.sort();

describe("SwarmCluster with backup", () => {
    test("a timer on every manager, and a backup before the joins whenever the managers change", async () => {
        await build("bk", args(nodes(3, 1), { backup: { schedule: "*-*-* 03:00:00", keep: 3 } }));
        const names = recorder.resources.map((r) => r.name).filter((n) => /^bk-backup/.test(n));
        expect(names.sort()).toEqual([
            "bk-backup",
            "bk-backup-schedule-m1",
            "bk-backup-schedule-m2",
            "bk-backup-schedule-m3",
        ]);
        // The backup after the tokens (it takes the unlock key from them), the joins after it, so
        // every node's settings (a demotion) and every removal (at the end of the run) after it.
        expect(deps("bk-backup")).toEqual(["bk-tokens"]);
        expect(deps("bk-join-m1")).toEqual(["bk-backup", "bk-docker-m1", "bk-forget-m1"]);
        expect(deps("bk-join-w1")).toEqual([
            "bk-backup",
            "bk-docker-w1",
            "bk-forget-w1",
            "bk-join-m3",
        ]);
        expect(deps("bk-backup-schedule-m2")).toEqual(["bk-docker-m2"]);
        const step = recorder.byName("bk-backup");
        // Its trigger is the list of managers: a manager added, removed, promoted or demoted.
        expect(step.inputs.triggers).toEqual(["m1 m2 m3"]);
        expect(step.inputs.stdin).toBeUndefined();
        const dir = scriptsDir("bk");
        expect(step.inputs.create).toBe(
            [
                "set -eu",
                "ATTEMPTS='240'",
                "AUTOLOCK='false'",
                "HOST='10.1.0.11'",
                "INTERVAL='0.5'",
                "KEEP='3'",
                "NODE='m1'",
                "REASON='change'",
                "TAKER='self'",
                `TARGET='${BACKUP_DEFAULTS.target}'`,
                `. '${dir}/lib.sh'`,
                `. '${dir}/backups.sh'`,
                `. '${dir}/backup.sh'`,
            ].join("\n"),
        );
        const schedule = recorder.byName("bk-backup-schedule-m3");
        expect(schedule.inputs.connection).toMatchObject({ host: "10.1.0.13" });
        expect(schedule.inputs.create).toContain(`SCHEDULE='*-*-* 03:00:00'`);
        expect(schedule.inputs.create).toContain("Environment=NODE=m3\nEnvironment=HOST=10.1.0.13");
        expect(schedule.inputs.create).toContain(`. '${dir}/backup-schedule.sh'`);
        expect(schedule.inputs.create).toContain("UNIT='swarm-ha-backup'");
        expect(schedule.inputs.delete).toContain("REMOVE='yes'");
        // Without backup: none of these steps, and the joins wait for the tokens as before.
        await build("plain", args(nodes(3, 0)));
        expect(recorder.resources.filter((r) => r.name.startsWith("plain-backup"))).toEqual([]);
        expect(deps("plain-join-m1")).toEqual([
            "plain-docker-m1",
            "plain-forget-m1",
            "plain-tokens",
        ]);
    });

    test("with autolock, the run's backup gets the unlock key on stdin, as a secret", async () => {
        await build("bklock", args(nodes(3, 0), { autolock: true, backup: {} }));
        const step = recorder.byName("bklock-backup");
        expect(step.inputs.stdin).toBe(UNLOCK_KEY);
        expect(step.secretPaths).toContain("stdin");
        expect(step.additionalSecretOutputs).toContain("stdin");
        expect(step.inputs.create).toContain("AUTOLOCK='true'");
        expect(step.inputs.create).toContain(`KEEP='${BACKUP_DEFAULTS.keep}'`);
        expect(step.inputs.create).not.toContain(UNLOCK_KEY);
        // The timers never get it: a scheduled backup of an autolocked swarm skips.
        expect(recorder.byName("bklock-backup-schedule-m1").inputs.create).not.toContain(
            UNLOCK_KEY,
        );
        expect(recorder.byName("bklock-backup-schedule-m1").inputs.create).toContain(
            "OnCalendar=daily",
        );
    });
});

describe("backup settings: every hostile value refused, naming the field", () => {
    const refused = (backup: Record<string, unknown>, managers = 3): string => {
        try {
            validateSwarmClusterArgs("c", args(nodes(managers, 0), { backup }));
            return "";
        } catch (e) {
            return (e as Error).message;
        }
    };

    test.each([
        [
            { schedule: "daily; reboot" },
            'SwarmCluster "c": backup.schedule is "daily; reboot"; use a systemd calendar expression',
        ],
        [{ schedule: "$(touch /tmp/pwned)" }, 'backup.schedule is "$(touch /tmp/pwned)"'],
        [
            { schedule: "daily\nExecStartPre=/bin/id" },
            'backup.schedule is "daily\\nExecStartPre=/bin/id"',
        ],
        [{ schedule: "%h" }, 'backup.schedule is "%h"'],
        [{ target: "/" }, 'backup.target is "/"; use an absolute path'],
        [{ target: "/etc" }, 'backup.target is "/etc"'],
        [{ target: "relative/dir" }, 'backup.target is "relative/dir"'],
        [{ target: "/srv/../etc" }, 'backup.target is "/srv/../etc"'],
        [{ target: "/srv/b;rm -rf /" }, 'backup.target is "/srv/b;rm -rf /"'],
        [{ target: "/srv/'b'" }, `backup.target is "/srv/'b'"`],
        [{ keep: 0 }, "backup.keep is 0; use a whole number from 1 to 1000."],
        [{ keep: 2.5 }, "backup.keep is 2.5"],
        [{ keep: 1001 }, "backup.keep is 1001"],
        [{ keep: "7; reboot" }, 'backup.keep is "7; reboot"'],
    ])("%j", (backup, message) => {
        expect(refused(backup)).toContain(message);
    });

    test("good values pass; a swarm of fewer than 3 managers is refused", () => {
        expect(
            refused({ schedule: "*-*-* 03:00:00", keep: 14, target: "/mnt/backups/swarm" }),
        ).toBe("");
        expect(refused({})).toBe("");
        expect(refused({ keep: 3 }, 1)).toContain(
            'SwarmCluster "c": backup is set but the swarm has 1 manager; a backup stops one manager\'s engine for the copy, which only a swarm of 3 or more managers keeps its quorum through, so add managers or drop the backups.',
        );
    });
});

describe("backup.sh (run here, with a fake engine and systemctl)", () => {
    const CLUSTER = "q1w2e3r4t5y6u7i8o9p0asdfg";

    /**
     * Runs backup.sh in a folder of its own: a fake `docker` answering from `managers` (lines of
     * "REACHABILITY LEADER ADDRESS"), `self` this manager's address, `autolock`; a fake systemctl
     * that logs what it is asked. Returns its status, what it printed, the calls and the target.
     */
    function backup(
        options: {
            managers?: string[];
            self?: string;
            taker?: "self" | "first";
            autolock?: boolean;
            keep?: number;
            stdin?: string;
            state?: string;
            refuseStop?: boolean;
            tasks?: number;
        } = {},
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "backup-step-")),
    ): { status: number; out: string; calls: string[]; target: string; dir: string } {
        const {
            managers = [
                "reachable true 10.1.0.11:2377",
                "reachable false 10.1.0.12:2377",
                "reachable false 10.1.0.13:2377",
            ],
            self = "10.1.0.12:2377",
            taker = "self",
            autolock = false,
            keep = 2,
            stdin = "",
            state = "active",
            refuseStop = false,
            tasks = 0,
        } = options;
        const bin = path.join(dir, "bin");
        const log = path.join(dir, "calls");
        fs.mkdirSync(bin, { recursive: true });
        fs.mkdirSync(path.join(dir, "docker", "swarm", "raft"), { recursive: true });
        fs.writeFileSync(path.join(dir, "docker", "swarm", "raft", "wal-0"), "raft entries");
        fs.writeFileSync(path.join(dir, "managers"), managers.join("\n") + "\n");
        const fake = (name: string, body: string) =>
            fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        // The engine's state after its restart: locked when autolocked, until given the key.
        fs.writeFileSync(path.join(dir, "local"), "active\n");
        fs.writeFileSync(path.join(dir, "engine"), "active\n");
        fs.writeFileSync(path.join(dir, "availability"), "active\n");
        const restarted = autolock ? "locked" : "active";
        fake(
            "systemctl",
            [
                `case "$1" in`,
                `  is-active) [ "$(cat ${dir}/engine)" = active ]; exit ;;`,
                `  stop) echo "systemctl $*" >>${log}; ${refuseStop ? `echo "Job for docker.service canceled." >&2; exit 1` : `echo inactive >${dir}/engine`} ;;`,
                `  start) echo active >${dir}/engine; echo ${restarted} >${dir}/local; echo "systemctl $*" >>${log} ;;`,
                `  *) echo "systemctl $*" >>${log} ;;`,
                "esac",
            ].join("\n"),
        );
        fake(
            "docker",
            [
                'case "$*" in',
                `  "info --format {{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"*) echo "${state} true ${CLUSTER} ${autolock}" ;;`,
                `  "info --format {{.Swarm.LocalNodeState}}") cat ${dir}/local ;;`,
                '  "node ls -q --filter role=manager") echo id1; echo id2; echo id3 ;;',
                '  "node ls -q") echo id1 ;;',
                `  "node inspect --format {{.ManagerStatus.Addr}} self") echo ${self} ;;`,
                `  "node inspect --format {{.Spec.Availability}} self") cat ${dir}/availability ;;`,
                // Its running tasks, one line each; none once drained.
                `  "node ps --filter desired-state=running"*) [ "$(cat ${dir}/availability)" = drain ] || seq ${tasks} | sed 's/.*/Running 2 minutes ago/' ;;`,
                `  "node update --availability "*) echo "docker $*" >>${log}; echo $4 >${dir}/availability ;;`,
                `  "node inspect --format "*) cat ${dir}/managers ;;`,
                `  "swarm unlock") cat >${dir}/key; echo active >${dir}/local ;;`,
                '  *) echo "unexpected: docker $*" >&2; exit 1 ;;',
                "esac",
            ].join("\n"),
        );
        const target = path.join(dir, "target");
        const r = spawnSync(
            "sh",
            [
                "-c",
                `set -eu\nNODE=m2 HOST=10.1.0.12 TARGET='${target}' KEEP=${keep} ATTEMPTS=3 INTERVAL=0 REASON=change TAKER=${taker} AUTOLOCK=${autolock} DOCKER_ROOT='${dir}/docker' BACKUP_LOCK='${dir}/lock'\n${scriptText("lib")}\n${scriptText("backups")}\n${scriptText("backup")}`,
            ],
            {
                input: stdin,
                encoding: "utf8",
                env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
            },
        );
        return {
            status: r.status ?? 1,
            out: `${r.stdout}${r.stderr}`,
            calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [],
            target,
            dir,
        };
    }

    const records = (target: string) =>
        parseBackupList(
            fs
                .readdirSync(target)
                .filter((f) => f.endsWith(".txt"))
                .map((f) => fs.readFileSync(path.join(target, f), "utf8"))
                .join(""),
        );

    test("the engine stopped for the copy only, the archive checked and recorded", () => {
        const r = backup();
        expect(r.status).toBe(0);
        expect(r.calls).toEqual([
            "systemctl stop docker.socket docker.service",
            "systemctl reset-failed docker.socket docker.service",
            "systemctl start docker.service",
        ]);
        const [record] = records(r.target);
        expect(record).toMatchObject({
            kind: "swarm",
            cluster: CLUSTER,
            node: "m2",
            autolock: false,
            reason: "change",
        });
        expect(record.file).toMatch(/^swarm-q1w2e3r4t5y6-[0-9]{8}T[0-9]{6}Z-m2\.tar\.gz$/);
        const archive = path.join(r.target, record.file);
        const listed = spawnSync("tar", ["-tzf", archive], { encoding: "utf8" }).stdout;
        expect(listed.split("\n")).toContain("swarm/raft/wal-0");
        const digest = spawnSync("sha256sum", [archive], { encoding: "utf8" }).stdout.split(" ")[0];
        expect(record.sha256).toBe(digest);
        expect(record.bytes).toBe(fs.statSync(archive).size);
        expect(r.out).toContain(`backup=${record.file}`);
        // Nothing else is left in the folder: no work folder, only the archive and its record.
        expect(fs.readdirSync(r.target).sort()).toEqual([
            record.file,
            record.file.replace(/\.tar\.gz$/, ".txt"),
        ]);
    });

    test("a manager running tasks: drained first, its availability given back after the copy", () => {
        const r = backup({ tasks: 2 });
        expect(r.status).toBe(0);
        expect(r.calls).toEqual([
            "docker node update --availability drain self",
            "systemctl stop docker.socket docker.service",
            "systemctl reset-failed docker.socket docker.service",
            "systemctl start docker.service",
            "docker node update --availability active self",
        ]);
        expect(r.out).toContain("backup: drained this node's tasks (0 still running)");
        expect(fs.readFileSync(path.join(r.dir, "availability"), "utf8").trim()).toBe("active");
    });

    test("the oldest beyond keep are removed, other clusters' and other files never", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "backup-step-"));
        const target = path.join(dir, "target");
        fs.mkdirSync(target);
        const old = ["20240101T000000Z", "20250101T000000Z", "20260101T000000Z"];
        for (const t of old) {
            for (const ext of ["txt", "tar.gz"]) {
                fs.writeFileSync(path.join(target, `swarm-q1w2e3r4t5y6-${t}-m1.${ext}`), "old");
            }
        }
        fs.writeFileSync(path.join(target, "swarm-otherclust3r-20200101T000000Z-m1.txt"), "other");
        fs.writeFileSync(path.join(target, "notes.txt"), "mine");
        const r = backup({ keep: 2 }, dir);
        expect(r.status).toBe(0);
        expect(r.out).toContain("2 older removed, 2 kept at most");
        const left = fs.readdirSync(target).sort();
        expect(left.filter((f) => f.includes("q1w2e3r4t5y6"))).toHaveLength(4);
        expect(left).toContain("swarm-q1w2e3r4t5y6-20260101T000000Z-m1.tar.gz");
        expect(left).not.toContain("swarm-q1w2e3r4t5y6-20250101T000000Z-m1.txt");
        expect(left).toContain("swarm-otherclust3r-20200101T000000Z-m1.txt");
        expect(left).toContain("notes.txt");
    });

    test("skipped, engine untouched, while the others could not keep the quorum", () => {
        const r = backup({
            managers: [
                "reachable true 10.1.0.11:2377",
                "reachable false 10.1.0.12:2377",
                "unreachable false 10.1.0.13:2377",
            ],
        });
        expect(r.status).toBe(0);
        expect(r.out).toContain(
            "backup: skipped: stopping this engine would leave 1 of 3 managers reachable, and the quorum needs 2",
        );
        expect(r.calls).toEqual([]);
        expect(fs.existsSync(r.target)).toBe(false);
    });

    test("from the timer, only the first reachable manager that does not lead takes it", () => {
        const other = backup({ taker: "first", self: "10.1.0.13:2377" });
        expect(other.out).toContain("backup: taken by the manager at 10.1.0.12:2377");
        expect(other.calls).toEqual([]);
        const leader = backup({ taker: "first", self: "10.1.0.11:2377" });
        expect(leader.calls).toEqual([]);
        const first = backup({ taker: "first", self: "10.1.0.12:2377" });
        expect(first.calls).toHaveLength(3);
        expect(records(first.target)).toHaveLength(1);
    });

    test("autolocked: the timer skips (no key on the hosts); a run unlocks with the key on stdin", () => {
        const timer = backup({ taker: "first", autolock: true });
        expect(timer.out).toContain("backup: skipped: the swarm is autolocked");
        expect(timer.calls).toEqual([]);
        const run = backup({ autolock: true, stdin: UNLOCK_KEY });
        expect(run.status).toBe(0);
        expect(records(run.target)[0].autolock).toBe(true);
        expect(fs.readFileSync(path.join(run.dir, "key"), "utf8")).toBe(`${UNLOCK_KEY}\n`);
        expect(run.out).not.toContain(UNLOCK_KEY);
        expect(
            fs.readFileSync(path.join(run.target, fs.readdirSync(run.target)[0]), "latin1"),
        ).not.toContain(UNLOCK_KEY);
    });

    test("a stop something undoes (a client's socket activation): the engine runs again, no backup", () => {
        const r = backup({ refuseStop: true });
        expect(r.status).not.toBe(0);
        expect(r.out).toContain(
            "swarm-ha: m2 (10.1.0.12): backup: the engine could not be stopped for the copy (something started it again: Job for docker.service canceled.); it runs again",
        );
        expect(r.calls).toEqual([
            "systemctl stop docker.socket docker.service",
            "systemctl reset-failed docker.socket docker.service",
            "systemctl start docker.service",
        ]);
        expect(fs.readdirSync(r.target).filter((f) => !f.startsWith("."))).toEqual([]);
    });

    test("an engine that manages no swarm: nothing to back up, nothing stopped", () => {
        const r = backup({ state: "inactive" });
        expect(r.out).toContain(
            "backup: this engine manages no swarm (inactive); nothing to back up",
        );
        expect(r.calls).toEqual([]);
    });
});

describe("SwarmCluster backups on a host found drifted", () => {
    afterEach(() => {
        recorder.probeBefore = {};
    });

    test("a manager's fresh host gets its timer again; the others' steps stay", async () => {
        const zero = { m1: 0, m2: 0, m3: 0 };
        recorder.probeBefore = {
            nodes: ["m1", "m2", "m3"],
            managers: ["m1", "m2", "m3"],
            engine: { ...zero, m3: 1 },
            spec: zero,
            stepManager: "m1",
        };
        await build(
            "bkrep",
            args(nodes(3, 0), {
                backup: {},
                observed: {
                    drift: { engine: { m3: ["its Docker engine is not running"] }, spec: {} },
                    answering: ["m1", "m2"],
                    unreachable: [],
                },
            }),
        );
        const create = (n: string) => String(recorder.byName(n).inputs.create);
        expect(create("bkrep-backup-schedule-m3")).toContain("\nREPAIR='2'\n");
        expect(create("bkrep-backup-schedule-m1")).not.toContain("REPAIR");
        expect(create("bkrep-backup")).not.toContain("REPAIR");
    });
});

describe("SwarmCluster with recovery", () => {
    test("before init, on the node named, which runs the manager-side steps of that run", async () => {
        await build("rc", args(nodes(3, 0), { recovery: { node: "m2" } }));
        const step = recorder.byName("rc-recover");
        expect(step.inputs.connection).toMatchObject({ host: "10.1.0.12" });
        expect(step.inputs.create).toBe(
            [
                "set -eu",
                "ADVERTISE_ADDR='10.1.0.12'",
                "ATTEMPTS='240'",
                "HOST='10.1.0.12'",
                "INTERVAL='0.5'",
                "NODE='m2'",
                "SWARM_PORT='2377'",
                `. '${scriptsDir("rc")}/lib.sh'`,
                `. '${scriptsDir("rc")}/recover.sh'`,
            ].join("\n"),
        );
        expect(deps("rc-recover")).toEqual(["rc-docker-m2"]);
        expect(deps("rc-init")).toContain("rc-recover");
        // The init and the tokens on the recovered node, whatever the probe says.
        expect(recorder.byName("rc-init").inputs.connection).toMatchObject({ host: "10.1.0.12" });
        expect(recorder.byName("rc-tokens").inputs.connection).toMatchObject({ host: "10.1.0.12" });
    });

    test("from a backup: its name and the backup folder", async () => {
        await build(
            "rcb",
            args(nodes(3, 0), {
                backup: { target: "/srv/b" },
                recovery: { node: "m1", backup: "latest" },
            }),
        );
        const create = recorder.byName("rcb-recover").inputs.create as string;
        expect(create).toContain("BACKUP='latest'\n");
        expect(create).toContain("TARGET='/srv/b'\n");
    });

    test.each([
        [{ node: "w1" }, 'recovery.node "w1" is not the name of a manager in nodes'],
        [{ node: "m9" }, 'recovery.node "m9" is not the name of a manager in nodes'],
        [
            { node: "m1", backup: "../../etc/shadow" },
            'recovery.backup is "../../etc/shadow"; use "latest"',
        ],
        [{ node: "m1", backup: "latest; reboot" }, 'recovery.backup is "latest; reboot"'],
        [{ node: "m1", backup: "swarm-x-1-m1.tar.gz" }, 'recovery.backup is "swarm-x-1-m1.tar.gz"'],
    ])("refused, naming the field: %j", (recovery, message) => {
        expect(() => validateSwarmClusterArgs("c", args(nodes(3, 1), { recovery }))).toThrow(
            `SwarmCluster "c": ${message}`,
        );
    });
});

describe("recover.sh (run here, with a fake engine and systemctl)", () => {
    const BACKUP = "swarm-q1w2e3r4t5y6-20261208T030000Z-m1";

    /** Runs recover.sh with the engine `state` and `quorum`; what it printed, the calls made. */
    function recover(
        options: { state?: string; quorum?: boolean; backup?: string; digest?: string } = {},
    ): { status: number; out: string; calls: string[]; dir: string } {
        const { state = "active", quorum = false, backup = "", digest } = options;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recover-step-"));
        const bin = path.join(dir, "bin");
        const log = path.join(dir, "calls");
        const target = path.join(dir, "target");
        fs.mkdirSync(bin);
        fs.mkdirSync(path.join(dir, "docker", "swarm"), { recursive: true });
        fs.writeFileSync(path.join(dir, "docker", "swarm", "old"), "this host's");
        // A backup in the folder: its archive and record.
        fs.mkdirSync(path.join(target, "src", "swarm", "raft"), { recursive: true });
        fs.writeFileSync(path.join(target, "src", "swarm", "raft", "wal-0"), "restored");
        spawnSync("tar", [
            "-C",
            path.join(target, "src"),
            "-czf",
            path.join(target, `${BACKUP}.tar.gz`),
            "swarm",
        ]);
        const sum = spawnSync("sha256sum", [path.join(target, `${BACKUP}.tar.gz`)], {
            encoding: "utf8",
        }).stdout.split(" ")[0];
        fs.writeFileSync(
            path.join(target, `${BACKUP}.txt`),
            `file=${BACKUP}.tar.gz kind=swarm sha256=${digest ?? sum}\n`,
        );
        fs.writeFileSync(path.join(dir, "quorum"), quorum ? "yes" : "no");
        const fake = (name: string, body: string) =>
            fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        // The engine's state; a restored one looks for its old peers once started: pending.
        fs.writeFileSync(path.join(dir, "state"), `${state}\n`);
        fake(
            "systemctl",
            `echo "systemctl $*" >>${log}\n[ "$1" != start ] || echo pending >${dir}/state`,
        );
        fake(
            "docker",
            [
                `echo "docker $*" | grep -v ' ls \\| info ' >>${log}`,
                'case "$*" in',
                `  "info --format {{.Swarm.LocalNodeState}}") cat ${dir}/state ;;`,
                `  "node ls -q") [ "$(cat ${dir}/quorum)" = yes ] ;;`,
                `  "swarm init --force-new-cluster"*) echo yes >${dir}/quorum ;;`,
                '  "info --format {{.Swarm.Cluster.ID}}") echo q1w2e3r4t5y6u7 ;;',
                "esac",
            ].join("\n"),
        );
        const r = spawnSync(
            "sh",
            [
                "-c",
                `set -eu\nNODE=m1 HOST=10.1.0.11 ADVERTISE_ADDR=10.1.0.11 SWARM_PORT=2377 ATTEMPTS=3 INTERVAL=0 BACKUP='${backup}' TARGET='${target}' DOCKER_ROOT='${dir}/docker'\n${scriptText("lib")}\n${scriptText("recover")}`,
            ],
            { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
        );
        return {
            status: r.status ?? 1,
            out: `${r.stdout}${r.stderr}`,
            calls: fs.existsSync(log)
                ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean)
                : [],
            dir,
        };
    }

    test("a swarm with its quorum here: nothing done", () => {
        const r = recover({ quorum: true });
        expect(r.status).toBe(0);
        expect(r.out).toContain("recovery: the swarm has its quorum here; nothing to recover");
        expect(r.calls).toEqual([]);
    });

    test("a survivor without its majority: a new cluster forced from its own state", () => {
        const r = recover();
        expect(r.status).toBe(0);
        expect(r.calls).toEqual([
            "docker swarm init --force-new-cluster --advertise-addr 10.1.0.11:2377",
        ]);
        expect(r.out).toContain("recovery: cluster=q1w2e3r4t5y6u7, this manager alone");
    });

    test("from the latest backup: checked, restored in place of this host's state, then forced", () => {
        const r = recover({ state: "inactive", backup: "latest" });
        expect(r.out).toContain(`recovery: restoring ${BACKUP}.tar.gz`);
        expect(r.status).toBe(0);
        expect(r.calls).toEqual([
            "systemctl stop docker.socket docker.service",
            "systemctl reset-failed docker.socket docker.service",
            "systemctl start docker.service",
            "docker swarm init --force-new-cluster --advertise-addr 10.1.0.11:2377",
        ]);
        expect(fs.readFileSync(path.join(r.dir, "docker", "swarm", "raft", "wal-0"), "utf8")).toBe(
            "restored",
        );
        // This host's own state is kept aside, not deleted.
        const aside = fs
            .readdirSync(path.join(r.dir, "docker"))
            .filter((f) => f.startsWith("swarm.before-restore."));
        expect(aside).toHaveLength(1);
    });

    test("a backup whose archive does not match its record is refused, nothing stopped", () => {
        const r = recover({ state: "inactive", backup: "latest", digest: "0".repeat(64) });
        expect(r.status).not.toBe(0);
        expect(r.out).toContain(`does not match the digest its record holds`);
        expect(r.calls).toEqual([]);
    });

    test("no survivor and no backup named: refused, saying what to give", () => {
        const r = recover({ state: "inactive" });
        expect(r.status).not.toBe(0);
        expect(r.out).toContain(
            "swarm-ha: m1 (10.1.0.11): recovery: this engine is inactive in no swarm; name a manager that survived, or a backup to restore (recovery.backup)",
        );
    });

    test("locked (autolock): refused, saying how to unlock it by hand", () => {
        const r = recover({ state: "locked" });
        expect(r.status).not.toBe(0);
        expect(r.out).toContain(
            "recovery: its swarm is locked (autolock); unlock it with the stack's key",
        );
    });
});

describe("node.sh's old entries after a recovery (run here, with a fake docker)", () => {
    /** Runs node.sh for m2 (new ID n2) with one old manager entry at its address, down. */
    function nodeStep(demote: string): { status: number; out: string; calls: string[] } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-step-"));
        const log = path.join(dir, "calls");
        fs.writeFileSync(path.join(dir, "entries"), "old2 10.1.0.12:2377 down manager\n");
        fs.writeFileSync(
            path.join(dir, "docker"),
            [
                "#!/bin/sh",
                'case "$*" in',
                '  "node inspect --format {{.Spec.Role}} n2") echo manager ;;',
                '  "node inspect --format {{range"*) ;;',
                '  "node update "*) ;;',
                `  "node ls -q") echo n2; [ -s ${dir}/entries ] && echo old2 ;;`,
                `  "node inspect --format "*) echo "n2 10.1.0.12:2377 ready manager"; cat ${dir}/entries ;;`,
                `  "node demote old2") ${demote} ;;`,
                `  "node rm "*) echo "docker $*" >>${log}; : >${dir}/entries ;;`,
                '  *) echo "unexpected: docker $*" >&2; exit 1 ;;',
                "esac",
            ].join("\n"),
            { mode: 0o755 },
        );
        const r = spawnSync(
            "sh",
            [
                "-c",
                `set -eu\nNODE=m1 HOST=10.1.0.11 NODE_ID=n2 ADVERTISE_ADDR=10.1.0.12 ROLE=manager AVAILABILITY=active LABELS=''\n${scriptText("lib")}\n${scriptText("node")}`,
            ],
            { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } },
        );
        return {
            status: r.status ?? 1,
            out: `${r.stdout}${r.stderr}`,
            calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [],
        };
    }

    test("demoted, then removed, as before", () => {
        const r = nodeStep("exit 0");
        expect(r.status).toBe(0);
        expect(r.calls).toEqual(["docker node rm old2"]);
        expect(r.out).toContain("removed the old entry old2");
    });

    test("out of Raft (the swarm forced into a new cluster): removed by force", () => {
        const r = nodeStep(
            'echo "Error response from daemon: rpc error: code = NotFound desc = can\'t find manager in raft memberlist" >&2; exit 1',
        );
        expect(r.status).toBe(0);
        expect(r.calls).toEqual(["docker node rm --force old2"]);
    });

    test("any other refusal to demote fails the step, naming it", () => {
        const r = nodeStep(
            'echo "Error response from daemon: it would lose the quorum" >&2; exit 1',
        );
        expect(r.status).not.toBe(0);
        expect(r.out).toContain(
            "swarm-ha: m1 (10.1.0.11): demoting the old entry old2 failed: Error response from daemon: it would lose the quorum",
        );
        expect(r.calls).toEqual([]);
    });
});

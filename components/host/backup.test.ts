// Unit tests of the hosts' backups shared by the swarm and ZooKeeper: the timer's units (exact text,
// and values systemd would read as more than text never written) and the records' listing, parsing
// and merging.
import { backupListCommand, backupUnits, mergeBackupLists, parseBackupList } from "./backup";

describe("the backup timer's units", () => {
    const env = { NODE: "m1", HOST: "10.1.0.11", TARGET: "/srv/b", KEEP: "7", TAKER: "first" };

    test("exact text: the node's parameters, the scripts' folder, the schedule", () => {
        const units = backupUnits(
            "swarm",
            "/var/lib/swarm-ha/lab/abc",
            "lab",
            env,
            "Mon..Fri 02:00",
        );
        expect(units.unit).toBe("swarm-ha-backup");
        expect(units.service).toBe(
            [
                "[Unit]",
                "Description=swarm-ha: a backup of the swarm's Raft state (lab)",
                "",
                "[Service]",
                "Type=oneshot",
                "Environment=NODE=m1",
                "Environment=HOST=10.1.0.11",
                "Environment=TARGET=/srv/b",
                "Environment=KEEP=7",
                "Environment=TAKER=first",
                "Environment=REASON=schedule",
                "ExecStart=/bin/sh /var/lib/swarm-ha/lab/abc/backup-timer.sh",
                "",
            ].join("\n"),
        );
        expect(units.timer).toBe(
            [
                "[Unit]",
                "Description=swarm-ha: backups of the swarm's Raft state (lab)",
                "",
                "[Timer]",
                "OnCalendar=Mon..Fri 02:00",
                "",
                "[Install]",
                "WantedBy=timers.target",
                "",
            ].join("\n"),
        );
        const zk = backupUnits(
            "zookeeper",
            "/var/lib/swarm-ha/zookeeper/abc",
            "zookeeper",
            env,
            "daily",
        );
        expect(zk.unit).toBe("swarm-ha-zk-backup");
        expect(zk.service).toContain(
            "ExecStart=/bin/sh /var/lib/swarm-ha/zookeeper/abc/zk-backup-timer.sh\n",
        );
    });

    test.each([
        ["a schedule with a newline", { schedule: "daily\nExecStartPre=/bin/id" }],
        ["a schedule with a specifier", { schedule: "%h" }],
        ["a target with a specifier", { TARGET: "/srv/%n" }],
        ["a target with a space", { TARGET: "/srv/a b" }],
        ["a host with a newline", { HOST: "10.1.0.11\nExecStart=/bin/id" }],
        ["a value with a quote", { NODE: "m1'" }],
        ["a key that is not a shell name", { "A=B": "x" }],
    ])("the second wall: %s is never written", (_what, bad) => {
        const { schedule = "daily", ...rest } = bad as Record<string, string>;
        expect(() =>
            backupUnits("swarm", "/var/lib/swarm-ha/lab/abc", "lab", { ...env, ...rest }, schedule),
        ).toThrow(/cannot be written/);
    });
});

describe("the backups' records", () => {
    const sum = (c: string) => c.repeat(64);
    const line = (file: string, time: string, c = "a") =>
        `file=${file} kind=swarm cluster=abcdef123456xyz node=m2 time=${time} autolock=false reason=schedule bytes=2048 sha256=${sum(c)}`;

    test("the listing command quotes the folder", () => {
        expect(backupListCommand("/srv/b", "swarm")).toBe(
            "cat -- '/srv/b'/swarm-*.txt 2>/dev/null; true",
        );
        expect(backupListCommand("/srv/it's", "zookeeper")).toBe(
            `cat -- '/srv/it'"'"'s'/zookeeper-*.txt 2>/dev/null; true`,
        );
    });

    test("whole records are read; anything else is left out", () => {
        const out = [
            line("swarm-abcdef123456-20261208T030000Z-m2.tar.gz", "20261208T030000Z"),
            "garbage",
            line("../../etc/passwd", "20261208T030000Z"),
            line("swarm-abcdef123456-20261208T030000Z-m2.tar.gz", "x").replace(
                /sha256=\S+/,
                "sha256=zz",
            ),
            "",
        ].join("\n");
        expect(parseBackupList(out, "10.1.0.12")).toEqual([
            {
                file: "swarm-abcdef123456-20261208T030000Z-m2.tar.gz",
                kind: "swarm",
                cluster: "abcdef123456xyz",
                node: "m2",
                time: "20261208T030000Z",
                autolock: false,
                reason: "schedule",
                bytes: 2048,
                sha256: sum("a"),
                host: "10.1.0.12",
            },
        ]);
    });

    test("a ZooKeeper server's record; a file of one kind never passes as the other", () => {
        const zk = `file=zookeeper-2-20261208T030000Z.tar.gz kind=zookeeper server=2 node=zookeeper-2 time=20261208T030000Z zxid=100000007 reason=change bytes=512 sha256=${sum("c")}`;
        expect(parseBackupList(zk)).toEqual([
            {
                file: "zookeeper-2-20261208T030000Z.tar.gz",
                kind: "zookeeper",
                server: 2,
                zxid: "100000007",
                node: "zookeeper-2",
                time: "20261208T030000Z",
                reason: "change",
                bytes: 512,
                sha256: sum("c"),
            },
        ]);
        expect(parseBackupList(zk.replace("kind=zookeeper", "kind=swarm"))).toEqual([]);
    });

    test("several managers' lists: a shared folder's backup once, newest first", () => {
        const a = line("swarm-abcdef123456-20261207T030000Z-m2.tar.gz", "20261207T030000Z", "a");
        const b = line("swarm-abcdef123456-20261208T030000Z-m3.tar.gz", "20261208T030000Z", "b");
        const merged = mergeBackupLists([
            { host: "10.1.0.11", stdout: `${a}\n${b}\n` },
            { host: "10.1.0.12", stdout: undefined },
            { host: "10.1.0.13", stdout: `${b}\n` },
        ]);
        expect(merged.map((r) => [r.file, r.host])).toEqual([
            ["swarm-abcdef123456-20261208T030000Z-m3.tar.gz", "10.1.0.11"],
            ["swarm-abcdef123456-20261207T030000Z-m2.tar.gz", "10.1.0.11"],
        ]);
    });
});

// Backups taken on the hosts, shared by SwarmCluster (the swarm's Raft state, swarm/scripts/backup.sh)
// and ZooKeeperEnsemble (each server's snapshot and logs, zookeeper/scripts/zk-backup.sh): their
// settings and rules, the systemd timer that takes them on a schedule (scripts/backup-schedule.sh
// writes the units rendered here), the command that lists them, and the parsing of their records.
import { rules, ruleProblem, shown } from "./grammar";
import { shellQuote } from "./remoteScript";

/** When and where the hosts back up the swarm's Raft state and ZooKeeper's data. */
export interface BackupArgs {
    /**
     * When the hosts take a backup: a systemd calendar expression (a timer's OnCalendar=, see
     * systemd.time(7)), such as "daily" or "*-*-* 03:00:00". Default: BACKUP_DEFAULTS.schedule
     * ("daily").
     */
    schedule?: string;
    /**
     * How many backups of each kind (the swarm's; each ZooKeeper server's) a host keeps in
     * `target`; the oldest beyond it are removed after each new one is checked. Default:
     * BACKUP_DEFAULTS.keep (7).
     */
    keep?: number;
    /**
     * The folder on the hosts the backups are written to. Mount a share there that outlives them:
     * a backup is only as safe as where it lies. Default: BACKUP_DEFAULTS.target
     * ("/var/backups/swarm-ha").
     */
    target?: string;
}

/** The backups' defaults, read by the validation, the steps and the docs. */
export const BACKUP_DEFAULTS = {
    schedule: "daily",
    keep: 7,
    target: "/var/backups/swarm-ha",
} as const;

/** A backup as its record says (NAME.txt beside NAME.tar.gz in the target folder). */
export interface BackupRecord {
    /** The archive's file name in `target`. */
    file: string;
    /** "swarm" (the Raft state, /var/lib/docker/swarm) or "zookeeper" (a server's version-2). */
    kind: string;
    /** The swarm's cluster ID (a swarm backup). */
    cluster?: string;
    /** The server's id (a ZooKeeper backup). */
    server?: number;
    /** The snapshot's zxid, in hex (a ZooKeeper backup). */
    zxid?: string;
    /** The node it was taken on (a swarm node's name, or zookeeper-ID). */
    node: string;
    /** When, in UTC: YYYYMMDDTHHMMSSZ. */
    time: string;
    /** Whether the swarm was autolocked: restoring it needs the unlock key (never in the backup). */
    autolock?: boolean;
    /** "schedule" (the timer) or "change" (a run, before the managers or the ensemble change). */
    reason: string;
    bytes: number;
    sha256: string;
    /** The host whose folder holds it. */
    host?: string;
}

/** The most backups a host may keep of each kind. */
const MAX_KEEP = 1000;

/** The problems of a backup setting, each naming the field with `at` ("backup.keep"). */
export function backupProblems(at: (field: string) => string, backup: BackupArgs): string[] {
    const problems: string[] = [
        ...ruleProblem(at("schedule"), rules.calendar, backup.schedule),
        ...ruleProblem(at("target"), rules.hostPath, backup.target),
    ];
    const keep = backup.keep;
    if (keep !== undefined && !(Number.isInteger(keep) && keep >= 1 && keep <= MAX_KEEP)) {
        problems.push(`${at("keep")} is ${shown(keep)}; use a whole number from 1 to ${MAX_KEEP}.`);
    }
    return problems;
}

/** The backup timers, by what they back up. */
export const BACKUP_UNITS = {
    swarm: { unit: "swarm-ha-backup", script: "backup-timer", what: "the swarm's Raft state" },
    zookeeper: {
        unit: "swarm-ha-zk-backup",
        script: "zk-backup-timer",
        what: "a ZooKeeper server's data",
    },
} as const;

/** What a unit file's value may hold here: no '%' (a specifier), space, quote or backslash. */
const UNIT_VALUE = /^[A-Za-z0-9_.:/@*,~+-]*$/;

/** One `Environment=KEY=VALUE` line, refusing a value systemd would read as more than text. */
function environment(key: string, value: string): string {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key) || !UNIT_VALUE.test(value)) {
        throw new Error(
            `swarm-ha: the backup unit's ${key} is ${shown(value)}; it cannot be written`,
        );
    }
    return `Environment=${key}=${value}`;
}

/**
 * A backup timer's units: the service runs `kind`'s timer script from the scripts' folder `dir`
 * with `env` (the step's parameters, REASON=schedule added), the timer fires on `schedule`.
 * Rendered here and written on the host as they are; every value was checked by the settings'
 * rules, and is checked again here.
 */
export function backupUnits(
    kind: keyof typeof BACKUP_UNITS,
    dir: string,
    owner: string,
    env: Record<string, string>,
    schedule: string,
): { unit: string; service: string; timer: string } {
    const { unit, script, what } = BACKUP_UNITS[kind];
    if (!rules.calendar.test(schedule)) {
        throw new Error(`swarm-ha: the backup schedule ${shown(schedule)} cannot be written`);
    }
    if (!UNIT_VALUE.test(dir) || !UNIT_VALUE.test(owner)) {
        throw new Error(`swarm-ha: the scripts' folder ${shown(dir)} cannot be written in a unit`);
    }
    const service = [
        "[Unit]",
        `Description=swarm-ha: a backup of ${what} (${owner})`,
        "",
        "[Service]",
        "Type=oneshot",
        ...Object.entries({ ...env, REASON: "schedule" }).map(([k, v]) => environment(k, v)),
        `ExecStart=/bin/sh ${dir}/${script}.sh`,
        "",
    ].join("\n");
    const timer = [
        "[Unit]",
        `Description=swarm-ha: backups of ${what} (${owner})`,
        "",
        "[Timer]",
        `OnCalendar=${schedule}`,
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ].join("\n");
    return { unit, service, timer };
}

/** The command that prints every record of `kind` in `target`, one line each (nothing when none). */
export function backupListCommand(target: string, kind: keyof typeof BACKUP_UNITS): string {
    return `cat -- ${shellQuote(target)}/${kind}-*.txt 2>/dev/null; true`;
}

/** The file names each kind writes: swarm-CLUSTER-TIME-NODE, zookeeper-ID-TIME. */
const FILE =
    /^(swarm-[a-z0-9]+-[0-9]{8}T[0-9]{6}Z-[a-z0-9-]+|zookeeper-[0-9]+-[0-9]{8}T[0-9]{6}Z)\.tar\.gz$/;

/** The records in a listing's lines; lines that are not a whole record are left out. */
export function parseBackupList(stdout: string, host?: string): BackupRecord[] {
    const records: BackupRecord[] = [];
    for (const line of stdout.split("\n")) {
        const f: Record<string, string> = Object.fromEntries(
            line
                .trim()
                .split(/\s+/)
                .filter((pair) => pair.includes("="))
                .map((pair) => [
                    pair.slice(0, pair.indexOf("=")),
                    pair.slice(pair.indexOf("=") + 1),
                ]),
        );
        if (!FILE.test(f.file ?? "") || !f.file.startsWith(`${f.kind}-`)) continue;
        if (!/^[0-9a-f]{64}$/.test(f.sha256 ?? "") || !/^[0-9]+$/.test(f.bytes ?? "")) continue;
        records.push({
            file: f.file,
            kind: f.kind,
            ...(f.kind === "swarm"
                ? { cluster: f.cluster ?? "", autolock: f.autolock === "true" }
                : { server: Number(f.server), zxid: f.zxid ?? "" }),
            node: f.node ?? "",
            time: f.time ?? "",
            reason: f.reason ?? "",
            bytes: Number(f.bytes),
            sha256: f.sha256,
            ...(host !== undefined ? { host } : {}),
        });
    }
    return records;
}

/**
 * Every host's records as one list, newest first: a backup in a folder that several hosts share
 * (a mounted share) is listed once, with the first host that listed it.
 */
export function mergeBackupLists(
    lists: { host: string; stdout: string | undefined }[],
): BackupRecord[] {
    const seen = new Map<string, BackupRecord>();
    for (const { host, stdout } of lists) {
        for (const record of parseBackupList(stdout ?? "", host)) {
            const key = `${record.file} ${record.sha256}`;
            if (!seen.has(key)) seen.set(key, record);
        }
    }
    return [...seen.values()].sort(
        (a, b) => b.time.localeCompare(a.time) || a.file.localeCompare(b.file),
    );
}

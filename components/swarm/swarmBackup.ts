// Backups of the swarm's Raft state: their settings and rules, the systemd units that take them on
// a schedule on every manager, the command that lists them, and the parsing of their records.
// backup.sh takes one (an engine stopped for the copy only while the other managers keep the
// quorum); backup-schedule.sh places the timer. SwarmCluster runs them (swarmCluster.ts).
import { Rule, rules, ruleProblem, shown } from "../host/grammar";
import { shellQuote } from "../host/remoteScript";

/** When and where the managers back up the swarm's Raft state. */
export interface SwarmBackupArgs {
    /**
     * When the managers take a backup: a systemd calendar expression (a timer's OnCalendar=, see
     * systemd.time(7)), such as "daily" or "*-*-* 03:00:00". Every manager has the timer; the first
     * reachable manager that does not lead takes it. Default: BACKUP_DEFAULTS.schedule ("daily").
     */
    schedule?: string;
    /** How many backups of the cluster are kept in `target`. Default: BACKUP_DEFAULTS.keep (7). */
    keep?: number;
    /**
     * The folder on the managers the backups are written to. Mount a share there that outlives the
     * managers (one backup of a swarm whose managers are all lost is only as safe as where it lies).
     * Default: BACKUP_DEFAULTS.target ("/var/backups/swarm-ha").
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
    /** "swarm": the Raft state (/var/lib/docker/swarm). */
    kind: string;
    /** The swarm's cluster ID. */
    cluster: string;
    /** The manager it was taken on (its node name). */
    node: string;
    /** When, in UTC: YYYYMMDDTHHMMSSZ. */
    time: string;
    /** Whether the swarm was autolocked: restoring it needs the unlock key (never in the backup). */
    autolock: boolean;
    /** "schedule" (the timer) or "change" (a run, before the managers change). */
    reason: string;
    bytes: number;
    sha256: string;
    /** The host whose folder holds it (the survey's answer). */
    host?: string;
}

/** The most backups a stack may keep. */
const MAX_KEEP = 1000;

/** The problems of a backup setting, each naming the field with `at` ("backup.keep"). */
export function backupProblems(
    at: (field: string) => string,
    backup: SwarmBackupArgs,
    managers: number,
): string[] {
    const problems: string[] = [
        ...ruleProblem(at("schedule"), rules.calendar, backup.schedule),
        ...ruleProblem(at("target"), rules.hostPath, backup.target),
    ];
    const keep = backup.keep;
    if (keep !== undefined && !(Number.isInteger(keep) && keep >= 1 && keep <= MAX_KEEP)) {
        problems.push(`${at("keep")} is ${shown(keep)}; use a whole number from 1 to ${MAX_KEEP}.`);
    }
    if (managers < 3) {
        problems.push(
            `${at("")} is set but the swarm has ${managers} manager${managers === 1 ? "" : "s"}; a backup stops one manager's engine for the copy, which only a swarm of 3 or more managers keeps its quorum through, so add managers or drop the backups.`,
        );
    }
    return problems;
}

/** What a unit file line may hold here: no '%' (a specifier), no newline, no quote or backslash. */
const UNIT_VALUE: Rule = {
    says: "",
    test: (v) => /^[A-Za-z0-9_.:/@*,~+ -]*$/.test(v),
};

/** One `Environment=KEY=VALUE` line, refusing a value systemd would read as more than text. */
function environment(key: string, value: string): string {
    if (!UNIT_VALUE.test(value) || / /.test(value)) {
        throw new Error(
            `swarm-ha: the backup unit's ${key} is ${shown(value)}; it cannot be written`,
        );
    }
    return `Environment=${key}=${value}`;
}

/**
 * The backup timer's units on a manager: the service runs backup-timer.sh from the scripts' folder
 * `dir` with the node's parameters, the timer fires on `schedule`. Rendered here and written on the
 * host as they are; every value was checked by the settings' rules, and is checked again here.
 */
export function backupUnits(
    dir: string,
    params: { cluster: string; node: string; host: string; target: string; keep: number },
    schedule: string,
    wait: { attempts: string; interval: string },
): { service: string; timer: string } {
    if (!rules.calendar.test(schedule)) {
        throw new Error(`swarm-ha: the backup schedule ${shown(schedule)} cannot be written`);
    }
    const service = [
        "[Unit]",
        `Description=swarm-ha: a backup of swarm ${params.cluster}'s Raft state`,
        "After=docker.service",
        "",
        "[Service]",
        "Type=oneshot",
        environment("NODE", params.node),
        environment("HOST", params.host),
        environment("TARGET", params.target),
        environment("KEEP", String(params.keep)),
        environment("ATTEMPTS", wait.attempts),
        environment("INTERVAL", wait.interval),
        environment("REASON", "schedule"),
        environment("TAKER", "first"),
        `ExecStart=/bin/sh ${dir}/backup-timer.sh`,
        "",
    ].join("\n");
    const timer = [
        "[Unit]",
        `Description=swarm-ha: backups of swarm ${params.cluster}'s Raft state`,
        "",
        "[Timer]",
        `OnCalendar=${schedule}`,
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ].join("\n");
    if (!UNIT_VALUE.test(dir)) {
        throw new Error(`swarm-ha: the scripts' folder ${shown(dir)} cannot be written in a unit`);
    }
    return { service, timer };
}

/** The command that prints every backup record in `target`, one line each (nothing when none). */
export function backupListCommand(target: string): string {
    return `cat -- ${shellQuote(target)}/swarm-*.txt 2>/dev/null; true`;
}

/** The records in a listing's lines; lines that are not a whole record are left out. */
export function parseBackupList(stdout: string, host?: string): BackupRecord[] {
    const records: BackupRecord[] = [];
    for (const line of stdout.split("\n")) {
        const fields = Object.fromEntries(
            line
                .trim()
                .split(/\s+/)
                .filter((pair) => pair.includes("="))
                .map((pair) => [
                    pair.slice(0, pair.indexOf("=")),
                    pair.slice(pair.indexOf("=") + 1),
                ]),
        );
        if (!/^swarm-[a-z0-9]+-[0-9]{8}T[0-9]{6}Z-[a-z0-9-]+\.tar\.gz$/.test(fields.file ?? "")) {
            continue;
        }
        if (!/^[0-9a-f]{64}$/.test(fields.sha256 ?? "") || !/^[0-9]+$/.test(fields.bytes ?? "")) {
            continue;
        }
        records.push({
            file: fields.file,
            kind: fields.kind ?? "swarm",
            cluster: fields.cluster ?? "",
            node: fields.node ?? "",
            time: fields.time ?? "",
            autolock: fields.autolock === "true",
            reason: fields.reason ?? "",
            bytes: Number(fields.bytes),
            sha256: fields.sha256,
            ...(host !== undefined ? { host } : {}),
        });
    }
    return records;
}

/**
 * Every host's records as one list, newest first: a backup in a folder that several managers share
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

// SSH settings shared by every component that works on hosts over SSH, the connection they give,
// and checks of the hosts' presented host keys and of a login with the stack's key before anything
// runs on them.
import { execFile } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as types from "@pulumi/command/types/input";
import { ruleProblem, rules } from "./grammar";
import { isPort } from "./validation";

/** How to reach hosts over SSH. */
export interface SshArgs {
    /** Login user. Default: "root". The user needs root rights (directly or through sudo-less root). */
    user?: string;
    /** SSH port. Default: 22. */
    port?: number;
    /** Private key (OpenSSH or PEM text). Pass it as a secret, e.g. from `config.requireSecret`. */
    privateKey: pulumi.Input<string>;
    /**
     * The host's expected public key ("ssh-ed25519 AAAA..."): the connection refuses a host that
     * presents another key. Required for every host unless `acceptAnyHostKey` is set.
     */
    hostKey?: pulumi.Input<string>;
    /**
     * Connect to a host without a `hostKey` and accept whatever key it presents, so that any machine
     * answering at its address gets the private key's logins and the steps' secrets. Only for hosts
     * on a network where that cannot happen (a lab). Default: false: such a host is refused.
     */
    acceptAnyHostKey?: boolean;
    /** How many times to dial before giving up while a host boots. Default: 30. */
    dialAttempts?: number;
    /** Seconds each dial may take. Default: 10. */
    dialTimeoutSeconds?: number;
}

/** Per-host overrides of SshArgs; unset fields fall back to the component's `ssh`. */
export type SshOverrides = Partial<SshArgs>;

/** The resolved settings for one host, defaults applied. */
export interface ResolvedSsh {
    user: string;
    port: number;
    privateKey: pulumi.Input<string>;
    hostKey?: pulumi.Input<string>;
    acceptAnyHostKey: boolean;
    dialAttempts: number;
    dialTimeoutSeconds: number;
}

/** Applies a host's overrides to the shared settings and fills in defaults, once. */
export function resolveSsh(shared: SshArgs, override?: SshOverrides): ResolvedSsh {
    const merged = { ...shared, ...definedOnly(override ?? {}) };
    return {
        user: merged.user ?? "root",
        port: merged.port ?? 22,
        privateKey: merged.privateKey,
        hostKey: merged.hostKey,
        acceptAnyHostKey: merged.acceptAnyHostKey ?? false,
        dialAttempts: merged.dialAttempts ?? 30,
        dialTimeoutSeconds: merged.dialTimeoutSeconds ?? 10,
    };
}

/**
 * The problems of SSH settings (a component's `ssh`, or a host's overrides): the user, port and
 * host key each checked to its grammar (`at` names them: `SwarmCluster "prod": ssh.`). A host key
 * still unknown (an output) is checked where it is used.
 */
export function sshProblems(at: string, ssh: SshOverrides | undefined): string[] {
    if (!ssh) return [];
    return [
        ...ruleProblem(`${at}user`, rules.user, ssh.user),
        ...(ssh.port !== undefined && !isPort(ssh.port)
            ? [`${at}port is ${ssh.port}; use a port from 1 to 65535.`]
            : []),
        ...(typeof ssh.hostKey === "string"
            ? ruleProblem(`${at}hostKey`, rules.hostKey, ssh.hostKey)
            : []),
        ...(ssh.dialAttempts !== undefined &&
        (!Number.isInteger(ssh.dialAttempts) || ssh.dialAttempts < 1)
            ? [`${at}dialAttempts is ${ssh.dialAttempts}; use a whole number of at least 1.`]
            : []),
    ];
}

/**
 * A host whose key nothing records (no `hostKey`) is refused, unless its settings say
 * `acceptAnyHostKey`: the command plugin would otherwise accept any key the address presents.
 * `at` names the host: `SwarmCluster "prod": node "m1" (10.0.0.1)`.
 */
export function unverifiedHostProblems(at: string, ssh: ResolvedSsh): string[] {
    if (ssh.hostKey !== undefined || ssh.acceptAnyHostKey) return [];
    return [
        `${at} has no ssh.hostKey, so any machine answering at its address would get the logins and the steps' secrets; give its public host key (ssh-keyscan -t ed25519, checked out of band) as its ssh.hostKey, or set ssh.acceptAnyHostKey: true to connect unchecked.`,
    ];
}

/** The command provider's connection for a host; the private key is always marked secret. */
export function connectionFor(host: string, ssh: ResolvedSsh): types.remote.ConnectionArgs {
    const connection: types.remote.ConnectionArgs = {
        host,
        port: ssh.port,
        user: ssh.user,
        privateKey: pulumi.secret(ssh.privateKey),
        dialErrorLimit: ssh.dialAttempts,
        perDialTimeout: ssh.dialTimeoutSeconds,
    };
    if (ssh.hostKey !== undefined) {
        connection.hostKey = ssh.hostKey;
    }
    return connection;
}

function definedOnly<T extends object>(o: T): Partial<T> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A host whose SSH host key is checked before anything runs on it. */
export interface HostKeyCheck {
    /** The node's name, for the message. */
    node: string;
    host: string;
    port: number;
    /** The expected key, "TYPE BASE64" (a comment after it is ignored). */
    expected: string;
}

/** Asks a host for its SSH host key of one type; undefined when it does not answer in time. */
export type HostKeyScanner = (
    host: string,
    port: number,
    type: string,
) => Promise<string | undefined>;

/** The host key a host presents, asked with OpenSSH's ssh-keyscan (3 s at most). */
export const sshKeyscan: HostKeyScanner = (host, port, type) =>
    new Promise((resolve) => {
        execFile(
            "ssh-keyscan",
            ["-T", "3", "-p", String(port), "-t", type.replace(/^ssh-/, ""), "--", host],
            { timeout: 5000 },
            (_error, stdout) => {
                const line = stdout
                    .split("\n")
                    .map((l) => l.trim().split(/\s+/))
                    .find((f) => f.length >= 3 && f[1] === type);
                // No answer (or no key of that type): undefined, whatever ssh-keyscan's status.
                resolve(line ? `${line[1]} ${line[2]}` : undefined);
            },
        );
    });

/**
 * Checks each host's presented SSH host key against the expected one, all at once, and returns a
 * message for each host that presents another key (a host that does not answer is left to the
 * connection's bounded dial). Run before any resource, so that a wrong key fails in seconds instead
 * of after every dial attempt.
 */
export async function hostKeyProblems(
    checks: HostKeyCheck[],
    scan: HostKeyScanner = sshKeyscan,
    recordedIn = "hostKeys, the node's hostKey or knownHostsFile",
): Promise<string[]> {
    const found = await Promise.all(
        checks.map(async (c) => {
            const [type, key] = c.expected.trim().split(/\s+/);
            const presented = await scan(c.host, c.port, type);
            if (presented === undefined || presented === `${type} ${key}`) return undefined;
            return `swarm-ha: ${c.node} (${c.host}): the host presents the SSH host key ${presented}, but ${type} ${key} is expected (from ${recordedIn}); if the host was rebuilt, record its new key.`;
        }),
    );
    return found.filter((p): p is string => p !== undefined);
}

/** A host the stack logs in to, checked with the stack's key before anything runs. */
export interface SshLoginCheck {
    /** The node's name, for the message. */
    node: string;
    host: string;
    port: number;
    user: string;
    /** The recorded host key, "TYPE BASE64"; without one the host is not logged in to. */
    hostKey?: string;
}

/**
 * What one login attempt showed: in, refused by the host (the key), another host key presented
 * than the recorded one (the key is then never offered), or nothing to judge by.
 */
export type SshLoginResult = "ok" | "refused" | "host key" | "unknown";

/** Tries a login with the key in `keyFile`; `knownHosts` holds the recorded host keys. */
export type SshLogin = (
    check: SshLoginCheck,
    keyFile: string,
    knownHosts: string,
) => Promise<SshLoginResult>;

/**
 * The folder of the connections shared by the checks of one {@link sharingConnections} scope, per
 * key file: one OpenSSH master connection per host, user and port, that every later check of the
 * scope with the same key runs over, instead of a handshake each.
 */
let shared: { dir: string; keys: Map<string, string>; users: number } | undefined;

/**
 * Runs `use` with the checks' SSH connections shared: the first command on a host opens a master
 * connection (with every host-key and key option of that command), the next ones on the same host,
 * user, port and key reuse it. The masters are closed and their folder removed at the end.
 */
export async function sharingConnections<T>(use: () => Promise<T>): Promise<T> {
    // One scope for every user at once (a scope in a scope, or two components asking their hosts
    // side by side): the last to leave closes the connections, none closes another's.
    const scope = (shared ??= {
        dir: fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-mux-")),
        keys: new Map<string, string>(),
        users: 0,
    });
    scope.users++;
    try {
        return await use();
    } finally {
        if (--scope.users === 0) {
            shared = undefined;
            await closeMasters([...scope.keys.values()]);
            fs.rmSync(scope.dir, { recursive: true, force: true });
        }
    }
}

/** Asks every master connection whose socket is in `dirs` to exit (3 s at most each). */
function closeMasters(dirs: string[]): Promise<unknown[]> {
    const sockets = dirs.flatMap((d) =>
        fs.existsSync(d) ? fs.readdirSync(d).map((s) => path.join(d, s)) : [],
    );
    return Promise.all(
        sockets.map(
            (socket) =>
                new Promise((done) =>
                    execFile(
                        "ssh",
                        ["-o", `ControlPath=${socket}`, "-O", "exit", "--", "x"],
                        { timeout: 3000, env: process.env },
                        done,
                    ),
                ),
        ),
    );
}

/** The options that share a connection within a {@link sharingConnections} scope; none outside. */
function sharingOptions(keyFile: string): string[] {
    if (!shared) return [];
    let sub = shared.keys.get(keyFile);
    if (sub === undefined) {
        sub = path.join(shared.dir, String(shared.keys.size));
        fs.mkdirSync(sub, { mode: 0o700 });
        shared.keys.set(keyFile, sub);
    }
    // %C: a hash of this machine's name, the host, the port and the user.
    return ["-o", "ControlMaster=auto", "-o", `ControlPath=${sub}/%C`, "-o", "ControlPersist=60"];
}

/** OpenSSH client arguments for one non-interactive command on a host, with the key alone. */
function sshArguments(check: SshLoginCheck, keyFile: string, knownHosts: string): string[] {
    // Always verified: a host with no recorded key is not in `knownHosts`, so it is not logged in to.
    const hostKeyOptions = [
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
    ];
    return [
        ...sharingOptions(keyFile),
        "-i",
        keyFile,
        "-p",
        String(check.port),
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "PreferredAuthentications=publickey",
        "-o",
        "ConnectTimeout=3",
        "-o",
        "LogLevel=ERROR",
        // These sessions carry no secret (the hosts' state, read only), and classical X25519 key
        // exchange costs a third of the CPU of OpenSSH 9's default hybrid one, which, with many
        // hosts on few cores, was most of the checks' time; it is preferred, every default stays.
        "-o",
        "KexAlgorithms=^curve25519-sha256",
        ...hostKeyOptions,
        "--",
        `${check.user}@${check.host}`,
    ];
}

/** Runs `command` on a host over SSH (8 s at most); its status and output. */
export function sshRun(
    check: SshLoginCheck,
    keyFile: string,
    knownHosts: string,
    command: string,
    timeoutMs = 8000,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    return new Promise((resolve) =>
        execFile(
            "ssh",
            [...sshArguments(check, keyFile, knownHosts), command],
            { timeout: timeoutMs, env: process.env },
            (error, stdout, stderr) => resolve({ ok: !error, stdout, stderr }),
        ),
    );
}

/**
 * Runs `use` with a known_hosts file holding the recorded host keys of `checks` (OpenSSH's format,
 * [host]:port for other ports), removed afterwards.
 */
async function withKnownHosts<T>(
    checks: SshLoginCheck[],
    use: (knownHosts: string) => Promise<T>,
): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-ssh-"));
    try {
        const knownHosts = path.join(dir, "known_hosts");
        fs.writeFileSync(
            knownHosts,
            checks
                .filter((c) => c.hostKey)
                .map((c) => `${c.port === 22 ? c.host : `[${c.host}]:${c.port}`} ${c.hostKey}\n`)
                .join(""),
        );
        return await use(knownHosts);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * One login with the key, publickey only, 3 s to connect. "refused" only when the host said
 * "Permission denied"; "host key" when OpenSSH refused the host's key (before any key is offered);
 * anything else (no answer) is "unknown" and left to the connection's bounded dial.
 */
export const sshLogin: SshLogin = async (check, keyFile, knownHosts) => {
    const r = await sshRun(check, keyFile, knownHosts, "true");
    if (r.ok) return "ok";
    if (/Host key verification failed/.test(r.stderr)) return "host key";
    return /Permission denied/.test(r.stderr) ? "refused" : "unknown";
};

/** What every host said to its one login: how the login went, and what each command printed. */
export interface HostSurvey {
    /** Each login's result, in the order of the checks. */
    results: SshLoginResult[];
    /**
     * sshRun for the checks after the login: a command the survey ran on a host is answered from
     * what the host printed then, once; any other command runs (over the shared connection).
     */
    run: typeof sshRun;
}

/** The survey's output of one host, split by command: each command's status and output. */
export function splitSurvey(
    stdout: string,
    nonce: string,
    count: number,
): ({ status: number; stdout: string } | undefined)[] {
    return Array.from({ length: count }, (_, i) => {
        const begin = `${nonce} ${i}\n`;
        const from = stdout.indexOf(begin);
        if (from < 0) return undefined;
        const end = new RegExp(`\n${nonce} ${i} (\\d+)\n`).exec(stdout.slice(from + begin.length));
        if (!end) return undefined;
        return {
            status: Number(end[1]),
            stdout: stdout.slice(from + begin.length, from + begin.length + end.index),
        };
    });
}

/**
 * The command that runs `commands` in turn in one session, each in a subshell between two lines
 * naming it (after `nonce`, which no host can guess), the second with its exit status.
 */
export function surveyCommand(commands: string[], nonce: string): string {
    return [
        ...commands.map(
            (c, i) =>
                `echo '${nonce} ${i}'; (${c}) 2>/dev/null; printf '\\n%s %s\\n' '${nonce} ${i}' "$?"`,
        ),
        "exit 0",
    ].join("\n");
}

/**
 * Logs in to every host once, all at once, and runs there in that one session the commands
 * `commandsOf` gives it (the checks' questions), so that each host is asked over one connection and
 * one session per run. The results are {@link sshLogin}'s; the answers serve the checks after it.
 */
export async function surveyHosts(
    checks: SshLoginCheck[],
    keyFile: string,
    commandsOf: (check: SshLoginCheck) => string[],
    timeoutMs = 8000,
): Promise<HostSurvey> {
    const answers = new Map<string, { ok: boolean; stdout: string; stderr: string }>();
    const key = (c: SshLoginCheck, command: string) => `${c.user}@${c.host}:${c.port}\n${command}`;
    const nonce = randomBytes(16).toString("hex");
    const results = await withKnownHosts(checks, (knownHosts) =>
        Promise.all(
            checks.map(async (c): Promise<SshLoginResult> => {
                const commands = commandsOf(c);
                const r = await sshRun(
                    c,
                    keyFile,
                    knownHosts,
                    surveyCommand(commands, nonce),
                    timeoutMs,
                );
                const said = splitSurvey(r.stdout, nonce, commands.length);
                said.forEach((a, i) => {
                    if (a) {
                        answers.set(key(c, commands[i]), {
                            ok: a.status === 0,
                            stdout: a.stdout,
                            stderr: "",
                        });
                    }
                });
                if (r.ok || r.stdout.includes(`${nonce} 0\n`)) return "ok";
                if (/Host key verification failed/.test(r.stderr)) return "host key";
                return /Permission denied/.test(r.stderr) ? "refused" : "unknown";
            }),
        ),
    );
    const run: typeof sshRun = async (check, file, knownHosts, command, ms) => {
        const answer = answers.get(key(check, command));
        if (answer === undefined) return sshRun(check, file, knownHosts, command, ms ?? timeoutMs);
        answers.delete(key(check, command));
        return answer;
    };
    return { results, run };
}

/** The key's fingerprint as ssh-keygen prints it ("SHA256:..."), or "" when it cannot say. */
function fingerprint(keyFile: string): Promise<string> {
    return new Promise((resolve) =>
        execFile("ssh-keygen", ["-l", "-f", keyFile], { timeout: 5000 }, (error, stdout) =>
            resolve(error ? "" : (stdout.split(/\s+/)[1] ?? "")),
        ),
    );
}

/**
 * Logs in to every host with the stack's key, all at once, and returns a message for each host that
 * refuses the key, naming the node, the user, the host and the key's fingerprint. Run before any
 * resource, so that a wrong key fails in seconds instead of after every dial attempt.
 */
export async function loginProblems(
    checks: SshLoginCheck[],
    keyFile: string,
    login: SshLogin = sshLogin,
): Promise<string[]> {
    return refusedLogins(checks, await loginResults(checks, keyFile, login), keyFile);
}

/** Logs in to every host with the stack's key, all at once: each login's result, in order. */
export async function loginResults(
    checks: SshLoginCheck[],
    keyFile: string,
    login: SshLogin = sshLogin,
): Promise<SshLoginResult[]> {
    if (checks.length === 0) return [];
    return withKnownHosts(checks, (knownHosts) =>
        Promise.all(checks.map((c) => login(c, keyFile, knownHosts))),
    );
}

/** The message of each host whose login {@link loginResults} found refused (see loginProblems). */
export async function refusedLogins(
    checks: SshLoginCheck[],
    results: SshLoginResult[],
    keyFile: string,
    keyFrom = "sshPrivateKey or sshPrivateKeyFile",
): Promise<string[]> {
    const refused = checks.filter((_, i) => results[i] === "refused");
    if (refused.length === 0) return [];
    const print = await fingerprint(keyFile);
    return refused.map(
        (c) =>
            `swarm-ha: ${c.node} (${c.host}): ${c.user}@${c.host}:${c.port} refuses the SSH key${print ? ` ${print}` : ""} (publickey); authorize its public half for ${c.user} there, or give the key that is (${keyFrom}).`,
    );
}

/**
 * Runs `command` on the hosts of `checks` in order and returns the output of the first that runs it
 * successfully, or undefined when none does.
 */
export async function firstAnswer(
    checks: SshLoginCheck[],
    keyFile: string,
    command: string,
    run: typeof sshRun = sshRun,
): Promise<string | undefined> {
    if (checks.length === 0) return undefined;
    return withKnownHosts(checks, async (knownHosts) => {
        for (const c of checks) {
            const r = await run(c, keyFile, knownHosts, command);
            if (r.ok) return r.stdout;
        }
        return undefined;
    });
}

/**
 * Runs `command` on every host of `checks` at once; for each, its output, or undefined where it
 * did not run (no answer, key or host key refused, the command failed).
 */
export async function runOnAll(
    checks: SshLoginCheck[],
    keyFile: string,
    command: string,
    run: typeof sshRun = sshRun,
): Promise<(string | undefined)[]> {
    if (checks.length === 0) return [];
    return withKnownHosts(checks, (knownHosts) =>
        Promise.all(
            checks.map(async (c) => {
                const r = await run(c, keyFile, knownHosts, command);
                return r.ok ? r.stdout : undefined;
            }),
        ),
    );
}

/**
 * How long a host's survey may take: a manager's `docker info` waits for the swarm's leader (5 s
 * and more on the lab, right after the leader's host went away). A host that does not answer SSH
 * still fails in its 3 s connect timeout.
 */
export const SURVEY_TIMEOUT_MS = 30000;

/**
 * Runs `use` with a private key's text in a file only this user reads, in a folder of its own,
 * removed afterwards: for OpenSSH's `-i`.
 */
export async function withKeyText<T>(text: string, use: (file: string) => Promise<T>): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-key-"));
    try {
        const file = path.join(dir, "key");
        fs.writeFileSync(file, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o600 });
        return await use(file);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * An input's value when the program can know it before any resource (a string, a config value, an
 * output already resolved), else undefined: at preview, an output a resource computes is unknown.
 */
export async function knownNow(input: pulumi.Input<string>): Promise<string | undefined> {
    const value = pulumi.output(input);
    // Output's `isKnown` is not in its declared type; an SDK without it reads as "not known".
    const known = (value as unknown as { isKnown?: Promise<boolean> }).isKnown;
    if (!(await known)) return undefined;
    return new Promise((resolve) => value.apply((v) => resolve(v)));
}

// Unit tests of the checks that run before any resource: a host presenting another host key is
// named with both keys, a host refusing the stack's key is named with the user and the key's
// fingerprint; one that does not answer is left to the connection's bounded dial.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    HostKeyScanner,
    SshLogin,
    firstAnswer,
    hostKeyProblems,
    loginProblems,
    loginResults,
    splitSurvey,
    surveyCommand,
    surveyHosts,
    sharingConnections,
    sshKeyscan,
    sshLogin,
} from "../internal";

const GOOD = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoodKeyForTests";
const OTHER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyForTests";

test("only a host presenting another key than the expected one is a problem, named with both", async () => {
    const presented: Record<string, string | undefined> = {
        "10.0.0.1": GOOD,
        "10.0.0.2": OTHER,
        "10.0.0.3": undefined,
    };
    const asked: string[] = [];
    const scan: HostKeyScanner = async (host, port, type) => {
        asked.push(`${host}:${port} ${type}`);
        return presented[host];
    };
    const problems = await hostKeyProblems(
        [
            { node: "m1", host: "10.0.0.1", port: 22, expected: `${GOOD} root@m1` },
            { node: "w1", host: "10.0.0.2", port: 2222, expected: GOOD },
            { node: "w2", host: "10.0.0.3", port: 22, expected: GOOD },
        ],
        scan,
    );
    expect(asked.sort()).toEqual([
        "10.0.0.1:22 ssh-ed25519",
        "10.0.0.2:2222 ssh-ed25519",
        "10.0.0.3:22 ssh-ed25519",
    ]);
    expect(problems).toEqual([
        `swarm-ha: w1 (10.0.0.2): the host presents the SSH host key ${OTHER}, but ${GOOD} is expected (from hostKeys, the node's hostKey or knownHostsFile); if the host was rebuilt, record its new key.`,
    ]);
});

test("ssh-keyscan against a loopback port where nothing listens answers nothing", async () => {
    expect(await sshKeyscan("127.0.0.1", 1, "ssh-ed25519")).toBeUndefined();
});

/**
 * Runs `use` with a fake `ssh` first on PATH, made of `lines` (given the file it may log to, in
 * the fake's folder): nothing leaves this machine. The folder goes afterwards.
 */
async function withSshOnPath<T>(
    lines: (log: string) => string[],
    use: (log: string) => Promise<T>,
): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-ssh-"));
    const log = path.join(dir, "calls");
    fs.writeFileSync(path.join(dir, "ssh"), ["#!/bin/sh", ...lines(log)].join("\n"), {
        mode: 0o755,
    });
    const before = process.env.PATH;
    process.env.PATH = `${dir}:${before}`;
    try {
        return await use(log);
    } finally {
        process.env.PATH = before;
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
describe("the login with the stack's key", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "login-test-"));
    const keyFile = path.join(dir, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", keyFile]);
    const print = execFileSync("ssh-keygen", ["-l", "-f", keyFile], { encoding: "utf8" }).split(
        " ",
    )[1];
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("only a host that refuses the key is a problem, named with the user and the key's fingerprint", async () => {
        const seen: string[] = [];
        let knownHosts = "";
        const login: SshLogin = async (c, file, known) => {
            seen.push(`${c.user}@${c.host}:${c.port} ${file === keyFile}`);
            knownHosts = fs.readFileSync(known, "utf8");
            return ({ "10.0.0.1": "ok", "10.0.0.2": "refused", "10.0.0.3": "unknown" } as const)[
                c.host as "10.0.0.1"
            ];
        };
        const problems = await loginProblems(
            [
                { node: "m1", host: "10.0.0.1", port: 22, user: "root", hostKey: GOOD },
                { node: "w1", host: "10.0.0.2", port: 2222, user: "ops", hostKey: OTHER },
                { node: "w2", host: "10.0.0.3", port: 22, user: "root" },
            ],
            keyFile,
            login,
        );
        expect(seen.sort()).toEqual([
            "ops@10.0.0.2:2222 true",
            "root@10.0.0.1:22 true",
            "root@10.0.0.3:22 true",
        ]);
        // The recorded host keys, as OpenSSH writes them: [host]:port for other ports.
        expect(knownHosts).toBe(`10.0.0.1 ${GOOD}\n[10.0.0.2]:2222 ${OTHER}\n`);
        expect(print).toMatch(/^SHA256:/);
        expect(problems).toEqual([
            `swarm-ha: w1 (10.0.0.2): ops@10.0.0.2:2222 refuses the SSH key ${print} (publickey); authorize its public half for ops there, or give the key that is (sshPrivateKey or sshPrivateKeyFile).`,
        ]);
    });

    test("no host to check: nothing is asked", async () => {
        const login: SshLogin = async () => {
            throw new Error("asked");
        };
        expect(await loginProblems([], keyFile, login)).toEqual([]);
    });

    test("ssh to a loopback port where nothing listens has nothing to judge by", async () => {
        const check = { node: "m1", host: "127.0.0.1", port: 1, user: "root", hostKey: GOOD };
        const known = path.join(dir, "known_hosts");
        fs.writeFileSync(known, `[127.0.0.1]:1 ${GOOD}\n`);
        expect(await sshLogin(check, keyFile, known)).toBe("unknown");
    });

    test("a command runs on the hosts in order until one succeeds; none: undefined", async () => {
        const asked: string[] = [];
        const run = async (c: { host: string }, file: string, _known: string, command: string) => {
            asked.push(`${c.host} ${command} ${file === keyFile}`);
            return { ok: c.host === "10.0.0.2", stdout: `from ${c.host}`, stderr: "" };
        };
        const hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((host, i) => ({
            node: `m${i + 1}`,
            host,
            port: 22,
            user: "root",
            hostKey: GOOD,
        }));
        expect(await firstAnswer(hosts, keyFile, "docker node ls", run)).toBe("from 10.0.0.2");
        expect(asked).toEqual(["10.0.0.1 docker node ls true", "10.0.0.2 docker node ls true"]);
        expect(await firstAnswer([hosts[0]], keyFile, "x", run)).toBeUndefined();
        expect(await firstAnswer([], keyFile, "x", run)).toBeUndefined();
    });
});

describe("one survey per host: the checks' commands in one session", () => {
    const NONCE = "0123456789abcdef0123456789abcdef";

    test("each command's output and status come back apart, whatever it printed", () => {
        const commands = [
            "echo engine=active; echo swarm=active",
            "printf 'no newline'",
            // A command that fails, and one that prints a look-alike of a marker.
            "echo half; exit 3",
            `echo '${NONCE.slice(0, 8)} 3 0'; echo done`,
        ];
        const out = execFileSync("sh", ["-c", surveyCommand(commands, NONCE)], {
            encoding: "utf8",
        });
        expect(splitSurvey(out, NONCE, commands.length)).toEqual([
            { status: 0, stdout: "engine=active\nswarm=active\n" },
            { status: 0, stdout: "no newline" },
            { status: 3, stdout: "half\n" },
            { status: 0, stdout: `${NONCE.slice(0, 8)} 3 0\ndone\n` },
        ]);
    });

    test("a session cut short: the commands that did not finish have no answer", () => {
        const out = `${NONCE} 0\nengine=active\n\n${NONCE} 0 0\n${NONCE} 1\npartial`;
        expect(splitSurvey(out, NONCE, 3)).toEqual([
            { status: 0, stdout: "engine=active\n" },
            undefined,
            undefined,
        ]);
    });

    test("a command the survey ran is answered from it once; any other runs on the host", async () => {
        // A fake ssh that runs the command it is given with sh, here.
        const runsHere = (log: string) => [
            `echo call >>${log}`,
            'for a in "$@"; do c=$a; done',
            'exec sh -c "$c"',
        ];
        await withSshOnPath(runsHere, async (log) => {
            const check = { node: "m1", host: "10.0.0.1", port: 22, user: "root", hostKey: GOOD };
            const survey = await surveyHosts([check], "/keys/a", () => ["echo one", "echo two"]);
            expect(survey.results).toEqual(["ok"]);
            expect(await survey.run(check, "/keys/a", "kh", "echo two")).toEqual({
                ok: true,
                stdout: "two\n",
                stderr: "",
            });
            expect(fs.readFileSync(log, "utf8")).toBe("call\n");
            // Asked again, or asked something else: the host is asked.
            expect((await survey.run(check, "/keys/a", "kh", "echo two")).stdout).toBe("two\n");
            expect((await survey.run(check, "/keys/a", "kh", "echo three")).stdout).toBe("three\n");
            expect(fs.readFileSync(log, "utf8")).toBe("call\ncall\ncall\n");
        });
    });
});

describe("the checks' shared connections (with a fake ssh that logs its arguments)", () => {
    // Loopback, should the fake not be found: nothing leaves this machine.
    const CHECK = { node: "m1", host: "127.0.0.1", port: 9, user: "root", hostKey: GOOD };

    // A fake `ssh` first on PATH: it logs each call's arguments on one line and, as a master
    // would, leaves a file at the ControlPath.
    function withFakeSsh<T>(use: (log: string) => Promise<T>): Promise<T> {
        return withSshOnPath(
            (log) => [
                `echo "$*" >>${log}`,
                'for a in "$@"; do case "$a" in ControlPath=*) p=${a#ControlPath=}; [ -d "$(dirname "$p")" ] && : >"$(dirname "$p")/m1" ;; esac; done',
                "exit 0",
            ],
            use,
        );
    }

    test("within a scope, every command on a host goes through one master per key; after it, none is left", async () => {
        await withFakeSsh(async (log) => {
            await sharingConnections(async () => {
                await firstAnswer([CHECK], "/keys/a", "true");
                await firstAnswer([CHECK], "/keys/a", "docker info");
                await firstAnswer([CHECK], "/keys/b", "true");
            });
            const calls = fs.readFileSync(log, "utf8").trim().split("\n");
            const paths = calls.map((c) => /ControlPath=(\S+)/.exec(c)?.[1]);
            expect(calls).toHaveLength(5);
            // The same master for the same key; another key, another one.
            expect(paths[0]).toBe(paths[1]);
            expect(paths[2]).not.toBe(paths[0]);
            const dir = path.dirname(path.dirname(paths[0]!));
            for (const c of calls.slice(0, 3)) {
                expect(c).toMatch(/^-o ControlMaster=auto .* -- root@127\.0\.0\.1 /);
            }
            // At the end, each master is asked to exit, and the folder is gone.
            expect(calls.slice(3).sort()).toEqual([
                `-o ControlPath=${path.dirname(paths[0]!)}/m1 -O exit -- x`,
                `-o ControlPath=${path.dirname(paths[2]!)}/m1 -O exit -- x`,
            ]);
            expect(fs.existsSync(dir)).toBe(false);
        });
    });

    test("each login's result, from what OpenSSH said: in, refused, another host key, no answer", async () => {
        // Each host's answer, as OpenSSH prints it; 10.0.0.4 answers nothing.
        const answers = () => [
            'for a in "$@"; do case "$a" in root@*) h=${a#root@} ;; esac; done',
            'case "$h" in',
            "10.0.0.1) exit 0 ;;",
            "10.0.0.2) echo 'root@10.0.0.2: Permission denied (publickey).' >&2; exit 255 ;;",
            "10.0.0.3) echo '@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @' >&2; echo 'Host key verification failed.' >&2; exit 255 ;;",
            "*) echo 'ssh: connect to host 10.0.0.4 port 22: Connection timed out' >&2; exit 255 ;;",
            "esac",
        ];
        await withSshOnPath(answers, async () => {
            const hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"].map((host, i) => ({
                node: `m${i + 1}`,
                host,
                port: 22,
                user: "root",
                hostKey: GOOD,
            }));
            expect(await loginResults(hosts, "/keys/a")).toEqual([
                "ok",
                "refused",
                "host key",
                "unknown",
            ]);
        });
    });

    test("outside a scope, a command opens a connection of its own", async () => {
        await withFakeSsh(async (log) => {
            await firstAnswer([CHECK], "/keys/a", "true");
            const calls = fs.readFileSync(log, "utf8").trim().split("\n");
            expect(calls).toHaveLength(1);
            expect(calls[0]).not.toContain("ControlPath");
            expect(calls[0]).toMatch(/ -- root@127\.0\.0\.1 true$/);
        });
    });
});

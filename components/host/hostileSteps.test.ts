// The host steps run here, in a throwaway directory with stub commands and no network, with the
// nastiest values validation lets through: each arrives where it goes as one piece of data, and
// nothing in it runs. The second wall, behind the grammar (hostile.test.ts).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderScript, scriptText } from "./remoteScript";
import { rules } from "./grammar";
import { propertyLine, renderZooCfg } from "../zookeeper/zookeeperEnsemble";
import { dockerSshOptions, labelLines } from "../swarm/swarmCluster";

/** A value that runs a command wherever a shell parses it, and globs wherever one expands it. */
function nasty(marker: string): string {
    return `rack 4 * $(touch ${marker}) \`touch ${marker}\` ;touch ${marker}; 'q' "d" \\ ~ $HOME`;
}

let dir: string;
let marker: string;
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-"));
    marker = path.join(dir, "ran");
    // Files a glob in the working directory would match.
    fs.writeFileSync(path.join(dir, "secret-file"), "");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stub `docker` that records each call's arguments, NUL-separated, one call per line. */
function stubDocker(answers: string): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(
        path.join(bin, "docker"),
        [
            "#!/bin/sh",
            `printf '%s\\0' "$@" >>'${dir}/calls'`,
            `printf '\\n' >>'${dir}/calls'`,
            answers,
        ].join("\n"),
        { mode: 0o755 },
    );
    return bin;
}

function calls(): string[][] {
    return fs
        .readFileSync(path.join(dir, "calls"), "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split("\0").slice(0, -1));
}

test("node labels: a value with spaces, globs, quotes and command substitutions is one argument", () => {
    const value = nasty(marker);
    expect(rules.labelValue.test(value)).toBe(true);
    const bin = stubDocker(
        [
            'case "$*" in',
            "  *Spec.Role*) echo worker ;;",
            "  *Spec.Labels*) printf 'old\\n' ;;",
            "esac",
        ].join("\n"),
    );
    const script = renderScript("node", {
        NODE: "w1",
        HOST: "10.0.0.21",
        NODE_ID: "abc",
        ADVERTISE_ADDR: "10.0.0.21",
        ROLE: "worker",
        AVAILABILITY: "active",
        LABELS: labelLines({ zone: value, "com.example/tier": "a=b" }),
    });
    execFileSync("sh", ["-c", script], {
        cwd: dir,
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: "/nonexistent" },
    });
    const update = calls().find((c) => c[0] === "node" && c[1] === "update")!;
    expect(update).toEqual([
        "node",
        "update",
        "--availability",
        "active",
        "--label-rm",
        "old",
        "--label-add",
        "com.example/tier=a=b",
        "--label-add",
        `zone=${value}`,
        "abc",
    ]);
    expect(fs.existsSync(marker)).toBe(false);
});

test("daemon.json: an address that closes the string and adds keys stays one string", () => {
    const file = path.join(dir, "daemon.json");
    fs.writeFileSync(file, '{"log-driver": "journald"}');
    const addr = `x", "debug": true, "hosts": ["tcp://0.0.0.0:2375"], "y": "$(touch ${marker})`;
    execFileSync("sh", ["-c", `${scriptText("lib")}\ndaemon_metrics "$1"`, "sh", addr], {
        env: { ...process.env, DAEMON_JSON: file },
    });
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({
        "log-driver": "journald",
        "metrics-addr": addr,
    });
    expect(fs.existsSync(marker)).toBe(false);
});

test("zoo.cfg: a value with line breaks cannot start another setting", () => {
    const line = propertyLine(
        "server.1=10.0.0.1\nadmin.enableServer=true\r4lw.commands.whitelist=*",
    );
    expect(line.split(/[\r\n]/)).toHaveLength(1);
    expect(line).toBe(
        "server.1=10.0.0.1\\u000aadmin.enableServer=true\\u000d4lw.commands.whitelist=*",
    );
    // A backslash at the end would join the next line: escaped too.
    expect(propertyLine("dataDir=/var/lib/zk\\")).toBe("dataDir=/var/lib/zk\\\\");
    const cfg = renderZooCfg({
        servers: [{ id: 1, host: "10.0.0.1\nadmin.enableServer=true" }],
        ssh: { privateKey: "k", acceptAnyHostKey: true },
    });
    expect(cfg.split("\n").filter((l) => l.startsWith("admin.enableServer"))).toEqual([
        "admin.enableServer=false",
    ]);
});

test("init: a peer's address reaches the TCP probe as an argument, never as script text", () => {
    const peer = `127.0.0.1/1;touch ${marker};#`;
    execFileSync(
        "bash",
        [
            "-c",
            `timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$0" 9 2>/dev/null || true`,
            peer,
        ],
        { cwd: dir },
    );
    expect(fs.existsSync(marker)).toBe(false);
    expect(scriptText("init")).toContain(`bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$peer"`);
});

test("the Docker provider's ProxyCommand: each manager one quoted word; a host that is not one is refused", async () => {
    const ssh = {
        user: "root",
        port: 22,
        privateKey: "k",
        acceptAnyHostKey: false,
        dialAttempts: 1,
        dialTimeoutSeconds: 1,
    };
    const options = await new Promise<string[]>((ok) =>
        dockerSshOptions([
            { host: "m1.example", ssh },
            { host: "10.0.0.12", ssh },
        ]).apply(ok),
    );
    const proxy = options.find((o) => o.startsWith("ProxyCommand="))!;
    expect(proxy.endsWith(" 22 'm1.example' '10.0.0.12'")).toBe(true);
    expect(() =>
        dockerSshOptions([
            { host: "m1", ssh },
            { host: `10.0.0.12$(touch ${marker})`, ssh },
        ]),
    ).toThrow('swarm-ha: the manager host "10.0.0.12$(touch');
});

test("join: the token reaches the engine's API on curl's stdin, never an argument of any command", () => {
    const token =
        "SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx";
    const bin = stubDocker(
        [
            // Not in a swarm until curl asked the engine to join.
            `if [ -e '${dir}/joined' ]; then echo active; else echo inactive; fi`,
        ].join("\n"),
    );
    fs.writeFileSync(
        path.join(bin, "curl"),
        [
            "#!/bin/sh",
            `printf '%s\\0' "$@" >>'${dir}/curl-args'`,
            `cat >'${dir}/curl-stdin'`,
            `touch '${dir}/joined'`,
            "printf '\\n200'",
        ].join("\n"),
        { mode: 0o755 },
    );
    const script = renderScript("join", {
        NODE: "w1",
        HOST: "10.0.0.21",
        ADVERTISE_ADDR: "10.0.0.21",
        SWARM_PORT: "2377",
        JOIN_ADDR: "10.0.0.11",
        MANAGERS: "10.0.0.11 10.0.0.12",
        DATA_PATH_ADDR: "",
    });
    const out = execFileSync("sh", ["-c", script], {
        cwd: dir,
        input: `${token}\n`,
        env: { PATH: `${bin}:/usr/bin:/bin` },
        encoding: "utf8",
    });
    expect(out).toContain("joining through 10.0.0.11 10.0.0.12");
    expect(JSON.parse(fs.readFileSync(path.join(dir, "curl-stdin"), "utf8"))).toEqual({
        ListenAddr: "0.0.0.0:2377",
        AdvertiseAddr: "10.0.0.21:2377",
        RemoteAddrs: ["10.0.0.11:2377"],
        JoinToken: token,
    });
    const args = fs.readFileSync(path.join(dir, "curl-args"), "utf8");
    expect(args).toContain("http://localhost/swarm/join");
    expect(args).not.toContain(token);
    expect(calls().flat().join(" ")).not.toContain(token);
});

test("join: anything but a swarm join token on stdin is refused before it is sent", () => {
    const bin = stubDocker("echo inactive");
    for (const bad of [
        'SWMTKN-1-abc","Other":"x',
        "SWMTKN-1-",
        "token",
        `SWMTKN-1-a $(touch ${marker})`,
    ]) {
        expect(() =>
            execFileSync(
                "sh",
                [
                    "-c",
                    renderScript("join", {
                        NODE: "w1",
                        HOST: "10.0.0.21",
                        ADVERTISE_ADDR: "10.0.0.21",
                        SWARM_PORT: "2377",
                        JOIN_ADDR: "10.0.0.11",
                        MANAGERS: "10.0.0.11",
                        DATA_PATH_ADDR: "",
                    }),
                ],
                {
                    cwd: dir,
                    input: `${bad}\n`,
                    env: { PATH: `${bin}:/usr/bin:/bin` },
                    stdio: "pipe",
                },
            ),
        ).toThrow("the join token on stdin is not a swarm join token");
    }
    expect(fs.existsSync(marker)).toBe(false);
});

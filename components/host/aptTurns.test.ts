// The steps' package installs on one host take turns (lib.sh's apt_install): run here, in a
// throwaway directory, with stub apt-get and dpkg that record when each install starts and ends.
import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { scriptText } from "./remoteScript";

let dir: string;
let bin: string;
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "apt-turns-"));
    bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const stub = (name: string, body: string) =>
        fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    stub("dpkg", "exit 0");
    // An install takes 0.6 s; each writes its start and end, with the package named.
    stub(
        "apt-get",
        [
            '[ "$1" = install ] || exit 0',
            'for p in "$@"; do last=$p; done',
            // What apt starts (a package's daemon) must not hold the turn's lock (fd 9).
            `[ ! -e /proc/$$/fd/9 ] || echo "fd 9 open in apt-get" >>'${dir}/log'`,
            `echo "start $last" >>'${dir}/log'`,
            "sleep 0.6",
            `echo "end $last" >>'${dir}/log'`,
        ].join("\n"),
    );
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `apt_install PACKAGE` as a step would, with the stubs first on PATH. */
function install(
    pkg: string,
    env: Record<string, string> = {},
): Promise<{ code: number; err: string }> {
    const script = `set -eu\nNODE=w1\nHOST=10.0.0.21\n${scriptText("lib")}\napt_install ${pkg}\n`;
    return new Promise((resolve) =>
        execFile(
            "sh",
            ["-c", script],
            {
                env: {
                    PATH: `${bin}:/usr/bin:/bin`,
                    APT_LOCK: path.join(dir, "state", "apt.lock"),
                    ...env,
                },
            },
            (error, _out, err) => resolve({ code: error ? Number(error.code) : 0, err }),
        ),
    );
}

test("two steps installing on one host at once take turns: one install ends before the other starts", async () => {
    const results = await Promise.all([install("nftables"), install("docker.io")]);
    expect(results).toEqual([
        { code: 0, err: "" },
        { code: 0, err: "" },
    ]);
    const log = fs.readFileSync(path.join(dir, "log"), "utf8").trim().split("\n");
    expect(log).toHaveLength(4);
    const [first, second] = [log[0].split(" ")[1], log[2].split(" ")[1]];
    expect(log).toEqual([`start ${first}`, `end ${first}`, `start ${second}`, `end ${second}`]);
    expect([first, second].sort()).toEqual(["docker.io", "nftables"]);
});

test("a turn not given within APT_TURN_SECONDS fails naming the packages, the wait and the lock, and installs nothing", async () => {
    const lock = path.join(dir, "state", "apt.lock");
    fs.mkdirSync(path.dirname(lock));
    // Another step holding the lock until it is killed; it says so once it holds it.
    const holder = spawn("flock", [lock, "-c", "echo held; exec sleep 30"], {
        stdio: ["ignore", "pipe", "ignore"],
        detached: true,
    });
    await new Promise((held) => holder.stdout.once("data", held));
    const r = await install("nftables", { APT_TURN_SECONDS: "1" });
    process.kill(-holder.pid!);
    await new Promise((exited) => holder.once("exit", exited));
    expect(r.code).toBe(1);
    expect(r.err).toBe(
        `swarm-ha: w1 (10.0.0.21): gave up installing nftables after 1 s waiting for another swarm-ha step's install on this host to finish (${lock})\n`,
    );
    expect(fs.existsSync(path.join(dir, "log"))).toBe(false);
});

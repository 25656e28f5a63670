// The ZooKeeper probe's provider against servers on loopback, asked over SSH as on the hosts: an
// `ssh` on PATH plays the host (it records its arguments and runs the survey script here, with this
// machine's sh, bash and timeout). Which servers count as down, when a diff reports a change, how
// the generation that re-runs the heal steps grows, and what of the logins is kept.
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import {
    ProbeLogin,
    ZooKeeperProbeInputs,
    ZooKeeperProbeOutputs,
    serversDown,
    srvrMode,
    surveyFrom,
    zooKeeperProbeProvider as provider,
} from "./zookeeperProbe";
import { renderScript } from "../host/remoteScript";

let server: net.Server;
let port = 0;
const fake = fs.mkdtempSync(path.join(os.tmpdir(), "probe-ssh-"));
const log = path.join(fake, "log");
const savedPath = process.env.PATH;

beforeAll(async () => {
    // A ZooKeeper server as far as `srvr` goes, on 127.0.0.1 only: 127.0.0.2 on the same port
    // refuses the connection, as a stopped server does.
    server = net.createServer((socket) => {
        socket.once("data", () => socket.end("Zookeeper version: 3.8.0\nMode: follower\n"));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as net.AddressInfo).port;
    // The host: every argument on a line, the known_hosts file and the key's mode after them; the
    // host 192.0.2.9 does not answer (ssh's status 255).
    fs.writeFileSync(
        path.join(fake, "ssh"),
        `#!/bin/sh
for a in "$@"; do
  printf '%s\\n' "$a" >> "${log}"
  case $a in UserKnownHostsFile=*) cat "\${a#UserKnownHostsFile=}" >> "${log}" ;; esac
done
case " $* " in *@192.0.2.9*) exit 255 ;; esac
exec sh -s
`,
        { mode: 0o755 },
    );
    process.env.PATH = `${fake}:${savedPath}`;
});

afterAll(async () => {
    process.env.PATH = savedPath;
    fs.rmSync(fake, { recursive: true, force: true });
    await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => fs.rmSync(log, { force: true }));

const login = (host: string): ProbeLogin => ({
    host,
    port: 22,
    user: "root",
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBase",
});
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n-----END OPENSSH PRIVATE KEY-----";
const script = (servers: string[]) =>
    renderScript(
        "zk-serving",
        { SERVERS: servers.join("\n"), CLIENT_PORT: String(port), TLS_CA: "" },
        ["zk-health"],
    );
const inputs = (servers: string[], via = [login("10.0.0.11")]): ZooKeeperProbeInputs => ({
    servers,
    clientPort: port,
    via,
    privateKeys: via.map(() => KEY),
    script: script(servers),
});
const olds = (servers: string[], generation: number): ZooKeeperProbeOutputs => ({
    servers,
    clientPort: port,
    script: script(servers),
    askedFrom: ["root@10.0.0.11:22"],
    generation,
    down: [],
});

test("srvr: the Mode a server answers, or down", async () => {
    expect(await srvrMode("127.0.0.1", port)).toBe("follower");
    expect(await srvrMode("127.0.0.2", port)).toBe("down");
});

test("the survey runs over SSH with the key alone and the host's recorded key required", async () => {
    const modes = await surveyFrom(login("10.0.0.11"), KEY, script(["1 127.0.0.1", "2 127.0.0.2"]));
    expect(modes).toEqual(
        new Map([
            ["1 127.0.0.1", "follower"],
            ["2 127.0.0.2", "down"],
        ]),
    );
    const args = fs.readFileSync(log, "utf8").split("\n");
    expect(args).toEqual(
        expect.arrayContaining([
            "BatchMode=yes",
            "IdentitiesOnly=yes",
            "StrictHostKeyChecking=yes",
            "10.0.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBase",
            "root@10.0.0.11",
            "sh -s",
        ]),
    );
    expect(args).not.toContain("StrictHostKeyChecking=no");
    // The key is in a file, removed afterwards, never an argument.
    expect(args.join("\n")).not.toContain("secret");
    const keyFile = args[args.indexOf("-i") + 1];
    expect(fs.existsSync(keyFile)).toBe(false);
});

test("a host without a recorded key is not asked; one that does not answer says nothing", async () => {
    const unpinned: ProbeLogin = { ...login("10.0.0.11"), hostKey: undefined };
    expect(await surveyFrom(unpinned, KEY, script(["1 127.0.0.1"]))).toBeUndefined();
    expect(fs.existsSync(log)).toBe(false);
    expect(await surveyFrom(login("192.0.2.9"), KEY, script(["1 127.0.0.1"]))).toBeUndefined();
});

test("a server that refuses the connection is down; one that answers is not", async () => {
    expect(await serversDown(inputs(["1 127.0.0.1", "2 127.0.0.2"]))).toEqual(["2 127.0.0.2"]);
    expect(await serversDown(inputs(["1 127.0.0.1"]))).toEqual([]);
});

test("asked from the next host when the first does not answer; none answering: nothing is told", async () => {
    const two = ["1 127.0.0.1", "2 127.0.0.2"];
    expect(await serversDown(inputs(two, [login("192.0.2.9"), login("10.0.0.12")]))).toEqual([
        "2 127.0.0.2",
    ]);
    expect(await serversDown(inputs(two, [login("192.0.2.9")]))).toEqual([]);
});

test("a server silent once but answering a second later is not down", async () => {
    const late = net.createServer((socket) => {
        socket.once("data", () => socket.end("Mode: leader\n"));
    });
    const asked = serversDown(inputs(["1 127.0.0.1", "4 127.0.0.4"]));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await new Promise<void>((resolve) => late.listen(port, "127.0.0.4", resolve));
    try {
        expect(await asked).toEqual([]);
    } finally {
        await new Promise<void>((resolve) => late.close(() => resolve()));
    }
});

test("every server down, as a server's host sees it: all of them count", async () => {
    expect(await serversDown(inputs(["2 127.0.0.2", "3 127.0.0.3"]))).toEqual([
        "2 127.0.0.2",
        "3 127.0.0.3",
    ]);
});

test("diff: a change only when the inputs changed or a server is down", async () => {
    const serving = ["1 127.0.0.1"];
    const oneDown = ["1 127.0.0.1", "2 127.0.0.2"];
    expect(await provider.diff!("serving", olds(serving, 0), inputs(serving))).toEqual({
        changes: false,
    });
    expect(await provider.diff!("serving", olds(oneDown, 0), inputs(oneDown))).toEqual({
        changes: true,
    });
    expect(
        await provider.diff!("serving", olds(serving, 0), { ...inputs(serving), clientPort: 1 }),
    ).toEqual({ changes: true });
    expect(
        await provider.diff!("serving", olds(serving, 0), inputs(serving, [login("10.0.0.12")])),
    ).toEqual({ changes: true });
});

test("diff: a server down whose host is repaired in this run is no change; another one is", async () => {
    const oneDown = ["1 127.0.0.1", "2 127.0.0.2"];
    const twoDown = [...oneDown, "3 127.0.0.3"];
    expect(
        await provider.diff!("serving", olds(oneDown, 0), {
            ...inputs(oneDown),
            repairing: ["2 127.0.0.2"],
        }),
    ).toEqual({ changes: false });
    expect(
        await provider.diff!("serving", olds(twoDown, 0), {
            ...inputs(twoDown),
            repairing: ["2 127.0.0.2"],
        }),
    ).toEqual({ changes: true });
});

test("create starts at generation 0; update adds one only when it finds a server down", async () => {
    // The state keeps where it asked from, never the logins' keys.
    expect(await provider.create!(inputs(["1 127.0.0.1"]))).toEqual({
        id: "serving",
        outs: { ...olds(["1 127.0.0.1"], 0) },
    });
    const oneDown = ["1 127.0.0.1", "2 127.0.0.2"];
    expect(await provider.update!("serving", olds(oneDown, 4), inputs(oneDown))).toEqual({
        outs: { ...olds(oneDown, 5), down: ["2 127.0.0.2"] },
    });
    const grown = ["1 127.0.0.1"];
    expect(await provider.update!("serving", olds(oneDown, 5), inputs(grown))).toEqual({
        outs: olds(grown, 5),
    });
});

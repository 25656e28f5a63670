// Which ZooKeeper servers serve, asked at every preview and up over SSH from a server's host (the
// first that answers), which asks every server `srvr` on its client port: the machine running Pulumi
// needs no way in to ZooKeeper. Commands run only when their inputs change, so nothing else in a
// stack notices a server that was stopped by hand; this resource does, in its diff, and counts the
// times it found one down in its `generation`, which re-runs the heal steps once per time, not once
// per `up`.
import * as pulumi from "@pulumi/pulumi";

/** A host the probe asks from: an SSH login, its host key required. */
export interface ProbeLogin {
    host: string;
    port: number;
    user: string;
    /** "TYPE BASE64"; without one the host is not asked (its key could not be checked). */
    hostKey?: string;
}

/**
 * The probe's inputs: the servers ("id address"), their client port, the hosts to ask from (in
 * order) with each one's SSH private key (secret), and the survey script they run (`sh -s`), which
 * prints one "id address mode" line per server.
 */
export interface ZooKeeperProbeInputs {
    servers: string[];
    clientPort: number;
    via: ProbeLogin[];
    privateKeys: string[];
    script: string;
    /**
     * The servers (of `servers`) whose own steps run again in this run, as their host was found
     * drifted or replaced: at preview they are not counted down, since up starts them before the
     * probe asks again. Not kept in the state.
     */
    repairing?: string[];
}

/** Its state: the inputs but the logins, how many times a server was found down, and which ones. */
export interface ZooKeeperProbeOutputs extends Omit<
    ZooKeeperProbeInputs,
    "via" | "privateKeys" | "repairing"
> {
    /** The hosts asked from, "user@host:port". */
    askedFrom: string[];
    generation: number;
    down: string[];
}

/**
 * A server's Mode from the four-letter word `srvr`, asked from this machine: "leader", "follower"
 * or "standalone"; "notserving" when the process answers but does not serve (during an election);
 * "down" when nothing answers within `timeoutMs`. With `ca`, over TLS, from a server whose
 * certificate that CA signed for `address` (any other answers nothing). For the demo and the tests,
 * which run where a client network may reach the servers; the probe asks over SSH.
 */
export function srvrMode(
    address: string,
    port = 2181,
    timeoutMs = 1000,
    ca?: string,
): Promise<string> {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const net = require("net") as typeof import("net");
    const tls = require("tls") as typeof import("tls");
    /* eslint-enable @typescript-eslint/no-require-imports */
    return new Promise((resolve) => {
        let out = "";
        const socket = ca
            ? tls.connect({ host: address, port, timeout: timeoutMs, ca })
            : net.connect({ host: address, port, timeout: timeoutMs });
        socket.once(ca ? "secureConnect" : "connect", () => socket.write("srvr"));
        socket.on("data", (d) => (out += d.toString()));
        socket.on("end", () =>
            resolve(/^Mode: (\w+)/m.exec(out)?.[1] ?? (out ? "notserving" : "down")),
        );
        socket.on("timeout", () => {
            socket.destroy();
            resolve("down");
        });
        socket.on("error", () => resolve("down"));
    });
}

/**
 * Runs `script` with `sh -s` on the host of `login` over SSH (`privateKey` in a file only this user
 * reads, the host key required, 3 s to connect, `timeoutMs` in all) and returns the mode of each
 * server it reports ("id address" to mode); undefined when the host could not be asked.
 */
export function surveyFrom(
    login: ProbeLogin,
    privateKey: string,
    script: string,
    timeoutMs = 10000,
): Promise<Map<string, string> | undefined> {
    // Required here: the probe's provider functions are serialized and run in the engine's plugin.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { spawn } = require("child_process") as typeof import("child_process");
    const fs = require("fs") as typeof import("fs");
    const os = require("os") as typeof import("os");
    const path = require("path") as typeof import("path");
    /* eslint-enable @typescript-eslint/no-require-imports */
    if (!login.hostKey) return Promise.resolve(undefined);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-probe-"));
    const keyFile = path.join(dir, "key");
    const knownHosts = path.join(dir, "known_hosts");
    fs.writeFileSync(keyFile, privateKey.replace(/\n?$/, "\n"), { mode: 0o600 });
    const name = login.port === 22 ? login.host : `[${login.host}]:${login.port}`;
    fs.writeFileSync(knownHosts, `${name} ${login.hostKey}\n`);
    return new Promise((resolve) => {
        let out = "";
        const child = spawn(
            "ssh",
            [
                "-i",
                keyFile,
                "-p",
                String(login.port),
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
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                `UserKnownHostsFile=${knownHosts}`,
                "--",
                `${login.user}@${login.host}`,
                "sh -s",
            ],
            { stdio: ["pipe", "pipe", "ignore"], timeout: timeoutMs, env: process.env },
        );
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("error", () => undefined);
        child.on("close", (code: number | null) => {
            fs.rmSync(dir, { recursive: true, force: true });
            if (code !== 0) return resolve(undefined);
            const modes = new Map<string, string>();
            for (const line of out.split("\n")) {
                const [id, address, mode] = line.trim().split(/\s+/);
                if (mode) modes.set(`${id} ${address}`, mode);
            }
            resolve(modes);
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(script);
    });
}

/** Asks each server's mode from the first host of `via` that answers; undefined when none does. */
export async function modesOf(
    inputs: ZooKeeperProbeInputs,
    survey: typeof surveyFrom = surveyFrom,
): Promise<Map<string, string> | undefined> {
    for (const [i, login] of inputs.via.entries()) {
        const modes = await survey(login, inputs.privateKeys[i] ?? "", inputs.script);
        if (modes) return modes;
    }
    return undefined;
}

/**
 * The servers of `servers` that answer nothing on their client port ("down"), as a server's host
 * sees them; empty when no host could be asked, since then nothing can be told.
 */
export async function serversDown(
    inputs: ZooKeeperProbeInputs,
    survey: typeof surveyFrom = surveyFrom,
): Promise<string[]> {
    const silent = async (): Promise<string[] | undefined> => {
        const modes = await modesOf(inputs, survey);
        return modes && inputs.servers.filter((s) => (modes.get(s) ?? "down") === "down");
    };
    let down = (await silent()) ?? [];
    if (down.length > 0) {
        // Asked once more a second later: a busy server is not a stopped one.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const again = (await silent()) ?? [];
        down = down.filter((s) => again.includes(s));
    }
    return down;
}

/** Where the probe asks from, without the keys: "user@host:port". */
const askedFrom = (inputs: ZooKeeperProbeInputs): string[] =>
    inputs.via.map((l) => `${l.user}@${l.host}:${l.port}`);

const sameInputs = (a: ZooKeeperProbeOutputs, b: ZooKeeperProbeInputs): boolean =>
    a.clientPort === b.clientPort &&
    a.script === b.script &&
    JSON.stringify(a.askedFrom) === JSON.stringify(askedFrom(b)) &&
    JSON.stringify(a.servers) === JSON.stringify(b.servers);

/** The state kept of the inputs: everything but the logins (and their keys). */
const kept = (inputs: ZooKeeperProbeInputs) => ({
    servers: inputs.servers,
    clientPort: inputs.clientPort,
    script: inputs.script,
    askedFrom: askedFrom(inputs),
});

/** The dynamic provider: create counts nothing, diff asks the servers, update counts. */
export const zooKeeperProbeProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ZooKeeperProbeInputs) {
        const outs: ZooKeeperProbeOutputs = { ...kept(inputs), generation: 0, down: [] };
        return { id: "serving", outs };
    },
    async diff(_id: string, olds: ZooKeeperProbeOutputs, news: ZooKeeperProbeInputs) {
        if (!sameInputs(olds, news)) {
            return { changes: true };
        }
        const repairing = new Set(news.repairing ?? []);
        return { changes: (await serversDown(news)).some((s) => !repairing.has(s)) };
    },
    async update(_id: string, olds: ZooKeeperProbeOutputs, news: ZooKeeperProbeInputs) {
        const down = await serversDown(news);
        const outs: ZooKeeperProbeOutputs = {
            ...kept(news),
            generation: (olds.generation ?? 0) + (down.length > 0 ? 1 : 0),
            down,
        };
        return { outs };
    },
};

/** The probe resource; `generation` grows by one each time an update found a server down. */
export class ZooKeeperProbe extends pulumi.dynamic.Resource {
    public readonly generation!: pulumi.Output<number>;
    public readonly down!: pulumi.Output<string[]>;

    constructor(
        name: string,
        inputs: pulumi.Inputs & {
            servers: string[];
            clientPort: number;
            via: pulumi.Input<ProbeLogin[]>;
            privateKeys: pulumi.Input<string>[];
            script: string;
            repairing?: string[];
        },
        opts?: pulumi.CustomResourceOptions,
    ) {
        super(
            zooKeeperProbeProvider,
            name,
            {
                ...inputs,
                privateKeys: pulumi.secret(inputs.privateKeys),
                askedFrom: undefined,
                generation: undefined,
                down: undefined,
            },
            opts,
            "swarm-ha",
            "ZooKeeperProbe",
        );
    }
}

// Which ZooKeeper servers serve, asked with `srvr` from where Pulumi runs, at every preview and up.
// Commands run only when their inputs change, so nothing else in a stack notices a server that was
// stopped by hand; this resource does, in its diff, and counts the times it found one down in its
// `generation`, which re-runs the heal steps once per time, not once per `up`.
import * as pulumi from "@pulumi/pulumi";

/**
 * The probe's inputs: the servers ("id address") and their client port; with TLS, the CA's
 * certificate that the servers' must be signed by (then the port is the secure client port).
 */
export interface ZooKeeperProbeInputs {
    servers: string[];
    clientPort: number;
    ca?: string;
}

/** Its state: the inputs, how many times a server was found down, and which ones last time. */
export interface ZooKeeperProbeOutputs extends ZooKeeperProbeInputs {
    generation: number;
    down: string[];
}

/**
 * A server's Mode from the four-letter word `srvr`: "leader", "follower" or "standalone";
 * "notserving" when the process answers but does not serve (during an election); "down" when
 * nothing answers within `timeoutMs`. With `ca`, over TLS, from a server whose certificate that CA
 * signed for `address` (any other answers nothing).
 */
export function srvrMode(
    address: string,
    port = 2181,
    timeoutMs = 1000,
    ca?: string,
): Promise<string> {
    // Required here: the probe's provider functions are serialized and run in the engine's plugin.
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
 * The servers of `servers` that answer nothing on their client port ("down"); empty when none of
 * them answers, since then this machine cannot see them and cannot tell.
 */
export async function serversDown(inputs: ZooKeeperProbeInputs): Promise<string[]> {
    const silent = async (servers: string[]): Promise<string[]> => {
        const modes = await Promise.all(
            servers.map((s) => srvrMode(s.split(" ")[1], inputs.clientPort, 2000, inputs.ca)),
        );
        return servers.filter((_, i) => modes[i] === "down");
    };
    let down = await silent(inputs.servers);
    if (down.length === inputs.servers.length) {
        return [];
    }
    if (down.length > 0) {
        // Asked once more a second later: a busy server is not a stopped one.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        down = await silent(down);
    }
    return down;
}

const sameInputs = (a: ZooKeeperProbeInputs, b: ZooKeeperProbeInputs): boolean =>
    a.clientPort === b.clientPort &&
    (a.ca ?? "") === (b.ca ?? "") &&
    JSON.stringify(a.servers) === JSON.stringify(b.servers);

/** The dynamic provider: create counts nothing, diff asks the servers, update counts. */
export const zooKeeperProbeProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ZooKeeperProbeInputs) {
        const outs: ZooKeeperProbeOutputs = { ...inputs, generation: 0, down: [] };
        return { id: "serving", outs };
    },
    async diff(_id: string, olds: ZooKeeperProbeOutputs, news: ZooKeeperProbeInputs) {
        if (!sameInputs(olds, news)) {
            return { changes: true };
        }
        return { changes: (await serversDown(news)).length > 0 };
    },
    async update(_id: string, olds: ZooKeeperProbeOutputs, news: ZooKeeperProbeInputs) {
        const down = await serversDown(news);
        const outs: ZooKeeperProbeOutputs = {
            ...news,
            generation: (olds.generation ?? 0) + (down.length > 0 ? 1 : 0),
            down,
        };
        return { outs };
    },
};

/**
 * The provider of a probe (this one, SwarmCluster's): the engine hands the default `pulumi-nodejs`
 * provider the whole stack configuration, so any config change would show that provider as
 * updated; a provider of its own has no inputs.
 */
export class ProbeHost extends pulumi.ProviderResource {
    constructor(name: string, opts?: pulumi.ResourceOptions) {
        super("pulumi-nodejs", name, {}, opts);
    }
}

/** The probe resource; `generation` grows by one each time an update found a server down. */
export class ZooKeeperProbe extends pulumi.dynamic.Resource {
    public readonly generation!: pulumi.Output<number>;
    public readonly down!: pulumi.Output<string[]>;

    constructor(
        name: string,
        inputs: pulumi.Inputs & Omit<ZooKeeperProbeInputs, "ca"> & { ca?: pulumi.Input<string> },
        opts?: pulumi.CustomResourceOptions,
    ) {
        super(
            zooKeeperProbeProvider,
            name,
            { ...inputs, generation: undefined, down: undefined },
            opts,
            "swarm-ha",
            "ZooKeeperProbe",
        );
    }
}

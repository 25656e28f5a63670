// A small promise wrapper around node-zookeeper-client: what discovery, the tests and the benchmark
// ask of ZooKeeper.
import * as net from "net";
import * as tls from "tls";
import * as zookeeper from "node-zookeeper-client";

export interface ZkConnectOptions {
    /** Give up when no session is established within this many ms. Default: 15000. */
    timeoutMs?: number;
    /** Digest credentials ("user:password"), added once the session is up. Default: none. */
    digest?: string;
    /**
     * After trying every server once, wait up to this many ms (at random) before the next round.
     * node-zookeeper-client's default, 1000, shows in how long a client of a restarted server
     * takes to move to another. Default: 1000.
     */
    spinDelayMs?: number;
    /**
     * An operation that loses its connection is tried again this many times, after 1 s, then 2 s
     * (node-zookeeper-client's back-off). Default: 2.
     */
    retries?: number;
    /**
     * The ensemble's CA certificate (PEM) when it speaks TLS: the connect string names the secure
     * client ports, and a server must present a certificate this CA signed for its address.
     * Default: none (plain text).
     */
    tlsCa?: string;
}

/**
 * node-zookeeper-client speaks plain TCP only: for TLS, each server gets a relay on loopback that
 * carries the client's connections to it over TLS (checked against `ca`). Returns the connect
 * string of the relays and a function that closes them.
 */
async function tlsRelays(
    connectString: string,
    ca: string,
): Promise<{ connectString: string; close: () => void }> {
    const servers = await Promise.all(
        connectString.split(",").map(async (hostPort) => {
            const at = hostPort.lastIndexOf(":");
            const host = hostPort.slice(0, at);
            const port = Number(hostPort.slice(at + 1));
            const relay = net.createServer((local) => {
                const remote = tls.connect({ host, port, ca });
                local.pipe(remote).pipe(local);
                remote.on("error", () => local.destroy());
                local.on("error", () => remote.destroy());
            });
            await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
            return relay;
        }),
    );
    return {
        connectString: servers
            .map((s) => `127.0.0.1:${(s.address() as net.AddressInfo).port}`)
            .join(","),
        close: () => servers.forEach((s) => s.close()),
    };
}

const isNoNode = (e: unknown): boolean =>
    (e as { getCode?: () => number }).getCode?.() === zookeeper.Exception.NO_NODE;

export class ZkClient {
    private constructor(
        private readonly client: zookeeper.Client,
        private readonly closeRelays: () => void,
    ) {}

    /** Connects through a connect string ("host:port,host:port"); over TLS with `tlsCa`. */
    static async connect(connectString: string, options: ZkConnectOptions = {}): Promise<ZkClient> {
        const timeoutMs = options.timeoutMs ?? 15000;
        const relays = options.tlsCa
            ? await tlsRelays(connectString, options.tlsCa)
            : { connectString, close: () => undefined };
        const client = zookeeper.createClient(relays.connectString, {
            sessionTimeout: 10000,
            retries: options.retries ?? 2,
            spinDelay: options.spinDelayMs ?? 1000,
        });
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                client.close();
                relays.close();
                reject(
                    new Error(
                        `no ZooKeeper session through ${connectString} within ${timeoutMs} ms`,
                    ),
                );
            }, timeoutMs);
            client.once("connected", () => {
                clearTimeout(timer);
                if (options.digest) client.addAuthInfo("digest", Buffer.from(options.digest));
                resolve(new ZkClient(client, relays.close));
            });
            client.connect();
        });
    }

    create(path: string, data: string): Promise<string> {
        return new Promise((ok, fail) =>
            this.client.create(path, Buffer.from(data), (e, p) => (e ? fail(e) : ok(p))),
        );
    }

    get(path: string): Promise<string> {
        return new Promise((ok, fail) =>
            this.client.getData(path, (e, data) => (e ? fail(e) : ok(data.toString()))),
        );
    }

    /** The data, or undefined when the znode does not exist (it may vanish between list and read). */
    getIfExists(path: string): Promise<string | undefined> {
        return this.get(path).catch((e: unknown) => {
            if (isNoNode(e)) return undefined;
            throw e;
        });
    }

    /** The children's names, sorted; none when the znode does not exist. */
    children(path: string): Promise<string[]> {
        return new Promise((ok, fail) =>
            this.client.getChildren(path, (e, names) =>
                e ? (isNoNode(e) ? ok([]) : fail(e)) : ok([...names].sort()),
            ),
        );
    }

    /**
     * The children's names, sorted, and a promise that settles once when they next change (ZooKeeper
     * watches fire once).
     */
    watchChildren(path: string): Promise<{ names: string[]; changed: Promise<void> }> {
        return new Promise((ok, fail) => {
            let fired!: () => void;
            const changed = new Promise<void>((resolve) => (fired = resolve));
            this.client.getChildren(
                path,
                () => fired(),
                (e, names) => (e ? fail(e) : ok({ names: [...names].sort(), changed })),
            );
        });
    }

    set(path: string, data: string): Promise<void> {
        return new Promise((ok, fail) =>
            this.client.setData(path, Buffer.from(data), -1, (e) => (e ? fail(e) : ok())),
        );
    }

    remove(path: string): Promise<void> {
        return new Promise((ok, fail) => this.client.remove(path, -1, (e) => (e ? fail(e) : ok())));
    }

    exists(path: string): Promise<boolean> {
        return new Promise((ok, fail) =>
            this.client.exists(path, (e, stat) => (e ? fail(e) : ok(Boolean(stat)))),
        );
    }

    close(): void {
        this.client.close();
        this.closeRelays();
    }
}

// A small promise wrapper around node-zookeeper-client for the end-to-end tests, and the
// four-letter word `srvr` asked directly of a server.
import * as net from "net";
import * as zookeeper from "node-zookeeper-client";

export class ZkClient {
    private constructor(private readonly client: zookeeper.Client) {}

    /** Connects through a connect string; fails after `timeoutMs`. */
    static connect(connectString: string, timeoutMs = 15000): Promise<ZkClient> {
        const client = zookeeper.createClient(connectString, { sessionTimeout: 10000, retries: 2 });
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                client.close();
                reject(
                    new Error(
                        `no ZooKeeper session through ${connectString} within ${timeoutMs} ms`,
                    ),
                );
            }, timeoutMs);
            client.once("connected", () => {
                clearTimeout(timer);
                resolve(new ZkClient(client));
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
    }
}

/**
 * A server's Mode from `srvr`: "leader", "follower" or "standalone"; "notserving" when the process
 * answers but is not serving (during an election); "down" when nothing answers within a second.
 */
export function srvrMode(address: string, port = 2181): Promise<string> {
    return new Promise((resolve) => {
        let out = "";
        const socket = net.connect({ host: address, port, timeout: 1000 }, () =>
            socket.write("srvr"),
        );
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

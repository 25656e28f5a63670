// A small promise wrapper around node-zookeeper-client for the end-to-end tests.
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

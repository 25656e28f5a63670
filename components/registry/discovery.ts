// Discovery: the instances of a service as the registrar registered them in ZooKeeper, in the JSON
// of Apache Curator's service discovery (what Curator's ServiceDiscovery reads too).
import { ZkClient, ZkConnectOptions } from "./zkClient";

/** Where the registrar registers instances by default: ROOT/<service>/<task id>. */
export const DEFAULT_REGISTRY_ROOT = "/services";

/** A running task, as Curator's ServiceInstance (JSON). */
export interface ServiceInstance {
    /** The service's name. */
    name: string;
    /** The task's ID. */
    id: string;
    /** Where to reach it: a published port's node, else its address on its overlay network. */
    address: string;
    /** The port to reach it on, or null when the service names none. */
    port: number | null;
    sslPort: number | null;
    /** Where the task runs and what it runs ("@class" is the Java type Curator reads it as). */
    payload: {
        "@class"?: string;
        node: string;
        image: string;
        slot?: number;
        taskAddress?: string;
    };
    /** When the registrar registered it, in ms since the epoch. */
    registrationTimeUTC: number;
    /** "DYNAMIC": it goes when the task stops. */
    serviceType: string;
    uriSpec: unknown;
    enabled?: boolean;
}

const REQUIRED: (keyof ServiceInstance)[] = ["name", "id", "address", "serviceType"];

/** Reads one znode's data as a ServiceInstance; the error names the znode and what is wrong. */
export function parseServiceInstance(data: string, path: string): ServiceInstance {
    let value: unknown;
    try {
        value = JSON.parse(data);
    } catch {
        throw new Error(`${path}: not a service instance: its data is not JSON`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new Error(`${path}: not a service instance: its data is not a JSON object`);
    }
    const record = value as Record<string, unknown>;
    const missing = REQUIRED.filter((k) => typeof record[k] !== "string" || record[k] === "");
    if (missing.length > 0) {
        throw new Error(`${path}: not a service instance: no ${missing.join(", ")}`);
    }
    return value as ServiceInstance;
}

export interface DiscoverOptions extends ZkConnectOptions {
    /** The registry's root. Default: "/services". */
    root?: string;
}

async function withClient<T>(
    connectString: string,
    options: DiscoverOptions,
    use: (client: ZkClient, root: string) => Promise<T>,
): Promise<T> {
    const client = await ZkClient.connect(connectString, options);
    try {
        return await use(client, options.root ?? DEFAULT_REGISTRY_ROOT);
    } finally {
        client.close();
    }
}

async function readInstances(client: ZkClient, root: string, service: string) {
    const dir = `${root}/${service}`;
    const found: ServiceInstance[] = [];
    for (const id of await client.children(dir)) {
        // An instance may go between the listing and the read: it is no longer there, so skip it.
        const data = await client.getIfExists(`${dir}/${id}`);
        if (data !== undefined) found.push(parseServiceInstance(data, `${dir}/${id}`));
    }
    return found;
}

/** The instances of one service, sorted by task ID; none when it has none or is not registered. */
export function discoverInstances(
    connectString: string,
    service: string,
    options: DiscoverOptions = {},
): Promise<ServiceInstance[]> {
    return withClient(connectString, options, (client, root) =>
        readInstances(client, root, service),
    );
}

/** Every registered service's instances, by service name. */
export function discoverAll(
    connectString: string,
    options: DiscoverOptions = {},
): Promise<Record<string, ServiceInstance[]>> {
    return withClient(connectString, options, async (client, root) => {
        const all: Record<string, ServiceInstance[]> = {};
        for (const service of await client.children(root)) {
            all[service] = await readInstances(client, root, service);
        }
        return all;
    });
}

/** "ADDRESS:PORT" (or the address alone when the instance has no port). */
export function instanceEndpoint(i: ServiceInstance): string {
    return i.port === null || i.port === undefined ? i.address : `${i.address}:${i.port}`;
}

// The ZooKeeper probe's provider against servers on loopback: which servers count as down, when a
// diff reports a change, and how the generation that re-runs the heal steps grows.
import * as net from "net";
import {
    ZooKeeperProbeOutputs,
    serversDown,
    srvrMode,
    zooKeeperProbeProvider as provider,
} from "../../components/zookeeperProbe";

let server: net.Server;
let port = 0;

beforeAll(async () => {
    // A ZooKeeper server as far as `srvr` goes, on 127.0.0.1 only: 127.0.0.2 on the same port
    // refuses the connection, as a stopped server does.
    server = net.createServer((socket) => {
        socket.once("data", () => socket.end("Zookeeper version: 3.8.0\nMode: follower\n"));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as net.AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const inputs = (servers: string[]) => ({ servers, clientPort: port });
const olds = (servers: string[], generation: number): ZooKeeperProbeOutputs => ({
    ...inputs(servers),
    generation,
    down: [],
});

test("srvr: the Mode a server answers, or down", async () => {
    expect(await srvrMode("127.0.0.1", port)).toBe("follower");
    expect(await srvrMode("127.0.0.2", port)).toBe("down");
});

test("a server that refuses the connection is down; one that answers is not", async () => {
    expect(await serversDown(inputs(["1 127.0.0.1", "2 127.0.0.2"]))).toEqual(["2 127.0.0.2"]);
    expect(await serversDown(inputs(["1 127.0.0.1"]))).toEqual([]);
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

test("when no server answers, this machine cannot see them: nothing counts as down", async () => {
    expect(await serversDown(inputs(["2 127.0.0.2", "3 127.0.0.3"]))).toEqual([]);
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
});

test("create starts at generation 0; update adds one only when it finds a server down", async () => {
    expect(await provider.create!(inputs(["1 127.0.0.1"]))).toEqual({
        id: "serving",
        outs: { ...inputs(["1 127.0.0.1"]), generation: 0, down: [] },
    });
    const oneDown = ["1 127.0.0.1", "2 127.0.0.2"];
    expect(await provider.update!("serving", olds(oneDown, 4), inputs(oneDown))).toEqual({
        outs: { ...inputs(oneDown), generation: 5, down: ["2 127.0.0.2"] },
    });
    const grown = ["1 127.0.0.1"];
    expect(await provider.update!("serving", olds(oneDown, 5), inputs(grown))).toEqual({
        outs: { ...inputs(grown), generation: 5, down: [] },
    });
});

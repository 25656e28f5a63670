// The four-letter word `srvr` asked directly of a ZooKeeper server: used by the demo's summary and
// by the end-to-end tests' monitors.
import * as net from "net";

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

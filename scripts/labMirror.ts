// What a datacenter serves its hosts from inside, made for the lab, which reaches neither Apache's
// nor Docker's download sites: ZooKeeper's binary tarball in Apache's layout (from the OS package's
// jars on a lab host), a stand-in of Docker's apt repository (lab/docker-ce-standin.sh), and an HTTP
// server for them on the lab network's gateway (this machine), where lab hosts reach it.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { REPO } from "./automation";

/** This machine on the lab's bridge network: the network's gateway. */
export const GATEWAY = "172.30.213.1";

function labSsh(host: string, command: string): Buffer {
    return execFileSync("bash", [path.join(REPO, "lab", "lab.sh"), "ssh", host, command], {
        stdio: ["ignore", "pipe", "pipe"],
        maxBuffer: 512 * 1024 * 1024,
        timeout: 10 * 60 * 1000,
    });
}

/**
 * ZooKeeper `version`'s binary tarball in Apache's layout (apache-zookeeper-VERSION-bin/lib/*.jar),
 * made on lab host `builder` from the OS package's jars (Debian's, whatever version they are).
 */
export function zookeeperTarball(builder: string, version: string): Buffer {
    const top = `apache-zookeeper-${version}-bin`;
    labSsh(
        builder,
        [
            "set -e",
            "if [ ! -r /usr/share/java/zookeeper.jar ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zookeeper >/dev/null; fi",
            `rm -rf /tmp/zk-tarball && mkdir -p /tmp/zk-tarball/${top}/lib /tmp/zk-tarball/${top}/conf`,
            `cp -L /usr/share/java/*.jar /tmp/zk-tarball/${top}/lib/`,
            `tar -C /tmp/zk-tarball -czf /tmp/zk-tarball.tgz ${top}`,
        ].join("\n"),
    );
    return labSsh(builder, "cat /tmp/zk-tarball.tgz");
}

/**
 * A signed apt repository in the layout of Docker's, in `dir` (its base URL is `dir`'s, ending in
 * what Docker's ends in: the distribution's folder under it), with stand-ins at `version`.
 */
export function dockerCeStandin(dir: string, version: string): void {
    execFileSync("bash", [path.join(REPO, "lab", "docker-ce-standin.sh"), dir, version], {
        stdio: ["ignore", "ignore", "inherit"],
    });
}

/** A request the server answers: a fixed body, or a handler of its own. */
export type Route =
    | { body: Buffer; type?: string }
    | ((req: http.IncomingMessage, body: string, res: http.ServerResponse) => void);

/**
 * Serves on the gateway, on a port of the system's choosing: each route by exact path, and the
 * files under `files` (by path below `prefix`, nothing outside it); 404 for anything else.
 */
export async function serveOnLab(
    routes: Record<string, Route>,
    files?: { prefix: string; root: string },
): Promise<{ server: http.Server; base: string; requests: string[] }> {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk: Buffer) => {
            if (body.length < 1 << 20) body += chunk.toString("utf8");
        });
        req.on("end", () => {
            const url = (req.url ?? "/").split("?")[0];
            requests.push(`${req.method} ${url}`);
            const route = routes[url];
            if (typeof route === "function") return route(req, body, res);
            if (route) {
                res.writeHead(200, { "Content-Type": route.type ?? "application/octet-stream" });
                return res.end(route.body);
            }
            if (files && url.startsWith(files.prefix)) {
                const root = path.resolve(files.root);
                const file = path.join(root, decodeURIComponent(url.slice(files.prefix.length)));
                if (
                    file.startsWith(`${root}/`) &&
                    fs.statSync(file, { throwIfNoEntry: false })?.isFile()
                ) {
                    res.writeHead(200);
                    return res.end(fs.readFileSync(file));
                }
            }
            res.writeHead(404).end();
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, GATEWAY, resolve);
    });
    return {
        server,
        base: `http://${GATEWAY}:${(server.address() as net.AddressInfo).port}`,
        requests,
    };
}

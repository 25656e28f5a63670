// End to end: ZooKeeperEnsemble's tarball install, used as a library from a program of its own.
// Apache's download site cannot be reached here, so the test makes a binary tarball in Apache's
// layout (apache-zookeeper-VERSION-bin/lib/*.jar) from the OS package's jars on one lab host and
// serves it on the lab network from this machine; another host installs ZooKeeper from it, checked
// against its sha512. A wrong sha512 is refused before anything is unpacked. The server's host is
// not a cluster node, so it gets the ensemble's own firewall: lab-w1 (a member) and this machine (a
// client network) reach the client port, lab-m1 (an outsider) reaches none of its ports; destroy
// removes the rules.
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { ZooKeeperEnsemble } from "../../components/internal";
import { srvrMode } from "../../components/zookeeper/zookeeperProbe";
import { labInfo, labStackEnv, linkModules, loadEnv } from "../../scripts/automation";
import { serveOnLab, zookeeperTarball } from "../../scripts/labMirror";
import { lab, onHost, record, removeStack } from "./helpers";

jest.setTimeout(15 * 60 * 1000);

const VERSION = "3.8.0";
const BUILDER = "lab-w1";
const TARGET = "lab-w2";
const TARGET_ADDRESS = "172.30.213.22";
// A cluster node in the firewall's eyes, and a host that is not.
const MEMBER = "lab-w1";
const MEMBER_ADDRESS = "172.30.213.21";
const OUTSIDER = "lab-m1";

/** "PORT open" or "PORT dropped" for each port of TARGET, tried from a lab host (2 s each). */
function reach(from: string, ports: number[]): string[] {
    const out = onHost(
        from,
        ports
            .map(
                (p) =>
                    `if nc -z -w 2 ${TARGET_ADDRESS} ${p} 2>/dev/null; then echo "${p} open"; else echo "${p} closed"; fi`,
            )
            .join("; "),
    );
    return out.split("\n");
}

let tarball: Buffer;
let server: http.Server;
let url = "";
let downloads = 0;
let stack: Stack;

/** A stack whose program is one ZooKeeperEnsemble on TARGET, installed from the tarball. */
async function tarballStack(sha512: string): Promise<Stack> {
    const env = labStackEnv(loadEnv());
    const info = labInfo();
    const target = info.hosts.find((h) => h.name === TARGET)!;
    const program = async () => {
        const zk = new ZooKeeperEnsemble("zkt", {
            servers: [{ id: 1, host: TARGET_ADDRESS }],
            ssh: {
                privateKey: pulumi.secret(fs.readFileSync(info.privateKeyPath, "utf8")),
                hostKey: target.hostKey,
            },
            install: { method: "tarball", version: VERSION, url, sha512 },
            heapMb: 128,
            firewall: {
                members: [MEMBER_ADDRESS],
                // Not this machine: the ensemble's readiness and its probe ask over SSH.
                clientNetworks: [],
                confirmSeconds: 10,
            },
        });
        return { connectString: zk.connectString, servers: zk.servers };
    };
    const workDir = path.join(env.SWARM_HA_CACHE, "workspaces", "zk-tarball");
    fs.mkdirSync(workDir, { recursive: true });
    linkModules(workDir);
    return LocalWorkspace.createOrSelectStack(
        { stackName: "zk-tarball", projectName: "swarm-ha-tarball", program },
        {
            workDir,
            envVars: env,
            projectSettings: {
                name: "swarm-ha-tarball",
                runtime: "nodejs",
                backend: { url: env.PULUMI_BACKEND_URL },
            },
        },
    );
}

beforeAll(async () => {
    lab("up", "--managers", "3", "--workers", "2", "--packaged");
    tarball = zookeeperTarball(BUILDER, VERSION);
    const served = await serveOnLab({
        [`/apache-zookeeper-${VERSION}-bin.tar.gz`]: (_req, _body, res) => {
            downloads++;
            res.writeHead(200, { "Content-Type": "application/gzip" });
            res.end(tarball);
        },
    });
    server = served.server;
    url = `${served.base}/apache-zookeeper-${VERSION}-bin.tar.gz`;
    // A host that has never had ZooKeeper on it.
    onHost(
        TARGET,
        "systemctl disable --now zookeeper-ensemble >/dev/null 2>&1 || true; rm -rf /opt/zookeeper /etc/zookeeper-ensemble /etc/systemd/system/zookeeper-ensemble.service /var/lib/zookeeper; systemctl daemon-reload",
    );
});

afterAll(async () => {
    await stack?.destroy({ onOutput: record, color: "never" });
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

test("a tarball whose sha512 differs is refused, and nothing is unpacked", async () => {
    stack = await tarballStack("0".repeat(128));
    await removeStack(stack);
    stack = await tarballStack("0".repeat(128));
    await expect(stack.up({ onOutput: record, color: "never" })).rejects.toThrow(
        /the tarball from http:\/\/172\.30\.213\.1:\d+\/apache-zookeeper-3\.8\.0-bin\.tar\.gz does not match the sha512 given in install\.sha512/,
    );
    expect(downloads).toBe(1);
    expect(onHost(TARGET, "test -e /opt/zookeeper && echo present || echo absent")).toBe("absent");
});

test("with its sha512, the tarball is installed and the server serves from it", async () => {
    const sha512 = createHash("sha512").update(tarball).digest("hex");
    console.log(
        `tarball: ${(tarball.length / 1024 / 1024).toFixed(1)} MiB of the OS package's jars in Apache's layout`,
    );
    stack = await tarballStack(sha512);
    const result = await stack.up({ onOutput: record, color: "never" });
    expect(result.outputs.connectString.value).toBe(`${TARGET_ADDRESS}:2181`);
    expect(result.outputs.servers.value).toEqual([
        { id: 1, address: TARGET_ADDRESS, mode: "standalone" },
    ]);
    expect(downloads).toBe(2);
    expect(onHost(TARGET, `ls /opt/zookeeper/${VERSION}/lib/zookeeper.jar`)).toBe(
        `/opt/zookeeper/${VERSION}/lib/zookeeper.jar`,
    );
    expect(
        onHost(TARGET, "grep -o -- '-cp [^ ]*' /etc/systemd/system/zookeeper-ensemble.service"),
    ).toBe(`-cp /opt/zookeeper/${VERSION}/conf:/opt/zookeeper/${VERSION}/lib/*`);
    // It serves the member; the machine running Pulumi has no way in, and needs none: the next
    // up's probe asks over SSH, and finds it serving.
    expect(
        onHost(MEMBER, `echo srvr | nc -q 1 ${TARGET_ADDRESS} 2181 | sed -n 's/^Mode: //p'`),
    ).toBe("standalone");
    expect(await srvrMode(TARGET_ADDRESS)).toBe("down");
    const again = await stack.up({ onOutput: record, color: "never" });
    expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
    expect(downloads).toBe(2);
});

test("its host's firewall: a member reaches the client port, an outsider none of the ports; destroy removes it", async () => {
    expect(
        onHost(
            TARGET,
            "nft list tables | grep -c swarm_ha; systemctl is-enabled swarm-ha-firewall",
        ),
    ).toBe("1\nenabled");
    // Nothing listens on the peer and election ports of a lone server: refused when let through.
    const refusedOrDropped = (from: string) =>
        onHost(
            from,
            [2888, 3888]
                .map(
                    (p) =>
                        `nc -vz -w 2 ${TARGET_ADDRESS} ${p} 2>&1 | grep -q refused && echo "${p} refused" || echo "${p} dropped"`,
                )
                .join("; "),
        ).split("\n");
    expect(reach(MEMBER, [2181])).toEqual(["2181 open"]);
    expect(reach(OUTSIDER, [2181])).toEqual(["2181 closed"]);
    // A member gets through to the peer ports as to the client port (nothing listens there).
    expect(refusedOrDropped(MEMBER)).toEqual(["2888 refused", "3888 refused"]);
    expect(refusedOrDropped(OUTSIDER)).toEqual(["2888 dropped", "3888 dropped"]);
    await stack.destroy({ onOutput: record, color: "never" });
    expect(onHost(TARGET, "nft list tables | grep -c swarm_ha || true")).toBe("0");
    expect(refusedOrDropped(OUTSIDER)).toEqual(["2888 refused", "3888 refused"]);
});

// End to end: ZooKeeper as the service registry on a lab cluster, through the real engine and the
// official plugins. The registrar runs on the managers from the project's image; after each change
// (create, scale 3 to 5 to 2, an image update, a node drained, a task killed with `docker kill`, the
// leading registrar task killed, a ZooKeeper server stopped) the znodes /services/web/<task id> are
// exactly the running tasks of `docker service ps`, and Apache Curator's own ServiceDiscovery reads
// them. ZooKeeper's auth is on: anyone reads the registry, only the registrar writes it. Its TLS is
// on: the registrar, discovery, Curator and the test's own client all speak TLS to the secure port,
// checking the servers' certificates against the ensemble's CA.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { REPO, openStack } from "../../scripts/automation";
import { ServiceConfig } from "../../serviceConfig";
import { NodeConfig } from "../../config";
import {
    ZkClient,
    discoverInstances,
    REGISTRAR_ELECTION,
    superDigest,
} from "../../components/internal";
import { srvrMode } from "../../components/zookeeper/zookeeperProbe";
import {
    DEV,
    WITHOUT_MONITORING,
    freshLab,
    freshStack,
    lab,
    onHost,
    record,
    transcript,
} from "./helpers";

jest.setTimeout(20 * 60 * 1000);

const MANAGERS = ["172.30.213.11", "172.30.213.12", "172.30.213.13"];
const CONNECT = MANAGERS.map((a) => `${a}:2281`).join(",");
const NEXT_IMAGE = "swarm-ha-web:reg-next";
const ADDRESS_OF = Object.fromEntries(DEV.map((n) => [n.name, n.host]));

const web = (extra: Partial<ServiceConfig> = {}): ServiceConfig => ({
    image: "swarm-ha-web:3",
    replicas: 3,
    ports: [{ target: 80, published: 80, mode: "host" }],
    endpointMode: "dnsrr",
    register: true,
    // Quick rolls, stop-first: host port 80 is free on a node only once its old task stopped.
    update: { parallelism: 1, delay: "1s", monitor: "2s", order: "stop-first" },
    ...extra,
});

let stack: Stack;
let zk: ZkClient;
let classpath = "";
let superPassword = "";
/** The ensemble's CA certificate (the stack's output zookeeper.tlsCa), and a file holding it. */
let tlsCa = "";
let tlsCaFile = "";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function up(services: Record<string, ServiceConfig>, nodes = DEV): Promise<void> {
    await stack.setAllConfig({
        "swarm-ha:services": { value: JSON.stringify(services) },
        "swarm-ha:nodes": { value: JSON.stringify(nodes) },
    });
    await stack.up({ onOutput: record, color: "never" });
}

/** `docker service ps` on a manager: the running tasks of web, full ID -> node. */
function running(manager = "lab-m1"): Map<string, string> {
    const out = onHost(
        manager,
        "docker service ps web --filter desired-state=running --no-trunc --format '{{.ID}} {{.Node}} {{.CurrentState}}'",
    );
    return new Map(
        out
            .split("\n")
            .filter((l) => / Running /.test(l))
            .map((l) => l.split(" ").slice(0, 2) as [string, string]),
    );
}

/**
 * Waits (bounded) until web runs `replicas` tasks and the znodes under /services/web are exactly
 * those, then checks each instance: Curator's fields, the node's address and port 80, the node and
 * image in the payload. Returns the task IDs.
 */
async function registryAgrees(
    what: string,
    image: string,
    replicas: number,
    seconds = 30,
    manager = "lab-m1",
): Promise<string[]> {
    const started = Date.now();
    let tasks = new Map<string, string>();
    let znodes: string[] = [];
    while (Date.now() - started < seconds * 1000) {
        tasks = running(manager);
        znodes = await zk.children("/services/web");
        if (znodes.join(" ") === [...tasks.keys()].sort().join(" ") && tasks.size === replicas) {
            const instances = await discoverInstances(CONNECT, "web", { tlsCa });
            expect(instances.map((i) => i.id)).toEqual(znodes);
            for (const i of instances) {
                const node = tasks.get(i.id)!;
                expect(i).toMatchObject({
                    name: "web",
                    address: ADDRESS_OF[node],
                    port: 80,
                    serviceType: "DYNAMIC",
                    payload: { "@class": "java.util.LinkedHashMap", node, image },
                });
            }
            console.log(
                `${what}: the registry agreed with docker service ps ${Date.now() - started} ms after the change returned (${tasks.size} tasks)`,
            );
            return znodes;
        }
        await sleep(200);
    }
    throw new Error(
        `${what}: within ${seconds} s the registry did not agree; running: ${[...tasks.keys()].join(", ")}; znodes: ${znodes.join(", ")}`,
    );
}

/**
 * What Apache Curator's ServiceDiscovery finds: "ID ADDRESS PORT TYPE NODE IMAGE" per instance.
 * Over TLS, as ZooKeeper's Java client does it: Netty, checking the servers against the CA.
 */
function curator(service: string): string[] {
    const tls = [
        "-Dzookeeper.client.secure=true",
        "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
        `-Dzookeeper.ssl.trustStore.location=${tlsCaFile}`,
        "-Dzookeeper.ssl.trustStore.type=PEM",
    ];
    return execFileSync(
        "java",
        [...tls, "-cp", classpath, "Discover", CONNECT, "/services", service],
        {
            encoding: "utf8",
            timeout: 60000,
        },
    )
        .trim()
        .split("\n")
        .sort();
}

/**
 * ZooKeeper's own CLI on a member host (a manager, where the ensemble's install put it), with no
 * credentials at all, over TLS to lab-m2's server, checking it against the CA on the host; the
 * commands on its stdin. Prints what it answered, without prompts.
 */
function anonymousCli(host: string, commands: string[]): string {
    const cp = [
        "/etc/zookeeper/conf",
        "/usr/share/java/zookeeper.jar",
        "/usr/share/java/netty-codec.jar",
        "/usr/share/java/netty-resolver.jar",
    ].join(":");
    return onHost(
        host,
        [
            `printf '%s\\n' ${commands.map((c) => `'${c}'`).join(" ")} quit |`,
            "timeout 60 java -Dzookeeper.client.secure=true",
            "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
            "-Dzookeeper.ssl.trustStore.location=/etc/zookeeper-ensemble/tls/ca.crt",
            "-Dzookeeper.ssl.trustStore.type=PEM",
            `-cp ${cp} org.apache.zookeeper.ZooKeeperMain -server 172.30.213.12:2281 2>&1`,
            "| sed 's/\\[zk: [^]]*\\] *//g' | grep -v -e '^$' -e INFO -e WARN || true",
        ].join(" "),
    );
}

/** Kills the container of a running web task on its node with `docker kill`; returns the task ID. */
function killWebTask(): string {
    const [id, node] = [...running()][0];
    onHost(node, `docker kill $(docker ps -q --filter label=com.docker.swarm.task.id=${id})`);
    return id;
}

beforeAll(async () => {
    freshLab(3, 2);
    execFileSync("docker", ["tag", "swarm-ha-web:3", NEXT_IMAGE]);
    lab("load-image", NEXT_IMAGE);
    // Curator's discovery from Debian's packages (scripts/bootstrap.sh installs them).
    const classes = fs.mkdtempSync(path.join(os.tmpdir(), "curator-"));
    const jars = [
        "curator-client",
        "curator-framework",
        "curator-x-discovery",
        "zookeeper",
        "zookeeper-jute",
        // ZooKeeper's TLS client needs Netty's codec and resolver, which Debian's jar does not name.
        "netty-codec",
        "netty-resolver",
        "guava",
        "jackson-core",
        "jackson-databind",
        "jackson-annotations",
        "slf4j-api",
        "slf4j-nop",
    ].map((j) => `/usr/share/java/${j}.jar`);
    execFileSync("javac", [
        "-d",
        classes,
        "-cp",
        jars.join(":"),
        path.join(REPO, "test", "e2e", "curator", "Discover.java"),
    ]);
    classpath = [...jars, classes].join(":");

    stack = await openStack({ stack: "reg-e2e", settingsFrom: "dev", config: WITHOUT_MONITORING });
    await freshStack(stack);
    stack = await openStack({ stack: "reg-e2e", settingsFrom: "dev", config: WITHOUT_MONITORING });
    await stack.setAllConfig({
        "swarm-ha:zkAuth": { value: "true" },
        "swarm-ha:zkTls": { value: JSON.stringify({ enabled: true }) },
    });
    await up({ web: web() });
    const zookeeper = (await stack.outputs()).zookeeper.value as {
        superPassword: string;
        tlsCa: string;
    };
    superPassword = zookeeper.superPassword;
    tlsCa = zookeeper.tlsCa;
    tlsCaFile = path.join(classes, "zookeeper-ca.crt");
    fs.writeFileSync(tlsCaFile, tlsCa);
    zk = await ZkClient.connect(CONNECT, { tlsCa });
});

test("up: web's 3 running tasks are registered, and Curator's ServiceDiscovery reads them", async () => {
    const ids = await registryAgrees("create", "swarm-ha-web:3", 3);
    expect(ids).toHaveLength(3);
    const tasks = running();
    expect(curator("web")).toEqual(
        ids
            .map(
                (id) =>
                    `${id} ${ADDRESS_OF[tasks.get(id)!]} 80 DYNAMIC ${tasks.get(id)} swarm-ha-web:3`,
            )
            .sort(),
    );
    const outputs = await stack.outputs();
    expect(outputs.registry.value).toMatchObject({
        root: "/services",
        connectString: CONNECT,
        tlsCa,
    });
    // The registrar has no other way in: the plain client port is gone.
    expect(onHost("lab-w1", "nc -vz -w 2 172.30.213.11 2181 2>&1 || true")).toMatch(/refused/);
    // Two registrar tasks on two managers; one holds the election.
    const registrar = onHost(
        "lab-m1",
        "docker service ps registry-registrar --filter desired-state=running --format '{{.Node}}'",
    ).split("\n");
    expect(registrar).toHaveLength(2);
    expect(registrar.every((n) => n.startsWith("lab-m"))).toBe(true);
    expect(await zk.get(REGISTRAR_ELECTION)).toMatch(/^registry-registrar\.\d\.\w+$/);
});

test("with auth on, anyone reads the registry but only the registrar writes it", async () => {
    await expect(zk.create("/services/web/intruder", "{}")).rejects.toThrow(/NO_AUTH/);
    await expect(
        zk.remove(`/services/web/${(await zk.children("/services/web"))[0]}`),
    ).rejects.toThrow(/NO_AUTH/);
    expect(superPassword).not.toBe("");
    const state = fs.readFileSync(
        path.join(
            process.env.SWARM_HA_STATE!,
            ".pulumi",
            "stacks",
            "swarm-ha",
            `${stack.name}.json`,
        ),
        "utf8",
    );
    expect(state).not.toContain(superPassword);
    expect(transcript.join("")).not.toContain(superPassword);
    // Nor its digest, which a dictionary reverses as well as the password.
    const digest = superDigest(superPassword).slice("super:".length);
    expect(state).not.toContain(digest);
    expect(transcript.join("")).not.toContain(digest);
});

test("an anonymous zkCli on a member host reads the registry and the election but changes nothing of them", async () => {
    const instance = (await zk.children("/services/web"))[0];
    const answer = anonymousCli("lab-m1", [
        "ls /services/web",
        `get ${REGISTRAR_ELECTION}`,
        "getAcl /services",
        "create /services/intruder x",
        "create /services/web/intruder x",
        `delete /services/web/${instance}`,
        `set /services/web/${instance} x`,
        `set ${REGISTRAR_ELECTION} intruder`,
        `delete ${REGISTRAR_ELECTION}`,
        "create /swarm-ha/registrar/other x",
        "setAcl /services world:anyone:cdrwa",
        "delete /swarm-ha/registrar",
        // The root: nobody deletes an owned path (even empty) or opens the root's ACL again.
        "delete /services",
        "setAcl / world:anyone:cdrwa",
    ]);
    console.log(`anonymous zkCli on lab-m1:\n${answer}`);
    // Reads work: the instances, the leader's name, and the ACL (the registrar's digest masked).
    expect(answer).toContain(instance);
    expect(answer).toMatch(/registry-registrar\.\d\.\w+/);
    expect(answer).toMatch(/'digest,'registrar:x\s*: cdrwa/);
    expect(answer).toMatch(/'world,'anyone\s*: r/);
    // Every write is refused (NoAuth), one answer per write.
    for (const path of [
        "/services/intruder",
        "/services/web/intruder",
        `/services/web/${instance}`,
        REGISTRAR_ELECTION,
        "/swarm-ha/registrar/other",
        "/services",
        "/swarm-ha/registrar",
        "/",
    ]) {
        expect(answer).toContain(`Insufficient permission : ${path}`);
    }
    expect(answer.match(/Insufficient permission/g)).toHaveLength(11);
    expect(answer).not.toMatch(/^Created /m);
    // Nothing changed.
    expect(await zk.exists("/services/intruder")).toBe(false);
    expect(await zk.exists(`/services/web/${instance}`)).toBe(true);
    expect(await zk.get(REGISTRAR_ELECTION)).toMatch(/^registry-registrar\.\d\.\w+$/);
});

test("no server shows the super digest to other users: not on its command line, zoo.cfg the zookeeper user's alone", () => {
    const digest = superDigest(superPassword).slice("super:".length);
    for (const host of ["lab-m1", "lab-m2", "lab-m3"]) {
        const args = onHost(host, "ps -eo args");
        expect(args).toContain("QuorumPeerMain");
        expect(args).not.toContain("superDigest");
        expect(args).not.toContain(digest);
        expect(onHost(host, "stat -c '%a %U' /etc/zookeeper-ensemble/zoo.cfg")).toBe(
            "600 zookeeper",
        );
        expect(
            onHost(
                host,
                "grep -c '^DigestAuthenticationProvider.superDigest=super:' /etc/zookeeper-ensemble/zoo.cfg",
            ),
        ).toBe("1");
        expect(onHost(host, "cat /etc/zookeeper-ensemble/jvm.env")).not.toContain(digest);
        expect(
            onHost(
                host,
                "journalctl -u zookeeper-ensemble --no-pager | grep -c -F -e superDigest -e " +
                    `'${digest}'` +
                    " || true",
            ),
        ).toBe("0");
    }
    // The registrar holds its own user's password, never super's.
    const secrets = onHost(
        "lab-m1",
        "docker service inspect registry-registrar --format '{{json .Spec.TaskTemplate.ContainerSpec}}'",
    );
    expect(secrets).toContain('"ZK_USER=registrar"');
    expect(secrets).toContain("zk-registrar-password");
    expect(secrets).not.toContain("zk-super-password");
});

test("scale 3 to 5 to 2: the registry follows each step", async () => {
    await up({ web: web({ replicas: 5 }) });
    const five = await registryAgrees("scale to 5", "swarm-ha-web:3", 5);
    expect(five).toHaveLength(5);
    expect(curator("web")).toHaveLength(5);
    await up({ web: web({ replicas: 2 }) });
    expect(await registryAgrees("scale to 2", "swarm-ha-web:3", 2)).toHaveLength(2);
});

test("an image update: the new tasks replace the old ones in the registry", async () => {
    const before = await zk.children("/services/web");
    await up({ web: web({ replicas: 2, image: NEXT_IMAGE }) });
    const after = await registryAgrees("image update", NEXT_IMAGE, 2);
    expect(after.filter((id) => before.includes(id))).toEqual([]);
});

test("a node drained: its task leaves the registry, its replacement joins", async () => {
    const [, node] = [...running()][0];
    const drained: NodeConfig[] = DEV.map((n) =>
        n.name === node ? { ...n, availability: "drain" } : n,
    );
    await up({ web: web({ replicas: 2, image: NEXT_IMAGE }) }, drained);
    await registryAgrees(`${node} drained`, NEXT_IMAGE, 2);
    expect([...running().values()]).not.toContain(node);
    await up({ web: web({ replicas: 2, image: NEXT_IMAGE }) });
});

test("a task killed with docker kill: it leaves the registry, the swarm's replacement joins", async () => {
    const killed = killWebTask();
    const ids = await registryAgrees("task killed", NEXT_IMAGE, 2);
    expect(ids).not.toContain(killed);
    expect(ids).toHaveLength(2);
});

test("the leading registrar task killed: the standby leads and the registry follows changes", async () => {
    const leader = await zk.get(REGISTRAR_ELECTION);
    const taskId = leader.split(".").pop()!;
    const node = onHost(
        "lab-m1",
        `docker inspect -f '{{.NodeID}}' ${taskId} | xargs docker node inspect -f '{{.Description.Hostname}}'`,
    );
    onHost(node, `docker kill $(docker ps -q --filter label=com.docker.swarm.task.id=${taskId})`);
    // A change while the old leader's session has not yet expired.
    const killed = killWebTask();
    const ids = await registryAgrees("registrar leader killed, then a task", NEXT_IMAGE, 2, 40);
    expect(ids).not.toContain(killed);
    const next = await zk.get(REGISTRAR_ELECTION);
    expect(next).not.toBe(leader);
    console.log(`registrar: ${leader} killed on ${node}; ${next} leads`);
});

test("a ZooKeeper server stopped: the registrar carries on through the others", async () => {
    const modes = await Promise.all(MANAGERS.map((a) => srvrMode(a, 2281, 2000, tlsCa)));
    const host = `lab-m${modes.indexOf("leader") + 1}`;
    onHost(host, "systemctl stop zookeeper-ensemble");
    try {
        const killed = killWebTask();
        const ids = await registryAgrees(
            `ZooKeeper leader on ${host} stopped, then a task killed`,
            NEXT_IMAGE,
            2,
            60,
            host === "lab-m1" ? "lab-m2" : "lab-m1",
        );
        expect(ids).not.toContain(killed);
    } finally {
        onHost(host, "systemctl start zookeeper-ensemble");
    }
});

afterAll(async () => {
    zk?.close();
    await stack?.destroy({ onOutput: record, color: "never" });
});

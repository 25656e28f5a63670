// `npm run rehearse [-- --keep]`: the production rehearsal. Pulumi.prod.yaml as committed, on the
// lab: 5 managers (lab-m1..5), 3 workers (lab-w1..3) and a 5-server ZooKeeper on hosts of its own
// (lab-w4..8), converged by the plain CLI from the repository (`pulumi up --config-file`), then a
// manager stopped while a webhook receiver on this machine waits for the alerts, then started (its
// engine locked, autolock), previewed and healed by another `up`. The stack file is the committed
// one with only what the lab cannot have replaced, each replacement printed with its reason;
// nothing of the repository is edited. Without --keep, the stack is destroyed at the end (the
// lab's hosts stay; `npm run lab -- down`).
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { REPO, labInfo, labStackEnv, loadEnv } from "./automation";
import { GATEWAY, dockerCeStandin, serveOnLab, zookeeperTarball } from "./labMirror";
import { createHash } from "crypto";

const STACK = "rehearsal";
const started = Date.now();
const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const step = (what: string): void => console.log(`\n==> ${what} (${seconds(started)})`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Config = Record<string, unknown>;
interface Node {
    name: string;
    host: string;
    role: string;
    labels?: Record<string, string>;
    hostKey?: string;
}

function lab(...args: string[]): string {
    const r = spawnSync("bash", [path.join(REPO, "lab", "lab.sh"), ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        timeout: 20 * 60 * 1000,
    });
    if (r.status !== 0) throw new Error(`lab ${args.join(" ")} failed (${r.status})`);
    return r.stdout.trim();
}
const onHost = (host: string, command: string): string => lab("ssh", host, command);

/** The plain CLI from the repository on the rehearsal's stack file; its output streamed, returned. */
function pulumi(file: string | undefined, args: string[], stdin?: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(
            "pulumi",
            [
                ...args,
                "--stack",
                STACK,
                ...(file ? ["--config-file", file] : []),
                "--color",
                "never",
            ],
            { cwd: REPO, env: labStackEnv(process.env), stdio: ["pipe", "pipe", "pipe"] },
        );
        let out = "";
        const show = (d: Buffer) => {
            out += d.toString();
            if (stdin === undefined) process.stdout.write(d);
        };
        child.stdout.on("data", show);
        child.stderr.on("data", show);
        child.stdin.end(stdin ?? "");
        child.on("close", (code) =>
            code === 0
                ? resolve(out)
                : reject(new Error(`pulumi ${args[0]} exited with ${code}:\n${out.slice(-3000)}`)),
        );
    });
}

/** A change to the committed settings, and why the lab needs it. */
interface Difference {
    key: string;
    why: string;
}

/** Waits (bounded) until `check` returns true; returns the seconds it took. */
async function waitFor(what: string, limit: number, check: () => boolean): Promise<string> {
    const since = Date.now();
    while (!check()) {
        if (Date.now() - since > limit * 1000) throw new Error(`${what}: not within ${limit} s`);
        await sleep(1000);
    }
    return seconds(since);
}

async function main(): Promise<void> {
    const keep = process.argv.includes("--keep");
    const env = loadEnv();
    const prod = (
        yaml.load(fs.readFileSync(path.join(REPO, "Pulumi.prod.yaml"), "utf8")) as {
            config: Config;
        }
    ).config;

    step("the lab: 5 managers and 8 workers (Docker, ZooKeeper and Java unpacked, not configured)");
    lab("down");
    lab("up", "--managers", "5", "--workers", "8", "--packaged");
    const hosts = labInfo().hosts;
    const host = (name: string) => hosts.find((h) => h.name === name)!;

    step(
        "what the datacenter serves its hosts: ZooKeeper's tarball, Docker's apt repository, a receiver",
    );
    // The only ZooKeeper this machine can get is the OS package's (3.8.0), in Apache's layout.
    const zkVersion = "3.8.0";
    const tarball = zookeeperTarball("lab-w4", zkVersion);
    const repoDir = path.join(env.SWARM_HA_CACHE, "rehearsal", "docker-ce");
    dockerCeStandin(repoDir, String(prod["swarm-ha:dockerVersion"]));
    const notified: { status: string; labels: Record<string, string> }[] = [];
    const tarballPath = `/zookeeper/apache-zookeeper-${zkVersion}-bin.tar.gz`;
    const mirror = await serveOnLab(
        {
            [tarballPath]: { body: tarball, type: "application/gzip" },
            "/alerts": (_req, body, res) => {
                try {
                    const message = JSON.parse(body) as { alerts: typeof notified };
                    for (const a of message.alerts) {
                        notified.push({ status: a.status, labels: a.labels });
                    }
                } catch {
                    // Not a notification.
                }
                res.writeHead(200).end();
            },
        },
        { prefix: "/docker/linux/", root: repoDir },
    );
    console.log(
        `    served from ${mirror.base}: ${tarball.length} bytes of tarball, the apt repository`,
    );

    step("the stack file: Pulumi.prod.yaml with what the lab cannot have replaced");
    const config: Config = JSON.parse(JSON.stringify(prod)) as Config;
    const differences: Difference[] = [];
    const change = (key: string, value: unknown, why: string) => {
        differences.push({ key, why });
        config[key] = value;
    };
    const managers = hosts.filter((h) => h.name.startsWith("lab-m"));
    const workers = hosts.filter((h) => h.name.startsWith("lab-w"));
    const nodes = (prod["swarm-ha:nodes"] as Node[]).map((n, i) => {
        const h = n.role === "manager" ? managers[i] : workers[i - managers.length];
        return { ...n, host: h.address, hostKey: h.hostKey };
    });
    change(
        "swarm-ha:nodes",
        nodes,
        "addresses and host keys: the lab's hosts (lab-m1..5 the managers, lab-w1..3 the workers), names, roles and labels as committed",
    );
    const zkHosts = workers.slice(3);
    const zkServers = (prod["swarm-ha:zkServers"] as { id: number; host: string }[]).map(
        (s, i) => ({
            ...s,
            host: zkHosts[i].address,
            hostKey: zkHosts[i].hostKey,
        }),
    );
    change(
        "swarm-ha:zkServers",
        zkServers,
        "addresses and host keys: hosts of their own, lab-w4..8",
    );
    const firewall = prod["swarm-ha:firewall"] as Config;
    change(
        "swarm-ha:firewall",
        { ...firewall, clientNetworks: [`${GATEWAY}/32`] },
        "address: the operators' network is this machine, where Pulumi runs",
    );
    change(
        "swarm-ha:dockerRepository",
        `${mirror.base}/docker/linux`,
        "URL: a mirror of Docker's apt repository on the lab; its packages are stand-ins that install Debian's docker.io (lab/docker-ce-standin.sh), as Docker's site cannot be reached here",
    );
    change("swarm-ha:zkUrl", `${mirror.base}${tarballPath}`, "URL: the tarball served on the lab");
    change(
        "swarm-ha:zkSha512",
        createHash("sha512").update(tarball).digest("hex"),
        "checksum: the served tarball's",
    );
    change(
        "swarm-ha:zkVersion",
        zkVersion,
        "version (not an address, key, URL or size): the only ZooKeeper this machine can get is Debian's jars, 3.8.0",
    );
    change("swarm-ha:zkHeapMb", 256, "size: 13 hosts share this machine's memory");
    const monitoring = prod["swarm-ha:monitoring"] as Config;
    change(
        "swarm-ha:monitoring",
        {
            ...monitoring,
            images: {
                prometheus: "swarm-ha-prometheus:2.42",
                alertmanager: "swarm-ha-alertmanager:0.25",
                nodeExporter: "swarm-ha-node-exporter:1.5",
                exporter: "swarm-ha-exporter:2",
            },
            grafana: { enabled: false },
            publishMode: "host",
            endpointMode: "dnsrr",
        },
        "image references: nothing can be pulled here, so the images scripts/images.sh builds from Debian's packages; Grafana off (not in Debian, no image of it can be built here); host-mode ports and DNS round robin (this kernel has no IPVS, so no routing mesh or VIPs)",
    );
    const services = prod["swarm-ha:services"] as Record<string, Config>;
    const web = services.web;
    change(
        "swarm-ha:services",
        {
            ...services,
            web: {
                ...web,
                image: "swarm-ha-web:3",
                ports: (web.ports as Config[]).map((p) => ({ ...p, mode: "host" })),
                endpointMode: "dnsrr",
            },
        },
        "image reference: the lab's web image (busybox, with wget for the healthcheck); host-mode port and DNS round robin (no IPVS)",
    );
    const dir = path.join(env.SWARM_HA_CACHE, "rehearsal");
    const file = path.join(dir, `Pulumi.${STACK}.yaml`);
    fs.writeFileSync(file, yaml.dump({ config }, { lineWidth: 120 }));
    for (const d of differences) {
        console.log(`    ${d.key}: ${d.why}`);
    }

    step("the stack and its secrets, set as the committed file's comments say");
    // The key in an agent too, for the Docker provider's ssh, as the workflows give it.
    const agent = /SSH_AUTH_SOCK=([^;]+);[\s\S]*SSH_AGENT_PID=(\d+);/.exec(
        spawnSync("ssh-agent", ["-s"], { encoding: "utf8" }).stdout,
    )!;
    process.env.SSH_AUTH_SOCK = agent[1];
    const agentPid = Number(agent[2]);
    process.on("exit", () => {
        try {
            process.kill(agentPid);
        } catch {
            // Gone already.
        }
    });
    spawnSync("ssh-add", ["-q", labInfo().privateKeyPath], { stdio: "inherit" });
    spawnSync(
        "pulumi",
        ["stack", "rm", "--force", "--yes", "--preserve-config", "--stack", STACK],
        {
            cwd: REPO,
            env: labStackEnv(process.env),
            stdio: "ignore",
        },
    );
    // `stack init` has no --config-file: the salt of the stack's secrets, which it writes beside
    // Pulumi.yaml, goes into the rehearsal's file instead.
    const init = spawnSync("pulumi", ["stack", "init", STACK, "--color", "never"], {
        cwd: REPO,
        env: labStackEnv(process.env),
        encoding: "utf8",
    });
    if (init.status !== 0) throw new Error(`pulumi stack init: ${init.stderr}`);
    const written = path.join(REPO, `Pulumi.${STACK}.yaml`);
    const salt = fs.existsSync(written)
        ? /^encryptionsalt: .*$/m.exec(fs.readFileSync(written, "utf8"))?.[0]
        : undefined;
    fs.rmSync(written, { force: true });
    fs.writeFileSync(file, `${salt ?? ""}\n${fs.readFileSync(file, "utf8")}`);
    await pulumi(
        file,
        ["config", "set", "--secret", "sshPrivateKey"],
        fs.readFileSync(labInfo().privateKeyPath, "utf8"),
    );
    const alertmanager = [
        "route:",
        "  receiver: team",
        "  group_by: [alertname, cluster]",
        "  group_wait: 10s",
        "  group_interval: 30s",
        "  repeat_interval: 4h",
        "receivers:",
        "  - name: team",
        "    webhook_configs:",
        `      - url: ${mirror.base}/alerts`,
        "        send_resolved: true",
        "",
    ].join("\n");
    await pulumi(
        file,
        ["config", "set", "--secret", "--path", "swarm-ha:monitoring.alertmanagerConfig"],
        alertmanager,
    );

    step("pulumi preview");
    let since = Date.now();
    await pulumi(file, ["preview"]);
    console.log(`    preview: ${seconds(since)}`);
    step("pulumi up: from bare hosts to the platform");
    since = Date.now();
    await pulumi(file, ["up", "--yes", "--skip-preview"]);
    const converged = seconds(since);
    console.log(`    up: ${converged}`);

    step("what converged");
    const m1 = "lab-m1";
    console.log(
        onHost(
            m1,
            "docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}' | sort",
        ),
    );
    console.log(
        `    autolock: ${onHost(m1, "docker info --format '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}'")}`,
    );
    for (const n of nodes) {
        const h = hosts.find((x) => x.address === n.host)!;
        console.log(
            `    ${n.name} (${h.name}): docker-ce ${onHost(h.name, "dpkg-query -W -f '${Version}' docker-ce")}, docker ${onHost(h.name, "docker version -f '{{.Server.Version}}'")}`,
        );
    }
    for (const z of zkHosts) {
        console.log(
            `    ${z.name}: ${onHost(z.name, "systemctl is-active zookeeper-ensemble; ls /opt/zookeeper")}`.replace(
                /\n/g,
                " ",
            ),
        );
    }
    console.log(
        onHost(m1, "docker service ls --format '{{.Name}} {{.Replicas}} {{.Image}}' | sort"),
    );
    const outputs = JSON.parse(
        await pulumi(undefined, ["stack", "output", "--json"], ""),
    ) as Config;
    console.log(`    zookeeper: ${JSON.stringify((outputs.zookeeper as Config).servers)}`);
    console.log(`    faultTolerance: ${JSON.stringify(outputs.faultTolerance)}`);

    step("a manager stopped: its alerts at the team's receiver");
    const busy = new Set(
        ["monitoring-prometheus", "monitoring-exporter", "monitoring-alertmanager"].map((s) =>
            onHost(
                m1,
                `docker service ps ${s} --filter desired-state=running --format '{{.Node}}'`,
            ),
        ),
    );
    const victim = managers
        .map((m) => m.name)
        .filter((m) => m !== m1 && !busy.has(m))
        .pop()!;
    const victimName = nodes.find((n) => n.host === host(victim).address)!.name;
    since = Date.now();
    lab("stop", victim);
    const fired = (status: string) => () =>
        notified.some(
            (n) =>
                n.status === status &&
                n.labels.alertname === "SwarmManagerUnreachable" &&
                // The swarm's name for the node is its host's name.
                [victimName, victim].includes(n.labels.node),
        );
    console.log(
        `    ${victimName} (${victim}) stopped; SwarmManagerUnreachable at the receiver after ${await waitFor("the alert at the receiver", 600, fired("firing"))}`,
    );
    console.log(
        `    firing at the receiver: ${[...new Set(notified.filter((n) => n.status === "firing").map((n) => `${n.labels.alertname}${n.labels.node ? ` ${n.labels.node}` : ""}`))].join(", ")}`,
    );
    lab("start", victim);
    since = Date.now();
    // Autolock: its engine comes back locked; the preview says so, and up unlocks it.
    const state = (): string => {
        try {
            return onHost(victim, "docker info --format '{{.Swarm.LocalNodeState}}'");
        } catch {
            return ""; // Still booting.
        }
    };
    console.log(
        `    started again; its engine locked after ${await waitFor("the engine, locked", 300, () => state() === "locked")}`,
    );
    const said = (await pulumi(file, ["preview"], ""))
        .split("\n")
        .filter((l) => l.includes(`${victimName} (`));
    console.log(`    the preview: ${[...new Set(said.map((l) => l.trim()))].join(" | ")}`);
    const healed = Date.now();
    await pulumi(file, ["up", "--yes", "--skip-preview"]);
    console.log(`    up: ${seconds(healed)}; the engine: ${state()}`);
    console.log(
        `    resolved at the receiver ${await waitFor("the resolution at the receiver", 600, fired("resolved"))} after the up, ${seconds(since)} after the start`,
    );

    step("pulumi preview after all that");
    const after = await pulumi(file, ["preview"]);
    console.log(
        `    ${/Resources:[\s\S]*?(\n\n|$)/.exec(after)?.[0].trim().replace(/\n\s*/g, "; ") ?? ""}`,
    );

    if (!keep) {
        step("pulumi destroy");
        await pulumi(file, ["destroy", "--yes"]);
    }
    mirror.server.close();
    step(`done: converged in ${converged}; the differences from Pulumi.prod.yaml are listed above`);
}

main().catch((e: Error) => {
    console.error(`rehearse: ${e.message}`);
    process.exit(1);
});

// Unit tests of SwarmCluster with Pulumi mocks: exact resources, order, secrets, stability under
// reordering and removal, and every validation message.
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import {
    MANAGER_TOKEN,
    Recorder,
    RecordedResource,
    SECRET_KEY,
    UNLOCK_KEY,
    WORKER_TOKEN,
    resolve,
    settle,
    stepStdout,
} from "../../test/unit/recorder";

const recorder = new Recorder(stepStdout);
recorder.install();

// Imported after the mocks are set, as the SDK requires.
import {
    SwarmCluster,
    SwarmClusterArgs,
    SwarmNodeArgs,
    validateSwarmClusterArgs,
    MANAGER_RELAY,
    SEEN_DOWN,
} from "../internal";
import { scriptBundle, scriptText, scriptsDir } from "../host/remoteScript";
import { ProbeHost } from "../host/probeHost";

const REMOTE = "command:remote:Command";
const PROBE = "pulumi-nodejs:dynamic/swarm-ha:SwarmProbe";

function node(
    name: string,
    role: "manager" | "worker",
    extra: Partial<SwarmNodeArgs> = {},
): SwarmNodeArgs {
    const index = Number(name.replace(/\D/g, "")) + (role === "manager" ? 10 : 20);
    return { name, host: `10.1.0.${index}`, role, ...extra };
}

function cluster(managers: number, workers: number): SwarmNodeArgs[] {
    const nodes: SwarmNodeArgs[] = [];
    for (let i = 1; i <= managers; i++) nodes.push(node(`m${i}`, "manager"));
    for (let i = 1; i <= workers; i++) nodes.push(node(`w${i}`, "worker"));
    return nodes;
}

function args(nodes: SwarmNodeArgs[], extra: Partial<SwarmClusterArgs> = {}): SwarmClusterArgs {
    return {
        nodes,
        // Keys are checked by the tests that say so; the rest connect unchecked, as allowed, and
        // no host is asked before the run (swarmPreflight.test.ts asks a stand-in).
        ssh: { privateKey: pulumi.secret(SECRET_KEY), acceptAnyHostKey: true },
        checkHosts: false,
        dockerProvider: true,
        ...extra,
    };
}

async function build(
    name: string,
    a: SwarmClusterArgs,
): Promise<{ c: SwarmCluster; rs: RecordedResource[] }> {
    const before = recorder.resources.length;
    const c = new SwarmCluster(name, a, { transformations: [recorder.transformation] });
    recorder.nameComponent(c, name);
    await resolve(c.nodeStatus);
    await resolve(c.managers);
    await settle();
    return {
        c,
        rs: recorder.resources
            .slice(before)
            .filter((r) => r.type !== "swarm-ha:index:SwarmCluster"),
    };
}

function summary(rs: RecordedResource[]): string[] {
    return rs.map((r) => `${r.type} ${r.name}`).sort();
}

describe("SwarmCluster resources", () => {
    test("one manager: install, init, tokens, join, node, ready, the probe and the provider", async () => {
        const { rs } = await build("one", args(cluster(1, 0)));
        expect(summary(rs)).toEqual([
            `${REMOTE} one-docker-m1`,
            `${REMOTE} one-forget-m1`,
            `${REMOTE} one-init`,
            `${REMOTE} one-join-m1`,
            `${REMOTE} one-node-m1`,
            `${REMOTE} one-ready`,
            `${REMOTE} one-scripts-m1`,
            `${REMOTE} one-tokens`,
            `${PROBE} one-probe`,
            "pulumi:providers:docker one-provider",
            "pulumi:providers:pulumi-nodejs one-probe",
        ]);
        for (const r of rs) {
            expect(r.parent).toBe("one");
        }
    });

    test("given a pulumi-nodejs provider, the probe runs on it and the cluster makes none", async () => {
        const c = new SwarmCluster("given", args(cluster(1, 0)), {
            providers: [new ProbeHost("shared")],
            transformations: [recorder.transformation],
        });
        await resolve(c.managers);
        await settle();
        expect(recorder.providerOf("given-probe")).toMatch(/::shared::/);
        expect(
            recorder.resources.filter(
                (r) => r.type === "pulumi:providers:pulumi-nodejs" && r.name === "given-probe",
            ),
        ).toEqual([]);
    });

    test("3 managers + 2 workers: every child, its parent and its dependencies", async () => {
        const { rs } = await build("ha", args(cluster(3, 2)));
        const perNode = (n: string) => [
            `${REMOTE} ha-docker-${n}`,
            `${REMOTE} ha-node-${n}`,
            `${REMOTE} ha-scripts-${n}`,
        ];
        const joined = (n: string) => [`${REMOTE} ha-forget-${n}`, `${REMOTE} ha-join-${n}`];
        expect(summary(rs)).toEqual(
            [
                ...["m1", "m2", "m3", "w1", "w2"].flatMap(perNode),
                ...["m1", "m2", "m3", "w1", "w2"].flatMap(joined),
                `${REMOTE} ha-init`,
                `${REMOTE} ha-ready`,
                `${REMOTE} ha-tokens`,
                `${PROBE} ha-probe`,
                "pulumi:providers:docker ha-provider",
                "pulumi:providers:pulumi-nodejs ha-probe",
            ].sort(),
        );
        const deps = (n: string) => recorder.byName(n).dependsOn.sort();
        // The scripts first, then installs; init needs the managers' Docker (it runs on one).
        expect(deps("ha-scripts-m1")).toEqual([]);
        expect(deps("ha-docker-m1")).toEqual(["ha-scripts-m1"]);
        expect(deps("ha-init")).toEqual(["ha-docker-m1", "ha-docker-m2", "ha-docker-m3"]);
        expect(deps("ha-tokens")).toEqual(["ha-init"]);
        // Managers join one at a time, in name order (the bootstrap one only reports its ID);
        // workers after the last manager, in parallel.
        expect(deps("ha-join-m1")).toEqual(["ha-docker-m1", "ha-forget-m1", "ha-tokens"]);
        expect(deps("ha-join-m2")).toEqual([
            "ha-docker-m2",
            "ha-forget-m2",
            "ha-join-m1",
            "ha-tokens",
        ]);
        expect(deps("ha-join-m3")).toEqual([
            "ha-docker-m3",
            "ha-forget-m3",
            "ha-join-m2",
            "ha-tokens",
        ]);
        expect(deps("ha-join-w1")).toEqual([
            "ha-docker-w1",
            "ha-forget-w1",
            "ha-join-m3",
            "ha-tokens",
        ]);
        expect(deps("ha-join-w2")).toEqual([
            "ha-docker-w2",
            "ha-forget-w2",
            "ha-join-m3",
            "ha-tokens",
        ]);
        expect(deps("ha-forget-w1")).toEqual(["ha-init"]);
        // Node settings after every manager's join (on delete: every drain before any manager
        // leaves, the one running them among them).
        const managerJoins = ["ha-join-m1", "ha-join-m2", "ha-join-m3"];
        expect(deps("ha-node-m1")).toEqual(managerJoins);
        expect(deps("ha-node-w2")).toEqual([...managerJoins, "ha-join-w2"]);
        expect(deps("ha-ready")).toEqual([
            "ha-node-m1",
            "ha-node-m2",
            "ha-node-m3",
            "ha-node-w1",
            "ha-node-w2",
        ]);
        expect(deps("ha-provider")).toEqual(["ha-ready"]);
    });

    test("5 managers + 3 workers: 8 installs, 8 joins, 5 serial manager joins", async () => {
        const { rs, c } = await build("big", args(cluster(5, 3)));
        expect(rs.filter((r) => r.name.startsWith("big-docker-")).length).toBe(8);
        expect(rs.filter((r) => r.name.startsWith("big-join-")).length).toBe(8);
        expect(rs.filter((r) => r.name.startsWith("big-node-")).length).toBe(8);
        expect(rs.filter((r) => r.name.startsWith("big-scripts-")).length).toBe(8);
        // installs, scripts, joins, forgets, node settings; init, tokens, ready; the provider; the
        // probe and its provider.
        expect(rs.length).toBe(8 + 8 + 8 + 8 + 8 + 3 + 1 + 2);
        const chain = ["m1", "m2", "m3", "m4", "m5"].map((m) =>
            recorder.byName(`big-join-${m}`).dependsOn.filter((d) => d.startsWith("big-join-")),
        );
        expect(chain).toEqual([
            [],
            ["big-join-m1"],
            ["big-join-m2"],
            ["big-join-m3"],
            ["big-join-m4"],
        ]);
        expect(c.faultTolerance).toBe(2);
    });

    test("the scripts are placed on each host; every step sources them from there", async () => {
        await build("plc", args(cluster(1, 1)));
        const dir = scriptsDir("plc");
        expect(dir).toMatch(/^\/var\/lib\/swarm-ha\/plc\/[0-9a-f]{12}$/);
        const place = recorder.byName("plc-scripts-w1").inputs;
        expect(place.connection).toMatchObject({ host: "10.1.0.21" });
        expect(place.stdin).toBe(scriptBundle());
        expect(place.triggers).toEqual([dir]);
        expect(place.create).toContain(`d='${dir}'`);
        expect(place.delete).toContain(`d='${dir}'`);
        expect(String(recorder.byName("plc-join-w1").inputs.create).split("\n").slice(-2)).toEqual([
            `. '${dir}/lib.sh'`,
            `. '${dir}/join.sh'`,
        ]);
        for (const r of recorder.resources.filter((x) => x.name.startsWith("plc-"))) {
            if (r.type === REMOTE) {
                expect(r.inputs.addPreviousOutputInEnv).toBe(false);
                expect(String(r.inputs.create).length).toBeLessThan(1000);
            }
        }
    });

    test("commands run on the right hosts with their parameters", async () => {
        await build("cmd", args(cluster(3, 1), { advertisePort: 2377 }));
        const join = recorder.byName("cmd-join-w1").inputs as {
            connection: { host: string; user: string; port: number };
            create: string;
            delete: string;
        };
        expect(join.connection.host).toBe("10.1.0.21");
        expect(join.connection.user).toBe("root");
        expect(join.connection.port).toBe(22);
        expect(join.create).toContain("NODE='w1'");
        expect(join.create).toContain("JOIN_ADDR='10.1.0.11'");
        expect(join.create).toContain("MANAGERS='10.1.0.11 10.1.0.12 10.1.0.13'");
        expect(join.delete).toContain("/leave.sh'");
        const nodeStep = recorder.byName("cmd-node-w1").inputs as {
            connection: { host: string };
            create: string;
            delete: string;
        };
        expect(nodeStep.connection.host).toBe("10.1.0.11");
        expect(nodeStep.create).toContain("NODE_ID='ID-w1'");
        expect(nodeStep.delete).toContain("/drain.sh'");
        const forget = recorder.byName("cmd-forget-w1").inputs as {
            create: string;
            delete: string;
        };
        expect(forget.create).toBe("true");
        expect(forget.delete).toContain("ADVERTISE_ADDR='10.1.0.21'");
        const init = recorder.byName("cmd-init").inputs as { create: string };
        expect(init.create).toContain("OTHER_MANAGERS='10.1.0.12 10.1.0.13'");
        expect(recorder.byName("cmd-docker-w1").inputs.delete).toBeUndefined();
    });

    test("the Docker provider: the first manager that answers, bootstrap first, their host keys required", async () => {
        const nodes = cluster(3, 1).map((n, i) =>
            n.role === "manager"
                ? {
                      ...n,
                      ssh: {
                          hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyM${i + 1} c`,
                          port: 2222,
                      },
                  }
                : n,
        );
        await build(
            "dp",
            args(nodes, { bootstrapManager: "m2", dockerSshOpts: ["-i", "/keys/lab"] }),
        );
        expect(recorder.byName("dp-provider").inputs).toEqual({
            host: "ssh://root@10.1.0.12:2222",
            sshOpts: JSON.stringify([
                "-i",
                "/keys/lab",
                "-o",
                "BatchMode=yes",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
                "-o",
                `ProxyCommand=node -e '${MANAGER_RELAY}' 2222 '10.1.0.12' '10.1.0.11' '10.1.0.13'`,
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                'KnownHostsCommand=/usr/bin/printf "%H %%s %%s\\n" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyM2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyM1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyM3',
            ]),
        });
        // One manager: no relay; a manager's key unknown: none checked, as the steps' connections.
        await build("dq", args(cluster(1, 0)));
        const one = JSON.parse(String(recorder.byName("dq-provider").inputs.sshOpts)) as string[];
        expect(one.some((o) => o.startsWith("ProxyCommand"))).toBe(false);
        expect(one).toContain("StrictHostKeyChecking=no");
    });

    test("labels and availability go to the manager-side node step", async () => {
        const nodes = cluster(1, 1);
        nodes[1] = node("w1", "worker", {
            labels: { zone: "b", "tier.web": "yes" },
            availability: "pause",
        });
        await build("lbl", args(nodes));
        const create = String(recorder.byName("lbl-node-w1").inputs.create);
        expect(create).toContain("AVAILABILITY='pause'");
        expect(create).toContain("LABELS='tier.web=yes\nzone=b'");
        expect(create).toContain("ROLE='worker'");
    });

    test("outputs: node IDs, leader, fault tolerance, tokens and the docker host", async () => {
        const { c } = await build("out", args(cluster(3, 1)));
        expect(await resolve(c.managers)).toEqual([
            {
                name: "m1",
                host: "10.1.0.11",
                address: "10.1.0.11",
                role: "manager",
                nodeId: "ID-m1",
            },
            {
                name: "m2",
                host: "10.1.0.12",
                address: "10.1.0.12",
                role: "manager",
                nodeId: "ID-m2",
            },
            {
                name: "m3",
                host: "10.1.0.13",
                address: "10.1.0.13",
                role: "manager",
                nodeId: "ID-m3",
            },
        ]);
        expect((await resolve(c.workers))?.map((w) => w.nodeId)).toEqual(["ID-w1"]);
        expect(await resolve(c.leaderAddress)).toBe("10.0.0.1");
        expect(await resolve(c.clusterId)).toBe("CLUSTER-1");
        expect(c.faultTolerance).toBe(1);
        expect(c.dockerHost).toBe("ssh://root@10.1.0.11:22");
        expect(await resolve(c.managerJoinToken)).toBe(MANAGER_TOKEN);
        expect(await resolve(c.workerJoinToken)).toBe(WORKER_TOKEN);
        expect(await resolve(c.unlockKey)).toBe(UNLOCK_KEY);
    });
});

describe("SwarmCluster join tokens", () => {
    test("a rotation number goes to the tokens step; 0 leaves its command as before", async () => {
        await build("rot0", args(cluster(1, 0), { joinTokenRotation: 0 }));
        await build("rot2", args(cluster(1, 0), { joinTokenRotation: 2 }));
        const tokens = (n: string) => recorder.byName(n).inputs.create as string;
        expect(tokens("rot0-tokens")).not.toContain("ROTATION");
        expect(tokens("rot2-tokens")).toContain("ROTATION='2'");
        expect(tokens("rot2-tokens").replace(/rot2/g, "rot0").replace("ROTATION='2'\n", "")).toBe(
            tokens("rot0-tokens"),
        );
    });
});

describe("SwarmCluster firewall", () => {
    const zooKeeper = {
        servers: ["10.1.0.11", "10.1.0.12", "10.1.0.13"],
        clientPort: 2181,
        peerPort: 2888,
        electionPort: 3888,
        clientNetworks: ["192.0.2.0/24"],
    };

    test("rules on every host, each confirmed over a new connection, before init and every join", async () => {
        const { rs } = await build(
            "fw",
            args(cluster(3, 1), { firewall: { leaving: ["10.1.0.22"], zooKeeper } }),
        );
        expect(summary(rs).filter((r) => r.includes("firewall"))).toEqual(
            ["m1", "m2", "m3", "w1"]
                .flatMap((n) => [`${REMOTE} fw-firewall-${n}`, `${REMOTE} fw-firewall-ok-${n}`])
                .sort(),
        );
        const deps = (n: string) => recorder.byName(n).dependsOn.sort();
        const confirmed = ["m1", "m2", "m3", "w1"].map((n) => `fw-firewall-ok-${n}`);
        expect(deps("fw-firewall-w1")).toEqual(["fw-scripts-w1"]);
        expect(deps("fw-firewall-ok-w1")).toEqual(["fw-firewall-w1"]);
        // Docker waits for every host's confirmation, none of which then queues behind an install.
        expect(deps("fw-docker-w1")).toEqual(["fw-scripts-w1", ...confirmed].sort());
        expect(deps("fw-init")).toEqual(
            ["fw-docker-m1", "fw-docker-m2", "fw-docker-m3", ...confirmed].sort(),
        );
        expect(deps("fw-join-w1")).toEqual(
            ["fw-docker-w1", "fw-forget-w1", "fw-join-m3", "fw-tokens", ...confirmed].sort(),
        );
        const rules = recorder.byName("fw-firewall-w1").inputs as {
            connection: { host: string };
            create: string;
            delete: string;
        };
        expect(rules.connection.host).toBe("10.1.0.21");
        const dir = scriptsDir("fw");
        expect(rules.create).toBe(
            [
                "set -eu",
                "CLIENTS='192.0.2.0/24'",
                "CONFIRM_SECONDS='120'",
                "DATA_PORT='4789'",
                "ENSEMBLE='10.1.0.11 10.1.0.12 10.1.0.13'",
                "HOST='10.1.0.21'",
                "MEMBERS='10.1.0.11 10.1.0.12 10.1.0.13 10.1.0.21 10.1.0.22'",
                "NODE='w1'",
                "SWARM_PORT='2377'",
                "ZK_CLIENT_PORT='2181'",
                "ZK_PEER_PORTS='2888, 3888'",
                `. '${dir}/lib.sh'`,
                `. '${dir}/firewall.sh'`,
            ].join("\n"),
        );
        expect(rules.delete).toContain(`. '${dir}/firewall-remove.sh'`);
        // The confirmation runs again whenever the rules' generation changes.
        expect(recorder.byName("fw-firewall-ok-w1").inputs.create).toContain(
            "GENERATION='0123456789ab'",
        );
    });

    test("without zooKeeper, only the swarm's ports; without a firewall, no firewall step", async () => {
        await build("fwz", args(cluster(1, 0), { firewall: { confirmSeconds: 60 } }));
        const create = recorder.byName("fwz-firewall-m1").inputs.create as string;
        expect(create).toContain("CONFIRM_SECONDS='60'");
        expect(create).toContain("MEMBERS='10.1.0.11'");
        expect(create).not.toContain("ZK_");
        const { rs } = await build("nofw", args(cluster(1, 0)));
        expect(rs.filter((r) => r.name.includes("firewall"))).toEqual([]);
    });
});

describe("SwarmCluster engine metrics", () => {
    test("each engine gets its metrics address, then one node at a time is checked, managers first", async () => {
        const { c, rs } = await build("mx", args(cluster(3, 2), { docker: { metricsPort: 9323 } }));
        const engines = rs.filter((r) => r.name.startsWith("mx-engine-")).map((r) => r.name);
        expect(engines).toEqual([
            "mx-engine-m1",
            "mx-engine-m2",
            "mx-engine-m3",
            "mx-engine-w1",
            "mx-engine-w2",
        ]);
        const deps = (n: string) => recorder.byName(n).dependsOn;
        expect(deps("mx-engine-m1")).toEqual(["mx-ready"]);
        expect(deps("mx-engine-m2")).toEqual(["mx-engine-m1"]);
        expect(deps("mx-engine-w1")).toEqual(["mx-engine-m3"]);
        expect(deps("mx-engine-w2")).toEqual(["mx-engine-w1"]);
        // Services go on the swarm only after the last engine is back.
        expect(deps("mx-provider")).toEqual(["mx-engine-w2"]);
        const engine = recorder.byName("mx-engine-w1").inputs as {
            connection: { host: string };
            create: string;
            delete?: string;
        };
        expect(engine.connection.host).toBe("10.1.0.21");
        expect(engine.create).toContain("/engine.sh'");
        expect(engine.create).toContain("METRICS_ADDR='10.1.0.21:9323'");
        expect(engine.create).toContain("ROLE='worker'");
        expect(engine.delete).toBeUndefined();
        // A fresh engine has it before it first starts.
        expect(recorder.byName("mx-docker-m2").inputs.create).toContain(
            "METRICS_ADDR='10.1.0.12:9323'",
        );
        expect(c.engineMetricsPort).toBe(9323);
    });

    test("with autolock, a manager's engine step gets the unlock key on stdin, as a secret", async () => {
        await build("lock", args(cluster(3, 1), { autolock: true, docker: { metricsPort: 9323 } }));
        const m2 = recorder.byName("lock-engine-m2");
        expect(m2.inputs.stdin).toBe(UNLOCK_KEY);
        expect(m2.secretPaths).toContain("stdin");
        expect(m2.additionalSecretOutputs).toContain("stdin");
        expect(m2.inputs.create).toContain("AUTOLOCK='true'");
        expect(m2.inputs.create).not.toContain(UNLOCK_KEY);
        expect(recorder.byName("lock-engine-w1").inputs.stdin).toBeUndefined();
    });

    test("without a metrics port, no engine step and the engines are left as they are", async () => {
        const { c, rs } = await build("nomx", args(cluster(1, 1)));
        expect(rs.filter((r) => r.name.includes("-engine-"))).toEqual([]);
        expect(recorder.byName("nomx-docker-w1").inputs.create).not.toContain("METRICS_ADDR");
        expect(recorder.byName("nomx-provider").dependsOn).toEqual(["nomx-ready"]);
        expect(c.engineMetricsPort).toBeUndefined();
    });
});

describe("SwarmCluster docker-ce install", () => {
    test("from Docker's repository by default, from a mirror when given; distro has none", async () => {
        await build("ce", args(cluster(1, 0), { docker: { install: "docker-ce" } }));
        const own = String(recorder.byName("ce-docker-m1").inputs.create);
        expect(own).toContain("INSTALL='docker-ce'");
        expect(own).toContain("DOCKER_REPOSITORY='https://download.docker.com/linux'");
        await build(
            "mirror",
            args(cluster(1, 0), {
                docker: {
                    install: "docker-ce",
                    version: "5:27.3.1-1~debian.12~bookworm",
                    repository: "http://apt.dc.example:8080/docker/linux",
                },
            }),
        );
        const mirror = String(recorder.byName("mirror-docker-m1").inputs.create);
        expect(mirror).toContain("DOCKER_REPOSITORY='http://apt.dc.example:8080/docker/linux'");
        expect(mirror).toContain("DOCKER_VERSION='5:27.3.1-1~debian.12~bookworm'");
        await build("distro", args(cluster(1, 0)));
        expect(String(recorder.byName("distro-docker-m1").inputs.create)).not.toContain(
            "DOCKER_REPOSITORY",
        );
    });

    test.each([
        [
            { install: "distro" as const, repository: "https://apt.dc.example/docker" },
            'SwarmCluster "prod": docker.repository is set with docker.install "distro"; only "docker-ce" installs from an apt repository of Docker\'s.',
        ],
        [
            { install: "docker-ce" as const, repository: "https://apt.dc.example/docker' id" },
            `SwarmCluster "prod": docker.repository is "https://apt.dc.example/docker' id"; use an http or https URL such as "https://downloads.example/zookeeper-3.9.3-bin.tar.gz" (no spaces or quotes).`,
        ],
        [
            { install: "docker-ce" as const, repository: "ftp://apt.dc.example/docker" },
            'SwarmCluster "prod": docker.repository is "ftp://apt.dc.example/docker"; use an http or https URL such as "https://downloads.example/zookeeper-3.9.3-bin.tar.gz" (no spaces or quotes).',
        ],
    ])("refused: %j", (docker, message) => {
        expect(() => validateSwarmClusterArgs("prod", args(cluster(1, 0), { docker }))).toThrow(
            message,
        );
    });
});

describe("join.sh on a manager found locked (run here, with a fake docker)", () => {
    // Runs join.sh with `stdin` on a node whose swarm is locked until `docker swarm unlock` is given
    // the key; returns its exit status, what it printed, and what the unlock read.
    function join(stdin: string): { status: number; out: string; unlockedWith: string } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "join-step-"));
        fs.writeFileSync(path.join(dir, "state"), "locked\n");
        fs.writeFileSync(
            path.join(dir, "docker"),
            [
                "#!/bin/sh",
                'case "$*" in',
                `  "swarm unlock") cat >${dir}/key; echo active >${dir}/state ;;`,
                `  "info --format {{.Swarm.LocalNodeState}}") cat ${dir}/state ;;`,
                '  "info --format {{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}") echo "10.1.0.11:2377 " ;;',
                '  "info --format {{.Swarm.NodeID}}") echo n2 ;;',
                '  *) echo "unexpected: docker $*" >&2; exit 1 ;;',
                "esac",
            ].join("\n"),
            { mode: 0o755 },
        );
        const r = spawnSync(
            "sh",
            [
                "-c",
                `set -eu\nNODE=m2 HOST=10.1.0.12 ADVERTISE_ADDR=10.1.0.12 SWARM_PORT=2377 JOIN_ADDR=10.1.0.11 MANAGERS='10.1.0.11 10.1.0.12'\n${scriptText("lib")}\n${scriptText("join")}`,
            ],
            {
                input: stdin,
                encoding: "utf8",
                env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
            },
        );
        const key = path.join(dir, "key");
        return {
            status: r.status ?? 1,
            out: `${r.stdout}${r.stderr}`,
            unlockedWith: fs.existsSync(key) ? fs.readFileSync(key, "utf8") : "",
        };
    }

    test("with the unlock key on the second line: unlocked, then found in this swarm", () => {
        // As the step's stdin is: no newline after the key.
        const r = join(`${MANAGER_TOKEN}\n${UNLOCK_KEY}`);
        expect(r.status).toBe(0);
        expect(r.unlockedWith).toBe(`${UNLOCK_KEY}\n`);
        expect(r.out).toContain("unlocked with the cluster's unlock key");
        expect(r.out).toContain("already in this swarm");
        expect(r.out).not.toContain(UNLOCK_KEY);
    });

    test("without it: refused, saying how to unlock by hand", () => {
        const r = join(MANAGER_TOKEN);
        expect(r.status).not.toBe(0);
        expect(r.unlockedWith).toBe("");
        expect(r.out).toContain("its swarm is locked (autolock); run 'docker swarm unlock' there");
    });
});

describe("docker.sh's restart of a lost engine run (run here, with fake systemctl and docker)", () => {
    // Runs docker.sh (distro install, Docker present and running, as InvocationID `running`) with
    // RESTART; returns the systemctl calls that change something.
    function dockerStep(restart: string, running: string): string[] {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-step-"));
        const log = path.join(dir, "calls");
        const fake = (name: string, body: string) =>
            fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        fake(
            "systemctl",
            `case "$1" in show) echo ${running} ;; is-active) exit 0 ;; *) echo "systemctl $*" >>${log} ;; esac`,
        );
        fake("docker", 'case "$1" in version) echo 20.10.24 ;; *) echo ok ;; esac');
        fake("dockerd", "exit 0");
        const printed = execFileSync(
            "sh",
            [
                "-c",
                `set -eu\nNODE=w2 HOST=10.1.0.22 INSTALL=distro RESTART='${restart}'\n${scriptText("lib")}\n${scriptText("docker")}`,
            ],
            { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: "utf8" },
        );
        expect(printed).toContain("docker=20.10.24");
        return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    }

    test("the run found lost is restarted; another run, or none named, is only enabled", () => {
        expect(dockerStep("0c4ab2e1", "0c4ab2e1")).toEqual([
            "systemctl enable --now docker",
            "systemctl restart docker",
        ]);
        expect(dockerStep("0c4ab2e1", "77d09f3a")).toEqual(["systemctl enable --now docker"]);
        expect(dockerStep("", "77d09f3a")).toEqual(["systemctl enable --now docker"]);
    });
});

describe("the engine's metrics address in daemon.json (lib.sh's daemon_metrics, run here)", () => {
    // Runs daemon_metrics on a daemon.json holding `before` (absent when undefined); returns what it
    // printed and the file after.
    function daemonMetrics(before: string | undefined): { printed: string; after: string } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "daemon-"));
        const file = path.join(dir, "docker", "daemon.json");
        if (before !== undefined) {
            fs.mkdirSync(path.dirname(file));
            fs.writeFileSync(file, before);
        }
        const printed = execFileSync(
            "sh",
            ["-c", `${scriptText("lib")}\ndaemon_metrics 10.1.0.11:9323`],
            { env: { ...process.env, DAEMON_JSON: file }, encoding: "utf8" },
        );
        return { printed: printed.trim(), after: fs.readFileSync(file, "utf8") };
    }
    const parsed = (text: string): unknown => JSON.parse(text);

    test("no file, or an empty object: the address alone", () => {
        for (const before of [undefined, "", "{ }\n"]) {
            const { printed, after } = daemonMetrics(before);
            expect(printed).toBe("changed");
            expect(parsed(after)).toEqual({ "metrics-addr": "10.1.0.11:9323" });
        }
    });

    test("other settings are kept; another address is replaced; the same one changes nothing", () => {
        const other = '{\n  "log-driver": "journald",\n  "labels": ["a"]\n}\n';
        let r = daemonMetrics(other);
        expect(r.printed).toBe("changed");
        expect(parsed(r.after)).toEqual({
            "metrics-addr": "10.1.0.11:9323",
            "log-driver": "journald",
            labels: ["a"],
        });
        r = daemonMetrics('{"metrics-addr": "0.0.0.0:9323", "debug": true}');
        expect(r.printed).toBe("changed");
        expect(parsed(r.after)).toEqual({ "metrics-addr": "10.1.0.11:9323", debug: true });
        const same = '{"debug": true, "metrics-addr": "10.1.0.11:9323"}';
        r = daemonMetrics(same);
        expect(r.printed).toBe("");
        expect(r.after).toBe(same);
    });
});

describe("SwarmCluster secrets", () => {
    test("tokens, unlock key and private key are secret and in no command text", async () => {
        const { c, rs } = await build("sec", args(cluster(3, 2), { autolock: true }));
        for (const out of [c.managerJoinToken, c.workerJoinToken, c.unlockKey]) {
            expect(await pulumi.isSecret(out)).toBe(true);
        }
        const secrets = [MANAGER_TOKEN, WORKER_TOKEN, UNLOCK_KEY, SECRET_KEY];
        for (const r of rs.filter((x) => x.type === REMOTE)) {
            for (const field of ["create", "update", "delete"]) {
                const text = String(r.inputs[field] ?? "");
                for (const s of secrets) {
                    expect(text.includes(s)).toBe(false);
                }
            }
            const conn = r.props.connection as { privateKey: pulumi.Output<string> };
            expect(await pulumi.isSecret(conn.privateKey)).toBe(true);
        }
        const joinW = recorder.byName("sec-join-w1");
        expect(await pulumi.isSecret(joinW.props.stdin as pulumi.Output<string>)).toBe(true);
        expect(joinW.inputs.stdin).toBe(WORKER_TOKEN);
        // With autolock, a manager's join also gets the unlock key, on the next line.
        const joinM = recorder.byName("sec-join-m2");
        expect(joinM.inputs.stdin).toBe(`${MANAGER_TOKEN}\n${UNLOCK_KEY}`);
        expect(await pulumi.isSecret(joinM.props.stdin as pulumi.Output<string>)).toBe(true);
        expect(joinW.secretPaths).toEqual(expect.arrayContaining(["stdin"]));
        expect(joinW.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdin"]));
        const tokens = recorder.byName("sec-tokens");
        expect(tokens.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout"]));
        expect(tokens.inputs.logging).toBe("none");
        expect(String(recorder.byName("sec-init").inputs.create)).toContain("--autolock=true");
    });
});

describe("SwarmCluster repairs and its step manager", () => {
    afterEach(() => {
        recorder.probeBefore = {};
    });

    test("a node found drifted has its steps run again, and only its steps", async () => {
        const nodes = cluster(3, 2);
        const zero = { m1: 0, m2: 0, m3: 0, w1: 0, w2: 0 };
        recorder.probeBefore = {
            nodes: nodes.map((n) => n.name),
            managers: ["m1", "m2", "m3"],
            engine: { ...zero, w1: 1 },
            spec: zero,
            stepManager: "m1",
        };
        await build(
            "rep",
            args(nodes, {
                observed: {
                    drift: {
                        engine: { w1: ["it is not in the swarm"] },
                        spec: { m2: ["its labels are {zone=x}, the stack says {}"] },
                    },
                    answering: ["m1", "m2", "m3"],
                    unreachable: [],
                },
            }),
        );
        const { __provider: provider, ...probe } = recorder.byName("rep-probe", PROBE).inputs;
        expect(String(provider)).toContain("function /*nextProbeState*/");
        expect(probe).toEqual({
            nodes: ["m1", "m2", "m3", "w1", "w2"],
            managers: ["m1", "m2", "m3"],
            engineDrift: ["w1"],
            specDrift: ["m2"],
            restart: {},
            answering: ["m1", "m2", "m3"],
            preferred: "m1",
        });
        const create = (n: string) => String(recorder.byName(n).inputs.create);
        // w1 was found out of the swarm twice now: its scripts, Docker and join run again.
        for (const step of ["scripts", "docker", "join"]) {
            expect(create(`rep-${step}-w1`)).toMatch(/^(set -eu\n)?REPAIR=2\n|\nREPAIR='2'\n/);
        }
        expect(create("rep-node-w1")).not.toContain("REPAIR");
        // m2's labels were changed by hand: its node settings run again.
        expect(create("rep-node-m2")).toContain("\nREPAIR='1'\n");
        for (const step of ["scripts", "docker", "join"]) {
            expect(create(`rep-${step}-m2`)).not.toContain("REPAIR");
        }
        for (const n of ["m1", "m3", "w2"]) {
            for (const step of ["scripts", "docker", "join", "node"]) {
                expect(create(`rep-${step}-${n}`)).not.toContain("REPAIR");
            }
        }
        // No engine to restart: neither the Docker steps nor the ready check say so.
        for (const n of nodes) expect(create(`rep-docker-${n.name}`)).not.toContain("RESTART");
        expect(create("rep-ready")).not.toContain("RESTARTED");
    });

    test("a worker lost for the managers while its engine runs: that engine run restarted, then waited for", async () => {
        const nodes = cluster(3, 2);
        const zero = { m1: 0, m2: 0, m3: 0, w1: 0, w2: 0 };
        recorder.probeBefore = {
            nodes: nodes.map((n) => n.name),
            managers: ["m1", "m2", "m3"],
            engine: zero,
            spec: zero,
            stepManager: "m1",
        };
        await build(
            "lost",
            args(nodes, {
                observed: {
                    drift: {
                        engine: { w2: [SEEN_DOWN] },
                        spec: {},
                        restart: { w2: "0c4ab2e1" },
                    },
                    answering: ["m1", "m2", "m3"],
                    unreachable: [],
                },
            }),
        );
        const create = (n: string) => String(recorder.byName(n).inputs.create);
        expect(create("lost-docker-w2")).toContain("\nRESTART='0c4ab2e1'\n");
        expect(create("lost-docker-w2")).toContain("\nREPAIR='1'\n");
        for (const n of ["m1", "m2", "m3", "w1"]) {
            expect(create(`lost-docker-${n}`)).not.toContain("RESTART");
        }
        expect(create("lost-ready")).toContain("\nRESTARTED='w2=0c4ab2e1'\n");
        // The next run finds it Ready: the probe keeps the run, so nothing runs again.
        recorder.probeBefore = {
            ...recorder.probeBefore,
            engine: { ...zero, w2: 1 },
            restart: { w2: "0c4ab2e1" },
        };
        await build(
            "lost2",
            args(nodes, {
                observed: { drift: { engine: {}, spec: {} }, answering: ["m1"], unreachable: [] },
            }),
        );
        expect(create("lost2-docker-w2")).toContain("\nRESTART='0c4ab2e1'\n");
        expect(create("lost2-ready")).toContain("\nRESTARTED='w2=0c4ab2e1'\n");
    });

    test("the manager-side steps move to a manager that manages the swarm; joins stay as they were", async () => {
        const nodes = cluster(3, 1);
        recorder.probeBefore = {
            nodes: nodes.map((n) => n.name),
            managers: ["m1", "m2", "m3"],
            engine: { m1: 0, m2: 0, m3: 0, w1: 0 },
            spec: { m1: 0, m2: 0, m3: 0, w1: 0 },
            stepManager: "m1",
        };
        await build(
            "mv",
            args(nodes, {
                observed: {
                    drift: { engine: { m1: ["it is not in the swarm"] }, spec: {} },
                    answering: ["m2", "m3"],
                    unreachable: [],
                },
            }),
        );
        const hostOf = (n: string) =>
            (recorder.byName(n).inputs.connection as { host: string }).host;
        for (const step of ["init", "tokens", "ready", "node-m1", "node-w1", "forget-m1"]) {
            expect(hostOf(`mv-${step}`)).toBe("10.1.0.12");
        }
        for (const n of ["m1", "m2", "m3", "w1"]) {
            expect(hostOf(`mv-join-${n}`)).toBe(nodes.find((x) => x.name === n)!.host);
            expect(String(recorder.byName(`mv-join-${n}`).inputs.create)).toContain(
                "JOIN_ADDR='10.1.0.11'",
            );
        }
        const init = String(recorder.byName("mv-init").inputs.create);
        expect(init).toContain("NODE='m2'");
        expect(init).toContain("ADVERTISE_ADDR='10.1.0.12'");
        expect(init).toContain("OTHER_MANAGERS='10.1.0.11 10.1.0.13'");
        expect(String(recorder.byName("mv-init").inputs.delete)).toContain("NODE='m2'");
        expect(String(recorder.byName("mv-node-w1").inputs.delete)).toContain("NODE='m2'");
        // The replaced m1 is installed and joined again.
        expect(String(recorder.byName("mv-join-m1").inputs.create)).toContain("REPAIR='1'");
        expect(String(recorder.byName("mv-ready").inputs.create)).not.toContain("UNREACHABLE");
    });

    test("a host down: the steps move off it, and the ready check does not wait for it", async () => {
        await build(
            "down",
            args(cluster(3, 1), {
                observed: {
                    drift: { engine: {}, spec: {} },
                    answering: ["m2", "m3"],
                    unreachable: ["w1", "m1"],
                },
            }),
        );
        const ready = recorder.byName("down-ready").inputs as {
            connection: { host: string };
            create: string;
        };
        expect(ready.connection.host).toBe("10.1.0.12");
        expect(ready.create).toContain("\nUNREACHABLE='m1 w1'\n");
        for (const n of ["m1", "w1"]) {
            expect(String(recorder.byName(`down-docker-${n}`).inputs.create)).not.toContain(
                "REPAIR",
            );
        }
    });
});

describe("SwarmCluster stability", () => {
    const inputsOf = (rs: RecordedResource[], prefix: string) =>
        Object.fromEntries(
            rs.map((r) => [
                r.name.replace(prefix, ""),
                { inputs: r.inputs, dependsOn: r.dependsOn },
            ]),
        );

    test("reordering nodes yields identical resources", async () => {
        const nodes = cluster(3, 2);
        const a = await build("ro", args(nodes));
        const b = await build("ro", args([...nodes].reverse()));
        expect(inputsOf(b.rs, "ro")).toEqual(inputsOf(a.rs, "ro"));
    });

    test("removing a worker leaves every other resource as it was", async () => {
        const nodes = cluster(3, 2);
        const full = inputsOf((await build("rm", args(nodes))).rs, "rm");
        const less = inputsOf(
            (await build("rm", args(nodes.filter((n) => n.name !== "w1")))).rs,
            "rm",
        );
        const gone = Object.keys(full)
            .filter((k) => !(k in less))
            .sort();
        expect(gone).toEqual(["-docker-w1", "-forget-w1", "-join-w1", "-node-w1", "-scripts-w1"]);
        for (const key of Object.keys(less)) {
            // The ready check waits for the nodes that remain; the probe counts them.
            if (key === "-ready" || key === "-probe") continue;
            expect(less[key].inputs).toEqual(full[key].inputs);
        }
    });
});

describe("SwarmCluster validation", () => {
    const fail =
        (a: SwarmClusterArgs, name = "prod") =>
        () =>
            validateSwarmClusterArgs(name, a);

    test.each<[string, SwarmClusterArgs, string]>([
        [
            "no nodes",
            args([]),
            'SwarmCluster "prod": nodes is empty; give at least one node with role "manager".',
        ],
        [
            "no manager",
            args([node("w1", "worker")]),
            'SwarmCluster "prod": no node has role "manager"; a swarm needs at least one manager.',
        ],
        [
            "even managers",
            args(cluster(4, 0)),
            'SwarmCluster "prod": 4 managers given; use an odd number (1, 3, 5, 7) so the swarm keeps a quorum, or set allowEvenManagers.',
        ],
        [
            "duplicate name",
            args([node("m1", "manager"), { ...node("m2", "worker"), name: "m1" }]),
            'SwarmCluster "prod": node name "m1" is used more than once; names must be unique.',
        ],
        [
            "duplicate host",
            args([node("m1", "manager"), { ...node("w1", "worker"), host: "10.1.0.11" }]),
            'SwarmCluster "prod": host "10.1.0.11" is used by more than one node; hosts must be unique.\nSwarmCluster "prod": advertise address "10.1.0.11" is used by more than one node; advertise addresses must be unique.',
        ],
        [
            "duplicate advertise address",
            args([node("m1", "manager"), node("w1", "worker", { advertiseAddress: "10.1.0.11" })]),
            'SwarmCluster "prod": advertise address "10.1.0.11" is used by more than one node; advertise addresses must be unique.',
        ],
        [
            "bad name",
            args([node("M_1", "manager")]),
            `SwarmCluster "prod": nodes name "M_1" is not valid; use lower-case letters, digits and '-' (it becomes part of resource names).`,
        ],
        [
            "bad role",
            args([node("m1", "manager"), { ...node("x1", "worker"), role: "boss" as "worker" }]),
            'SwarmCluster "prod": node "x1" has role "boss"; use "manager" or "worker".',
        ],
        [
            "bad availability",
            args([node("m1", "manager", { availability: "off" as "active" })]),
            'SwarmCluster "prod": node "m1" has availability "off"; use "active", "pause" or "drain".',
        ],
        [
            "an encrypted network's name that a shell would read",
            args([node("m1", "manager")], { encryptedNetworks: ["backend", "x; reboot"] }),
            `SwarmCluster "prod": encryptedNetworks[1] is "x; reboot"; use letters, digits, '_', '.' and '-', starting and ending with a letter or digit (63 at most).`,
        ],
        [
            "bad label key",
            args([node("m1", "manager", { labels: { "-zone": "a" } })]),
            `SwarmCluster "prod": node "m1" label key is "-zone"; use letters, digits, '.', '_', '/' and '-', starting and ending with a letter or digit (no spaces, '=' or glob characters).`,
        ],
        [
            "nodes whose host key nothing records: each refused, one with its own key not",
            args(
                [
                    node("m1", "manager"),
                    node("m2", "manager", {
                        ssh: {
                            hostKey:
                                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyM2xxxxxxxxxxxxxxxxxxxxxxxxx",
                        },
                    }),
                    node("w1", "worker"),
                ],
                { ssh: { privateKey: "k" }, allowEvenManagers: true },
            ),
            [
                'SwarmCluster "prod": node "m1" (10.1.0.11) has no ssh.hostKey, so any machine answering at its address would get the logins and the steps\' secrets; give its public host key (ssh-keyscan -t ed25519, checked out of band) as its ssh.hostKey, or set ssh.acceptAnyHostKey: true to connect unchecked.',
                'SwarmCluster "prod": node "w1" (10.1.0.21) has no ssh.hostKey, so any machine answering at its address would get the logins and the steps\' secrets; give its public host key (ssh-keyscan -t ed25519, checked out of band) as its ssh.hostKey, or set ssh.acceptAnyHostKey: true to connect unchecked.',
            ].join("\n"),
        ],
        [
            "bad ssh port",
            args(cluster(1, 0), { ssh: { privateKey: "k", port: 70000, acceptAnyHostKey: true } }),
            'SwarmCluster "prod": ssh.port is 70000; use a port from 1 to 65535.',
        ],
        [
            "bad node ssh port",
            args([node("m1", "manager", { ssh: { port: 0 } })]),
            'SwarmCluster "prod": node "m1" ssh.port is 0; use a port from 1 to 65535.',
        ],
        [
            "bad advertise port",
            args(cluster(1, 0), { advertisePort: 1.5 }),
            'SwarmCluster "prod": advertisePort is 1.5; use a port from 1 to 65535.',
        ],
        [
            "same data path and advertise port",
            args(cluster(1, 0), { dataPathPort: 2377 }),
            'SwarmCluster "prod": dataPathPort 2377 is also the advertise port; the two need different ports.',
        ],
        [
            "version without docker-ce",
            args(cluster(1, 0), { docker: { install: "distro", version: "27.0" } }),
            'SwarmCluster "prod": docker.version "27.0" is set with docker.install "distro"; a version pin needs "docker-ce".',
        ],
        [
            "bad install method",
            args(cluster(1, 0), { docker: { install: "snap" as "none" } }),
            'SwarmCluster "prod": docker.install is "snap"; use "distro", "docker-ce" or "none".',
        ],
        [
            "metrics port out of range",
            args(cluster(1, 0), { docker: { metricsPort: 70000 } }),
            'SwarmCluster "prod": docker.metricsPort is 70000; use a whole number from 1 to 65535.',
        ],
        [
            "bootstrap manager not a manager",
            args(cluster(1, 1), { bootstrapManager: "w1" }),
            'SwarmCluster "prod": bootstrapManager "w1" is not the name of a manager in nodes.',
        ],
        [
            "negative task history",
            args(cluster(1, 0), { taskHistoryLimit: -1 }),
            'SwarmCluster "prod": taskHistoryLimit is -1; use a whole number of at least 0.',
        ],
        [
            "zero ready timeout",
            args(cluster(1, 0), { readyTimeoutSeconds: 0 }),
            'SwarmCluster "prod": readyTimeoutSeconds is 0; use a whole number of at least 1.',
        ],
        [
            "a negative join token rotation",
            args(cluster(1, 0), { joinTokenRotation: -1 }),
            'SwarmCluster "prod": joinTokenRotation is -1; use a whole number of at least 0.',
        ],
        [
            "firewall with a node known by name",
            args([node("m1", "manager", { host: "m1.example" })], { firewall: {} }),
            'SwarmCluster "prod": node "m1" has address "m1.example"; the firewall admits members by IPv4 address, so give one as advertiseAddress.',
        ],
        [
            "firewall: bad addresses, networks, ports and confirm time",
            args(cluster(1, 0), {
                firewall: {
                    leaving: ["10.1.0.300"],
                    zooKeeper: {
                        servers: ["zk1"],
                        clientPort: 0,
                        peerPort: 2888,
                        electionPort: 3888,
                        clientNetworks: ["10.2.0.0/33", "10.3.0.0"],
                    },
                    confirmSeconds: 2,
                },
            }),
            [
                'SwarmCluster "prod": firewall.zooKeeper.servers "zk1" is not an IPv4 address.',
                'SwarmCluster "prod": firewall.zooKeeper.clientNetworks "10.2.0.0/33" is not an IPv4 network; write it as ADDRESS/BITS (10.1.0.0/16, 192.0.2.7/32).',
                'SwarmCluster "prod": firewall.zooKeeper.clientNetworks "10.3.0.0" is not an IPv4 network; write it as ADDRESS/BITS (10.1.0.0/16, 192.0.2.7/32).',
                'SwarmCluster "prod": firewall.zooKeeper.clientPort is 0; use a port from 1 to 65535.',
                'SwarmCluster "prod": firewall.leaving "10.1.0.300" is not an IPv4 address.',
                'SwarmCluster "prod": firewall.confirmSeconds is 2; use a whole number of at least 5.',
            ].join("\n"),
        ],
        [
            "firewall: restricted ports out of range, of another protocol, twice, from a bad network",
            args(cluster(1, 0), {
                firewall: {
                    restricted: [
                        { port: 0 },
                        { port: 9090, protocol: "sctp" as "tcp", from: ["10.0.0.0/8", "any"] },
                        { port: 9090, protocol: "sctp" as "tcp" },
                    ],
                },
            }),
            [
                'SwarmCluster "prod": firewall.restricted[0].port is 0; use a port from 1 to 65535.',
                'SwarmCluster "prod": firewall.restricted[1].protocol is "sctp"; use "tcp" or "udp".',
                'SwarmCluster "prod": firewall.restricted[1].from "any" is not an IPv4 network; write it as ADDRESS/BITS (10.1.0.0/16, 192.0.2.7/32).',
                'SwarmCluster "prod": firewall.restricted[2].protocol is "sctp"; use "tcp" or "udp".',
                'SwarmCluster "prod": firewall.restricted[2]: sctp/9090 is restricted twice; give its networks once.',
            ].join("\n"),
        ],
    ])("%s", (_label, a, message) => {
        expect(fail(a)).toThrow(message);
        try {
            fail(a)();
        } catch (e) {
            expect((e as Error).message).toBe(message);
        }
    });

    test("even managers are accepted with allowEvenManagers", () => {
        expect(fail(args(cluster(2, 0), { allowEvenManagers: true }))).not.toThrow();
    });

    test("the constructor validates before creating any child", () => {
        const before = recorder.resources.length;
        expect(() => new SwarmCluster("bad", args(cluster(2, 1)))).toThrow(
            'SwarmCluster "bad": 2 managers given',
        );
        expect(recorder.resources.length).toBe(before);
    });
});

/** Runs the relay as ssh would, without blocking this process (the echo server lives here). */
function relay(
    args: string[],
    input: string,
): Promise<{ status: number; out: string; err: string }> {
    return new Promise((done) => {
        const child = spawn("node", ["-e", MANAGER_RELAY, ...args]);
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("close", (status) => done({ status: status ?? -1, out, err }));
        child.stdin.end(input);
    });
}

describe("the Docker provider's relay to the first manager that answers", () => {
    test("skips a host that refuses and relays both ways to the next one", async () => {
        const server = net.createServer((socket) => socket.pipe(socket)); // an echo server
        await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
        const port = String((server.address() as net.AddressInfo).port);
        try {
            // Nothing listens on 127.0.0.2 at that port: refused at once, then 127.0.0.1 answers.
            const through = await relay(
                [port, "127.0.0.2", "127.0.0.1"],
                "hello through the relay",
            );
            expect(through).toEqual({ status: 0, out: "hello through the relay", err: "" });
        } finally {
            server.close();
        }
        expect(await relay([port, "127.0.0.2"], "")).toEqual({
            status: 1,
            out: "",
            err: `swarm-ha: no manager answers on port ${port}: 127.0.0.2\n`,
        });
    });
});

describe("asking the hosts before the run", () => {
    test("a cluster that would ask its hosts but cannot says why: a node without a key", async () => {
        const info = jest.spyOn(pulumi.log, "info").mockImplementation(async () => undefined);
        try {
            await build("noted", args(cluster(3, 0), { checkHosts: undefined }));
            expect(info.mock.calls.map((c) => c[0])).toContain(
                'SwarmCluster "noted": the hosts are not asked before the run (m1, m2, m3 have no ssh.hostKey): no quorum, drift or login check.',
            );
            // Given what the program found, or told not to, it says nothing.
            info.mockClear();
            await build("quiet", args(cluster(3, 0)));
            expect(info.mock.calls.map((c) => c[0])).toEqual([]);
        } finally {
            info.mockRestore();
        }
    });
});

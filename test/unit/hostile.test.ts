// Hostile and mistaken values for every text setting of the stack's schema: each one is refused
// with its key path named, or, where the setting is data by nature (label and env values, command
// arguments, secrets, paths on this machine), accepted and shown to stay data at the use site
// (hostileSteps.test.ts). Written from the grammar's rules, for every key the schema has.
import * as pulumi from "@pulumi/pulumi";
import { Recorder, stepStdout } from "./recorder";

const recorder = new Recorder(stepStdout);
recorder.install();

import { ConfigSource, readSettings } from "../../config";
import { STACK } from "../../configSchema";
import { Schema } from "../../components/host/schema";
import {
    validateDockerReadProxyArgs,
    validateServiceRegistryArgs,
    validateSwarmClusterArgs,
    validateSwarmMonitoringArgs,
    validateSwarmServiceArgs,
    validateZooKeeperArgs,
} from "../../components/internal";

/** Values a mistaken or malicious user writes, by what they try. */
const HOSTILE: Record<string, string> = {
    "command substitution": "a$(touch /tmp/pwned)",
    backticks: "a`id`",
    semicolon: "a;reboot",
    "single quote": "a'b",
    "double quote": 'a"b',
    newline: "a\nb=c",
    "carriage return": "a\rb",
    space: "a b",
    glob: "a*",
    "leading dash": "-oProxyCommand=touch /tmp/pwned",
    "unicode look-alike": "a\u2028b",
    "NUL byte": "a\u0000b",
    empty: "",
    huge: "a".repeat(1024 * 1024),
};

/** Settings whose values are data by nature: any text on one line, kept as data at the use site. */
const DATA_KEYS = [
    /^nodes\[0\]\.labels\.x$/,
    /^services\.web\.labels\.x$/,
    /^services\.web\.env\.X$/,
    /^services\.web\.secretEnv\.X$/,
    // Sent to the Docker API as JSON (the service's auth, the lookup provider's registryAuth).
    /^services\.web\.registryAuth\.(username|password)$/,
    /^services\.web\.(command|args|healthcheck\.test)\[0\]$/,
    /^services\.web\.(secrets|configs)\.x\.value$/,
    /^services\.web\.(secrets|configs)\.x\.file$/,
    /^(sshPrivateKey|zkSuperPassword|sshPrivateKeyFile|knownHostsFile)$/,
];

/** A stack that uses every part of the schema, valid as it is. */
function base(): Record<string, unknown> {
    return {
        nodes: [
            { name: "m1", host: "10.0.0.11", role: "manager" },
            { name: "w1", host: "10.0.0.21", role: "worker" },
        ],
        sshPrivateKey: "k",
        zkServers: [{ id: 1, node: "m1" }],
        zkInstall: "tarball",
        zkAuth: true,
        monitoring: { enabled: true },
        services: {
            web: {
                image: "w:1",
                registryAuth: { server: "docker.io", username: "u", password: "p" },
            },
        },
    };
}

/** Every text leaf of the schema: its path (`nodes[0].host`) and a way to set it in a stack. */
function textLeaves(schema: Schema, at: string): string[] {
    switch (schema.kind) {
        case "string":
            return schema.oneOf ? [] : [at];
        case "object":
            return Object.entries(schema.fields).flatMap(([k, f]) =>
                textLeaves(f, at === "" ? k : `${at}.${k}`),
            );
        case "map":
            // The base stack's service; env names upper case by custom; the others "x".
            return textLeaves(
                schema.values,
                `${at}.${at === "services" ? "web" : /env$/i.test(at) ? "X" : "x"}`,
            );
        case "list":
            return textLeaves(schema.items, `${at}[0]`);
        default:
            return [];
    }
}

/** Sets `path` (`services.web.ports[0].target`) in `config`, creating what is missing. */
function setPath(config: Record<string, unknown>, path: string, value: unknown): void {
    const parts = path.match(/[^.[\]]+/g)!;
    let at: Record<string, unknown> = config;
    parts.slice(0, -1).forEach((part, i) => {
        const nextIsIndex = /^[0-9]+$/.test(parts[i + 1]);
        at[part] ??= nextIsIndex ? [] : {};
        at = at[part] as Record<string, unknown>;
    });
    at[parts[parts.length - 1]] = value;
}

function source(values: Record<string, unknown>): ConfigSource {
    return {
        keys: () => Object.keys(values),
        raw: (k) => values[k],
        getSecret: (k) => (values[k] ? pulumi.secret(String(values[k])) : undefined),
        readFile: () => "text",
    };
}

/** The problem readSettings reports for `values`, or undefined when it accepts them. */
function refusal(values: Record<string, unknown>): string | undefined {
    try {
        readSettings(source(values));
        return undefined;
    } catch (e) {
        return (e as Error).message;
    }
}

const leaves = textLeaves(STACK, "");

test("the corpus reaches every text setting of the schema", () => {
    expect(leaves).toEqual(expect.arrayContaining(["nodes[0].host", "nodes[0].sshUser"]));
    expect(leaves.length).toBeGreaterThan(50);
});

describe.each(leaves)("%s", (leaf) => {
    const data = DATA_KEYS.some((re) => re.test(leaf));
    test.each(Object.entries(HOSTILE))(
        "%s: refused naming the key, or kept as data",
        (_what, value) => {
            const config = base();
            setPath(config, leaf, value);
            const problem = refusal(config);
            const key = `swarm-ha:${leaf}`;
            if (value === "" && !leaf.includes(".") && !leaf.includes("[")) {
                // A top-level "" is unset, as Pulumi.yaml's declared defaults of "" are: its
                // default applies, or it is refused as missing.
                if (problem !== undefined) expect(problem).toContain(key);
            } else if (problem === undefined) {
                // Only settings that are data by nature accept it; never a NUL or a huge value
                // where the rule bounds them.
                expect({ leaf, accepted: true, data }).toEqual({
                    leaf,
                    accepted: true,
                    data: true,
                });
            } else {
                expect(problem).toContain(key);
                // The message shows a huge value shortened, never a megabyte of it.
                expect(problem.length).toBeLessThan(4000);
            }
        },
    );
});

test("a secret's value never appears in the message that refuses it", () => {
    const problem = refusal({ ...base(), zkSuperPassword: "hunter2\u0000" });
    expect(problem).toContain("swarm-ha:zkSuperPassword is set (its value is secret)");
    expect(problem).not.toContain("hunter2");
});

test("numbers out of range, of another type, and non-integers are refused naming the key", () => {
    for (const [leaf, value] of [
        ["sshPort", 0],
        ["sshPort", 65536],
        ["sshPort", 22.5],
        ["sshDialAttempts", -1],
        ["zkHeapMb", 1e12],
        ["nodes[0].sshPort", "22; reboot"],
        ["services.web.replicas", -3],
        ["services.web.limits.cpus", -1],
        ["services.web.limits.cpus", 0],
        ["services.web.ports[0].target", 70000],
        ["firewall.confirmSeconds", 1],
    ] as const) {
        const config = base();
        setPath(config, leaf, value);
        expect(refusal(config)).toContain(`swarm-ha:${leaf} is ${JSON.stringify(value)}`);
    }
});

test("an unknown key at any level is refused with the nearest valid name", () => {
    const config = base();
    setPath(config, "nodes[0].advertiseAdress", "10.0.0.11");
    setPath(config, "services.web.limits.cpu", 1);
    setPath(config, "sevices", {});
    expect(refusal(config)).toBe(
        [
            "swarm-ha:sevices is not a setting; did you mean services?",
            "swarm-ha:nodes[0].advertiseAdress is not a setting; did you mean advertiseAddress?",
            "swarm-ha:services.web.limits.cpu is not a setting; did you mean cpus?",
        ].join("\n"),
    );
});

test("settings that would do nothing are refused, naming what they need", () => {
    const noEnsemble = { ...base(), zkServers: undefined, zkInstall: undefined, zkAuth: undefined };
    expect(refusal({ ...noEnsemble, zkHeapMb: 1024 })).toBe(
        "swarm-ha:zkHeapMb is set but swarm-ha:zkServers is empty, so there is no ensemble for it; declare the servers or drop zkHeapMb.",
    );
    expect(refusal({ ...base(), zkAuth: false, zkSuperPassword: "pw-of-the-lab" })).toBe(
        "swarm-ha:zkSuperPassword is set but swarm-ha:zkAuth is false, so nothing would use it; drop zkAuth: false (auth is on by default) or the password.",
    );
    expect(refusal({ ...noEnsemble, services: { web: { image: "w:1", zookeeper: true } } })).toBe(
        "swarm-ha:services.web.zookeeper is true but swarm-ha:zkServers is empty, so there is no ensemble to connect it to; declare the servers or drop zookeeper.",
    );
    expect(refusal({ ...base(), hostKeys: { m2: `ssh-ed25519 ${"A".repeat(68)}` } })).toBe(
        "swarm-ha:hostKeys.m2 names no node of swarm-ha:nodes, so no host would be checked with it; fix the name or drop the entry.",
    );
    expect(refusal({ ...base(), dockerVersion: "5:27.3.1-1~debian.12~bookworm" })).toContain(
        'swarm-ha:dockerVersion is "5:27.3.1-1~debian.12~bookworm" but swarm-ha:dockerInstall is not "docker-ce"',
    );
    expect(refusal({ ...base(), dockerRepository: "http://apt.dc.example/docker" })).toBe(
        'swarm-ha:dockerRepository is "http://apt.dc.example/docker" but swarm-ha:dockerInstall is not "docker-ce"; only docker-ce is installed from an apt repository of Docker\'s, so set dockerInstall: docker-ce or drop the repository.',
    );
    expect(
        refusal({
            ...base(),
            dockerInstall: "docker-ce",
            dockerRepository: "http://apt.dc.example/docker",
        }),
    ).toBeUndefined();
});

test("values users really write are accepted: upper-case host names, label values with spaces", () => {
    const config = base();
    setPath(config, "nodes[0].host", "DB-1.Example.internal");
    setPath(config, "nodes[0].labels", { "com.example/zone": "rack 4 *", tier: 1 });
    setPath(config, "nodes[0].sshUser", "deploy_user");
    setPath(config, "services.web.image", "registry.example:5000/team/web:1.2.3");
    expect(refusal(config)).toBeUndefined();
});

test("a stack without an ensemble, given every default Pulumi.yaml declares, is accepted", () => {
    const defaults = Object.fromEntries(
        Object.entries(STACK.fields)
            .filter(([, f]) => f.default !== undefined)
            .map(([k, f]) => [k, typeof f.default === "object" ? f.default : String(f.default)]),
    );
    const { nodes, sshPrivateKey } = base();
    expect(refusal({ ...defaults, nodes, sshPrivateKey })).toBeUndefined();
});

test("ports two uses ask for are refused across the whole stack, naming both", () => {
    const config = {
        ...base(),
        sshPort: 2222,
        monitoring: { enabled: true, nodeExporterPort: 2222, alertmanagerPort: 9090 },
        services: {
            api: { image: "a:1", ports: [{ target: 80, published: 8080 }] },
            web: {
                image: "w:1",
                ports: [
                    { target: 80, published: 8080 },
                    { target: 53, published: 7946, protocol: "udp" },
                    { target: 81, published: 2181 },
                ],
            },
        },
    };
    expect(refusal(config)).toBe(
        [
            "swarm-ha:monitoring.alertmanagerPort is 9090, which swarm-ha:monitoring.prometheusPort (9090) uses too; give each its own port.",
            "swarm-ha:monitoring.nodeExporterPort is 2222, which swarm-ha:sshPort (2222) uses too; give each its own port.",
            "swarm-ha:services.web.ports[0].published is 8080, which swarm-ha:services.api.ports[0].published (8080) uses too; give each its own port.",
            "swarm-ha:services.web.ports[1].published is 7946, which the swarm's gossip port (7946) uses too; give each its own port.",
            "swarm-ha:services.web.ports[2].published is 2181, which ZooKeeper's client port (2181) uses too; give each its own port.",
        ].join("\n"),
    );
    // The same port over another protocol, and SSH's port on several nodes, are no collision.
    const fine = base();
    setPath(fine, "nodes[1].sshPort", 22);
    setPath(fine, "services.web.ports", [{ target: 53, published: 2377, protocol: "udp" }]);
    expect(refusal(fine)).toBeUndefined();
});

test("problems that need the files and the other settings are reported together, once the shapes are right", () => {
    const config = {
        ...base(),
        sshPrivateKey: undefined,
        zkServers: [{ id: 1, node: "m9" }],
        services: {
            web: { image: "w:1", register: true, ports: [{ target: 80, published: 22 }] },
        },
    };
    expect(refusal(config)).toBe(
        [
            'swarm-ha:zkServers[0].node is "m9", which is not a node in swarm-ha:nodes.',
            "swarm-ha:sshPrivateKey is not set; run 'pulumi config set --secret sshPrivateKey < KEYFILE', or name the key's file in swarm-ha:sshPrivateKeyFile.",
            "swarm-ha:services.web.ports[0].published is 22, which swarm-ha:sshPort (22) uses too; give each its own port.",
        ].join("\n"),
    );
});

describe("a component used from another program refuses the same values, naming its own fields", () => {
    const bad = ["a$(touch /tmp/pwned)", "a b", "-oProxyCommand=x", "a\nb", "a'b"];
    const node = { name: "m1", host: "10.0.0.11", role: "manager" as const };
    const ssh = { privateKey: "k" };
    const cases: [string, (v: string) => void, string][] = [
        [
            "node host",
            (v) => validateSwarmClusterArgs("c", { nodes: [{ ...node, host: v }], ssh }),
            'SwarmCluster "c": node "m1" host is',
        ],
        [
            "advertiseAddress",
            (v) =>
                validateSwarmClusterArgs("c", { nodes: [{ ...node, advertiseAddress: v }], ssh }),
            'node "m1" advertiseAddress is',
        ],
        [
            "ssh user",
            (v) => validateSwarmClusterArgs("c", { nodes: [node], ssh: { ...ssh, user: v } }),
            'SwarmCluster "c": ssh.user is',
        ],
        [
            "node ssh user",
            (v) => validateSwarmClusterArgs("c", { nodes: [{ ...node, ssh: { user: v } }], ssh }),
            'node "m1" ssh.user is',
        ],
        [
            "host key",
            (v) =>
                validateSwarmClusterArgs("c", {
                    nodes: [{ ...node, ssh: { hostKey: `ssh-ed25519 ${v}` } }],
                    ssh,
                }),
            'node "m1" ssh.hostKey is',
        ],
        [
            "label key",
            (v) =>
                validateSwarmClusterArgs("c", { nodes: [{ ...node, labels: { [v]: "x" } }], ssh }),
            'node "m1" label key is',
        ],
        [
            "docker version",
            (v) =>
                validateSwarmClusterArgs("c", {
                    nodes: [node],
                    ssh,
                    docker: { install: "docker-ce", version: v },
                }),
            'SwarmCluster "c": docker.version is',
        ],
        [
            "zk host",
            (v) => validateZooKeeperArgs("zk", { servers: [{ id: 1, host: v }], ssh }),
            'ZooKeeperEnsemble "zk": server 1 host is',
        ],
        [
            "zk jvmFlags",
            (v) =>
                validateZooKeeperArgs("zk", {
                    servers: [{ id: 1, host: "h1" }],
                    ssh,
                    jvmFlags: `-X ${v}`,
                }),
            'ZooKeeperEnsemble "zk": jvmFlags is',
        ],
        [
            "zk dataDir",
            (v) =>
                validateZooKeeperArgs("zk", {
                    servers: [{ id: 1, host: "h1" }],
                    ssh,
                    dataDir: `/d/${v}`,
                }),
            'ZooKeeperEnsemble "zk": dataDir is',
        ],
        [
            "service image",
            (v) => validateSwarmServiceArgs("web", { image: `nginx:${v}` }),
            'SwarmService "web": image is',
        ],
        [
            "service env name",
            (v) => validateSwarmServiceArgs("web", { image: "w:1", env: { [v]: "1" } }),
            'SwarmService "web": env name is',
        ],
        [
            "service constraint",
            (v) =>
                validateSwarmServiceArgs("web", {
                    image: "w:1",
                    constraints: [`node.role==${v}\n`],
                }),
            'SwarmService "web": constraint is',
        ],
        [
            "monitoring image",
            (v) => validateSwarmMonitoringArgs("mon", { cluster: "c", images: { prometheus: v } }),
            'SwarmMonitoring "mon": images.prometheus is',
        ],
        [
            "registrar image",
            (v) => validateServiceRegistryArgs("reg", { connectString: "h:2181", image: v }),
            'ServiceRegistry "reg": image is',
        ],
        [
            "docker-read image",
            (v) => validateDockerReadProxyArgs("dr", { image: v }),
            'DockerReadProxy "dr": image is',
        ],
        [
            "registry's docker-read image",
            (v) =>
                validateServiceRegistryArgs("reg", { connectString: "h:2181", dockerReadImage: v }),
            'ServiceRegistry "reg": dockerReadImage is',
        ],
        [
            "monitoring's docker-read image",
            (v) => validateSwarmMonitoringArgs("mon", { cluster: "c", images: { dockerRead: v } }),
            'SwarmMonitoring "mon": images.dockerRead is',
        ],
    ];
    test.each(cases)("%s", (_what, validate, field) => {
        // JVM flags are options by nature: a leading '-' is what they are.
        for (const value of bad.filter((v) => !(field.includes("jvmFlags") && v.startsWith("-")))) {
            expect(() => validate(value)).toThrow(field);
        }
    });
});

test("names of Object's own members are neither settings nor ways around a check", () => {
    const key = `ssh-ed25519 ${"A".repeat(68)}`;
    // A node named "constructor" still gets its key from knownHostsFile, not Object's function.
    const s = readSettings({
        ...source({
            ...base(),
            nodes: [{ name: "constructor", host: "10.0.0.11", role: "manager" }],
            zkServers: undefined,
            zkInstall: undefined,
            zkAuth: undefined,
            knownHostsFile: "/k",
        }),
        readFile: () => `10.0.0.11 ${key}\n`,
    });
    expect(s.nodes[0].ssh?.hostKey).toBe(key);
    const config = base();
    setPath(config, "constructor", 1);
    setPath(config, "nodes[0].constructor", 1);
    setPath(config, "services.web.hasOwnProperty", 1);
    expect(refusal(config)).toBe(
        [
            "swarm-ha:constructor is not a setting; use clusterName, nodes, hostKeys, sshUser, sshPort, sshDialAttempts, sshPrivateKey, sshPrivateKeyFile, knownHostsFile, trustOnFirstUse, dockerInstall, dockerVersion, dockerRepository, autolock, joinTokenRotation, services, monitoring, firewall, backup, recovery, registrarImage, dockerReadImage, zkServers, zkInstall, zkVersion, zkUrl, zkSha512, zkTickTime, zkHeapMb, zkAuth, zkSuperPassword, zkDynamicReconfig, zkTls.",
            "swarm-ha:nodes[0].constructor is not a setting; use name, host, advertiseAddress, role, labels, availability, sshUser, sshPort, hostKey.",
            "swarm-ha:services.web.hasOwnProperty is not a setting; use image, registryAuth, pinDigest, replicas, global, command, args, env, secretEnv, ports, endpointMode, networks, encrypted, constraints, preferences, maxReplicasPerNode, limits, reservations, healthcheck, restartPolicy, update, rollback, secrets, configs, labels, zookeeper, register, registerPort, metricsPort, metricsPath.",
        ].join("\n"),
    );
});

test.each([
    [
        "dockerVersion",
        "5:27.3.1-1~debian.12~bookworm-",
        "a trailing '-' that apt reads as a removal",
    ],
    ["nodes[0].host", "fe80::1%eth0", "an IPv6 address with a zone"],
    [
        "nodes[0].host",
        "2001:db8::1",
        "an IPv6 address, written ADDRESS:PORT unbracketed downstream",
    ],
    ["nodes[0].hostKey", `ssh-ed25519 ${"A".repeat(68)}\r`, "a host key with a carriage return"],
    ["nodes[0].hostKey", ` ssh-ed25519 ${"A".repeat(68)}`, "a host key with a leading space"],
    ["zkSuperPassword", "two words here", "a password ZooKeeper's command line would split"],
    ["zkSuperPassword", "short", "a password of 5 characters"],
    ["services.web.limits.memory", "0", "a memory limit of 0 bytes"],
])("%s %j is refused: %s", (leaf, value) => {
    const config = base();
    setPath(config, leaf, value);
    expect(refusal(config)).toContain(`swarm-ha:${leaf} is`);
});

test("a map switched on by enabled, given settings without it, is refused; enabled: false keeps them", () => {
    expect(refusal({ ...base(), monitoring: { prometheusPort: 9999 } })).toBe(
        "swarm-ha:monitoring sets prometheusPort but not enabled, so it stays off; add enabled: true (or enabled: false to keep the settings while it is off).",
    );
    expect(refusal({ ...base(), monitoring: { enabled: false, prometheusPort: 9999 } })).toBe(
        undefined,
    );
});

test("ZooKeeper's ports are the nodes' only when a server runs on one of them", () => {
    const own = { ...base(), zkServers: [{ id: 1, host: "10.9.0.1" }] };
    setPath(own, "services.web.ports", [{ target: 80, published: 2181 }]);
    expect(refusal(own)).toBeUndefined();
    const onNode = base();
    setPath(onNode, "services.web.ports", [{ target: 80, published: 2181 }]);
    expect(refusal(onNode)).toContain("ZooKeeper's client port (2181) uses too");
});

test("a component's name is checked where it becomes a folder on the hosts", () => {
    expect(() =>
        validateSwarmClusterArgs("../../etc/x", {
            nodes: [{ name: "m1", host: "10.0.0.11", role: "manager" }],
            ssh: { privateKey: "k" },
        }),
    ).toThrow('SwarmCluster "../../etc/x": the name is "../../etc/x"; use letters');
    expect(() =>
        validateZooKeeperArgs("zk", {
            servers: [{ id: 1, host: "h1" }],
            ssh: { privateKey: "k" },
            dataDir: "/etc",
        }),
    ).toThrow('ZooKeeperEnsemble "zk": dataDir is "/etc"');
});

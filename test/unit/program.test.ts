// The program's configuration: read in one place, validated with errors naming the config key,
// and turned into the components the stack should have.
import * as pulumi from "@pulumi/pulumi";
import { Recorder, resolve, settle, stepStdout } from "./recorder";

const recorder = new Recorder(stepStdout);
recorder.install();

import { createHmac } from "crypto";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { ConfigSource, knownHostKey, readSettings, stackConfig } from "../../config";
import {
    encryptedNetworks,
    firewallArgs,
    keepHostKeys,
    presentedKeys,
    repairedServers,
    unpinnedHosts,
    unpinnedProblems,
    zooKeeperFirewall,
} from "../../program";
import { trustedHostKeyProvider } from "../../components/host/trustedHostKey";
import { ProbeHost } from "../../components/host/probeHost";
import { FIREWALL_OFF, contentHash, firewallParameters } from "../../components/internal";

/** A config source over plain values, as pulumi.Config reads them, and files by path. */
function source(values: Record<string, unknown>, files: Record<string, string> = {}): ConfigSource {
    const get = (k: string) => values[k];
    return {
        keys: () => Object.keys(values).filter((k) => values[k] !== undefined),
        raw: get,
        getSecret: (k) => (get(k) ? pulumi.secret(String(get(k))) : undefined),
        readFile: (file) => files[file],
    };
}

const NODES = [
    { name: "m1", host: "10.0.0.11", role: "manager" },
    { name: "w1", host: "10.0.0.21", role: "worker", labels: { zone: "a" } },
];

describe("readSettings", () => {
    test("defaults", () => {
        const s = readSettings(source({ nodes: NODES, sshPrivateKey: "k" }));
        expect({ ...s, sshPrivateKey: undefined }).toEqual({
            clusterName: "swarm",
            nodes: [
                {
                    name: "m1",
                    host: "10.0.0.11",
                    role: "manager",
                    advertiseAddress: undefined,
                    labels: undefined,
                    availability: undefined,
                    ssh: undefined,
                },
                {
                    name: "w1",
                    host: "10.0.0.21",
                    role: "worker",
                    advertiseAddress: undefined,
                    labels: { zone: "a" },
                    availability: undefined,
                    ssh: undefined,
                },
            ],
            sshUser: "root",
            sshPort: 22,
            sshPrivateKey: undefined,
            sshDialAttempts: 30,
            dockerInstall: "distro",
            dockerVersion: undefined,
            autolock: false,
            joinTokenRotation: 0,
            services: {},
            zookeeper: undefined,
            firewall: { enabled: true },
            trustOnFirstUse: false,
            registrarImage: "swarm-ha-registrar:3",
            dockerReadImage: "swarm-ha-docker-read:2",
        });
    });

    test("host keys by node name reach each node's ssh settings", () => {
        const s = readSettings(
            source({
                nodes: NODES,
                sshPrivateKey: "k",
                hostKeys: { w1: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey" },
            }),
        );
        expect(s.nodes[1].ssh).toEqual({
            user: undefined,
            port: undefined,
            hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey",
        });
        expect(s.nodes[0].ssh).toBeUndefined();
    });

    test("the key from sshPrivateKeyFile, as a secret; host keys from knownHostsFile", async () => {
        const known = [
            "# the lab",
            "10.0.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey11",
            "[10.0.0.21]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey21",
            "10.9.0.2 ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyZK",
        ].join("\n");
        const s = readSettings(
            source(
                {
                    nodes: [NODES[0], { ...NODES[1], sshPort: 2222 }],
                    sshPrivateKeyFile: "~/lab/key",
                    knownHostsFile: "/lab/known_hosts",
                    zkServers: [{ id: 2, host: "10.9.0.2" }],
                },
                { [`${os.homedir()}/lab/key`]: "KEY TEXT", "/lab/known_hosts": known },
            ),
        );
        expect(s.sshPrivateKeyFile).toBe(`${os.homedir()}/lab/key`);
        expect(await pulumi.isSecret(s.sshPrivateKey)).toBe(true);
        expect(s.nodes.map((n) => n.ssh?.hostKey)).toEqual([
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey11",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey21",
        ]);
        expect(s.zookeeper?.servers[0].ssh).toEqual({
            hostKey: "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyZK",
        });
    });

    test("known_hosts: hashed names, ports, and markers skipped", () => {
        const salt = Buffer.from("0123456789abcdefghij");
        const hashed = (name: string) =>
            `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
        const text = [
            `@revoked 10.0.0.5 ssh-ed25519 REVOKED`,
            `${hashed("10.0.0.5")} ssh-ed25519 HASHED`,
            `${hashed("[10.0.0.6]:2200")} ssh-ed25519 HASHEDPORT`,
            "10.0.0.7,other ssh-ed25519 PLAIN",
        ].join("\n");
        expect(knownHostKey(text, "10.0.0.5", 22)).toBe("ssh-ed25519 HASHED");
        expect(knownHostKey(text, "10.0.0.6", 2200)).toBe("ssh-ed25519 HASHEDPORT");
        expect(knownHostKey(text, "10.0.0.6", 22)).toBeUndefined();
        expect(knownHostKey(text, "10.0.0.7", 22)).toBe("ssh-ed25519 PLAIN");
        expect(knownHostKey(text, "10.0.0.7", 2222)).toBeUndefined();
    });

    test("no ZooKeeper when zkServers is empty, as the declared default", () => {
        expect(
            readSettings(source({ nodes: NODES, sshPrivateKey: "k", zkServers: [] })).zookeeper,
        ).toBeUndefined();
    });

    test("the prod example reads without a problem: official monitoring images, Prometheus pinned to mgr-1", () => {
        const file = yaml.load(
            fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.prod.yaml"), "utf8"),
        ) as { config: Record<string, unknown> };
        const values = Object.fromEntries(
            Object.entries(file.config).map(([k, v]) => [k.replace(/^swarm-ha:/, ""), v]),
        );
        const s = readSettings(source({ ...values, sshPrivateKey: "k" }));
        expect(s.monitoring?.images).toEqual({
            prometheus: "prom/prometheus:v2.53.0",
            alertmanager: "prom/alertmanager:v0.27.0",
            nodeExporter: "prom/node-exporter:v1.8.1",
            exporter: "registry.example.com/swarm-ha-exporter:2",
            grafana: "grafana/grafana:11.3.0",
        });
        expect(s.monitoring?.grafana).toEqual({ enabled: true });
        expect(
            s.nodes.filter((n) => n.labels?.monitoring === "prometheus").map((n) => n.name),
        ).toEqual(["mgr-1"]);
    });

    test("Prometheus's pin: a label exactly one manager carries", () => {
        const withPin = (nodes: unknown[]) => () =>
            readSettings(
                source({
                    nodes,
                    sshPrivateKey: "k",
                    monitoring: { enabled: true, prometheusLabel: "monitoring=prometheus" },
                }),
            );
        // w1 carries it too, but only managers run Prometheus.
        const labelled = { monitoring: "prometheus" };
        expect(withPin([NODES[0], { ...NODES[1], labels: labelled }])).toThrow(
            'swarm-ha:monitoring.prometheusLabel is "monitoring=prometheus" but no manager in swarm-ha:nodes carry it; give that label to exactly one manager, where Prometheus keeps its history.',
        );
        const m2 = { name: "m2", host: "10.0.0.12", role: "manager", labels: labelled };
        const m3 = { name: "m3", host: "10.0.0.13", role: "manager", labels: labelled };
        expect(withPin([NODES[0], m2, m3])).toThrow(
            'swarm-ha:monitoring.prometheusLabel is "monitoring=prometheus" but 2 managers (m2, m3) in swarm-ha:nodes carry it; give that label to exactly one manager, where Prometheus keeps its history.',
        );
        expect(
            withPin([NODES[0], m2, { ...m3, labels: undefined }])().monitoring?.prometheusLabel,
        ).toBe("monitoring=prometheus");
    });

    test("a registered service needs the ensemble; registerPort needs register", () => {
        expect(() =>
            readSettings(
                source({
                    nodes: NODES,
                    sshPrivateKey: "k",
                    services: { web: { image: "w:1", register: true } },
                }),
            ),
        ).toThrow(
            "swarm-ha:services.web.register is true but swarm-ha:zkServers is empty; the registry lives in ZooKeeper, so declare the ensemble or drop register.",
        );
        expect(() =>
            readSettings(
                source({
                    nodes: NODES,
                    sshPrivateKey: "k",
                    services: { api: { image: "w:1", registerPort: 9000 } },
                }),
            ),
        ).toThrow(
            "swarm-ha:services.api.registerPort is 9000 but register is not true; set register: true to register the service.",
        );
        const s = readSettings(
            source({
                nodes: NODES,
                sshPrivateKey: "k",
                zkServers: [{ id: 1, node: "m1" }],
                registrarImage: "registry.example/swarm-ha-registrar:3",
                services: { api: { image: "w:1", register: true, registerPort: 9000 } },
            }),
        );
        expect(s.services.api.args.register).toBe(true);
        expect(s.services.api.args.registerPort).toBe(9000);
        expect(s.registrarImage).toBe("registry.example/swarm-ha-registrar:3");
    });

    test("the hosts whose key is checked before anything runs: nodes and ZooKeeper hosts with a key", async () => {
        const { hostKeyChecks } = await import("../../program");
        const s = readSettings(
            source({
                nodes: [
                    { ...NODES[0], hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeym1" },
                    {
                        ...NODES[1],
                        sshPort: 2222,
                        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyw1",
                    },
                ],
                sshPrivateKey: "k",
                zkServers: [
                    { id: 1, node: "m1" },
                    {
                        id: 2,
                        host: "10.0.0.31",
                        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyz2",
                    },
                    { id: 3, host: "10.0.0.32" },
                ],
            }),
        );
        expect(hostKeyChecks(s)).toEqual([
            {
                node: "m1",
                host: "10.0.0.11",
                port: 22,
                expected: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeym1",
            },
            {
                node: "w1",
                host: "10.0.0.21",
                port: 2222,
                expected: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyw1",
            },
            {
                node: "zookeeper-2",
                host: "10.0.0.31",
                port: 22,
                expected: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyz2",
            },
        ]);
    });

    test("the logins checked with the stack's key: the same hosts, each with its user", async () => {
        const { loginChecks } = await import("../../program");
        const s = readSettings(
            source({
                nodes: [
                    { ...NODES[0], hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeym1" },
                    {
                        ...NODES[1],
                        sshUser: "ops",
                        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyw1",
                    },
                ],
                sshUser: "admin",
                sshPrivateKey: "k",
                zkServers: [
                    {
                        id: 2,
                        host: "10.0.0.31",
                        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyz2",
                    },
                ],
            }),
        );
        expect(loginChecks(s)).toEqual([
            {
                node: "m1",
                host: "10.0.0.11",
                port: 22,
                user: "admin",
                hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeym1",
            },
            {
                node: "w1",
                host: "10.0.0.21",
                port: 22,
                user: "ops",
                hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyw1",
            },
            {
                node: "zookeeper-2",
                host: "10.0.0.31",
                port: 22,
                user: "admin",
                hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyz2",
            },
        ]);
    });

    test("ZooKeeper servers by cluster node name or by host", () => {
        const s = readSettings(
            source({
                nodes: NODES,
                sshPrivateKey: "k",
                zkServers: [
                    { id: 1, node: "m1" },
                    { id: 2, host: "10.9.0.2" },
                    {
                        id: 3,
                        host: "10.9.0.3",
                        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey3",
                    },
                ],
            }),
        );
        expect(s.zookeeper?.servers).toEqual([
            { id: 1, host: "10.0.0.11", address: undefined, ssh: undefined },
            { id: 2, host: "10.9.0.2", address: undefined, ssh: undefined },
            {
                id: 3,
                host: "10.9.0.3",
                address: undefined,
                ssh: { hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey3" },
            },
        ]);
        expect(s.zookeeper?.tickTime).toBe(2000);
        // Auth is on by default.
        expect(s.zookeeper?.auth).toBe(true);
        expect(s.zookeeper?.superPassword).toBeUndefined();
        expect(s.zookeeper?.dynamicReconfig).toBe(false);
    });

    test("ZooKeeper auth with a given super password, and dynamic reconfiguration", async () => {
        const s = readSettings(
            source({
                nodes: NODES,
                sshPrivateKey: "k",
                zkServers: [{ id: 1, node: "m1" }],
                zkAuth: true,
                zkSuperPassword: "pw-of-the-lab",
                zkDynamicReconfig: true,
            }),
        );
        expect(s.zookeeper?.auth).toBe(true);
        expect(s.zookeeper?.dynamicReconfig).toBe(true);
        expect(await pulumi.isSecret(s.zookeeper!.superPassword!)).toBe(true);
    });

    test.each<[string, Record<string, unknown>, string]>([
        [
            "no nodes",
            {},
            "swarm-ha:nodes is not set; list the hosts as objects with name, host and role.",
        ],
        [
            "a bad role",
            { nodes: [NODES[0], { ...NODES[1], role: "boss" }] },
            'swarm-ha:nodes[1].role is "boss"; use "manager" or "worker".',
        ],
        [
            "a node that is not an object",
            { nodes: ["m1"] },
            'swarm-ha:nodes[0] is "m1"; give a map such as { name: "m1", host: "10.0.0.11", role: "manager" }.',
        ],
        [
            "an empty host",
            { nodes: [{ name: "m1", host: "", role: "manager" }] },
            "swarm-ha:nodes[0].host is \"\"; use an IPv4 address or a host name (letters, digits, '-' and '.'; IPv6 is not supported).",
        ],
        [
            "a bad docker install",
            { nodes: NODES, dockerInstall: "snap" },
            'swarm-ha:dockerInstall is "snap"; use "distro", "docker-ce" or "none".',
        ],
        [
            "a bad publish mode",
            {
                nodes: NODES,
                services: { web: { image: "w:1", ports: [{ target: 80, mode: "mesh" }] } },
            },
            'swarm-ha:services.web.ports[0].mode is "mesh"; use "ingress" or "host".',
        ],
        [
            "services with every kind of mistake, all reported at once",
            {
                nodes: NODES,
                services: {
                    Web: { image: "w:1", replicas: "3", colour: "blue" },
                    api: { replicas: 1, limits: { memory: "lots" } },
                    db: { image: "d:1", secrets: { pw: {} } },
                },
            },
            [
                "swarm-ha:services.Web: \"Web\" is not a valid name; use lower-case letters, digits and '-', starting and ending with a letter or digit (63 at most).",
                'swarm-ha:services.Web.replicas is "3"; give a whole number.',
                "swarm-ha:services.Web.colour is not a setting; use image, registryAuth, pinDigest, replicas, global, command, args, env, secretEnv, ports, endpointMode, networks, encrypted, constraints, preferences, maxReplicasPerNode, limits, reservations, healthcheck, restartPolicy, update, rollback, secrets, configs, labels, zookeeper, register, registerPort, metricsPort, metricsPath.",
                'swarm-ha:services.api.limits.memory is "lots"; give bytes or a size such as "256M" or "1G".',
                'swarm-ha:services.api.image is missing; give the image, such as "nginx:1.27".',
                "swarm-ha:services.db.secrets.pw needs exactly one of value and file.",
            ].join("\n"),
        ],
        [
            "a config file that cannot be read",
            { nodes: NODES, services: { db: { image: "d:1", configs: { c: { file: "/none" } } } } },
            'swarm-ha:services.db.configs.c.file "/none" cannot be read.',
        ],
        [
            "a service that asks for encryption and names no network",
            { nodes: NODES, services: { web: { image: "w:1", encrypted: true } } },
            "swarm-ha:services.web.encrypted is true but it names no networks; list the overlay networks to encrypt in networks.",
        ],
        [
            "a ZooKeeper server on an unknown node",
            { nodes: NODES, zkServers: [{ id: 1, node: "m9" }] },
            'swarm-ha:zkServers[0].node is "m9", which is not a node in swarm-ha:nodes.',
        ],
        [
            "no key",
            { nodes: NODES, sshPrivateKey: undefined },
            "swarm-ha:sshPrivateKey is not set; run 'pulumi config set --secret sshPrivateKey < KEYFILE', or name the key's file in swarm-ha:sshPrivateKeyFile.",
        ],
        [
            "a key and a key file",
            { nodes: NODES, sshPrivateKeyFile: "/k" },
            "swarm-ha:sshPrivateKey and swarm-ha:sshPrivateKeyFile are both set; keep one.",
        ],
        [
            "a key file that cannot be read",
            { nodes: NODES, sshPrivateKey: undefined, sshPrivateKeyFile: "/nowhere/key" },
            "swarm-ha:sshPrivateKeyFile is \"/nowhere/key\", which cannot be read; give the path of an SSH private key (the lab's is made by 'npm run lab -- up').",
        ],
        [
            "a firewall that is not a map",
            { nodes: NODES, firewall: true },
            'swarm-ha:firewall is true; give a map such as { enabled: true, clientNetworks: ["10.1.0.0/16"] }.',
        ],
        [
            "a firewall with a misspelt setting and a network that is not text",
            { nodes: NODES, firewall: { enabled: true, clientNetwork: [], clientNetworks: [7] } },
            [
                "swarm-ha:firewall.clientNetwork is not a setting; did you mean clientNetworks?",
                "swarm-ha:firewall.clientNetworks[0] is 7; give text.",
            ].join("\n"),
        ],
        [
            "zkTls with a misspelt setting and a port that is not a number",
            {
                nodes: NODES,
                zkServers: [{ id: 1, node: "m1" }],
                zkTls: { enabled: true, secureport: 1, secureClientPort: "2281" },
            },
            [
                "swarm-ha:zkTls.secureport is not a setting; use enabled, secureClientPort, rotation.",
                'swarm-ha:zkTls.secureClientPort is "2281"; give a whole number.',
            ].join("\n"),
        ],
        [
            "a known_hosts file that cannot be read",
            { nodes: NODES, knownHostsFile: "/nowhere/known_hosts" },
            "swarm-ha:knownHostsFile is \"/nowhere/known_hosts\", which cannot be read; give an OpenSSH known_hosts file (the lab writes one with 'npm run lab -- up').",
        ],
    ])("%s", (_label, values, message) => {
        expect(() => readSettings(source({ sshPrivateKey: "k", ...values }))).toThrow(message);
    });
});

test("a network is encrypted when a service on it asks for it", () => {
    const s = readSettings(
        source({
            nodes: NODES,
            sshPrivateKey: "k",
            services: {
                web: { image: "w:1", networks: ["front", "back"], encrypted: true },
                db: { image: "d:1", networks: ["back", "store"] },
                api: { image: "a:1", networks: ["store"], encrypted: false },
            },
        }),
    );
    expect(encryptedNetworks(s)).toEqual(["back", "front"]);
});

describe("the firewall's settings", () => {
    const settings = (firewall: unknown) =>
        readSettings(
            source({
                nodes: NODES,
                sshPrivateKey: "k",
                zkServers: [{ id: 1, node: "m1" }],
                firewall,
            }),
        );
    const member = (address: string) => ({
        id: address,
        hostname: address,
        address,
        role: "worker" as const,
        reachable: false,
        state: "ready",
        availability: "active",
        labels: {},
    });

    test("on unless a stack turns it off", () => {
        expect(
            settings({ enabled: false, clientNetworks: ["10.9.0.0/16"] }).firewall,
        ).toBeUndefined();
        expect(firewallArgs(settings({ enabled: false }), [])).toBeUndefined();
        expect(settings({ clientNetworks: ["10.9.0.0/16"] }).firewall).toEqual({
            enabled: true,
            clientNetworks: ["10.9.0.0/16"],
        });
        expect(settings(undefined).firewall).toEqual({ enabled: true });
        expect(firewallArgs(settings(undefined), [])).toEqual({
            zooKeeper: {
                servers: ["10.0.0.11"],
                clientPort: 2181,
                peerPort: 2888,
                electionPort: 3888,
                clientNetworks: [],
            },
        });
    });

    test("ZooKeeper's ports and client networks; nodes the swarm has but the stack dropped stay in", () => {
        const s = settings({ enabled: true, clientNetworks: ["10.9.0.0/16"], confirmSeconds: 20 });
        const members = ["10.0.0.11", "10.0.0.21", "10.0.0.22"].map(member);
        expect(firewallArgs(s, members)).toEqual({
            leaving: ["10.0.0.22"],
            zooKeeper: {
                servers: ["10.0.0.11"],
                clientPort: 2181,
                peerPort: 2888,
                electionPort: 3888,
                clientNetworks: ["10.9.0.0/16"],
            },
            confirmSeconds: 20,
        });
        // No swarm found (a first run): the stack's nodes alone.
        expect(firewallArgs(s, undefined)?.leaving).toBeUndefined();
        // ZooKeeper servers leaving its ensemble keep its ports on the nodes' hosts too.
        expect(firewallArgs(s, members, ["10.0.0.21", "10.0.0.11"])?.zooKeeper?.servers).toEqual([
            "10.0.0.11",
            "10.0.0.21",
        ]);
    });

    test("the monitoring's ports from members and the client networks, a service's port from its own networks", () => {
        const s = readSettings(
            source({
                nodes: NODES,
                sshPrivateKey: "k",
                monitoring: { enabled: true, prometheusPort: 9091 },
                firewall: { clientNetworks: ["10.9.0.0/16"] },
                services: {
                    web: {
                        image: "nginx:1.27",
                        ports: [
                            { target: 80, published: 8080, from: ["192.0.2.0/24"] },
                            { target: 53, published: 5353, protocol: "udp", from: [] },
                            { target: 443, published: 443 },
                        ],
                    },
                },
            }),
        );
        const clients = ["10.9.0.0/16"];
        expect(firewallArgs(s, [])?.restricted).toEqual([
            { port: 9091, protocol: "tcp", from: clients },
            { port: 9093, protocol: "tcp", from: clients },
            { port: 9100, protocol: "tcp", from: clients },
            { port: 9323, protocol: "tcp", from: clients },
            { port: 8080, protocol: "tcp", from: ["192.0.2.0/24"] },
            { port: 5353, protocol: "udp", from: [] },
        ]);
        expect(
            firewallParameters(firewallArgs(s, [])!, ["10.0.0.11"], "2377", 4789).RESTRICTED,
        ).toBe(
            "tcp/9091=10.9.0.0/16 tcp/9093=10.9.0.0/16 tcp/9100=10.9.0.0/16 tcp/9323=10.9.0.0/16 tcp/8080=192.0.2.0/24 udp/5353=",
        );
        // Grafana's port too, when it runs; a port another use has is refused; settings without
        // enabled are said to stay off.
        const grafana = (g: unknown, extra: Record<string, unknown> = {}) =>
            readSettings(
                source({
                    nodes: NODES,
                    sshPrivateKey: "k",
                    monitoring: { enabled: true, grafana: g, ...extra },
                }),
            );
        expect(firewallArgs(grafana({ enabled: true, port: 3001 }), [])?.restricted).toContainEqual(
            { port: 3001, protocol: "tcp", from: [] },
        );
        expect(() => grafana({ enabled: true, port: 9090 })).toThrow(
            "swarm-ha:monitoring.grafana.port is 9090, which swarm-ha:monitoring.prometheusPort (9090) uses too; give each its own port.",
        );
        expect(() => grafana({ port: 3001 })).toThrow(
            "swarm-ha:monitoring.grafana sets port but not enabled, so it stays off; add enabled: true (or enabled: false to keep the settings while it is off).",
        );
    });

    test("a service port's from needs the firewall, a published port and tcp or udp", () => {
        const withPorts = (ports: unknown[], firewall?: unknown) => () =>
            readSettings(
                source({
                    nodes: NODES,
                    sshPrivateKey: "k",
                    firewall,
                    services: { web: { image: "nginx:1.27", ports } },
                }),
            );
        expect(
            withPorts([{ target: 80, published: 80, from: ["10.0.0.0/8"] }], { enabled: false }),
        ).toThrow(
            "swarm-ha:services.web.ports[0].from is set but swarm-ha:firewall is off; only the firewall can keep other sources out, so turn it on or drop from.",
        );
        expect(withPorts([{ target: 80, from: ["10.0.0.0/8"] }])).toThrow(
            "swarm-ha:services.web.ports[0].from is set but the port has no published port; give published, so that the firewall knows which port to close.",
        );
        expect(withPorts([{ target: 80, published: 80, protocol: "sctp", from: [] }])).toThrow(
            "swarm-ha:services.web.ports[0].from is set on an sctp port; the firewall restricts tcp and udp ports only, so drop from or use tcp or udp.",
        );
        expect(withPorts([{ target: 80, published: 80, from: ["10.0.0.0/33"] }])).toThrow(
            "swarm-ha:services.web.ports[0].from[0]",
        );
    });

    test("ZooKeeper servers on hosts of their own get the ensemble's rules; those on nodes, the cluster's", () => {
        const s = readSettings(
            source({
                nodes: NODES,
                sshPrivateKey: "k",
                zkServers: [
                    { id: 1, node: "m1" },
                    { id: 2, host: "10.0.1.2" },
                    { id: 3, host: "10.0.1.3" },
                ],
                firewall: { enabled: true, clientNetworks: ["10.9.0.0/16"] },
            }),
        );
        expect(zooKeeperFirewall(s)).toEqual({
            firewall: {
                members: ["10.0.0.11", "10.0.0.21"],
                clientNetworks: ["10.9.0.0/16"],
                servers: [2, 3],
            },
        });
        expect(zooKeeperFirewall({ ...s, firewall: undefined })).toEqual({});
        expect(
            zooKeeperFirewall({
                ...s,
                zookeeper: { ...s.zookeeper!, servers: s.zookeeper!.servers.slice(0, 1) },
            }),
        ).toEqual({});
    });

    test("with ZooKeeper's TLS, the port let in is the secure client port", () => {
        const s = readSettings(
            source({
                nodes: NODES,
                sshPrivateKey: "k",
                zkServers: [{ id: 1, node: "m1" }],
                zkTls: { enabled: true, secureClientPort: 3281 },
                firewall: { enabled: true },
            }),
        );
        expect(s.zookeeper?.tls).toEqual({ enabled: true, secureClientPort: 3281 });
        expect(firewallArgs(s, [])?.zooKeeper?.clientPort).toBe(3281);
        const off = readSettings(
            source({
                nodes: NODES,
                sshPrivateKey: "k",
                zkServers: [{ id: 1, node: "m1" }],
                zkTls: { enabled: false, rotation: 2 },
            }),
        );
        expect(off.zookeeper?.tls).toBeUndefined();
    });
});

describe("program", () => {
    test("the dev stack's settings make a cluster, ZooKeeper, a shared overlay, two services and the registry", async () => {
        pulumi.runtime.setAllConfig(
            {
                // No host answers here: the hosts' keys are trusted on first use.
                "swarm-ha:trustOnFirstUse": "true",
                "swarm-ha:clusterName": "lab",
                // On loopback: the program asks managers' SSH ports which one answers.
                "swarm-ha:nodes": JSON.stringify(
                    NODES.map((n) => ({ ...n, host: n.host.replace("10.0.0.", "127.0.0.") })),
                ),
                "swarm-ha:sshPrivateKey": "k",
                "swarm-ha:zkServers": JSON.stringify([{ id: 1, node: "m1" }]),
                "swarm-ha:services": JSON.stringify({
                    web: {
                        image: "w:1",
                        replicas: 3,
                        ports: [{ target: 80, published: 80, mode: "host" }],
                        networks: ["backend"],
                        zookeeper: true,
                        register: true,
                        secretEnv: { TOKEN: "t0ken" },
                    },
                    front: { image: "w:1", networks: ["backend"] },
                }),
            },
            ["swarm-ha:sshPrivateKey", "swarm-ha:services"],
        );
        const { program } = await import("../../program");
        const outputs = await program();
        await settle();
        const components = recorder.resources
            .filter((r) => r.type.startsWith("swarm-ha:"))
            .map((r) => `${r.type} ${r.name}`);
        expect(components).toEqual([
            "swarm-ha:index:SwarmCluster lab",
            "swarm-ha:index:ZooKeeperEnsemble zookeeper",
            // The read-only Docker API the registrar reads (the monitoring would share it).
            "swarm-ha:index:DockerReadProxy docker-read",
            "swarm-ha:index:SwarmService front",
            "swarm-ha:index:SwarmService web",
            // Registered once the ensemble it depends on is.
            "swarm-ha:index:ServiceRegistry registry",
            "swarm-ha:index:SwarmService docker-read-proxy",
            "swarm-ha:index:SwarmService registry-registrar",
        ]);
        // One provider process for every probe: the cluster's and ZooKeeper's on the program's,
        // which takes over the cluster's own (a stack converged before keeps its provider).
        expect(
            recorder.resources
                .filter((r) => r.type === "pulumi:providers:pulumi-nodejs")
                .map((r) => r.name),
        ).toEqual(["lab-probe"]);
        expect(recorder.providerOf("lab-probe")).toMatch(
            /::pulumi:providers:pulumi-nodejs::lab-probe::/,
        );
        expect(recorder.providerOf("zookeeper-serving")).toBe(recorder.providerOf("lab-probe"));
        // The registrar: on the cluster's provider, pointed at the ensemble; web is labelled for it.
        expect(recorder.providerOf("registry-registrar-service")).toMatch(/::lab-provider::/);
        const registrar = recorder.byName("registry-registrar-service").inputs as {
            taskSpec: { containerSpec: { image: string; env: Record<string, string> } };
        };
        expect(registrar.taskSpec.containerSpec.image).toBe("swarm-ha-registrar:3");
        expect(registrar.taskSpec.containerSpec.env.ZOOKEEPER_CONNECT).toBe("127.0.0.11:2181");
        // Auth is on by default; the registrar is its own digest user, not super: its password is
        // the ensemble's generated one, a Docker secret, and the ensemble's ACL step (as super)
        // gives it the registry's root and /swarm-ha.
        expect(registrar.taskSpec.containerSpec.env).toMatchObject({
            ZK_USER: "registrar",
            ZK_PASSWORD_FILE: "/run/secrets/zk-registrar-password",
        });
        const secret = recorder.byName("registry-registrar-secret-zk-registrar-password");
        expect(secret.secretPaths).toEqual(["data"]);
        expect(Buffer.from(secret.inputs.data as string, "base64").toString()).toBe(
            "generated-zookeeper-user-registrar",
        );
        expect(recorder.resources.map((r) => r.name)).toEqual(
            expect.arrayContaining(["zookeeper-super-password", "zookeeper-user-registrar"]),
        );
        expect(
            recorder.resources.filter((r) => /secret-zk-super/.test(r.name)).map((r) => r.name),
        ).toEqual([]);
        expect(String(recorder.byName("zookeeper-acl").inputs.create)).toContain(
            "OWNED='registrar /services\nregistrar /swarm-ha'",
        );
        expect(recorder.byName("web-service").inputs.labels).toEqual([
            { label: "swarm-ha.register", value: "true" },
        ]);
        const registry = outputs.registry as { root: string; connectString: pulumi.Output<string> };
        expect(registry.root).toBe("/services");
        expect(await resolve(registry.connectString)).toBe("127.0.0.11:2181");
        const networks = recorder.resources.filter(
            (r) => r.type === "docker:index/network:Network",
        );
        expect(networks.map((n) => [n.name, n.inputs])).toEqual([
            ["network-backend", { name: "backend", driver: "overlay", attachable: true }],
        ]);
        expect(recorder.providerOf("network-backend")).toMatch(/::lab-provider::/);
        const service = recorder.byName("web-service");
        const spec = service.inputs as {
            taskSpec: {
                containerSpec: { env: Record<string, string> };
                networksAdvanceds: { name: string }[];
            };
        };
        expect(spec.taskSpec.containerSpec.env).toEqual({
            ZOOKEEPER_CONNECT: "127.0.0.11:2181",
            TOKEN: "t0ken",
        });
        // A secret env value makes the task spec secret as a whole (the SDK marks top-level inputs).
        expect(service.secretPaths).toEqual(["taskSpec"]);
        expect(spec.taskSpec.networksAdvanceds).toEqual([{ id: "network-backend-id" }]);
        expect(recorder.providerOf("web-service")).toMatch(/::lab-provider::/);
        // The tasks are read on a manager that answers (none here: the first) after each change.
        const tasks = recorder.byName("web-tasks");
        expect((tasks.inputs.connection as { host: string }).host).toBe("127.0.0.11");
        // Run again on each change of the service's mode, task and endpoint specs as the swarm
        // reports them, and of what was asked: a rollback done before the provider read the
        // service back reports the old spec. Both as hashes, so a preview shows two values change.
        const reported = spec as unknown as Record<string, unknown>;
        expect(tasks.inputs.triggers).toEqual([
            contentHash(JSON.stringify([reported.mode, reported.taskSpec, reported.endpointSpec])),
            expect.stringMatching(/^[0-9a-f]{12}$/),
        ]);
        // That step waits for the service to converge (3 min at most); the provider does not.
        expect(String(tasks.inputs.create)).toContain("--filter _up-to-date=true");
        expect(String(tasks.inputs.create)).toContain("until=$(($(date +%s) + 180))");
        expect(service.inputs.convergeConfig).toBeUndefined();
        const web = (outputs.services as Record<string, Record<string, pulumi.Output<unknown>>>)
            .web;
        expect(await resolve(web.tasks)).toEqual([
            {
                id: "t1",
                node: "m1",
                address: "10.0.0.11",
                state: "Running",
                since: "6 seconds ago",
            },
            {
                id: "t2",
                node: "w1",
                address: "10.0.0.21",
                state: "Running",
                since: "5 seconds ago",
            },
        ]);
        // Host mode: where a task runs.
        expect(await resolve(web.endpoints)).toEqual(["10.0.0.11:80", "10.0.0.21:80"]);
    });

    test("the registry and the monitoring share one read-only Docker API; no service that publishes a port holds the engine's socket", async () => {
        pulumi.runtime.setAllConfig(
            {
                // No host answers here: the hosts' keys are trusted on first use.
                "swarm-ha:trustOnFirstUse": "true",
                "swarm-ha:clusterName": "lab",
                "swarm-ha:nodes": JSON.stringify(
                    NODES.map((n) => ({ ...n, host: n.host.replace("10.0.0.", "127.0.0.") })),
                ),
                "swarm-ha:sshPrivateKey": "k",
                "swarm-ha:zkServers": JSON.stringify([{ id: 1, node: "m1" }]),
                "swarm-ha:monitoring": JSON.stringify({ enabled: true }),
                "swarm-ha:dockerReadImage": "registry.example:5000/swarm-ha-docker-read:2",
                "swarm-ha:services": JSON.stringify({
                    web: {
                        image: "w:1",
                        ports: [{ target: 80, published: 80 }],
                        register: true,
                        metricsPort: 80,
                    },
                }),
            },
            ["swarm-ha:sshPrivateKey", "swarm-ha:services"],
        );
        const before = recorder.resources.length;
        const { program } = await import("../../program");
        await program();
        await settle();
        const created = recorder.resources.slice(before);
        const proxies = created.filter((r) => r.type === "swarm-ha:index:DockerReadProxy");
        expect(proxies.map((r) => r.name)).toEqual(["docker-read"]);
        const proxy = recorder.byName("docker-read-proxy-service").inputs as {
            // eslint-disable-next-line @typescript-eslint/no-explicit-any
            [k: string]: any;
        };
        expect(proxy.taskSpec.containerSpec.image).toBe(
            "registry.example:5000/swarm-ha-docker-read:2",
        );
        expect(recorder.providerOf("docker-read-proxy-service")).toMatch(/::lab-provider::/);
        // (Each consumer waiting for the proxy is shown by the components' own tests.)
        const services = created.filter((r) => r.type === "docker:index/service:Service");
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const mounts = (r: any): { type: string; source?: string; readOnly: boolean }[] =>
            r.inputs.taskSpec.containerSpec.mounts ?? [];
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const publishes = (r: any): boolean => (r.inputs.endpointSpec?.ports ?? []).length > 0;
        const summary = Object.fromEntries(
            services.map((r) => [
                r.name,
                {
                    engineSocket: mounts(r).some((m) => m.source === "/var/run/docker.sock"),
                    readOnlyApi: mounts(r).some(
                        (m) => m.source === "docker-read-socket" && m.readOnly,
                    ),
                    publishes: publishes(r),
                },
            ]),
        );
        expect(summary).toEqual({
            "docker-read-proxy-service": {
                engineSocket: true,
                readOnlyApi: false,
                publishes: false,
            },
            "registry-registrar-service": {
                engineSocket: false,
                readOnlyApi: true,
                publishes: false,
            },
            "monitoring-exporter-service": {
                engineSocket: false,
                readOnlyApi: true,
                publishes: false,
            },
            "monitoring-node-exporter-service": {
                engineSocket: false,
                readOnlyApi: false,
                publishes: true,
            },
            "monitoring-alertmanager-service": {
                engineSocket: false,
                readOnlyApi: false,
                publishes: true,
            },
            "monitoring-prometheus-service": {
                engineSocket: false,
                readOnlyApi: true,
                publishes: true,
            },
            "web-service": { engineSocket: false, readOnlyApi: false, publishes: true },
        });
        for (const s of services.filter(publishes)) {
            expect({ name: s.name, mounts: mounts(s).map((m) => m.source) }).toEqual({
                name: s.name,
                mounts: expect.not.arrayContaining(["/var/run/docker.sock"]),
            });
        }
    });

    test("every component's rules are checked before any resource: all problems at once", async () => {
        pulumi.runtime.setAllConfig(
            {
                // No host answers here: the hosts' keys are trusted on first use.
                "swarm-ha:trustOnFirstUse": "true",
                "swarm-ha:clusterName": "bad",
                "swarm-ha:nodes": JSON.stringify([
                    { name: "m1", host: "127.0.0.11", role: "manager" },
                    { name: "m2", host: "127.0.0.12", role: "manager" },
                ]),
                "swarm-ha:sshPrivateKey": "k",
                "swarm-ha:zkServers": JSON.stringify([
                    { id: 1, node: "m1" },
                    { id: 2, node: "m2" },
                ]),
                "swarm-ha:services": JSON.stringify({
                    web: { image: "w:1", global: true, replicas: 2 },
                }),
            },
            ["swarm-ha:sshPrivateKey", "swarm-ha:services"],
        );
        const before = recorder.resources.length;
        const { program } = await import("../../program");
        await expect(program()).rejects.toThrow(
            [
                'SwarmCluster "bad": 2 managers given; use an odd number (1, 3, 5, 7) so the swarm keeps a quorum, or set allowEvenManagers.',
                'ZooKeeperEnsemble "zookeeper": 2 servers given; use 1, 3, 5 or 7 so the ensemble keeps a quorum, or set allowEven.',
                'SwarmService "web": replicas is 2 with global true; a global service runs one task per node, so leave replicas unset.',
            ].join("\n"),
        );
        await settle();
        expect(recorder.resources.length).toBe(before);
    });
});

describe("the ensemble's servers repaired in this run", () => {
    test("those on nodes whose engine the survey found drifted; not a firewall alone", () => {
        const s = readSettings(
            source({
                nodes: [...NODES, { name: "m2", host: "10.0.0.12", role: "manager" }],
                sshPrivateKey: "k",
                zkServers: [
                    { id: 1, node: "m1" },
                    { id: 2, node: "m2" },
                    { id: 3, host: "10.0.1.3" },
                ],
            }),
        );
        expect(
            repairedServers(s, {
                engine: {
                    m1: ["its Docker engine is not running (systemd: inactive)"],
                    m2: [FIREWALL_OFF],
                    w1: ["its Docker engine is not running (systemd: inactive)"],
                },
                spec: {},
            }),
        ).toEqual([1]);
        expect(repairedServers(s, { engine: {}, spec: {} })).toEqual([]);
    });
});

describe("host keys are always verified", () => {
    const KEY_M1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyM1";
    const KEY_W1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkeyW1";
    const stack = (extra: Record<string, unknown> = {}) =>
        readSettings(
            source({
                nodes: NODES,
                sshPrivateKey: "k",
                hostKeys: { m1: KEY_M1 },
                zkServers: [
                    { id: 1, node: "m1" },
                    { id: 2, host: "10.0.0.31" },
                ],
                ...extra,
            }),
        );

    test("a host with no recorded key is refused, with how to record it or to trust it on first use", () => {
        expect(unpinnedHosts(stack())).toEqual([
            { node: "w1", host: "10.0.0.21", port: 22 },
            { node: "zookeeper-2", host: "10.0.0.31", port: 22 },
        ]);
        expect(unpinnedProblems(stack())).toEqual([
            "swarm-ha: w1 (10.0.0.21): no SSH host key is recorded for it, so another host at its address could not be told from it; check its key's fingerprint and record it (ssh-keyscan -t ed25519 -p 22 10.0.0.21, into the file swarm-ha:knownHostsFile names or as swarm-ha:hostKeys.w1), or set swarm-ha:trustOnFirstUse true to keep the key it presents at the first run and require it afterwards.",
            "swarm-ha: zookeeper-2 (10.0.0.31): no SSH host key is recorded for it, so another host at its address could not be told from it; check its key's fingerprint and record it (ssh-keyscan -t ed25519 -p 22 10.0.0.31, into the file swarm-ha:knownHostsFile names or as swarm-ha:hostKeys.zookeeper-2), or set swarm-ha:trustOnFirstUse true to keep the key it presents at the first run and require it afterwards.",
        ]);
        expect(unpinnedProblems(stack({ trustOnFirstUse: true }))).toEqual([]);
        expect(unpinnedHosts(stack({ hostKeys: { m1: KEY_M1, w1: KEY_W1 } }))).toHaveLength(1);
    });

    test("trust on first use: the keys presented now for the checks, the kept ones for the resources", async () => {
        const s = stack({ trustOnFirstUse: true });
        const asked: string[] = [];
        const presented = await presentedKeys(s, async (host, port, type) => {
            asked.push(`${host}:${port} ${type}`);
            return host === "10.0.0.21" ? KEY_W1 : undefined;
        });
        // Only the unpinned hosts are asked.
        expect(asked.sort()).toEqual(["10.0.0.21:22 ssh-ed25519", "10.0.0.31:22 ssh-ed25519"]);
        const before = recorder.resources.length;
        const kept = keepHostKeys(s, presented, new ProbeHost("probes"));
        await settle();
        const trusted = recorder.resources
            .slice(before)
            .filter((r) => r.type === "pulumi-nodejs:dynamic/swarm-ha:TrustedHostKey");
        expect(
            trusted.map((r) => [r.name, r.inputs.node, r.inputs.host, r.inputs.presented]).sort(),
        ).toEqual([
            ["host-key-w1", "w1", "10.0.0.21", KEY_W1],
            ["host-key-zookeeper-2", "zookeeper-2", "10.0.0.31", undefined],
        ]);
        expect(recorder.providerOf("host-key-w1")).toMatch(/::probes::/);
        // The recorded key stays as it was; the trusted ones are the resources' outputs.
        expect(kept.nodes[0].ssh?.hostKey).toBe(KEY_M1);
        expect(pulumi.Output.isInstance(kept.nodes[1].ssh?.hostKey)).toBe(true);
        expect(pulumi.Output.isInstance(kept.zookeeper?.servers[1].ssh?.hostKey)).toBe(true);
        // A server on a node is reached as the node is.
        expect(kept.zookeeper?.servers[0].ssh).toBe(kept.nodes[0].ssh);
    });
});

describe("TrustedHostKey's provider", () => {
    const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIfirst";
    const host = { node: "w1", host: "10.0.0.21", port: 22 };

    test("create keeps the key presented; nothing presented is refused", async () => {
        expect(await trustedHostKeyProvider.create!({ ...host, presented: KEY })).toEqual({
            id: "w1",
            outs: { ...host, key: KEY },
        });
        await expect(trustedHostKeyProvider.create!(host)).rejects.toThrow(
            "swarm-ha: w1 (10.0.0.21): no ed25519 SSH host key could be read to trust it on first use (ssh-keyscan on port 22 got none: the host did not answer, or offers no ed25519 key); start the host, or record its key in hostKeys or knownHostsFile.",
        );
    });

    test("diff: the same key or none presented keeps the first; another key is refused", async () => {
        const olds = { ...host, key: KEY };
        expect(await trustedHostKeyProvider.diff!("w1", olds, { ...host, presented: KEY })).toEqual(
            {
                changes: false,
            },
        );
        expect(await trustedHostKeyProvider.diff!("w1", olds, host)).toEqual({ changes: false });
        await expect(
            trustedHostKeyProvider.diff!("w1", olds, {
                ...host,
                presented: "ssh-ed25519 AAAAother",
            }),
        ).rejects.toThrow(
            `swarm-ha: w1 (10.0.0.21): the host presents the SSH host key ssh-ed25519 AAAAother, but ${KEY} was trusted on first use and is kept in the stack's state; nothing was changed. If the host was rebuilt, check its new key and record it in hostKeys or knownHostsFile.`,
        );
    });
});

describe("a value set with --secret inside a structured setting", () => {
    const services = {
        web: {
            image: "w:1",
            env: { PLAIN: "p", TOKEN: "t0ken" },
            args: ["--password", "hunter2"],
            configs: { app: { value: "password=hunter2" } },
        },
    };
    const envOf = (secretKeys: string[]) => {
        pulumi.runtime.setAllConfig(
            {
                "swarm-ha:nodes": JSON.stringify(NODES),
                "swarm-ha:sshPrivateKey": "k",
                "swarm-ha:services": JSON.stringify(services),
            },
            ["swarm-ha:sshPrivateKey", ...secretKeys],
        );
        return readSettings(stackConfig()).services.web.args;
    };

    test("Pulumi names the key, not the part: every service's env, args and configs become secrets", async () => {
        const web = envOf(["swarm-ha:services"]);
        for (const value of [
            web.env!.PLAIN,
            web.env!.TOKEN,
            ...web.args!,
            web.configs!.app.content,
        ]) {
            expect(pulumi.Output.isInstance(value)).toBe(true);
            expect(await pulumi.isSecret(value as pulumi.Output<string>)).toBe(true);
        }
        expect(await resolve(pulumi.output(web.env!.TOKEN))).toBe("t0ken");
    });

    test("a map with no secret part stays plain", () => {
        const web = envOf([]);
        expect(web.env).toEqual({ PLAIN: "p", TOKEN: "t0ken" });
        expect(web.args).toEqual(["--password", "hunter2"]);
    });
});

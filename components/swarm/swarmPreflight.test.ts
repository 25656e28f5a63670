// SwarmCluster's own checks of its hosts (swarmPreflight.ts), with a stand-in for OpenSSH that
// answers each host's login and questions as a test sets: the refusals with their messages, the
// drift it hands the cluster, the firewall's leaving nodes, and when it asks nothing.
import * as pulumi from "@pulumi/pulumi";
import { SshLoginCheck, SshLoginResult, sshRun } from "../host/ssh";
import { NODE_COMMAND } from "./swarmDrift";
import { IPSEC_COMMAND } from "../host/ipsec";
import { MEMBERS_COMMAND } from "./swarmQuorum";
import {
    SwarmAsker,
    PreflightArgs,
    preflightCluster,
    preflightSkipped,
    withLeaving,
} from "./swarmPreflight";
import { SwarmNodeArgs } from "./swarmNode";

const KEY = (n: string) =>
    `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey${n}xxxxxxxxxxxxxxxxxxxxxxx`;
const node = (name: string, role: "manager" | "worker", extra: Partial<SwarmNodeArgs> = {}) => ({
    name,
    host: `10.9.0.${name.slice(1)}${role === "manager" ? 1 : 2}`,
    role,
    ssh: { hostKey: KEY(name) },
    ...extra,
});
const NODES: SwarmNodeArgs[] = [
    node("m1", "manager"),
    node("m2", "manager"),
    node("m3", "manager"),
];
const args = (nodes = NODES, extra: Partial<PreflightArgs> = {}): PreflightArgs => ({
    nodes,
    ssh: { privateKey: "PRIVATE KEY TEXT" },
    ...extra,
});

/** What a host says: its login, its node report, and (a manager) the swarm's members. */
interface HostSays {
    login?: SshLoginResult;
    report?: string;
    ipsec?: string;
}
const IN_SWARM = (id: string) =>
    `engine=active swarm=active node=${id} control=true cluster=C1\ninvocation=i-${id} running=600`;
const memberLine = (n: SwarmNodeArgs, reachable = "reachable", availability = "active") =>
    `ID-${n.name} ${n.name} ${n.host}:2377 ${n.role} ${reachable} ready ${availability} {}`;

function asker(
    says: Record<string, HostSays>,
    members: string,
): { asker: SwarmAsker; asked: string[][]; scanned: string[] } {
    const asked: string[][] = [];
    const scanned: string[] = [];
    const answer = (c: SshLoginCheck, command: string) => {
        if (command === NODE_COMMAND) {
            const report = says[c.node]?.report ?? IN_SWARM(`ID-${c.node}`);
            return { ok: true, stdout: report, stderr: "" };
        }
        if (command === MEMBERS_COMMAND) return { ok: true, stdout: members, stderr: "" };
        if (command === IPSEC_COMMAND) {
            const said = says[c.node]?.ipsec ?? "ipsec=yes";
            return { ok: true, stdout: said, stderr: "" };
        }
        return { ok: false, stdout: "", stderr: `not asked: ${command}` };
    };
    const run: typeof sshRun = async (c, _file, _known, command) =>
        says[c.node]?.login && says[c.node].login !== "ok"
            ? { ok: false, stdout: "", stderr: "" }
            : answer(c, command);
    return {
        asker: {
            survey: async (checks, _file, commandsOf) => {
                asked.push(
                    ...checks.map((c) => [
                        c.node,
                        c.user,
                        `${c.port}`,
                        `${c.hostKey}`,
                        ...commandsOf(c),
                    ]),
                );
                return { results: checks.map((c) => says[c.node]?.login ?? "ok"), run };
            },
            scan: async (host) => {
                scanned.push(host);
                return `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIanotherkeyxxxxxxxxxxxxxxxxxxxxxxxx`;
            },
            wait: { attempts: 1, delayMs: 0 },
        },
        asked,
        scanned,
    };
}

const ALL_MEMBERS = NODES.map((n) => memberLine(n)).join("\n");

describe("preflightCluster", () => {
    test("asks each node once, with its login and host key, and finds nothing to repair", async () => {
        const a = asker({}, ALL_MEMBERS);
        const found = await preflightCluster("apps", args(), a.asker);
        expect(a.asked).toEqual(
            NODES.map((n) => [n.name, "root", "22", KEY(n.name), NODE_COMMAND]),
        );
        expect(found).toEqual({
            observed: {
                drift: { engine: {}, spec: {} },
                answering: ["m1", "m2", "m3"],
                unreachable: [],
            },
            firewall: undefined,
        });
    });

    test("a node out of the swarm and one drained by hand: their drift, for the cluster to repair", async () => {
        const a = asker(
            { m3: { report: "engine=active swarm=inactive node= control=false cluster=" } },
            [
                memberLine(NODES[0]),
                memberLine(NODES[1], "reachable", "drain"),
                memberLine(NODES[2], "unreachable"),
            ].join("\n"),
        );
        const found = await preflightCluster("apps", args(), a.asker);
        expect(Object.keys(found!.observed.drift.engine)).toEqual(["m3"]);
        expect(Object.keys(found!.observed.drift.spec)).toEqual(["m2"]);
        expect(found!.observed.answering).toEqual(["m1", "m2"]);
    });

    test("a host presenting another key is refused by name, before any login's answer is used", async () => {
        const a = asker({ m2: { login: "host key" } }, ALL_MEMBERS);
        await expect(preflightCluster("apps", args(), a.asker)).rejects.toThrow(
            `swarm-ha: m2 (10.9.0.21): the host presents the SSH host key ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIanotherkeyxxxxxxxxxxxxxxxxxxxxxxxx, but ${KEY("m2")} is expected (from its ssh.hostKey); if the host was rebuilt, record its new key.`,
        );
        expect(a.scanned).toEqual(["10.9.0.21"]);
    });

    test("a host refusing the key is refused by name, user and port, pointing at ssh.privateKey", async () => {
        const a = asker({ m3: { login: "refused" } }, ALL_MEMBERS);
        const refused = preflightCluster(
            "apps",
            args(NODES, { ssh: { privateKey: "PRIVATE KEY TEXT", user: "ops", port: 2222 } }),
            a.asker,
        );
        await expect(refused).rejects.toThrow(
            "swarm-ha: m3 (10.9.0.31): ops@10.9.0.31:2222 refuses the SSH key (publickey); authorize its public half for ops there, or give the key that is (ssh.privateKey).",
        );
    });

    test("removing two of three managers while one is down is refused with the numbers", async () => {
        const a = asker(
            {},
            [memberLine(NODES[0]), memberLine(NODES[1]), memberLine(NODES[2], "unreachable")].join(
                "\n",
            ),
        );
        await expect(preflightCluster("apps", args([NODES[2]]), a.asker)).rejects.toThrow(
            'SwarmCluster "apps": removing or demoting m1, m2 would leave 0 reachable of 1 managers while it runs, and a majority needs 1 (managers 3, reachable 2 (unreachable: m3 (10.9.0.31))); bring the unreachable managers back, or change fewer managers in one up.',
        );
    });

    test("with a firewall, a manager the swarm still has and the cluster no longer lists stays allowed while it leaves", async () => {
        const a = asker({}, ALL_MEMBERS);
        const found = await preflightCluster(
            "apps",
            args(NODES.slice(0, 2), { firewall: { confirmSeconds: 30 } }),
            a.asker,
        );
        expect(found!.firewall).toEqual({ confirmSeconds: 30, leaving: ["10.9.0.31"] });
    });

    test("with encrypted networks, a node whose kernel cannot carry IPsec is refused by name, asked in the same login", async () => {
        const a = asker(
            { m2: { ipsec: "ipsec=no RTNETLINK answers: Protocol not supported" } },
            ALL_MEMBERS,
        );
        const refused = preflightCluster(
            "apps",
            args(NODES, { encryptedNetworks: ["backend"] }),
            a.asker,
        );
        await expect(refused).rejects.toThrow(
            'swarm-ha: m2 (10.9.0.21): its kernel cannot carry encrypted overlay networks (IPsec ESP with AES-GCM: "RTNETLINK answers: Protocol not supported"), so backend would drop all traffic between hosts; use kernels with ESP and GCM (CONFIG_INET_ESP, CONFIG_CRYPTO_GCM), or drop encrypted from the services.',
        );
        expect(a.asked.map((q) => q.slice(4))).toEqual(
            NODES.map(() => [NODE_COMMAND, IPSEC_COMMAND]),
        );
    });

    test("no host answering (no ssh here, or all down): nothing taken from it, said once", async () => {
        const silent = Object.fromEntries(
            NODES.map((n) => [n.name, { login: "unknown" as const }]),
        );
        const a = asker(silent, ALL_MEMBERS);
        const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(async () => undefined);
        try {
            expect(await preflightCluster("apps", args(), a.asker)).toBeUndefined();
            expect(warn.mock.calls.map((c) => c[0])).toEqual([
                'SwarmCluster "apps": no host answered over SSH before the run (10.9.0.11, 10.9.0.21, 10.9.0.31), so the quorum and drift were not checked; the steps dial each host themselves.',
            ]);
        } finally {
            warn.mockRestore();
        }
    });

    test("a key known only later (an output at preview) asks nothing", async () => {
        const a = asker({}, ALL_MEMBERS);
        const later = pulumi.output(pulumi.unknown) as unknown as pulumi.Output<string>;
        expect(
            await preflightCluster("apps", args(NODES, { ssh: { privateKey: later } }), a.asker),
        ).toBe(undefined);
        expect(a.asked).toEqual([]);
    });
});

describe("preflightSkipped", () => {
    test("every node's host key recorded and one private key: the cluster asks its hosts", () => {
        expect(preflightSkipped(args())).toBeUndefined();
    });

    test("a node connected to unchecked, or with a key of its own: it does not", () => {
        const unkeyed = [
            NODES[0],
            { ...NODES[1], ssh: { acceptAnyHostKey: true } },
            { ...NODES[2], ssh: {} },
        ];
        expect(preflightSkipped(args(unkeyed))).toBe("m2, m3 have no ssh.hostKey");
        const own = [NODES[0], { ...NODES[1], ssh: { ...NODES[1].ssh, privateKey: "OTHER" } }];
        expect(preflightSkipped(args(own))).toBe("a host has its own ssh.privateKey");
    });
});

describe("withLeaving", () => {
    test("adds the members no node lists to what the firewall already lets leave, once each, sorted", () => {
        const members = [
            {
                id: "1",
                hostname: "m1",
                address: "10.9.0.11",
                role: "manager" as const,
                reachable: true,
                state: "ready",
                availability: "active",
                labels: {},
            },
            {
                id: "9",
                hostname: "old",
                address: "10.9.0.99",
                role: "worker" as const,
                reachable: false,
                state: "ready",
                availability: "active",
                labels: {},
            },
        ];
        expect(withLeaving({ leaving: ["10.9.0.98"] }, NODES, members)).toEqual({
            leaving: ["10.9.0.98", "10.9.0.99"],
        });
        expect(withLeaving({}, NODES, undefined)).toEqual({});
    });
});

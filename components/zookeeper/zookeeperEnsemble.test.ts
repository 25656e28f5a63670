// Unit tests of ZooKeeperEnsemble with Pulumi mocks: exact resources, the rolling order, zoo.cfg,
// secrets, stability under reordering, and every validation message.
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Recorder, RecordedResource, SECRET_KEY, resolve, settle } from "../../test/unit/recorder";

// What the CA command prints (a key, then the certificate), shortened.
const CA_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const CA_KEY_BODY = "MIGHfakeCAkey";
const CA_PEM = `-----BEGIN PRIVATE KEY-----\n${CA_KEY_BODY}\n-----END PRIVATE KEY-----\n${CA_CERT}`;
// What a server's request step prints, and what signing its request prints, shortened.
const csrOf = (id: string) =>
    `-----BEGIN CERTIFICATE REQUEST-----\nMIHcsr${id}\n-----END CERTIFICATE REQUEST-----\n`;
const certOf = (id: string) =>
    `-----BEGIN CERTIFICATE-----\nMIIBsrv${id}\n-----END CERTIFICATE-----\n`;

const recorder = new Recorder((name) => {
    if (name.endsWith("-tls-ca")) return CA_PEM;
    const request = /-tls-request-(\d+)$/.exec(name);
    if (request) return `server ${request[1]} made a new key\n${csrOf(request[1])}`;
    const signed = /-tls-sign-(\d+)$/.exec(name);
    if (signed) return certOf(signed[1]);
    if (/-install-\d+$/.test(name))
        return "classpath=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar\njava=x";
    if (name.endsWith("-ready"))
        return "1 10.2.0.1 follower\n2 10.2.0.2 leader\n3 10.2.0.3 follower";
    if (name.endsWith("-super-password")) return undefined;
    // One salt for every ensemble here, so that hashes of two ensembles compare.
    if (name.endsWith("-config-salt")) return "salt-of-the-tests";
    return undefined;
});
recorder.install();

import {
    ZooKeeperEnsemble,
    ZooKeeperEnsembleArgs,
    ZooKeeperServerArgs,
    TLS_DIR,
    caCommand,
    certificateOf,
    connectString,
    localOpensslProblems,
    pemBlock,
    signCommand,
    subjectAltName,
    renderMembers,
    renderZooCfg,
    ENSEMBLE_ADDRESSES_COMMAND,
    leavingServers,
    aclStdin,
    digestOf,
    renderOwnedPaths,
    saltedSha,
    superDigest,
    validateZooKeeperArgs,
} from "../internal";
import { ProbeHost } from "../host/probeHost";
import { renderScript, scriptsDir, stepCommand } from "../host/remoteScript";

const REMOTE = "command:remote:Command";
const PROBE = "pulumi-nodejs:dynamic/swarm-ha:ZooKeeperProbe";
const server = (id: number): ZooKeeperServerArgs => ({ id, host: `10.2.0.${id}` });
const args = (
    ids: number[],
    extra: Partial<ZooKeeperEnsembleArgs> = {},
): ZooKeeperEnsembleArgs => ({
    servers: ids.map(server),
    // Keys are checked by the tests that say so; the rest connect unchecked, as allowed, and no
    // host is asked before the run (hostChecks.test.ts asks a stand-in).
    ssh: { privateKey: pulumi.secret(SECRET_KEY), acceptAnyHostKey: true },
    checkHosts: false,
    ...extra,
});

async function build(
    name: string,
    a: ZooKeeperEnsembleArgs,
): Promise<{ zk: ZooKeeperEnsemble; rs: RecordedResource[] }> {
    const before = recorder.resources.length;
    const zk = new ZooKeeperEnsemble(name, a, { transformations: [recorder.transformation] });
    recorder.nameComponent(zk, name);
    await resolve(zk.servers);
    await settle();
    return {
        zk,
        rs: recorder.resources
            .slice(before)
            .filter((r) => r.type !== "swarm-ha:index:ZooKeeperEnsemble"),
    };
}

describe("ZooKeeperEnsemble resources", () => {
    test("3 servers: installs and starts in parallel, the roll and finishes one at a time, then ready", async () => {
        const { rs } = await build("zk", args([3, 1, 2]));
        expect(rs.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
            [
                ...[1, 2, 3].flatMap((i) => [
                    `${REMOTE} zk-scripts-${i}`,
                    `${REMOTE} zk-install-${i}`,
                    `${REMOTE} zk-start-${i}`,
                    `${REMOTE} zk-server-${i}`,
                    `${REMOTE} zk-finish-${i}`,
                    `${REMOTE} zk-heal-${i}`,
                ]),
                `${REMOTE} zk-ready`,
                `${PROBE} zk-serving`,
                "pulumi:providers:pulumi-nodejs zk-probe",
                // Auth is on by default: a generated super password, and the hash's salt.
                "random:index/randomPassword:RandomPassword zk-super-password",
                "random:index/randomPassword:RandomPassword zk-config-salt",
            ].sort(),
        );
        const deps = (n: string) => recorder.byName(n).dependsOn.sort();
        expect(deps("zk-scripts-1")).toEqual([]);
        expect(deps("zk-install-1")).toEqual(["zk-scripts-1"]);
        expect(deps("zk-start-2")).toEqual(["zk-install-2"]);
        const starts = ["zk-start-1", "zk-start-2", "zk-start-3"];
        expect(deps("zk-server-1")).toEqual(starts);
        expect(deps("zk-server-2")).toEqual(["zk-server-1", ...starts]);
        expect(deps("zk-server-3")).toEqual(["zk-server-2", ...starts]);
        expect(deps("zk-finish-1")).toEqual(["zk-server-1", "zk-server-2", "zk-server-3"]);
        expect(deps("zk-finish-2")).toEqual([
            "zk-finish-1",
            "zk-server-1",
            "zk-server-2",
            "zk-server-3",
        ]);
        expect(deps("zk-ready")).toEqual(["zk-finish-1", "zk-finish-2", "zk-finish-3"]);
        expect(deps("zk-serving")).toEqual(["zk-ready"]);
        expect(deps("zk-heal-2")).toEqual(["zk-serving"]);
        for (const r of rs) expect(r.parent).toBe("zk");
    });

    test("each server gets its myid, the shared zoo.cfg, and the leader defers its restart", async () => {
        await build("cfg", args([1, 2, 3], { tickTime: 3000 }));
        const create = String(recorder.byName("cfg-server-2").inputs.create);
        expect(create).toContain("MYID='2'");
        expect(create).toContain("DEFER_LEADER='true'");
        expect(create).toContain("PHASE='roll'");
        expect(String(recorder.byName("cfg-start-2").inputs.create)).toContain("PHASE='start'");
        expect(recorder.byName("cfg-start-2").inputs.delete).toBeUndefined();
        expect(create).toContain(
            "CLASSPATH_ZK='/etc/zookeeper/conf:/usr/share/java/zookeeper.jar'",
        );
        expect(create).toContain(`ZOO_CFG='${renderZooCfg(args([1, 2, 3], { tickTime: 3000 }))}'`);
        expect(String(recorder.byName("cfg-server-2").inputs.delete)).toContain("PURGE='false'");
        expect((recorder.byName("cfg-server-2").inputs.connection as { host: string }).host).toBe(
            "10.2.0.2",
        );
        expect((recorder.byName("cfg-ready").inputs.connection as { host: string }).host).toBe(
            "10.2.0.1",
        );
    });

    test("the probe asks every server; each server's heal step follows its generation", async () => {
        await build("h", args([2, 1, 3], { clientPort: 12181 }));
        const probe = recorder.byName("h-serving");
        expect(probe.type).toBe(PROBE);
        // Its own provider, with no inputs: the default one would change with any stack config.
        expect(recorder.providerOf("h-serving")).toMatch(/::h-probe::/);
        expect(recorder.byName("h-probe").inputs).toEqual({});
        expect(probe.inputs.servers).toEqual(["1 10.2.0.1", "2 10.2.0.2", "3 10.2.0.3"]);
        expect(probe.inputs.clientPort).toBe(12181);
        // Asked over SSH from the servers' hosts in turn, with the stack's key, a secret.
        expect(probe.inputs.via).toEqual(
            ["10.2.0.1", "10.2.0.2", "10.2.0.3"].map((host) => ({ host, port: 22, user: "root" })),
        );
        expect(probe.inputs.privateKeys).toEqual([SECRET_KEY, SECRET_KEY, SECRET_KEY]);
        expect(probe.secretPaths).toContain("privateKeys");
        expect(probe.secretPaths.filter((p) => p.startsWith("via"))).toEqual([]);
        expect(probe.inputs.script).toBe(
            renderScript(
                "zk-serving",
                {
                    SERVERS: "1 10.2.0.1\n2 10.2.0.2\n3 10.2.0.3",
                    CLIENT_PORT: "12181",
                    ATTEMPTS: String(probe.inputs.script).match(/^ATTEMPTS='(\d+)'/m)![1],
                    DYNAMIC: "false",
                    TLS_CA: "",
                },
                ["zk-health"],
            ),
        );
        const heal = recorder.byName("h-heal-2");
        expect((heal.inputs.connection as { host: string }).host).toBe("10.2.0.2");
        expect(heal.inputs.triggers).toHaveLength(1);
        expect(heal.inputs.delete).toBeUndefined();
        const create = String(heal.inputs.create);
        expect(create).toContain("MYID='2'");
        expect(create).toContain("CLIENT_PORT='12181'");
        expect(create.split("\n").slice(-3)).toEqual(
            ["lib", "zk-health", "zk-heal"].map((f) => `. '${scriptsDir("h")}/${f}.sh'`),
        );
    });

    test("after (an option): each server's steps on its host wait for it; what touches no host does not", async () => {
        const cluster = new pulumi.ComponentResource(
            "test:index:Cluster",
            "apt-first",
            {},
            {
                transformations: [recorder.transformation],
            },
        );
        const zk = new ZooKeeperEnsemble("waits", args([1, 2, 3]), {
            after: [cluster],
            transformations: [recorder.transformation],
        });
        await resolve(zk.servers);
        await settle();
        for (const id of [1, 2, 3]) {
            expect(recorder.byName(`waits-scripts-${id}`).dependsOn).toEqual(["apt-first"]);
        }
        for (const name of ["waits-super-password", "waits-config-salt", "waits-serving"]) {
            expect(recorder.byName(name).dependsOn).not.toContain("apt-first");
        }
    });

    test("given a pulumi-nodejs provider, the probe runs on it and the ensemble makes none", async () => {
        const shared = new ProbeHost("shared");
        const zk = new ZooKeeperEnsemble("given", args([1, 2, 3]), {
            providers: [shared],
            transformations: [recorder.transformation],
        });
        await resolve(zk.servers);
        await settle();
        expect(recorder.providerOf("given-serving")).toMatch(/::shared::/);
        expect(recorder.resources.map((r) => r.name)).not.toContain("given-probe");
    });

    test("a tickTime change changes every server's step and the config hash", async () => {
        await build("a", args([1, 2, 3]));
        await build("b", args([1, 2, 3], { tickTime: 4000 }));
        const hash = (n: string) =>
            /^CONFIG_HASH='([0-9a-f]+)'/m.exec(String(recorder.byName(n).inputs.create))?.[1];
        expect(hash("a-server-1")).toMatch(/^[0-9a-f]{16}$/);
        expect(hash("b-server-1")).not.toBe(hash("a-server-1"));
        expect(hash("a-finish-3")).toBe(hash("a-server-1"));
        expect(hash("a-ready")).toBe(hash("a-server-1"));
    });

    test("outputs: connect string and the servers' modes", async () => {
        const { zk } = await build("out", args([2, 1, 3]));
        expect(zk.connectString).toBe("10.2.0.1:2181,10.2.0.2:2181,10.2.0.3:2181");
        expect(await resolve(zk.servers)).toEqual([
            { id: 1, address: "10.2.0.1", mode: "follower" },
            { id: 2, address: "10.2.0.2", mode: "leader" },
            { id: 3, address: "10.2.0.3", mode: "follower" },
        ]);
        // Auth is on by default.
        expect(await pulumi.isSecret(zk.superPassword!)).toBe(true);
        expect(await resolve(zk.superPassword)).toBe("generated-out-super-password");
        expect(zk.userPasswords).toEqual({});
    });

    test("auth turned off: no super password, no salt, nothing on the servers' stdin", async () => {
        const { zk, rs } = await build("off", args([1, 2, 3], { auth: { enabled: false } }));
        expect(zk.superPassword).toBeUndefined();
        expect(rs.filter((r) => r.type.startsWith("random:"))).toEqual([]);
        expect(recorder.byName("off-server-1").inputs.stdin).toBe("");
        expect(recorder.byName("off-start-1").inputs.stdin).toBe("");
    });

    test("reordering servers yields identical resources", async () => {
        const a = await build("ro", args([1, 2, 3]));
        const b = await build("ro", args([3, 2, 1]));
        const view = (rs: RecordedResource[]) =>
            rs.map((r) => [r.name, r.inputs, r.dependsOn.sort()]).sort();
        expect(view(b.rs)).toEqual(view(a.rs));
    });
});

/** A resource's inputs without the ones it keeps secret: what plain state and diffs show. */
function plainText(r: RecordedResource): string {
    const copy = JSON.parse(JSON.stringify(r.inputs)) as Record<string, unknown>;
    for (const path of r.secretPaths) {
        const keys = path.split(".");
        let at: Record<string, unknown> = copy;
        for (const k of keys.slice(0, -1)) at = (at[k] ?? {}) as Record<string, unknown>;
        delete at[keys[keys.length - 1]];
    }
    return JSON.stringify(copy);
}

describe("ZooKeeperEnsemble's users (the registrar)", () => {
    const registrar = { name: "registrar", paths: ["/services", "/swarm-ha"] };

    test("each user gets a generated password; with auth, one ACL step as super after ready gives it its znodes", async () => {
        const { zk, rs } = await build(
            "own",
            args([2, 1, 3], { auth: { superPassword: "pw-for-tests" }, users: [registrar] }),
        );
        expect(
            rs
                .filter((r) => r.type.startsWith("random:") || r.name === "own-acl")
                .map((r) => `${r.type} ${r.name}`)
                .sort(),
        ).toEqual([
            `${REMOTE} own-acl`,
            "random:index/randomPassword:RandomPassword own-config-salt",
            "random:index/randomPassword:RandomPassword own-user-registrar",
        ]);
        expect(recorder.byName("own-user-registrar").inputs).toEqual({
            length: 32,
            special: false,
        });
        expect(await pulumi.isSecret(zk.userPasswords.registrar)).toBe(true);
        expect(await resolve(zk.userPasswords.registrar)).toBe("generated-own-user-registrar");

        const acl = recorder.byName("own-acl");
        expect(acl.dependsOn).toEqual(["own-ready"]);
        expect(acl.parent).toBe("own");
        expect(acl.inputs.connection).toMatchObject({ host: "10.2.0.1" });
        expect(acl.inputs.stdin).toBe(
            `pw-for-tests\n${digestOf("registrar", "generated-own-user-registrar")}`,
        );
        expect(acl.secretPaths).toEqual(expect.arrayContaining(["stdin"]));
        expect(acl.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdin"]));
        const create = String(acl.inputs.create);
        expect(create).toContain("OWNED='registrar /services\nregistrar /swarm-ha'");
        expect(create).toContain("ADDRESS='10.2.0.1'");
        expect(create).toContain(`. '${scriptsDir("own")}/zk-acl.sh'`);
        expect(create).not.toContain("pw-for-tests");
        expect(create).not.toContain("generated-own-user-registrar");
        expect(create).not.toContain(digestOf("registrar", "generated-own-user-registrar"));
    });

    test("without auth the user still gets its password (the digest scheme is always on), but no step uses super", async () => {
        const { zk, rs } = await build(
            "open",
            args([1, 2, 3], { auth: { enabled: false }, users: [registrar] }),
        );
        expect(rs.map((r) => r.name)).not.toContain("open-acl");
        expect(rs.filter((r) => r.type.startsWith("random:")).map((r) => r.name)).toEqual([
            "open-user-registrar",
        ]);
        expect(await resolve(zk.userPasswords.registrar)).toBe("generated-open-user-registrar");
    });

    test("no digest and no unsalted hash of a secret is in any plain input of any step", async () => {
        const password = "pw-for-tests";
        const { rs } = await build(
            "plain",
            args([1, 2, 3], {
                auth: { superPassword: password },
                users: [registrar],
                dynamicReconfig: true,
            }),
        );
        const secrets = [
            password,
            superDigest(password),
            superDigest(password).slice("super:".length),
            "generated-plain-user-registrar",
            digestOf("registrar", "generated-plain-user-registrar").slice("registrar:".length),
            "salt-of-the-tests",
        ];
        // The hashes the configuration hash used to be made of: a dictionary could test them.
        const sha16 = (t: string) => createHash("sha256").update(t).digest("hex").slice(0, 16);
        const derived = [sha16(superDigest(password)), sha16(password)];
        for (const r of rs) {
            const text = plainText(r);
            for (const s of [...secrets, ...derived]) {
                expect(`${r.name}: ${text.includes(s) ? s : "none"}`).toBe(`${r.name}: none`);
            }
        }
        // The hash the servers compare is keyed with the secret salt.
        const hash = /^CONFIG_HASH='([0-9a-f]+)'/m.exec(
            String(recorder.byName("plain-server-1").inputs.create),
        )?.[1];
        expect(hash).toMatch(/^[0-9a-f]{16}$/);
        expect(saltedSha("salt-of-the-tests", superDigest(password))).toMatch(/^[0-9a-f]{16}$/);
        expect(saltedSha("another salt", superDigest(password))).not.toBe(
            saltedSha("salt-of-the-tests", superDigest(password)),
        );
    });

    test("what the ACL step is told: paths in plain text, the digests only on stdin", () => {
        expect(renderOwnedPaths([registrar, { name: "monitor", paths: ["/metrics/zk"] }])).toBe(
            "registrar /services\nregistrar /swarm-ha\nmonitor /metrics/zk",
        );
        expect(aclStdin("superpw", [["registrar", "secret"]])).toBe(
            "superpw\nregistrar:93bY6sLSKRhrQ9lmjNkXaRhBsBk=",
        );
        expect(digestOf("registrar", "secret")).toBe("registrar:93bY6sLSKRhrQ9lmjNkXaRhBsBk=");
    });

    test.each([
        [
            "the super user",
            [{ name: "super", paths: ["/services"] }],
            'ZooKeeperEnsemble "zk": users "super" is the ensemble\'s own super user, which only the ensemble\'s steps use; give the platform\'s user a name of its own, such as "registrar".',
        ],
        [
            "a name the digest scheme would split",
            [{ name: "reg:istrar", paths: ["/services"] }],
            "ZooKeeperEnsemble \"zk\": users has the name \"reg:istrar\"; use a letter, then up to 31 letters, digits, '_' or '-'.",
        ],
        [
            "a name with a line break",
            [{ name: "registrar\nsuper", paths: ["/services"] }],
            "ZooKeeperEnsemble \"zk\": users has the name \"registrar\\nsuper\"; use a letter, then up to 31 letters, digits, '_' or '-'.",
        ],
        [
            "a path that would start another CLI argument",
            [{ name: "registrar", paths: ["/services world:anyone:cdrwa"] }],
            'ZooKeeperEnsemble "zk": users "registrar" has the path "/services world:anyone:cdrwa"; use an absolute ZooKeeper path of names made of letters, digits, \'.\', \'_\' and \'-\', such as "/services".',
        ],
        [
            "a relative path",
            [{ name: "registrar", paths: ["services"] }],
            'ZooKeeperEnsemble "zk": users "registrar" has the path "services"; use an absolute ZooKeeper path of names made of letters, digits, \'.\', \'_\' and \'-\', such as "/services".',
        ],
        [
            "a parent reference",
            [{ name: "registrar", paths: ["/services/../zookeeper"] }],
            'ZooKeeperEnsemble "zk": users "registrar" has the path "/services/../zookeeper"; use an absolute ZooKeeper path of names made of letters, digits, \'.\', \'_\' and \'-\', such as "/services".',
        ],
        [
            "quotes and a command",
            [{ name: "registrar", paths: ["/s';rm -rf /'"] }],
            "ZooKeeperEnsemble \"zk\": users \"registrar\" has the path \"/s';rm -rf /'\"; use an absolute ZooKeeper path of names made of letters, digits, '.', '_' and '-', such as \"/services\".",
        ],
        [
            "ZooKeeper's own tree",
            [{ name: "registrar", paths: ["/zookeeper/config"] }],
            'ZooKeeperEnsemble "zk": users "registrar" has the path "/zookeeper/config", which is ZooKeeper\'s own; use another path.',
        ],
        [
            "no paths",
            [{ name: "registrar", paths: [] }],
            'ZooKeeperEnsemble "zk": users "registrar" owns no paths; give at least one, such as "/services".',
        ],
        [
            "a user twice",
            [
                { name: "registrar", paths: ["/a"] },
                { name: "registrar", paths: ["/b"] },
            ],
            'ZooKeeperEnsemble "zk": users "registrar" is declared more than once; names must be unique.',
        ],
        [
            "two owners of one tree",
            [
                { name: "registrar", paths: ["/services"] },
                { name: "other", paths: ["/services/web"] },
            ],
            'ZooKeeperEnsemble "zk": users "registrar" and "other" both own "/services/web"; a znode has one owner.',
        ],
    ])("users: %s is refused", (_label, users, message) => {
        expect(() => validateZooKeeperArgs("zk", args([1, 2, 3], { users }))).toThrow(message);
    });
});

describe("ZooKeeperEnsemble auth and secrets", () => {
    test("a given password: its digest reaches servers on stdin only, and the password is secret", async () => {
        const { zk } = await build(
            "auth",
            args([1, 2, 3], { auth: { enabled: true, superPassword: "pw-for-tests" } }),
        );
        expect(await pulumi.isSecret(zk.superPassword!)).toBe(true);
        expect(await resolve(zk.superPassword)).toBe("pw-for-tests");
        const step = recorder.byName("auth-server-1");
        expect(step.inputs.stdin).toBe(superDigest("pw-for-tests"));
        expect(step.secretPaths).toEqual(expect.arrayContaining(["stdin"]));
        expect(String(step.inputs.create)).not.toContain("pw-for-tests");
        expect(String(step.inputs.create)).not.toContain(superDigest("pw-for-tests"));
        expect(step.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdin"]));
    });

    test("no password: one is generated with random.RandomPassword", async () => {
        const { rs } = await build("gen", args([1], { auth: { enabled: true } }));
        const pw = rs.find((r) => r.type === "random:index/randomPassword:RandomPassword");
        expect(pw?.name).toBe("gen-super-password");
        expect(pw?.inputs).toEqual({ length: 32, special: false });
    });

    test("the super digest is ZooKeeper's: base64 of SHA-1 of super:password", () => {
        // Expected value computed apart: printf super:secret | openssl sha1 -binary | base64
        expect(superDigest("secret")).toBe("super:lK75jTNcA+U9vtVEw5vB51mj/w4=");
    });
});

describe("ZooKeeperEnsemble with dynamic reconfiguration", () => {
    const dynamic = (ids: number[]) =>
        args(ids, {
            dynamicReconfig: true,
            auth: { enabled: true, superPassword: "pw-for-tests" },
        });

    test("one more step, members, after the finishes and before ready, on the first server", async () => {
        const { rs } = await build("dyn", dynamic([3, 1, 2]));
        expect(rs.filter((r) => r.type === REMOTE).map((r) => r.name)).toContain("dyn-members");
        expect(rs.filter((r) => r.type === REMOTE)).toHaveLength(6 * 3 + 2);
        const deps = (n: string) => recorder.byName(n).dependsOn.sort();
        expect(deps("dyn-members")).toEqual(["dyn-finish-1", "dyn-finish-2", "dyn-finish-3"]);
        expect(deps("dyn-ready")).toEqual(["dyn-members"]);
        const members = recorder.byName("dyn-members");
        expect((members.inputs.connection as { host: string }).host).toBe("10.2.0.1");
        expect(members.inputs.delete).toBeUndefined();
        const create = String(members.inputs.create);
        expect(create).toContain(
            "MEMBERS='server.1=10.2.0.1:2888:3888:participant\nserver.2=10.2.0.2:2888:3888:participant\nserver.3=10.2.0.3:2888:3888:participant'",
        );
        expect(create).toContain(`. '${scriptsDir("dyn")}/zk-members.sh'`);
        expect(create).toContain("DYNAMIC='true'");
    });

    test("the super password reaches the members step on stdin only, as a secret", async () => {
        await build("dpw", dynamic([1, 2, 3]));
        const members = recorder.byName("dpw-members");
        expect(members.inputs.stdin).toBe("pw-for-tests");
        expect(members.secretPaths).toEqual(expect.arrayContaining(["stdin"]));
        expect(members.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdin"]));
        expect(String(members.inputs.create)).not.toContain("pw-for-tests");
    });

    test("every finish step gets the super password on stdin, as a secret, for the leader's handover", async () => {
        await build("dho", dynamic([1, 2, 3]));
        for (const id of [1, 2, 3]) {
            const finish = recorder.byName(`dho-finish-${id}`);
            expect(finish.inputs.stdin).toBe("pw-for-tests");
            expect(finish.secretPaths).toEqual(expect.arrayContaining(["stdin"]));
            expect(finish.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdin"]));
            const create = String(finish.inputs.create);
            expect(create).not.toContain("pw-for-tests");
            expect(create).toContain("DYNAMIC='true'");
            expect(create).toContain(
                "CLASSPATH_ZK='/etc/zookeeper/conf:/usr/share/java/zookeeper.jar'",
            );
            expect(create).toContain(`. '${scriptsDir("dho")}/zk-finish.sh'`);
        }
        // The install step adds nftables, with which a server sends its clients away first.
        expect(String(recorder.byName("dho-install-1").inputs.create)).toContain("DYNAMIC='true'");
        // With auth but no dynamic reconfiguration the leader restarts in place: no password.
        await build("sho", args([1, 2, 3], { auth: { enabled: true, superPassword: "pw" } }));
        expect(recorder.byName("sho-finish-2").inputs.stdin).toBe("");
        expect(String(recorder.byName("sho-finish-2").inputs.create)).toContain("DYNAMIC='false'");
    });

    test("the server list leaves zoo.cfg, so growing changes no server's config hash", async () => {
        await build("g3", dynamic([1, 2, 3]));
        await build("g5", dynamic([1, 2, 3, 4, 5]));
        const hash = (n: string) =>
            /^CONFIG_HASH='([0-9a-f]+)'/m.exec(String(recorder.byName(n).inputs.create))?.[1];
        expect(hash("g5-server-1")).toBe(hash("g3-server-1"));
        expect(String(recorder.byName("g5-server-1").inputs.create)).toContain(
            "server.5=10.2.0.5:2888:3888:participant",
        );
        const statics = await build("s3", args([1, 2, 3]));
        expect(statics.rs.map((r) => r.name)).not.toContain("s3-members");
    });

    test("zoo.cfg enables reconfig and has no server lines; members carry the participant role", () => {
        const lines = renderZooCfg(dynamic([2, 1, 3])).split("\n");
        expect(lines.slice(-2)).toEqual(["reconfigEnabled=true", "standaloneEnabled=false"]);
        expect(lines.filter((l) => l.startsWith("server."))).toEqual([]);
        expect(renderMembers({ ...dynamic([2, 1]), peerPort: 12888 }, true)).toEqual([
            "server.1=10.2.0.1:12888:3888:participant",
            "server.2=10.2.0.2:12888:3888:participant",
        ]);
    });
});

describe("ZooKeeperEnsemble with TLS", () => {
    const withTls = (rotation?: number) =>
        args([1, 2, 3], {
            auth: { enabled: true, superPassword: "pw" },
            tls: { enabled: true, ...(rotation === undefined ? {} : { rotation }) },
        });

    test("a CA made where Pulumi runs, its output secret and never logged; a keystore password per rotation", async () => {
        const { zk, rs } = await build("t", withTls());
        const ca = recorder.byName("t-tls-ca");
        expect(ca.type).toBe("command:local:Command");
        expect(ca.inputs).toEqual({ create: caCommand("t"), logging: "none" });
        expect(ca.additionalSecretOutputs).toEqual(["stdout"]);
        expect(caCommand("t")).toContain("-subj '/CN=swarm-ha t ZooKeeper CA'");
        const pw = rs.find(
            (r) =>
                r.type === "random:index/randomPassword:RandomPassword" &&
                r.name === "t-keystore-password",
        );
        expect(pw?.inputs).toEqual({ length: 32, special: false, keepers: { rotation: "0" } });
        // The certificate alone is public, for clients.
        expect(await resolve(zk.tlsCa)).toBe(CA_CERT);
        expect(await pulumi.isSecret(zk.tlsCa!)).toBe(false);
    });

    test("per server: a request on the server, signed where Pulumi runs, then the keystore on the server; in that order", async () => {
        const { rs } = await build("o", withTls());
        const LOCAL = "command:local:Command";
        const tlsSteps = rs
            .filter((r) => /-tls-|-keystore-/.test(r.name))
            .map((r) => `${r.type} ${r.name}`);
        expect(tlsSteps.sort()).toEqual(
            [
                `${LOCAL} o-tls-ca`,
                "random:index/randomPassword:RandomPassword o-keystore-password",
                ...[1, 2, 3].flatMap((i) => [
                    `${REMOTE} o-tls-request-${i}`,
                    `${LOCAL} o-tls-sign-${i}`,
                    `${REMOTE} o-tls-${i}`,
                ]),
            ].sort(),
        );
        // With the servers' other steps: 6 each and the 3 TLS ones; ready, the probe and its
        // provider; the CA, the keystore password and the config hash's salt.
        expect(rs).toHaveLength(3 * 9 + 3 + 3);
        const deps = (n: string) => recorder.byName(n).dependsOn.sort();
        expect(deps("o-tls-request-2")).toEqual(["o-install-2"]);
        expect(deps("o-tls-sign-2")).toEqual(["o-tls-request-2"]);
        expect(deps("o-tls-2")).toEqual(["o-tls-request-2", "o-tls-sign-2"]);
        expect(deps("o-start-2")).toEqual(["o-install-2", "o-tls-2"]);
        for (const r of rs) expect(r.parent).toBe("o");
        // Nothing here is replaced when an input changes: no triggers; a change runs a step again.
        for (const r of rs.filter((r) => /-tls-(request|sign)?-?\d+$/.test(r.name))) {
            expect(`${r.name} ${String(r.inputs.triggers)}`).toBe(`${r.name} undefined`);
        }
    });

    test("the CA's key is in no remote step's inputs at all, and in no command line", async () => {
        const { rs } = await build("k", withTls());
        const remote = rs.filter((r) => r.type === REMOTE);
        expect(remote.length).toBe(3 * 8 + 1);
        for (const r of remote) {
            const text = JSON.stringify(r.inputs);
            expect(`${r.name}: ${text.includes(CA_KEY_BODY)}`).toBe(`${r.name}: false`);
            // No key at all but the SSH key of the connection.
            const { connection, ...rest } = r.inputs;
            expect(JSON.stringify(connection)).toContain("OPENSSH PRIVATE KEY");
            expect(`${r.name}: ${JSON.stringify(rest).includes("PRIVATE KEY")}`).toBe(
                `${r.name}: false`,
            );
        }
        // Where Pulumi runs, it is on the signing steps' stdin only.
        for (const r of rs.filter((r) => r.type === "command:local:Command")) {
            expect(String(r.inputs.create)).not.toContain(CA_KEY_BODY);
            expect(r.inputs.environment).toBeUndefined();
        }
        expect(String(recorder.byName("k-tls-sign-1").inputs.stdin)).toContain(CA_KEY_BODY);
    });

    test("the request step: on the server, after install, no stdin; its request is all the signing takes from it", async () => {
        await build("q", withTls());
        const step = recorder.byName("q-tls-request-2");
        expect(step.type).toBe(REMOTE);
        expect(step.inputs).toEqual({
            connection: step.inputs.connection,
            create: stepCommand(scriptsDir("q"), "zk-tls-request", {
                NODE: "zookeeper-2",
                HOST: "10.2.0.2",
                MYID: "2",
                TLS_DIR,
                ROTATION: "0",
            }),
            addPreviousOutputInEnv: false,
        });
        expect((step.inputs.connection as { host: string }).host).toBe("10.2.0.2");
        expect(step.secretPaths).toEqual(["connection"]);
    });

    test("the signing step: where Pulumi runs, the CA and the request on stdin, secret and never logged", async () => {
        await build("s", withTls());
        const step = recorder.byName("s-tls-sign-2");
        expect(step.type).toBe("command:local:Command");
        expect(step.inputs).toEqual({
            create: signCommand(2, "10.2.0.2"),
            // The CA's output, then the request alone (not the step's other lines).
            stdin: `${CA_PEM}\n${csrOf("2")}`,
            logging: "none",
            addPreviousOutputInEnv: false,
        });
        expect(step.secretPaths).toEqual(["stdin"]);
        expect(step.additionalSecretOutputs).toEqual(["stdin"]);
        expect(await pulumi.isSecret(step.props.stdin as pulumi.Output<string>)).toBe(true);
    });

    test("the keystore step: the password and the certificates on stdin only, as a secret; the certificate's hash in its command", async () => {
        await build("i", withTls());
        const step = recorder.byName("i-tls-2");
        expect(step.type).toBe(REMOTE);
        const create = String(step.inputs.create);
        expect(create).toContain("MYID='2'");
        expect(create).toContain(`TLS_DIR='${TLS_DIR}'`);
        expect(create).toContain("ROTATION='0'");
        expect(create).toMatch(/^CA_SHA256='[0-9a-f]{16}'$/m);
        expect(create).toMatch(/^CERT_SHA256='[0-9a-f]{16}'$/m);
        expect(create).not.toContain("BEGIN");
        expect(create).toMatch(/\. '[^']*\/zk-tls\.sh'$/);
        expect(step.inputs.stdin).toBe(`generated-i-keystore-password\n${certOf("2")}${CA_CERT}`);
        expect(step.secretPaths.sort()).toEqual(["connection", "stdin"]);
        expect(step.additionalSecretOutputs.sort()).toEqual(["connection", "stdin"]);
        // Another server's certificate is its own.
        expect(recorder.byName("i-tls-3").inputs.stdin).toBe(
            `generated-i-keystore-password\n${certOf("3")}${CA_CERT}`,
        );
    });

    test("the signing command: the CA's key read from stdin into a private temporary folder, the certificate as the CA decides", () => {
        expect(signCommand(2, "10.2.0.2").split("\n")).toEqual([
            "set -eu",
            "umask 077",
            `d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT`,
            'cat >"$d/in"',
            'v=$(openssl req -in "$d/in" -noout -verify 2>&1) || v=',
            'case $v in *"verify OK"*) ;; *)',
            "  echo 'swarm-ha: the certificate request of ZooKeeper server 2 is not a request signed by its key' >&2",
            "  exit 1 ;;",
            "esac",
            `cat >"$d/ext" <<'SWARM_HA_EXT'`,
            "subjectAltName=IP:10.2.0.2",
            "extendedKeyUsage=serverAuth,clientAuth",
            "basicConstraints=critical,CA:FALSE",
            "SWARM_HA_EXT",
            'openssl x509 -req -in "$d/in" -CA "$d/in" -CAkey "$d/in" -CAserial "$d/serial" \\',
            '  -CAcreateserial -days 825 -extfile "$d/ext" -out "$d/crt"',
            'cat "$d/crt"',
        ]);
        expect(signCommand(4, "ZK4.Example.internal")).toContain(
            "\nsubjectAltName=DNS:ZK4.Example.internal\n",
        );
        // The SAN rule of before: digits and dots are an IP address, anything else a DNS name.
        expect(subjectAltName("10.2.0.2")).toBe("IP:10.2.0.2");
        expect(subjectAltName("zk-1.example")).toBe("DNS:zk-1.example");
        expect(subjectAltName("1e100.net")).toBe("DNS:1e100.net");
    });

    test("pemBlock takes one whole block of its label out of a step's output, or says what is missing", () => {
        const out = `server 2 made a new key\n${csrOf("2")}trailing`;
        expect(pemBlock(out, "CERTIFICATE REQUEST", "x")).toBe(csrOf("2"));
        expect(pemBlock(CA_PEM, "CERTIFICATE", "x")).toBe(CA_CERT);
        expect(() => pemBlock(csrOf("2"), "CERTIFICATE", "no certificate here")).toThrow(
            "swarm-ha: no certificate here",
        );
        // A block with anything but base64 in it is not taken.
        expect(() =>
            pemBlock(
                "-----BEGIN CERTIFICATE-----\nA$(x)\n-----END CERTIFICATE-----",
                "CERTIFICATE",
                "none",
            ),
        ).toThrow("swarm-ha: none");
    });

    test("without openssl where Pulumi runs, TLS is refused at once (at preview too), naming openssl, before any child", async () => {
        const before = recorder.resources.length;
        const path = process.env.PATH;
        process.env.PATH = "/nonexistent";
        try {
            expect(() => new ZooKeeperEnsemble("no-openssl", withTls())).toThrow(
                /^ZooKeeperEnsemble "no-openssl": tls\.enabled is on and openssl does not run on the machine running Pulumi \(spawnSync openssl ENOENT\); the ensemble's CA and the signing of each server's certificate run openssl there, so install it \(Debian and Ubuntu: apt-get install openssl\) or put it on PATH\.$/,
            );
        } finally {
            process.env.PATH = path;
        }
        await settle();
        expect(
            recorder.resources.slice(before).filter((r) => r.name.startsWith("no-openssl-")),
        ).toEqual([]);
        // Without TLS nothing asks for it; with it and openssl there, nothing is refused.
        expect(localOpensslProblems("z", {}, { error: "x" })).toEqual([]);
        expect(localOpensslProblems("z", { tls: { enabled: false } }, { error: "x" })).toEqual([]);
        expect(localOpensslProblems("z", withTls(), { version: "OpenSSL 3.0.19" })).toEqual([]);
    });

    test("clients, the health checks and the probe use the secure port and the CA", async () => {
        const { zk } = await build("c", withTls());
        expect(zk.connectString).toBe("10.2.0.1:2281,10.2.0.2:2281,10.2.0.3:2281");
        const heal = String(recorder.byName("c-heal-1").inputs.create);
        expect(heal).toContain("CLIENT_PORT='2281'");
        expect(heal).toContain(`TLS_CA='${TLS_DIR}/ca.crt'`);
        expect(String(recorder.byName("c-install-1").inputs.create)).toContain("TLS='true'");
        const probe = recorder.byName("c-serving");
        expect(probe.inputs.clientPort).toBe(2281);
        expect(probe.inputs.script).toContain(`TLS_CA='${TLS_DIR}/ca.crt'`);
        expect(probe.inputs.script).toContain("CLIENT_PORT='2281'");
    });

    test("a rotation issues every certificate again and restarts the servers; nothing else changes", async () => {
        await build("r0", withTls());
        await build("r1", withTls(1));
        const param = (n: string, key: string) =>
            new RegExp(`^${key}='([^']*)'`, "m").exec(
                String(recorder.byName(n).inputs.create),
            )?.[1];
        // A new key on each server (its request step runs again), signed anew, a new keystore.
        expect(param("r1-tls-request-1", "ROTATION")).toBe("1");
        expect(param("r0-tls-request-1", "ROTATION")).toBe("0");
        expect(param("r1-tls-1", "ROTATION")).toBe("1");
        expect(recorder.byName("r1-keystore-password").inputs.keepers).toEqual({ rotation: "1" });
        // The signing command is the same: it signs again because the request is new.
        expect(recorder.byName("r1-tls-sign-1").inputs.create).toBe(signCommand(1, "10.2.0.1"));
        expect(param("r1-server-1", "CONFIG_HASH")).not.toBe(param("r0-server-1", "CONFIG_HASH"));
        expect(param("r1-server-1", "ZOO_CFG")).toBe(param("r0-server-1", "ZOO_CFG"));
        // The roll: one server at a time, as for any change of the config hash.
        expect(recorder.byName("r1-server-2").dependsOn.sort()).toEqual([
            "r1-server-1",
            "r1-start-1",
            "r1-start-2",
            "r1-start-3",
        ]);
    });

    test("certificateOf takes the certificate out of the CA command's output", () => {
        expect(certificateOf(CA_PEM)).toBe(CA_CERT);
        expect(() => certificateOf("nothing")).toThrow(
            "swarm-ha: the ZooKeeper CA command printed no certificate",
        );
    });

    test("zoo.cfg: only the secure client port, Netty, and the same stores for clients and the quorum", () => {
        const cfg = renderZooCfg(withTls()).split("\n");
        expect(cfg.filter((l) => /clientPort|ssl|Cnxn/i.test(l))).toEqual([
            "secureClientPort=2281",
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
            `ssl.keyStore.location=${TLS_DIR}/keystore.p12`,
            "ssl.keyStore.type=PKCS12",
            `ssl.keyStore.passwordPath=${TLS_DIR}/keystore.pass`,
            `ssl.trustStore.location=${TLS_DIR}/ca.crt`,
            "ssl.trustStore.type=PEM",
            "ssl.clientAuth=none",
            "sslQuorum=true",
            `ssl.quorum.keyStore.location=${TLS_DIR}/keystore.p12`,
            "ssl.quorum.keyStore.type=PKCS12",
            `ssl.quorum.keyStore.passwordPath=${TLS_DIR}/keystore.pass`,
            `ssl.quorum.trustStore.location=${TLS_DIR}/ca.crt`,
            "ssl.quorum.trustStore.type=PEM",
        ]);
    });
});

describe("ZooKeeper's TLS steps, run here with this machine's openssl", () => {
    // The request and keystore steps as hosts run them, in a throwaway folder, with an `install`
    // that leaves owners alone; the CA and the signing as Pulumi runs them (/bin/sh -c, stdin).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zk-tls-"));
    const tlsDir = path.join(dir, "tls");
    const bin = path.join(dir, "bin");
    beforeAll(() => {
        fs.mkdirSync(bin);
        fs.writeFileSync(
            path.join(bin, "install"),
            [
                "#!/bin/sh",
                "skip=",
                "for a do",
                "  shift",
                '  if [ -n "$skip" ]; then skip=; continue; fi',
                "  case $a in -o | -g) skip=1; continue ;; esac",
                '  set -- "$@" "$a"',
                "done",
                'exec /usr/bin/install "$@"',
            ].join("\n"),
            { mode: 0o755 },
        );
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const sh = (script: string, input = ""): string =>
        execFileSync("/bin/sh", ["-c", script], {
            input,
            encoding: "utf8",
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
            stdio: ["pipe", "pipe", "pipe"],
        });
    const fails = (script: string, input: string): string => {
        try {
            sh(script, input);
        } catch (e) {
            return String((e as { stderr: string }).stderr);
        }
        throw new Error("the step succeeded");
    };
    const base = { NODE: "zookeeper-2", HOST: "10.2.0.2", MYID: "2", TLS_DIR: tlsDir };
    const request = (rotation: string) =>
        sh(renderScript("zk-tls-request", { ...base, ROTATION: rotation }));
    const keystore = (rotation: string) =>
        renderScript("zk-tls", { ...base, ROTATION: rotation, CA_SHA256: "c", CERT_SHA256: "s" });
    // The plugin hands a command's stdout on without its last newline.
    const ca = () => sh(caCommand("t")).replace(/\n$/, "");
    const pubkey = (args: string[], input: string) =>
        execFileSync("openssl", args, { input, encoding: "utf8" }).trim();
    const mode = (f: string) => (fs.statSync(path.join(tlsDir, f)).mode & 0o777).toString(8);

    test("request, signing, keystore: the server's key stays on it, the CA's never gets there", () => {
        const caPem = ca();
        const caCert = certificateOf(caPem);
        const out = request("0");
        expect(out).toMatch(/^server 2 made a new key and certificate request \(rotation 0\)\n/);
        const csr = pemBlock(out, "CERTIFICATE REQUEST", "none");
        // Signing leaves nothing behind in its temporary folder's parent: no key, no serial file.
        const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
        const signed = execFileSync("/bin/sh", ["-c", signCommand(2, "10.2.0.2")], {
            input: `${caPem}\n${csr}`,
            encoding: "utf8",
            env: { ...process.env, TMPDIR: tmp },
        });
        expect(fs.readdirSync(tmp)).toEqual([]);
        const cert = pemBlock(signed, "CERTIFICATE", "none");
        const text = execFileSync("openssl", ["x509", "-noout", "-text"], {
            input: cert,
            encoding: "utf8",
        });
        expect(text).toMatch(/Subject: CN = zookeeper-2\n/);
        expect(text).toMatch(/Issuer: CN = swarm-ha t ZooKeeper CA\n/);
        expect(text).toMatch(/Subject Alternative Name: \n\s+IP Address:10\.2\.0\.2\n/);
        expect(text).toMatch(
            /Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/,
        );
        expect(text).toMatch(/Basic Constraints: critical\n\s+CA:FALSE\n/);
        const days =
            (Date.parse(/Not After : (.*)\n/.exec(text)![1]) -
                Date.parse(/Not Before: (.*)\n/.exec(text)![1])) /
            86_400_000;
        expect(days).toBe(825);

        expect(sh(keystore("0"), `pw-of-2\n${cert}${caCert}`)).toMatch(
            /^server 2 has a certificate for IP Address:10\.2\.0\.2, serial [0-9A-F]+ \(rotation 0\)\n$/,
        );
        // The files and modes of before, and the request's folder that root alone reads.
        expect(fs.readdirSync(tlsDir).sort()).toEqual([
            "ca.crt",
            "keystore.p12",
            "keystore.pass",
            "request",
        ]);
        expect([mode("."), mode("keystore.p12"), mode("keystore.pass"), mode("ca.crt")]).toEqual([
            "750",
            "400",
            "400",
            "444",
        ]);
        expect(mode("request")).toBe("700");
        expect(fs.readdirSync(path.join(tlsDir, "request")).sort()).toEqual([
            "for",
            "server.csr",
            "server.key",
        ]);
        expect(fs.readFileSync(path.join(tlsDir, "keystore.pass"), "utf8")).toBe("pw-of-2");
        expect(fs.readFileSync(path.join(tlsDir, "ca.crt"), "utf8")).toBe(caCert);
        const p12 = (extra: string[]) =>
            execFileSync(
                "openssl",
                [
                    "pkcs12",
                    "-in",
                    path.join(tlsDir, "keystore.p12"),
                    "-passin",
                    "pass:pw-of-2",
                    ...extra,
                ],
                { encoding: "utf8" },
            );
        expect(pemBlock(p12(["-nokeys", "-clcerts"]), "CERTIFICATE", "none")).toBe(cert);
        const serverKey = pubkey(["pkey", "-pubout"], p12(["-nocerts", "-nodes"]));
        expect(serverKey).toBe(pubkey(["req", "-noout", "-pubkey"], csr));

        // No key under the TLS folder is the CA's, and no line of the CA's key is in any file.
        const caPublic = pubkey(["x509", "-noout", "-pubkey"], caCert);
        const keyFile = fs.readFileSync(path.join(tlsDir, "request", "server.key"), "utf8");
        for (const key of [serverKey, pubkey(["pkey", "-pubout"], keyFile)]) {
            expect(key).not.toBe(caPublic);
        }
        const caKeyLines = pemBlock(caPem, "PRIVATE KEY", "none").split("\n").slice(1, -2);
        const files = fs.readdirSync(tlsDir, { recursive: true, encoding: "utf8" });
        for (const f of files.filter((f) => fs.statSync(path.join(tlsDir, f)).isFile())) {
            const content = fs.readFileSync(path.join(tlsDir, f), "latin1");
            for (const line of caKeyLines)
                expect(`${f}: ${content.includes(line)}`).toBe(`${f}: false`);
        }
    });

    test("a re-run keeps the key and prints the same request; a rotation makes a new key; a stale certificate is refused", () => {
        const caPem = ca();
        const first = pemBlock(request("0"), "CERTIFICATE REQUEST", "none");
        const again = request("0");
        expect(again).toMatch(/^server 2 keeps its key of rotation 0\n/);
        expect(pemBlock(again, "CERTIFICATE REQUEST", "none")).toBe(first);
        const rotated = pemBlock(request("1"), "CERTIFICATE REQUEST", "none");
        expect(pubkey(["req", "-noout", "-pubkey"], rotated)).not.toBe(
            pubkey(["req", "-noout", "-pubkey"], first),
        );
        // The certificate of the key before the rotation does not go into a keystore.
        const stale = sh(signCommand(2, "10.2.0.2"), `${caPem}\n${first}`);
        expect(fails(keystore("1"), `pw\n${stale}\n${certificateOf(caPem)}`)).toContain(
            "swarm-ha: zookeeper-2 (10.2.0.2): the certificate given is for another key than",
        );
        // Nor one signed by another CA, nor the CA's output in place of the certificates.
        const other = ca();
        const foreign = sh(signCommand(2, "10.2.0.2"), `${other}\n${rotated}`);
        expect(fails(keystore("1"), `pw\n${foreign}\n${certificateOf(caPem)}`)).toContain(
            "the certificate given for server 2 is not signed by the CA given",
        );
        expect(fails(keystore("1"), `pw\n${caPem}`)).toContain("stdin holds not the password");
    });

    test("signing refuses a request whose signature does not verify", () => {
        const csr = pemBlock(request("5"), "CERTIFICATE REQUEST", "none");
        const der = Buffer.from(csr.split("\n").slice(1, -2).join(""), "base64");
        der[der.length - 1] ^= 1;
        const lines = der.toString("base64").match(/.{1,64}/g)!;
        const broken = `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
        expect(fails(signCommand(2, "10.2.0.2"), `${ca()}\n${broken}`)).toBe(
            "swarm-ha: the certificate request of ZooKeeper server 2 is not a request signed by its key\n",
        );
    });
});

describe("ZooKeeperEnsemble's firewall, for servers on hosts of their own", () => {
    const fw = (servers?: number[]) =>
        args([1, 2, 3], {
            tls: { enabled: true },
            firewall: {
                members: ["10.0.0.11", "10.2.0.1"],
                clientNetworks: ["192.0.2.0/24"],
                confirmSeconds: 12,
                ...(servers ? { servers } : {}),
            },
        });

    test("the rules, then a new SSH connection confirming them, before the install", async () => {
        await build("f", fw([2, 3]));
        expect(() => recorder.byName("f-firewall-1")).toThrow(/no resource named f-firewall-1/);
        const rules = recorder.byName("f-firewall-2");
        expect(rules.dependsOn).toEqual(["f-scripts-2"]);
        const create = String(rules.inputs.create);
        // The servers and the members (once each) reach the client port, the servers alone the others.
        expect(create).toContain("MEMBERS='10.2.0.1 10.2.0.2 10.2.0.3 10.0.0.11'");
        expect(create).toContain("ENSEMBLE='10.2.0.1 10.2.0.2 10.2.0.3'");
        expect(create).toContain("CLIENTS='192.0.2.0/24'");
        expect(create).toContain("ZK_CLIENT_PORT='2281'");
        expect(create).toContain("ZK_PEER_PORTS='2888, 3888'");
        expect(create).toContain("CONFIRM_SECONDS='12'");
        expect(create.split("\n").pop()).toBe(`. '${scriptsDir("f")}/firewall.sh'`);
        expect(String(rules.inputs.delete).split("\n").pop()).toBe(
            `. '${scriptsDir("f")}/firewall-remove.sh'`,
        );
        expect(recorder.byName("f-firewall-ok-2").dependsOn).toEqual(["f-firewall-2"]);
        expect(recorder.byName("f-install-2").dependsOn).toEqual(["f-firewall-ok-2"]);
        expect(recorder.byName("f-install-1").dependsOn).toEqual(["f-scripts-1"]);
    });

    test("servers leaving the ensemble keep its ports while they leave; the members do not change", async () => {
        const a = fw();
        await build("l", { ...a, firewall: { ...a.firewall!, leaving: ["10.2.0.5", "10.2.0.1"] } });
        const create = String(recorder.byName("l-firewall-1").inputs.create);
        expect(create).toContain("ENSEMBLE='10.2.0.1 10.2.0.2 10.2.0.3 10.2.0.5'");
        expect(create).toContain("MEMBERS='10.2.0.1 10.2.0.2 10.2.0.3 10.0.0.11'");
    });

    test("which servers leave: the addresses a server's host finds in zoo.cfg or its dynamic file, not listed", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zk-ensemble-"));
        const cfg = path.join(dir, "zoo.cfg");
        const run = () =>
            execFileSync(
                "sh",
                ["-c", ENSEMBLE_ADDRESSES_COMMAND.replace("/etc/zookeeper-ensemble/zoo.cfg", cfg)],
                { encoding: "utf8" },
            );
        try {
            // None runs there: nothing.
            expect(run()).toBe("");
            fs.writeFileSync(
                cfg,
                "tickTime=2000\nserver.1=10.2.0.1:2888:3888\nserver.12=10.2.0.9:2888:3888\n",
            );
            expect(run()).toBe("10.2.0.1\n10.2.0.9\n");
            // Dynamic: the file ZooKeeper last wrote, which zoo.cfg names.
            const dynamic = path.join(dir, "zoo.cfg.dynamic.100000003");
            fs.writeFileSync(cfg, `tickTime=2000\ndynamicConfigFile=${dynamic}\n`);
            fs.writeFileSync(
                dynamic,
                "server.1=10.2.0.1:2888:3888:participant;2181\nserver.4=10.2.0.4:2888:3888:participant;0.0.0.0:2181\n",
            );
            expect(run()).toBe("10.2.0.1\n10.2.0.4\n");
            // Only IPv4 addresses count (what the firewall admits); a host that did not answer, none.
            expect(
                leavingServers(
                    ["10.2.0.1", "10.2.0.2"],
                    [run(), undefined, "10.2.0.4\n10.2.0.2\nx; reboot\n", ""],
                ),
            ).toEqual(["10.2.0.4"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("its problems: addresses, networks, servers and confirmSeconds", () => {
        const bad = {
            ...args([1, 2, 3]),
            servers: [server(1), server(2), { id: 3, host: "zk3.example" }],
            firewall: {
                members: ["m1"],
                clientNetworks: ["10.0.0.0/33"],
                confirmSeconds: 2,
                servers: [4],
                leaving: ["10.2.0.9:2888"],
            },
        };
        expect(() => validateZooKeeperArgs("zk", bad)).toThrow(
            [
                'ZooKeeperEnsemble "zk": server 3 has address "zk3.example"; the firewall admits servers by IPv4 address, so give one as address.',
                'ZooKeeperEnsemble "zk": firewall.members "m1" is not an IPv4 address.',
                'ZooKeeperEnsemble "zk": firewall.clientNetworks "10.0.0.0/33" is not an IPv4 network; write it as ADDRESS/BITS (10.1.0.0/16, 192.0.2.7/32).',
                'ZooKeeperEnsemble "zk": firewall.servers names 4, which is not a server\'s id.',
                'ZooKeeperEnsemble "zk": firewall.leaving "10.2.0.9:2888" is not an IPv4 address.',
                'ZooKeeperEnsemble "zk": firewall.confirmSeconds is 2; use a whole number of at least 5.',
            ].join("\n"),
        );
    });
});

describe("zoo.cfg", () => {
    test("defaults", () => {
        expect(renderZooCfg(args([2, 1, 3]))).toBe(
            [
                "# Written by the swarm-ha ZooKeeperEnsemble; changes roll out one server at a time.",
                "tickTime=2000",
                "initLimit=10",
                "syncLimit=5",
                "dataDir=/var/lib/zookeeper",
                "dataLogDir=/var/lib/zookeeper",
                "clientPort=2181",
                "4lw.commands.whitelist=srvr,mntr,ruok",
                "admin.enableServer=false",
                "autopurge.snapRetainCount=3",
                "autopurge.purgeInterval=24",
                "server.1=10.2.0.1:2888:3888",
                "server.2=10.2.0.2:2888:3888",
                "server.3=10.2.0.3:2888:3888",
            ].join("\n"),
        );
    });

    test("every setting", () => {
        const text = renderZooCfg({
            ...args([1]),
            servers: [{ id: 7, host: "h7", address: "10.9.0.7" }],
            tickTime: 1000,
            initLimit: 20,
            syncLimit: 4,
            dataDir: "/d",
            dataLogDir: "/l",
            clientPort: 12181,
            peerPort: 12888,
            electionPort: 13888,
            fourLetterWords: ["srvr", "mntr"],
            adminServer: "localhost",
            adminPort: 18080,
            autopurge: { snapRetainCount: 5, purgeIntervalHours: 1 },
        });
        expect(text.split("\n").slice(1)).toEqual([
            "tickTime=1000",
            "initLimit=20",
            "syncLimit=4",
            "dataDir=/d",
            "dataLogDir=/l",
            "clientPort=12181",
            "4lw.commands.whitelist=srvr,mntr",
            "admin.enableServer=true",
            "admin.serverAddress=127.0.0.1",
            "admin.serverPort=18080",
            "autopurge.snapRetainCount=5",
            "autopurge.purgeInterval=1",
            "server.7=10.9.0.7:12888:13888",
        ]);
        expect(
            connectString({
                ...args([1]),
                servers: [{ id: 7, host: "h7", address: "10.9.0.7" }],
                clientPort: 12181,
            }),
        ).toBe("10.9.0.7:12181");
    });
});

describe("ZooKeeperEnsemble validation", () => {
    const sha = "a".repeat(128);
    test.each<[string, ZooKeeperEnsembleArgs, string]>([
        [
            "even size",
            args([1, 2]),
            'ZooKeeperEnsemble "zk": 2 servers given; use 1, 3, 5 or 7 so the ensemble keeps a quorum, or set allowEven.',
        ],
        ["no servers", args([]), 'ZooKeeperEnsemble "zk": 0 servers given; use 1, 3, 5 or 7.'],
        [
            "a server whose host key nothing records, unless the settings accept any",
            args([1], {
                servers: [{ id: 1, host: "10.2.0.1" }],
                ssh: { privateKey: "k" },
            }),
            'ZooKeeperEnsemble "zk": server 1 (10.2.0.1) has no ssh.hostKey, so any machine answering at its address would get the logins and the steps\' secrets; give its public host key (ssh-keyscan -t ed25519, checked out of band) as its ssh.hostKey, or set ssh.acceptAnyHostKey: true to connect unchecked.',
        ],
        [
            "dynamic reconfiguration without auth",
            args([1, 2, 3], { dynamicReconfig: true, auth: { enabled: false } }),
            'ZooKeeperEnsemble "zk": dynamicReconfig is on and auth.enabled is not; ZooKeeper lets only the super user reconfigure, so turn auth on.',
        ],
        [
            "nine servers",
            args([1, 2, 3, 4, 5, 6, 7, 8, 9]),
            'ZooKeeperEnsemble "zk": 9 servers given; use 1, 3, 5 or 7.',
        ],
        [
            "id out of range",
            { ...args([1, 2]), servers: [server(1), server(2), { id: 256, host: "10.2.0.99" }] },
            'ZooKeeperEnsemble "zk": server id 256 is not valid; ids are whole numbers from 1 to 255.',
        ],
        [
            "duplicate id",
            { ...args([1]), servers: [server(1), server(2), { id: 2, host: "10.2.0.9" }] },
            'ZooKeeperEnsemble "zk": server id 2 is used more than once; ids must be unique.',
        ],
        [
            "duplicate address",
            {
                ...args([1]),
                servers: [server(1), server(2), { id: 3, host: "x", address: "10.2.0.2" }],
            },
            'ZooKeeperEnsemble "zk": address "10.2.0.2" is used by more than one server; addresses must be unique.',
        ],
        [
            "same ports",
            args([1], { peerPort: 2181 }),
            'ZooKeeperEnsemble "zk": clientPort and peerPort are both 2181; each port must be distinct.',
        ],
        [
            "bad port",
            args([1], { electionPort: 0 }),
            'ZooKeeperEnsemble "zk": electionPort is 0; use a port from 1 to 65535.',
        ],
        [
            "tarball without sha512",
            args([1], {
                install: {
                    method: "tarball",
                    url: "https://example.invalid/zk.tgz",
                    version: "3.9.3",
                },
            }),
            'ZooKeeperEnsemble "zk": install.sha512 is missing; the tarball method needs the tarball\'s sha512 (128 hex digits).',
        ],
        [
            "tarball without url",
            args([1], { install: { method: "tarball", sha512: sha, version: "3.9.3" } }),
            'ZooKeeperEnsemble "zk": install.url is missing; the tarball method needs the tarball\'s URL.',
        ],
        [
            "no mntr",
            args([1], { fourLetterWords: ["srvr", "ruok"] }),
            'ZooKeeperEnsemble "zk": fourLetterWords lacks "mntr"; the health check needs srvr and mntr.',
        ],
        [
            "TLS with dynamic reconfiguration",
            args([1, 2, 3], {
                auth: { enabled: true },
                dynamicReconfig: true,
                tls: { enabled: true },
            }),
            'ZooKeeperEnsemble "zk": dynamicReconfig and tls.enabled are both on; this release reconfigures over the plain client port only, so turn one of them off.',
        ],
        [
            "secure port on the peer port",
            args([1], { tls: { enabled: true, secureClientPort: 2888 } }),
            'ZooKeeperEnsemble "zk": tls.secureClientPort and peerPort are both 2888; each port must be distinct.',
        ],
        [
            "negative rotation",
            args([1], { tls: { enabled: true, rotation: -1 } }),
            'ZooKeeperEnsemble "zk": tls.rotation is -1; use a whole number of at least 0.',
        ],
        [
            "zero tickTime",
            args([1], { tickTime: 0 }),
            'ZooKeeperEnsemble "zk": tickTime is 0; use a whole number of at least 1.',
        ],
    ])("%s", (_label, a, message) => {
        expect(() => validateZooKeeperArgs("zk", a)).toThrow(message);
        try {
            validateZooKeeperArgs("zk", a);
        } catch (e) {
            expect((e as Error).message).toBe(message);
        }
    });

    test("even sizes with allowEven, and a complete tarball install, pass", () => {
        expect(() =>
            validateZooKeeperArgs("zk", args([1, 2, 3, 4], { allowEven: true })),
        ).not.toThrow();
        expect(() =>
            validateZooKeeperArgs(
                "zk",
                args([1], {
                    install: {
                        method: "tarball",
                        url: "https://downloads.example/zookeeper-3.9.3-bin.tar.gz",
                        version: "3.9.3",
                        sha512: sha,
                    },
                }),
            ),
        ).not.toThrow();
    });
});

// The checks a component runs on its own hosts (host/hostChecks.ts), with a stand-in for OpenSSH:
// the refusals and their messages, when nothing is asked, the children registered after the
// checks; and ZooKeeperEnsemble running them itself, registering nothing when refused.
import * as pulumi from "@pulumi/pulumi";
import { Recorder, SECRET_KEY, resolve, settle, stepStdout } from "../../test/unit/recorder";

const recorder = new Recorder(stepStdout);
recorder.install();

// ZooKeeperEnsemble's call of askHosts, watched; the function itself stays the real one.
jest.mock("./hostChecks", () => {
    const actual = jest.requireActual("./hostChecks");
    return { ...actual, askHosts: jest.fn(actual.askHosts) };
});

import { Children, ComponentHost, HostAsker, askHosts, unaskedReason } from "./hostChecks";
import { SshLoginResult, resolveSsh, sshRun } from "./ssh";
import { ValidationError } from "./validation";
import { ZooKeeperEnsemble, ZooKeeperEnsembleArgs } from "../internal";

const KEY = (n: number) =>
    `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey${n}xxxxxxxxxxxxxxxxxxxxxxxxx`;
const PRIVATE = "PRIVATE KEY TEXT";
const host = (n: number, extra = {}): ComponentHost => ({
    node: `zookeeper-${n}`,
    host: `10.3.0.${n}`,
    ssh: resolveSsh({ privateKey: PRIVATE, hostKey: KEY(n), ...extra }),
});

/** A stand-in for OpenSSH: each host's login as a test sets; every command answers its name. */
function asker(logins: Record<string, SshLoginResult> = {}): HostAsker & { asked: string[] } {
    const asked: string[] = [];
    const run: typeof sshRun = async (_c, _f, _k, command) => ({
        ok: true,
        stdout: command,
        stderr: "",
    });
    return {
        asked,
        survey: async (checks, _file, commandsOf) => {
            for (const c of checks) asked.push(`${c.user}@${c.host}:${c.port} ${c.hostKey}`);
            void commandsOf;
            return { results: checks.map((c) => logins[c.node] ?? "ok"), run };
        },
        scan: async () => KEY(9),
    };
}

describe("askHosts", () => {
    test("logs in to each host once with its recorded key, then gives the answers to the check", async () => {
        const a = asker();
        const answer = await askHosts(
            'Thing "t"',
            [host(1), host(2, { user: "ops", port: 2222 })],
            PRIVATE,
            () => ["echo hi"],
            async (survey, _file, logins) => survey.run(logins[1], "", "", "echo hi"),
            a,
        );
        expect(a.asked).toEqual([`root@10.3.0.1:22 ${KEY(1)}`, `ops@10.3.0.2:2222 ${KEY(2)}`]);
        expect(answer).toEqual({ ok: true, stdout: "echo hi", stderr: "" });
    });

    test("another host key presented, and a key refused: one error naming each host", async () => {
        const a = asker({ "zookeeper-1": "host key" });
        await expect(
            askHosts(
                "T",
                [host(1), host(2)],
                PRIVATE,
                () => [],
                async () => "used",
                a,
            ),
        ).rejects.toThrow(
            new ValidationError(
                `swarm-ha: zookeeper-1 (10.3.0.1): the host presents the SSH host key ${KEY(9)}, but ${KEY(1)} is expected (from its ssh.hostKey); if the host was rebuilt, record its new key.`,
            ),
        );
        const refused = asker({ "zookeeper-2": "refused" });
        await expect(
            askHosts(
                "T",
                [host(1), host(2)],
                PRIVATE,
                () => [],
                async () => "used",
                refused,
            ),
        ).rejects.toThrow(
            "swarm-ha: zookeeper-2 (10.3.0.2): root@10.3.0.2:22 refuses the SSH key (publickey); authorize its public half for root there, or give the key that is (ssh.privateKey).",
        );
    });

    test("a host key given as an output is checked once known: a second line in it is refused by name", async () => {
        const a = asker();
        const smuggled = pulumi.output(
            `${KEY(1)}\n* ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIanyhostxxxxxxxxxxxxxxxxxxxxxx`,
        );
        const keyed = { ...host(1), ssh: { ...host(1).ssh, hostKey: smuggled } };
        await expect(
            askHosts(
                "T",
                [keyed, host(2)],
                PRIVATE,
                () => [],
                async () => "used",
                a,
            ),
        ).rejects.toThrow(
            'T: zookeeper-1 (10.3.0.1) ssh.hostKey is "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIhostkey1xxxxxxxxxxxxxx... (142 characters); use the host\'s public key as "TYPE BASE64" (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com), as ssh-keyscan prints it.',
        );
        expect(a.asked).toEqual([]);
    });

    test("a key known only later asks nothing", async () => {
        const a = asker();
        const later = pulumi.output(pulumi.unknown) as unknown as pulumi.Output<string>;
        const use = jest.fn();
        expect(await askHosts("T", [host(1)], later, () => [], use, a)).toBeUndefined();
        expect(a.asked).toEqual([]);
        expect(use).not.toHaveBeenCalled();
    });
});

test("a refusal's stack is its message: Pulumi prints a refusal that comes after the program returned by its stack", () => {
    const refusal = new ValidationError("swarm-ha: m1 (10.0.0.1): refused");
    expect(refusal.stack).toBe("swarm-ha: m1 (10.0.0.1): refused");
    expect(pulumi.RunError.isInstance(refusal)).toBe(true);
});

describe("unaskedReason", () => {
    test("every host's key and one private key: asked; else why not", () => {
        expect(unaskedReason([host(1), host(2)], PRIVATE)).toBeUndefined();
        const unkeyed = {
            ...host(2),
            ssh: resolveSsh({ privateKey: PRIVATE, acceptAnyHostKey: true }),
        };
        expect(unaskedReason([host(1), unkeyed], PRIVATE)).toBe("zookeeper-2 has no ssh.hostKey");
        expect(unaskedReason([host(1), host(2, { privateKey: "OTHER" })], PRIVATE)).toBe(
            "a host has its own ssh.privateKey",
        );
    });
});

describe("Children", () => {
    const resource = new pulumi.ComponentResource("test:index:Thing", "thing");

    test("not asked: built at once, outputs and resources as the build gave them", async () => {
        const children = new Children(undefined, () => ({
            value: pulumi.output("v"),
            r: resource,
        }));
        expect(await resolve(children.output((p) => p.value))).toBe("v");
        expect(children.resources((p) => [p.r])).toEqual([resource]);
        await expect(children.done).resolves.toBeDefined();
    });

    test("asked: built with what the checks found, a secret staying secret", async () => {
        let found: unknown;
        const children = new Children(Promise.resolve("found"), (f) => {
            found = f;
            return { value: pulumi.secret("s"), r: resource };
        });
        const out = children.output((p) => p.value);
        expect(await resolve(out)).toBe("s");
        expect(found).toBe("found");
        expect(await pulumi.isSecret(out)).toBe(true);
        expect(await children.resources((p) => [p.r])).toEqual([resource]);
    });

    test("refused: nothing built, outputs unknown, done and the resources fail with the refusal", async () => {
        const refusal = new ValidationError("refused");
        const build = jest.fn();
        const children = new Children(Promise.reject(refusal), build);
        const out = children.output(() => pulumi.output("never"));
        await expect(children.done).rejects.toBe(refusal);
        await expect(children.resources(() => [])).rejects.toBe(refusal);
        expect(await (out as unknown as { isKnown: Promise<boolean> }).isKnown).toBe(false);
        expect(build).not.toHaveBeenCalled();
    });
});

describe("ZooKeeperEnsemble asks its servers' hosts", () => {
    const watched = askHosts as jest.MockedFunction<typeof askHosts>;
    const args = (extra: Partial<ZooKeeperEnsembleArgs> = {}): ZooKeeperEnsembleArgs => ({
        servers: [1, 2, 3].map((id) => ({ id, host: `10.3.0.${id}`, ssh: { hostKey: KEY(id) } })),
        ssh: { privateKey: pulumi.secret(SECRET_KEY) },
        ...extra,
    });
    const registered = (name: string) =>
        recorder.resources.filter((r) => r.name.startsWith(name)).map((r) => `${r.type} ${r.name}`);

    test("with every host key: each host once, before its steps, which follow when it passes", async () => {
        let pass: (v: undefined) => void = () => undefined;
        watched.mockReturnValueOnce(new Promise((resolve) => (pass = resolve)));
        const zk = new ZooKeeperEnsemble("zka", args());
        const registration = (zk as unknown as { getData(): Promise<unknown> }).getData();
        let waited = false;
        void registration.then(() => (waited = true));
        await settle();
        // Asked, not answered: no step yet, and what depends on the ensemble still waits.
        expect(registered("zka-")).toEqual([]);
        expect(waited).toBe(false);
        pass(undefined);
        const [at, hosts] = watched.mock.calls.at(-1)!;
        expect(at).toBe('ZooKeeperEnsemble "zka"');
        expect(hosts.map((h) => [h.node, h.host, h.ssh.hostKey])).toEqual(
            [1, 2, 3].map((id) => [`zookeeper-${id}`, `10.3.0.${id}`, KEY(id)]),
        );
        await settle();
        expect(registered("zka-install-")).toEqual(
            [1, 2, 3].map((i) => `command:remote:Command zka-install-${i}`),
        );
        expect(await resolve(zk.servers)).toHaveLength(3);
        await registration;
        expect(waited).toBe(true);
    });

    test("refused: nothing of it registered but itself, the refusal its registration's error", async () => {
        const refusal = new ValidationError("swarm-ha: zookeeper-2 (10.3.0.2): refused");
        watched.mockRejectedValueOnce(refusal);
        const zk = new ZooKeeperEnsemble("zkr", args());
        const registration = (zk as unknown as { getData(): Promise<unknown> }).getData();
        await expect(registration).rejects.toBe(refusal);
        await settle();
        expect(registered("zkr")).toEqual(["swarm-ha:index:ZooKeeperEnsemble zkr"]);
    });

    test("checkHosts false (the program asked them), or a host without a key: not asked", async () => {
        const calls = watched.mock.calls.length;
        new ZooKeeperEnsemble("zkn", args({ checkHosts: false }));
        const unkeyed = args();
        unkeyed.servers[2] = { id: 3, host: "10.3.0.3", ssh: { acceptAnyHostKey: true } };
        new ZooKeeperEnsemble("zku", unkeyed);
        await settle();
        expect(watched.mock.calls.length).toBe(calls);
        expect(registered("zkn-install-")).toHaveLength(3);
        expect(registered("zku-install-")).toHaveLength(3);
    });
});

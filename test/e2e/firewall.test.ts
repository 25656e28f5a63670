// End to end: the hosts' firewall on fresh lab hosts, the cluster of 3 managers (ZooKeeper on
// them) and lab-w1, with lab-w2 up but not a member. Every protected port is tried from a manager,
// the worker, the outsider and this machine (a declared client network of ZooKeeper): members get
// through, the outsider is dropped, this machine reaches ZooKeeper's client port only. Then lab-w2
// joins after the rules let it in, and is taken out again after it left; destroy leaves no rule
// behind. A service's port with `from` is reached by members and those networks only, one without
// by anyone. First, rules after which SSH fails (sshd stopped, as if they locked it out) are rolled
// back. Every check reads the hosts. ZooKeeper runs with TLS and digest auth, as in the prod example:
// its secure port answers TLS clients that trust its CA, a plain-text client gets nothing there, no
// key or keystore password is in state or in the engine's output, the CA's key is on no server
// (each server's keystore holds the key it made), a rotation issues every server a new key and
// certificate while the ensemble serves, and after it nothing changes at preview or up.
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { ZkClient } from "../../components/internal";
import { srvrMode } from "../../components/zookeeper/zookeeperProbe";
import { execFileSync } from "child_process";
import { changes, labInfo, loadEnv, openStack } from "../../scripts/automation";
import {
    DEV,
    Ops,
    WITHOUT_MONITORING,
    freshLab,
    freshStack,
    lab,
    onHost,
    opsCollector,
    record,
    stackCli,
    removeStack,
    transcript,
    upWithOps,
    whereIn,
} from "./helpers";

jest.setTimeout(20 * 60 * 1000);

const HERE = "this machine";
const ADDRESS: Record<string, string> = Object.fromEntries(DEV.map((n) => [n.name, n.host]));
const NODES = DEV.filter((n) => n.name !== "lab-w2");
const firewall = { enabled: true, clientNetworks: ["172.30.213.1/32"], confirmSeconds: 10 };

let stack: Stack;

/** What a TCP connection attempt found: through the firewall (open, or refused: nothing listens), or dropped. */
type Outcome = "allowed" | "dropped";

/** [target node, port] of every protected TCP port tried. */
const TRIED: [string, number][] = [
    ["lab-m1", 2377],
    ["lab-m1", 7946],
    ["lab-m1", 2281],
    ["lab-m1", 2888],
    ["lab-m1", 3888],
    ["lab-w1", 7946],
];

/** Connects from `source` (a lab host, or this machine) to every [address, port] at once (2 s each). */
function outcomes(source: string, targets: [string, number][]): Promise<Outcome[]> {
    if (source !== HERE) {
        const script = targets
            .map(([a, p], i) => `(out=$(nc -vz -w 2 ${a} ${p} 2>&1); echo "${i} $out") &`)
            .join("\n");
        const lines = onHost(source, `${script}\nwait`).split("\n");
        return Promise.resolve(
            targets.map((_, i) => {
                const line = lines.find((l) => l.startsWith(`${i} `)) ?? "";
                return /succeeded|refused/.test(line) ? "allowed" : "dropped";
            }),
        );
    }
    return Promise.all(
        targets.map(
            ([host, port]) =>
                new Promise<Outcome>((resolve) => {
                    const socket = net.connect({ host, port, timeout: 2000 });
                    const done = (o: Outcome) => {
                        socket.destroy();
                        resolve(o);
                    };
                    socket.on("connect", () => done("allowed"));
                    socket.on("timeout", () => done("dropped"));
                    socket.on("error", (e: NodeJS.ErrnoException) =>
                        done(e.code === "ECONNREFUSED" ? "allowed" : "dropped"),
                    );
                }),
        ),
    );
}

/** The table: one line per port, "PORT/tcp on NODE: SOURCE RESULT, ...". */
async function table(sources: string[]): Promise<string[]> {
    const results = await Promise.all(
        sources.map((s) =>
            outcomes(
                s,
                TRIED.map(([t, p]): [string, number] => [ADDRESS[t], p]),
            ),
        ),
    );
    return TRIED.map(
        ([t, p], i) =>
            `${p}/tcp on ${t}: ${sources.map((s, j) => `${s} ${results[j][i]}`).join(", ")}`,
    );
}

/** The packets lab-m1's rule for the swarm's UDP ports has dropped so far. */
function udpDrops(): number {
    const rule = onHost("lab-m1", "nft list chain inet swarm_ha input")
        .split("\n")
        .find((l) => /^\s*udp dport .* @members counter/.test(l));
    return Number(/packets (\d+)/.exec(rule ?? "")?.[1] ?? NaN);
}

const up = () => upWithOps(stack);

beforeAll(async () => {
    freshLab(3, 2);
    const config = {
        ...WITHOUT_MONITORING,
        "swarm-ha:services": { value: "{}" },
        "swarm-ha:nodes": { value: JSON.stringify(NODES) },
        "swarm-ha:firewall": { value: JSON.stringify(firewall) },
        "swarm-ha:sshDialAttempts": { value: "3" },
        "swarm-ha:zkAuth": { value: "true" },
        "swarm-ha:zkTls": { value: JSON.stringify({ enabled: true }) },
    };
    stack = await openStack({ stack: "firewall", settingsFrom: "dev", config });
    await freshStack(stack);
    stack = await openStack({ stack: "firewall", settingsFrom: "dev", config });
});

/** Runs `check` on a lab host until it holds, every 2 s for at most `seconds` (the host may be cut off meanwhile). */
async function until(
    host: string,
    command: string,
    wanted: string,
    seconds: number,
): Promise<void> {
    let last = "";
    for (let waited = 0; waited <= seconds; waited += 2) {
        try {
            last = onHost(host, command);
            if (last === wanted) return;
        } catch (e) {
            last = (e as Error).message.split("\n")[0];
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    throw new Error(`${host}: "${command}" said "${last}", not "${wanted}", for ${seconds} s`);
}

test("rules after which SSH fails are rolled back; the run stops before the swarm; the next preview says so", async () => {
    // As if the rules locked SSH out: lab-w1's sshd stops for 25 s as soon as the rules' step
    // writes them, while it applies them (its own session goes on), so no new connection gets in.
    onHost(
        "lab-w1",
        [
            "printf '[Path]\\nPathExists=/etc/swarm-ha/firewall/pending.nft\\n' > /etc/systemd/system/lockout.path",
            "printf '[Service]\\nType=oneshot\\nExecStart=/bin/sh -c \"systemctl stop ssh.service; systemctl disable --now lockout.path; sleep 25; systemctl start ssh.service\"\\n' > /etc/systemd/system/lockout.service",
            "systemctl daemon-reload && systemctl start lockout.path",
        ].join(" && "),
    );
    const ops: Ops = {};
    const failed = stack.up({ onOutput: record, onEvent: opsCollector(ops), color: "never" });
    await expect(failed).rejects.toThrow(/lab-firewall-ok-lab-w1/);
    // Nothing after the rules: no Docker (its installs wait for every host's confirmation), no
    // swarm, no join.
    expect(ops.create?.filter((n) => /-(docker|init|tokens|join)-/.test(n)) ?? []).toEqual([]);
    expect(onHost("lab-m1", "systemctl is-active docker || true")).toBe("inactive");
    // Rolled back after confirmSeconds (10 s): lab-w1 has no rules of the cluster's.
    await until("lab-w1", "nft list tables | grep -c swarm_ha || true", "0", 60);

    const printed: string[] = [];
    await stack.preview({ onOutput: (s) => (record(s), printed.push(s)), color: "never" });
    expect(printed.join("")).toContain(
        "warning: swarm-ha: lab-w1 (172.30.213.21): its firewall rules are not in force (rolled back, as no new SSH connection confirmed them, or removed by hand); up applies them again.",
    );
});

test("up closes the protected ports to all but members; the outsider is dropped everywhere", async () => {
    const since = Date.now();
    const { summary } = await up();
    console.log(`up with the firewall: ${((Date.now() - since) / 1000).toFixed(1)} s`);
    // The rest of the stack created; lab-w1's rules applied again, and confirmed.
    expect(Object.keys(summary).sort()).toEqual(["create", "update"]);
    expect(
        onHost(
            "lab-w1",
            "systemctl is-enabled swarm-ha-firewall; nft list tables | grep -c swarm_ha",
        ),
    ).toBe("enabled\n1");

    const seen = await table(["lab-m2", "lab-w1", "lab-w2", HERE]);
    console.log(`port x source (lab-w2 is not a member):\n${seen.join("\n")}`);
    expect(seen).toEqual([
        "2377/tcp on lab-m1: lab-m2 allowed, lab-w1 allowed, lab-w2 dropped, this machine dropped",
        "7946/tcp on lab-m1: lab-m2 allowed, lab-w1 allowed, lab-w2 dropped, this machine dropped",
        "2281/tcp on lab-m1: lab-m2 allowed, lab-w1 allowed, lab-w2 dropped, this machine allowed",
        "2888/tcp on lab-m1: lab-m2 allowed, lab-w1 allowed, lab-w2 dropped, this machine dropped",
        "3888/tcp on lab-m1: lab-m2 allowed, lab-w1 allowed, lab-w2 dropped, this machine dropped",
        "7946/tcp on lab-w1: lab-m2 allowed, lab-w1 allowed, lab-w2 dropped, this machine dropped",
    ]);

    // UDP (gossip, VXLAN): a datagram of the outsider's is counted as dropped, a member's is not.
    const send = "for p in 7946 4789; do echo x | nc -u -w 1 172.30.213.11 $p; done; true";
    let before = udpDrops();
    onHost("lab-w1", send);
    expect(udpDrops()).toBe(before);
    before = udpDrops();
    onHost("lab-w2", send);
    expect(udpDrops()).toBe(before + 2);

    // Kept across a reboot: loaded by its unit before Docker starts.
    lab("stop", "lab-w1");
    lab("start", "lab-w1");
    expect(onHost("lab-w1", "systemctl is-active swarm-ha-firewall.service")).toBe("active");
    expect((await table(["lab-w2"]))[5]).toBe("7946/tcp on lab-w1: lab-w2 dropped");

    const preview = await stack.preview({ onOutput: record, color: "never" });
    expect(changes(preview.changeSummary)).toEqual({});
});

/** "PORT/tcp on NODE: SOURCE OUTCOME, ..." for a service's published ports on the node running it. */
async function servicePorts(node: string, ports: number[], sources: string[]): Promise<string[]> {
    const targets = ports.map((p): [string, number] => [ADDRESS[node], p]);
    const results = await Promise.all(sources.map((s) => outcomes(s, targets)));
    return ports.map(
        (p, i) =>
            `${p}/tcp on ${node}: ${sources.map((s, j) => `${s} ${results[j][i]}`).join(", ")}`,
    );
}

test("a service's published port with `from`: members and those networks only; one without, anyone", async () => {
    // Two services on lab-m1, published in host mode: one port open to all, one from this machine.
    const on = (published: number, from?: string[]) => ({
        image: "swarm-ha-web:3",
        replicas: 1,
        ports: [{ target: 80, published, mode: "host", ...(from ? { from } : {}) }],
        endpointMode: "dnsrr",
        constraints: ["node.hostname==lab-m1"],
    });
    await stack.setConfig("swarm-ha:services", {
        value: JSON.stringify({ open: on(8081), narrow: on(8082, ["172.30.213.1/32"]) }),
    });
    const { ops } = await up();
    // Every host's rules name the narrowed port (Docker's NAT sends it through any of them).
    expect(ops.update).toEqual(
        expect.arrayContaining(NODES.flatMap((n) => [`lab-firewall-${n.name}`])),
    );
    const seen = await servicePorts("lab-m1", [8081, 8082], ["lab-m2", "lab-w2", HERE]);
    console.log(`a service's ports x source (lab-w2 is not a member):\n${seen.join("\n")}`);
    expect(seen).toEqual([
        "8081/tcp on lab-m1: lab-m2 allowed, lab-w2 allowed, this machine allowed",
        "8082/tcp on lab-m1: lab-m2 allowed, lab-w2 dropped, this machine allowed",
    ]);
    // The service answers through it: its page, from this machine.
    const page = await new Promise<string>((resolve, reject) =>
        http
            .get("http://172.30.213.11:8082/", (res) => {
                let body = "";
                res.on("data", (c) => (body += c));
                res.on("end", () => resolve(body));
            })
            .on("error", reject),
    );
    expect(page).toMatch(/^swarm-ha web on /);
    // The services go again; the rules forget the port.
    await stack.setConfig("swarm-ha:services", { value: "{}" });
    await up();
    expect(onHost("lab-m1", "nft list table inet swarm_ha | grep -c 8082 || true")).toBe("0");
});

const ZK = ["172.30.213.11", "172.30.213.12", "172.30.213.13"];
/** SHA-256 of a public key (DER, SubjectPublicKeyInfo), as `openssl pkey -pubout -outform DER | sha256sum` gives it. */
const spkiSha256 = (key: crypto.KeyObject) =>
    crypto
        .createHash("sha256")
        .update(key.export({ type: "spki", format: "der" }))
        .digest("hex");
/**
 * Every key a server's host holds under /etc/zookeeper-ensemble, by the SHA-256 of its public part:
 * the keystore's (`keystore`), and each file with a PEM private key in it (by path).
 */
const hostKeys = (host: string): Record<string, string> =>
    Object.fromEntries(
        onHost(
            host,
            [
                "cd /etc/zookeeper-ensemble/tls",
                "fp() { openssl pkey -pubout -outform DER | sha256sum | cut -d' ' -f1; }",
                'printf "keystore %s\\n" "$(openssl pkcs12 -in keystore.p12 -passin file:keystore.pass -nocerts -nodes 2>/dev/null | fp)"',
                "grep -rl -- 'PRIVATE KEY' /etc/zookeeper-ensemble | while IFS= read -r f; do",
                '  printf "%s %s\\n" "$f" "$(fp <"$f")"',
                "done",
            ].join("\n"),
        )
            .split("\n")
            .map((l) => l.split(" ") as [string, string]),
    );
const serials = () =>
    ZK.map((_, i) =>
        onHost(
            `lab-m${i + 1}`,
            "openssl pkcs12 -in /etc/zookeeper-ensemble/tls/keystore.p12 -passin file:/etc/zookeeper-ensemble/tls/keystore.pass -nokeys -clcerts | openssl x509 -noout -serial",
        ),
    );

test("ZooKeeper speaks TLS only, and nothing secret is in state or output; a rotation gives every server a new certificate", async () => {
    const ca = (await stack.outputs()).zookeeper.value.tlsCa as string;
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    // Over TLS, checked against the CA, from this machine: a leader and two followers.
    const modes = await Promise.all(ZK.map((a) => srvrMode(a, 2281, 2000, ca)));
    expect(modes.sort()).toEqual(["follower", "follower", "leader"]);
    // A plain-text client on the secure port gets no answer; the plain port is gone.
    expect(await Promise.all(ZK.map((a) => srvrMode(a, 2281, 2000)))).toEqual([
        "down",
        "down",
        "down",
    ]);
    expect(onHost("lab-m2", "nc -vz -w 2 172.30.213.11 2181 2>&1 || true")).toMatch(/refused/);
    // A ZooKeeper client in plain text gets no session there; the same client over TLS does.
    await expect(ZkClient.connect(ZK[0] + ":2281", { timeoutMs: 5000 })).rejects.toThrow(
        "no ZooKeeper session through 172.30.213.11:2281 within 5000 ms",
    );
    const client = await ZkClient.connect(ZK.map((a) => `${a}:2281`).join(","), { tlsCa: ca });
    expect(await client.exists("/zookeeper")).toBe(true);
    client.close();
    // The quorum's election port speaks TLS with the servers' certificates.
    expect(
        onHost(
            "lab-m2",
            "openssl s_client -connect 172.30.213.11:3888 -CAfile /etc/zookeeper-ensemble/tls/ca.crt </dev/null 2>&1 | grep -c 'subject=CN = zookeeper-1' || true",
        ),
    ).toBe("1");

    // Neither the CA's key nor a keystore password in the stored state or in what the engine
    // printed. The key is read from exportStack, which shows secrets decrypted.
    const decrypted = await stack.exportStack();
    const caOutput = decrypted.deployment.resources.find((r: { urn: string }) =>
        r.urn.endsWith("::zookeeper-tls-ca"),
    ).outputs.stdout.plaintext as string;
    const caKeyLine = (JSON.parse(caOutput) as string).split("\n")[1];
    const passwords = ZK.map((_, i) =>
        onHost(`lab-m${i + 1}`, "cat /etc/zookeeper-ensemble/tls/keystore.pass"),
    );
    expect(passwords[0]).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(caKeyLine).toMatch(/^[A-Za-z0-9+/]{40,}$/);
    const state = fs.readFileSync(
        path.join(loadEnv().SWARM_HA_STATE, ".pulumi", "stacks", "swarm-ha", "firewall.json"),
        "utf8",
    );
    for (const secret of [...passwords, caKeyLine]) {
        expect(whereIn(state, secret)).toEqual([]);
        expect(whereIn(transcript.join(""), secret)).toEqual([]);
    }
    expect(state).toContain('"ciphertext"');

    // The CA's key never reached a server: no key on any host is the CA's (by its public part),
    // no line of it is in any file where the steps write, and each server's keystore holds the
    // key that server made itself (its request folder's).
    const caKeyLines = (JSON.parse(caOutput) as string)
        .split("\n")
        .filter((l) => /^[A-Za-z0-9+/=]{16,}$/.test(l) && !ca.includes(l));
    expect(caKeyLines.length).toBeGreaterThan(0);
    const caPublic = spkiSha256(new crypto.X509Certificate(ca).publicKey);
    for (const [i] of ZK.entries()) {
        const host = `lab-m${i + 1}`;
        const keys = hostKeys(host);
        expect(Object.keys(keys).sort()).toEqual([
            "/etc/zookeeper-ensemble/tls/request/server.key",
            "keystore",
        ]);
        expect(keys.keystore).toMatch(/^[0-9a-f]{64}$/);
        expect(keys["/etc/zookeeper-ensemble/tls/request/server.key"]).toBe(keys.keystore);
        expect(Object.values(keys)).not.toContain(caPublic);
        const found = onHost(
            host,
            `grep -rlF ${caKeyLines.map((l) => `-e '${l}'`).join(" ")} /etc /root /home /tmp /var/tmp /var/lib/swarm-ha /var/lib/zookeeper 2>/dev/null || true`,
        );
        expect(`${host}: ${found}`).toBe(`${host}: `);
        expect(
            onHost(
                host,
                "stat -c '%a %U %n' /etc/zookeeper-ensemble/tls/request /etc/zookeeper-ensemble/tls/request/server.key",
            ),
        ).toBe(
            "700 root /etc/zookeeper-ensemble/tls/request\n600 root /etc/zookeeper-ensemble/tls/request/server.key",
        );
    }

    const before = serials();
    const keysBefore = ZK.map((_, i) => hostKeys(`lab-m${i + 1}`).keystore);
    await stack.setConfig("swarm-ha:zkTls", {
        value: JSON.stringify({ enabled: true, rotation: 1 }),
    });
    const since = Date.now();
    const { ops } = await up();
    console.log(
        `rotation of 3 servers' certificates: ${((Date.now() - since) / 1000).toFixed(1)} s`,
    );
    // Only the keystore password is new; every other step runs again in place: each server makes
    // a new key and request, the CA signs it here, the server builds its keystore.
    expect(ops.replace).toEqual(["zookeeper-keystore-password"]);
    expect(ops.update).toEqual(
        expect.arrayContaining(
            [1, 2, 3].flatMap((i) => [
                `zookeeper-tls-request-${i}`,
                `zookeeper-tls-sign-${i}`,
                `zookeeper-tls-${i}`,
            ]),
        ),
    );
    const after = serials();
    after.forEach((s, i) => expect(s).not.toBe(before[i]));
    const rotatedKeys = ZK.map((_, i) => hostKeys(`lab-m${i + 1}`));
    rotatedKeys.forEach((keys, i) => {
        expect(keys.keystore).not.toBe(keysBefore[i]);
        expect(Object.values(keys)).not.toContain(caPublic);
    });
    expect(onHost("lab-m1", "cat /etc/zookeeper-ensemble/tls/keystore.pass")).not.toBe(
        passwords[0],
    );
    const rotated = await Promise.all(ZK.map((a) => srvrMode(a, 2281, 2000, ca)));
    expect(rotated.sort()).toEqual(["follower", "follower", "leader"]);

    // Unchanged, nothing is replaced at preview, and an up makes no new key or certificate.
    const preview = await stack.preview({ onOutput: record, color: "never" });
    expect(changes(preview.changeSummary)).toEqual({});
    const again = await up();
    expect(again.summary).toEqual({});
    expect(serials()).toEqual(after);
    expect(ZK.map((_, i) => hostKeys(`lab-m${i + 1}`))).toEqual(rotatedKeys);
});

test("a new member: every host's rules let it in before it joins", async () => {
    await stack.setConfig("swarm-ha:nodes", { value: JSON.stringify(DEV) });
    const { ops } = await up();
    expect(ops.create).toEqual(
        expect.arrayContaining([
            "lab-join-lab-w2",
            "lab-firewall-lab-w2",
            "lab-firewall-ok-lab-w2",
        ]),
    );
    const others = ["lab-m1", "lab-m2", "lab-m3", "lab-w1"];
    expect(ops.update).toEqual(
        expect.arrayContaining(
            others.flatMap((n) => [`lab-firewall-${n}`, `lab-firewall-ok-${n}`]),
        ),
    );
    expect(onHost("lab-m1", "docker node ls --format '{{.Hostname}} {{.Status}}' | sort")).toBe(
        DEV.map((n) => `${n.name} Ready`).join("\n"),
    );
    // A member now (a ZooKeeper server's peers are the members too: see the firewall's rules).
    expect(await table(["lab-w2"])).toEqual([
        "2377/tcp on lab-m1: lab-w2 allowed",
        "7946/tcp on lab-m1: lab-w2 allowed",
        "2281/tcp on lab-m1: lab-w2 allowed",
        "2888/tcp on lab-m1: lab-w2 allowed",
        "3888/tcp on lab-m1: lab-w2 allowed",
        "7946/tcp on lab-w1: lab-w2 allowed",
    ]);
});

test("a member removed: allowed while it leaves, taken out of every host's rules by the next up", async () => {
    const members = (host: string) =>
        onHost(host, "nft list set inet swarm_ha members | tr -d ' \\t\\n' | grep -o '{.*}'");
    await stack.setConfig("swarm-ha:nodes", { value: JSON.stringify(NODES) });
    await up();
    expect(onHost("lab-m1", "docker node ls --format '{{.Hostname}}' | sort")).toBe(
        NODES.map((n) => n.name).join("\n"),
    );
    // Still allowed: the run that removed it found it in the swarm.
    expect(members("lab-m1")).toContain("172.30.213.22");
    const { ops } = await up();
    expect(ops.update).toEqual(
        expect.arrayContaining(NODES.flatMap((n) => [`lab-firewall-${n.name}`])),
    );
    for (const n of NODES) {
        expect(members(n.name)).not.toContain("172.30.213.22");
    }
    expect((await table(["lab-w2"]))[0]).toBe("2377/tcp on lab-m1: lab-w2 dropped");
});

test("destroy removes the rules, their unit and files from every host", async () => {
    await stack.destroy({ onOutput: record, color: "never" });
    for (const n of DEV) {
        expect(
            onHost(
                n.name,
                "nft list tables | grep -c swarm_ha; test -e /etc/systemd/system/swarm-ha-firewall.service && echo unit; test -e /etc/swarm-ha && echo files; true",
            ),
        ).toBe("0");
    }
    await removeStack(stack);
});

/** `npm run stack` on the tofu stack, whose settings are `config` alone. */
const tofuCli = (action: string, config: Record<string, unknown>) =>
    stackCli(action, "tofu", "none", config);

test("host keys: a host with none recorded is refused at preview; trusted on first use, another key is refused later", async () => {
    // lab-w2 alone, as a stack of its own that records no host key (an empty known_hosts file).
    const empty = path.join(loadEnv().SWARM_HA_CACHE, "lab", "no_known_hosts");
    fs.writeFileSync(empty, "");
    const w2 = DEV.find((n) => n.name === "lab-w2")!;
    const settings = {
        "swarm-ha:clusterName": "tofu",
        "swarm-ha:sshPrivateKeyFile": labInfo().privateKeyPath,
        "swarm-ha:knownHostsFile": empty,
        "swarm-ha:nodes": [{ ...w2, role: "manager" }],
    };
    const asConfig = (c: Record<string, unknown>) =>
        Object.fromEntries(
            Object.entries(c).map(([k, v]) => [
                k,
                { value: typeof v === "string" ? v : JSON.stringify(v) },
            ]),
        );
    let tofu = await openStack({ stack: "tofu", settingsFrom: "none", config: asConfig(settings) });
    await removeStack(tofu);
    const refused = tofuCli("preview", settings);
    expect(refused.status).not.toBe(0);
    expect(refused.out).toContain(
        "swarm-ha: lab-w2 (172.30.213.22): no SSH host key is recorded for it",
    );
    // Trusted on first use: the key it presents is kept in the state (only that resource is made,
    // with the providers, which the engine makes whether targeted or not, and their parent).
    const trusting = { ...settings, "swarm-ha:trustOnFirstUse": "true" };
    tofu = await openStack({ stack: "tofu", settingsFrom: "none", config: asConfig(trusting) });
    const urn = (type: string, name: string) => `urn:pulumi:tofu::swarm-ha::${type}::${name}`;
    const trusted = urn("pulumi-nodejs:dynamic/swarm-ha:TrustedHostKey", "host-key-lab-w2");
    await tofu.up({
        target: [
            urn("pulumi:providers:pulumi-nodejs", "tofu-probe"),
            urn("swarm-ha:index:SwarmCluster", "tofu"),
            trusted,
        ],
        onOutput: record,
        color: "never",
    });
    const kept = (await tofu.exportStack()).deployment.resources.find(
        (r: { urn: string }) => r.urn === trusted,
    )?.outputs?.key as string;
    const recorded = labInfo().hosts.find((h) => h.name === "lab-w2")!.hostKey;
    expect(kept.split(" ").slice(0, 2)).toEqual(recorded.split(" ").slice(0, 2));
    const planned = await tofu.preview({ onOutput: record, color: "never" });
    expect(changes(planned.changeSummary).create).toBeGreaterThan(0);
    // The host's key changes (a rebuilt host, or someone in its place): refused at preview.
    const container = "swarm-ha-lab-w2";
    const inHost = (script: string) =>
        execFileSync("docker", ["exec", container, "sh", "-c", script], { encoding: "utf8" });
    inHost(
        "mkdir -p /root/hostkey && cp -a /etc/ssh/ssh_host_ed25519_key* /root/hostkey/ && rm /etc/ssh/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && systemctl restart ssh",
    );
    try {
        const changed = tofuCli("preview", trusting);
        expect(changed.status).not.toBe(0);
        expect(changed.out).toContain(
            "was trusted on first use and is kept in the stack's state; nothing was changed",
        );
    } finally {
        inHost("cp -a /root/hostkey/* /etc/ssh/ && systemctl restart ssh");
        await removeStack(tofu);
    }
});

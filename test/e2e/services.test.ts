// End to end: the services of a stack through the official Docker plugin on a lab cluster, the
// seed's lifecycle (create, ps, update, scale, rm): tasks on distinct nodes answering on the
// published port and matching `docker service ps`; an image update while a client polls every node;
// scaling with no running task replaced; global mode following the nodes; placement by label;
// secrets and configs rolled onto new objects; name resolution across nodes on an overlay; a broken
// image rolled back while the old tasks serve; destroy leaving nothing of the services behind.
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { REPO, changes, openStack, withoutEnsemble } from "../../scripts/automation";
import { ServiceConfig } from "../../serviceConfig";
import { ServiceUpdateArgs } from "../../components/internal";
import {
    DEV,
    W3,
    WITHOUT_MONITORING,
    freshLab,
    freshStack,
    lab,
    onHost,
    record,
    storedState,
    transcript,
    whereIn,
} from "./helpers";
import { httpGet } from "../../scripts/http";

jest.setTimeout(20 * 60 * 1000);

const ADDRESSES = [...DEV, W3].map((n) => n.host);
const NEXT_IMAGE = "swarm-ha-web:e2e-next";
// Quick rolls for the test: one task at a time, 1 s apart, each watched for 3 s.
const UPDATE: ServiceUpdateArgs = {
    parallelism: 1,
    delay: "1s",
    monitor: "3s",
    order: "start-first",
};

const web = (extra: Partial<ServiceConfig> = {}): ServiceConfig => ({
    image: "swarm-ha-web:3",
    replicas: 3,
    ports: [{ target: 80, published: 80, mode: "host" }],
    endpointMode: "dnsrr",
    networks: ["backend"],
    update: UPDATE,
    rollback: UPDATE,
    ...extra,
});

let stack: Stack;

async function withServices(
    services: Record<string, ServiceConfig>,
): Promise<Record<string, number>> {
    await stack.setAllConfig({ "swarm-ha:services": { value: JSON.stringify(services) } });
    const result = await stack.up({ onOutput: record, color: "never" });
    return changes(result.summary.resourceChanges);
}

/** `docker service ps` on a manager: the running tasks of a service as "ID NODE", sorted. */
function running(service: string, manager = "lab-m1"): string[] {
    const out = onHost(
        manager,
        `docker service ps ${service} --filter desired-state=running --no-trunc --format '{{.ID}} {{.Node}} {{.CurrentState}}'`,
    );
    return out
        .split("\n")
        .filter((l) => / Running /.test(l))
        .map((l) => l.split(" ").slice(0, 2).join(" "))
        .sort();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until a service has `n` running tasks; returns them. */
async function runningTasks(
    service: string,
    n: number,
    seconds = 60,
    manager = "lab-m1",
): Promise<string[]> {
    let seen: string[] = [];
    for (const until = Date.now() + seconds * 1000; Date.now() < until; await sleep(1000)) {
        seen = running(service, manager);
        if (seen.length === n) return seen;
    }
    throw new Error(
        `${service}: ${n} running tasks expected within ${seconds}s; saw ${seen.join(", ")}`,
    );
}

/**
 * Runs `work` while a client asks port 80 of every node every 100 ms. Reports the requests that
 * failed on a node that answered the round before (a task stopped under a client), the rounds in
 * which no node answered, the longest time without any answer, and the fewest nodes answering.
 */
async function polled<T>(work: () => Promise<T>): Promise<{
    result: T | undefined;
    error?: Error;
    rounds: number;
    lostAnswers: number;
    emptyRounds: number;
    longestGapMs: number;
    fewest: number;
}> {
    let going = true;
    let rounds = 0;
    let lostAnswers = 0;
    let emptyRounds = 0;
    let fewest = Infinity;
    let lastAnswer = Date.now();
    let longestGapMs = 0;
    let answered = new Set<string>();
    const bounded = Date.now() + 10 * 60 * 1000;
    const client = (async () => {
        while (going && Date.now() < bounded) {
            const started = Date.now();
            const answers = await Promise.all(ADDRESSES.map((a) => httpGet(`http://${a}/`, 500)));
            const now = new Set(ADDRESSES.filter((_, i) => answers[i].startsWith("200 ")));
            lostAnswers += [...answered].filter((a) => !now.has(a)).length;
            if (now.size === 0) {
                emptyRounds++;
            } else {
                longestGapMs = Math.max(longestGapMs, Date.now() - lastAnswer);
                lastAnswer = Date.now();
            }
            fewest = Math.min(fewest, now.size);
            answered = now;
            rounds++;
            await sleep(Math.max(0, 100 - (Date.now() - started)));
        }
    })();
    let result: T | undefined;
    let error: Error | undefined;
    try {
        result = await work();
    } catch (e) {
        error = e as Error;
    } finally {
        going = false;
        await client;
    }
    return { result, error, rounds, lostAnswers, emptyRounds, longestGapMs, fewest };
}

const OVERLAY_CLIENT = "overlay-client";

/**
 * Starts an idle container on the overlay `backend` on lab-m1, for {@link clientInOverlay}. Its
 * attachment comes first and is retried (bounded): a `docker run` whose attachment fails can hang
 * (docker/cli#5235), and that is the lab's network, not the service under test.
 */
function attachOverlayClient(): void {
    for (let attempt = 1; ; attempt++) {
        try {
            onHost(
                "lab-m1",
                `docker rm -f ${OVERLAY_CLIENT} >/dev/null 2>&1; timeout 60 docker run -d --rm --name ${OVERLAY_CLIENT} --network backend swarm-ha-web:3 'exec busybox sleep 900' >/dev/null`,
            );
            return;
        } catch (e) {
            if (attempt === 3) throw e;
            console.log(`the client's container on the overlay, attempt ${attempt}: ${e}`);
        }
    }
}

/**
 * From the container {@link attachOverlayClient} started: asks `web` by name every 100 ms for
 * `seconds`; how many requests were answered, how many failed, and the longest gap between two
 * answers (in ms, from /proc/uptime's centiseconds). Bounded twice: on the host by `timeout`, and
 * here by ending the SSH client. The container is removed at the end.
 */
function clientInOverlay(
    seconds: number,
): Promise<{ ok: number; failed: number; longestGapMs: number }> {
    const script = [
        'now() { t=$(busybox cut -d" " -f1 /proc/uptime); echo $(( ${t%.*} * 100 + 1${t#*.} - 100 )); }',
        `end=$(( $(now) + ${seconds * 100} )); ok=0; failed=0; last=$(now); gap=0`,
        "while [ $(now) -lt $end ]; do",
        '  if printf "GET / HTTP/1.0\\r\\n\\r\\n" | busybox nc -w 1 web 80 | busybox grep -q "^swarm-ha web"; then',
        "    ok=$((ok + 1)); t=$(now); [ $((t - last)) -gt $gap ] && gap=$((t - last)); last=$t",
        "  else failed=$((failed + 1)); fi",
        "  busybox usleep 100000",
        "done",
        'echo "$ok $failed $((gap * 10))"',
    ].join("\n");
    const bound = seconds + 60;
    return new Promise((resolve, reject) => {
        const child = spawn("bash", [
            path.join(REPO, "lab", "lab.sh"),
            "ssh",
            "lab-m1",
            `timeout ${bound} docker exec ${OVERLAY_CLIENT} /bin/sh -c '${script}'`,
        ]);
        let out = "";
        let err = "";
        const killer = setTimeout(() => child.kill(), (bound + 15) * 1000);
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("close", (code) => {
            clearTimeout(killer);
            // Gone before the next test: an attached container would keep `backend` from removal.
            onHost("lab-m1", `docker rm -f ${OVERLAY_CLIENT} >/dev/null 2>&1 || true`);
            const summary = /^(\d+) (\d+) (\d+)$/.exec(out.trim().split("\n").pop() ?? "");
            if (code !== 0 || !summary) {
                reject(new Error(`the client in the overlay exited ${code}: ${out}${err}`));
            } else {
                const [ok, failed, gap] = summary.slice(1).map(Number);
                resolve({ ok, failed, longestGapMs: gap });
            }
        });
    });
}

beforeAll(async () => {
    freshLab(3, 3);
    // The test's second image: the same content under another tag, staged like the first.
    execFileSync("docker", ["tag", "swarm-ha-web:3", NEXT_IMAGE]);
    lab("load-image", NEXT_IMAGE);
    stack = await openStack({ stack: "svc-e2e", settingsFrom: "dev", config: WITHOUT_MONITORING });
    await freshStack(stack);
    stack = await openStack({ stack: "svc-e2e", settingsFrom: "dev", config: WITHOUT_MONITORING });
    // The swarm alone: ZooKeeper has its own tests.
    await withoutEnsemble(stack);
    await stack.setAllConfig({ "swarm-ha:nodes": { value: JSON.stringify(DEV) } });
});

test("create: 3 tasks on 3 nodes answer on the published port; outputs agree with docker service ps", async () => {
    const ops = await withServices({ web: web() });
    expect(ops.create).toBeGreaterThan(15);
    const tasks = running("web");
    expect(tasks).toHaveLength(3);
    const nodes = tasks.map((t) => t.split(" ")[1]);
    expect(new Set(nodes).size).toBe(3);
    const out = (await stack.outputs()).services.value as Record<
        string,
        { tasks: { id: string; node: string; state: string }[]; endpoints: string[] }
    >;
    expect(out.web.tasks.map((t) => `${t.id} ${t.node}`).sort()).toEqual(
        tasks.map((t) => t.replace(/^(\S{12})\S*/, "$1")).sort(),
    );
    expect(out.web.tasks.every((t) => t.state === "Running")).toBe(true);
    for (const endpoint of out.web.endpoints) {
        expect(await httpGet(`http://${endpoint}/`)).toMatch(/^200 swarm-ha web on /);
    }
    expect(out.web.endpoints).toHaveLength(3);
});

test("an image update rolls one task at a time, start-first, while a client polls every node", async () => {
    const before = running("web");
    // A second client inside the overlay asks `web` by name, as the services' own clients do.
    attachOverlayClient();
    const byName = clientInOverlay(30);
    await sleep(2000);
    const watch = await polled(() => withServices({ web: web({ image: NEXT_IMAGE }) }));
    const inside = await byName;
    console.log(
        `image update: ${watch.rounds} rounds of requests to every node, ${watch.lostAnswers} failed on a node that had answered, ${watch.emptyRounds} rounds with no answer, longest time without an answer ${watch.longestGapMs} ms, fewest nodes answering ${watch.fewest}; by name inside the overlay: ${inside.ok} answered, ${inside.failed} failed, longest gap between answers ${inside.longestGapMs} ms`,
    );
    expect(inside.ok).toBeGreaterThan(50);
    expect(watch.error).toBeUndefined();
    expect(watch.result).toEqual({ replace: 1, update: 1 }); // the service, and its tasks report
    const after = await runningTasks("web", 3);
    expect(after.filter((t) => before.includes(t))).toEqual([]);
    expect(
        onHost(
            "lab-m1",
            "docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' web",
        ),
    ).toBe(NEXT_IMAGE);
    expect(watch.emptyRounds).toBe(0);
    expect(watch.fewest).toBeGreaterThanOrEqual(2);
});

test("scale 3 to 4 and back to 3: no running task is replaced", async () => {
    const three = await runningTasks("web", 3);
    await withServices({ web: web({ image: NEXT_IMAGE, replicas: 4 }) });
    const four = await runningTasks("web", 4);
    expect(four.filter((t) => three.includes(t))).toEqual(three);
    await withServices({ web: web({ image: NEXT_IMAGE }) });
    const back = await runningTasks("web", 3);
    expect(back.filter((t) => four.includes(t))).toEqual(back);
    console.log(
        `scale: tasks kept through 3 -> 4 -> 3: ${back.filter((t) => three.includes(t)).length} of 3`,
    );
});

test("a secret and a config changed while the service runs: new objects, tasks roll onto them, old ones removed", async () => {
    const files = (token: string, page: string): Partial<ServiceConfig> => ({
        image: NEXT_IMAGE,
        secrets: { token: { value: token } },
        configs: { page: { value: page, target: "/www/extra.html" } },
    });
    await withServices({ web: web(files("first-token", "first page")) });
    const secrets1 = onHost("lab-m1", "docker secret ls --format '{{.Name}}'");
    const configs1 = onHost("lab-m1", "docker config ls --format '{{.Name}}'");
    expect(secrets1).toMatch(/^web-token-[0-9a-f]{12}$/);
    const node = running("web")[0].split(" ")[1];
    const address = [...DEV, W3].find((n) => n.name === node)!.host;
    expect(await httpGet(`http://${address}/extra.html`)).toBe("200 first page");
    await withServices({ web: web(files("second-token", "second page")) });
    const secrets2 = onHost("lab-m1", "docker secret ls --format '{{.Name}}'");
    const configs2 = onHost("lab-m1", "docker config ls --format '{{.Name}}'");
    expect(secrets2).toMatch(/^web-token-[0-9a-f]{12}$/);
    expect(secrets2).not.toBe(secrets1);
    expect(configs2).not.toBe(configs1);
    const tasks = await runningTasks("web", 3);
    const nodeNow = tasks[0].split(" ")[1];
    const addressNow = [...DEV, W3].find((n) => n.name === nodeNow)!.host;
    expect(await httpGet(`http://${addressNow}/extra.html`)).toBe("200 second page");
    const c = onHost(nodeNow, "docker ps -q --filter name=web. | head -n1");
    expect(onHost(nodeNow, `docker exec ${c} busybox cat /run/secrets/token`)).toBe("second-token");
});

test("a request across nodes by name on the overlay network", async () => {
    await withServices({
        web: web({ image: NEXT_IMAGE }),
        front: {
            image: "swarm-ha-web:3",
            replicas: 1,
            networks: ["backend"],
            endpointMode: "dnsrr",
            args: ["exec busybox sleep 3600"],
        },
    });
    const [frontTask] = await runningTasks("front", 1);
    const frontNode = frontTask.split(" ")[1];
    const c = onHost(frontNode, "docker ps -q --filter name=front.");
    // Each task's page names its container; the nodes of web's tasks are known by their containers.
    const containers: Record<string, string> = {};
    for (const t of running("web")) {
        const node = t.split(" ")[1];
        for (const id of onHost(node, "docker ps -q --filter name=web.").split("\n")) {
            containers[id] = node;
        }
    }
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
        const page = onHost(
            frontNode,
            `docker exec ${c} sh -c 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | busybox nc -w 2 web 80 | busybox tail -n 1'`,
        );
        const id = /^swarm-ha web on (\w+)$/.exec(page)?.[1];
        if (id) seen.add(containers[id] ?? `unknown ${id}`);
    }
    console.log(`front on ${frontNode} reached web tasks on: ${[...seen].sort().join(", ")}`);
    expect([...seen].some((n) => n !== frontNode && !n.startsWith("unknown"))).toBe(true);
});

test("a broken image is rolled back by the update config while the old tasks keep serving", async () => {
    const before = running("web");
    const watch = await polled(() =>
        withServices({ web: web({ image: "swarm-ha-web:no-such-tag" }) }),
    );
    console.log(
        `broken image: ${watch.lostAnswers} requests failed on a node that had answered, ${watch.emptyRounds} rounds with no answer, fewest nodes answering ${watch.fewest}; error: ${watch.error?.message.split("\n").find((l) => /roll/i.test(l))}`,
    );
    expect(watch.error?.message).toMatch(/roll(ed)? ?back/i);
    expect(watch.emptyRounds).toBe(0);
    expect(await runningTasks("web", 3)).toEqual(before);
    expect(
        onHost(
            "lab-m1",
            "docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' web",
        ),
    ).toBe(NEXT_IMAGE);
    // The stack converges again once the image is right.
    expect(await withServices({ web: web({ image: NEXT_IMAGE }) })).toBeDefined();
});

test("placement by node label: tasks only on the nodes with tier=web", async () => {
    // stop-first: a task already on lab-w1 or lab-w2 holds host port 80 there, so a start-first
    // task could not start beside it (the lab's host mode; see docs/services.md).
    await withServices({
        web: web({
            image: NEXT_IMAGE,
            replicas: 2,
            constraints: ["node.labels.tier==web"],
            update: { ...UPDATE, order: "stop-first" },
        }),
    });
    const nodes = (await runningTasks("web", 2)).map((t) => t.split(" ")[1]).sort();
    expect(nodes).toEqual(["lab-w1", "lab-w2"]);
});

test("global mode: one task per node, and a node added to the cluster gets one", async () => {
    const agent: ServiceConfig = {
        image: "swarm-ha-web:3",
        global: true,
        args: ["exec busybox sleep 3600"],
    };
    await withServices({ agent });
    expect((await runningTasks("agent", 5)).map((t) => t.split(" ")[1]).sort()).toEqual(
        DEV.map((n) => n.name).sort(),
    );
    await stack.setAllConfig({ "swarm-ha:nodes": { value: JSON.stringify([...DEV, W3]) } });
    await stack.up({ onOutput: record, color: "never" });
    expect((await runningTasks("agent", 6)).map((t) => t.split(" ")[1])).toContain("lab-w3");
});

test("a private registry with basic auth: every node pulls with the service's credentials; pinned by digest, a moved tag rolls the service", async () => {
    // The registry: Debian's docker-registry on lab-w3 (a node since the global-mode test), TLS
    // from a CA made here, basic auth. Every node trusts the CA for that registry only (a node
    // that does not finds "No such image" and the swarm places its task elsewhere, or rolls an
    // update back); so does Pulumi's lookup (Go reads
    // SSL_CERT_FILE), as a datacenter's hosts and runner trust its own CA.
    const tls = fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-registry-"));
    const openssl = (...args: string[]) =>
        execFileSync("openssl", args, { cwd: tls, stdio: "pipe" });
    openssl(
        "req",
        "-x509",
        "-newkey",
        "ed25519",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=e2e CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    );
    openssl(
        "req",
        "-newkey",
        "ed25519",
        "-nodes",
        "-subj",
        `/CN=${W3.host}`,
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    );
    fs.writeFileSync(path.join(tls, "san.ext"), `subjectAltName=IP:${W3.host}\n`);
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    );
    const file = (name: string) =>
        Buffer.from(fs.readFileSync(path.join(tls, name))).toString("base64");
    const registry = `${W3.host}:5443`;
    const password = "e2e pass: $(touch /tmp/pwned) 'q'";
    onHost(
        "lab-w3",
        [
            "set -e",
            "apt-get update -qq",
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry apache2-utils >/dev/null",
            "cd /etc/docker/registry",
            `echo ${file("server.crt")} | base64 -d >server.crt`,
            `echo ${file("server.key")} | base64 -d >server.key`,
            "chown docker-registry server.key && chmod 600 server.key",
            `printf '%s' ${Buffer.from(password).toString("base64")} | base64 -d | htpasswd -iBc htpasswd ci 2>/dev/null`,
            "cat >config.yml <<'EOF'",
            "version: 0.1",
            "storage: { filesystem: { rootdirectory: /var/lib/docker-registry } }",
            "http: { addr: ':5443', tls: { certificate: /etc/docker/registry/server.crt, key: /etc/docker/registry/server.key } }",
            "auth: { htpasswd: { realm: e2e, path: /etc/docker/registry/htpasswd } }",
            "EOF",
            "systemctl restart docker-registry",
        ].join("\n"),
    );
    for (const n of [...DEV, W3]) {
        onHost(
            n.name,
            `mkdir -p /etc/docker/certs.d/${registry} && echo ${file("ca.crt")} | base64 -d >/etc/docker/certs.d/${registry}/ca.crt`,
        );
    }
    // Pushed from lab-m1 with a login of its own that is removed after: no node keeps one.
    const push = (local: string, tag: string): string => {
        const out = onHost(
            "lab-m1",
            [
                "set -e",
                "export DOCKER_CONFIG=$(mktemp -d)",
                `printf '%s' ${Buffer.from(password).toString("base64")} | base64 -d | docker login -u ci --password-stdin ${registry} >/dev/null`,
                `docker tag ${local} ${registry}/team/web:${tag}`,
                `docker push ${registry}/team/web:${tag}`,
                'rm -rf "$DOCKER_CONFIG"',
            ].join("\n"),
        );
        return /digest: (sha256:[0-9a-f]{64})/.exec(out)![1];
    };
    const first = push("swarm-ha-web:3", "1");
    const priv = (): ServiceConfig => ({
        image: `${registry}/team/web:1`,
        registryAuth: { server: registry, username: "ci", password },
        pinDigest: true,
        replicas: 5,
        maxReplicasPerNode: 1,
        // One task per node: the new task takes the old one's place (start-first would need a
        // second task on the node, which the limit forbids, and the update would roll back).
        update: { ...UPDATE, order: "stop-first" },
        rollback: { ...UPDATE, order: "stop-first" },
    });
    const trusted = path.join(tls, "bundle.crt");
    fs.writeFileSync(
        trusted,
        fs.readFileSync("/etc/ssl/certs/ca-certificates.crt", "utf8") +
            fs.readFileSync(path.join(tls, "ca.crt"), "utf8"),
    );
    stack.workspace.envVars.SSL_CERT_FILE = trusted;
    try {
        const secretly = (services: Record<string, ServiceConfig>) =>
            stack.setAllConfig({
                "swarm-ha:services": { value: JSON.stringify(services), secret: true },
            });
        await secretly({ web: web(), priv: priv() });
        await stack.up({ onOutput: record, color: "never" });
        const image = () =>
            onHost(
                "lab-m1",
                "docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' priv",
            );
        expect(image()).toBe(`${registry}/team/web:1@${first}`);
        // One task on each of 5 of the 6 nodes, none of which holds a login: the credentials came with
        // the service.
        expect(await runningTasks("priv", 5, 120)).toHaveLength(5);
        for (const n of [...DEV, W3]) {
            expect(onHost(n.name, "ls /root/.docker/config.json 2>/dev/null || echo none")).toBe(
                "none",
            );
        }

        // The tag moves to another image: the preview shows the digest change, up rolls onto it.
        onHost(
            "lab-m1",
            "printf 'FROM swarm-ha-web:3\\nLABEL moved=1\\n' | DOCKER_BUILDKIT=0 docker build -q -t e2e-moved - >/dev/null",
        );
        const moved = push("e2e-moved", "1");
        expect(moved).not.toBe(first);
        const preview = await stack.preview({ diff: true, color: "never" });
        expect(preview.stdout).toContain(`@${first}" => "${registry}/team/web:1@${moved}"`);
        expect(preview.changeSummary.update).toBe(1);
        const rolled = await stack.up({ onOutput: record, color: "never" }).then(
            () => [],
            (e: Error) => e.message.split("\n").filter((l) => /error/i.test(l)),
        );
        // No task failed on the way; on a failure, what the swarm said of each.
        const failed = onHost(
            "lab-m1",
            "docker service ps priv --no-trunc --format '{{.Node}} {{.Image}} {{.CurrentState}}|{{.Error}}'",
        )
            .split("\n")
            .filter((l) => !/\|\s*$/.test(l));
        expect({ rolled, failed, image: image() }).toEqual({
            rolled: [],
            failed: [],
            image: `${registry}/team/web:1@${moved}`,
        });
        expect(await runningTasks("priv", 5, 120)).toHaveLength(5);

        // The password is in neither the stored state nor anything the engine printed.
        const state = storedState("svc-e2e");
        expect(whereIn(state, password)).toEqual([]);
        expect(state).toContain('"ciphertext"');
        expect(transcript.join("")).not.toContain(password);
        await secretly({ web: web() });
        await stack.up({ onOutput: record, color: "never" });
    } finally {
        delete stack.workspace.envVars.SSL_CERT_FILE;
        fs.rmSync(tls, { recursive: true, force: true });
    }
});

test("rm: services taken out of the config are removed, with their network, secrets and configs", async () => {
    await withServices({ web: web({ image: NEXT_IMAGE, secrets: { token: { value: "t" } } }) });
    await withServices({});
    // Services, secrets, configs, overlay networks other than ingress, on every manager. A node
    // lists an overlay until its last local task container has left it, a few seconds after the
    // service went: wait for that (bounded), then nothing may be left anywhere.
    const count =
        "echo $(docker service ls -q | wc -l) $(docker secret ls -q | wc -l) $(docker config ls -q | wc -l) $(docker network ls --filter driver=overlay --format '{{.Name}}' | grep -vxc ingress)";
    const managers = DEV.filter((n) => n.role === "manager").map((n) => n.name);
    let left: string[] = [];
    for (let i = 0; i < 30; i++, await sleep(1000)) {
        left = managers.map((m) => `${m}: ${onHost(m, count)}`);
        if (left.every((l) => l.endsWith(": 0 0 0 0"))) break;
    }
    console.log(`after rm: ${left.join("; ")}`);
    expect(left).toEqual(managers.map((m) => `${m}: 0 0 0 0`));
});

test("with the bootstrap manager down, a service is created through a manager that answers", async () => {
    lab("stop", "lab-m1");
    try {
        // lab-m1 led the swarm: the two other managers elect a leader first (bounded wait).
        for (let i = 0; i < 60; i++, await sleep(1000)) {
            if (
                /Leader/.test(
                    onHost("lab-m2", "docker node ls --format '{{.ManagerStatus}}' 2>&1 || true"),
                )
            )
                break;
        }
        // The services were removed just before: web is created again, through another manager.
        await withServices({ web: web({ image: NEXT_IMAGE, replicas: 2 }) });
        const tasks = await runningTasks("web", 2, 90, "lab-m2");
        expect(tasks.every((t) => !t.endsWith(" lab-m1"))).toBe(true);
        const out = (await stack.outputs()).services.value as Record<string, { tasks: unknown[] }>;
        expect(out.web.tasks).toHaveLength(2);
    } finally {
        lab("start", "lab-m1");
    }
});

afterAll(async () => {
    await stack?.destroy({ onOutput: record, color: "never" });
});

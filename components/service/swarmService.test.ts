// Unit tests of SwarmService with Pulumi mocks: the exact docker.Service inputs for each argument,
// hashed secret and config names, the provider used, and the validation messages.
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Recorder, RecordedResource, resolve, settle } from "../../test/unit/recorder";

const recorder = new Recorder();
recorder.install();

import * as docker from "@pulumi/docker";
import {
    SwarmService,
    SwarmServiceArgs,
    contentHash,
    validateSwarmServiceArgs,
    parseTasks,
    serviceAddresses,
    tasksCommand,
    CONVERGENCE_POLL_SECONDS,
    durationSeconds,
} from "../internal";

const provider = new docker.Provider("cluster-provider", { host: "ssh://root@10.0.0.1:22" });

async function build(name: string, args: SwarmServiceArgs): Promise<RecordedResource[]> {
    const before = recorder.resources.length;
    const s = new SwarmService(name, args, {
        provider,
        transformations: [recorder.transformation],
    });
    recorder.nameComponent(s, name);
    await resolve(s.serviceName);
    await settle();
    return recorder.resources
        .slice(before)
        .filter((r) => r.type !== "swarm-ha:index:SwarmService" && r.name !== "cluster-provider");
}

const serviceInputs = (name: string) =>
    recorder.byName(`${name}-service`).inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("SwarmService defaults", () => {
    test("one replicated service with zero-downtime updates and convergence on", async () => {
        const rs = await build("web", {
            image: "swarm-ha-web:3",
            replicas: 3,
            ports: [{ target: 80, published: 80 }],
        });
        expect(rs.map((r) => `${r.type} ${r.name}`)).toEqual([
            "docker:index/service:Service web-service",
        ]);
        const s = serviceInputs("web");
        expect(s.name).toBe("web");
        expect(s.mode).toEqual({ replicated: { replicas: 3 } });
        // The sysctl map it never sets is not given, and its planned value is hidden from previews.
        expect(s.taskSpec.containerSpec.sysctl).toBeUndefined();
        expect(recorder.byName("web-service").hideDiffs).toEqual(["taskSpec.containerSpec.sysctl"]);
        // Every field of the restart policy: a replicas change then changes only the mode, and no
        // running task is replaced (seen on the lab with the Docker plugin 5.0.0).
        expect(s.taskSpec).toEqual({
            containerSpec: { image: "swarm-ha-web:3" },
            placement: {},
            restartPolicy: { condition: "any", delay: "5s", maxAttempts: 0, window: "0s" },
        });
        expect(s.endpointSpec).toEqual({
            mode: "vip",
            ports: [{ targetPort: 80, publishedPort: 80, protocol: "tcp", publishMode: "ingress" }],
        });
        expect(s.updateConfig).toEqual({
            parallelism: 1,
            delay: "5s",
            order: "start-first",
            failureAction: "rollback",
            monitor: "15s",
            maxFailureRatio: "0",
        });
        expect(s.rollbackConfig).toEqual({
            parallelism: 1,
            delay: "5s",
            order: "start-first",
            failureAction: "pause",
            monitor: "15s",
            maxFailureRatio: "0",
        });
        expect(s.convergeConfig).toEqual({ delay: "2s", timeout: "3m" });
        expect(s.labels).toEqual([]);
    });

    test("a global service does not ask the provider to wait for convergence (it cannot)", async () => {
        await build("glob", { image: "x:1", global: true });
        expect(serviceInputs("glob").mode).toEqual({ global: true });
        expect(serviceInputs("glob").convergeConfig).toBeUndefined();
    });

    test("the cluster's provider is the one used", async () => {
        await build("prov", { image: "x:1" });
        const providerRef = recorder.providerOf("prov-service");
        expect(providerRef).toMatch(/::cluster-provider::/);
    });
});

describe("SwarmService arguments", () => {
    test("every argument lands in the right place of docker.Service", async () => {
        await build("full", {
            image: "app:2",
            global: true,
            command: ["/bin/app"],
            args: ["--port", "8080"],
            env: { ZK: "zk1:2181,zk2:2181" },
            secretEnv: { TOKEN: pulumi.secret("s3cret") },
            ports: [{ target: 8080, published: 8080, protocol: "udp", publishMode: "host" }],
            endpointMode: "dnsrr",
            networks: [
                { name: "existing" },
                { name: "backend", create: true, attachable: true },
                { id: "made-elsewhere-id" },
            ],
            constraints: ["node.role==worker"],
            placementPreferences: ["spread=node.labels.zone"],
            maxReplicasPerNode: 2,
            limits: { cpus: 0.5, memoryBytes: 268435456 },
            reservations: { cpus: 0.25, memoryBytes: 134217728 },
            restartPolicy: { condition: "on-failure", delay: "5s", maxAttempts: 3, window: "1m" },
            healthcheck: { test: ["CMD", "true"], interval: "10s" },
            updateConfig: { parallelism: 2, order: "stop-first", failureAction: "pause" },
            rollbackConfig: { parallelism: 3 },
            mounts: [{ type: "volume", source: "data", target: "/data" }],
            labels: { team: "platform", app: "full" },
            waitForConvergence: false,
        });
        const s = serviceInputs("full");
        expect(s.mode).toEqual({ global: true });
        expect(s.taskSpec).toEqual({
            containerSpec: {
                image: "app:2",
                commands: ["/bin/app"],
                args: ["--port", "8080"],
                env: { ZK: "zk1:2181,zk2:2181", TOKEN: "s3cret" },
                mounts: [{ type: "volume", source: "data", target: "/data", readOnly: false }],
                healthcheck: {
                    tests: ["CMD", "true"],
                    interval: "10s",
                    timeout: "5s",
                    retries: 3,
                    startPeriod: "0s",
                },
            },
            placement: {
                constraints: ["node.role==worker"],
                prefs: ["spread=node.labels.zone"],
                maxReplicas: 2,
            },
            resources: {
                limits: { nanoCpus: 500000000, memoryBytes: 268435456 },
                reservation: { nanoCpus: 250000000, memoryBytes: 134217728 },
            },
            restartPolicy: { condition: "on-failure", delay: "5s", maxAttempts: 3, window: "1m" },
            // By ID: a name would show as a change at every run.
            networksAdvanceds: [
                { id: "existing-netid" },
                { id: "full-net-backend-id" },
                { id: "made-elsewhere-id" },
            ],
        });
        // A secret nested in an input makes the whole top-level input secret on the wire and in state.
        expect(recorder.byName("full-service").secretPaths).toEqual(["taskSpec"]);
        expect(s.endpointSpec).toEqual({
            mode: "dnsrr",
            ports: [
                { targetPort: 8080, publishedPort: 8080, protocol: "udp", publishMode: "host" },
            ],
        });
        expect(s.updateConfig).toEqual({
            parallelism: 2,
            delay: "5s",
            order: "stop-first",
            failureAction: "pause",
            monitor: "15s",
            maxFailureRatio: "0",
        });
        expect(s.rollbackConfig.parallelism).toBe(3);
        expect(s.convergeConfig).toBeUndefined();
        expect(s.labels).toEqual([
            { label: "app", value: "full" },
            { label: "team", value: "platform" },
        ]);
        const net = recorder.byName("full-net-backend");
        expect(net.type).toBe("docker:index/network:Network");
        expect(net.inputs).toEqual({ name: "full-backend", driver: "overlay", attachable: true });
        expect(recorder.byName("full-service").dependsOn).toEqual(["full-net-backend"]);
    });

    test("secrets and configs are created under names that carry their content's hash", async () => {
        await build("cfg", {
            image: "app:1",
            secrets: { "db-password": { content: pulumi.secret("hunter2") } },
            configs: { "app.conf": { content: "port=80\n", target: "/etc/app.conf", mode: 0o440 } },
        });
        const secret = recorder.byName("cfg-secret-db-password");
        expect(secret.type).toBe("docker:index/secret:Secret");
        expect(secret.inputs.name).toBe(
            `cfg-db-password-${contentHash("hunter2", "generated-cfg-file-salt")}`,
        );
        // The plain name holds no unkeyed hash of the secret, which a dictionary could test.
        expect(JSON.stringify(recorder.resources.map((r) => r.inputs))).not.toContain(
            contentHash("hunter2"),
        );
        expect(secret.inputs.data).toBe(Buffer.from("hunter2").toString("base64"));
        expect(secret.secretPaths).toEqual(["data"]);
        const config = recorder.byName("cfg-config-app.conf");
        expect(config.inputs).toEqual({
            name: `cfg-app.conf-${contentHash("port=80\n")}`,
            data: Buffer.from("port=80\n").toString("base64"),
        });
        const spec = serviceInputs("cfg").taskSpec.containerSpec;
        expect(spec.secrets).toEqual([
            {
                secretId: "cfg-secret-db-password-id",
                secretName: `cfg-db-password-${contentHash("hunter2", "generated-cfg-file-salt")}`,
                fileName: "db-password",
                fileMode: 292,
            },
        ]);
        expect(spec.configs).toEqual([
            {
                configId: "cfg-config-app.conf-id",
                configName: `cfg-app.conf-${contentHash("port=80\n")}`,
                fileName: "/etc/app.conf",
                fileMode: 288,
            },
        ]);
    });

    test("a new content gives a new name; the same content the same name", () => {
        expect(contentHash("a")).toBe(contentHash("a"));
        expect(contentHash("a")).not.toBe(contentHash("b"));
        expect(contentHash("a")).toMatch(/^[0-9a-f]{12}$/);
    });
});

describe("SwarmService private registries", () => {
    const auth = { server: "registry.example:5000", username: "ci", password: pulumi.secret("pw") };

    test("registryAuth: the credentials go with every create and update, the password secret", async () => {
        const rs = await build("priv", {
            image: "registry.example:5000/team/app:1",
            registryAuth: auth,
        });
        // No lookup without pinDigest: the image as given.
        expect(rs.map((r) => `${r.type} ${r.name}`)).toEqual([
            "docker:index/service:Service priv-service",
        ]);
        const s = serviceInputs("priv");
        expect(s.taskSpec.containerSpec.image).toBe("registry.example:5000/team/app:1");
        expect(s.auth).toEqual({
            serverAddress: "registry.example:5000",
            username: "ci",
            password: "pw",
        });
        expect(recorder.byName("priv-service").secretPaths).toContain("auth");
        expect(recorder.byName("priv-service").additionalSecretOutputs).toEqual(["auth"]);
    });

    test("pinDigest: the tag's digest asked of the registry by a provider of the service's own", async () => {
        const calls = recorder.calls.length;
        const rs = await build("pin", {
            image: "registry.example:5000/team/app:1",
            registryAuth: auth,
            pinDigest: true,
        });
        expect(rs.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
            "docker:index/service:Service pin-service",
            "pulumi:providers:docker pin-registry",
        ]);
        const lookup = recorder.byName("pin-registry");
        expect(lookup.parent).toBe("pin");
        // A provider's inputs reach the engine as JSON text.
        expect(lookup.inputs).toEqual({
            disableDockerDaemonCheck: "true",
            registryAuth: JSON.stringify([
                { address: "registry.example:5000", username: "ci", password: "pw" },
            ]),
        });
        expect(lookup.secretPaths).toContain("registryAuth");
        const asked = recorder.calls.slice(calls);
        expect(asked.map((c) => [c.token, c.inputs])).toEqual([
            [
                "docker:index/getRegistryImage:getRegistryImage",
                { name: "registry.example:5000/team/app:1" },
            ],
        ]);
        expect(asked[0].provider).toMatch(/::pin-registry::/);
        const digest = createHash("sha256")
            .update("registry.example:5000/team/app:1")
            .digest("hex");
        expect(serviceInputs("pin").taskSpec.containerSpec.image).toBe(
            `registry.example:5000/team/app:1@sha256:${digest}`,
        );
    });

    test("a user name and password with quotes, globs and substitutions stay data, sent as JSON", async () => {
        const username = "robot$(id)`id`;'q'\"d\"*";
        const password = "p w $(touch /tmp/x) `id` ; 'q' \"d\" * \\";
        const rs = await build("nasty", {
            image: "registry.example:5000/app:1",
            registryAuth: { server: "registry.example:5000", username, password },
            pinDigest: true,
        });
        expect(serviceInputs("nasty").auth).toEqual({
            serverAddress: "registry.example:5000",
            username,
            password,
        });
        expect(JSON.parse(String(recorder.byName("nasty-registry").inputs.registryAuth))).toEqual([
            { address: "registry.example:5000", username, password },
        ]);
        // No step runs anything with them: no command, only the service and the lookup.
        expect(rs.filter((r) => r.type.startsWith("command:"))).toEqual([]);
    });

    test("pinDigest on a public image: no credentials; an image given by digest is run as given", async () => {
        await build("pub", { image: "nginx:1.27", pinDigest: true });
        expect(recorder.byName("pub-registry").inputs).toEqual({
            disableDockerDaemonCheck: "true",
        });
        expect(serviceInputs("pub").taskSpec.containerSpec.image).toMatch(
            /^nginx:1\.27@sha256:[0-9a-f]{64}$/,
        );
        const calls = recorder.calls.length;
        const given = `nginx:1.27@sha256:${"a".repeat(64)}`;
        const rs = await build("given", { image: given, pinDigest: true });
        expect(rs.map((r) => r.name)).toEqual(["given-service"]);
        expect(recorder.calls.slice(calls)).toEqual([]);
        expect(serviceInputs("given").taskSpec.containerSpec.image).toBe(given);
    });
});

describe("SwarmService validation", () => {
    test.each<[string, SwarmServiceArgs, string]>([
        [
            "empty image",
            { image: " " },
            'SwarmService "web": image is empty; give an image reference such as "nginx:1.27".',
        ],
        [
            "negative replicas",
            { image: "x", replicas: -1 },
            'SwarmService "web": replicas is -1; use a whole number of at least 0.',
        ],
        [
            "fractional replicas",
            { image: "x", replicas: 1.5 },
            'SwarmService "web": replicas is 1.5; use a whole number of at least 0.',
        ],
        [
            "global with replicas",
            { image: "x", global: true, replicas: 2 },
            'SwarmService "web": replicas is 2 with global true; a global service runs one task per node, so leave replicas unset.',
        ],
        [
            "duplicate published port",
            {
                image: "x",
                ports: [
                    { target: 80, published: 8080 },
                    { target: 81, published: 8080 },
                ],
            },
            'SwarmService "web": published port 8080/tcp is used more than once; published ports must be unique.',
        ],
        [
            "bad target port",
            { image: "x", ports: [{ target: 0 }] },
            'SwarmService "web": ports target 0 is not a port; use 1 to 65535.',
        ],
        [
            "bad published port",
            { image: "x", ports: [{ target: 80, published: 70000 }] },
            'SwarmService "web": ports published 70000 is not a port; use 1 to 65535.',
        ],
        [
            "a convergence timeout that is not a Go duration",
            { image: "x", convergenceTimeout: "3 minutes" },
            'SwarmService "web": convergenceTimeout is "3 minutes"; use a Go duration such as "3m" or "90s".',
        ],
        [
            "bad max replicas per node",
            { image: "x", maxReplicasPerNode: 0 },
            'SwarmService "web": maxReplicasPerNode is 0; use a whole number of at least 1.',
        ],
        [
            "registry credentials for another registry than the image's",
            {
                image: "registry.example:5000/team/app:1",
                registryAuth: { server: "other.example:5000", username: "ci", password: "pw" },
            },
            'SwarmService "web": registryAuth server is "other.example:5000" but the image "registry.example:5000/team/app:1" is pulled from registry.example:5000; give the credentials of the image\'s registry.',
        ],
        [
            "registry credentials for a Docker Hub image, for a private registry",
            {
                image: "team/app:1",
                registryAuth: { server: "registry.example", username: "ci", password: "pw" },
            },
            'SwarmService "web": registryAuth server is "registry.example" but the image "team/app:1" is pulled from docker.io; give the credentials of the image\'s registry.',
        ],
        [
            "a registry server written as a URL",
            {
                image: "registry.example/app:1",
                registryAuth: {
                    server: "https://registry.example/v2",
                    username: "ci",
                    password: "pw",
                },
            },
            `SwarmService "web": registryAuth server is "https://registry.example/v2"; use the registry's host and port as an image names it, such as "registry.example:5000" (no scheme or path).`,
        ],
        [
            "a registry user name with a newline",
            {
                image: "registry.example/app:1",
                registryAuth: { server: "registry.example", username: "ci\nx", password: "pw" },
            },
            `SwarmService "web": registryAuth username is "ci\\nx"; use the registry's user name: printable characters without spaces (255 at most).`,
        ],
        [
            "an empty registry password",
            {
                image: "registry.example/app:1",
                registryAuth: { server: "registry.example", username: "ci", password: "" },
            },
            'SwarmService "web": registryAuth password; use a password that is not empty, on one line, without control characters.',
        ],
        [
            "a network with neither id nor name",
            { image: "x", networks: [{ name: "backend" }, { create: true }] },
            'SwarmService "web": networks[1] gives neither id nor name; give one of them.',
        ],
        [
            "a network with both id and name",
            { image: "x", networks: [{ id: "n0x", name: "backend" }] },
            'SwarmService "web": networks[0] gives both an id and the name "backend"; give one of them.',
        ],
        [
            "a network by id that asks to be created",
            { image: "x", networks: [{ id: "n0x", create: true }] },
            'SwarmService "web": networks[0] gives an id with create true; those are for a network by name.',
        ],
        [
            "an attachable network the service does not create",
            { image: "x", networks: [{ name: "backend", attachable: true }] },
            'SwarmService "web": networks[0] ("backend") has attachable true without create; attachable is for a network the service creates, so set create: true.',
        ],
        [
            "bad secret key",
            { image: "x", secrets: { "../x": { content: "y" } } },
            `SwarmService "web": secrets key is "../x"; use letters, digits, '_', '.' and '-', starting and ending with a letter or digit (63 at most).`,
        ],
    ])("%s", (_label, args, message) => {
        expect(() => validateSwarmServiceArgs("web", args)).toThrow(message);
        try {
            validateSwarmServiceArgs("web", args);
        } catch (e) {
            expect((e as Error).message).toBe(message);
        }
    });

    test("a network's defaults written out are accepted; a name that is no network name is refused", () => {
        expect(() =>
            validateSwarmServiceArgs("web", {
                image: "x",
                networks: [
                    { id: "n0x", create: false, attachable: false },
                    { name: "backend", create: false, attachable: false },
                    { name: "front", create: true, attachable: true },
                ],
            }),
        ).not.toThrow();
        expect(() =>
            validateSwarmServiceArgs("web", { image: "x", networks: [{ name: "a b" }] }),
        ).toThrow('SwarmService "web": networks[0] name is "a b";');
    });

    test("the same published port on tcp and udp is allowed", () => {
        expect(() =>
            validateSwarmServiceArgs("web", {
                image: "x",
                ports: [
                    { target: 53, published: 53 },
                    { target: 53, published: 53, protocol: "udp" },
                ],
            }),
        ).not.toThrow();
    });
});

describe("SwarmService tasks and addresses", () => {
    const report = parseTasks(
        [
            "task zz9 lab-w1 10.0.0.21 Running 2 minutes ago",
            "task aa1 lab-m1 10.0.0.11 Running about a minute ago",
            "node 10.0.0.21",
            "node 10.0.0.11",
            "node 10.0.0.12",
        ].join("\n"),
    );

    test("docker service ps lines become tasks, sorted by id; every node's address", () => {
        expect(report).toEqual({
            tasks: [
                {
                    id: "aa1",
                    node: "lab-m1",
                    address: "10.0.0.11",
                    state: "Running",
                    since: "about a minute ago",
                },
                {
                    id: "zz9",
                    node: "lab-w1",
                    address: "10.0.0.21",
                    state: "Running",
                    since: "2 minutes ago",
                },
            ],
            nodes: ["10.0.0.11", "10.0.0.12", "10.0.0.21"],
        });
    });

    test("host-mode ports answer where a task runs; ingress ports on every node", () => {
        expect(
            serviceAddresses([{ target: 80, published: 8080, publishMode: "host" }], report),
        ).toEqual(["10.0.0.11:8080", "10.0.0.21:8080"]);
        expect(serviceAddresses([{ target: 80, published: 80 }, { target: 9 }], report)).toEqual([
            "10.0.0.11:80",
            "10.0.0.12:80",
            "10.0.0.21:80",
        ]);
    });

    test("the command asks for the running tasks of the service, quoted", () => {
        const text = tasksCommand("web");
        expect(text).toContain("docker service ps 'web' --filter desired-state=running");
        expect(text.split("\n")).toHaveLength(4);
    });

    test("with a convergence bound, it first waits for the service to converge, then reports", () => {
        const text = tasksCommand("web", 90);
        expect(text.split("\n").slice(0, 3)).toEqual([
            "set -eu",
            "svc='web'",
            "why() { docker service inspect \"$svc\" --format '{{if .UpdateStatus}}{{.UpdateStatus.Message}}{{end}}'; }",
        ]);
        // 90 s by the clock, a check every quarter second.
        expect(CONVERGENCE_POLL_SECONDS).toBe(0.25);
        expect(text).toContain("until=$(($(date +%s) + 90))");
        expect(text).toContain("  sleep 0.25\n");
        expect(text.split("\n").slice(-3)).toEqual(tasksCommand("web").split("\n").slice(1));
    });

    test("Go durations in seconds; anything else is not one", () => {
        expect(durationSeconds("3m")).toBe(180);
        expect(durationSeconds("1m30s")).toBe(90);
        expect(durationSeconds("1h")).toBe(3600);
        expect(durationSeconds("500ms")).toBe(0.5);
        for (const bad of ["", "3", "3 m", "-3m", "3m;ls", "m"]) {
            expect(durationSeconds(bad)).toBeUndefined();
        }
    });
});

describe("the convergence wait (run here, with a fake docker playing the swarm's answers)", () => {
    // Runs the wait of tasksCommand("web", 2) with a docker that answers, round by round, from
    // `rounds` (the last one again once they are used up): each round the service's update state
    // ("none" for no status), how many seconds ago that update started, its replicas, the Running
    // tasks on the current spec and all tasks meant to run. Returns how it ended and how many
    // rounds it asked.
    function converge(rounds: [string, number, number, number, number][]): {
        status: number;
        stderr: string;
        asked: number;
    } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "converge-"));
        const round = path.join(dir, "round");
        fs.writeFileSync(round, "0");
        const set = ([state, ago, replicas, fresh, meant]: [
            string,
            number,
            number,
            number,
            number,
        ]) => `state=${state} ago=${ago} replicas=${replicas} fresh=${fresh} meant=${meant}`;
        const table = rounds.map((r, i) => `${i}) ${set(r)} ;;`);
        fs.writeFileSync(
            path.join(dir, "docker"),
            [
                "#!/bin/sh",
                `n=$(cat ${round})`,
                `case "$n" in ${table.join(" ")} *) ${set(rounds[rounds.length - 1])} ;; esac`,
                'case "$*" in',
                '  *"{{.UpdateStatus.State}}"*) if [ "$state" = none ]; then echo "none 0 $replicas"; else echo "$state $(($(date +%s) - ago)) $replicas"; fi ;;',
                '  *"{{.UpdateStatus.Message}}"*) echo "update rolled back due to failure" ;;',
                '  *_up-to-date=true*) i=0; while [ $i -lt $fresh ]; do echo "Running 1 second ago"; i=$((i + 1)); done ;;',
                `  "service ps web --filter desired-state=running --format {{.CurrentState}}") i=0; while [ $i -lt $meant ]; do echo "Running 1 second ago"; i=$((i + 1)); done; echo $((n + 1)) >${round} ;;`,
                "  *) exit 0 ;;",
                "esac",
            ].join("\n"),
            { mode: 0o755 },
        );
        const wait = tasksCommand("web", 2).split("\n").slice(0, -3).join("\n");
        const r = spawnSync("sh", ["-c", wait.replace(/sleep 0\.25/, "sleep 0.05")], {
            env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
            encoding: "utf8",
        });
        return {
            status: r.status ?? -1,
            stderr: r.stderr.trim(),
            asked: Number(fs.readFileSync(round, "utf8")),
        };
    }

    test("an update in progress, then old tasks only, then the new ones: done when they are", () => {
        // Right after the update call, before the updater starts: no status, the old tasks running.
        expect(
            converge([
                ["none", 0, 3, 0, 3],
                ["updating", 0, 3, 1, 4],
                ["updating", 1, 3, 3, 3],
                ["completed", 1, 3, 3, 3],
            ]),
        ).toEqual({ status: 0, stderr: "", asked: 4 });
    });

    test("a scale: no update status, done once exactly the replicas run", () => {
        expect(
            converge([
                ["none", 0, 4, 3, 3],
                ["none", 0, 4, 4, 5],
                ["none", 0, 4, 4, 4],
            ]),
        ).toEqual({ status: 0, stderr: "", asked: 3 });
    });

    test("rolled back or paused by the swarm in this run: fails with its message", () => {
        expect(
            converge([
                ["updating", 0, 3, 1, 4],
                ["rollback_completed", 1, 3, 3, 3],
            ]),
        ).toEqual({
            status: 1,
            stderr: "swarm-ha: service web: service rollback completed: update rolled back due to failure",
            asked: 1,
        });
        expect(converge([["paused", 0, 3, 1, 3]]).stderr).toBe(
            "swarm-ha: service web: the update is paused: update rolled back due to failure",
        );
    });

    test("a rollback left by an earlier run (started before the bound) is not this run's: it converges", () => {
        expect(converge([["rollback_completed", 3600, 3, 3, 3]])).toEqual({
            status: 0,
            stderr: "",
            asked: 1,
        });
    });

    test("never converging: fails at the bound, in time, saying what it saw", () => {
        const since = Date.now();
        const stuck = converge([["none", 0, 3, 2, 3]]);
        expect(stuck.status).toBe(1);
        expect(stuck.stderr).toBe(
            "swarm-ha: service web: not converged after 2 s: 2 of 3 running on its current spec, 3 meant to run, update none",
        );
        expect(Date.now() - since).toBeLessThan(6000);
    });
});

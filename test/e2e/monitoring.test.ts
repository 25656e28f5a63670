// End to end: monitoring and alerting on the lab, through the real engine and the official plugins.
// The alert rules pass promtool's own rule tests. The dev stack's settings (monitoring on, 5 s
// scrapes, alerts after 10 s) converge Prometheus, Alertmanager, node exporters and the exporter,
// turned on for a running cluster (each engine restarted for its metrics address in turn, a
// manager answering for the swarm throughout); every scrape target answers, web's tasks among them,
// read through the read-only Docker API proxy, the only service holding the engine's socket, which
// refuses a write sent through its socket.
// Stopping a manager's host, then one ZooKeeper server, fires the matching alerts in Prometheus and
// Alertmanager (the time to firing is printed), and they resolve once the host is back and `up`
// has healed the ensemble. The monitoring's settings come from stack config as a team writes them:
// an image by another name, Alertmanager's whole configuration as a secret whose webhook receiver
// is this test (listening on the lab network), and Prometheus pinned to the manager with a label,
// its history surviving a restart of its task.
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { REPO, openStack } from "../../scripts/automation";
import { httpGet } from "../../scripts/http";
import {
    AlertRule,
    DASHBOARDS,
    MONITORING_IMAGES,
    dashboardJson,
    prometheusGraphUrl,
    MonitoringPlan,
    alertRules,
    rulesFile,
} from "../../components/internal";
import { DEV, freshLab, freshStack, lab, onHost, record } from "./helpers";

jest.setTimeout(20 * 60 * 1000);

const ADDRESS_OF = Object.fromEntries(DEV.map((n) => [n.name, n.host]));
const MANAGERS = DEV.filter((n) => n.role === "manager").map((n) => n.name);
const ZK_ID_OF: Record<string, string> = { "lab-m1": "1", "lab-m2": "2", "lab-m3": "3" };

let stack: Stack;
let prometheus = "";
/** Alertmanager's address, read again after its task moved (its port is published on its node). */
let alertmanager = "";
let watcher = "lab-m1";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// This machine on the lab's bridge network (the network's gateway), where the test's webhook
// receiver listens for Alertmanager's notifications.
const GATEWAY = "172.30.213.1";
/** Prometheus on the manager with this label (stack config's prometheusLabel). */
const PINNED = "lab-m2";
/** Prometheus's image under a name of the stack's choosing (monitoring.images). */
const PROMETHEUS_IMAGE = "swarm-ha-prometheus:e2e-config";

/** One alert of a webhook notification, as Alertmanager sends it. */
interface Notified {
    status: string;
    labels: Record<string, string>;
}
const notified: Notified[] = [];
let receiver: http.Server | undefined;

/** Alertmanager's configuration from stack config: every alert to this test, resolutions too. */
function alertmanagerConfig(port: number): string {
    return [
        "route:",
        "  receiver: e2e",
        "  group_by: [alertname, cluster]",
        "  group_wait: 1s",
        "  group_interval: 2s",
        "  repeat_interval: 1h",
        "receivers:",
        "  - name: e2e",
        "    webhook_configs:",
        `      - url: http://${GATEWAY}:${port}/alerts`,
        "        send_resolved: true",
        "",
    ].join("\n");
}

/** Starts the webhook receiver on the lab network; resolves with its port. */
function listen(): Promise<number> {
    return new Promise((resolve, reject) => {
        receiver = http.createServer((req, res) => {
            let body = "";
            req.on("data", (chunk: Buffer) => {
                if (body.length < 1 << 20) body += chunk.toString("utf8");
            });
            req.on("end", () => {
                try {
                    const message = JSON.parse(body) as { alerts: Notified[] };
                    for (const a of message.alerts) {
                        notified.push({ status: a.status, labels: a.labels });
                    }
                } catch {
                    // Not a notification: nothing to record.
                }
                res.writeHead(200).end();
            });
        });
        receiver.once("error", reject);
        receiver.listen(0, GATEWAY, () => {
            const address = receiver!.address();
            resolve(typeof address === "object" && address ? address.port : 0);
        });
    });
}

/** Whether the receiver got an alert with `status` ("firing" or "resolved") and these labels. */
const received = (status: string, name: string, labels: Record<string, string> = {}): boolean =>
    notified.some(
        (n) =>
            n.status === status &&
            n.labels.alertname === name &&
            Object.entries(labels).every(([k, v]) => n.labels[k] === v),
    );

/** The `data` of a Prometheus (or the body of an Alertmanager) API answer; throws on anything else. */
async function api<T>(url: string): Promise<T> {
    const answer = await httpGet(url, 5000);
    if (!answer.startsWith("200 ")) throw new Error(`GET ${url}: ${answer.slice(0, 300)}`);
    const body = JSON.parse(answer.slice(4)) as { data?: T };
    return (url.includes("/api/v1/") ? body.data : body) as T;
}

/** Polls `check` every second until it returns a value, for at most `seconds`; names what it waited for. */
async function waitFor<T>(
    what: string,
    seconds: number,
    check: () => Promise<T | undefined>,
): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    let last: unknown;
    for (;;) {
        try {
            const got = await check();
            if (got !== undefined) return got;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) {
            throw new Error(
                `gave up waiting ${seconds} s for ${what}${last ? `; last: ${String(last)}` : ""}`,
            );
        }
        await sleep(1000);
    }
}

interface Target {
    labels: Record<string, string>;
    health: string;
    lastError: string;
}
interface Alert {
    labels: Record<string, string>;
    state: string;
}

const targets = (): Promise<{ activeTargets: Target[] }> =>
    api(`${prometheus}/api/v1/targets?state=active`);
const firing = async (): Promise<Alert[]> =>
    (await api<{ alerts: Alert[] }>(`${prometheus}/api/v1/alerts`)).alerts.filter(
        (a) => a.state === "firing",
    );
async function inAlertmanager(): Promise<Alert[]> {
    try {
        const alerts = await api<{ labels: Record<string, string>; status: { state: string } }[]>(
            `${alertmanager}/api/v2/alerts?active=true`,
        );
        return alerts.map((a) => ({ labels: a.labels, state: a.status.state }));
    } catch (e) {
        alertmanager = taskUrl("monitoring-alertmanager", 9093, watcher);
        throw e;
    }
}
const matches = (alerts: Alert[], name: string, labels: Record<string, string> = {}): boolean =>
    alerts.some(
        (a) =>
            a.labels.alertname === name &&
            Object.entries(labels).every(([k, v]) => a.labels[k] === v),
    );

/** Where a service's one task runs, as "http://ADDRESS:PORT", read on a manager that is up. */
function taskUrl(service: string, port: number, manager = "lab-m1"): string {
    const node = onHost(
        manager,
        `docker service ps ${service} --filter desired-state=running --format '{{.Node}}'`,
    ).split("\n")[0];
    return `http://${ADDRESS_OF[node]}:${port}`;
}

/**
 * Waits (bounded) until every expected alert fires in Prometheus and is active in Alertmanager,
 * asking both every second; returns the seconds from `since` to each, "NAME: Prometheus N s,
 * Alertmanager M s".
 */
async function timeToFire(
    since: number,
    expected: [string, Record<string, string>][],
): Promise<string[]> {
    const seen = expected.map(() => ({ prometheus: 0, alertmanager: 0 }));
    const done = (): boolean => seen.every((s) => s.prometheus > 0 && s.alertmanager > 0);
    await waitFor(`${expected.map(([n]) => n).join(", ")} to fire`, 180, async () => {
        const now = (Date.now() - since) / 1000;
        const [p, a] = await Promise.all([firing(), inAlertmanager()]);
        expected.forEach(([name, labels], i) => {
            if (!seen[i].prometheus && matches(p, name, labels)) seen[i].prometheus = now;
            if (!seen[i].alertmanager && matches(a, name, labels)) seen[i].alertmanager = now;
        });
        return done() ? true : undefined;
    });
    return expected.map(
        ([name, labels], i) =>
            `${name} ${JSON.stringify(labels)}: Prometheus ${seen[i].prometheus.toFixed(1)} s, Alertmanager ${seen[i].alertmanager.toFixed(1)} s`,
    );
}

beforeAll(async () => {
    freshLab(3, 2);
    stack = await openStack({ stack: "mon-e2e", settingsFrom: "dev" });
    await freshStack(stack);
    stack = await openStack({ stack: "mon-e2e", settingsFrom: "dev" });
    // The platform first, without monitoring: the next test turns it on for a running cluster.
    await stack.setConfig("swarm-ha:monitoring", { value: JSON.stringify({ enabled: false }) });
    await stack.up({ onOutput: record, color: "never" });
});

/** Whether a manager answers for the swarm (`docker node ls`), asked without blocking the program. */
function answersForSwarm(manager: string): Promise<boolean> {
    return new Promise((resolve) =>
        execFile(
            "bash",
            [path.join(REPO, "lab", "lab.sh"), "ssh", manager, "docker node ls -q >/dev/null"],
            { timeout: 5000 },
            (error) => resolve(!error),
        ),
    );
}

afterAll(async () => {
    receiver?.close();
    for (const name of MANAGERS) lab("start", name);
    await stack?.destroy({ onOutput: record, color: "never" });
});

test("the alert rules pass promtool's rule tests: quorums, nodes, services, ZooKeeper", () => {
    const plan: MonitoringPlan = {
        cluster: "lab",
        scrapeInterval: "5s",
        alertAfter: "10s",
        engineMetricsPort: 9323,
        nodeExporterPort: 9100,
        exporter: "monitoring-exporter:9142",
        alertmanager: "monitoring-alertmanager:9093",
        zookeeper: [1, 2, 3].map((id) => ({ id, target: `172.30.213.1${id}:2181` })),
        zookeeperParticipants: 3,
        taskNetworks: [],
    };
    const rules = Object.fromEntries(alertRules(plan).map((r) => [r.alert, r]));
    // The summary as Prometheus expands it for these labels and value.
    const expected = (rule: AlertRule, labels: Record<string, string>, value = "") => ({
        exp_labels: { severity: rule.labels.severity, ...labels },
        exp_annotations: {
            summary: rule.annotations.summary
                .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => labels[k] ?? "")
                .replace("{{ $value }}", value),
        },
    });
    const manager = (node: string, values: string) => ({
        series: `swarm_ha_manager_reachable{node="${node}",address="10.0.0.${node.slice(1)}"}`,
        values,
    });
    const tests = [
        {
            // One manager of three unreachable: a warning, the swarm keeps its majority.
            interval: "5s",
            input_series: [manager("m1", "1x12"), manager("m2", "1 1 0x10"), manager("m3", "1x12")],
            alert_rule_test: [
                {
                    eval_time: "45s",
                    alertname: "SwarmManagerUnreachable",
                    exp_alerts: [
                        expected(rules.SwarmManagerUnreachable, {
                            node: "m2",
                            address: "10.0.0.2",
                        }),
                    ],
                },
                { eval_time: "45s", alertname: "SwarmManagersWithoutMajority", exp_alerts: [] },
            ],
        },
        {
            // Two of three: no majority.
            interval: "5s",
            input_series: [
                manager("m1", "1x12"),
                manager("m2", "1 1 0x10"),
                manager("m3", "1 1 0x10"),
            ],
            alert_rule_test: [
                {
                    eval_time: "45s",
                    alertname: "SwarmManagersWithoutMajority",
                    exp_alerts: [expected(rules.SwarmManagersWithoutMajority, {})],
                },
            ],
        },
        {
            // The manager the exporter asks no longer answers for the swarm.
            interval: "5s",
            input_series: [
                {
                    series: 'swarm_ha_swarm_api_up{job="swarm",instance="e:9142"}',
                    values: "1 1 0x10",
                },
            ],
            alert_rule_test: [
                {
                    eval_time: "45s",
                    alertname: "SwarmManagersWithoutMajority",
                    exp_alerts: [
                        expected(rules.SwarmManagersWithoutMajority, {
                            job: "swarm",
                            instance: "e:9142",
                        }),
                    ],
                },
            ],
        },
        {
            // A node down and a service short of a task; shorter than alertAfter fires nothing.
            interval: "5s",
            input_series: [
                {
                    series: 'swarm_ha_node_ready{node="w1",role="worker",address="10.0.0.21"}',
                    values: "1 1 0x10",
                },
                { series: 'swarm_ha_service_tasks_running{service="web"}', values: "3 3 2x10" },
                { series: 'swarm_ha_service_tasks_desired{service="web"}', values: "3x12" },
            ],
            alert_rule_test: [
                { eval_time: "15s", alertname: "SwarmNodeDown", exp_alerts: [] },
                {
                    eval_time: "45s",
                    alertname: "SwarmNodeDown",
                    exp_alerts: [
                        expected(rules.SwarmNodeDown, {
                            node: "w1",
                            role: "worker",
                            address: "10.0.0.21",
                        }),
                    ],
                },
                {
                    eval_time: "45s",
                    alertname: "SwarmServiceBelowReplicas",
                    exp_alerts: [
                        expected(rules.SwarmServiceBelowReplicas, { service: "web" }, "2"),
                    ],
                },
            ],
        },
        {
            // The leader (server 3) stops: no leader until another is elected; a follower short.
            interval: "5s",
            input_series: [
                { series: 'zk_server_state{server="1",state="leader"}', values: "0x12" },
                { series: 'zk_server_state{server="2",state="leader"}', values: "0x12" },
                // The exporter still answers for a server that does not: its series go stale at once.
                { series: 'zk_server_state{server="3",state="leader"}', values: "1 1 stale" },
                { series: 'zk_up{server="3",instance="172.30.213.13:2181"}', values: "1 1 0x10" },
                { series: 'zk_synced_followers{server="3"}', values: "2 1 stale" },
            ],
            alert_rule_test: [
                {
                    eval_time: "45s",
                    alertname: "ZooKeeperNoLeader",
                    exp_alerts: [expected(rules.ZooKeeperNoLeader, {})],
                },
                {
                    eval_time: "45s",
                    alertname: "ZooKeeperServerDown",
                    exp_alerts: [
                        expected(rules.ZooKeeperServerDown, {
                            server: "3",
                            instance: "172.30.213.13:2181",
                        }),
                    ],
                },
            ],
        },
        {
            // A follower out of sync (2 wanted of 3 participants).
            interval: "5s",
            input_series: [{ series: 'zk_synced_followers{server="1"}', values: "2 2 1x10" }],
            alert_rule_test: [
                {
                    eval_time: "45s",
                    alertname: "ZooKeeperFollowersNotSynced",
                    exp_alerts: [expected(rules.ZooKeeperFollowersNotSynced, {}, "1")],
                },
            ],
        },
    ];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rules-"));
    fs.writeFileSync(path.join(dir, "rules.yml"), rulesFile(plan));
    fs.writeFileSync(
        path.join(dir, "tests.yml"),
        JSON.stringify({ rule_files: ["rules.yml"], evaluation_interval: "5s", tests }, null, 2),
    );
    const out = execFileSync(
        "docker",
        [
            "run",
            "--rm",
            "-v",
            `${dir}:/rules`,
            "-w",
            "/rules",
            "--entrypoint",
            "/usr/bin/promtool",
            MONITORING_IMAGES.prometheus,
            "test",
            "rules",
            "tests.yml",
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    expect(out).toContain("SUCCESS");
});

test("monitoring turned on for a running cluster: each engine restarted in turn, the swarm answering throughout", async () => {
    // Every second while up runs: does some manager answer for the swarm?
    let running = true;
    let rounds = 0;
    const silent: number[] = [];
    const started = Date.now();
    const watch = (async () => {
        while (running) {
            const round = Date.now();
            let answered = false;
            for (const m of MANAGERS) {
                if (await answersForSwarm(m)) {
                    answered = true;
                    break;
                }
            }
            rounds++;
            if (!answered) silent.push((round - started) / 1000);
            await sleep(Math.max(0, 1000 - (Date.now() - round)));
        }
    })();
    let printed = "";
    // Prometheus's image under another name, given to every host as a datacenter's registry would.
    execFileSync("docker", ["tag", MONITORING_IMAGES.prometheus, PROMETHEUS_IMAGE]);
    lab("load-image", PROMETHEUS_IMAGE);
    const port = await listen();
    await stack.setConfig("swarm-ha:nodes", {
        value: JSON.stringify(
            DEV.map((n) =>
                n.name === PINNED ? { ...n, labels: { ...n.labels, monitoring: "prometheus" } } : n,
            ),
        ),
    });
    // The whole map is secret, as `pulumi config set --secret --path` makes it.
    await stack.setConfig("swarm-ha:monitoring", {
        value: JSON.stringify({
            enabled: true,
            scrapeInterval: "5s",
            alertAfter: "10s",
            publishMode: "host",
            endpointMode: "dnsrr",
            retention: "2d",
            images: { prometheus: PROMETHEUS_IMAGE },
            alertmanagerConfig: alertmanagerConfig(port),
            prometheusLabel: "monitoring=prometheus",
        }),
        secret: true,
    });
    try {
        await stack.up({
            onOutput: (out) => {
                printed += out;
                record(out);
            },
            color: "never",
        });
    } finally {
        running = false;
        await watch;
    }
    // The later tests need these even when an assertion below fails.
    prometheus = taskUrl("monitoring-prometheus", 9090);
    alertmanager = taskUrl("monitoring-alertmanager", 9093);
    const seconds = (Date.now() - started) / 1000;
    const restarted =
        printed.match(/lab-engine-(lab-\w+) .*restarting Docker for its metrics address/g) ?? [];
    console.log(
        `monitoring turned on in ${seconds.toFixed(1)} s; engines restarted: ${restarted.length}; ${rounds} rounds asking the managers, silent: ${silent.length}`,
    );
    // Every engine restarted, one at a time (the steps' order, asserted by the unit tests), and
    // the swarm answering throughout: at most one silent second, the Raft election when the
    // leading manager's engine restarts (one CI run had one such second, at 31 s of 53).
    expect(new Set(restarted.map((l) => /lab-engine-(lab-\w+)/.exec(l)![1]))).toEqual(
        new Set(DEV.map((n) => n.name)),
    );
    expect(silent.length).toBeLessThanOrEqual(1);
    for (const n of DEV) {
        expect(await httpGet(`http://${n.host}:9323/metrics`)).toMatch(/^200 /);
    }
    // From stack config: the image, the retention, the pin; Alertmanager's configuration in a
    // secret, not in any output or the state.
    const spec = JSON.parse(
        onHost("lab-m1", "docker service inspect monitoring-prometheus --format '{{json .Spec}}'"),
    ) as {
        TaskTemplate: {
            ContainerSpec: { Image: string; Args: string[] };
            Placement: { Constraints: string[] };
        };
    };
    expect(spec.TaskTemplate.ContainerSpec.Image.split("@")[0]).toBe(PROMETHEUS_IMAGE);
    expect(spec.TaskTemplate.ContainerSpec.Args).toContain("--storage.tsdb.retention.time=2d");
    expect(spec.TaskTemplate.Placement.Constraints).toContain("node.labels.monitoring==prometheus");
    expect(prometheus).toBe(`http://${ADDRESS_OF[PINNED]}:9090`);
    const state = JSON.stringify(await stack.exportStack());
    expect(state).not.toContain(`${GATEWAY}:${port}`);
});

test("each Grafana dashboard panel's query returns series from the lab's Prometheus", async () => {
    const queries = DASHBOARDS.flatMap((d) =>
        (
            JSON.parse(dashboardJson(d)) as {
                panels: { title: string; targets: { expr: string }[] }[];
            }
        ).panels.flatMap((p) => p.targets.map((t) => ({ at: `${d}: ${p.title}`, expr: t.expr }))),
    );
    const empty: string[] = [];
    for (const q of queries) {
        try {
            // A rate over a minute needs two scrapes first: a bounded wait for each.
            await waitFor(`series for ${q.at} (${q.expr})`, 60, async () => {
                const r = await api<{ result: unknown[] }>(
                    `${prometheus}/api/v1/query?query=${encodeURIComponent(q.expr)}`,
                );
                return r.result.length > 0 ? true : undefined;
            });
        } catch {
            empty.push(`${q.at}: ${q.expr}`);
        }
    }
    console.log(
        `${queries.length} dashboard queries, ${queries.length - empty.length} with series`,
    );
    expect(empty).toEqual([]);
});

test("a graph that plots: the lab's Prometheus graph page, in headless Chromium, draws the nodes' readiness", () => {
    // Kept as the test's artefact, beside the suite's other output.
    const dir = path.join(REPO, "test", "artifacts");
    fs.mkdirSync(dir, { recursive: true });
    const shot = path.join(dir, "prometheus-graph.png");
    fs.rmSync(shot, { force: true });
    const url = prometheusGraphUrl(prometheus, "swarm_ha_node_ready", "5m");
    const chromium = (...args: string[]): string =>
        execFileSync(
            "chromium",
            [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1280,900",
                // Time for the page's scripts and its query to Prometheus.
                "--virtual-time-budget=15000",
                ...args,
                url,
            ],
            { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 90_000 },
        );
    const dom = chromium("--dump-dom");
    chromium(`--screenshot=${shot}`);
    console.log(`the graph of ${url}: ${shot}`);
    // Rickshaw drew one line per node, each with its legend.
    const lines = dom.match(/<path class="path" d="M[0-9.]+,[0-9.]+L/g) ?? [];
    expect(lines.length).toBeGreaterThanOrEqual(DEV.length);
    for (const n of DEV) expect(dom).toContain(`node="${n.name}"`);
    // A PNG of the page, more than the empty frame.
    const png = fs.readFileSync(shot);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(png.length).toBeGreaterThan(20_000);
});

test("Prometheus's history survives a restart of its task on the pinned manager", async () => {
    const oldest = async (): Promise<number | undefined> => {
        const r = await api<{ result: { value: [number, string] }[] }>(
            `${prometheus}/api/v1/query?query=${encodeURIComponent('min_over_time(timestamp(up{job="prometheus"})[1h:5s])')}`,
        );
        return r.result.length > 0 ? Number(r.result[0].value[1]) : undefined;
    };
    const before = await waitFor("a sample of Prometheus itself", 60, oldest);
    const restarted = Date.now() / 1000;
    onHost(
        "lab-m1",
        "docker service update --force --detach=false -q monitoring-prometheus >/dev/null",
    );
    expect(taskUrl("monitoring-prometheus", 9090)).toBe(prometheus);
    // Its first sample after the restart is still the one from before.
    const after = await waitFor("Prometheus to answer after its restart", 90, oldest);
    console.log(
        `Prometheus restarted on ${PINNED}; oldest sample ${(restarted - after).toFixed(0)} s before the restart`,
    );
    expect(after).toBeLessThanOrEqual(before + 5);
    expect(after).toBeLessThan(restarted);
});

test("every scrape target answers: engines, node exporters, the exporter, ZooKeeper, web's tasks", async () => {
    const all = await waitFor("every target to be up", 90, async () => {
        const t = (await targets()).activeTargets;
        return t.length > 0 && t.every((x) => x.health === "up") ? t : undefined;
    });
    const byJob = (job: string) => all.filter((t) => t.labels.job === job);
    const nodes = DEV.map((n) => n.name).sort();
    expect(
        byJob("docker-engine")
            .map((t) => t.labels.node)
            .sort(),
    ).toEqual(nodes);
    expect(
        byJob("node")
            .map((t) => t.labels.node)
            .sort(),
    ).toEqual(nodes);
    expect(
        byJob("zookeeper")
            .map((t) => t.labels.instance)
            .sort(),
    ).toEqual(MANAGERS.map((m) => `${ADDRESS_OF[m]}:2181`));
    expect(byJob("swarm")).toHaveLength(1);
    expect(byJob("prometheus")).toHaveLength(1);
    // web's running tasks, by ID, and nothing of the services that do not ask to be scraped.
    const web = onHost(
        "lab-m1",
        "docker service ps web --filter desired-state=running --no-trunc --format '{{.ID}}'",
    )
        .split("\n")
        .sort();
    expect(
        byJob("tasks")
            .map((t) => t.labels.task)
            .sort(),
    ).toEqual(web);
    expect(new Set(byJob("tasks").map((t) => t.labels.service))).toEqual(new Set(["web"]));
    record(`targets: ${all.length}, all up\n`);
    expect(await firing()).toEqual([]);
});

test("the platform's services read the swarm through the read-only proxy: only it holds the engine's socket, and a write through its socket is refused", () => {
    // One proxy task on every manager, running.
    const proxies = onHost(
        "lab-m1",
        "docker service ps docker-read-proxy --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'",
    )
        .split("\n")
        .sort();
    expect(proxies.map((l) => l.split(" ")[0])).toEqual([...MANAGERS].sort());
    expect(proxies.every((l) => / Running /.test(l))).toBe(true);
    // Of every service, who mounts the engine's socket, and who publishes a port.
    const services = onHost(
        "lab-m1",
        "docker service ls -q | xargs docker service inspect --format '{{.Spec.Name}} {{range .Spec.TaskTemplate.ContainerSpec.Mounts}}{{.Source}},{{end}} {{len .Endpoint.Ports}}'",
    )
        .split("\n")
        .map((l) => l.split(" "));
    const withSocket = services.filter(([, mounts]) => mounts.includes("/var/run/docker.sock,"));
    expect(withSocket.map(([name, , ports]) => `${name} ${ports}`)).toEqual([
        "docker-read-proxy 0",
    ]);
    for (const consumer of ["monitoring-exporter", "monitoring-prometheus"]) {
        expect(services.find(([name]) => name === consumer)?.[1]).toContain("docker-read-socket,");
    }
    // Through the proxy's socket on a manager: a read answers, a write and other reads do not.
    const through = (method: string, path: string) =>
        onHost(
            "lab-m2",
            `s="$(docker volume inspect -f '{{.Mountpoint}}' docker-read-socket)/docker.sock"; curl -s -o /dev/null -w '%{http_code}' -X ${method} --unix-socket "$s" http://docker${path}`,
        );
    expect(through("GET", "/v1.41/nodes")).toBe("200");
    expect(through("GET", "/services?status=true")).toBe("200");
    expect(through("POST", "/containers/create")).toBe("403");
    expect(through("POST", "/v1.41/swarm/leave?force=true")).toBe("403");
    expect(through("GET", "/swarm")).toBe("403");
    expect(through("GET", "/containers/json")).toBe("403");
    expect(
        onHost(
            "lab-m2",
            `curl -s -X POST --unix-socket "$(docker volume inspect -f '{{.Mountpoint}}' docker-read-socket)/docker.sock" http://docker/containers/create`,
        ),
    ).toBe(
        'docker-read: POST "/containers/create" is refused; only GET and HEAD of /_ping, /nodes, /services, /tasks, /networks (optionally /vX.Y/...) are answered',
    );
    // The swarm is still whole: the refused leave reached no engine.
    expect(onHost("lab-m2", "docker info --format '{{.Swarm.LocalNodeState}}'")).toBe("active");
});

test("a manager's host stopped: its alerts fire, and resolve once it is back and up has run", async () => {
    // A manager that runs neither Prometheus nor the exporter, so that what watches stays up.
    const busy = new Set(
        ["monitoring-prometheus", "monitoring-exporter"].map((s) =>
            onHost(
                "lab-m1",
                `docker service ps ${s} --filter desired-state=running --format '{{.Node}}'`,
            ),
        ),
    );
    const victim = MANAGERS.filter((m) => !busy.has(m)).pop()!;
    watcher = MANAGERS.find((m) => m !== victim)!;
    const since = Date.now();
    lab("stop", victim);
    const figures = await timeToFire(since, [
        ["SwarmManagerUnreachable", { node: victim }],
        ["SwarmNodeDown", { node: victim }],
        ["MonitoringTargetDown", { job: "docker-engine", node: victim }],
        ["ZooKeeperServerDown", { server: ZK_ID_OF[victim] }],
        ["ZooKeeperFollowersNotSynced", {}],
    ]);
    console.log(`manager ${victim} stopped; time to firing:\n  ${figures.join("\n  ")}`);
    expect(matches(await firing(), "SwarmManagersWithoutMajority")).toBe(false);
    // The receiver of stack config's Alertmanager configuration got them, with the rules' labels.
    await waitFor("the quorum alerts at the receiver", 60, async () =>
        received("firing", "SwarmManagerUnreachable", {
            node: victim,
            cluster: "lab",
            severity: "warning",
        }) &&
        received("firing", "ZooKeeperServerDown", { server: ZK_ID_OF[victim], cluster: "lab" })
            ? true
            : undefined,
    );

    lab("start", victim);
    let healed = Date.now();
    await stack.up({ onOutput: record, color: "never" });
    console.log(`host started again, up took ${((Date.now() - healed) / 1000).toFixed(1)} s`);
    healed = Date.now();
    await waitFor("every alert to resolve in Prometheus", 120, async () =>
        (await firing()).length === 0 ? true : undefined,
    );
    console.log(`after up, every alert resolved in ${((Date.now() - healed) / 1000).toFixed(1)} s`);
    // And their resolution, once up healed.
    await waitFor("the resolutions at the receiver", 60, async () =>
        received("resolved", "SwarmManagerUnreachable", { node: victim }) &&
        received("resolved", "ZooKeeperServerDown", { server: ZK_ID_OF[victim] })
            ? true
            : undefined,
    );
    console.log(
        `the receiver got ${notified.filter((n) => n.status === "firing").length} firing and ${notified.filter((n) => n.status === "resolved").length} resolved alerts`,
    );
    expect(onHost(watcher, `docker node inspect ${victim} --format '{{.Status.State}}'`)).toBe(
        "ready",
    );
});

test("a ZooKeeper server stopped: its alerts fire, and resolve once up restarts it", async () => {
    const victim = MANAGERS[0];
    const since = Date.now();
    onHost(victim, "systemctl stop zookeeper-ensemble");
    const figures = await timeToFire(since, [
        ["ZooKeeperServerDown", { server: ZK_ID_OF[victim] }],
        ["ZooKeeperFollowersNotSynced", {}],
    ]);
    console.log(
        `ZooKeeper server ${ZK_ID_OF[victim]} stopped; time to firing:\n  ${figures.join("\n  ")}`,
    );
    // Only ZooKeeper's: the swarm did not notice.
    expect(
        (await firing()).map((a) => a.labels.alertname).filter((n) => !n.startsWith("ZooKeeper")),
    ).toEqual([]);

    let healed = Date.now();
    await stack.up({ onOutput: record, color: "never" });
    console.log(`up took ${((Date.now() - healed) / 1000).toFixed(1)} s`);
    expect(onHost(victim, "systemctl is-active zookeeper-ensemble")).toBe("active");
    healed = Date.now();
    await waitFor("ZooKeeper's alerts to resolve in Prometheus", 120, async () =>
        (await firing()).length === 0 ? true : undefined,
    );
    console.log(
        `after up, ZooKeeper's alerts resolved in ${((Date.now() - healed) / 1000).toFixed(1)} s`,
    );
});

// `npm run demo`: from nothing to a converged HA platform on this machine. After scripts/bootstrap.sh
// (npm ci, the engine and the official plugins), brings up the lab, converges the dev stack with
// progress shown as each resource completes, then prints a short summary: nodes and roles,
// ZooKeeper modes, the web service's endpoints with what each answers, and the instances the
// service registry holds in ZooKeeper, and where Prometheus and Alertmanager answer.
import { execFileSync } from "child_process";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { REPO, changes, loadEnv, openStack, plainOutputs } from "./automation";
import { srvrMode } from "../components/zookeeper/zookeeperProbe";
import { discoverAll, instanceEndpoint, prometheusGraphUrl } from "../components/internal";
import { httpGet } from "./http";

const started = Date.now();
const elapsed = (): string => `${Math.round((Date.now() - started) / 1000)}s`;
const step = (what: string): void => console.log(`\n==> ${what} (${elapsed()})`);

function run(file: string, ...args: string[]): void {
    execFileSync("bash", [file, ...args], { cwd: REPO, stdio: "inherit" });
}

/** One line per resource as the engine finishes it. */
function progress(event: EngineEvent): void {
    const done = event.resOutputsEvent?.metadata;
    if (done && done.op !== "same") {
        console.log(`    ${done.op.padEnd(7)} ${done.urn.split("::").pop()}  [${elapsed()}]`);
    }
    const failed = event.diagnosticEvent;
    if (failed?.severity === "error" && failed.urn) {
        console.log(`    error   ${failed.urn.split("::").pop()}: ${failed.message.trim()}`);
    }
}

async function main(): Promise<void> {
    loadEnv();
    step(
        "the lab: 3 manager and 2 worker hosts, the project's images staged on each (npm run lab -- up)",
    );
    run("lab/lab.sh", "up");

    step(
        "converging the dev stack: Docker, the swarm, ZooKeeper, the services, the registry, monitoring",
    );
    const stack = await openStack({ stack: "dev" });
    const result = await stack.up({ onEvent: progress, color: "never" });
    console.log(`    changes: ${JSON.stringify(changes(result.summary.resourceChanges))}`);

    step("summary");
    const out = plainOutputs(result.outputs);
    console.log("nodes:");
    for (const n of out.nodes as {
        name: string;
        role: string;
        state: string;
        reachability: string;
        leader: boolean;
        address: string;
    }[]) {
        const status = n.role === "manager" ? (n.leader ? "leader" : n.reachability) : "";
        console.log(
            `  ${n.name.padEnd(8)} ${n.address.padEnd(15)} ${n.role.padEnd(8)} ${n.state.padEnd(6)} ${status}`,
        );
    }
    console.log(`  fault tolerance: ${out.faultTolerance} manager(s) may fail`);
    if (typeof out.zookeeper === "object") {
        const zk = out.zookeeper as {
            connectString: string;
            servers: { id: number; address: string }[];
        };
        console.log(`zookeeper: ${zk.connectString}`);
        for (const s of zk.servers) {
            console.log(`  server ${s.id} ${s.address.padEnd(15)} ${await srvrMode(s.address)}`);
        }
    }
    // Each service where it answers (host-mode ports in the lab: the nodes running a task).
    const services = out.services as Record<string, { endpoints: string[]; tasks: unknown[] }>;
    for (const [name, svc] of Object.entries(services)) {
        console.log(`service ${name}: ${svc.tasks.length} task(s) running`);
        for (const endpoint of svc.endpoints) {
            console.log(`  http://${endpoint}/  ${await httpGet(`http://${endpoint}/`)}`);
        }
    }
    if (typeof out.registry === "object") {
        const registry = out.registry as { root: string; connectString: string };
        const all = await discoverAll(registry.connectString, { root: registry.root });
        console.log(`registry ${registry.root} (npm run discover):`);
        for (const [name, instances] of Object.entries(all)) {
            for (const i of instances) {
                console.log(
                    `  ${name} ${i.id.slice(0, 12)} ${instanceEndpoint(i)} on ${i.payload.node}`,
                );
            }
        }
    }
    if (typeof out.monitoring === "object") {
        const m = out.monitoring as {
            prometheusPort: number;
            prometheusTasks: { address: string }[];
            alertmanagerPort: number;
            alertmanagerTasks: { address: string }[];
        };
        const prometheus = `http://${m.prometheusTasks[0]?.address}:${m.prometheusPort}`;
        const alertmanager = `http://${m.alertmanagerTasks[0]?.address}:${m.alertmanagerPort}`;
        // A Prometheus that just started has not scraped every target yet: 20 s at most.
        let targets: { health: string }[] = [];
        for (let i = 0; i < 20; i++) {
            const answer = await httpGet(`${prometheus}/api/v1/targets?state=active`);
            targets = answer.startsWith("200 ")
                ? (JSON.parse(answer.slice(4)).data.activeTargets as { health: string }[])
                : [];
            if (targets.length > 0 && targets.every((t) => t.health !== "unknown")) break;
            await new Promise((r) => setTimeout(r, 1000));
        }
        const up = targets.filter((t) => t.health === "up").length;
        console.log("monitoring:");
        console.log(
            `  prometheus    ${prometheus}/alerts  (${up} of ${targets.length} targets up)`,
        );
        console.log(`  alertmanager  ${alertmanager}/api/v2/alerts`);
        console.log(
            `  a graph       ${prometheusGraphUrl(prometheus, "swarm_ha_node_ready")}  (the nodes' readiness)`,
        );
    }
    console.log(
        `\ndone in ${elapsed()}. Next, with the plain CLI: . scripts/env.sh; pulumi stack select dev; pulumi preview`,
    );
}

main().catch((e: Error) => {
    console.error(`demo: ${e.message}`);
    process.exit(1);
});

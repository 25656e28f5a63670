// `npm run demo`: from nothing to a converged HA cluster on this machine. Sets up the engine, brings
// up the lab, converges the dev stack with progress shown as each resource completes, then prints
// a short summary: nodes and roles, ZooKeeper modes, and the service endpoints (or why they are out).
import { execFileSync } from "child_process";
import * as http from "http";
import { EngineEvent } from "@pulumi/pulumi/automation";
import {
    DOCKER_PLUGIN_WARNING,
    REPO,
    changes,
    dockerPluginAvailable,
    loadEnv,
    openStack,
    plainOutputs,
} from "./automation";
import { srvrMode } from "../components/zookeeperProbe";

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

function httpGet(url: string): Promise<string> {
    return new Promise((resolve) => {
        const req = http.get(url, { timeout: 3000 }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d.toString()));
            res.on("end", () => resolve(`${res.statusCode} ${body.trim()}`));
        });
        req.on("timeout", () => (req.destroy(), resolve("no answer")));
        req.on("error", (e) => resolve(`no answer (${e.message})`));
    });
}

async function main(): Promise<void> {
    step("the Pulumi engine (npm run setup)");
    run("scripts/setup.sh");
    loadEnv();

    step("the lab: 3 manager and 2 worker hosts (npm run lab -- up)");
    run("lab/lab.sh", "up");

    const services = dockerPluginAvailable();
    step("converging the dev stack: Docker, the swarm, ZooKeeper");
    const stack = await openStack({ stack: "dev" });
    if (services) {
        // Images reach the hosts only once Docker runs there: the cluster first, then the image,
        // then the services.
        await stack.setConfig("swarm-ha:services", { value: "false" });
    }
    let result = await stack.up({ onEvent: progress, color: "never" });
    console.log(`    changes: ${JSON.stringify(changes(result.summary.resourceChanges))}`);
    if (services) {
        step("the web image, loaded into every host (nothing can be pulled)");
        run("lab/lab.sh", "web-image");
        run("lab/lab.sh", "load-image", "swarm-ha-web:2");
        step("deploying the web service");
        await stack.setConfig("swarm-ha:services", { value: "true" });
        result = await stack.up({ onEvent: progress, color: "never" });
        console.log(`    changes: ${JSON.stringify(changes(result.summary.resourceChanges))}`);
    }

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
    if (services && Array.isArray((out.services as { web?: string[] })?.web)) {
        console.log("services:");
        for (const n of out.nodes as { address: string }[]) {
            console.log(`  web http://${n.address}/  ${await httpGet(`http://${n.address}/`)}`);
        }
    } else {
        console.log(`services: left out. ${DOCKER_PLUGIN_WARNING.replace(/^warning: /, "")}`);
    }
    console.log(
        `\ndone in ${elapsed()}. Next: npm run lab -- ssh lab-m1 docker node ls; npm run stack -- destroy`,
    );
}

main().catch((e: Error) => {
    console.error(`demo: ${e.message}`);
    process.exit(1);
});

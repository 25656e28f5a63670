// `npm run bench`: what converging the dev cluster costs, measured on fresh lab hosts, next to the
// floor: the same remote scripts run directly over SSH, in parallel wherever the steps allow. Prints
// figures; asserts nothing. Takes a few minutes (the lab is rebuilt twice).
import { execFileSync, spawn } from "child_process";
import { changes, labInfo, openStack, stackNodes } from "./automation";
import { renderScript } from "../components/remoteScript";
import { labelLines } from "../components/swarmCluster";
import { NodeConfig } from "../config";

const LAB = `${__dirname}/../lab/lab.sh`;
const NODES: NodeConfig[] = stackNodes("dev");

function lab(...args: string[]): void {
    execFileSync("bash", [LAB, ...args], { stdio: ["ignore", "ignore", "inherit"] });
}

async function timed<T>(what: string, f: () => Promise<T>): Promise<number> {
    const start = process.hrtime.bigint();
    await f();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`${what.padEnd(58)} ${seconds.toFixed(1).padStart(6)} s`);
    return seconds;
}

/** Runs a script on a host over SSH with the lab key, stdin given; resolves with stdout. */
function ssh(host: string, script: string, stdin = ""): Promise<string> {
    const info = labInfo();
    return new Promise((resolve, reject) => {
        const child = spawn("ssh", [
            "-i",
            info.privateKeyPath,
            "-o",
            `UserKnownHostsFile=${info.knownHosts}`,
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            `root@${host}`,
            script,
        ]);
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("close", (code) =>
            code === 0 ? resolve(out) : reject(new Error(`${host}: exit ${code}: ${err}`)),
        );
        child.stdin.end(stdin);
    });
}

const value = (out: string, key: string): string =>
    new RegExp(`^${key}=(.*)$`, "m").exec(out)?.[1] ?? "";

/** The cluster's steps, run directly: the time no tool can beat with these scripts. */
async function floor(): Promise<void> {
    const [m1, ...others] = NODES;
    const base = (n: NodeConfig) => ({ NODE: n.name, HOST: n.host });
    const managers = NODES.filter((n) => n.role === "manager");
    await Promise.all(
        NODES.map((n) =>
            ssh(
                n.host,
                renderScript("docker", { ...base(n), INSTALL: "distro", DOCKER_VERSION: "" }),
            ),
        ),
    );
    const init = await ssh(
        m1.host,
        renderScript("init", {
            ...base(m1),
            ADVERTISE_ADDR: m1.host,
            SWARM_PORT: "2377",
            OTHER_MANAGERS: managers
                .slice(1)
                .map((m) => m.host)
                .join(" "),
            INIT_FLAGS: "",
            UPDATE_FLAGS: "",
        }),
    );
    const tokens = await ssh(m1.host, renderScript("tokens", { ...base(m1), AUTOLOCK: "false" }));
    const ids: Record<string, string> = { [m1.name]: value(init, "node") };
    const join = async (n: NodeConfig): Promise<void> => {
        const out = await ssh(
            n.host,
            renderScript("join", {
                ...base(n),
                ADVERTISE_ADDR: n.host,
                SWARM_PORT: "2377",
                JOIN_ADDR: m1.host,
                MANAGERS: managers.map((m) => m.host).join(" "),
            }),
            value(tokens, n.role),
        );
        ids[n.name] = value(out, "node");
    };
    for (const n of others.filter((x) => x.role === "manager")) {
        await join(n);
    }
    await Promise.all(others.filter((x) => x.role === "worker").map(join));
    await Promise.all(
        NODES.map((n) =>
            ssh(
                m1.host,
                renderScript("node", {
                    ...base(m1),
                    NODE_ID: ids[n.name],
                    ROLE: n.role,
                    AVAILABILITY: "active",
                    LABELS: labelLines(n.labels),
                }),
            ),
        ),
    );
    await ssh(
        m1.host,
        renderScript("ready", {
            ...base(m1),
            EXPECTED: NODES.map((n) => `${n.name} ${ids[n.name]} ${n.role}`).join("\n"),
            ATTEMPTS: "60",
            INTERVAL: "2",
        }),
    );
}

async function main(): Promise<void> {
    console.log("bench: 3 managers + 2 workers on fresh lab hosts (Docker installed from Debian)");
    lab("down");
    lab("up", "--managers", "3", "--workers", "2");
    let stack = await openStack({ stack: "bench", settingsFrom: "dev" });
    await stack.workspace.removeStack("bench", { force: true });
    stack = await openStack({ stack: "bench", settingsFrom: "dev" });
    // The cluster alone, as the floor below does the cluster's steps only.
    await stack.removeConfig("swarm-ha:zkServers");
    await stack.removeConfig("swarm-ha:services");
    await timed("pulumi up: bare hosts to converged", async () => {
        const r = await stack.up({ color: "never" });
        if (Object.keys(changes(r.summary.resourceChanges)).join() !== "create") {
            throw new Error(`unexpected changes ${JSON.stringify(r.summary.resourceChanges)}`);
        }
    });
    await timed("pulumi up with nothing to change", () => stack.up({ color: "never" }));
    await timed("pulumi preview", () => stack.preview({ color: "never" }));
    await stack.workspace.removeStack("bench", { force: true });

    lab("down");
    lab("up", "--managers", "3", "--workers", "2");
    await timed("floor: the same scripts over SSH, parallel where allowed", floor);
    lab("down");
    lab("up");
}

main().catch((e: Error) => {
    console.error(`bench: ${e.message}`);
    process.exit(1);
});

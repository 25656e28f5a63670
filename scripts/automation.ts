// The project's own runner of stacks through the Automation API, for the demo, the end-to-end tests
// and the benchmark: the same program function that index.ts exports, run inline, on the engine and
// plugins `npm run setup` installed, with the environment of scripts/env.sh. Its workspaces live in
// the cache, so test stacks never write into the repository.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigMap, LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";
import { program } from "../program";
import { NodeConfig } from "../config";

export const REPO = path.resolve(__dirname, "..");
const PROJECT = "swarm-ha";

/** Loads scripts/env.sh into this process's environment (once) and returns it. */
export function loadEnv(): Record<string, string> {
    const out = execFileSync("bash", ["-c", `. "${REPO}/scripts/env.sh" && env -0`], {
        encoding: "utf8",
    });
    const env: Record<string, string> = {};
    for (const entry of out.split("\0")) {
        const i = entry.indexOf("=");
        if (i > 0) {
            env[entry.slice(0, i)] = entry.slice(i + 1);
        }
    }
    for (const [k, v] of Object.entries(env)) {
        process.env[k] = v;
    }
    return env;
}

/**
 * The environment of a lab stack: the lab's public passphrase (scripts/env.sh), unless one is set;
 * every stack this runner opens is one, on the lab's hosts and the cache's backend.
 */
export function labStackEnv(env: Record<string, string | undefined>): Record<string, string> {
    const out = Object.fromEntries(
        Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    if (out.PULUMI_CONFIG_PASSPHRASE === undefined && out.SWARM_HA_LAB_PASSPHRASE) {
        out.PULUMI_CONFIG_PASSPHRASE = out.SWARM_HA_LAB_PASSPHRASE;
    }
    return out;
}

/** What `npm run lab -- up` records about the lab (lab/lab.sh writes it). */
export interface LabInfo {
    privateKeyPath: string;
    knownHosts: string;
    hosts: { name: string; address: string; hostKey: string }[];
}

export function labInfo(): LabInfo {
    const file = path.join(process.env.SWARM_HA_CACHE ?? "", "lab", "lab.json");
    if (!fs.existsSync(file)) {
        throw new Error(`no lab found (${file} is missing); run 'npm run lab -- up' first`);
    }
    return JSON.parse(fs.readFileSync(file, "utf8")) as LabInfo;
}

/** The lab's hosts as a stack's nodes: lab-mN managers, lab-wN workers (tier web), in three zones. */
export function labNodes(): NodeConfig[] {
    const zones = ["a", "b", "c"];
    return labInfo().hosts.map((h, i) => {
        const labels: Record<string, string> = { zone: zones[i % 3] };
        if (h.name.startsWith("lab-w")) labels.tier = "web";
        return {
            name: h.name,
            host: h.address,
            role: h.name.startsWith("lab-m") ? "manager" : "worker",
            labels,
        };
    });
}

/**
 * The lab's settings for a stack: the files of its SSH key and known hosts, which the program reads
 * (the committed dev stack names the same files at their default place).
 */
export function labConfig(lab: LabInfo): ConfigMap {
    return {
        "swarm-ha:sshPrivateKeyFile": { value: lab.privateKeyPath },
        "swarm-ha:knownHostsFile": { value: lab.knownHosts },
    };
}

/**
 * Links this checkout's node_modules into a workspace of an inline program: the dynamic provider
 * host runs from the program's directory and takes the SDK from there, as the released one does.
 */
export function linkModules(workDir: string): void {
    const link = path.join(workDir, "node_modules");
    if (fs.lstatSync(link, { throwIfNoEntry: false })) {
        fs.unlinkSync(link);
    }
    fs.symlinkSync(path.join(REPO, "node_modules"), link);
}

export interface StackOptions {
    /** Stack name. Default: dev. */
    stack?: string;
    /** Whose committed settings (Pulumi.<name>.yaml) to start from. Default: the stack's own. */
    settingsFrom?: string;
    /** Config set on top of the committed file (the lab's key, test overrides). */
    config?: ConfigMap;
    /** Use the lab's key and known hosts (default: true for stacks from the dev stack's settings). */
    lab?: boolean;
    /** Keep the settings the stack's workspace has from an earlier run. Default: false. */
    keepSettings?: boolean;
}

/**
 * Takes the ZooKeeper ensemble out of a stack's settings: zkServers and every other zk* setting,
 * which the program refuses without an ensemble (they would do nothing).
 */
export async function withoutEnsemble(stack: Stack): Promise<void> {
    const keys = Object.keys(await stack.getAllConfig()).filter((k) => k.startsWith("swarm-ha:zk"));
    for (const k of keys) {
        await stack.removeConfig(k);
    }
}

/**
 * Selects (or creates) a stack on the local file backend, with the committed Pulumi.<stack>.yaml
 * as its settings plus `config`. The workspace lives in the cache, so runs never edit the repo.
 */
export async function openStack(options: StackOptions = {}): Promise<Stack> {
    const env = loadEnv();
    const stackName = options.stack ?? "dev";
    const workDir = path.join(env.SWARM_HA_CACHE, "workspaces", stackName);
    fs.mkdirSync(workDir, { recursive: true });
    linkModules(workDir);
    // The project file without `main`: the program runs inline here, not from index.ts.
    const project = fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8");
    fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), project.replace(/^main: .*\n/m, ""));
    const committed = path.join(REPO, `Pulumi.${options.settingsFrom ?? stackName}.yaml`);
    const target = path.join(workDir, `Pulumi.${stackName}.yaml`);
    // The committed file's encryption salt, else the one of earlier runs: it belongs to the
    // stack's secrets.
    const text = fs.existsSync(committed) ? fs.readFileSync(committed, "utf8") : "config: {}\n";
    const salt = /^encryptionsalt: .*$/m;
    const earlier = fs.existsSync(target) ? salt.exec(fs.readFileSync(target, "utf8"))?.[0] : "";
    if (!options.keepSettings || !fs.existsSync(target)) {
        fs.writeFileSync(target, salt.test(text) || !earlier ? text : `${earlier}\n${text}`);
    }

    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, projectName: PROJECT, program },
        { workDir, envVars: labStackEnv(env) },
    );
    const useLab = options.lab ?? (options.settingsFrom ?? stackName) === "dev";
    const config: ConfigMap = { ...(useLab ? labConfig(labInfo()) : {}), ...options.config };
    if (Object.keys(config).length > 0) {
        await stack.setAllConfig(config);
    }
    return stack;
}

/** Counts of the engine's change summary: { same: 12, create: 1, ... }. */
export type ChangeSummary = Record<string, number>;

export function changes(summary: ChangeSummary | undefined): ChangeSummary {
    return Object.fromEntries(Object.entries(summary ?? {}).filter(([op]) => op !== "same"));
}

export function plainOutputs(outputs: OutputMap): Record<string, unknown> {
    return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
}

/** The nodes a committed stack file declares (`swarm-ha:nodes` of Pulumi.<stack>.yaml). */
export function stackNodes(stack = "dev"): NodeConfig[] {
    const file = path.join(REPO, `Pulumi.${stack}.yaml`);
    const parsed = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    return parsed.config["swarm-ha:nodes"] as NodeConfig[];
}

// The project's own runner of stacks through the Automation API: the same program function that
// index.ts exports, run inline (no Node.js language host needed), with the environment of
// scripts/env.sh and, for the dev stack, the lab's key and host keys as config.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigMap, LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";
import { program } from "../program";
import { NodeConfig } from "../config";

export const REPO = path.resolve(__dirname, "..");
let warned = false;
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

/** The lab's settings for a stack: its SSH key (secret) and the hosts' keys. */
export function labConfig(lab: LabInfo): ConfigMap {
    const hostKeys = Object.fromEntries(lab.hosts.map((h) => [h.name, h.hostKey]));
    return {
        "swarm-ha:sshPrivateKey": {
            value: fs.readFileSync(lab.privateKeyPath, "utf8"),
            secret: true,
        },
        "swarm-ha:hostKeys": { value: JSON.stringify(hostKeys) },
    };
}

/**
 * Whether the engine can load the Docker provider plugin, looking where it looks: on PATH (ambient
 * plugins) and in $PULUMI_HOME/plugins. Only the project's runners ask; the program never does.
 */
export function dockerPluginAvailable(): boolean {
    const onPath = (process.env.PATH ?? "")
        .split(path.delimiter)
        .some((dir) => dir !== "" && fs.existsSync(path.join(dir, "pulumi-resource-docker")));
    const pluginDir = path.join(process.env.PULUMI_HOME ?? "", "plugins");
    const installed =
        fs.existsSync(pluginDir) &&
        fs.readdirSync(pluginDir).some((d) => d.startsWith("resource-docker-v"));
    return onPath || installed;
}

/** Printed once by a runner that switches the services off. */
export const DOCKER_PLUGIN_WARNING =
    "warning: the Docker provider plugin (pulumi-resource-docker) is not installed and cannot be " +
    "downloaded here, so this run sets swarm-ha:services=false: the cluster and ZooKeeper converge, " +
    "the services are left out. Install it with `pulumi plugin install resource docker` (or put " +
    "pulumi-resource-docker on PATH) and run again to deploy them.";

export interface StackOptions {
    /** Stack name. Default: dev. */
    stack?: string;
    /** Whose committed settings (Pulumi.<name>.yaml) to start from. Default: the stack's own. */
    settingsFrom?: string;
    /** Config set on top of the committed file (the lab's key, test overrides). */
    config?: ConfigMap;
    /** Use the lab's key and host keys (default: true for the dev stack). */
    lab?: boolean;
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
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(workDir, "Pulumi.yaml"));
    const committed = path.join(REPO, `Pulumi.${options.settingsFrom ?? stackName}.yaml`);
    const target = path.join(workDir, `Pulumi.${stackName}.yaml`);
    // Keep the encryption salt of earlier runs: it belongs to this stack's secrets.
    const salt = fs.existsSync(target)
        ? /^encryptionsalt: .*$/m.exec(fs.readFileSync(target, "utf8"))?.[0]
        : undefined;
    const text = fs.existsSync(committed) ? fs.readFileSync(committed, "utf8") : "config: {}\n";
    fs.writeFileSync(target, salt ? `${salt}\n${text}` : text);

    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, projectName: PROJECT, program },
        { workDir, envVars: env },
    );
    const useLab = options.lab ?? (options.settingsFrom ?? stackName) === "dev";
    const config: ConfigMap = { ...(useLab ? labConfig(labInfo()) : {}) };
    if (!dockerPluginAvailable()) {
        if (!warned) {
            console.warn(DOCKER_PLUGIN_WARNING);
            warned = true;
        }
        config["swarm-ha:services"] = { value: "false" };
    }
    Object.assign(config, options.config);
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

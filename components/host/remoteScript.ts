// The remote step scripts, each in the scripts/ folder of the component that runs it (the host
// layer's shared helpers and firewall in host/scripts): placed once on each host as one bundle of
// all of them (one directory per version of the scripts), and the short command text of each step,
// its parameters as shell assignments followed by sourcing the shared helpers and the step.
// renderScript gives a step's whole text, for running it without placed scripts. Pure and tested;
// shellchecked in lint.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/** Parameters of a step: names are upper-case shell variables, values are plain text. */
export type ScriptParams = Record<string, string>;

/** The components' folder: above this file's, or, from the built JavaScript, in the package. */
const componentRoots = [
    path.join(__dirname, ".."),
    path.join(__dirname, "..", "..", "..", "components"),
];

let files: Map<string, string> | undefined;

/**
 * Every script by name (without ".sh"): the .sh files of each component's scripts/ folder. A name
 * is one script's only: the bundle places them side by side.
 */
function scriptFiles(): Map<string, string> {
    if (files) return files;
    const root = componentRoots.find((d) =>
        fs.existsSync(path.join(d, "host", "scripts", "lib.sh")),
    );
    if (!root) {
        throw new Error(
            `swarm-ha: the remote scripts are under neither ${componentRoots.join(" nor ")}`,
        );
    }
    const found = new Map<string, string>();
    for (const component of fs.readdirSync(root).sort()) {
        const dir = path.join(root, component, "scripts");
        if (!fs.existsSync(dir)) continue;
        for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".sh"))) {
            const name = file.slice(0, -3);
            const other = found.get(name);
            if (other) {
                throw new Error(
                    `swarm-ha: two remote scripts are named ${file}: ${other} and ${path.join(dir, file)}`,
                );
            }
            found.set(name, path.join(dir, file));
        }
    }
    files = found;
    return found;
}

const cache = new Map<string, string>();

/** The text of one script (its name without its directory or ".sh"). */
export function scriptText(name: string): string {
    const cached = cache.get(name);
    if (cached !== undefined) {
        return cached;
    }
    const file = scriptFiles().get(name);
    if (!file) {
        throw new Error(
            `swarm-ha: remote script "${name}.sh" not found in any component's scripts`,
        );
    }
    const text = fs.readFileSync(file, "utf8");
    cache.set(name, text);
    return text;
}

/** The names of every script (without ".sh"), sorted. */
export function scriptNames(): string[] {
    return [...scriptFiles().keys()].sort();
}

const END_OF_FILE = "SWARM_HA_END_OF_SCRIPT";

/**
 * What `sh` reads to write every script into its working directory: one quoted here-document per
 * file, so nothing in a script is expanded.
 */
export function scriptBundle(): string {
    return scriptNames()
        .map((name) => {
            const text = scriptText(name);
            if (text.split("\n").includes(END_OF_FILE)) {
                throw new Error(`swarm-ha: ${name}.sh contains the line ${END_OF_FILE}`);
            }
            return `cat > '${name}.sh' <<'${END_OF_FILE}'\n${text.replace(/\n?$/, "\n")}${END_OF_FILE}`;
        })
        .join("\n");
}

/** The scripts' version: 12 hex digits of the bundle's SHA-256. */
export function scriptsVersion(): string {
    return createHash("sha256").update(scriptBundle()).digest("hex").slice(0, 12);
}

/**
 * Where a component's scripts of this version live on a host: `/var/lib/swarm-ha/OWNER/VERSION`.
 * A new version is a new directory, so every step's command text changes with the scripts.
 */
export function scriptsDir(owner: string): string {
    return `${SCRIPTS_ROOT}/${owner}/${scriptsVersion()}`;
}

/** Root of the placed scripts on every host. */
export const SCRIPTS_ROOT = "/var/lib/swarm-ha";

/**
 * The placing step's commands: create writes the bundle read on stdin into `dir` (a complete
 * directory or none: written aside, then renamed), unless it is there; delete removes it, and its
 * parents when empty.
 */
export function placeScriptsCommands(dir: string): { create: string; delete: string } {
    const d = shellQuote(dir);
    return {
        create: [
            "set -eu",
            `d=${d}`,
            'if [ -f "$d/.complete" ]; then exit 0; fi',
            'rm -rf "$d.new" && mkdir -p "$d.new" && cd "$d.new"',
            "sh -eu",
            'touch .complete && cd / && rm -rf "$d" && mv "$d.new" "$d"',
        ].join("\n"),
        delete: [
            "set -eu",
            `d=${d}`,
            'rm -rf "$d" "$d.new"',
            `rmdir "$(dirname "$d")" ${shellQuote(SCRIPTS_ROOT)} 2>/dev/null || true`,
        ].join("\n"),
    };
}

/** Quotes a value for a POSIX shell: single quotes, with embedded single quotes escaped. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/**
 * The full command text of a step: `set -eu`, its parameters, the shared helpers (lib.sh and any
 * `libs` named), then the step.
 */
export function renderScript(name: string, params: ScriptParams, libs: string[] = []): string {
    return [
        "set -eu",
        assignments(params),
        scriptText("lib"),
        ...libs.map(scriptText),
        scriptText(name),
    ].join("\n");
}

/** A step's parameters as sorted shell assignments, one per line. */
function assignments(params: ScriptParams): string {
    for (const key of Object.keys(params)) {
        if (!/^[A-Z][A-Z0-9_]*$/.test(key)) {
            throw new Error(`swarm-ha: script parameter "${key}" must be an upper-case shell name`);
        }
    }
    return Object.keys(params)
        .sort()
        .map((key) => `${key}=${shellQuote(params[key])}`)
        .join("\n");
}

/**
 * The command text of a step whose scripts are placed in `dir`: `set -eu`, its parameters, then
 * sourcing the shared helpers (lib.sh and any `libs` named) and the step. A few lines, so an error
 * that quotes the command stays short.
 */
export function stepCommand(
    dir: string,
    name: string,
    params: ScriptParams,
    libs: string[] = [],
): string {
    scriptText(name);
    return [
        "set -eu",
        assignments(params),
        ...["lib", ...libs, name].map((s) => `. ${shellQuote(`${dir}/${s}.sh`)}`),
    ].join("\n");
}

/** {@link stepCommand} for parameters that are still outputs of other resources. */
export function stepCommandOutput(
    dir: string,
    name: string,
    params: Record<string, pulumi.Input<string>>,
    libs: string[] = [],
): pulumi.Output<string> {
    return pulumi.all(params).apply((resolved) => stepCommand(dir, name, resolved, libs));
}

// Renders the remote step scripts in components/scripts/ into command text: parameters as shell
// assignments, then the shared helpers, then the step. Pure and tested; shellchecked in lint.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/** Parameters of a step: names are upper-case shell variables, values are plain text. */
export type ScriptParams = Record<string, string>;

const scriptDirs = [
    path.join(__dirname, "scripts"),
    path.join(__dirname, "..", "..", "components", "scripts"),
];

const cache = new Map<string, string>();

/** The text of one script in components/scripts (without its directory or ".sh"). */
export function scriptText(name: string): string {
    const cached = cache.get(name);
    if (cached !== undefined) {
        return cached;
    }
    for (const dir of scriptDirs) {
        const file = path.join(dir, `${name}.sh`);
        if (fs.existsSync(file)) {
            const text = fs.readFileSync(file, "utf8");
            cache.set(name, text);
            return text;
        }
    }
    throw new Error(`swarm-ha: remote script "${name}.sh" not found in ${scriptDirs.join(" or ")}`);
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
    for (const key of Object.keys(params)) {
        if (!/^[A-Z][A-Z0-9_]*$/.test(key)) {
            throw new Error(`swarm-ha: script parameter "${key}" must be an upper-case shell name`);
        }
    }
    const assignments = Object.keys(params)
        .sort()
        .map((key) => `${key}=${shellQuote(params[key])}`)
        .join("\n");
    return [
        "set -eu",
        assignments,
        scriptText("lib"),
        ...libs.map(scriptText),
        scriptText(name),
    ].join("\n");
}

/** {@link renderScript} for parameters that are still outputs of other resources. */
export function renderScriptOutput(
    name: string,
    params: Record<string, pulumi.Input<string>>,
    libs: string[] = [],
): pulumi.Output<string> {
    return pulumi.all(params).apply((resolved) => renderScript(name, resolved, libs));
}

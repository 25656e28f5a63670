// The program's entry for the pulumi CLI (Pulumi.yaml's `main`): runs the program compiled in bin/
// (index.ts and what it imports), first building it with `tsc -p tsconfig.json`, which type-checks
// it, whenever a TypeScript source is newer than its output. A preview or an up therefore never
// runs stale code, stops on a type error, and does not load TypeScript at every run.
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

/** The program's TypeScript sources: the files beside this one and everything under components/. */
function sources(dir, recursive) {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) return recursive ? sources(file, true) : [];
        return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [file] : [];
    });
}

/** True when a source has no output in bin/ or changed after it was built. */
function stale() {
    const files = [
        ...sources(__dirname, false),
        ...sources(path.join(__dirname, "components"), true),
    ];
    return files.some((file) => {
        const built = path
            .join(__dirname, "bin", path.relative(__dirname, file))
            .replace(/\.ts$/, ".js");
        return !fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(file).mtimeMs;
    });
}

if (stale()) {
    process.stderr.write(
        "swarm-ha: the program's sources changed; building it (tsc -p tsconfig.json)\n",
    );
    const tsc = path.join(__dirname, "node_modules", "typescript", "bin", "tsc");
    const built = spawnSync(process.execPath, [tsc, "-p", path.join(__dirname, "tsconfig.json")], {
        encoding: "utf8",
    });
    if (built.status !== 0) {
        // tsc writes its output even with type errors: take the entry away, so the next run builds
        // (and stops) again instead of running it.
        fs.rmSync(path.join(__dirname, "bin", "index.js"), { force: true });
        process.stderr.write(`${built.stdout}${built.stderr}`);
        throw new Error(
            `swarm-ha: the program does not build (tsc -p tsconfig.json, exit ${built.status}); fix the errors above`,
        );
    }
}

// Pulumi's language host installs source-map-support, which maps every stack trace through source
// maps; the SDK takes one per resource and per output (for its diagnostics), which cost 1 s of CPU
// at 18 hosts. V8's own formatting stays: a stack names bin/'s JavaScript lines instead.
Error.prepareStackTrace = undefined;
module.exports = require("./bin/index.js");

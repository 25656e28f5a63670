// A jest reporter that ends the run with one short block per failed test: its name, the error's
// first line and the lines that say why (our "swarm-ha: ..." messages and the engine's "error:"
// lines). A failed end-to-end test's full error holds the engine's whole output; the end of a long
// CI log is often all one gets to read.
const path = require("path");

const MAX_LINES = 12;
const MAX_WIDTH = 300;
const WHY = /swarm-ha: |error: |Error: |Expected|Received/;

/** The first line of a failure message and the lines that explain it, each once, bounded. */
function reasons(message) {
    // Colours off: CI reads plain text.
    const lines = message
        .replace(/\u001b\[[0-9;]*m/g, "")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("at "));
    // A failure can come without a message (an error thrown as nothing): say so, not crash.
    const picked = [lines[0] ?? "(no message)", ...lines.slice(1).filter((l) => WHY.test(l))];
    return [...new Set(picked)]
        .slice(0, MAX_LINES)
        .map((l) => (l.length > MAX_WIDTH ? `${l.slice(0, MAX_WIDTH)}…` : l));
}

class FailureSummary {
    constructor(globalConfig) {
        this.rootDir = globalConfig.rootDir;
    }

    onRunComplete(_contexts, results) {
        const blocks = [];
        for (const file of results.testResults) {
            const where = path.relative(this.rootDir, file.testFilePath);
            if (file.testExecError) {
                blocks.push([`✕ ${where}`, ...reasons(file.testExecError.message)]);
            }
            for (const test of file.testResults.filter((t) => t.status === "failed")) {
                blocks.push([
                    `✕ ${where} › ${test.fullName}`,
                    ...reasons(test.failureMessages.join("\n")),
                ]);
            }
        }
        if (blocks.length === 0) {
            return;
        }
        const text = blocks.map((b) => [b[0], ...b.slice(1).map((l) => `    ${l}`)].join("\n"));
        process.stderr.write(`\nFailed, in short:\n${text.join("\n")}\n`);
    }
}

module.exports = FailureSummary;

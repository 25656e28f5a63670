// A jest reporter that ends an end-to-end run with each file's time, its tests passed and failed,
// and the total, slowest first: the suite's cost stays in view in every CI log, and docs/measured.md's
// figures are read from it.
const path = require("path");

const seconds = (ms) => `${Math.round(ms / 1000)} s`;
const minutes = (ms) => {
    const s = Math.round(ms / 1000);
    return `${Math.floor(s / 60)} min ${s % 60} s`;
};

class FileTimes {
    constructor(globalConfig) {
        this.rootDir = globalConfig.rootDir;
    }

    onRunComplete(_contexts, results) {
        const files = results.testResults
            .map((file) => ({
                where: path.relative(this.rootDir, file.testFilePath),
                ms: file.perfStats.end - file.perfStats.start,
                passed: file.numPassingTests,
                failed: file.numFailingTests + (file.testExecError ? 1 : 0),
            }))
            .filter((f) => f.where.startsWith(path.join("test", "e2e")));
        if (files.length === 0) {
            return;
        }
        files.sort((a, b) => b.ms - a.ms);
        const width = Math.max(...files.map((f) => f.where.length));
        const lines = files.map(
            (f) =>
                `  ${f.where.padEnd(width)}  ${seconds(f.ms).padStart(6)}  ${f.passed} passed${f.failed ? `, ${f.failed} failed` : ""}`,
        );
        const total = Date.now() - results.startTime;
        const tests = files.reduce((n, f) => n + f.passed + f.failed, 0);
        process.stdout.write(
            `\nEnd-to-end files, slowest first:\n${lines.join("\n")}\n  ${"total".padEnd(width)}  ${minutes(total)}, ${files.length} files, ${tests} tests\n`,
        );
    }
}

module.exports = FileTimes;

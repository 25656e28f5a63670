// The benches' figures go into one file, docs/measured.md, written by the benches themselves: each
// measurement replaces its own block there (between `<!-- bench:KEY -->` and `<!-- /bench:KEY -->`)
// with the conditions it ran under and a table of the project's figure next to the same work done by
// hand or with the docker CLI in the same run, never one alone. The prose around the blocks is the
// file's own; a block the file does not have yet is added at its end.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const MEASURED = path.join(__dirname, "..", "docs", "measured.md");

/** One row: what was done, the project's seconds and the reference's (by hand, the docker CLI). */
export interface Figure {
    what: string;
    project: number;
    reference: number;
}

/** The machine and the tools a figure was measured with, in one sentence. */
export function conditions(command: string, now = new Date()): string {
    let cli = "unknown";
    try {
        cli = execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
    } catch {
        // No CLI on the PATH: said as unknown.
    }
    const gib = Math.round(os.totalmem() / 2 ** 30);
    return (
        `Written by \`npm run bench -- ${command}\` on ${now.toISOString().slice(0, 16).replace("T", " ")} UTC: ` +
        `${os.cpus().length} cores, ${gib} GiB, Node.js ${process.version}, the Pulumi CLI ${cli}, ` +
        `the lab's hosts on the same machine.`
    );
}

/** A block's Markdown: the conditions, then the table with the ratio of each row. */
export function renderBlock(
    key: string,
    condition: string,
    columns: [string, string, string],
    rows: Figure[],
): string {
    const [what, project, reference] = columns;
    return [
        `<!-- bench:${key} -->`,
        condition,
        "",
        `| ${what} | ${project} | ${reference} | ratio |`,
        "| --- | --- | --- | --- |",
        ...rows.map(
            (r) =>
                `| ${r.what} | ${r.project.toFixed(1)} s | ${r.reference.toFixed(1)} s | ${(r.project / r.reference).toFixed(2)} |`,
        ),
        `<!-- /bench:${key} -->`,
    ].join("\n");
}

/** `text` with KEY's block replaced by `block` (or `block` added at the end when it has none). */
export function withBlock(text: string, key: string, block: string): string {
    const start = `<!-- bench:${key} -->`;
    const end = `<!-- /bench:${key} -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from >= 0 && to > from) return text.slice(0, from) + block + text.slice(to + end.length);
    return `${text.trimEnd()}\n\n${block}\n`;
}

/** Writes KEY's block into docs/measured.md and says so. */
export function writeMeasured(
    key: string,
    command: string,
    columns: [string, string, string],
    rows: Figure[],
    file = MEASURED,
): void {
    const block = renderBlock(key, conditions(command), columns, rows);
    fs.writeFileSync(file, withBlock(fs.readFileSync(file, "utf8"), key, block));
    console.log(`${path.relative(process.cwd(), file)}: its block ${key} written`);
}

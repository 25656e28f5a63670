// docs/measured.md is written by the benches: each replaces its own block, keeps the prose around
// it, and shows the project's figure next to the reference's with their ratio.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    MEASURED,
    conditions,
    renderBlock,
    withBlock,
    writeMeasured,
} from "../../scripts/measured";

const rows = [
    { what: "scale 3 to 4", project: 6.04, reference: 4.3 },
    { what: "image update", project: 19, reference: 16.8 },
];

test("a block is the conditions and a table of both figures with their ratio", () => {
    expect(renderBlock("services", "Written by X.", ["change", "`pulumi up`", "docker CLI"], rows))
        .toBe(`<!-- bench:services -->
Written by X.

| change | \`pulumi up\` | docker CLI | ratio |
| --- | --- | --- | --- |
| scale 3 to 4 | 6.0 s | 4.3 s | 1.40 |
| image update | 19.0 s | 16.8 s | 1.13 |
<!-- /bench:services -->`);
});

test("a block replaces only its own, the prose and the other blocks kept", () => {
    const text =
        "# Measured\n\nProse.\n\n<!-- bench:a -->\nold a\n<!-- /bench:a -->\n\nMore.\n\n<!-- bench:b -->\nold b\n<!-- /bench:b -->\n";
    expect(withBlock(text, "a", "<!-- bench:a -->\nnew a\n<!-- /bench:a -->")).toBe(
        "# Measured\n\nProse.\n\n<!-- bench:a -->\nnew a\n<!-- /bench:a -->\n\nMore.\n\n<!-- bench:b -->\nold b\n<!-- /bench:b -->\n",
    );
    // A block the file does not have yet goes at its end.
    expect(withBlock("# Measured\n\nProse.\n", "c", "<!-- bench:c -->\nc\n<!-- /bench:c -->")).toBe(
        "# Measured\n\nProse.\n\n<!-- bench:c -->\nc\n<!-- /bench:c -->\n",
    );
});

test("the conditions name the command, the time, the machine and the tools", () => {
    expect(conditions("services", new Date("2026-12-07T15:04:05Z"))).toMatch(
        /^Written by `npm run bench -- services` on 2026-12-07 15:04 UTC: \d+ cores, \d+ GiB, Node\.js v\d+\.\d+\.\d+, the Pulumi CLI \S+, the lab's hosts on the same machine\.$/,
    );
});

test("writing a block changes the file in place, and the project's file has a block for each bench", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "measured-"));
    try {
        const file = path.join(dir, "measured.md");
        fs.writeFileSync(file, "# Measured\n\n<!-- bench:services -->\n<!-- /bench:services -->\n");
        writeMeasured("services", "services", ["change", "`pulumi up`", "docker CLI"], rows, file);
        const text = fs.readFileSync(file, "utf8");
        expect(text).toContain("| scale 3 to 4 | 6.0 s | 4.3 s | 1.40 |");
        expect(text.match(/<!-- bench:services -->/g)).toHaveLength(1);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const project = fs.readFileSync(MEASURED, "utf8");
    for (const key of [
        "preview-dev",
        "preview-18",
        "converge-3",
        "converge-7",
        "converge-18",
        "services",
    ]) {
        expect(`${key}: ${project.includes(`<!-- bench:${key} -->`)}`).toBe(`${key}: true`);
    }
});

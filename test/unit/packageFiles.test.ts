// The package carries every script its steps source: each component's scripts/ folder is in
// package.json's files (npm packs no folder that a glob there only names by pattern).
import * as fs from "fs";
import * as path from "path";

const root = path.join(__dirname, "..", "..");

test("every component's scripts folder is in package.json's files, by name", () => {
    const files = (
        JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { files: string[] }
    ).files;
    const folders = fs
        .readdirSync(path.join(root, "components"), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => `components/${e.name}/scripts`)
        .filter((dir) => fs.existsSync(path.join(root, dir)));
    expect(folders).toEqual(
        expect.arrayContaining([
            "components/host/scripts",
            "components/swarm/scripts",
            "components/zookeeper/scripts",
        ]),
    );
    expect(folders.filter((dir) => !files.includes(dir))).toEqual([]);
});

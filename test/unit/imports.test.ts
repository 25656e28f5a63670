// The program's modules import one way: no module reaches itself again through its imports, and
// no component imports the program above it.
import * as fs from "fs";
import * as path from "path";

const root = path.join(__dirname, "..", "..");

/** Every TypeScript source of the program and its components, relative to the root. */
function sources(dir: string): string[] {
    return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = path.join(dir, e.name);
        if (e.isDirectory()) return dir === "." ? [] : sources(rel);
        return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [rel] : [];
    });
}

/** The sources a source imports (relative imports that resolve to one). */
function imports(file: string): string[] {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    return [...text.matchAll(/\bfrom\s+"(\.[^"]+)"/g)].flatMap((m) => {
        const target = path.normalize(path.join(path.dirname(file), m[1]));
        return [`${target}.ts`, path.join(target, "index.ts")].filter((f) =>
            fs.existsSync(path.join(root, f)),
        );
    });
}

const files = [...sources("."), ...sources("components")].map(path.normalize);
const graph = new Map(files.map((f) => [f, imports(f)]));

test("no module imports itself again through others", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, trail: string[]): void => {
        if (state.get(file) === "done") return;
        if (state.get(file) === "open") {
            cycles.push([...trail.slice(trail.indexOf(file)), file].join(" -> "));
            return;
        }
        state.set(file, "open");
        for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
        state.set(file, "done");
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
});

test("the components import nothing of the program above them", () => {
    // Their tests beside them may: the shared mocks (test/unit/recorder.ts), the program's config.
    const upward = files
        .filter((f) => f.startsWith("components") && !f.endsWith(".test.ts"))
        .flatMap((f) =>
            (graph.get(f) ?? [])
                .filter((t) => !t.startsWith("components"))
                .map((t) => `${f} -> ${t}`),
        );
    expect(upward).toEqual([]);
    // The walk saw the components and the program.
    expect(files).toEqual(
        expect.arrayContaining([
            "program.ts",
            "components/swarm/swarmCluster.ts",
            "components/host/firewall.ts",
        ]),
    );
});

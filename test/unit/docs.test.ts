// The configuration reference (docs/configuration.md) matches Pulumi.yaml's declared settings: every key, with
// its type and default, and nothing the project does not declare.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { STACK } from "../../configSchema";
import { checkStack } from "../../config";

interface Declared {
    type?: string;
    default?: unknown;
    secret?: boolean;
}

const root = path.join(__dirname, "..", "..");
const project = yaml.load(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, Declared>;
};
const reference = fs.readFileSync(path.join(root, "docs", "configuration.md"), "utf8");

/** Rows of the reference's configuration table: key -> [type, default]. */
function referenceRows(): Record<string, [string, string]> {
    const rows: Record<string, [string, string]> = {};
    for (const line of reference.split("\n")) {
        const m = /^\| `(swarm-ha:[A-Za-z0-9]+)` \| ([^|]+) \| ([^|]+) \|/.exec(line);
        if (m) rows[m[1]] = [m[2].trim(), m[3].trim()];
    }
    return rows;
}

const expectedType = (d: Declared): string =>
    d.type === undefined ? "list or map" : d.secret ? `secret ${d.type}` : d.type;

test("every declared setting is in the configuration reference with its type and default, and no other", () => {
    const rows = referenceRows();
    expect(Object.keys(rows).sort()).toEqual(Object.keys(project.config).sort());
    for (const [key, declared] of Object.entries(project.config)) {
        const [type, def] = rows[key];
        const typeWord = type.startsWith("list") || type === "map" ? "list or map" : type;
        expect(`${key}: ${typeWord}`).toBe(`${key}: ${expectedType(declared)}`);
        if (declared.default !== undefined) {
            const value =
                typeof declared.default === "object"
                    ? JSON.stringify(declared.default)
                    : String(declared.default);
            const shown = declared.default === "" ? "empty" : `\`${value}\``;
            expect(`${key}: ${def}`).toBe(`${key}: ${shown}`);
        }
    }
});

test("every declared setting the schema does not require has a default", () => {
    // Without one, the engine refuses every stack that does not set it ("Stack 'dev' is missing
    // configuration value 'swarm-ha:...'"), before the program runs.
    const withoutDefault = Object.entries(project.config)
        .filter(([, declared]) => declared.default === undefined)
        .map(([key]) => key);
    const required = Object.entries(STACK.fields)
        .filter(([, field]) => "required" in field && field.required)
        .map(([key]) => `swarm-ha:${key}`);
    expect(withoutDefault.sort()).toEqual(required.sort());
});

test("every stack file sets only declared settings", () => {
    for (const file of fs.readdirSync(root).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
        const stack = yaml.load(fs.readFileSync(path.join(root, file), "utf8")) as {
            config: Record<string, unknown>;
        };
        for (const key of Object.keys(stack.config)) {
            expect(`${file}: ${key} declared=${key in project.config}`).toBe(
                `${file}: ${key} declared=true`,
            );
        }
    }
});

test("the settings schema the program checks is what Pulumi.yaml declares, key for key and type for type", () => {
    const kinds: Record<string, string> = {
        string: "string",
        number: "integer",
        boolean: "boolean",
        list: "list or map",
        map: "list or map",
        object: "list or map",
    };
    const fromSchema = Object.fromEntries(
        Object.entries(STACK.fields).map(([k, f]) => [`swarm-ha:${k}`, kinds[f.kind]]),
    );
    const declared = Object.fromEntries(
        Object.entries(project.config).map(([k, d]) => [
            k,
            d.type === undefined || d.type === "array" || d.type === "object"
                ? "list or map"
                : d.type,
        ]),
    );
    expect(fromSchema).toEqual(declared);
    // The defaults the program treats as "not set" are those Pulumi.yaml gives every stack.
    const defaults = (entries: [string, unknown][]) =>
        Object.fromEntries(entries.filter(([, d]) => d !== undefined && d !== ""));
    expect(
        defaults(Object.entries(STACK.fields).map(([k, f]) => [`swarm-ha:${k}`, f.default])),
    ).toEqual(defaults(Object.entries(project.config).map(([k, d]) => [k, d.default])));
});

test("every stack file passes the settings schema", () => {
    for (const file of fs.readdirSync(root).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
        const stack = yaml.load(fs.readFileSync(path.join(root, file), "utf8")) as {
            config: Record<string, unknown>;
        };
        const values = Object.fromEntries(
            Object.entries(stack.config)
                .filter(([, v]) => typeof v !== "object" || v === null || !("secure" in v))
                .map(([k, v]) => [k.replace(/^swarm-ha:/, ""), v]),
        );
        // As Pulumi gives them to the program: text at the top level, maps and lists whole.
        const { problems } = checkStack({
            keys: () => Object.keys(values),
            raw: (k) =>
                values[k] === undefined || typeof values[k] === "object"
                    ? values[k]
                    : String(values[k]),
            getSecret: () => undefined,
            readFile: () => undefined,
        });
        expect({ file, problems }).toEqual({ file, problems: [] });
    }
});

// Typed schemas for settings maps: what each key holds (kind, rule, range, choices, whether it is
// required or secret) and a checker that returns every problem at once, each one sentence naming
// the key path as the user wrote it, the value and the rule; a key that is not a setting gets the
// nearest valid name. The stack's settings are one such schema (config.ts), read by the checks,
// the docs test and Pulumi.yaml's test alike.
import { Rule, shown } from "./grammar";

interface Common {
    /** Must be given. */
    required?: boolean;
    /** Its value never appears in a message. */
    secret?: boolean;
    /** The value when unset, as Pulumi.yaml declares it (a setting equal to it is not "set"). */
    default?: unknown;
    /** The message's end when it is required and unset (or an empty list): "list the hosts". */
    missing?: string;
}

/** Text that follows a rule or is one of a few choices; numbers and booleans too with `scalars`. */
export interface TextSchema extends Common {
    kind: "string";
    rule?: Rule;
    oneOf?: string[];
    /** Numbers and booleans are taken as their text (label and env values). */
    scalars?: boolean;
}

/** A number: whole with `integer`, in [min, max]; `port` is 1 to 65535. */
export interface NumberSchema extends Common {
    kind: "number";
    integer?: boolean;
    min?: number;
    max?: number;
    /** The minimum is excluded (cpus: more than 0). */
    above?: boolean;
}

export interface BooleanSchema extends Common {
    kind: "boolean";
}

export interface ListSchema extends Common {
    kind: "list";
    items: Schema;
    maxItems?: number;
}

/** A map whose keys the user chooses (service names, env names), each following `keys`. */
export interface MapSchema extends Common {
    kind: "map";
    keys: Rule;
    values: Schema;
}

/** A map of fixed settings; any other key is refused with the nearest valid name. */
export interface ObjectSchema extends Common {
    kind: "object";
    fields: Record<string, Schema>;
    /** A map such as this one, for the message when the value is not a map at all. */
    example?: string;
    /** Fields of which exactly one must be given (a secret's value or file). */
    exactlyOne?: string[];
}

/** One of several schemas (memory: a number of bytes or a size as text), tried in order. */
export interface EitherSchema extends Common {
    kind: "either";
    of: Schema[];
    says: string;
}

export type Schema =
    | TextSchema
    | NumberSchema
    | BooleanSchema
    | ListSchema
    | MapSchema
    | ObjectSchema
    | EitherSchema;

/** Shorthands for schemas. */
export const s = {
    text: (rule?: Rule, more: Partial<TextSchema> = {}): TextSchema => ({
        kind: "string",
        rule,
        ...more,
    }),
    oneOf: (choices: string[], more: Partial<TextSchema> = {}): TextSchema => ({
        kind: "string",
        oneOf: choices,
        ...more,
    }),
    int: (min: number, max?: number, more: Partial<NumberSchema> = {}): NumberSchema => ({
        kind: "number",
        integer: true,
        min,
        max,
        ...more,
    }),
    port: (more: Partial<NumberSchema> = {}): NumberSchema => ({
        kind: "number",
        integer: true,
        min: 1,
        max: 65535,
        ...more,
    }),
    bool: (more: Partial<BooleanSchema> = {}): BooleanSchema => ({ kind: "boolean", ...more }),
    list: (items: Schema, more: Partial<ListSchema> = {}): ListSchema => ({
        kind: "list",
        items,
        maxItems: 1000,
        ...more,
    }),
    map: (keys: Rule, values: Schema, more: Partial<MapSchema> = {}): MapSchema => ({
        kind: "map",
        keys,
        values,
        ...more,
    }),
    object: (fields: Record<string, Schema>, more: Partial<ObjectSchema> = {}): ObjectSchema => ({
        kind: "object",
        fields,
        ...more,
    }),
};

function kindOf(value: unknown): string {
    if (Array.isArray(value)) return "list";
    if (value === null) return "null";
    return typeof value === "object" ? "map" : typeof value;
}

function choices(values: string[]): string {
    const quoted = values.map((v) => `"${v}"`);
    return quoted.length === 1
        ? quoted[0]
        : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}

/** The rule of a number, as the end of a message. */
function numberRule(n: NumberSchema): string {
    const what = n.integer ? "a whole number" : "a number";
    if (n.min === 1 && n.max === 65535 && n.integer) return "use a port from 1 to 65535";
    if (n.min !== undefined && n.max !== undefined) {
        return `use ${what} ${n.above ? "above" : "from"} ${n.min} ${n.above ? "and up to" : "to"} ${n.max}`;
    }
    if (n.min !== undefined) return `use ${what} ${n.above ? "above" : "of at least"} ${n.min}`;
    return `use ${what}`;
}

/** What a value of the schema is, for "give ..." when a value is of another kind. */
function wanted(schema: Schema): string {
    switch (schema.kind) {
        case "string":
            return schema.scalars ? "text or a number" : "text";
        case "number":
            return schema.integer ? "a whole number" : "a number";
        case "boolean":
            return "true or false";
        case "list":
            return "a list";
        case "map":
        case "object":
            return "a map";
        case "either":
            return schema.says;
    }
}

/** Edit distance between two names, for "did you mean". */
function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diagonal = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const above = row[j];
            row[j] = Math.min(
                row[j] + 1,
                row[j - 1] + 1,
                diagonal + (a[i - 1] === b[j - 1] ? 0 : 1),
            );
            diagonal = above;
        }
    }
    return row[b.length];
}

/** The valid name nearest to `name`, when one is near enough to be what was meant. */
export function nearest(name: string, names: string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const candidate of names) {
        const d = candidate.toLowerCase() === name.toLowerCase() ? 0 : distance(name, candidate);
        if (d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** The message for a key (`path` names it as written) that is none of the settings `names`. */
export function unknownKey(path: string, key: string, names: string[], of = ""): string {
    const near = nearest(key, names);
    return near
        ? `${path} is not a setting${of}; did you mean ${near}?`
        : `${path} is not a setting${of}; use ${names.join(", ")}.`;
}

function show(schema: Schema, value: unknown): string {
    return schema.secret ? "set (its value is secret)" : shown(value);
}

/**
 * Every problem of `value` against `schema`; `at` is its key path as the user wrote it
 * (`swarm-ha:nodes[0]`). Unset (undefined) is a problem only when the schema is required, which
 * the caller checks for the top level; fields of maps are checked here.
 */
export function check(schema: Schema, value: unknown, at: string, of = ""): string[] {
    if (value === undefined) return [];
    const is = `${at} is ${show(schema, value)}`;
    switch (schema.kind) {
        case "string": {
            const scalar = schema.scalars && ["number", "boolean"].includes(typeof value);
            if (typeof value !== "string" && !scalar) {
                return [`${is}; give ${wanted(schema)}.`];
            }
            const text = String(value);
            if (schema.oneOf && !schema.oneOf.includes(text)) {
                return [`${is}; use ${choices(schema.oneOf)}.`];
            }
            if (schema.rule && !schema.rule.test(text)) {
                return [`${is}; ${schema.rule.says}.`];
            }
            return [];
        }
        case "number": {
            if (typeof value !== "number" || !Number.isFinite(value)) {
                return [`${is}; give ${wanted(schema)}.`];
            }
            const low =
                schema.min !== undefined &&
                (schema.above ? value <= schema.min : value < schema.min);
            const high = schema.max !== undefined && value > schema.max;
            if ((schema.integer && !Number.isInteger(value)) || low || high) {
                return [`${is}; ${numberRule(schema)}.`];
            }
            return [];
        }
        case "boolean":
            return typeof value === "boolean" ? [] : [`${is}; give true or false.`];
        case "list": {
            if (!Array.isArray(value)) return [`${is}; give a list.`];
            if (value.length === 0 && schema.required) {
                return [`${at} is empty; ${schema.missing ?? `give ${wanted(schema.items)}`}.`];
            }
            if (schema.maxItems !== undefined && value.length > schema.maxItems) {
                return [`${at} has ${value.length} entries; give ${schema.maxItems} at most.`];
            }
            return value.flatMap((item, i) => {
                if (item === undefined || item === null) {
                    return [`${at}[${i}] is empty; give ${wanted(schema.items)}.`];
                }
                return check(schema.items, item, `${at}[${i}]`);
            });
        }
        case "map": {
            if (kindOf(value) !== "map") return [`${is}; give a map.`];
            return Object.entries(value as object).flatMap(([k, v]) => [
                ...(schema.keys.test(k)
                    ? []
                    : [`${at}.${k}: ${shown(k)} is not a valid name; ${schema.keys.says}.`]),
                ...(v === null || v === undefined
                    ? [`${at}.${k} is empty; give ${wanted(schema.values)}.`]
                    : check(schema.values, v, `${at}.${k}`)),
            ]);
        }
        case "object": {
            if (kindOf(value) !== "map") {
                return [`${is}; give a map${schema.example ? ` such as ${schema.example}` : ""}.`];
            }
            const names = Object.keys(schema.fields);
            const problems: string[] = [];
            for (const [k, v] of Object.entries(value as object)) {
                // Own fields only: "constructor" or "__proto__" is no setting.
                const field = Object.prototype.hasOwnProperty.call(schema.fields, k)
                    ? schema.fields[k]
                    : undefined;
                if (field === undefined) {
                    problems.push(unknownKey(`${at}.${k}`, k, names, of));
                } else if (v === null) {
                    problems.push(`${at}.${k} is null; give ${wanted(field)}, or leave it out.`);
                } else {
                    problems.push(...check(field, v, `${at}.${k}`));
                }
            }
            for (const [k, field] of Object.entries(schema.fields)) {
                if (field.required && (value as Record<string, unknown>)[k] === undefined) {
                    problems.push(
                        `${at}.${k} is missing; ${field.missing ?? `give ${wanted(field)}`}.`,
                    );
                }
            }
            const given = (schema.exactlyOne ?? []).filter(
                (k) => (value as Record<string, unknown>)[k] !== undefined,
            );
            if (schema.exactlyOne && given.length !== 1) {
                problems.push(`${at} needs exactly one of ${schema.exactlyOne.join(" and ")}.`);
            }
            return problems;
        }
        case "either": {
            const fits = schema.of.some((option) => check(option, value, at).length === 0);
            return fits ? [] : [`${is}; give ${schema.says}.`];
        }
        default:
            return [];
    }
}

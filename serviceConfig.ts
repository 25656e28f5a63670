// `swarm-ha:services`: the stack's services, a map of name to settings, read and checked with
// errors that name the key (`swarm-ha:services.web.replicas`), and turned into SwarmService args.
import * as pulumi from "@pulumi/pulumi";
import { ServiceFileArgs, ServiceUpdateArgs, SwarmServiceArgs } from "./components";

/** One service as written in a stack file. */
export interface ServiceConfig {
    image: string;
    replicas?: number;
    global?: boolean;
    command?: string[];
    args?: string[];
    env?: Record<string, string>;
    secretEnv?: Record<string, string>;
    ports?: { target: number; published?: number; protocol?: string; mode?: string }[];
    endpointMode?: string;
    networks?: string[];
    encrypted?: boolean;
    constraints?: string[];
    preferences?: string[];
    maxReplicasPerNode?: number;
    limits?: { cpus?: number; memory?: string | number };
    reservations?: { cpus?: number; memory?: string | number };
    healthcheck?: SwarmServiceArgs["healthcheck"];
    restartPolicy?: SwarmServiceArgs["restartPolicy"];
    update?: ServiceUpdateArgs;
    rollback?: ServiceUpdateArgs;
    secrets?: Record<string, FileConfig>;
    configs?: Record<string, FileConfig>;
    labels?: Record<string, string>;
    zookeeper?: boolean;
    register?: boolean;
    registerPort?: number;
    metricsPort?: number;
    metricsPath?: string;
}

/** A secret or config: its content as `value`, or the `file` that holds it. */
export interface FileConfig {
    value?: string;
    file?: string;
    target?: string;
    mode?: number;
}

/** A service ready for SwarmService, with what the program adds around it. */
export interface ServiceSettings {
    args: SwarmServiceArgs;
    /** Overlay networks it joins, by name; the program creates each once. */
    networks: string[];
    /** Its networks carry traffic between hosts encrypted (IPsec). */
    encrypted: boolean;
    /** Give it the ensemble's connect string as ZOOKEEPER_CONNECT. */
    zookeeper: boolean;
}

const FIELDS: Record<keyof ServiceConfig, "string" | "number" | "boolean" | "list" | "map"> = {
    image: "string",
    replicas: "number",
    global: "boolean",
    command: "list",
    args: "list",
    env: "map",
    secretEnv: "map",
    ports: "list",
    endpointMode: "string",
    networks: "list",
    encrypted: "boolean",
    constraints: "list",
    preferences: "list",
    maxReplicasPerNode: "number",
    limits: "map",
    reservations: "map",
    healthcheck: "map",
    restartPolicy: "map",
    update: "map",
    rollback: "map",
    secrets: "map",
    configs: "map",
    labels: "map",
    zookeeper: "boolean",
    register: "boolean",
    registerPort: "number",
    metricsPort: "number",
    metricsPath: "string",
};
const NAME_RULE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const MEMORY_RULE = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?)?$/i;

/**
 * The problems of a map's shape against the settings it may hold (`fields`: each one's kind): a key
 * that is not a setting `of` the thing, or a value of another kind. `at` names the map.
 */
export function shapeProblems(
    at: string,
    map: object,
    fields: Record<string, "string" | "number" | "boolean" | "list" | "map">,
    of = "",
): string[] {
    const problems: string[] = [];
    for (const [field, v] of Object.entries(map)) {
        const want = fields[field];
        if (want === undefined) {
            problems.push(
                `${at}.${field} is not a setting${of}; use ${Object.keys(fields).join(", ")}.`,
            );
        } else if (kind(v) !== want) {
            problems.push(`${at}.${field} is ${JSON.stringify(v)}; give a ${want}.`);
        }
    }
    return problems;
}

function kind(value: unknown): string {
    return Array.isArray(value)
        ? "list"
        : value === null
          ? "null"
          : typeof value === "object"
            ? "map"
            : typeof value;
}

/** Bytes of a memory size: a number of bytes, or "512M", "1G", "256MiB". */
export function memoryBytes(value: string | number): number | undefined {
    if (typeof value === "number") {
        return Number.isInteger(value) && value > 0 ? value : undefined;
    }
    const m = MEMORY_RULE.exec(value.trim());
    if (!m) {
        return undefined;
    }
    const unit = (m[2] ?? "").toLowerCase()[0];
    const factor = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
    return Math.round(Number(m[1]) * factor);
}

/**
 * Reads `swarm-ha:services`: every service's settings checked, each problem naming its key. Values of
 * `secretEnv` and the contents of `secrets` (given or read from a file) become Pulumi secrets.
 */
export function parseServices(
    raw: unknown,
    readFile: (file: string) => string | undefined,
): { services: Record<string, ServiceSettings>; problems: string[] } {
    const at = "swarm-ha:services";
    if (raw === undefined) {
        return { services: {}, problems: [] };
    }
    if (kind(raw) !== "map") {
        return {
            services: {},
            problems: [
                `${at} is ${JSON.stringify(raw)}; give a map of service name to its settings.`,
            ],
        };
    }
    const problems: string[] = [];
    const services: Record<string, ServiceSettings> = {};
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
        const key = `${at}.${name}`;
        if (!NAME_RULE.test(name)) {
            problems.push(
                `${key}: "${name}" is not a valid service name; use lower-case letters, digits and '-'.`,
            );
        }
        if (kind(value) !== "map") {
            problems.push(
                `${key} is ${JSON.stringify(value)}; give the service's settings as a map.`,
            );
            continue;
        }
        const s = value as ServiceConfig;
        problems.push(...shapeProblems(key, s, FIELDS, " of a service"));
        if (typeof s.image !== "string" || s.image.trim() === "") {
            problems.push(`${key}.image is missing; give the image, such as "nginx:1.27".`);
        }
        for (const [i, port] of (Array.isArray(s.ports) ? s.ports : []).entries()) {
            if (port.mode !== undefined && !["ingress", "host"].includes(port.mode)) {
                problems.push(
                    `${key}.ports[${i}].mode is "${port.mode}"; use "ingress" or "host".`,
                );
            }
            if (port.protocol !== undefined && !["tcp", "udp", "sctp"].includes(port.protocol)) {
                problems.push(
                    `${key}.ports[${i}].protocol is "${port.protocol}"; use "tcp", "udp" or "sctp".`,
                );
            }
        }
        if (s.metricsPath !== undefined && s.metricsPort === undefined) {
            problems.push(
                `${key}.metricsPath is "${s.metricsPath}" but metricsPort is not set; give the port the tasks serve metrics on.`,
            );
        }
        if (s.encrypted === true && (s.networks ?? []).length === 0) {
            problems.push(
                `${key}.encrypted is true but it names no networks; list the overlay networks to encrypt in networks.`,
            );
        }
        if (s.registerPort !== undefined && s.register !== true) {
            problems.push(
                `${key}.registerPort is ${s.registerPort} but register is not true; set register: true to register the service.`,
            );
        }
        if (s.endpointMode !== undefined && !["vip", "dnsrr"].includes(s.endpointMode)) {
            problems.push(`${key}.endpointMode is "${s.endpointMode}"; use "vip" or "dnsrr".`);
        }
        for (const field of ["limits", "reservations"] as const) {
            const memory = s[field]?.memory;
            if (memory !== undefined && memoryBytes(memory) === undefined) {
                problems.push(
                    `${key}.${field}.memory is ${JSON.stringify(memory)}; give bytes or a size such as "256M" or "1G".`,
                );
            }
        }
        const files = (
            field: "secrets" | "configs",
        ): Record<string, ServiceFileArgs> | undefined => {
            const given = s[field];
            if (given === undefined || kind(given) !== "map") {
                return undefined;
            }
            const out: Record<string, ServiceFileArgs> = {};
            for (const [k, f] of Object.entries(given)) {
                const fileKey = `${key}.${field}.${k}`;
                if ((f.value === undefined) === (f.file === undefined)) {
                    problems.push(`${fileKey} needs exactly one of value and file.`);
                    continue;
                }
                const text = f.file !== undefined ? readFile(f.file) : f.value;
                if (text === undefined) {
                    problems.push(`${fileKey}.file "${f.file}" cannot be read.`);
                    continue;
                }
                out[k] = {
                    content: field === "secrets" ? pulumi.secret(text) : text,
                    target: f.target,
                    mode: f.mode,
                };
            }
            return out;
        };
        const memory = (m: string | number | undefined) =>
            m === undefined ? undefined : memoryBytes(m);
        services[name] = {
            networks: s.networks ?? [],
            encrypted: s.encrypted ?? false,
            zookeeper: s.zookeeper ?? false,
            args: {
                image: s.image,
                replicas: s.replicas,
                global: s.global,
                command: s.command,
                args: s.args,
                env: s.env,
                secretEnv: s.secretEnv
                    ? Object.fromEntries(
                          Object.entries(s.secretEnv).map(([k, v]) => [k, pulumi.secret(v)]),
                      )
                    : undefined,
                ports: s.ports?.map((p) => ({
                    target: p.target,
                    published: p.published,
                    protocol: p.protocol as "tcp" | "udp" | "sctp" | undefined,
                    publishMode: p.mode as "ingress" | "host" | undefined,
                })),
                endpointMode: s.endpointMode as "vip" | "dnsrr" | undefined,
                constraints: s.constraints,
                placementPreferences: s.preferences,
                maxReplicasPerNode: s.maxReplicasPerNode,
                limits: s.limits && { cpus: s.limits.cpus, memoryBytes: memory(s.limits.memory) },
                reservations: s.reservations && {
                    cpus: s.reservations.cpus,
                    memoryBytes: memory(s.reservations.memory),
                },
                healthcheck: s.healthcheck,
                restartPolicy: s.restartPolicy,
                updateConfig: s.update,
                rollbackConfig: s.rollback,
                secrets: files("secrets"),
                configs: files("configs"),
                labels: s.labels,
                register:
                    s.register && s.registerPort !== undefined
                        ? { port: s.registerPort }
                        : s.register,
                metrics:
                    s.metricsPort === undefined
                        ? undefined
                        : { port: s.metricsPort, path: s.metricsPath },
            },
        };
    }
    return { services, problems };
}

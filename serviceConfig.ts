// `swarm-ha:services`: the stack's services, a map of name to settings, read and checked with
// errors that name the key (`swarm-ha:services.web.replicas`), and turned into SwarmService args.
import * as pulumi from "@pulumi/pulumi";
import { ServiceFileArgs, ServiceUpdateArgs, SwarmServiceArgs } from "./components/internal";

/** One service as written in a stack file. */
export interface ServiceConfig {
    image: string;
    registryAuth?: { server: string; username: string; password: string };
    pinDigest?: boolean;
    replicas?: number;
    global?: boolean;
    command?: string[];
    args?: string[];
    env?: Record<string, string>;
    secretEnv?: Record<string, string>;
    ports?: {
        target: number;
        published?: number;
        protocol?: string;
        mode?: string;
        /** With the firewall, the only networks besides the members that reach the port. */
        from?: string[];
    }[];
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
    /** Its published ports that say `from`: the firewall lets only members and those networks in. */
    restricted: { port: number; protocol: "tcp" | "udp"; from: string[] }[];
}

const MEMORY_RULE = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?)?$/i;

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

/** A map's values as text: env and label values may be written as numbers or booleans. */
function texts(map: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, String(v)]));
}

/**
 * Reads `swarm-ha:services`, whose shape the stack's schema checked (configSchema.ts's SERVICE):
 * the rules between a service's settings, each problem naming its key. Values of `secretEnv` and
 * the contents of `secrets` (given or read from a file) become Pulumi secrets. With `secret` (a
 * value of the map was set with `--secret --path`: Pulumi says which key holds a secret, not which
 * part of it), every service's env values, args, command and configs become secrets too.
 */
export function parseServices(
    raw: unknown,
    readFile: (file: string) => string | undefined,
    secret = false,
): { services: Record<string, ServiceSettings>; problems: string[] } {
    const at = "swarm-ha:services";
    const problems: string[] = [];
    const services: Record<string, ServiceSettings> = {};
    for (const [name, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
        const key = `${at}.${name}`;
        const s = value as ServiceConfig;
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
        const files = (
            field: "secrets" | "configs",
        ): Record<string, ServiceFileArgs> | undefined => {
            const given = s[field];
            if (given === undefined) {
                return undefined;
            }
            const out: Record<string, ServiceFileArgs> = {};
            for (const [k, f] of Object.entries(given)) {
                const fileKey = `${key}.${field}.${k}`;
                const text = f.file !== undefined ? readFile(f.file) : f.value;
                if (text === undefined) {
                    problems.push(`${fileKey}.file "${f.file}" cannot be read.`);
                    continue;
                }
                out[k] = {
                    content: field === "secrets" || secret ? pulumi.secret(text) : text,
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
                registryAuth: s.registryAuth && {
                    server: s.registryAuth.server,
                    username: s.registryAuth.username,
                    password: pulumi.secret(s.registryAuth.password),
                },
                pinDigest: s.pinDigest,
                replicas: s.replicas,
                global: s.global,
                command: s.command && (secret ? s.command.map((c) => pulumi.secret(c)) : s.command),
                args: s.args && (secret ? s.args.map((a) => pulumi.secret(a)) : s.args),
                env:
                    s.env &&
                    (secret
                        ? Object.fromEntries(
                              Object.entries(texts(s.env)).map(([k, v]) => [k, pulumi.secret(v)]),
                          )
                        : texts(s.env)),
                secretEnv: s.secretEnv
                    ? Object.fromEntries(
                          Object.entries(texts(s.secretEnv)).map(([k, v]) => [k, pulumi.secret(v)]),
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
                labels: s.labels && texts(s.labels),
                register: s.register,
                registerPort: s.registerPort,
                metrics:
                    s.metricsPort === undefined
                        ? undefined
                        : { port: s.metricsPort, path: s.metricsPath },
            },
            restricted: (s.ports ?? [])
                .filter((p) => p.from !== undefined && p.published !== undefined)
                .map((p) => ({
                    port: p.published!,
                    protocol: p.protocol === "udp" ? "udp" : "tcp",
                    from: p.from!,
                })),
        };
    }
    return { services, problems };
}

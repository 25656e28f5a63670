// ServiceRegistry: ZooKeeper as the swarm's service registry. It runs the registrar (./image) as a
// Swarm service on the managers: the registrar registers every running task of each service that
// asks for it (SwarmService's `register`) as an ephemeral znode ROOT/<service>/<task id> holding
// Curator's ServiceInstance JSON, and removes it when the task stops, fails or moves. It reads the
// swarm through the read-only Docker API (DockerReadProxy), never the engine's socket.
import { ruleProblem, rules } from "../host/grammar";
import * as pulumi from "@pulumi/pulumi";
import * as commandTypes from "@pulumi/command/types/input";
import { SwarmService } from "../service/swarmService";
import { prefix, throwIfAny, wholeNumberProblems } from "../host/validation";
import { DEFAULT_REGISTRY_ROOT } from "./discovery";
import { DockerReadProxy, dockerReadImageProblems } from "../dockerRead";

/** The registrar's image as scripts/images.sh builds it; real clusters push it to their registry. */
export const REGISTRAR_IMAGE = "swarm-ha-registrar:3";

/** Where the registrar's tasks hold their ZooKeeper election: the leader's ephemeral znode. */
export const REGISTRAR_ELECTION = "/swarm-ha/registrar/leader";

/** The registrar's digest user in ZooKeeper (never the ensemble's `super`). */
export const REGISTRAR_USER = "registrar";

/**
 * The znodes the registrar owns, each with everything below it: the registry's root and the
 * platform's own `/swarm-ha` (the election's parents). ZooKeeperEnsemble's `users` takes them.
 */
export function registrarPaths(root: string = DEFAULT_REGISTRY_ROOT): string[] {
    return [root, `/${REGISTRAR_ELECTION.split("/")[1]}`];
}

/**
 * ServiceRegistry's resource options: Pulumi's, and what only a program composing components can
 * give (a resource is no input another language could pass).
 */
export interface ServiceRegistryOptions extends pulumi.ComponentResourceOptions {
    /**
     * The cluster's read-only Docker API (DockerReadProxy), which the registrar reads the swarm
     * through; give the one the other components use. Default: the registry runs its own,
     * `NAME-docker-read`.
     */
    dockerRead?: DockerReadProxy;
}

export interface ServiceRegistryArgs {
    /** The ensemble's connect string (ZooKeeperEnsemble's `connectString`). Required. */
    connectString: pulumi.Input<string>;
    /**
     * The password of the registrar's own digest user, `registrar` (ZooKeeperEnsemble's
     * `userPasswords.registrar`, with `{ name: "registrar", paths: registrarPaths(root) }` in its
     * `users`); never the super password. The registrar authenticates with it, and everything it
     * creates under the root and at the election is writable by it alone and readable by anyone.
     * Given to the registrar as a Docker secret. Default: none (open ACLs).
     */
    password?: pulumi.Input<string>;
    /**
     * The ensemble's CA certificate when it speaks TLS (ZooKeeperEnsemble's `tlsCa`; the connect
     * string then names the secure client ports): the registrar connects over TLS and trusts only
     * servers with a certificate it signed. Default: none (plain text).
     */
    tlsCa?: pulumi.Input<string>;
    /** The registrar's image. Default: "swarm-ha-registrar:3" (built by scripts/images.sh). */
    image?: pulumi.Input<string>;
    /** The registry's root: instances are ROOT/<service>/<task id>; it belongs to the registrar. Default: "/services". */
    root?: string;
    /** Registrar tasks, each on its own manager: one leads, the others stand by. Default: 2. */
    replicas?: number;
    /** How often the leader reads the swarm, as a Go duration. Default: "250ms". */
    pollInterval?: string;
    /**
     * The registrar's ZooKeeper session timeout, as a Go duration: how long a dead leader's
     * instances stay before a standby registers them again. Default: "6s".
     */
    sessionTimeout?: string;
    /** The image of the registry's own proxy, without `dockerRead`. Default: "swarm-ha-docker-read:2". */
    dockerReadImage?: pulumi.Input<string>;
    /** A manager's SSH connection: the registrar's tasks are read there after each change. Default: none. */
    tasksFrom?: commandTypes.remote.ConnectionArgs;
}

const COMPONENT = "ServiceRegistry";
const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/;

/** Checks a ServiceRegistry's arguments; one error naming the component, field, value and rule. */
export function validateServiceRegistryArgs(
    name: string,
    args: ServiceRegistryArgs,
    opts?: ServiceRegistryOptions,
): void {
    const p = prefix(COMPONENT, name);
    const problems = wholeNumberProblems(p, [["replicas", args.replicas, 1]]);
    const root = args.root ?? DEFAULT_REGISTRY_ROOT;
    if (!/^(\/[^/\s]+)+$/.test(root)) {
        problems.push(
            `${p}: root is "${root}"; use an absolute ZooKeeper path below "/", such as "/services".`,
        );
    }
    if (root === REGISTRAR_ELECTION || REGISTRAR_ELECTION.startsWith(`${root}/`)) {
        problems.push(
            `${p}: root is "${root}", which holds the registrar's election; use another path.`,
        );
    }
    for (const [field, value] of [
        ["pollInterval", args.pollInterval],
        ["sessionTimeout", args.sessionTimeout],
    ] as const) {
        if (value !== undefined && !DURATION.test(value)) {
            problems.push(
                `${p}: ${field} is "${value}"; use a Go duration such as "250ms" or "6s".`,
            );
        }
    }
    if (typeof args.image === "string" && args.image.trim() === "") {
        problems.push(
            `${p}: image is empty; leave it unset for "${REGISTRAR_IMAGE}" or name an image.`,
        );
    } else if (typeof args.image === "string") {
        problems.push(...ruleProblem(`${p}: image`, rules.image, args.image));
    }
    if (opts?.dockerRead !== undefined && args.dockerReadImage !== undefined) {
        problems.push(
            `${p}: dockerReadImage is set with dockerRead; the proxy given runs its own image, so drop one of them.`,
        );
    }
    problems.push(...dockerReadImageProblems(p, "dockerReadImage", args.dockerReadImage));
    throwIfAny(problems);
}

export class ServiceRegistry extends pulumi.ComponentResource {
    /** The registry's root path in ZooKeeper. */
    public readonly root: string;
    /** The ensemble's connect string, where discovery reads. */
    public readonly connectString: pulumi.Output<string>;
    /** The registrar's Swarm service. */
    get registrar(): SwarmService {
        return registryInternals.get(this)!.registrar;
    }
    /** The read-only Docker API the registrar reads: the one given, or the registry's own. */
    get dockerRead(): DockerReadProxy {
        return registryInternals.get(this)!.dockerRead;
    }

    constructor(name: string, args: ServiceRegistryArgs, opts?: ServiceRegistryOptions) {
        super("swarm-ha:index:ServiceRegistry", name, {}, opts);
        validateServiceRegistryArgs(name, args, opts);
        this.root = args.root ?? DEFAULT_REGISTRY_ROOT;
        this.connectString = pulumi.output(args.connectString);
        const password = args.password;
        const dockerRead =
            opts?.dockerRead ??
            new DockerReadProxy(
                `${name}-docker-read`,
                { image: args.dockerReadImage, tasksFrom: args.tasksFrom },
                { parent: this },
            );
        const registrar = new SwarmService(
            `${name}-registrar`,
            {
                image: args.image ?? REGISTRAR_IMAGE,
                replicas: args.replicas ?? 2,
                env: {
                    ZOOKEEPER_CONNECT: args.connectString,
                    REGISTRY_ROOT: this.root,
                    ELECTION_PATH: REGISTRAR_ELECTION,
                    POLL_INTERVAL: args.pollInterval ?? "250ms",
                    SESSION_TIMEOUT: args.sessionTimeout ?? "6s",
                    // Swarm fills in the task's name (service.slot.id) when the task starts.
                    TASK_NAME: "{{.Task.Name}}",
                    DOCKER_SOCKET: dockerRead.socket,
                    ...(args.tlsCa === undefined ? {} : { ZOOKEEPER_TLS_CA: args.tlsCa }),
                    ...(password === undefined
                        ? {}
                        : {
                              ZK_USER: REGISTRAR_USER,
                              ZK_PASSWORD_FILE: "/run/secrets/zk-registrar-password",
                          }),
                },
                secrets:
                    password === undefined
                        ? undefined
                        : {
                              "zk-registrar-password": {
                                  content: pulumi.secret(password),
                                  mode: 0o400,
                              },
                          },
                // Only a manager's engine answers for the swarm's services, tasks and nodes: the
                // registrar reads them through the proxy beside it, never the engine's socket.
                mounts: [dockerRead.mount],
                constraints: ["node.role==manager"],
                maxReplicasPerNode: 1,
                // Stop first: a standby leads meanwhile, and a swarm with as many managers as
                // registrars has no free manager for a start-first task.
                updateConfig: { order: "stop-first" },
                rollbackConfig: { order: "stop-first" },
                tasksFrom: args.tasksFrom,
            },
            { parent: this, dependsOn: [dockerRead] },
        );
        registryInternals.set(this, { registrar, dockerRead });
        this.registerOutputs({ root: this.root, connectString: this.connectString });
    }
}

/**
 * What a registry keeps for the program that composes it and out of its outputs (and so of the
 * package's schema): its registrar and its Docker API proxy, components of this package.
 */
const registryInternals = new WeakMap<
    ServiceRegistry,
    { registrar: SwarmService; dockerRead: DockerReadProxy }
>();

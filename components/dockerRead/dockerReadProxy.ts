// DockerReadProxy: the Docker Engine API, read-only, for the platform's own services. One Swarm
// service (./image) on every manager holds the engine's socket and answers, on a socket of its
// own in a local volume, only GET and HEAD of the lists the registrar, the exporter and
// Prometheus's Swarm discovery read, the services' and tasks' without their containers' env,
// command lines, secrets and configs. They mount that volume read-only instead of docker.sock.
import { ruleProblem, rules } from "../host/grammar";
import * as pulumi from "@pulumi/pulumi";
import * as commandTypes from "@pulumi/command/types/input";
import { ServiceMountArgs, SwarmService } from "../service/swarmService";
import { prefix, throwIfAny } from "../host/validation";

/** The proxy's image as scripts/images.sh builds it; real clusters push it to their registry. */
export const DOCKER_READ_IMAGE = "swarm-ha-docker-read:2";

/** Where a consumer finds the proxy's socket: the volume's folder in its containers. */
export const DOCKER_READ_DIR = "/run/docker-read";
/** The proxy's socket in a consumer's containers. */
export const DOCKER_READ_SOCKET = `${DOCKER_READ_DIR}/docker.sock`;
/** The same, as a Docker host URL (Prometheus's dockerswarm_sd `host`). */
export const DOCKER_READ_HOST = `unix://${DOCKER_READ_SOCKET}`;

/** The engine's own socket: only the proxy mounts it. */
export const DOCKER_SOCKET = "/var/run/docker.sock";

/** The API paths the proxy answers (GET and HEAD, optionally /vX.Y-prefixed); see ./image/proxy.go. */
export const DOCKER_READ_PATHS = ["/_ping", "/nodes", "/services", "/tasks", "/networks"];

/** A mount of a SwarmService (its own name since SwarmService names it: kept for importers). */
export type ServiceMount = ServiceMountArgs;

export interface DockerReadProxyArgs {
    /** The proxy's image. Default: "swarm-ha-docker-read:2" (built by scripts/images.sh). */
    image?: pulumi.Input<string>;
    /** A manager's SSH connection: the proxy's tasks are read there after each change. Default: none. */
    tasksFrom?: commandTypes.remote.ConnectionArgs;
}

const COMPONENT = "DockerReadProxy";

/** A problem with an image argument, or none; `field` as the component names it. */
export function dockerReadImageProblems(p: string, field: string, image: unknown): string[] {
    if (typeof image !== "string") return [];
    if (image.trim() === "") {
        return [
            `${p}: ${field} is empty; leave it unset for "${DOCKER_READ_IMAGE}" or name an image.`,
        ];
    }
    return ruleProblem(`${p}: ${field}`, rules.image, image);
}

/** Checks a DockerReadProxy's arguments; one error naming the component, field, value and rule. */
export function validateDockerReadProxyArgs(name: string, args: DockerReadProxyArgs): void {
    throwIfAny(dockerReadImageProblems(prefix(COMPONENT, name), "image", args.image));
}

export class DockerReadProxy extends pulumi.ComponentResource {
    /** The proxy's Swarm service: one task on every manager. */
    get service(): SwarmService {
        return proxyServices.get(this)!;
    }
    /** The local volume, on each manager, holding the proxy's socket. */
    public readonly volume: string;
    /** What a consumer mounts: the volume, read-only, at /run/docker-read. */
    public readonly mount: ServiceMount;
    /** The socket's path in a consumer's containers. */
    public readonly socket: string = DOCKER_READ_SOCKET;
    /** The same as a Docker host URL. */
    public readonly host: string = DOCKER_READ_HOST;

    constructor(name: string, args: DockerReadProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("swarm-ha:index:DockerReadProxy", name, {}, opts);
        validateDockerReadProxyArgs(name, args);
        this.volume = `${name}-socket`;
        // Read-only keeps the consumers from putting anything there; connecting to a socket on a
        // read-only mount still works (Linux checks no mount flag for it).
        this.mount = {
            type: "volume",
            source: this.volume,
            target: DOCKER_READ_DIR,
            readOnly: true,
        };
        const service = new SwarmService(
            `${name}-proxy`,
            {
                image: args.image ?? DOCKER_READ_IMAGE,
                // Every manager: the consumers run on managers, each reads the one beside it.
                global: true,
                constraints: ["node.role==manager"],
                env: { LISTEN: DOCKER_READ_SOCKET, UPSTREAM: DOCKER_SOCKET },
                mounts: [
                    { type: "bind", source: DOCKER_SOCKET, target: DOCKER_SOCKET },
                    { type: "volume", source: this.volume, target: DOCKER_READ_DIR },
                ],
                tasksFrom: args.tasksFrom,
            },
            { parent: this },
        );
        proxyServices.set(this, service);
        this.registerOutputs({ volume: this.volume, socket: this.socket });
    }
}

/**
 * Each proxy's service, kept out of its outputs (and so of the package's schema): a component of
 * this package, which the schema cannot reference.
 */
const proxyServices = new WeakMap<DockerReadProxy, SwarmService>();

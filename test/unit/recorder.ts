// Test helpers: Pulumi mocks that record every registered resource with its resolved inputs, plus
// a transformation that records each child's parent and dependsOn, and canned outputs for the
// remote steps whose stdout other resources read. SwarmCluster's probe answers as its provider's
// check would, from the previous state a test sets.
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import {
    SwarmProbeInputs,
    SwarmProbeState,
    nextProbeState,
} from "../../components/swarm/swarmProbe";

export interface RecordedResource {
    type: string;
    name: string;
    /** Resolved inputs, secrets unwrapped. */
    inputs: Record<string, unknown>;
    /** Dotted paths of the inputs that arrived marked secret ("stdin", "connection.privateKey"). */
    secretPaths: string[];
    parent?: string;
    dependsOn: string[];
    additionalSecretOutputs: string[];
    /** The property paths whose diffs the preview does not show (the hideDiffs option). */
    hideDiffs: string[];
    /** The resource's input properties as given (Outputs kept, to check secretness). */
    props: Record<string, unknown>;
}

export const SECRET_KEY =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nTEST-KEY-MATERIAL\n-----END OPENSSH PRIVATE KEY-----";
export const MANAGER_TOKEN = "SWMTKN-1-manager-token-for-tests";
export const WORKER_TOKEN = "SWMTKN-1-worker-token-for-tests";
export const UNLOCK_KEY = "SWMKEY-1-unlock-key-for-tests";

/** Canned stdout of a remote step, by resource name, as the real scripts print it. */
export type StdoutFor = (name: string, inputs: Record<string, unknown>) => string | undefined;

export class Recorder {
    public readonly resources: RecordedResource[] = [];
    /** Every invoke, in order: its token, its inputs and the provider it went to. */
    public readonly calls: { token: string; inputs: Record<string, unknown>; provider?: string }[] =
        [];
    private readonly providers = new Map<string, string>();
    private readonly opts = new Map<
        string,
        {
            parent?: string;
            dependsOn: string[];
            aso: string[];
            hideDiffs: string[];
            props: Record<string, unknown>;
        }
    >();
    private readonly names = new Map<pulumi.Resource, string>();
    /** The state a SwarmProbe had before this run (none: it is being created). */
    public probeBefore: Partial<SwarmProbeState> = {};

    constructor(private readonly stdoutFor: StdoutFor = () => undefined) {}

    /** Installs the mocks; call before importing or constructing anything under test. */
    public install(): void {
        pulumi.runtime.setMocks(
            {
                newResource: (args: pulumi.runtime.MockResourceArgs) => {
                    const extra = this.opts.get(args.name);
                    if (args.provider) {
                        this.providers.set(args.name, args.provider);
                    }
                    const secretPaths: string[] = [];
                    const inputs = unwrap(args.inputs, "", secretPaths) as Record<string, unknown>;
                    this.resources.push({
                        type: args.type,
                        name: args.name,
                        inputs,
                        secretPaths,
                        parent: extra?.parent,
                        dependsOn: extra?.dependsOn ?? [],
                        additionalSecretOutputs: extra?.aso ?? [],
                        hideDiffs: extra?.hideDiffs ?? [],
                        props: extra?.props ?? {},
                    });
                    const state: Record<string, unknown> = args.type.endsWith(":SwarmProbe")
                        ? {
                              ...nextProbeState(
                                  this.probeBefore,
                                  inputs as unknown as SwarmProbeInputs,
                              ),
                          }
                        : { ...args.inputs };
                    // A generated password: a value of its own per resource, as the provider's.
                    // (or what the test's function gives for its name).
                    const password = args.type === "random:index/randomPassword:RandomPassword";
                    if (password) {
                        state.result =
                            this.stdoutFor(args.name, inputs) ?? `generated-${args.name}`;
                    }
                    const stdout = password ? undefined : this.stdoutFor(args.name, inputs);
                    if (stdout !== undefined) {
                        state.stdout = stdout;
                        state.stderr = "";
                    }
                    return { id: `${args.name}-id`, state };
                },
                // Look-ups: a network found by name has the ID "NAME-netid".
                call: (args: pulumi.runtime.MockCallArgs) => {
                    this.calls.push({
                        token: args.token,
                        inputs: args.inputs,
                        provider: args.provider,
                    });
                    if (args.token === "docker:index/getNetwork:getNetwork") {
                        return { id: `${String(args.inputs.name)}-netid`, name: args.inputs.name };
                    }
                    if (args.token === "docker:index/getRegistryImage:getRegistryImage") {
                        // The digest a registry would answer: one per reference, as a tag names.
                        const digest = createHash("sha256").update(String(args.inputs.name));
                        return {
                            name: args.inputs.name,
                            sha256Digest: `sha256:${digest.digest("hex")}`,
                        };
                    }
                    return {};
                },
            },
            "project",
            "stack",
            false,
        );
    }

    /** A transformation to pass in the component's options: records parent and dependsOn. */
    public readonly transformation: pulumi.ResourceTransformation = (t) => {
        this.names.set(t.resource, t.name);
        const dependsOn = ([] as pulumi.Input<pulumi.Resource>[])
            .concat((t.opts.dependsOn as pulumi.Input<pulumi.Resource>[]) ?? [])
            .map((r) => this.names.get(r as pulumi.Resource) ?? "?");
        this.opts.set(t.name, {
            parent: t.opts.parent
                ? (this.names.get(t.opts.parent) ?? nameOfComponent(t.opts.parent))
                : undefined,
            dependsOn,
            aso: (t.opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [],
            hideDiffs: t.opts.hideDiffs ?? [],
            props: t.props,
        });
        return undefined;
    };

    /** Registers the component itself so children can name it as their parent. */
    public nameComponent(resource: pulumi.Resource, name: string): void {
        this.names.set(resource, name);
    }

    /** The last resource registered with this name (and type, where two types share it). */
    public byName(name: string, type?: string): RecordedResource {
        const found = [...this.resources]
            .reverse()
            .find((r) => r.name === name && (type === undefined || r.type === type));
        if (!found) {
            throw new Error(
                `no resource named ${name}; have ${this.resources.map((r) => r.name).join(", ")}`,
            );
        }
        return found;
    }

    /** The provider reference ("URN::ID") a custom resource was registered with. */
    public providerOf(name: string): string | undefined {
        return this.providers.get(name);
    }
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Replaces the SDK's secret envelopes with their values, noting where they were. */
function unwrap(value: unknown, path: string, secretPaths: string[]): unknown {
    if (Array.isArray(value)) {
        return value.map((v, i) => unwrap(v, `${path}[${i}]`, secretPaths));
    }
    if (value !== null && typeof value === "object") {
        const o = value as Record<string, unknown>;
        if (SECRET_SIG in o) {
            secretPaths.push(path);
            return unwrap(o.value, path, []);
        }
        return Object.fromEntries(
            Object.entries(o).map(([k, v]) => [
                k,
                unwrap(v, path ? `${path}.${k}` : k, secretPaths),
            ]),
        );
    }
    return value;
}

function nameOfComponent(resource: pulumi.Resource): string {
    return (resource as unknown as { __name?: string }).__name ?? "?";
}

/** Resolves an Output (or plain value) to its value, in mocks. */
export function resolve<T>(value: pulumi.Input<T> | undefined): Promise<T | undefined> {
    return new Promise((ok) => pulumi.output(value).apply((v) => ok(v as T | undefined)));
}

/** Waits until the mocks have seen every registration the program started. */
export async function settle(): Promise<void> {
    for (let i = 0; i < 20; i++) {
        await new Promise((r) => setImmediate(r));
    }
}

/**
 * Canned stdout of the remote steps, as the real scripts print it: init and tokens on the bootstrap
 * manager, a node ID per join, the ready report, a service's tasks, ZooKeeper's classpath and
 * ensemble report.
 */
export function stepStdout(name: string, inputs: Record<string, unknown>): string | undefined {
    const create = String(inputs.create ?? "");
    if (name.endsWith("-init")) {
        const node = /^NODE='([^']*)'/m.exec(create)?.[1];
        return `initialising\ncluster=CLUSTER-1\nnode=ID-${node}`;
    }
    if (name.endsWith("-tokens")) {
        return `manager=${MANAGER_TOKEN}\nworker=${WORKER_TOKEN}\nunlock=${UNLOCK_KEY}`;
    }
    const join = /-join-(.+)$/.exec(name);
    if (join) {
        return `joining through x\nnode=ID-${join[1]}`;
    }
    if (name.endsWith("-tasks")) {
        return "task t2 w1 10.0.0.21 Running 5 seconds ago\ntask t1 m1 10.0.0.11 Running 6 seconds ago\nnode 10.0.0.11\nnode 10.0.0.21";
    }
    if (/-firewall-[^-]/.test(name) && !/-firewall-ok-/.test(name)) {
        return "generation=0123456789ab";
    }
    if (/-install-\d+$/.test(name)) {
        return "classpath=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar\njava=x";
    }
    const expected = /^EXPECTED='([^']*)'/m.exec(create)?.[1];
    if (name.endsWith("-ready") && expected !== undefined) {
        return expected
            .split("\n")
            .map((line, i) => {
                const [n, id, role] = line.split(" ");
                const mgr = role === "manager";
                return `${n} ${id} ${role} ready ${mgr ? "reachable" : "-"} ${i === 0} 10.0.0.${i + 1}:2377`;
            })
            .join("\n");
    }
    if (name.endsWith("-ready")) {
        return "1 10.2.0.1 follower\n2 10.2.0.2 leader\n3 10.2.0.3 follower";
    }
    return undefined;
}

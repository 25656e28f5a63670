// SwarmCluster's probe: at every preview and up it takes what the program found on the hosts
// (swarmDrift.ts) and keeps, per node, how many times its engine or membership and its settings
// were found drifted, and which manager runs the manager-side steps. The counts go into the node's
// step commands, so a drifted node's steps run once more, and only its steps. Everything is worked
// out in `check`, from the previous inputs: a preview shows the same values the `up` will use.
import * as pulumi from "@pulumi/pulumi";

/** What the program gives the probe at each run. */
export interface SwarmProbeInputs {
    /** The stack's nodes and its managers, by name. */
    nodes: string[];
    managers: string[];
    /** Nodes whose engine is stopped or that are out of the swarm now. */
    engineDrift: string[];
    /** Nodes whose role, availability or labels are not as asked now. */
    specDrift: string[];
    /** Workers seen Down while their engine runs: the InvocationID of that engine run. */
    restart: Record<string, string>;
    /** Managers that manage the swarm now (empty when that is not known). */
    answering: string[];
    /** The manager to use when there is no other reason to choose: the bootstrap manager. */
    preferred: string;
}

/** What the probe keeps: each node's counts and the manager of the manager-side steps. */
export interface SwarmProbeState {
    nodes: string[];
    managers: string[];
    engine: Record<string, number>;
    spec: Record<string, number>;
    /**
     * Per node, the engine run its Docker step restarts (the last one found Down while running);
     * kept, so the step's command stays the same until another run is found so.
     */
    restart: Record<string, string>;
    stepManager: string;
}

/**
 * The probe's new state from its previous one and this run's findings. A node's counts start at 0
 * and grow by one for each run that finds it drifted (a new node is not drifted: its steps are
 * being created). The step manager stays the same while it manages the swarm; else the preferred
 * one, else the first that answers; with nothing known, it stays.
 */
export function nextProbeState(
    olds: Partial<SwarmProbeState>,
    news: SwarmProbeInputs,
): SwarmProbeState {
    const count = (kind: "engine" | "spec", drifted: string[]): Record<string, number> =>
        Object.fromEntries(
            news.nodes.map((n) => {
                const before = olds[kind]?.[n];
                return [n, before === undefined ? 0 : before + (drifted.includes(n) ? 1 : 0)];
            }),
        );
    const previous = olds.stepManager;
    const usable = (m: string | undefined): m is string =>
        m !== undefined &&
        news.managers.includes(m) &&
        (news.answering.length === 0 || news.answering.includes(m));
    const stepManager = usable(previous)
        ? previous
        : usable(news.preferred) || news.answering.length === 0
          ? news.preferred
          : news.answering[0];
    const restart = Object.fromEntries(
        news.nodes
            .map((n) => [n, news.restart?.[n] ?? olds.restart?.[n]])
            .filter((e): e is [string, string] => e[1] !== undefined),
    );
    return {
        nodes: news.nodes,
        managers: news.managers,
        engine: count("engine", news.engineDrift),
        spec: count("spec", news.specDrift),
        restart,
        stepManager,
    };
}

const kept = (s: Partial<SwarmProbeState>): string =>
    JSON.stringify([s.nodes, s.managers, s.engine, s.spec, s.stepManager, s.restart ?? {}]);

/** The dynamic provider: check works the state out, the rest keeps it. */
export const swarmProbeProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: Partial<SwarmProbeState>, news: SwarmProbeInputs) {
        return { inputs: nextProbeState(olds, news) };
    },
    async diff(_id: string, olds: SwarmProbeState, news: SwarmProbeState) {
        return { changes: kept(olds) !== kept(news) };
    },
    async create(inputs: SwarmProbeState) {
        return { id: "swarm", outs: inputs };
    },
    async update(_id: string, _olds: SwarmProbeState, news: SwarmProbeState) {
        return { outs: news };
    },
};

/** The probe resource. */
export class SwarmProbe extends pulumi.dynamic.Resource {
    public readonly engine!: pulumi.Output<Record<string, number>>;
    public readonly spec!: pulumi.Output<Record<string, number>>;
    public readonly restart!: pulumi.Output<Record<string, string>>;
    public readonly stepManager!: pulumi.Output<string>;

    constructor(name: string, inputs: SwarmProbeInputs, opts?: pulumi.CustomResourceOptions) {
        super(
            swarmProbeProvider,
            name,
            { ...inputs, engine: undefined, spec: undefined, stepManager: undefined },
            opts,
            "swarm-ha",
            "SwarmProbe",
        );
    }
}

// The checks a component runs on its own hosts before any of its resources, when the program that
// composes it did not run them: each host's key and a login with the component's key, every host
// at once and each over one connection, which the component's own questions then share.
import * as pulumi from "@pulumi/pulumi";
import {
    HostKeyScanner,
    HostSurvey,
    ResolvedSsh,
    SURVEY_TIMEOUT_MS,
    SshLoginCheck,
    hostKeyProblems,
    knownNow,
    refusedLogins,
    sharingConnections,
    sshKeyscan,
    surveyHosts,
    withKeyText,
} from "./ssh";
import { throwIfAny } from "./validation";
import { ruleProblem, rules } from "./grammar";

/** How the hosts are asked: OpenSSH, or a test's stand-in. */
export interface HostAsker {
    survey: typeof surveyHosts;
    scan: HostKeyScanner;
}

export const OPENSSH: HostAsker = { survey: surveyHosts, scan: sshKeyscan };

/** One host of a component: its name in messages (a node's, "zookeeper-1"), address and SSH. */
export interface ComponentHost {
    node: string;
    host: string;
    ssh: ResolvedSsh;
}

/**
 * Why a component cannot ask its hosts itself, or undefined when it can: every host needs a
 * recorded key (one connected to unchecked, with acceptAnyHostKey, is not logged in to beforehand)
 * and the component's one private key (`shared`).
 */
export function unaskedReason(
    hosts: ComponentHost[],
    shared: pulumi.Input<string>,
): string | undefined {
    const unkeyed = [
        ...new Set(hosts.filter((h) => h.ssh.hostKey === undefined).map((h) => h.node)),
    ];
    if (unkeyed.length > 0) {
        return `${unkeyed.join(", ")} ${unkeyed.length === 1 ? "has" : "have"} no ssh.hostKey`;
    }
    if (hosts.some((h) => h.ssh.privateKey !== shared)) return "a host has its own ssh.privateKey";
    return undefined;
}

/**
 * Logs in to every host of `logins` once, all at once, with the key in `keyFile`, asking each what
 * `commandsOf` gives it; throws one error naming every host that presents another key than its
 * recorded one, then one naming every host that refuses the key (`where` says where a user
 * records them; by default the stack's settings). The stack's program and {@link askHosts} both
 * start so.
 */
export async function loginAndAsk(
    logins: SshLoginCheck[],
    keyFile: string,
    commandsOf: (login: SshLoginCheck) => string[],
    where?: { recordedIn: string; keyFrom: string },
    asker: HostAsker = OPENSSH,
): Promise<HostSurvey> {
    const survey = await asker.survey(logins, keyFile, commandsOf, SURVEY_TIMEOUT_MS);
    const otherKey = logins.filter((_, i) => survey.results[i] === "host key");
    throwIfAny(
        await hostKeyProblems(
            otherKey.map((c) => ({ ...c, expected: c.hostKey! })),
            asker.scan,
            where?.recordedIn,
        ),
    );
    throwIfAny(await refusedLogins(logins, survey.results, keyFile, where?.keyFrom));
    return survey;
}

/** Where a component's user records what the checks' messages point to. */
const COMPONENT_SETTINGS = { recordedIn: "its ssh.hostKey", keyFrom: "ssh.privateKey" };

/**
 * Logs in to every host once, all at once, with the private key, asking each what `commandsOf`
 * gives it; throws one error naming every host that presents another key than its recorded one or
 * refuses the key; then runs `use` with the answers (the connections stay shared while it runs).
 * Undefined, with nothing asked, when a key is known only later (an output at preview); `at` names
 * the component in that note.
 */
export async function askHosts<T>(
    at: string,
    hosts: ComponentHost[],
    privateKey: pulumi.Input<string>,
    commandsOf: (login: SshLoginCheck) => string[],
    use: (survey: HostSurvey, keyFile: string, logins: SshLoginCheck[]) => Promise<T>,
    asker: HostAsker = OPENSSH,
): Promise<T | undefined> {
    const key = await knownNow(privateKey);
    const hostKeys = await Promise.all(hosts.map((h) => knownNow(h.ssh.hostKey ?? "")));
    if (key === undefined || hostKeys.some((k) => !k)) {
        pulumi.log.info(`${at}: the hosts were not asked before the run: a key is not known yet.`);
        return undefined;
    }
    // A key that was an output is checked here, where it is known: it becomes a known_hosts line.
    throwIfAny(
        hosts.flatMap((h, i) =>
            ruleProblem(`${at}: ${h.node} (${h.host}) ssh.hostKey`, rules.hostKey, hostKeys[i]!),
        ),
    );
    const logins: SshLoginCheck[] = hosts.map((h, i) => ({
        node: h.node,
        host: h.host,
        port: h.ssh.port,
        user: h.ssh.user,
        hostKey: hostKeys[i],
    }));
    return withKeyText(key, (file) =>
        sharingConnections(async () => {
            const survey = await loginAndAsk(logins, file, commandsOf, COMPONENT_SETTINGS, asker);
            return use(survey, file, logins);
        }),
    );
}

/**
 * A component's children, registered now, or once its checks of its hosts pass: what its fields
 * read either way. Refused, its outputs are unknown and `done` (which its `initialize` returns, so
 * that Pulumi reports the refusal as the run's error, once) rejects with the refusal.
 */
export class Children<P, C = unknown> {
    /** Resolves once every child is registered. */
    public readonly done: Promise<unknown>;
    private readonly parts: P | Promise<P>;
    private readonly settled: P | Promise<P | undefined>;

    /** `build` registers the children, given what the checks found (undefined: not asked). */
    constructor(checks: Promise<C> | undefined, build: (found?: C) => P) {
        this.parts = checks ? checks.then(build) : build();
        this.done = Promise.resolve(this.parts);
        this.settled =
            this.parts instanceof Promise ? this.parts.catch(() => undefined) : this.parts;
    }

    /** An output of the children: its value, secrecy and dependencies, once they exist. */
    public output<T>(pick: (parts: P) => pulumi.Output<T>): pulumi.Output<T> {
        const settled = this.settled;
        if (!(settled instanceof Promise)) return pick(settled);
        const unknown = pulumi.output(pulumi.unknown) as unknown as pulumi.Output<T>;
        return pulumi
            .output(settled.then((p) => (p === undefined ? unknown : pick(p))))
            .apply((v) => v as T);
    }

    /** Some of the children, for a `dependsOn` (refused: the refusal). */
    public resources(pick: (parts: P) => pulumi.Resource[]): pulumi.Input<pulumi.Resource[]> {
        if (!(this.parts instanceof Promise)) return pick(this.parts);
        const picked = this.parts.then(pick);
        // Unused, a refusal here is not one more error: `done` reports it.
        picked.catch(() => undefined);
        return picked;
    }
}

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
    const logins: SshLoginCheck[] = hosts.map((h, i) => ({
        node: h.node,
        host: h.host,
        port: h.ssh.port,
        user: h.ssh.user,
        hostKey: hostKeys[i],
    }));
    return withKeyText(key, (file) =>
        sharingConnections(async () => {
            const survey = await asker.survey(logins, file, commandsOf, SURVEY_TIMEOUT_MS);
            const otherKey = logins.filter((_, i) => survey.results[i] === "host key");
            throwIfAny(
                await hostKeyProblems(
                    otherKey.map((c) => ({ ...c, expected: c.hostKey! })),
                    asker.scan,
                    "its ssh.hostKey",
                ),
            );
            throwIfAny(await refusedLogins(logins, survey.results, file, "ssh.privateKey"));
            return use(survey, file, logins);
        }),
    );
}

// SSH settings shared by every component that works on hosts over SSH, the connection they give,
// and a check of the hosts' presented host keys before anything runs on them.
import { execFile } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import * as types from "@pulumi/command/types/input";

/** How to reach hosts over SSH. */
export interface SshArgs {
    /** Login user. Default: "root". The user needs root rights (directly or through sudo-less root). */
    user?: string;
    /** SSH port. Default: 22. */
    port?: number;
    /** Private key (OpenSSH or PEM text). Pass it as a secret, e.g. from `config.requireSecret`. */
    privateKey: pulumi.Input<string>;
    /**
     * The host's expected public key ("ssh-ed25519 AAAA..."). When given, the connection refuses a
     * host that presents another key. Default: not verified.
     */
    hostKey?: pulumi.Input<string>;
    /** How many times to dial before giving up while a host boots. Default: 30. */
    dialAttempts?: number;
    /** Seconds each dial may take. Default: 10. */
    dialTimeoutSeconds?: number;
}

/** Per-host overrides of {@link SshArgs}; unset fields fall back to the component's `ssh`. */
export type SshOverrides = Partial<SshArgs>;

/** The resolved settings for one host, defaults applied. */
export interface ResolvedSsh {
    user: string;
    port: number;
    privateKey: pulumi.Input<string>;
    hostKey?: pulumi.Input<string>;
    dialAttempts: number;
    dialTimeoutSeconds: number;
}

/** Applies a host's overrides to the shared settings and fills in defaults, once. */
export function resolveSsh(shared: SshArgs, override?: SshOverrides): ResolvedSsh {
    const merged = { ...shared, ...definedOnly(override ?? {}) };
    return {
        user: merged.user ?? "root",
        port: merged.port ?? 22,
        privateKey: merged.privateKey,
        hostKey: merged.hostKey,
        dialAttempts: merged.dialAttempts ?? 30,
        dialTimeoutSeconds: merged.dialTimeoutSeconds ?? 10,
    };
}

/** The command provider's connection for a host; the private key is always marked secret. */
export function connectionFor(host: string, ssh: ResolvedSsh): types.remote.ConnectionArgs {
    const connection: types.remote.ConnectionArgs = {
        host,
        port: ssh.port,
        user: ssh.user,
        privateKey: pulumi.secret(ssh.privateKey),
        dialErrorLimit: ssh.dialAttempts,
        perDialTimeout: ssh.dialTimeoutSeconds,
    };
    if (ssh.hostKey !== undefined) {
        connection.hostKey = ssh.hostKey;
    }
    return connection;
}

function definedOnly<T extends object>(o: T): Partial<T> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A host whose SSH host key is checked before anything runs on it. */
export interface HostKeyCheck {
    /** The node's name, for the message. */
    node: string;
    host: string;
    port: number;
    /** The expected key, "TYPE BASE64" (a comment after it is ignored). */
    expected: string;
}

/** Asks a host for its SSH host key of one type; undefined when it does not answer in time. */
export type HostKeyScanner = (
    host: string,
    port: number,
    type: string,
) => Promise<string | undefined>;

/** The host key a host presents, asked with OpenSSH's ssh-keyscan (3 s at most). */
export const sshKeyscan: HostKeyScanner = (host, port, type) =>
    new Promise((resolve) => {
        execFile(
            "ssh-keyscan",
            ["-T", "3", "-p", String(port), "-t", type.replace(/^ssh-/, ""), host],
            { timeout: 5000 },
            (_error, stdout) => {
                const line = stdout
                    .split("\n")
                    .map((l) => l.trim().split(/\s+/))
                    .find((f) => f.length >= 3 && f[1] === type);
                // No answer (or no key of that type): undefined, whatever ssh-keyscan's status.
                resolve(line ? `${line[1]} ${line[2]}` : undefined);
            },
        );
    });

/**
 * Checks each host's presented SSH host key against the expected one, all at once, and returns a
 * message for each host that presents another key (a host that does not answer is left to the
 * connection's bounded dial). Run before any resource, so that a wrong key fails in seconds instead
 * of after every dial attempt.
 */
export async function hostKeyProblems(
    checks: HostKeyCheck[],
    scan: HostKeyScanner = sshKeyscan,
): Promise<string[]> {
    const found = await Promise.all(
        checks.map(async (c) => {
            const [type, key] = c.expected.trim().split(/\s+/);
            const presented = await scan(c.host, c.port, type);
            if (presented === undefined || presented === `${type} ${key}`) return undefined;
            return `swarm-ha: ${c.node} (${c.host}): the host presents the SSH host key ${presented}, but ${type} ${key} is expected (from hostKeys, the node's hostKey or knownHostsFile); if the host was rebuilt, record its new key.`;
        }),
    );
    return found.filter((p): p is string => p !== undefined);
}

// SSH settings shared by every component that works on hosts over SSH, and the connection they give.
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

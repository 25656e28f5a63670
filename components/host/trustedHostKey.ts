// Trust on first use of a host's SSH key, for stacks that ask for it: the key a host presents at the
// first run is kept in the stack's state and required of it afterwards, by this resource's diff (at
// preview too) and by every connection, which takes the kept key as its host key.
import * as pulumi from "@pulumi/pulumi";

/** The host and the key it presents now ("TYPE BASE64"; undefined when it did not answer). */
export interface TrustedHostKeyInputs {
    node: string;
    host: string;
    port: number;
    presented?: string;
}

/** The host and the key it presented when it was first met. */
export interface TrustedHostKeyOutputs {
    node: string;
    host: string;
    port: number;
    key: string;
}

/** Create keeps the key presented; diff refuses another one and keeps the first otherwise. */
export const trustedHostKeyProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: TrustedHostKeyInputs) {
        if (!inputs.presented) {
            throw new Error(
                `swarm-ha: ${inputs.node} (${inputs.host}): no ed25519 SSH host key could be read to trust it on first use (ssh-keyscan on port ${inputs.port} got none: the host did not answer, or offers no ed25519 key); start the host, or record its key in hostKeys or knownHostsFile.`,
            );
        }
        const outs: TrustedHostKeyOutputs = {
            node: inputs.node,
            host: inputs.host,
            port: inputs.port,
            key: inputs.presented,
        };
        return { id: inputs.node, outs };
    },
    async diff(_id: string, olds: TrustedHostKeyOutputs, news: TrustedHostKeyInputs) {
        if (news.presented !== undefined && news.presented !== olds.key) {
            throw new Error(
                `swarm-ha: ${news.node} (${news.host}): the host presents the SSH host key ${news.presented}, but ${olds.key} was trusted on first use and is kept in the stack's state; nothing was changed. If the host was rebuilt, check its new key and record it in hostKeys or knownHostsFile.`,
            );
        }
        return { changes: false };
    },
};

/** A host's key trusted on first use; `key` is the one kept. */
export class TrustedHostKey extends pulumi.dynamic.Resource {
    public readonly key!: pulumi.Output<string>;

    constructor(name: string, inputs: TrustedHostKeyInputs, opts?: pulumi.CustomResourceOptions) {
        super(
            trustedHostKeyProvider,
            name,
            { ...inputs, presented: inputs.presented, key: undefined },
            opts,
            "swarm-ha",
            "TrustedHostKey",
        );
    }
}

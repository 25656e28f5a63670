// Encrypted overlay networks: Docker carries their traffic between hosts in IPsec (ESP, transport
// mode, AES-GCM). A kernel without ESP or GCM takes the policies but refuses the keys, and the
// network then drops every packet between hosts, silently. So before such a network is made, each
// node's kernel is asked to take an ESP state with Docker's algorithm, in a network namespace of
// its own that goes away at once, leaving the host as it was.
import { SshLoginCheck, runOnAll, sshRun } from "./ssh";

/** Prints "ipsec=yes", or "ipsec=no" and what the kernel said. */
export const IPSEC_COMMAND =
    "if out=$(unshare -n ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x5a4a0001 " +
    "mode transport aead 'rfc4106(gcm(aes))' 0x000102030405060708090a0b0c0d0e0f10111213 64 2>&1); " +
    'then echo ipsec=yes; else echo "ipsec=no $out"; fi';

/**
 * The problems of making `networks` encrypted on these hosts: one per host whose kernel cannot
 * carry IPsec, naming it and what the kernel said. Hosts that did not answer are left to the steps.
 */
export async function ipsecProblems(
    networks: string[],
    hosts: SshLoginCheck[],
    keyFile: string,
    run: typeof sshRun = sshRun,
): Promise<string[]> {
    if (networks.length === 0) return [];
    const outputs = await runOnAll(hosts, keyFile, IPSEC_COMMAND, run);
    return hosts.flatMap((h, i) => {
        const out = outputs[i]?.trim();
        if (out === undefined || out.startsWith("ipsec=yes")) return [];
        const said = out.replace(/^ipsec=no\s*/, "").replace(/\s+/g, " ") || "no reason given";
        return [
            `swarm-ha: ${h.node} (${h.host}): its kernel cannot carry encrypted overlay networks (IPsec ESP with AES-GCM: "${said}"), so ${networks.join(", ")} would drop all traffic between hosts; use kernels with ESP and GCM (CONFIG_INET_ESP, CONFIG_CRYPTO_GCM), or drop encrypted from the services.`,
        ];
    });
}

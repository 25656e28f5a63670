// The check that every node's kernel can carry encrypted overlay networks, before one is made.
import { IPSEC_COMMAND, ipsecProblems } from "./ipsec";

const HOSTS = [
    { node: "m1", host: "10.0.0.11", port: 22, user: "root" },
    { node: "w1", host: "10.0.0.21", port: 22, user: "root" },
    { node: "w2", host: "10.0.0.22", port: 22, user: "root" },
];

test("hosts whose kernel refuses the ESP state are named with what it said; silent hosts are left", async () => {
    const asked: string[] = [];
    const answers: Record<string, { ok: boolean; stdout: string; stderr: string }> = {
        "10.0.0.11": { ok: true, stdout: "ipsec=yes\n", stderr: "" },
        "10.0.0.21": {
            ok: true,
            stdout: "ipsec=no Error: Requested AEAD algorithm not found.\n",
            stderr: "",
        },
        "10.0.0.22": { ok: false, stdout: "", stderr: "timeout" },
    };
    const run = async (c: { host: string }, _k: string, _h: string, command: string) => {
        asked.push(`${c.host} ${command === IPSEC_COMMAND}`);
        return answers[c.host];
    };
    expect(await ipsecProblems(["backend", "data"], HOSTS, "/key", run)).toEqual([
        'swarm-ha: w1 (10.0.0.21): its kernel cannot carry encrypted overlay networks (IPsec ESP with AES-GCM: "Error: Requested AEAD algorithm not found."), so backend, data would drop all traffic between hosts; use kernels with ESP and GCM (CONFIG_INET_ESP, CONFIG_CRYPTO_GCM), or drop encrypted from the services.',
    ]);
    expect(asked.sort()).toEqual(["10.0.0.11 true", "10.0.0.21 true", "10.0.0.22 true"]);
});

test("no encrypted network: no host is asked", async () => {
    const run = jest.fn();
    expect(await ipsecProblems([], HOSTS, "/key", run)).toEqual([]);
    expect(run).not.toHaveBeenCalled();
});

test("the check runs in a network namespace of its own, with Docker's algorithm", () => {
    expect(IPSEC_COMMAND).toContain("unshare -n ip xfrm state add");
    expect(IPSEC_COMMAND).toContain("aead 'rfc4106(gcm(aes))'");
});

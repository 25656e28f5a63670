// Unit tests of the host-key check that runs before any resource: a host presenting another key is
// named with both keys; one that does not answer is left to the connection's bounded dial.
import { HostKeyScanner, hostKeyProblems, sshKeyscan } from "../../components";

const GOOD = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoodKeyForTests";
const OTHER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyForTests";

test("only a host presenting another key than the expected one is a problem, named with both", async () => {
    const presented: Record<string, string | undefined> = {
        "10.0.0.1": GOOD,
        "10.0.0.2": OTHER,
        "10.0.0.3": undefined,
    };
    const asked: string[] = [];
    const scan: HostKeyScanner = async (host, port, type) => {
        asked.push(`${host}:${port} ${type}`);
        return presented[host];
    };
    const problems = await hostKeyProblems(
        [
            { node: "m1", host: "10.0.0.1", port: 22, expected: `${GOOD} root@m1` },
            { node: "w1", host: "10.0.0.2", port: 2222, expected: GOOD },
            { node: "w2", host: "10.0.0.3", port: 22, expected: GOOD },
        ],
        scan,
    );
    expect(asked.sort()).toEqual([
        "10.0.0.1:22 ssh-ed25519",
        "10.0.0.2:2222 ssh-ed25519",
        "10.0.0.3:22 ssh-ed25519",
    ]);
    expect(problems).toEqual([
        `swarm-ha: w1 (10.0.0.2): the host presents the SSH host key ${OTHER}, but ${GOOD} is expected (from hostKeys, the node's hostKey or knownHostsFile); if the host was rebuilt, record its new key.`,
    ]);
});

test("ssh-keyscan against a loopback port where nothing listens answers nothing", async () => {
    expect(await sshKeyscan("127.0.0.1", 1, "ssh-ed25519")).toBeUndefined();
});

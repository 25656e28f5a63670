// examples/consumer imports the built package by name ("swarm-ha") and composes a cluster and a
// service: the components work from what package.json exports, in another program.
import * as pulumi from "@pulumi/pulumi";
import { Recorder, resolve, settle } from "./recorder";

const recorder = new Recorder((name) => {
    if (name.endsWith("-init")) return "cluster=C\nnode=ID-m1";
    if (name.endsWith("-tokens")) return "manager=M\nworker=W";
    const join = /-join-(.+)$/.exec(name);
    if (join) return `node=ID-${join[1]}`;
    if (name.endsWith("-ready")) return "m1 ID-m1 manager ready reachable true 10.5.0.1:2377";
    return undefined;
});
recorder.install();
const MANAGERS = ["10.5.0.1", "10.5.0.2", "10.5.0.3"];
const HOST_KEYS = MANAGERS.map(
    (_, i) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIConsumerHostKey${i + 1}xxxxxxxxxxxxxxxxxxx`,
);
const configure = (hostKeys: string[]): void =>
    pulumi.runtime.setAllConfig(
        {
            "swarm-ha-consumer:managers": JSON.stringify(MANAGERS),
            "swarm-ha-consumer:hostKeys": JSON.stringify(hostKeys),
            "swarm-ha-consumer:sshPrivateKey": "KEY",
        },
        ["swarm-ha-consumer:sshPrivateKey"],
    );
configure(HOST_KEYS);

// The cluster's own checks of its hosts (swarmPreflight.ts), as the built package runs them: here
// a stand-in that answers what a test sets, so that no host is asked.
const preflight = jest.fn();
jest.mock("../../bin/components/swarm/swarmPreflight", () => ({
    ...jest.requireActual("../../bin/components/swarm/swarmPreflight"),
    preflightCluster: (...args: unknown[]) => preflight(...args),
}));
const NOTHING_FOUND = {
    observed: { drift: { engine: {}, spec: {} }, answering: ["m1", "m2", "m3"], unreachable: [] },
    firewall: undefined,
};
preflight.mockResolvedValue(NOTHING_FOUND);

import consumer from "../../examples/consumer";
import * as pkg from "swarm-ha";

test("the package's entry is the built JavaScript, with the components", () => {
    expect(require.resolve("swarm-ha")).toMatch(/bin\/components\/index\.js$/);
    expect(typeof pkg.SwarmCluster).toBe("function");
    expect(typeof pkg.SwarmService).toBe("function");
    expect(typeof pkg.ZooKeeperEnsemble).toBe("function");
});

test("the package's public names: the components, their enums and validators, discovery and the probe host", () => {
    expect(Object.keys(pkg).sort()).toEqual([
        "BACKUP_DEFAULTS",
        "DockerInstallMethod",
        "DockerReadProxy",
        "EndpointMode",
        "FirewallProtocol",
        "MountType",
        "NodeAvailability",
        "PortProtocol",
        "ProbeHost",
        "PublishMode",
        "RestartCondition",
        "ServiceRegistry",
        "SwarmCluster",
        "SwarmMonitoring",
        "SwarmRole",
        "SwarmService",
        "UpdateFailureAction",
        "UpdateOrder",
        "ValidationError",
        "ZooKeeperAdminServer",
        "ZooKeeperEnsemble",
        "ZooKeeperInstallMethod",
        "discoverAll",
        "discoverInstances",
        "instanceEndpoint",
        "observeSwarm",
        "validateDockerReadProxyArgs",
        "validateServiceRegistryArgs",
        "validateSwarmClusterArgs",
        "validateSwarmMonitoringArgs",
        "validateSwarmServiceArgs",
        "validateZooKeeperArgs",
    ]);
});

test("the consumer composes a cluster and a service on the cluster's provider", async () => {
    const outputs = consumer();
    expect(await resolve(outputs.leader as pulumi.Output<string>)).toBe("10.5.0.1");
    expect(outputs.api).toEqual(["8080/tcp (ingress)"]);
    await settle();
    const types = recorder.resources.map((r) => `${r.type} ${r.name}`);
    expect(types).toEqual(
        expect.arrayContaining([
            "swarm-ha:index:SwarmCluster apps",
            "command:remote:Command apps-join-m3",
            "pulumi:providers:docker apps-provider",
            "swarm-ha:index:SwarmService api",
            "docker:index/service:Service api-service",
        ]),
    );
    expect(recorder.providerOf("api-service")).toMatch(/::apps-provider::/);
    expect(recorder.byName("apps-join-m2").inputs.stdin).toBe("M");
});

test("each host's key reaches its steps' connection, so another key is refused at the handshake", () => {
    for (const [i, host] of MANAGERS.entries()) {
        const connection = recorder.byName(`apps-join-m${i + 1}`).inputs.connection as {
            host: string;
            hostKey: string;
        };
        expect({ host: connection.host, hostKey: connection.hostKey }).toEqual({
            host,
            hostKey: HOST_KEYS[i],
        });
    }
});

test("a consumer that records no key for a host gets the component's refusal, naming the host, before any resource", () => {
    configure(HOST_KEYS.slice(0, 2));
    const before = recorder.resources.length;
    try {
        expect(() => consumer()).toThrow(
            'SwarmCluster "apps": node "m3" (10.5.0.3) has no ssh.hostKey, so any machine answering at its address would get the logins and the steps\' secrets; give its public host key (ssh-keyscan -t ed25519, checked out of band) as its ssh.hostKey, or set ssh.acceptAnyHostKey: true to connect unchecked.',
        );
        expect(recorder.resources.slice(before).map((r) => r.name)).toEqual([]);
    } finally {
        configure(HOST_KEYS);
    }
});

test("the cluster asks its hosts before its resources: their keys, the stack's key and the SSH settings", () => {
    const [name, args] = preflight.mock.calls[0] as [
        string,
        { nodes: { name: string; host: string; ssh: { hostKey: string } }[]; ssh: object },
    ];
    expect(name).toBe("apps");
    expect(args.nodes.map((n) => [n.name, n.host, n.ssh.hostKey])).toEqual(
        MANAGERS.map((host, i) => [`m${i + 1}`, host, HOST_KEYS[i]]),
    );
    expect(pulumi.Output.isInstance((args.ssh as { privateKey: unknown }).privateKey)).toBe(true);
});

test("a node its hosts show drifted is repaired: the probe gets what was found", async () => {
    const before = recorder.resources.length;
    preflight.mockResolvedValueOnce({
        observed: {
            drift: {
                engine: { m2: ["its engine is inactive"] },
                spec: { m3: ["availability is drain, not active"] },
            },
            answering: ["m1", "m3"],
            unreachable: [],
        },
        firewall: undefined,
    });
    consumer();
    await settle();
    const probe = recorder.resources
        .slice(before)
        .find((r) => r.name === "apps-probe" && r.type.endsWith("SwarmProbe"))!;
    expect(probe.inputs).toMatchObject({
        engineDrift: ["m2"],
        specDrift: ["m3"],
        answering: ["m1", "m3"],
    });
});

test("a refusal of the cluster's checks (the quorum) registers none of its steps: its registration fails with it, its outputs stay unknown", async () => {
    const before = recorder.resources.length;
    const refusal = new pkg.ValidationError(
        'SwarmCluster "apps": removing or demoting m2, m3 would leave 1 reachable of 1 managers while it runs, and a majority needs 1.',
    );
    preflight.mockRejectedValueOnce(refusal);
    const cluster = new pkg.SwarmCluster("refused", {
        nodes: MANAGERS.map((host, i) => ({
            name: `m${i + 1}`,
            host,
            role: "manager" as const,
            ssh: { hostKey: HOST_KEYS[i] },
        })),
        ssh: { privateKey: pulumi.secret("KEY") },
        dockerProvider: false,
    });
    // The Pulumi runtime reports the cluster's failed registration as the run's error (a
    // ValidationError's message alone, once); here it is caught from the cluster itself.
    const registration = (cluster as unknown as { getData(): Promise<unknown> }).getData();
    await expect(registration).rejects.toBe(refusal);
    await settle();
    expect(recorder.resources.slice(before).map((r) => `${r.type} ${r.name}`)).toEqual([
        "swarm-ha:index:SwarmCluster refused",
    ]);
    const known = (cluster.leaderAddress as unknown as { isKnown: Promise<boolean> }).isKnown;
    expect(await known).toBe(false);
});

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

import consumer from "../../examples/consumer";
import * as pkg from "swarm-ha";

test("the package's entry is the built JavaScript, with the components", () => {
    expect(require.resolve("swarm-ha")).toMatch(/bin\/components\/index\.js$/);
    expect(typeof pkg.SwarmCluster).toBe("function");
    expect(typeof pkg.SwarmService).toBe("function");
    expect(typeof pkg.ZooKeeperEnsemble).toBe("function");
});

test("the package's public names: the components, their validators, discovery and the probe host", () => {
    expect(Object.keys(pkg).sort()).toEqual([
        "DockerReadProxy",
        "ProbeHost",
        "ServiceRegistry",
        "SwarmCluster",
        "SwarmMonitoring",
        "SwarmService",
        "ValidationError",
        "ZooKeeperEnsemble",
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

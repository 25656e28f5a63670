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
pulumi.runtime.setAllConfig(
    {
        "swarm-ha-consumer:managers": JSON.stringify(["10.5.0.1", "10.5.0.2", "10.5.0.3"]),
        "swarm-ha-consumer:sshPrivateKey": "KEY",
    },
    ["swarm-ha-consumer:sshPrivateKey"],
);

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

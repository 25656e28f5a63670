// A second program that composes the swarm-ha components, imported by package name: a cluster of
// managers and one service on it, deployed through the cluster's Docker provider.
import * as pulumi from "@pulumi/pulumi";
import { SwarmCluster, SwarmService } from "swarm-ha";

function consumer(): Record<string, unknown> {
    const config = new pulumi.Config("swarm-ha-consumer");
    const managers = config.requireObject<string[]>("managers");
    // Each host's key, recorded out of band: SwarmCluster refuses a host it could not verify, and
    // with every key, asks its hosts before any step (keys, logins, quorum, drift to repair). Its
    // Docker provider reaches a manager with the system's ssh: the key goes in an ssh agent.
    const hostKeys = config.getObject<string[]>("hostKeys") ?? [];
    const cluster = new SwarmCluster("apps", {
        nodes: managers.map((host, i) => ({
            name: `m${i + 1}`,
            host,
            role: "manager" as const,
            ssh: { hostKey: hostKeys[i] },
        })),
        ssh: { privateKey: config.requireSecret("sshPrivateKey") },
    });
    // Where the kernel has no IPVS (a lab), no routing mesh: host-mode ports and DNS round robin.
    const mesh = config.getBoolean("routingMesh") ?? true;
    const api = new SwarmService(
        "api",
        {
            image: config.get("apiImage") ?? "registry.example.com/api:2.1.0",
            replicas: 2,
            ports: [{ target: 8080, published: 8080, ...(mesh ? {} : { publishMode: "host" }) }],
            ...(mesh ? {} : { endpointMode: "dnsrr" }),
        },
        { provider: cluster.provider },
    );
    return { leader: cluster.leaderAddress, api: api.endpoints };
}

export = consumer;

// The Pulumi program: reads the stack's settings, builds the cluster (and, as they land, the
// ZooKeeper ensemble and the services), and returns the stack outputs. index.ts runs it under
// `pulumi up`; the project's own runners run the same function through the Automation API.
import { SshArgs, SwarmCluster, SwarmService, ZooKeeperEnsemble } from "./components";
import { readSettings, stackConfig } from "./config";

export async function program(): Promise<Record<string, unknown>> {
    const settings = readSettings(stackConfig());
    // One set of SSH settings for the cluster's hosts and ZooKeeper's.
    const ssh: SshArgs = {
        user: settings.sshUser,
        port: settings.sshPort,
        privateKey: settings.sshPrivateKey,
        dialAttempts: settings.sshDialAttempts,
    };
    const cluster = new SwarmCluster(settings.clusterName, {
        nodes: settings.nodes,
        ssh,
        docker: { install: settings.dockerInstall, version: settings.dockerVersion },
        autolock: settings.autolock,
        dockerProvider: settings.services,
        dockerSshOpts: settings.sshPrivateKeyFile
            ? ["-i", settings.sshPrivateKeyFile, "-o", "IdentitiesOnly=yes"]
            : undefined,
    });
    // ZooKeeper after the cluster: both install packages with apt on the managers.
    const zk = settings.zookeeper
        ? new ZooKeeperEnsemble(
              "zookeeper",
              {
                  servers: settings.zookeeper.servers,
                  ssh,
                  install: {
                      method: settings.zookeeper.install,
                      version: settings.zookeeper.version,
                      url: settings.zookeeper.url,
                      sha512: settings.zookeeper.sha512,
                  },
                  tickTime: settings.zookeeper.tickTime,
                  heapMb: settings.zookeeper.heapMb,
                  auth: {
                      enabled: settings.zookeeper.auth,
                      superPassword: settings.zookeeper.superPassword,
                  },
                  dynamicReconfig: settings.zookeeper.dynamicReconfig,
              },
              { dependsOn: [cluster] },
          )
        : undefined;

    // The classic example: a web service spread over the zones, published on a port of every node (or,
    // in host mode, of the nodes running a task).
    let web: SwarmService | undefined;
    if (settings.services && cluster.provider) {
        web = new SwarmService(
            "web",
            {
                image: settings.web.image,
                replicas: settings.web.replicas,
                ports: [
                    {
                        target: 80,
                        published: settings.web.port,
                        publishMode: settings.web.publishMode,
                    },
                ],
                endpointMode: settings.web.endpointMode,
                placementPreferences: ["spread=node.labels.zone"],
                env: zk ? { ZOOKEEPER_CONNECT: zk.connectString } : undefined,
            },
            { provider: cluster.provider },
        );
    }
    return {
        zookeeper: zk
            ? {
                  connectString: zk.connectString,
                  servers: zk.servers,
                  superPassword: zk.superPassword,
              }
            : "none (swarm-ha:zkServers is not set)",
        services: web ? { web: web.endpoints } : "left out (swarm-ha:services is false)",
        clusterId: cluster.clusterId,
        nodes: cluster.nodeStatus,
        managers: cluster.managers,
        workers: cluster.workers,
        leaderAddress: cluster.leaderAddress,
        faultTolerance: cluster.faultTolerance,
        dockerHost: cluster.dockerHost,
        managerJoinToken: cluster.managerJoinToken,
        workerJoinToken: cluster.workerJoinToken,
        unlockKey: cluster.unlockKey,
    };
}

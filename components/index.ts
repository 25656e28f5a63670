// The package's public surface ("swarm-ha"): the components, their arguments and outputs, the
// validators they run, and service discovery. Everything else is internal (internal.ts), free to
// change between versions.
export { SwarmCluster, validateSwarmClusterArgs } from "./swarm/swarmCluster";
export type {
    DockerInstallArgs,
    DockerInstallMethod,
    SwarmClusterArgs,
    SwarmNodeInfo,
    SwarmNodeStatus,
} from "./swarm/swarmCluster";
export type { NodeAvailability, SwarmNodeArgs, SwarmRole } from "./swarm/swarmNode";
export type { RestrictedPortArgs, SwarmFirewallArgs } from "./host/firewall";
export { observeSwarm } from "./swarm/swarmDrift";
export type { SwarmObservation } from "./swarm/swarmDrift";
export type { SshArgs, SshLoginCheck, SshOverrides } from "./host/ssh";
export { ProbeHost } from "./host/probeHost";
export { ValidationError } from "./host/validation";

export { SwarmService, validateSwarmServiceArgs } from "./service/swarmService";
export type {
    ServiceFileArgs,
    ServiceNetworkArgs,
    ServicePortArgs,
    ServiceTask,
    ServiceUpdateArgs,
    SwarmServiceArgs,
} from "./service/swarmService";

export { ZooKeeperEnsemble, validateZooKeeperArgs } from "./zookeeper/zookeeperEnsemble";
export type {
    ZooKeeperEnsembleArgs,
    ZooKeeperFirewallArgs,
    ZooKeeperInstallArgs,
    ZooKeeperServerArgs,
    ZooKeeperServerStatus,
    ZooKeeperTlsArgs,
    ZooKeeperUserArgs,
} from "./zookeeper/zookeeperEnsemble";

export { ServiceRegistry, validateServiceRegistryArgs } from "./registry/serviceRegistry";
export type { ServiceRegistryArgs } from "./registry/serviceRegistry";
export { discoverAll, discoverInstances, instanceEndpoint } from "./registry/discovery";
export type { DiscoverOptions, ServiceInstance } from "./registry/discovery";
export type { ZkConnectOptions } from "./registry/zkClient";

export { SwarmMonitoring, validateSwarmMonitoringArgs } from "./monitoring/swarmMonitoring";
export type { MonitoringImages, SwarmMonitoringArgs } from "./monitoring/swarmMonitoring";
export type { MonitoredZooKeeperServer } from "./monitoring/prometheusConfig";

export { DockerReadProxy, validateDockerReadProxyArgs } from "./dockerRead/dockerReadProxy";
export type { DockerReadProxyArgs, ServiceMount } from "./dockerRead/dockerReadProxy";

// The package's public surface ("swarm-ha"): the components, their arguments and outputs, the
// validators they run, and service discovery. Everything else is internal (internal.ts), free to
// change between versions.
//
// Each enum is an object of its values with a type of the same name: TypeScript programs write the
// plain strings ("manager"), and the package's schema offers the values to other languages.
export { DockerInstallMethod, SwarmCluster, validateSwarmClusterArgs } from "./swarm/swarmCluster";
export type {
    DockerInstallArgs,
    ManagerConnection,
    SwarmClusterArgs,
    SwarmNodeInfo,
    SwarmNodeStatus,
    SwarmRecoveryArgs,
} from "./swarm/swarmCluster";
export { NodeAvailability, SwarmRole } from "./swarm/swarmNode";
export type { SwarmNodeArgs } from "./swarm/swarmNode";
export { FirewallProtocol } from "./host/firewall";
export type {
    FirewalledZooKeeperArgs,
    RestrictedPortArgs,
    SharedFirewallArgs,
    SwarmFirewallArgs,
} from "./host/firewall";
export { BACKUP_DEFAULTS } from "./host/backup";
export type { BackupArgs, BackupRecord } from "./host/backup";
export { observeSwarm } from "./swarm/swarmDrift";
export type { SwarmObservation } from "./swarm/swarmDrift";
export type { SshArgs, SshLoginCheck, SshOverrides } from "./host/ssh";
export { ProbeHost } from "./host/probeHost";
export { ValidationError } from "./host/validation";

export {
    EndpointMode,
    MountType,
    PortProtocol,
    PublishMode,
    RestartCondition,
    SwarmService,
    UpdateFailureAction,
    UpdateOrder,
    validateSwarmServiceArgs,
} from "./service/swarmService";
export type {
    HealthcheckArgs,
    RegistryAuthArgs,
    RestartPolicyArgs,
    ServiceFileArgs,
    ServiceMetricsArgs,
    ServiceMountArgs,
    ServiceNetworkArgs,
    ServicePortArgs,
    ServiceResourcesArgs,
    ServiceTask,
    ServiceUpdateArgs,
    SwarmServiceArgs,
} from "./service/swarmService";

export {
    ZooKeeperAdminServer,
    ZooKeeperEnsemble,
    ZooKeeperInstallMethod,
    validateZooKeeperArgs,
} from "./zookeeper/zookeeperEnsemble";
export type {
    ZooKeeperAuthArgs,
    ZooKeeperAutopurgeArgs,
    ZooKeeperEnsembleArgs,
    ZooKeeperEnsembleOptions,
    ZooKeeperFirewallArgs,
    ZooKeeperInstallArgs,
    ZooKeeperServerArgs,
    ZooKeeperServerStatus,
    ZooKeeperTlsArgs,
    ZooKeeperUserArgs,
} from "./zookeeper/zookeeperEnsemble";

export { ServiceRegistry, validateServiceRegistryArgs } from "./registry/serviceRegistry";
export type { ServiceRegistryArgs, ServiceRegistryOptions } from "./registry/serviceRegistry";
export { discoverAll, discoverInstances, instanceEndpoint } from "./registry/discovery";
export type { DiscoverOptions, ServiceInstance } from "./registry/discovery";
export type { ZkConnectOptions } from "./registry/zkClient";

export { SwarmMonitoring, validateSwarmMonitoringArgs } from "./monitoring/swarmMonitoring";
export type {
    GrafanaArgs,
    MonitoredZooKeeperArgs,
    MonitoringImages,
    ScrapeNetworkArgs,
    SwarmMonitoringArgs,
    SwarmMonitoringOptions,
} from "./monitoring/swarmMonitoring";
export type { MonitoredZooKeeperServer } from "./monitoring/prometheusConfig";

export { DockerReadProxy, validateDockerReadProxyArgs } from "./dockerRead/dockerReadProxy";
export type { DockerReadProxyArgs, ServiceMount } from "./dockerRead/dockerReadProxy";

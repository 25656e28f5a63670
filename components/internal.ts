// Everything the components' modules export, for this repository's program, scripts and tests;
// the package's public surface is index.ts.
export * from "./host/ssh";
export * from "./host/validation";
export * from "./swarm/swarmCluster";
export * from "./swarm/swarmNode";
export * from "./host/firewall";
export * from "./service/swarmService";
export * from "./zookeeper/zookeeperEnsemble";
export * from "./dockerRead";
export * from "./registry";
export * from "./monitoring";
export * from "./swarm/swarmQuorum";
export * from "./swarm/swarmDrift";
export * from "./host/backup";
export * from "./host/ipsec";
export { ProbeHost } from "./host/probeHost";

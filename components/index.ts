// The library's public surface: the components and their argument types.
export * from "./ssh";
export * from "./validation";
export * from "./swarmCluster";
export * from "./swarmService";
export * from "./zookeeperEnsemble";
export * from "./dockerRead";
export * from "./registry";
export * from "./monitoring";
export * from "./swarmQuorum";
export * from "./swarmDrift";
export * from "./ipsec";
export { ProbeHost } from "./zookeeperProbe";

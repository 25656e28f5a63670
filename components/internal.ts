// Everything the components' modules export, for this repository's program, scripts and tests;
// the package's public surface is index.ts.
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

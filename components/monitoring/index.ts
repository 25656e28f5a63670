// Monitoring and alerting of the platform: the SwarmMonitoring component and its renderers.
export * from "./swarmMonitoring";
export * from "./prometheusConfig";

// The service registry: the ServiceRegistry component (the registrar on the swarm) and discovery.
export * from "./serviceRegistry";
export * from "./discovery";
export * from "./zkClient";

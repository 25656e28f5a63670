// The package's schema, as Pulumi's component analyzer makes it from plugin/ (the source-based
// plugin package): every component the library exports passes, with exactly the inputs and outputs
// a program of another language gets, enums for the choices and named types for the objects. What
// only a TypeScript program composing components can give (resources, this package's own
// components) stays out of it: it is in the components' resource options or behind getters.
import * as fs from "fs";
import * as path from "path";
import { Analyzer } from "@pulumi/pulumi/provider/experimental/analyzer";
import { getPulumiComponents } from "@pulumi/pulumi/provider/experimental/provider";
import * as swarmHa from "../../components";

jest.setTimeout(60_000);

const plugin = path.join(__dirname, "..", "..", "plugin");
const COMPONENTS = [
    "DockerReadProxy",
    "ServiceRegistry",
    "SwarmCluster",
    "SwarmMonitoring",
    "SwarmService",
    "ZooKeeperEnsemble",
];

const analyzed = (() => {
    let result: ReturnType<Analyzer["analyze"]> | undefined;
    return () => {
        if (!result) {
            const packageJSON = JSON.parse(
                fs.readFileSync(path.join(plugin, "package.json"), "utf8"),
            ) as Record<string, unknown>;
            result = new Analyzer(plugin, "swarm-ha", packageJSON, new Set(COMPONENTS)).analyze();
        }
        return result;
    };
})();

const names = (o: object) => Object.keys(o).sort();

test("the plugin package offers the library's components, as its index exports them", () => {
    // What Pulumi's Node.js plugin host offers: every component the package's main exports.
    expect(
        getPulumiComponents(swarmHa)
            .map((c) => c.name)
            .sort(),
    ).toEqual(COMPONENTS);
    expect(names(analyzed().components)).toEqual(COMPONENTS);
    const manifest = JSON.parse(fs.readFileSync(path.join(plugin, "package.json"), "utf8")) as {
        name: string;
        version: string;
        main: string;
    };
    const library = JSON.parse(
        fs.readFileSync(path.join(plugin, "..", "package.json"), "utf8"),
    ) as { name: string; version: string; main: string };
    expect(manifest.name).toBe(library.name);
    expect(manifest.version).toBe(library.version);
    expect(path.join("plugin", manifest.main)).toBe(path.normalize(library.main));
});

test("each component's inputs and outputs, exactly", () => {
    const c = analyzed().components;
    const inputs = Object.fromEntries(COMPONENTS.map((n) => [n, names(c[n].inputs)]));
    const outputs = Object.fromEntries(COMPONENTS.map((n) => [n, names(c[n].outputs)]));
    expect(inputs).toEqual({
        DockerReadProxy: ["image", "tasksFrom"],
        ServiceRegistry: [
            "connectString",
            "dockerReadImage",
            "image",
            "password",
            "pollInterval",
            "replicas",
            "root",
            "sessionTimeout",
            "tasksFrom",
            "tlsCa",
        ],
        SwarmCluster: [
            "advertisePort",
            "allowEvenManagers",
            "autolock",
            "backup",
            "bootstrapManager",
            "certExpiry",
            "checkHosts",
            "dataPathPort",
            "defaultAddressPool",
            "defaultAddressPoolMaskLength",
            "docker",
            "dockerProvider",
            "dockerSshOpts",
            "drainTimeoutSeconds",
            "encryptedNetworks",
            "firewall",
            "joinTokenRotation",
            "nodes",
            "observed",
            "readyTimeoutSeconds",
            "recovery",
            "ssh",
            "taskHistoryLimit",
        ],
        SwarmMonitoring: [
            "alertAfter",
            "alertmanagerConfig",
            "alertmanagerPort",
            "cluster",
            "endpointMode",
            "engineMetricsPort",
            "grafana",
            "images",
            "nodeExporterPort",
            "prometheusLabel",
            "prometheusPort",
            "publishMode",
            "retention",
            "scrapeInterval",
            "scrapeNetworks",
            "tasksFrom",
            "zookeeper",
        ],
        SwarmService: [
            "args",
            "command",
            "configs",
            "constraints",
            "convergenceTimeout",
            "endpointMode",
            "env",
            "global",
            "healthcheck",
            "image",
            "labels",
            "limits",
            "maxReplicasPerNode",
            "metrics",
            "mounts",
            "networks",
            "pinDigest",
            "placementPreferences",
            "ports",
            "register",
            "registerPort",
            "registryAuth",
            "replicas",
            "reservations",
            "restartPolicy",
            "rollbackConfig",
            "secretEnv",
            "secrets",
            "tasksFrom",
            "updateConfig",
            "waitForConvergence",
        ],
        ZooKeeperEnsemble: [
            "adminPort",
            "adminServer",
            "allowEven",
            "auth",
            "autopurge",
            "backup",
            "checkHosts",
            "clientPort",
            "dataDir",
            "dataLogDir",
            "dynamicReconfig",
            "electionPort",
            "firewall",
            "fourLetterWords",
            "heapMb",
            "initLimit",
            "install",
            "jvmFlags",
            "peerPort",
            "purgeOnDelete",
            "readyTimeoutSeconds",
            "repairing",
            "servers",
            "ssh",
            "syncLimit",
            "tickTime",
            "tls",
            "users",
        ],
    });
    expect(outputs).toEqual({
        DockerReadProxy: ["host", "mount", "socket", "volume"],
        ServiceRegistry: ["connectString", "root"],
        SwarmCluster: [
            "clusterId",
            "dockerHost",
            "engineMetricsPort",
            "faultTolerance",
            "leaderAddress",
            "managerJoinToken",
            "managers",
            "nodeStatus",
            "unlockKey",
            "workerJoinToken",
            "workers",
        ],
        SwarmMonitoring: [
            "alertmanagerPort",
            "alerts",
            "grafanaAdminPassword",
            "grafanaPort",
            "network",
            "prometheusPort",
        ],
        SwarmService: ["addresses", "endpoints", "service", "serviceName", "tasks"],
        ZooKeeperEnsemble: ["connectString", "servers", "superPassword", "tlsCa", "userPasswords"],
    });
});

test("every choice is an enum of the values the TypeScript types take", () => {
    const types = analyzed().typeDefinitions;
    const enums = Object.fromEntries(
        Object.values(types)
            .filter((t) => "enum" in t)
            .map((t) => [
                t.name,
                (t as { enum: { value: unknown }[] }).enum.map((e) => e.value).sort(),
            ]),
    );
    const exported = {
        DockerInstallMethod: swarmHa.DockerInstallMethod,
        EndpointMode: swarmHa.EndpointMode,
        FirewallProtocol: swarmHa.FirewallProtocol,
        MountType: swarmHa.MountType,
        NodeAvailability: swarmHa.NodeAvailability,
        PortProtocol: swarmHa.PortProtocol,
        PublishMode: swarmHa.PublishMode,
        RestartCondition: swarmHa.RestartCondition,
        SwarmRole: swarmHa.SwarmRole,
        UpdateFailureAction: swarmHa.UpdateFailureAction,
        UpdateOrder: swarmHa.UpdateOrder,
        ZooKeeperAdminServer: swarmHa.ZooKeeperAdminServer,
        ZooKeeperInstallMethod: swarmHa.ZooKeeperInstallMethod,
    };
    expect(enums).toEqual(
        Object.fromEntries(Object.entries(exported).map(([k, v]) => [k, Object.values(v).sort()])),
    );
    expect(swarmHa.SwarmRole.Manager).toBe("manager");
    expect(swarmHa.UpdateOrder.StartFirst).toBe("start-first");
});

test("no resource of this package or of Pulumi's own is an input or output type", () => {
    const types = names(analyzed().typeDefinitions);
    expect(types).not.toContain("Resource");
    expect(types).not.toContain("CustomResource");
    expect(analyzed().dependencies.map((d) => d.name)).toEqual(["docker"]);
});

test("the inputs' types and which are required, as a program of another language sees them", () => {
    const { components, typeDefinitions } = analyzed();
    const service = components.SwarmService.inputs;
    expect(service.registerPort).toMatchObject({ type: "number", optional: true });
    expect(service.image.optional).toBeUndefined();
    expect(service.networks).toMatchObject({
        type: "array",
        items: { $ref: "#/types/swarm-ha:index:ServiceNetworkArgs" },
    });
    expect(service.endpointMode).toMatchObject({ $ref: "#/types/swarm-ha:index:EndpointMode" });
    const required = (type: string) =>
        Object.entries(typeDefinitions[type].properties ?? {})
            .filter(([, p]) => !p.optional)
            .map(([k]) => k)
            .sort();
    expect(required("SwarmNodeArgs")).toEqual(["host", "name", "role"]);
    expect(typeDefinitions.SwarmNodeArgs.properties!.role).toMatchObject({
        $ref: "#/types/swarm-ha:index:SwarmRole",
    });
    expect(required("ServiceNetworkArgs")).toEqual([]);
    expect(required("SshArgs")).toEqual(["privateKey"]);
    expect(required("ZooKeeperServerArgs")).toEqual(["host", "id"]);
    const cluster = components.SwarmCluster.inputs;
    expect(cluster.nodes).toMatchObject({
        type: "array",
        items: { $ref: "#/types/swarm-ha:index:SwarmNodeArgs" },
    });
    expect(cluster.nodes.optional).toBeUndefined();
});

// Unit tests of the service registry: the registrar's Swarm service (image, placement, the
// read-only Docker API instead of the engine's socket, its settings and the super password as a
// Docker secret), its own or a given DockerReadProxy, SwarmService's `register` labels, the
// validators, and reading Curator's ServiceInstance JSON.
import { Recorder, RecordedResource, resolve, settle } from "../../test/unit/recorder";

const recorder = new Recorder();
recorder.install();

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
    REGISTRAR_ELECTION,
    DockerReadProxy,
    REGISTRAR_IMAGE,
    REGISTRAR_USER,
    ServiceRegistry,
    ServiceRegistryArgs,
    SwarmService,
    instanceEndpoint,
    parseServiceInstance,
    registrarPaths,
    serviceLabels,
    validateServiceRegistryArgs,
    validateSwarmServiceArgs,
} from "../internal";

const provider = new docker.Provider("cluster-provider", { host: "ssh://root@10.0.0.1:22" });
const CONNECT = "172.30.213.11:2181,172.30.213.12:2181,172.30.213.13:2181";

async function build(
    name: string,
    args: ServiceRegistryArgs,
    dockerRead?: DockerReadProxy,
): Promise<RecordedResource[]> {
    const before = recorder.resources.length;
    const r = new ServiceRegistry(name, args, {
        provider,
        transformations: [recorder.transformation],
        dockerRead,
    });
    recorder.nameComponent(r, name);
    await resolve(r.registrar.serviceName);
    await settle();
    return recorder.resources.slice(before).filter((x) => x.name !== "cluster-provider");
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const inputsOf = (name: string) => recorder.byName(name).inputs as Record<string, any>;

describe("ServiceRegistry", () => {
    test("runs the registrar on two managers, reading the swarm through its own read-only proxy, with open ACLs without auth", async () => {
        const rs = await build("registry", { connectString: CONNECT });
        expect(rs.map((r) => `${r.type} ${r.name}`)).toEqual([
            "swarm-ha:index:ServiceRegistry registry",
            "swarm-ha:index:DockerReadProxy registry-docker-read",
            "swarm-ha:index:SwarmService registry-docker-read-proxy",
            "docker:index/service:Service registry-docker-read-proxy-service",
            "swarm-ha:index:SwarmService registry-registrar",
            "docker:index/service:Service registry-registrar-service",
        ]);
        expect(recorder.byName("registry-registrar").parent).toBe("registry");
        expect(recorder.byName("registry-docker-read").parent).toBe("registry");
        expect(recorder.byName("registry-registrar").dependsOn).toEqual(["registry-docker-read"]);
        // The proxy: the only one with the engine's socket, on every manager, no port.
        const proxy = inputsOf("registry-docker-read-proxy-service");
        expect(proxy.name).toBe("registry-docker-read-proxy");
        expect(proxy.mode).toEqual({ global: true });
        expect(proxy.taskSpec.containerSpec).toEqual({
            image: "swarm-ha-docker-read:2",
            env: {
                LISTEN: "/run/docker-read/docker.sock",
                UPSTREAM: "/var/run/docker.sock",
            },
            mounts: [
                {
                    type: "bind",
                    source: "/var/run/docker.sock",
                    target: "/var/run/docker.sock",
                    readOnly: false,
                },
                {
                    type: "volume",
                    source: "registry-docker-read-socket",
                    target: "/run/docker-read",
                    readOnly: false,
                },
            ],
        });
        expect(proxy.taskSpec.placement).toEqual({ constraints: ["node.role==manager"] });
        expect(proxy.endpointSpec.ports).toEqual([]);
        expect(proxy.taskSpec.networksAdvanceds).toBeUndefined();
        expect(recorder.providerOf("registry-registrar-service")).toContain("cluster-provider");
        const s = inputsOf("registry-registrar-service");
        expect(s.name).toBe("registry-registrar");
        expect(s.mode).toEqual({ replicated: { replicas: 2 } });
        expect(s.taskSpec.containerSpec).toEqual({
            image: "swarm-ha-registrar:3",
            env: {
                ZOOKEEPER_CONNECT: CONNECT,
                REGISTRY_ROOT: "/services",
                ELECTION_PATH: "/swarm-ha/registrar/leader",
                POLL_INTERVAL: "250ms",
                SESSION_TIMEOUT: "6s",
                TASK_NAME: "{{.Task.Name}}",
                DOCKER_SOCKET: "/run/docker-read/docker.sock",
            },
            // The proxy's socket, never the engine's.
            mounts: [
                {
                    type: "volume",
                    source: "registry-docker-read-socket",
                    target: "/run/docker-read",
                    readOnly: true,
                },
            ],
        });
        expect(s.taskSpec.placement).toEqual({
            constraints: ["node.role==manager"],
            maxReplicas: 1,
        });
        expect(s.updateConfig.order).toBe("stop-first");
        expect(s.rollbackConfig.order).toBe("stop-first");
        expect(REGISTRAR_IMAGE).toBe("swarm-ha-registrar:3");
    });

    test("with the ensemble's TLS, the registrar gets its CA", async () => {
        const ca = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
        await build("reg-tls", { connectString: "10.0.0.11:2281", tlsCa: ca });
        const env = inputsOf("reg-tls-registrar-service").taskSpec.containerSpec.env;
        expect(env.ZOOKEEPER_CONNECT).toBe("10.0.0.11:2281");
        expect(env.ZOOKEEPER_TLS_CA).toBe(ca);
    });

    test("with its own password: a Docker secret the registrar reads as the user registrar, never super, never in the env", async () => {
        await build("reg-auth", {
            connectString: CONNECT,
            password: pulumi.secret("s3cret-registrar"),
            image: "registry.example:5000/swarm-ha-registrar:3",
            root: "/apps",
            replicas: 3,
            pollInterval: "100ms",
            sessionTimeout: "4s",
        });
        const secret = recorder.byName("reg-auth-registrar-secret-zk-registrar-password");
        expect(secret.type).toBe("docker:index/secret:Secret");
        expect(secret.secretPaths).toEqual(["data"]);
        expect(Buffer.from(secret.inputs.data as string, "base64").toString()).toBe(
            "s3cret-registrar",
        );
        expect(recorder.resources.map((r) => r.name)).not.toContain(
            "reg-auth-registrar-secret-zk-super-password",
        );
        const s = inputsOf("reg-auth-registrar-service");
        expect(s.mode).toEqual({ replicated: { replicas: 3 } });
        expect(s.taskSpec.containerSpec.image).toBe("registry.example:5000/swarm-ha-registrar:3");
        expect(s.taskSpec.containerSpec.env).toEqual({
            ZOOKEEPER_CONNECT: CONNECT,
            REGISTRY_ROOT: "/apps",
            ELECTION_PATH: "/swarm-ha/registrar/leader",
            POLL_INTERVAL: "100ms",
            SESSION_TIMEOUT: "4s",
            TASK_NAME: "{{.Task.Name}}",
            DOCKER_SOCKET: "/run/docker-read/docker.sock",
            ZK_USER: "registrar",
            ZK_PASSWORD_FILE: "/run/secrets/zk-registrar-password",
        });
        expect(s.taskSpec.containerSpec.secrets).toEqual([
            expect.objectContaining({ fileName: "zk-registrar-password", fileMode: 0o400 }),
        ]);
        expect(JSON.stringify(s.taskSpec.containerSpec.env)).not.toContain("s3cret-registrar");
    });

    test("the registrar owns the registry's root and the platform's /swarm-ha, which holds its election", () => {
        expect(REGISTRAR_USER).toBe("registrar");
        expect(registrarPaths()).toEqual(["/services", "/swarm-ha"]);
        expect(registrarPaths("/apps/registry")).toEqual(["/apps/registry", "/swarm-ha"]);
        expect(REGISTRAR_ELECTION.startsWith(`${registrarPaths()[1]}/`)).toBe(true);
    });

    test("its own proxy runs the image given; a proxy given is used as it is, none of its own", async () => {
        await build("reg-img", {
            connectString: CONNECT,
            dockerReadImage: "registry.example:5000/swarm-ha-docker-read:2",
        });
        expect(inputsOf("reg-img-docker-read-proxy-service").taskSpec.containerSpec.image).toBe(
            "registry.example:5000/swarm-ha-docker-read:2",
        );

        const shared = new DockerReadProxy(
            "shared-read",
            {},
            { provider, transformations: [recorder.transformation] },
        );
        const rs = await build("reg-shared", { connectString: CONNECT }, shared);
        expect(rs.map((r) => r.name).filter((n) => n.includes("docker-read"))).toEqual([]);
        expect(recorder.byName("reg-shared-registrar").dependsOn).toEqual(["shared-read"]);
        expect(inputsOf("reg-shared-registrar-service").taskSpec.containerSpec.mounts).toEqual([
            {
                type: "volume",
                source: "shared-read-socket",
                target: "/run/docker-read",
                readOnly: true,
            },
        ]);
    });

    test("every problem in its arguments at once, before any resource", () => {
        const before = recorder.resources.length;
        expect(() =>
            validateServiceRegistryArgs("reg", {
                connectString: CONNECT,
                root: "services/",
                replicas: 0,
                pollInterval: "fast",
                sessionTimeout: "6",
                image: " ",
            }),
        ).toThrow(
            [
                'ServiceRegistry "reg": replicas is 0; use a whole number of at least 1.',
                'ServiceRegistry "reg": root is "services/"; use an absolute ZooKeeper path below "/", such as "/services".',
                'ServiceRegistry "reg": pollInterval is "fast"; use a Go duration such as "250ms" or "6s".',
                'ServiceRegistry "reg": sessionTimeout is "6"; use a Go duration such as "250ms" or "6s".',
                'ServiceRegistry "reg": image is empty; leave it unset for "swarm-ha-registrar:3" or name an image.',
            ].join("\n"),
        );
        expect(() =>
            validateServiceRegistryArgs("reg", { connectString: CONNECT, dockerReadImage: "" }),
        ).toThrow(
            'ServiceRegistry "reg": dockerReadImage is empty; leave it unset for "swarm-ha-docker-read:2" or name an image.',
        );
        expect(() =>
            validateServiceRegistryArgs(
                "reg",
                { connectString: CONNECT, dockerReadImage: "x:1" },
                { dockerRead: {} as DockerReadProxy },
            ),
        ).toThrow(
            'ServiceRegistry "reg": dockerReadImage is set with dockerRead; the proxy given runs its own image, so drop one of them.',
        );
        expect(() =>
            validateServiceRegistryArgs("reg", { connectString: CONNECT, root: "/swarm-ha" }),
        ).toThrow(
            'ServiceRegistry "reg": root is "/swarm-ha", which holds the registrar\'s election; use another path.',
        );
        expect(recorder.resources.length).toBe(before);
    });
});

describe("SwarmService register", () => {
    test("labels the service for the registrar, with the port when given", () => {
        const base = { image: "swarm-ha-web:3", labels: { team: "web" } };
        expect(serviceLabels(base)).toEqual([{ label: "team", value: "web" }]);
        expect(serviceLabels({ ...base, register: true })).toEqual([
            { label: "swarm-ha.register", value: "true" },
            { label: "team", value: "web" },
        ]);
        expect(serviceLabels({ ...base, register: true, registerPort: 9000 })).toEqual([
            { label: "swarm-ha.register", value: "true" },
            { label: "swarm-ha.register.port", value: "9000" },
            { label: "team", value: "web" },
        ]);
    });

    test("the labels reach docker.Service", async () => {
        const s = new SwarmService(
            "api",
            { image: "swarm-ha-web:3", register: true, registerPort: 8080 },
            { provider, transformations: [recorder.transformation] },
        );
        await resolve(s.serviceName);
        await settle();
        expect(inputsOf("api-service").labels).toEqual([
            { label: "swarm-ha.register", value: "true" },
            { label: "swarm-ha.register.port", value: "8080" },
        ]);
    });

    test("a register port that is not a port, or without register, is refused", () => {
        expect(() =>
            validateSwarmServiceArgs("api", { image: "x", register: true, registerPort: 70000 }),
        ).toThrow('SwarmService "api": registerPort 70000 is not a port; use 1 to 65535.');
        expect(() => validateSwarmServiceArgs("api", { image: "x", registerPort: 8080 })).toThrow(
            'SwarmService "api": registerPort is 8080 but register is not true; set register: true to register the service.',
        );
    });
});

describe("discovery", () => {
    const data = JSON.stringify({
        name: "web",
        id: "t1",
        address: "172.30.213.21",
        port: 80,
        sslPort: null,
        payload: { "@class": "java.util.LinkedHashMap", node: "lab-w1", image: "swarm-ha-web:3" },
        registrationTimeUTC: 1764000000000,
        serviceType: "DYNAMIC",
        uriSpec: null,
        enabled: true,
    });

    test("reads Curator's ServiceInstance JSON", () => {
        const i = parseServiceInstance(data, "/services/web/t1");
        expect(i.payload.node).toBe("lab-w1");
        expect(instanceEndpoint(i)).toBe("172.30.213.21:80");
        expect(instanceEndpoint({ ...i, port: null })).toBe("172.30.213.21");
    });

    test("says which znode is not an instance, and why", () => {
        expect(() => parseServiceInstance("{", "/services/web/x")).toThrow(
            "/services/web/x: not a service instance: its data is not JSON",
        );
        expect(() => parseServiceInstance("[1]", "/services/web/x")).toThrow(
            "/services/web/x: not a service instance: its data is not a JSON object",
        );
        expect(() =>
            parseServiceInstance(JSON.stringify({ name: "web", id: "" }), "/services/web/x"),
        ).toThrow("/services/web/x: not a service instance: no id, address, serviceType");
    });
});

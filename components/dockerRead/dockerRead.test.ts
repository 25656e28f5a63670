// Unit tests of DockerReadProxy: its one Swarm service (global on the managers, the engine's
// socket and the socket volume, no port, no network), the mount it hands consumers, its
// validation, and that the paths it documents are the ones the Go proxy answers.
import { Recorder, RecordedResource, resolve, settle } from "../../test/unit/recorder";

const recorder = new Recorder();
recorder.install();

import * as docker from "@pulumi/docker";
import * as fs from "fs";
import * as path from "path";
import {
    DOCKER_READ_HOST,
    DOCKER_READ_PATHS,
    DockerReadProxy,
    DockerReadProxyArgs,
    validateDockerReadProxyArgs,
} from "../internal";

const provider = new docker.Provider("cluster-provider", { host: "ssh://root@10.0.0.1:22" });

async function build(name: string, args: DockerReadProxyArgs): Promise<DockerReadProxy> {
    const p = new DockerReadProxy(name, args, {
        provider,
        transformations: [recorder.transformation],
    });
    recorder.nameComponent(p, name);
    await resolve(p.service.serviceName);
    await settle();
    return p;
}

const named = (prefix: string): RecordedResource[] =>
    recorder.resources.filter((r) => r.name.startsWith(prefix));

describe("DockerReadProxy", () => {
    test("one global service on the managers with the engine's socket and the socket volume, nothing published", async () => {
        const p = await build("docker-read", {});
        expect(named("docker-read").map((r) => `${r.type} ${r.name}`)).toEqual([
            "swarm-ha:index:DockerReadProxy docker-read",
            "swarm-ha:index:SwarmService docker-read-proxy",
            "docker:index/service:Service docker-read-proxy-service",
        ]);
        expect(recorder.byName("docker-read-proxy").parent).toBe("docker-read");
        expect(recorder.providerOf("docker-read-proxy-service")).toContain("cluster-provider");
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const s = recorder.byName("docker-read-proxy-service").inputs as Record<string, any>;
        expect(s.name).toBe("docker-read-proxy");
        expect(s.mode).toEqual({ global: true });
        expect(s.taskSpec.containerSpec).toEqual({
            image: "swarm-ha-docker-read:2",
            env: { LISTEN: "/run/docker-read/docker.sock", UPSTREAM: "/var/run/docker.sock" },
            mounts: [
                {
                    type: "bind",
                    source: "/var/run/docker.sock",
                    target: "/var/run/docker.sock",
                    readOnly: false,
                },
                {
                    type: "volume",
                    source: "docker-read-socket",
                    target: "/run/docker-read",
                    readOnly: false,
                },
            ],
        });
        expect(s.taskSpec.placement).toEqual({ constraints: ["node.role==manager"] });
        expect(s.endpointSpec.ports).toEqual([]);
        expect(s.taskSpec.networksAdvanceds).toBeUndefined();
        // What consumers mount and dial.
        expect(p.volume).toBe("docker-read-socket");
        expect(p.mount).toEqual({
            type: "volume",
            source: "docker-read-socket",
            target: "/run/docker-read",
            readOnly: true,
        });
        expect(p.socket).toBe("/run/docker-read/docker.sock");
        expect(p.host).toBe("unix:///run/docker-read/docker.sock");
        expect(DOCKER_READ_HOST).toBe(p.host);
    });

    test("an image given is run; an empty or malformed one is refused before any child", async () => {
        await build("dr2", { image: "registry.example:5000/swarm-ha-docker-read:2" });
        expect(
            // eslint-disable-next-line @typescript-eslint/no-explicit-any
            (recorder.byName("dr2-proxy-service").inputs as any).taskSpec.containerSpec.image,
        ).toBe("registry.example:5000/swarm-ha-docker-read:2");
        expect(() => validateDockerReadProxyArgs("dr", { image: " " })).toThrow(
            'DockerReadProxy "dr": image is empty; leave it unset for "swarm-ha-docker-read:2" or name an image.',
        );
        const before = recorder.resources.length;
        expect(() => new DockerReadProxy("bad", { image: "Bad Image" }, { provider })).toThrow(
            'DockerReadProxy "bad": image is "Bad Image"',
        );
        await settle();
        expect(recorder.resources.slice(before).filter((r) => r.name.startsWith("bad-"))).toEqual(
            [],
        );
    });

    test("the paths documented here are the ones the Go proxy answers", () => {
        const go = fs.readFileSync(
            path.join(__dirname, "../../images/cmd/docker-read/proxy.go"),
            "utf8",
        );
        const list = /var Allowed = \[\]string\{([^}]*)\}/.exec(go)?.[1] ?? "";
        expect(JSON.parse(`[${list}]`)).toEqual(DOCKER_READ_PATHS);
        expect(DOCKER_READ_PATHS).toEqual(["/_ping", "/nodes", "/services", "/tasks", "/networks"]);
    });
});

// The lab (npm run lab): every host answers SSH with the lab key and its recorded host key, runs
// systemd, installs packages with apt; `down` leaves nothing of the lab behind; `up` brings it back.
import { execFileSync } from "child_process";
import { labInfo } from "../../scripts/automation";
import { lab, onHost } from "./helpers";

jest.setTimeout(15 * 60 * 1000);

const docker = (...args: string[]): string =>
    execFileSync("docker", args, { encoding: "utf8" }).trim();

const labLeftovers = (): string[] =>
    [
        ...docker("ps", "-aq", "--filter", "label=swarm-ha.lab=1").split("\n"),
        ...docker("network", "ls", "-q", "--filter", "label=swarm-ha.lab=1").split("\n"),
        ...docker("volume", "ls", "-q")
            .split("\n")
            .filter((v) => /^swarm-ha-lab-/.test(v)),
    ].filter((x) => x !== "");

beforeAll(() => {
    // Start from the default lab whatever an earlier test file left (other sizes, a swarm).
    lab("down");
    lab("up");
});

test("up twice keeps the same hosts", () => {
    const before = docker("ps", "-q", "--filter", "label=swarm-ha.lab=1").split("\n").sort();
    lab("up");
    const after = docker("ps", "-q", "--filter", "label=swarm-ha.lab=1").split("\n").sort();
    expect(after).toEqual(before);
    expect(after.length).toBe(5);
});

test("SSH with the lab key reaches every host, and systemd reports running", () => {
    const hosts = labInfo().hosts;
    expect(hosts.map((h) => h.name)).toEqual(["lab-m1", "lab-m2", "lab-m3", "lab-w1", "lab-w2"]);
    for (const host of hosts) {
        expect(onHost(host.name, "hostname")).toBe(host.name);
        expect(onHost(host.name, "systemctl is-system-running || true")).toBe("running");
        expect(onHost(host.name, "systemctl is-active ssh")).toBe("active");
    }
});

test("each host's key is the one recorded, and hosts have keys of their own", () => {
    const hosts = labInfo().hosts;
    for (const host of hosts) {
        const served = onHost(host.name, "cat /etc/ssh/ssh_host_ed25519_key.pub").split(" ");
        expect(`${served[0]} ${served[1]}`).toBe(host.hostKey);
    }
    expect(new Set(hosts.map((h) => h.hostKey)).size).toBe(hosts.length);
});

test("apt-get install works inside a host", () => {
    const out = onHost(
        "lab-w2",
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tree >/dev/null && tree --version",
    );
    expect(out).toMatch(/^tree v/);
});

test("fault helpers: kill and start a host; isolate it from the lab network and restore it", () => {
    lab("kill", "lab-w1");
    expect(docker("inspect", "-f", "{{.State.Running}}", "swarm-ha-lab-w1")).toBe("false");
    lab("start", "lab-w1");
    expect(onHost("lab-w1", "systemctl is-system-running --wait || true")).toBe("running");
    lab("isolate", "lab-w1");
    expect(() => onHost("lab-w1", "true")).toThrow();
    lab("restore", "lab-w1");
    expect(onHost("lab-w1", "hostname -I").split(" ")[0]).toBe("172.30.213.21");
});

test("the project's images are staged on every host and load as soon as Docker starts there", () => {
    const images = [
        "swarm-ha-web:3",
        "swarm-ha-registrar:3",
        "swarm-ha-exporter:2",
        "swarm-ha-docker-read:2",
        "swarm-ha-prometheus:2.42",
        "swarm-ha-alertmanager:0.25",
        "swarm-ha-node-exporter:1.5",
    ];
    expect(lab("images").trim().split("\n")).toEqual(images);
    expect(onHost("lab-w2", "ls /var/lib/lab-images").split("\n")).toEqual(
        expect.arrayContaining(images.map((i) => `${i.replace(":", "_")}.tar`)),
    );
    // Docker installed as the product does it: the staged image loads without a lab command.
    onHost(
        "lab-w2",
        "command -v docker >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null)",
    );
    expect(
        onHost(
            "lab-w2",
            "for i in $(seq 1 30); do docker image inspect -f '{{.Config.Cmd}}' swarm-ha-web:3 2>/dev/null && exit 0; sleep 1; done; echo 'not loaded after 30 s'",
        ),
    ).toContain("busybox httpd");
    const page = onHost(
        "lab-w2",
        'docker run -d --name web-check swarm-ha-web:3 >/dev/null; ip=$(docker inspect -f \'{{.NetworkSettings.IPAddress}}\' web-check); for i in 1 2 3 4 5 6 7 8 9 10; do curl -fs "http://$ip/" && break; sleep 1; done; curl -fs "http://$ip/metrics"; docker rm -f web-check >/dev/null',
    );
    // Its page, and the one metric Prometheus scrapes.
    expect(page).toMatch(/^swarm-ha web on .*\nswarm_ha_web_up 1$/);
    // load-image: an image given later reaches a running engine at once.
    expect(lab("load-image", "swarm-ha-web:3", "lab-w2").trim()).toBe(
        "loaded swarm-ha-web:3 on lab-w2",
    );
});

test("down leaves nothing of the lab behind, again when there is nothing left, and up brings it back", () => {
    lab("down");
    expect(labLeftovers()).toEqual([]);
    expect(lab("down").trim()).toBe("lab down");
    const started = Date.now();
    lab("up");
    const seconds = (Date.now() - started) / 1000;
    console.log(`lab up with a cached image: 5 SSH-ready hosts in ${seconds.toFixed(1)} s`);
    expect(labInfo().hosts.length).toBe(5);
    expect(onHost("lab-m1", "hostname")).toBe("lab-m1");
});

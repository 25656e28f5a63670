// End to end: the package as a team gets it. A fresh clone of this repository's HEAD is packed with
// `npm pack` (its prepack builds bin/), the tarball is installed into an empty consumer project
// with the consumer's own @pulumi/pulumi, and a program importing the components by package name
// is type-checked and loaded there. No lab host is used.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO } from "../../scripts/automation";
import { scriptNames, scriptsVersion } from "../../components/host/remoteScript";

jest.setTimeout(15 * 60 * 1000);

const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version: string }>;
};
const versionOf = (name: string): string => lock.packages[`node_modules/${name}`].version;

const NPM_QUIET = ["--no-audit", "--no-fund", "--prefer-offline"];

function run(command: string, args: string[], cwd: string): string {
    return execFileSync(command, args, {
        cwd,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
    });
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "swarm-ha-package-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test("npm pack of a fresh clone installs into an empty project and builds there", () => {
    // A fresh clone has no bin/: prepack builds it. Its dependencies are this checkout's (the
    // clone's node_modules links to them), which nothing packed includes.
    const clone = path.join(work, "clone");
    run("git", ["clone", "--quiet", "--no-local", REPO, clone], work);
    expect(fs.existsSync(path.join(clone, "bin"))).toBe(false);
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(clone, "node_modules"));
    const packed = JSON.parse(
        run("npm", ["pack", "--json", "--pack-destination", work], clone),
    ) as {
        filename: string;
        files: { path: string }[];
    }[];
    const files = packed[0].files.map((f) => f.path);
    expect(files).toEqual(
        expect.arrayContaining([
            "LICENSE",
            "package.json",
            "bin/components/index.js",
            "bin/components/index.d.ts",
            "bin/components/swarm/swarmCluster.js",
            "components/host/scripts/lib.sh",
            "components/swarm/scripts/join.sh",
            "components/zookeeper/scripts/zk-config.sh",
            "components/monitoring/dashboards/swarm.json",
        ]),
    );
    // The library alone: not the stack's program, the tests (the components' beside them
    // included) or the Go images' sources.
    expect(files.filter((f) => /\.test\./.test(f))).toEqual([]);
    expect(
        files
            .filter(
                (f) =>
                    !/^(bin\/components\/|components\/([a-z]+\/scripts|monitoring\/dashboards)\/)/.test(
                        f,
                    ),
            )
            .sort(),
    ).toEqual(["LICENSE", "README.md", "package.json"]);
    expect(fs.readFileSync(path.join(clone, "LICENSE"), "utf8")).toContain(
        "Apache License\n                           Version 2.0",
    );

    // An empty project: the tarball, the consumer's own @pulumi/pulumi (any 3.x from 3.270: one
    // copy in the tree, as the package asks for a caret range), and TypeScript.
    const consumer = path.join(work, "consumer");
    fs.mkdirSync(consumer);
    fs.writeFileSync(
        path.join(consumer, "package.json"),
        JSON.stringify({ name: "consumer", version: "1.0.0", private: true }),
    );
    run(
        "npm",
        [
            "install",
            ...NPM_QUIET,
            path.join(work, packed[0].filename),
            "@pulumi/pulumi@^3.270.0",
            `typescript@${versionOf("typescript")}`,
            `@types/node@${versionOf("@types/node")}`,
        ],
        consumer,
    );
    const sdks = run("npm", ["ls", "--all", "--parseable", "@pulumi/pulumi"], consumer)
        .trim()
        .split("\n")
        .filter((p) => p.endsWith(path.join("node_modules", "@pulumi", "pulumi")));
    expect(sdks).toEqual([path.join(consumer, "node_modules", "@pulumi", "pulumi")]);

    fs.writeFileSync(
        path.join(consumer, "tsconfig.json"),
        JSON.stringify({
            compilerOptions: {
                strict: true,
                target: "es2022",
                module: "node16",
                outDir: "bin",
                skipLibCheck: false,
            },
            files: ["index.ts"],
        }),
    );
    fs.writeFileSync(
        path.join(consumer, "index.ts"),
        [
            'import * as pulumi from "@pulumi/pulumi";',
            'import { SwarmCluster, SwarmClusterArgs, SwarmService, ZooKeeperEnsemble, ProbeHost, discoverInstances } from "swarm-ha";',
            "export function platform(key: pulumi.Input<string>, hostKey: string) {",
            '    const probes = new ProbeHost("probes");',
            "    const args: SwarmClusterArgs = {",
            '        nodes: [{ name: "m1", host: "10.0.0.1", role: "manager" }],',
            "        ssh: { privateKey: key, hostKey },",
            "    };",
            '    const cluster = new SwarmCluster("apps", args, { providers: [probes] });',
            '    const zk = new ZooKeeperEnsemble("zk", { servers: [{ id: 1, host: "10.0.0.1" }], ssh: { privateKey: key, hostKey } }, { providers: [probes] });',
            '    const web = new SwarmService("web", { image: "nginx:1.27", replicas: 2 }, { provider: cluster.provider });',
            "    return { leader: cluster.leaderAddress, zk: zk.connectString, web: web.endpoints, discover: discoverInstances };",
            "}",
            "",
        ].join("\n"),
    );
    run(path.join(consumer, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], consumer);
    // Loaded by Node from the installed package: the public names, nothing internal.
    const names = run(
        process.execPath,
        ["-e", 'console.log(Object.keys(require("swarm-ha")).sort().join(" "))'],
        consumer,
    ).trim();
    expect(names.split(" ")).toEqual(
        expect.arrayContaining(["SwarmCluster", "ZooKeeperEnsemble", "SwarmService", "ProbeHost"]),
    );
    expect(names).not.toMatch(/\b(sshRun|renderZooCfg|NODE_COMMAND)\b/);
    // What the components read at run time is there: the host scripts and Grafana's dashboards.
    const installed = path.join(consumer, "node_modules", "swarm-ha", "bin", "components");
    const found = run(
        process.execPath,
        [
            "-e",
            [
                `const m = require(${JSON.stringify(path.join(installed, "monitoring", "swarmMonitoring.js"))});`,
                `const s = require(${JSON.stringify(path.join(installed, "host", "remoteScript.js"))});`,
                'console.log(JSON.parse(m.dashboardJson("swarm")).uid, s.scriptNames().join(","), s.scriptsVersion());',
            ].join("\n"),
        ],
        consumer,
    ).trim();
    // Every component's scripts, the same bundle (so the same version) as this checkout places.
    expect(found).toBe(`swarm-ha-swarm ${scriptNames().join(",")} ${scriptsVersion()}`);
    expect(fs.existsSync(path.join(consumer, "bin", "index.js"))).toBe(true);
});

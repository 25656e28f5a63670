// `npm run discover -- [SERVICE...] [--connect HOST:PORT,...] [--tls-ca FILE] [--root PATH]
// [--stack NAME] [--json]`: lists services' instances from the service registry in ZooKeeper, a line
// each (every registered service when none is named). Without --connect, the registry of a stack of
// this project (dev by default) is read from its outputs with the CLI of scripts/env.sh, with the
// ensemble's CA when it speaks TLS; with --connect, --tls-ca names the CA's certificate file.
import { execFileSync } from "child_process";
import * as fs from "fs";
import {
    discoverAll,
    discoverInstances,
    instanceEndpoint,
    ServiceInstance,
} from "../components/internal";
import { labStackEnv, loadEnv, REPO } from "./automation";

interface Args {
    services: string[];
    connect?: string;
    tlsCa?: string;
    root?: string;
    stack: string;
    json: boolean;
}

function parseArgs(argv: string[]): Args {
    const args: Args = { services: [], stack: "dev", json: false };
    for (let i = 0; i < argv.length; i++) {
        const value = (): string => {
            const v = argv[++i];
            if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
            return v;
        };
        if (argv[i] === "--connect") args.connect = value();
        else if (argv[i] === "--tls-ca") args.tlsCa = value();
        else if (argv[i] === "--root") args.root = value();
        else if (argv[i] === "--stack") args.stack = value();
        else if (argv[i] === "--json") args.json = true;
        else if (argv[i].startsWith("-")) throw new Error(`unknown option ${argv[i]}`);
        else args.services.push(argv[i]);
    }
    return args;
}

interface Target {
    connectString: string;
    root?: string;
    tlsCa?: string;
}

/** The registry's connect string, root and CA (with TLS) from a stack's outputs. */
function fromStack(stack: string): Target {
    const env = labStackEnv({ ...process.env, ...loadEnv() });
    const out = execFileSync(
        "pulumi",
        ["stack", "output", "registry", "--json", "--stack", stack],
        {
            cwd: REPO,
            env,
            encoding: "utf8",
        },
    );
    const registry = JSON.parse(out) as Partial<Target> | string;
    if (typeof registry !== "object" || !registry.connectString || !registry.root) {
        throw new Error(
            `stack ${stack} has no registry (its output says: ${JSON.stringify(registry)})`,
        );
    }
    return { connectString: registry.connectString, root: registry.root, tlsCa: registry.tlsCa };
}

function line(i: ServiceInstance): string {
    return [
        i.name.padEnd(12),
        i.id.padEnd(26),
        instanceEndpoint(i).padEnd(22),
        `node ${i.payload.node}`.padEnd(14),
        `image ${i.payload.image}`,
    ].join(" ");
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    const target: Target = args.connect
        ? {
              connectString: args.connect,
              root: args.root,
              tlsCa: args.tlsCa && fs.readFileSync(args.tlsCa, "utf8"),
          }
        : { ...fromStack(args.stack), ...(args.root ? { root: args.root } : {}) };
    const options = { root: target.root, tlsCa: target.tlsCa, timeoutMs: 10000 };
    const found: Record<string, ServiceInstance[]> =
        args.services.length > 0
            ? Object.fromEntries(
                  await Promise.all(
                      args.services.map(
                          async (s) =>
                              [
                                  s,
                                  await discoverInstances(target.connectString, s, options),
                              ] as const,
                      ),
                  ),
              )
            : await discoverAll(target.connectString, options);
    if (args.json) {
        console.log(JSON.stringify(found, null, 2));
        return;
    }
    for (const [service, instances] of Object.entries(found)) {
        if (instances.length === 0) console.log(`${service.padEnd(12)} (no instances)`);
        for (const i of instances) console.log(line(i));
    }
}

main().catch((e: Error) => {
    console.error(`discover: ${e.message}`);
    process.exit(1);
});

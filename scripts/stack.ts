// `npm run stack -- ACTION [STACK] [--from STACK] [--config JSON]`: runs a stack of this project
// through the Automation API (scripts/automation.ts), printing the engine's progress as it goes.
// ACTION is up, preview, refresh, destroy or outputs; STACK defaults to dev. --from starts from
// another stack's committed settings; --config sets keys on top ({"swarm-ha:key": "value"}).
import { ConfigMap } from "@pulumi/pulumi/automation";
import { changes, openStack, plainOutputs } from "./automation";

interface Args {
    action: string;
    stack: string;
    from?: string;
    config: ConfigMap;
}

function parseArgs(argv: string[]): Args {
    const positional: string[] = [];
    const args: Args = { action: "up", stack: "dev", config: {} };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--from") {
            args.from = argv[++i];
        } else if (argv[i] === "--config") {
            const raw = JSON.parse(argv[++i]) as Record<string, unknown>;
            for (const [key, value] of Object.entries(raw)) {
                args.config[key] = {
                    value: typeof value === "string" ? value : JSON.stringify(value),
                };
            }
        } else {
            positional.push(argv[i]);
        }
    }
    args.action = positional[0] ?? args.action;
    args.stack = positional[1] ?? args.stack;
    return args;
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    const stack = await openStack({
        stack: args.stack,
        settingsFrom: args.from,
        config: args.config,
    });
    const print = (s: string): void => {
        process.stdout.write(s);
    };
    switch (args.action) {
        case "up": {
            const r = await stack.up({ onOutput: print, color: "never" });
            console.log(`changes: ${JSON.stringify(changes(r.summary.resourceChanges))}`);
            break;
        }
        case "preview": {
            const r = await stack.preview({ onOutput: print, color: "never" });
            console.log(`changes: ${JSON.stringify(changes(r.changeSummary))}`);
            break;
        }
        case "refresh":
            await stack.refresh({ onOutput: print, color: "never" });
            break;
        case "destroy":
            await stack.destroy({ onOutput: print, color: "never" });
            break;
        case "outputs":
            console.log(JSON.stringify(plainOutputs(await stack.outputs()), null, 2));
            break;
        default:
            throw new Error(
                `unknown action "${args.action}"; use up, preview, refresh, destroy or outputs`,
            );
    }
}

main().catch((e: Error) => {
    console.error(`stack: ${e.message}`);
    process.exit(1);
});

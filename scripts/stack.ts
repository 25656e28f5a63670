// `npm run stack -- up|preview|refresh|destroy|outputs [STACK]`: runs a stack of this project through
// the Automation API (see scripts/automation.ts), printing the engine's progress as it goes.
import { changes, openStack, plainOutputs } from "./automation";

async function main(): Promise<void> {
    const [action = "up", stackName = "dev"] = process.argv.slice(2);
    const stack = await openStack({ stack: stackName });
    const print = (s: string): void => {
        process.stdout.write(s);
    };
    switch (action) {
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
            throw new Error(`unknown action "${action}"; use up, preview, refresh, destroy or outputs`);
    }
}

main().catch((e: Error) => {
    console.error(`stack: ${e.message}`);
    process.exit(1);
});

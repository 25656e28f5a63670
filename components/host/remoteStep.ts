// The resources every component that works on hosts uses: a remote step (a command:remote:Command
// with the settings this project wants on each), and the step that places a component's scripts on a
// host before any other step there sources them.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as types from "@pulumi/command/types/input";
import { placeScriptsCommands, scriptBundle } from "./remoteScript";

/**
 * A command:remote:Command that does not pass the previous run's output in the environment: sshd
 * accepts no such variables by default, and the plugin warns about it on every update.
 */
export function remoteStep(
    name: string,
    args: command.remote.CommandArgs,
    opts: pulumi.CustomResourceOptions,
): command.remote.Command {
    return new command.remote.Command(name, { ...args, addPreviousOutputInEnv: false }, opts);
}

/**
 * Places the scripts in `dir` on a host (the bundle on stdin); every other step on that host depends
 * on it. A new version of the scripts replaces it: the new directory is written first, the old one
 * removed at the end of the run, after the steps that may still source it. `repairs` (a count that
 * grows when the host was found drifted, e.g. replaced by a fresh one) places them again; `after`
 * is what it waits for (another component's steps on the same hosts).
 */
export function placeScripts(
    name: string,
    connection: types.remote.ConnectionArgs,
    dir: string,
    parent: pulumi.Resource,
    options: { repairs?: pulumi.Output<number>; after?: pulumi.Resource[] } = {},
): command.remote.Command {
    const { repairs, after } = options;
    const commands = placeScriptsCommands(dir);
    const create = repairs
        ? repairs.apply((n) => (n > 0 ? `REPAIR=${n}\n${commands.create}` : commands.create))
        : commands.create;
    return remoteStep(
        name,
        { connection, ...commands, create, stdin: scriptBundle(), triggers: [dir] },
        after && after.length > 0 ? { parent, dependsOn: after } : { parent },
    );
}

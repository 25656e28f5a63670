// The rules that keep values data where they are used (STYLE.md rule 15), checked on every host
// script and on the ssh calls: no script evaluates a parameter again, lists are split with
// globbing off, and every ssh destination follows `--`.
import * as fs from "fs";
import * as path from "path";
import { scriptNames, scriptText } from "./remoteScript";

const root = path.join(__dirname, "..", "..");

/** A script's lines that are code (comments dropped), numbered from 1. */
function code(name: string): [number, string][] {
    return scriptText(name)
        .split("\n")
        .map((line, i): [number, string] => [i + 1, line])
        .filter(([, line]) => !/^\s*#/.test(line));
}

/** Every parameter a step declares (`: "${NAME:?}" "${OTHER=}"`). */
function parameters(name: string): string[] {
    const declared = scriptText(name).match(/^: (.*)$/m)?.[1] ?? "";
    return [...declared.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]);
}

const scripts = scriptNames();
const every = (rule: (name: string) => string[]) =>
    expect(scripts.flatMap((name) => rule(name).map((line) => `${name}.sh:${line}`))).toEqual([]);

test("no script evaluates text again: no eval, no inner script in double quotes", () => {
    every((name) =>
        code(name)
            .filter(([, l]) => /\beval\b|\b(ba)?sh -c "/.test(l))
            .map(([n, l]) => `${n}: ${l.trim()}`),
    );
});

test("no sed edits text with a parameter in it, and no printf writes JSON", () => {
    every((name) => {
        // The step's parameters, and a function's arguments ($1...).
        const params = [...parameters(name), "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        return code(name)
            .filter(
                ([, l]) =>
                    params.some((p) => new RegExp(`\\bsed\\b[^;)]*\\$\\{?${p}\\b`).test(l)) ||
                    /printf '\{[^']*%/.test(l),
            )
            .map(([n, l]) => `${n}: ${l.trim()}`);
    });
});

test("a list parameter is split only with globbing off", () => {
    every((name) => {
        const lines = code(name);
        const globbingOff = (at: number) =>
            lines.some(([n, l]) => n < at && /^\s*(set -f|by_lines)\b/.test(l));
        return lines
            .filter(
                ([n, l]) => /\bfor \w+ in [^;]*\$/.test(l.replace(/"\$@"/g, "")) && !globbingOff(n),
            )
            .map(([n, l]) => `${n}: ${l.trim()}`);
    });
});

test("every unquoted expansion kept on purpose says why", () => {
    every((name) =>
        code(name)
            .filter(([, l]) => /shellcheck disable=SC2086/.test(l) && !/#.*#/.test(l))
            .map(([n, l]) => `${n}: ${l.trim()}`),
    );
});

test("every ssh and ssh-keyscan call puts -- before the destination", () => {
    const source = fs.readFileSync(path.join(root, "components", "host", "ssh.ts"), "utf8");
    // Each call's tool and the text of its argument list, up to the options that follow it.
    const calls = [...source.matchAll(/execFile\(\s*"(ssh|ssh-keyscan)",\s*(\[[\s\S]*?\]),\s*\{/g)];
    expect(calls.map((c) => c[1]).sort()).toEqual(["ssh", "ssh", "ssh-keyscan"]);
    for (const [, tool, args] of calls) {
        const direct = args.includes('"--"');
        const built = /sshArguments\(/.test(args) && /"--",\s*`\$\{check\.user\}@/.test(source);
        expect(`${tool}: ${direct || built}`).toBe(`${tool}: true`);
    }
});

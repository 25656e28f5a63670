// Where the program's own time goes, for `npm run bench -- preview`: with SWARM_HA_PHASES naming a
// file, each phase (loading the program, reading the settings, each check before any resource,
// constructing the components) is appended to it as one JSON line { name, start, end }, in
// milliseconds since the epoch. Without it nothing is recorded and nothing is written.
import * as fs from "fs";
import { performance } from "perf_hooks";

/** One phase as recorded: its name and when it started and ended (ms since the epoch). */
export interface Phase {
    name: string;
    start: number;
    end: number;
}

const now = (): number => performance.timeOrigin + performance.now();

function record(name: string, start: number): void {
    const file = process.env.SWARM_HA_PHASES;
    if (file) fs.appendFileSync(file, `${JSON.stringify({ name, start, end: now() })}\n`);
}

/** Records the time from this Node.js process's start to now: the language host loading the program. */
export function recordLoad(name: string): void {
    record(name, performance.timeOrigin);
}

/** Runs `work` as the phase `name`: its time recorded when it settles, resolved or not. */
export async function phase<T>(name: string, work: () => T | Promise<T>): Promise<T> {
    const start = now();
    try {
        return await work();
    } finally {
        record(name, start);
    }
}

/** Starts the phase `name`; the function returned ends it. */
export function begin(name: string): () => void {
    const start = now();
    return () => record(name, start);
}

/** Reads the phases a run recorded in `file`, in the order they ended. */
export function readPhases(file: string): Phase[] {
    if (!fs.existsSync(file)) return [];
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Phase);
}

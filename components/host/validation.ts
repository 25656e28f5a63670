// Helpers for validation messages: each names the component, the field, the value and the rule.
import * as net from "net";
import * as pulumi from "@pulumi/pulumi";

/**
 * Thrown for invalid component arguments, before any child resource is created. A RunError, so
 * that Pulumi prints the message alone, without a stack trace.
 */
export class ValidationError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "ValidationError";
        // Its stack is its message: a refusal that comes after the program returned (a component's
        // own checks of its hosts) is printed by Pulumi as its stack, where a RunError's should be
        // the message alone.
        this.stack = message;
    }
}

/** Starts a message with the component's type and name: `SwarmCluster "prod": ...`. */
export function prefix(component: string, name: string): string {
    return `${component} "${name}"`;
}

/** Throws one error listing every problem found, so a user fixes them in one go. */
export function throwIfAny(problems: string[]): void {
    if (problems.length === 1) {
        throw new ValidationError(problems[0]);
    }
    if (problems.length > 1) {
        throw new ValidationError(problems.join("\n"));
    }
}

/** The values that occur more than once, in first-seen order. */
export function duplicates(values: string[]): string[] {
    const seen = new Set<string>();
    const dups = new Set<string>();
    for (const v of values) {
        if (seen.has(v)) {
            dups.add(v);
        }
        seen.add(v);
    }
    return [...dups];
}

/** An IPv4 network written ADDRESS/BITS (10.1.0.0/16, 192.0.2.7/32). */
export function isIPv4Network(network: string): boolean {
    const [address, bits, extra] = network.split("/");
    return (
        net.isIPv4(address) && extra === undefined && /^([0-9]|[12][0-9]|3[0-2])$/.test(bits ?? "")
    );
}

/** True for a TCP/UDP port number: an integer from 1 to 65535. */
export function isPort(value: number): boolean {
    return Number.isInteger(value) && value >= 1 && value <= 65535;
}

/**
 * Problems with optional whole-number settings: each `[field, value, minimum]` whose value is set
 * but not a whole number of at least the minimum.
 */
export function wholeNumberProblems(
    p: string,
    settings: [field: string, value: number | undefined, min: number][],
): string[] {
    return settings
        .filter(
            ([, value, min]) => value !== undefined && (!Number.isInteger(value) || value < min),
        )
        .map(
            ([field, value, min]) =>
                `${p}: ${field} is ${value}; use a whole number of at least ${min}.`,
        );
}

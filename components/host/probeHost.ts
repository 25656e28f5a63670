// The Node.js provider process the components' probes (dynamic resources) run on: one for every
// probe of a program when the program gives the components one, else one per component.
import * as pulumi from "@pulumi/pulumi";

/**
 * The provider of a probe (this one, SwarmCluster's): the engine hands the default `pulumi-nodejs`
 * provider the whole stack configuration, so any config change would show that provider as
 * updated; a provider of its own has no inputs.
 */
export class ProbeHost extends pulumi.ProviderResource {
    constructor(name: string, opts?: pulumi.ResourceOptions) {
        super("pulumi-nodejs", name, {}, opts);
    }
}

/**
 * The provider a component's probes run on: the `pulumi-nodejs` provider the component was given
 * (`providers: [probeHost]`), so that one process serves every probe of a program, or one of its
 * own. Each provider resource is a process the engine starts before its first resource's check,
 * one after another (1.4 s each on the lab's machine).
 */
export function probeHostOf(
    component: pulumi.ComponentResource,
    name: string,
): pulumi.ProviderResource {
    return (
        component.getProvider("pulumi-nodejs:dynamic:Resource") ??
        new ProbeHost(`${name}-probe`, { parent: component })
    );
}

// The Pulumi program: reads the stack's settings; checks them with every component's own rules, the
// hosts' SSH host keys, a login with the stack's key and the swarm's quorum, before any resource;
// asks the hosts how they are, so that a node changed by hand is repaired;
// builds the cluster, the ZooKeeper ensemble, the overlay networks, the services, the registry and
// the monitoring; and returns the stack outputs. index.ts runs it under `pulumi up`; the project's own runners run the
// same function through the Automation API.
import * as docker from "@pulumi/docker";
import {
    DockerReadProxy,
    ServiceRegistry,
    ServiceRegistryArgs,
    SshArgs,
    SwarmCluster,
    SwarmClusterArgs,
    SwarmMonitoring,
    SwarmMonitoringArgs,
    SwarmFirewallArgs,
    RestrictedPortArgs,
    SwarmMember,
    SwarmDrift,
    FIREWALL_OFF,
    FIREWALL_UNCONFIRMED,
    SwarmService,
    ValidationError,
    ZooKeeperEnsemble,
    ZooKeeperEnsembleArgs,
    HostKeyCheck,
    SshLoginCheck,
    answeringManager,
    clientPortOf,
    driftMessages,
    LEADER_WAIT,
    REGISTRAR_USER,
    registrarPaths,
    ipsecProblems,
    managing,
    observeSwarm,
    quorumProblems,
    HostKeyScanner,
    sshKeyscan,
    SshOverrides,
    NODE_COMMAND,
    IPSEC_COMMAND,
    sharingConnections,
    throwIfAny,
    validateDockerReadProxyArgs,
    validateServiceRegistryArgs,
    validateSwarmClusterArgs,
    validateSwarmMonitoringArgs,
    validateSwarmServiceArgs,
    validateZooKeeperArgs,
    backupListCommand,
    mergeBackupLists,
} from "./components/internal";
import { TrustedHostKey } from "./components/host/trustedHostKey";
import { ProbeHost } from "./components/host/probeHost";
import { runOnAll, withKeyText } from "./components/host/ssh";
import { loginAndAsk } from "./components/host/hostChecks";
import {
    ENSEMBLE_ADDRESSES_COMMAND,
    leavingServers,
} from "./components/zookeeper/zookeeperEnsemble";
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACE, StackSettings, readSettings, stackConfig } from "./config";
import { begin, phase, recordLoad } from "./phases";

/**
 * Runs every component's own checks on the arguments the program will give it, before any resource
 * is registered, and throws one error listing every problem found: a preview shows them all at
 * once, and an `up` changes nothing. The hosts' keys are not among them: the settings have none
 * yet for a stack that trusts on first use, and the program requires them itself (unpinnedProblems)
 * before it gives each host its key.
 */
export function checkComponents(
    settings: StackSettings,
    cluster: SwarmClusterArgs,
    zookeeper: ZooKeeperEnsembleArgs | undefined,
    registry: ServiceRegistryArgs | undefined,
    monitoring?: SwarmMonitoringArgs,
): void {
    const keysLater = <T extends { ssh: SshArgs }>(a: T): T => ({
        ...a,
        ssh: { ...a.ssh, acceptAnyHostKey: true },
    });
    const checks: (() => void)[] = [
        () => validateSwarmClusterArgs(settings.clusterName, keysLater(cluster)),
        ...(zookeeper ? [() => validateZooKeeperArgs("zookeeper", keysLater(zookeeper))] : []),
        ...(registry ? [() => validateServiceRegistryArgs("registry", registry)] : []),
        ...(monitoring ? [() => validateSwarmMonitoringArgs("monitoring", monitoring)] : []),
        ...(registry || monitoring
            ? [
                  () =>
                      validateDockerReadProxyArgs("docker-read", {
                          image: settings.dockerReadImage,
                      }),
              ]
            : []),
        ...Object.keys(settings.services)
            .sort()
            .map((name) => () => validateSwarmServiceArgs(name, settings.services[name].args)),
    ];
    const problems: string[] = [];
    for (const check of checks) {
        try {
            check();
        } catch (e) {
            if (!(e instanceof ValidationError)) throw e;
            problems.push(e.message);
        }
    }
    throwIfAny(problems);
}

/** A host the stack logs in to: a cluster node, or a ZooKeeper server on a host of its own. */
export interface StackHost {
    node: string;
    host: string;
    port: number;
}

/** The hosts no setting records a host key for (hostKeys, a node's hostKey, knownHostsFile). */
export function unpinnedHosts(settings: StackSettings): StackHost[] {
    const nodeHosts = new Set(settings.nodes.map((n) => n.host));
    return [
        ...settings.nodes
            .filter((n) => n.ssh?.hostKey === undefined)
            .map((n) => ({ node: n.name, host: n.host, port: n.ssh?.port ?? settings.sshPort })),
        ...(settings.zookeeper?.servers ?? [])
            .filter((s) => !nodeHosts.has(s.host) && s.ssh?.hostKey === undefined)
            .map((s) => ({
                node: `zookeeper-${s.id}`,
                host: s.host,
                port: s.ssh?.port ?? settings.sshPort,
            })),
    ];
}

/** Without trust on first use, each host with no recorded key, refused with how to record it. */
export function unpinnedProblems(settings: StackSettings): string[] {
    if (settings.trustOnFirstUse) return [];
    return unpinnedHosts(settings).map(
        (h) =>
            `swarm-ha: ${h.node} (${h.host}): no SSH host key is recorded for it, so another host at its address could not be told from it; check its key's fingerprint and record it (ssh-keyscan -t ed25519 -p ${h.port} ${h.host}, into the file ${NAMESPACE}:knownHostsFile names or as ${NAMESPACE}:hostKeys.${h.node}), or set ${NAMESPACE}:trustOnFirstUse true to keep the key it presents at the first run and require it afterwards.`,
    );
}

/** The stack's settings with the host keys `keyOf` gives the hosts it names (nodes and servers). */
export function withHostKeys(
    settings: StackSettings,
    keyOf: (host: StackHost) => pulumi.Input<string> | undefined,
): StackSettings {
    const withKey = <T extends { ssh?: SshOverrides }>(item: T, host: StackHost): T => {
        const key = keyOf(host);
        return key === undefined ? item : { ...item, ssh: { ...item.ssh, hostKey: key } };
    };
    const nodes = settings.nodes.map((n) =>
        withKey(n, { node: n.name, host: n.host, port: n.ssh?.port ?? settings.sshPort }),
    );
    const zookeeper = settings.zookeeper && {
        ...settings.zookeeper,
        servers: settings.zookeeper.servers.map((s) => {
            const node = nodes.find((n) => n.host === s.host);
            if (node) return { ...s, ssh: node.ssh };
            const port = s.ssh?.port ?? settings.sshPort;
            return withKey(s, { node: `zookeeper-${s.id}`, host: s.host, port });
        }),
    };
    return { ...settings, nodes, zookeeper };
}

/**
 * The keys the hosts with no recorded one present now (`scan`), for trust on first use: the checks
 * before any resource use them; {@link keepHostKeys} keeps them. Empty when every key is recorded.
 */
export async function presentedKeys(
    settings: StackSettings,
    scan: HostKeyScanner = sshKeyscan,
): Promise<Map<string, string | undefined>> {
    const presented = new Map<string, string | undefined>();
    await Promise.all(
        unpinnedHosts(settings).map(async (h) =>
            presented.set(hostId(h), await scan(h.host, h.port, "ssh-ed25519")),
        ),
    );
    return presented;
}

const hostId = (h: { host: string; port: number }): string => `${h.host}:${h.port}`;

/**
 * Each host trusted on first use gets a {@link TrustedHostKey}, which keeps the key it presented
 * at the first run in the stack's state and refuses another one at preview; the settings returned
 * give the kept keys to every connection.
 */
export function keepHostKeys(
    settings: StackSettings,
    presented: Map<string, string | undefined>,
    provider: ProbeHost,
): StackSettings {
    const hosts = unpinnedHosts(settings);
    if (hosts.length === 0) return settings;
    const kept = new Map(
        hosts.map((h) => [
            hostId(h),
            new TrustedHostKey(
                `host-key-${h.node}`,
                { ...h, presented: presented.get(hostId(h)) },
                { provider },
            ).key,
        ]),
    );
    return withHostKeys(settings, (h) => kept.get(hostId(h)));
}

/** The hosts with a recorded host key: the cluster's nodes, and ZooKeeper servers of their own. */
export function hostKeyChecks(settings: StackSettings): HostKeyCheck[] {
    const checks: HostKeyCheck[] = [];
    for (const n of settings.nodes) {
        const expected = n.ssh?.hostKey;
        if (typeof expected === "string") {
            checks.push({
                node: n.name,
                host: n.host,
                port: n.ssh?.port ?? settings.sshPort,
                expected,
            });
        }
    }
    for (const s of settings.zookeeper?.servers ?? []) {
        const expected = s.ssh?.hostKey;
        if (typeof expected === "string" && !checks.some((c) => c.host === s.host)) {
            checks.push({
                node: `zookeeper-${s.id}`,
                host: s.host,
                port: s.ssh?.port ?? settings.sshPort,
                expected,
            });
        }
    }
    return checks;
}

/**
 * The logins checked with the stack's key before anything runs: the hosts whose host key is
 * recorded (so the key is offered only to the hosts meant), each with its user.
 */
export function loginChecks(settings: StackSettings): SshLoginCheck[] {
    const users = new Map<string, string | undefined>([
        ...settings.nodes.map((n): [string, string | undefined] => [n.name, n.ssh?.user]),
        ...(settings.zookeeper?.servers ?? []).map((s): [string, string | undefined] => [
            `zookeeper-${s.id}`,
            s.ssh?.user,
        ]),
    ]);
    return hostKeyChecks(settings).map((c) => ({
        node: c.node,
        host: c.host,
        port: c.port,
        user: users.get(c.node) ?? settings.sshUser,
        hostKey: c.expected,
    }));
}

/** Every node's login, its host key checked where one is recorded: for asking how each one is. */
export function nodeLogins(settings: StackSettings): SshLoginCheck[] {
    return settings.nodes.map((n) => ({
        node: n.name,
        host: n.host,
        port: n.ssh?.port ?? settings.sshPort,
        user: n.ssh?.user ?? settings.sshUser,
        hostKey: typeof n.ssh?.hostKey === "string" ? n.ssh.hostKey : undefined,
    }));
}

/**
 * Runs `use` with the stack's private key in a file: sshPrivateKeyFile as it is, or the secret
 * setting written to a file only this user reads, removed afterwards.
 */
/**
 * The cluster's firewall from `swarm-ha:firewall`: the members are the stack's nodes, and the nodes
 * the swarm still has that it no longer lists (they leave in this run); ZooKeeper's ports with it,
 * at the ensemble's defaults.
 */
export function firewallArgs(
    settings: StackSettings,
    members: SwarmMember[] | undefined,
    zkLeaving: string[] = [],
): SwarmFirewallArgs | undefined {
    const firewall = settings.firewall;
    if (!firewall) return undefined;
    const listed = new Set(settings.nodes.map((n) => n.advertiseAddress ?? n.host));
    const leaving = (members ?? []).map((m) => m.address).filter((a) => !listed.has(a));
    const restricted = restrictedPorts(settings);
    return {
        ...(leaving.length > 0 ? { leaving: [...new Set(leaving)].sort() } : {}),
        ...(settings.zookeeper
            ? {
                  zooKeeper: {
                      servers: [...new Set([...zooKeeperAddresses(settings), ...zkLeaving])],
                      clientPort: clientPortOf({ tls: zooKeeperTls(settings) }),
                      peerPort: 2888,
                      electionPort: 3888,
                      clientNetworks: firewall.clientNetworks ?? [],
                  },
              }
            : {}),
        ...(restricted.length > 0 ? { restricted } : {}),
        ...(firewall.confirmSeconds !== undefined
            ? { confirmSeconds: firewall.confirmSeconds }
            : {}),
    };
}

/**
 * The published ports the firewall keeps to the members and some networks: the monitoring's (its
 * services' and the engines' metrics port) from the client networks, and each service port that
 * says `from`.
 */
export function restrictedPorts(settings: StackSettings): RestrictedPortArgs[] {
    const clients = settings.firewall?.clientNetworks ?? [];
    const m = settings.monitoring;
    const monitoring: RestrictedPortArgs[] = m
        ? [
              m.prometheusPort ?? 9090,
              m.alertmanagerPort ?? 9093,
              m.nodeExporterPort ?? 9100,
              m.engineMetricsPort ?? 9323,
              ...(m.grafana?.enabled ? [m.grafana.port ?? 3000] : []),
          ].map((port) => ({ port, protocol: "tcp", from: clients }))
        : [];
    const services = Object.keys(settings.services)
        .sort()
        .flatMap((name) => settings.services[name].restricted);
    return [...monitoring, ...services];
}

/** The addresses of the ensemble's servers, as the stack lists them. */
function zooKeeperAddresses(settings: StackSettings): string[] {
    return (settings.zookeeper?.servers ?? []).map((s) => s.address ?? s.host);
}

/** The logins of the ensemble's servers' hosts: for asking them which ensemble they run in. */
function zooKeeperLogins(settings: StackSettings): SshLoginCheck[] {
    const hosts = new Set((settings.zookeeper?.servers ?? []).map((s) => s.host));
    return loginChecks(settings).filter((c) => hosts.has(c.host));
}

/**
 * The ensemble's servers on nodes whose engine the cluster repairs in this run (found stopped, out
 * of the swarm or on a replaced host; not a firewall alone): their steps run again, so the probe's
 * preview does not count them down.
 */
export function repairedServers(settings: StackSettings, drift: SwarmDrift): number[] {
    const firewallOnly = (why: string[]) =>
        why.every((w) => w === FIREWALL_OFF || w === FIREWALL_UNCONFIRMED);
    return (settings.zookeeper?.servers ?? [])
        .filter((s) => {
            const node = settings.nodes.find((n) => n.host === s.host);
            const why = node && drift.engine[node.name];
            return why !== undefined && !firewallOnly(why);
        })
        .map((s) => s.id);
}

/** ZooKeeperEnsemble's `tls` from `swarm-ha:zkTls`: undefined when off. */
function zooKeeperTls(settings: StackSettings): ZooKeeperEnsembleArgs["tls"] {
    const tls = settings.zookeeper?.tls;
    return tls && { ...tls, enabled: true };
}

/**
 * With `swarm-ha:firewall`, the rules for ZooKeeper servers on hosts of their own (the cluster's
 * nodes have the cluster's): the nodes and the client networks may reach the client port.
 */
export function zooKeeperFirewall(
    settings: StackSettings,
): Pick<ZooKeeperEnsembleArgs, "firewall"> {
    const firewall = settings.firewall;
    const nodeHosts = new Set(settings.nodes.map((n) => n.host));
    const own = (settings.zookeeper?.servers ?? []).filter((s) => !nodeHosts.has(s.host));
    if (!firewall || own.length === 0) return {};
    return {
        firewall: {
            members: settings.nodes.map((n) => n.advertiseAddress ?? n.host),
            clientNetworks: firewall.clientNetworks ?? [],
            ...(firewall.confirmSeconds !== undefined
                ? { confirmSeconds: firewall.confirmSeconds }
                : {}),
            servers: own.map((s) => s.id),
        },
    };
}

/** Whether a service asks to be registered: then the program adds the registry. */
function registers(settings: StackSettings): boolean {
    return Object.values(settings.services).some((s) => s.args.register);
}

/** The overlay networks a service that asks for encryption names (each encrypted for all). */
export function encryptedNetworks(settings: StackSettings): string[] {
    const services = Object.values(settings.services).filter((s) => s.encrypted);
    return [...new Set(services.flatMap((s) => s.networks))].sort();
}

async function withKeyFile<T>(
    settings: StackSettings,
    use: (file: string) => Promise<T>,
): Promise<T> {
    if (settings.sshPrivateKeyFile) return use(settings.sshPrivateKeyFile);
    return withKeyText(pulumi.runtime.getConfig(`${NAMESPACE}:sshPrivateKey`) ?? "", use);
}

export async function program(): Promise<Record<string, unknown>> {
    recordLoad("loading the program");
    const settings = await phase("reading the settings", () => readSettings(stackConfig()));
    // One set of SSH settings for the cluster's hosts and ZooKeeper's.
    const ssh: SshArgs = {
        user: settings.sshUser,
        port: settings.sshPort,
        privateKey: settings.sshPrivateKey,
        dialAttempts: settings.sshDialAttempts,
    };
    const clusterArgs: SwarmClusterArgs = {
        nodes: settings.nodes,
        ssh,
        docker: {
            install: settings.dockerInstall,
            version: settings.dockerVersion,
            repository: settings.dockerRepository,
            metricsPort: settings.monitoring?.engineMetricsPort,
        },
        autolock: settings.autolock,
        joinTokenRotation: settings.joinTokenRotation,
        backup: settings.backup,
        recovery: settings.recovery,
        dockerProvider: Object.keys(settings.services).length > 0 || !!settings.monitoring,
        dockerSshOpts: settings.sshPrivateKeyFile
            ? ["-i", settings.sshPrivateKeyFile, "-o", "IdentitiesOnly=yes"]
            : undefined,
    };
    const zkArgs: ZooKeeperEnsembleArgs | undefined = settings.zookeeper && {
        servers: settings.zookeeper.servers,
        ssh,
        install: {
            method: settings.zookeeper.install,
            version: settings.zookeeper.version,
            url: settings.zookeeper.url,
            sha512: settings.zookeeper.sha512,
        },
        tickTime: settings.zookeeper.tickTime,
        backup: settings.backup,
        heapMb: settings.zookeeper.heapMb,
        auth: {
            enabled: settings.zookeeper.auth,
            superPassword: settings.zookeeper.superPassword,
        },
        // The registrar's own user, when there is a registry: it owns the registry and its election.
        ...(registers(settings)
            ? { users: [{ name: REGISTRAR_USER, paths: registrarPaths() }] }
            : {}),
        dynamicReconfig: settings.zookeeper.dynamicReconfig,
        // The program has asked every host once, for every component, before constructing them.
        checkHosts: false,
        tls: zooKeeperTls(settings),
        ...zooKeeperFirewall(settings),
    };
    // The registry, when a service asks to be registered (config checks that the ensemble exists).
    const registryArgs: Omit<ServiceRegistryArgs, "connectString"> | undefined =
        zkArgs && registers(settings) ? { image: settings.registrarImage } : undefined;
    // Monitoring scrapes the engines, the nodes, the ensemble, and the tasks of services that ask
    // for it on the networks those services use.
    const m = settings.monitoring;
    const scraped = Object.values(settings.services).filter((s) => s.args.metrics);
    const monitoringArgs: Omit<SwarmMonitoringArgs, "scrapeNetworks"> | undefined = m && {
        cluster: settings.clusterName,
        engineMetricsPort: m.engineMetricsPort,
        zookeeper: zkArgs && {
            servers: zkArgs.servers.map((s) => ({
                id: s.id,
                target: `${s.address ?? s.host}:${clientPortOf(zkArgs)}`,
            })),
        },
        scrapeInterval: m.scrapeInterval,
        alertAfter: m.alertAfter,
        retention: m.retention,
        publishMode: m.publishMode,
        endpointMode: m.endpointMode,
        prometheusPort: m.prometheusPort,
        alertmanagerPort: m.alertmanagerPort,
        nodeExporterPort: m.nodeExporterPort,
        images: m.images,
        alertmanagerConfig: m.alertmanagerConfig,
        prometheusLabel: m.prometheusLabel,
        grafana: m.grafana?.enabled ? { port: m.grafana.port } : undefined,
    };
    // The firewall's rules are checked here too, before any resource (the nodes leaving in this run
    // are known only once the hosts are asked; their addresses come from the swarm itself).
    await phase("checking the components' arguments", () =>
        checkComponents(
            settings,
            { ...clusterArgs, firewall: firewallArgs(settings, undefined) },
            zkArgs,
            registryArgs && { ...registryArgs, connectString: "" },
            monitoringArgs,
        ),
    );

    // A host presenting another host key than the recorded one fails here, in seconds, naming both;
    // then a host refusing the stack's key, naming the node, user and key. Then the swarm as its
    // hosts and a manager report it now: a change of managers that would leave it without a
    // majority of reachable managers while it runs is refused, with the numbers; a node found
    // drifted is said here and repaired by the cluster.
    // Every host's key is verified: a host with no recorded key is refused, unless the stack trusts
    // on first use; then the checks before any resource use the key it presents now (`checked`),
    // and the resources the key kept in the state at the first run.
    throwIfAny(unpinnedProblems(settings));
    // One provider process for every probe (the cluster's, ZooKeeper's, the kept host keys'): the
    // engine starts each provider resource's process on its own, one after another, when it is
    // registered. Registered here, before the hosts are asked, its start (a Node.js process, 1.5 s
    // on the lab's machine) overlaps the logins. It takes over the cluster's own probe provider
    // (the alias), so a stack converged before keeps that one.
    const probes = new ProbeHost(`${settings.clusterName}-probe`, {
        aliases: [
            { parent: pulumi.createUrn(settings.clusterName, "swarm-ha:index:SwarmCluster") },
        ],
    });
    const presented = await phase("asking unrecorded hosts for their keys", () =>
        presentedKeys(settings),
    );
    const checked = withHostKeys(settings, (h) => presented.get(hostId(h)));
    // Each host is logged in to once: the checks after the login share its connection.
    const observed = await withKeyFile(checked, (file) =>
        sharingConnections(async () => {
            // One login per host, which also asks it what the checks below want to know: its
            // engine and firewall (the nodes), its kernel's IPsec (with encrypted networks), the
            // ensemble it runs (the servers' hosts, with a firewall). OpenSSH refuses a host
            // presenting another key before the stack's key is offered; only such a host is then
            // asked for the key it presents, for the message.
            const logins = loginChecks(checked);
            const nodes = new Set(nodeLogins(checked).map(hostId));
            const encrypted = encryptedNetworks(settings);
            const servers = new Set(
                settings.firewall && settings.zookeeper ? zooKeeperLogins(checked).map(hostId) : [],
            );
            // With backups, the managers and the ensemble's servers list the records in their
            // folder (the swarm's, each server's), for the stack's output.
            const target = settings.backup?.target;
            const lists = target
                ? [
                      {
                          command: backupListCommand(target, "swarm"),
                          logins: nodeLogins(checked).filter((c) =>
                              settings.nodes.some((n) => n.name === c.node && n.role === "manager"),
                          ),
                      },
                      {
                          command: backupListCommand(target, "zookeeper"),
                          logins: zooKeeperLogins(checked),
                      },
                  ]
                : [];
            const listsOf = (c: SshLoginCheck) =>
                lists
                    .filter((l) => l.logins.some((x) => hostId(x) === hostId(c)))
                    .map((l) => l.command);
            // Then a host presenting another key than its recorded one is refused, naming both,
            // and a host refusing the stack's key, naming the user and the key.
            const survey = await phase("logins, each asking its host the checks' questions", () =>
                loginAndAsk(logins, file, (c) => [
                    ...(nodes.has(hostId(c)) ? [NODE_COMMAND] : []),
                    ...(nodes.has(hostId(c)) && encrypted.length > 0 ? [IPSEC_COMMAND] : []),
                    ...(servers.has(hostId(c)) ? [ENSEMBLE_ADDRESSES_COMMAND] : []),
                    ...listsOf(c),
                ]),
            );
            const { observation, members, leaderless } = await phase("the swarm's members", () =>
                observeSwarm(checked.nodes, nodeLogins(checked), file, survey.run, {
                    ...LEADER_WAIT,
                    onWait: (m) => pulumi.log.info(`swarm-ha: ${m}`),
                }),
            );
            if (members) {
                throwIfAny(quorumProblems(settings.clusterName, members, settings.nodes));
            }
            throwIfAny(await ipsecProblems(encrypted, nodeLogins(checked), file, survey.run));
            // With a firewall, the servers leaving the ensemble in this run stay allowed on its
            // ports until they stop: the servers' hosts say which ensemble they run in.
            const zkLeaving =
                servers.size > 0
                    ? leavingServers(
                          zooKeeperAddresses(settings),
                          await runOnAll(
                              zooKeeperLogins(checked),
                              file,
                              ENSEMBLE_ADDRESSES_COMMAND,
                              survey.run,
                          ),
                      )
                    : [];
            if (leaderless.length > 0) {
                pulumi.log.warn(
                    `swarm-ha: SwarmCluster "${settings.clusterName}": no manager could list the swarm's nodes (${managing(leaderless)}): it has no leader, most likely because a majority of its managers is down; drift and quorum were not checked, and steps that change the swarm fail until they are back.`,
                );
            }
            const backups = target
                ? mergeBackupLists(
                      (
                          await Promise.all(
                              lists.map(async (l) =>
                                  (await runOnAll(l.logins, file, l.command, survey.run)).map(
                                      (stdout, i) => ({ host: l.logins[i].host, stdout }),
                                  ),
                              ),
                          )
                      ).flat(),
                  )
                : undefined;
            return { observation, members, zkLeaving, backups };
        }),
    );
    for (const message of driftMessages(settings.nodes, observed.observation.drift)) {
        pulumi.log.warn(message);
    }
    if (settings.backup && settings.autolock) {
        pulumi.log.warn(
            `swarm-ha: ${NAMESPACE}:backup with ${NAMESPACE}:autolock: the swarm's scheduled backups skip (no unlock key is kept on the hosts, and a stopped manager would stay locked); its backups are taken by runs that change the managers. ZooKeeper's scheduled backups are taken as usual.`,
        );
    }

    const constructed = begin("constructing the components");
    const kept = keepHostKeys(settings, presented, probes);
    const cluster = new SwarmCluster(
        settings.clusterName,
        {
            ...clusterArgs,
            nodes: kept.nodes,
            observed: observed.observation,
            firewall:
                settings.firewall && firewallArgs(settings, observed.members, observed.zkLeaving),
        },
        { providers: [probes] },
    );
    // ZooKeeper's steps on hosts after the cluster's: both install packages with apt on the
    // managers. The rest of the ensemble (its passwords, its probe's provider) does not wait.
    const zk = zkArgs
        ? new ZooKeeperEnsemble(
              "zookeeper",
              {
                  ...zkArgs,
                  servers: kept.zookeeper!.servers,
                  ...(zkArgs.firewall && observed.zkLeaving.length > 0
                      ? { firewall: { ...zkArgs.firewall, leaving: observed.zkLeaving } }
                      : {}),
                  repairing: repairedServers(settings, observed.observation.drift),
              },
              { providers: [probes], after: [cluster] },
          )
        : undefined;

    // The services, on the overlay networks they name (each created once, attachable so that a
    // one-off container can join it too).
    const services = new Map<string, SwarmService>();
    let registry: ServiceRegistry | undefined;
    let monitoring: SwarmMonitoring | undefined;
    const provider = cluster.provider;
    if (provider) {
        // Tasks are read on a manager that answers now, so that a manager down stops nothing.
        // The survey's managers first: they answered SSH and manage the swarm just now.
        const answered = new Set(
            observed.observation.answering.map(
                (a) => settings.nodes.find((n) => n.name === a)?.host,
            ),
        );
        const reader =
            cluster.managerConnections.find((m) => answered.has(m.host)) ??
            (await phase("a manager that answers", () =>
                answeringManager(cluster.managerConnections),
            ));
        const names = [...new Set(Object.values(settings.services).flatMap((s) => s.networks))];
        const encrypted = encryptedNetworks(settings);
        const networks = new Map(
            names.sort().map((n) => [
                n,
                new docker.Network(
                    `network-${n}`,
                    {
                        name: n,
                        driver: "overlay",
                        attachable: true,
                        ...(encrypted.includes(n) ? { options: { encrypted: "" } } : {}),
                    },
                    { provider },
                ),
            ]),
        );
        // One read-only Docker API on the managers for the registrar, the exporter and Prometheus:
        // none of them holds the engine's socket.
        const dockerRead =
            registryArgs || monitoringArgs
                ? new DockerReadProxy(
                      "docker-read",
                      { image: settings.dockerReadImage, tasksFrom: reader.connection },
                      { provider },
                  )
                : undefined;
        if (zk && registryArgs) {
            registry = new ServiceRegistry(
                "registry",
                {
                    ...registryArgs,
                    connectString: zk.connectString,
                    password: zk.userPasswords[REGISTRAR_USER],
                    tlsCa: zk.tlsCa,
                    tasksFrom: reader.connection,
                },
                { provider, dependsOn: zk.serving, dockerRead },
            );
        }
        if (monitoringArgs) {
            const names = [...new Set(scraped.flatMap((s) => s.networks))].sort();
            monitoring = new SwarmMonitoring(
                "monitoring",
                {
                    ...monitoringArgs,
                    ...(monitoringArgs.zookeeper && zk?.tlsCa
                        ? { zookeeper: { ...monitoringArgs.zookeeper, tlsCa: zk.tlsCa } }
                        : {}),
                    scrapeNetworks: names.map((n) => ({ name: n, id: networks.get(n)!.id })),
                    tasksFrom: reader.connection,
                },
                { provider, dependsOn: zk ? zk.serving : [], dockerRead },
            );
        }
        for (const name of Object.keys(settings.services).sort()) {
            const s = settings.services[name];
            const env =
                s.zookeeper && zk
                    ? {
                          ...s.args.env,
                          ZOOKEEPER_CONNECT: zk.connectString,
                          ...(zk.tlsCa ? { ZOOKEEPER_TLS_CA: zk.tlsCa } : {}),
                      }
                    : s.args.env;
            services.set(
                name,
                new SwarmService(
                    name,
                    {
                        ...s.args,
                        env,
                        networks: s.networks.map((n) => ({ id: networks.get(n)!.id })),
                        tasksFrom: reader.connection,
                    },
                    { provider },
                ),
            );
        }
    }
    constructed();
    return {
        zookeeper: zk
            ? {
                  connectString: zk.connectString,
                  servers: zk.servers,
                  superPassword: zk.superPassword,
                  ...(zk.tlsCa ? { tlsCa: zk.tlsCa } : {}),
              }
            : "none (swarm-ha:zkServers is empty)",
        registry: registry
            ? {
                  root: registry.root,
                  connectString: registry.connectString,
                  ...(zk?.tlsCa ? { tlsCa: zk.tlsCa } : {}),
                  registrar: registry.registrar.tasks,
              }
            : "none (no service has register: true)",
        monitoring: monitoring
            ? {
                  prometheusPort: monitoring.prometheusPort,
                  prometheusTasks: monitoring.prometheus.tasks,
                  alertmanagerPort: monitoring.alertmanagerPort,
                  alertmanagerTasks: monitoring.alertmanager.tasks,
                  alerts: monitoring.alerts,
                  ...(monitoring.grafana
                      ? {
                            grafanaPort: monitoring.grafanaPort,
                            grafanaTasks: monitoring.grafana.tasks,
                            grafanaAdminPassword: monitoring.grafanaAdminPassword,
                        }
                      : {}),
              }
            : "none (swarm-ha:monitoring is not enabled)",
        services: Object.fromEntries(
            [...services].map(([name, svc]) => [
                name,
                { tasks: svc.tasks, endpoints: svc.addresses, published: svc.endpoints },
            ]),
        ),
        clusterId: cluster.clusterId,
        nodes: cluster.nodeStatus,
        managers: cluster.managers,
        workers: cluster.workers,
        leaderAddress: cluster.leaderAddress,
        faultTolerance: cluster.faultTolerance,
        dockerHost: cluster.dockerHost,
        managerJoinToken: cluster.managerJoinToken,
        workerJoinToken: cluster.workerJoinToken,
        unlockKey: cluster.unlockKey,
        backups: observed.backups ?? "none (swarm-ha:backup is not set)",
    };
}

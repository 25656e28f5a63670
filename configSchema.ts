// The stack's settings as one typed schema: every `swarm-ha:*` key, and every key inside the maps
// and lists they hold, with its kind and the grammar of its values (components/host/grammar.ts). The
// program checks the whole stack against it before anything else; the docs test reads it against
// Pulumi.yaml's declarations.
import { rules } from "./components/host/grammar";
import { ObjectSchema, Schema, s } from "./components/host/schema";
import { ZOOKEEPER_DEFAULTS } from "./components/zookeeper/zookeeperEnsemble";
import { memoryBytes } from "./serviceConfig";

const memory: Schema = {
    kind: "either",
    of: [
        s.int(1),
        s.text({
            says: "",
            test: (v) => v.length <= 32 && (memoryBytes(v) ?? 0) >= 1,
        }),
    ],
    says: 'bytes or a size such as "256M" or "1G"',
};

const resources = s.object({
    cpus: { kind: "number", min: 0, max: 1024, above: true },
    memory,
});

const update = s.object({
    parallelism: s.int(0, 10000),
    delay: s.text(rules.goDuration),
    order: s.oneOf(["start-first", "stop-first"]),
    failureAction: s.oneOf(["rollback", "pause", "continue"]),
    monitor: s.text(rules.goDuration),
    maxFailureRatio: s.text({
        says: 'use a ratio from 0 to 1 written as text, such as "0.1"',
        test: (v) => /^(0(\.[0-9]+)?|1(\.0+)?)$/.test(v),
    }),
});

const file = (secret: boolean) =>
    s.object(
        {
            value: s.text(rules.text, { secret }),
            file: s.text(rules.localPath),
            target: s.text(rules.containerPath),
            mode: s.int(0, 0o777),
        },
        { exactlyOne: ["value", "file"] },
    );

/** One service of `swarm-ha:services`. */
export const SERVICE = s.object({
    image: s.text(rules.image, { required: true, missing: 'give the image, such as "nginx:1.27"' }),
    registryAuth: s.object({
        server: s.text(rules.registry, { required: true }),
        username: s.text(rules.registryUser, { required: true }),
        password: s.text(rules.registryPassword, { required: true, secret: true }),
    }),
    pinDigest: s.bool(),
    replicas: s.int(0, 10000),
    global: s.bool(),
    command: s.list(s.text(rules.text)),
    args: s.list(s.text(rules.text)),
    env: s.map(rules.envName, s.text(rules.text, { scalars: true })),
    secretEnv: s.map(rules.envName, s.text(rules.text, { scalars: true, secret: true })),
    ports: s.list(
        s.object({
            target: s.port({ required: true }),
            published: s.port(),
            protocol: s.oneOf(["tcp", "udp", "sctp"]),
            mode: s.oneOf(["ingress", "host"]),
            from: s.list(s.text(rules.ipv4Network)),
        }),
    ),
    endpointMode: s.oneOf(["vip", "dnsrr"]),
    networks: s.list(s.text(rules.dockerName)),
    encrypted: s.bool(),
    constraints: s.list(s.text(rules.constraint)),
    preferences: s.list(s.text(rules.preference)),
    maxReplicasPerNode: s.int(0, 10000),
    limits: resources,
    reservations: resources,
    healthcheck: s.object({
        test: s.list(s.text(rules.text), { required: true }),
        interval: s.text(rules.goDuration),
        timeout: s.text(rules.goDuration),
        retries: s.int(0, 1000),
        startPeriod: s.text(rules.goDuration),
    }),
    restartPolicy: s.object({
        condition: s.oneOf(["none", "on-failure", "any"]),
        delay: s.text(rules.goDuration),
        maxAttempts: s.int(0, 100000),
        window: s.text(rules.goDuration),
    }),
    update,
    rollback: update,
    secrets: s.map(rules.dockerName, file(true)),
    configs: s.map(rules.dockerName, file(false)),
    labels: s.map(rules.labelKey, s.text(rules.labelValue, { scalars: true })),
    zookeeper: s.bool(),
    register: s.bool(),
    registerPort: s.port(),
    metricsPort: s.port(),
    metricsPath: s.text(rules.httpPath),
});

/** One entry of `swarm-ha:nodes`. */
export const NODE = s.object(
    {
        name: s.text(rules.name, { required: true }),
        host: s.text(rules.host, { required: true }),
        advertiseAddress: s.text(rules.host),
        role: s.oneOf(["manager", "worker"], { required: true }),
        labels: s.map(rules.labelKey, s.text(rules.labelValue, { scalars: true })),
        availability: s.oneOf(["active", "pause", "drain"]),
        sshUser: s.text(rules.user, { default: "root" }),
        sshPort: s.port({ default: 22 }),
        hostKey: s.text(rules.hostKey),
    },
    { example: '{ name: "m1", host: "10.0.0.11", role: "manager" }' },
);

/** One entry of `swarm-ha:zkServers`. */
export const ZK_SERVER = s.object(
    {
        id: s.int(1, 255, { required: true }),
        node: s.text(rules.name),
        host: s.text(rules.host),
        address: s.text(rules.host),
        hostKey: s.text(rules.hostKey),
    },
    { example: '{ id: 1, node: "m1" }' },
);

/** Every `swarm-ha:*` key of a stack. */
export const STACK: ObjectSchema = s.object({
    clusterName: s.text(rules.clusterName, { default: "swarm" }),
    nodes: s.list(NODE, {
        required: true,
        maxItems: 1000,
        missing: "list the hosts as objects with name, host and role",
    }),
    hostKeys: s.map(rules.name, s.text(rules.hostKey), { default: {} }),
    sshUser: s.text(rules.user, { default: "root" }),
    sshPort: s.port({ default: 22 }),
    sshDialAttempts: s.int(1, 1000, { default: 30 }),
    sshPrivateKey: s.text(rules.text, { secret: true }),
    sshPrivateKeyFile: s.text(rules.localPath),
    knownHostsFile: s.text(rules.localPath),
    trustOnFirstUse: s.bool({ default: false }),
    dockerInstall: s.oneOf(["distro", "docker-ce", "none"], { default: "distro" }),
    dockerVersion: s.text(rules.debianVersion),
    dockerRepository: s.text(rules.url),
    autolock: s.bool({ default: false }),
    joinTokenRotation: s.int(0, undefined, { default: 0 }),
    services: s.map(rules.name, SERVICE, { default: {} }),
    monitoring: s.object(
        {
            enabled: s.bool(),
            engineMetricsPort: s.port(),
            scrapeInterval: s.text(rules.promDuration),
            alertAfter: s.text(rules.promDuration),
            retention: s.text(rules.promDuration),
            publishMode: s.oneOf(["ingress", "host"]),
            endpointMode: s.oneOf(["vip", "dnsrr"]),
            prometheusPort: s.port(),
            alertmanagerPort: s.port(),
            nodeExporterPort: s.port(),
            images: s.object({
                prometheus: s.text(rules.image),
                alertmanager: s.text(rules.image),
                nodeExporter: s.text(rules.image),
                exporter: s.text(rules.image),
                grafana: s.text(rules.image),
            }),
            grafana: s.object({ enabled: s.bool(), port: s.port() }),
            alertmanagerConfig: s.text(rules.text, { secret: true }),
            prometheusLabel: s.text(rules.nodeLabel),
        },
        { example: "{ enabled: true }", default: {} },
    ),
    firewall: s.object(
        {
            enabled: s.bool(),
            clientNetworks: s.list(s.text(rules.ipv4Network)),
            confirmSeconds: s.int(5, 3600),
        },
        { example: '{ enabled: true, clientNetworks: ["10.1.0.0/16"] }', default: {} },
    ),
    backup: s.object(
        {
            schedule: s.text(rules.calendar),
            keep: s.int(1, 1000),
            target: s.text(rules.hostPath),
        },
        { example: '{ schedule: "daily", keep: 7 }', default: {} },
    ),
    // node is required once anything is set (config.ts): the stack's default is {}, none.
    recovery: s.object(
        {
            node: s.text(rules.name),
            backup: s.text(rules.swarmBackup),
        },
        { example: '{ node: "m1" }', default: {} },
    ),
    registrarImage: s.text(rules.image, { default: "swarm-ha-registrar:3" }),
    dockerReadImage: s.text(rules.image, { default: "swarm-ha-docker-read:2" }),
    zkServers: s.list(ZK_SERVER, { maxItems: 255, default: [] }),
    zkInstall: s.oneOf(["distro", "tarball"], { default: "distro" }),
    zkVersion: s.text(rules.releaseVersion),
    zkUrl: s.text(rules.url),
    zkSha512: s.text(rules.sha512),
    zkTickTime: s.int(100, 60000, { default: ZOOKEEPER_DEFAULTS.tickTime }),
    zkHeapMb: s.int(64, 1048576, { default: ZOOKEEPER_DEFAULTS.heapMb }),
    zkAuth: s.bool({ default: true }),
    zkSuperPassword: s.text(rules.password, { secret: true }),
    zkDynamicReconfig: s.bool({ default: false }),
    zkTls: s.object(
        {
            enabled: s.bool(),
            secureClientPort: s.port(),
            rotation: s.int(0),
        },
        { example: "{ enabled: true }", default: {} },
    ),
});

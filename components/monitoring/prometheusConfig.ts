// What SwarmMonitoring gives Prometheus and Alertmanager: their configuration files and the alert
// rules for this platform's quorums, rendered by pure functions (JSON, which both read as YAML).
import { DOCKER_READ_HOST } from "../dockerRead";
import { METRICS_PATH_LABEL, METRICS_PORT_LABEL } from "../service/swarmService";

/** A ZooKeeper server Prometheus probes through the exporter. */
export interface MonitoredZooKeeperServer {
    /** The server's id (myid). */
    id: number;
    /** Where its client port answers, "host:port". */
    target: string;
}

/** What the rendered files need to know. */
export interface MonitoringPlan {
    /** The cluster's name, as the `cluster` label of every series. */
    cluster: string;
    scrapeInterval: string;
    /** How long a condition holds before its alert fires. */
    alertAfter: string;
    /** The engines' metrics port, or undefined when the cluster does not set it. */
    engineMetricsPort?: number;
    nodeExporterPort: number;
    /** The exporter's address on the monitoring network, "host:port". */
    exporter: string;
    /** Alertmanager's address on the monitoring network, "host:port". */
    alertmanager: string;
    /** The ensemble's servers; none without ZooKeeper. */
    zookeeper: MonitoredZooKeeperServer[];
    /** The voting servers (participants): ZooKeeper's quorum is a majority of them. */
    zookeeperParticipants: number;
    /** Networks Prometheus shares with the tasks it scrapes (task targets on others are dropped). */
    taskNetworks: string[];
}

// The service labels a SwarmService sets when it asks to be scraped (its `metrics`) are the
// service's: Prometheus reads them, and they are exported from here as before.
export { METRICS_PATH_LABEL, METRICS_PORT_LABEL };

// The read-only Docker API's socket (DockerReadProxy), never the engine's: Prometheus publishes a port.
const DOCKER_SOCKET = DOCKER_READ_HOST;

/** Docker Swarm discovery's meta label for a service label (dots and dashes become underscores). */
function serviceLabel(label: string): string {
    return `__meta_dockerswarm_service_label_${label.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** The nodes of the swarm at one port each, labelled with the node's name and role. */
function nodeJob(job: string, port: number): Record<string, unknown> {
    return {
        job_name: job,
        dockerswarm_sd_configs: [{ host: DOCKER_SOCKET, role: "nodes" }],
        relabel_configs: [
            {
                source_labels: ["__meta_dockerswarm_node_address"],
                target_label: "__address__",
                replacement: `$1:${port}`,
            },
            { source_labels: ["__meta_dockerswarm_node_hostname"], target_label: "node" },
            { source_labels: ["__meta_dockerswarm_node_role"], target_label: "role" },
        ],
    };
}

/** prometheus.yml. */
export function prometheusConfig(plan: MonitoringPlan): string {
    const jobs: Record<string, unknown>[] = [
        { job_name: "prometheus", static_configs: [{ targets: ["localhost:9090"] }] },
        { job_name: "swarm", static_configs: [{ targets: [plan.exporter] }] },
        nodeJob("node", plan.nodeExporterPort),
    ];
    if (plan.engineMetricsPort !== undefined) {
        jobs.push(nodeJob("docker-engine", plan.engineMetricsPort));
    }
    if (plan.zookeeper.length > 0) {
        jobs.push({
            job_name: "zookeeper",
            metrics_path: "/probe",
            static_configs: plan.zookeeper.map((s) => ({
                targets: [s.target],
                labels: { server: String(s.id) },
            })),
            relabel_configs: [
                { source_labels: ["__address__"], target_label: "__param_target" },
                { source_labels: ["__param_target"], target_label: "instance" },
                { target_label: "__address__", replacement: plan.exporter },
            ],
        });
    }
    jobs.push({
        job_name: "tasks",
        dockerswarm_sd_configs: [{ host: DOCKER_SOCKET, role: "tasks" }],
        relabel_configs: [
            { source_labels: [serviceLabel(METRICS_PORT_LABEL)], regex: ".+", action: "keep" },
            {
                source_labels: ["__meta_dockerswarm_task_desired_state"],
                regex: "running",
                action: "keep",
            },
            {
                source_labels: ["__meta_dockerswarm_network_name"],
                regex: plan.taskNetworks.length > 0 ? plan.taskNetworks.join("|") : "^$",
                action: "keep",
            },
            {
                source_labels: ["__address__", serviceLabel(METRICS_PORT_LABEL)],
                regex: "(.+):[0-9]+;([0-9]+)",
                target_label: "__address__",
                replacement: "$1:$2",
            },
            {
                source_labels: [serviceLabel(METRICS_PATH_LABEL)],
                regex: "(.+)",
                target_label: "__metrics_path__",
            },
            { source_labels: ["__meta_dockerswarm_service_name"], target_label: "service" },
            { source_labels: ["__meta_dockerswarm_task_id"], target_label: "task" },
            { source_labels: ["__meta_dockerswarm_node_hostname"], target_label: "node" },
        ],
    });
    return JSON.stringify(
        {
            global: {
                scrape_interval: plan.scrapeInterval,
                evaluation_interval: plan.scrapeInterval,
                external_labels: { cluster: plan.cluster },
            },
            rule_files: ["/etc/prometheus/rules.yml"],
            alerting: { alertmanagers: [{ static_configs: [{ targets: [plan.alertmanager] }] }] },
            scrape_configs: jobs,
        },
        null,
        2,
    );
}

/** An alerting rule. */
export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: { severity: "critical" | "warning" };
    annotations: { summary: string };
}

/** The alert rules: the swarm's and ZooKeeper's quorums, nodes, engines, services and targets. */
export function alertRules(plan: MonitoringPlan): AlertRule[] {
    const rule = (
        alert: string,
        severity: "critical" | "warning",
        expr: string,
        summary: string,
    ): AlertRule => ({
        alert,
        expr,
        for: plan.alertAfter,
        labels: { severity },
        annotations: { summary },
    });
    const rules: AlertRule[] = [
        rule(
            "SwarmManagersWithoutMajority",
            "critical",
            "(sum(swarm_ha_manager_reachable) * 2 <= count(swarm_ha_manager_reachable)) or (swarm_ha_swarm_api_up == 0)",
            "The swarm's managers have no reachable majority: no scheduling, no changes until a majority is back.",
        ),
        rule(
            "SwarmManagerUnreachable",
            "warning",
            "swarm_ha_manager_reachable == 0",
            "Manager {{ $labels.node }} ({{ $labels.address }}) is unreachable: the swarm tolerates one fewer manager loss.",
        ),
        rule(
            "SwarmNodeDown",
            "warning",
            "swarm_ha_node_ready == 0",
            "Node {{ $labels.node }} ({{ $labels.address }}) is not ready in the swarm; its tasks are moved elsewhere.",
        ),
        rule(
            "SwarmServiceBelowReplicas",
            "warning",
            "swarm_ha_service_tasks_running < swarm_ha_service_tasks_desired",
            "Service {{ $labels.service }} runs fewer tasks than it wants ({{ $value }} short or more).",
        ),
        rule(
            "MonitoringTargetDown",
            "warning",
            'up{job!~"zookeeper"} == 0',
            "Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}.",
        ),
    ];
    if (plan.zookeeper.length > 0) {
        rules.push(
            rule(
                "ZooKeeperServerDown",
                "warning",
                "zk_up == 0",
                "ZooKeeper server {{ $labels.server }} ({{ $labels.instance }}) does not answer.",
            ),
            rule(
                "ZooKeeperNoLeader",
                "critical",
                '(sum(zk_server_state{state=~"leader|standalone"}) or vector(0)) < 1',
                "The ZooKeeper ensemble has no leader: no writes, and sessions expire.",
            ),
        );
        if (plan.zookeeperParticipants > 1) {
            rules.push(
                rule(
                    "ZooKeeperFollowersNotSynced",
                    "warning",
                    `max(zk_synced_followers) < ${plan.zookeeperParticipants - 1}`,
                    `The ZooKeeper leader has fewer than ${plan.zookeeperParticipants - 1} synced followers ({{ $value }}): the ensemble tolerates fewer failures.`,
                ),
            );
        }
    }
    return rules;
}

/** rules.yml. */
export function rulesFile(plan: MonitoringPlan): string {
    return JSON.stringify({ groups: [{ name: "swarm-ha", rules: alertRules(plan) }] }, null, 2);
}

/**
 * The default alertmanager.yml: every alert grouped by name and cluster and kept in Alertmanager (its
 * API and UI), with no receiver to send to. Real clusters give their own (SwarmMonitoring's
 * `alertmanagerConfig`) with their receivers.
 */
export function alertmanagerConfig(): string {
    return JSON.stringify(
        {
            route: {
                receiver: "none",
                group_by: ["alertname", "cluster"],
                group_wait: "10s",
                group_interval: "1m",
                repeat_interval: "4h",
            },
            receivers: [{ name: "none" }],
        },
        null,
        2,
    );
}

// The swarm as a manager's Docker engine reports it: nodes, manager reachability and each service's
// tasks (the engine counts running and desired tasks itself when asked with status=true).
package main

import (
	"net/url"

	"github.com/swarm-ha/images/internal/dockerapi"
)

// Node is the part of a swarm node the exporter reads.
type Node struct {
	Description struct {
		Hostname string `json:"Hostname"`
	} `json:"Description"`
	Spec struct {
		Role         string `json:"Role"`
		Availability string `json:"Availability"`
	} `json:"Spec"`
	Status struct {
		State string `json:"State"`
		Addr  string `json:"Addr"`
	} `json:"Status"`
	ManagerStatus *struct {
		Leader       bool   `json:"Leader"`
		Reachability string `json:"Reachability"`
	} `json:"ManagerStatus"`
}

// Service is the part of a swarm service the exporter reads.
type Service struct {
	Spec struct {
		Name string `json:"Name"`
	} `json:"Spec"`
	ServiceStatus *struct {
		RunningTasks float64 `json:"RunningTasks"`
		DesiredTasks float64 `json:"DesiredTasks"`
	} `json:"ServiceStatus"`
}

// Swarm is what one reading of the engine gave: the nodes and services, or why there are none.
type Swarm struct {
	Nodes    []Node
	Services []Service
	Err      error
}

// ReadSwarm asks the engine for the nodes and the services with their task counts. A manager that has
// lost its quorum answers neither: Err says so.
func ReadSwarm(d *dockerapi.Client) Swarm {
	var s Swarm
	if s.Err = d.Get("/nodes", nil, &s.Nodes); s.Err != nil {
		return s
	}
	s.Err = d.Get("/services", url.Values{"status": {"true"}}, &s.Services)
	return s
}

// SwarmMetrics renders a reading of the swarm.
func SwarmMetrics(s Swarm) *Gauges {
	g := NewGauges()
	g.Add("swarm_ha_swarm_api_up", "1 when this manager's engine answered for the swarm (it does only with a quorum of managers).", boolValue(s.Err == nil), nil)
	if s.Err != nil {
		return g
	}
	for _, n := range s.Nodes {
		node := map[string]string{"node": n.Description.Hostname, "role": n.Spec.Role, "address": n.Status.Addr}
		g.Add("swarm_ha_node_ready", "1 when the swarm sees the node ready.", boolValue(n.Status.State == "ready"), node)
		g.Add("swarm_ha_node_active", "1 when the node's availability is active (not paused or drained).", boolValue(n.Spec.Availability == "active"), node)
		if n.ManagerStatus != nil {
			manager := map[string]string{"node": n.Description.Hostname, "address": n.Status.Addr}
			g.Add("swarm_ha_manager_reachable", "1 when the other managers reach this manager.", boolValue(n.ManagerStatus.Reachability == "reachable"), manager)
			g.Add("swarm_ha_manager_leader", "1 on the manager that leads the swarm's Raft.", boolValue(n.ManagerStatus.Leader), manager)
		}
	}
	for _, svc := range s.Services {
		if svc.ServiceStatus == nil {
			continue
		}
		labels := map[string]string{"service": svc.Spec.Name}
		g.Add("swarm_ha_service_tasks_running", "The service's running tasks.", svc.ServiceStatus.RunningTasks, labels)
		g.Add("swarm_ha_service_tasks_desired", "The tasks the service wants running (replicas, or one per eligible node).", svc.ServiceStatus.DesiredTasks, labels)
	}
	return g
}

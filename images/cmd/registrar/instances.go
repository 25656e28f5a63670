// What the registry should hold: one instance per running task of each service that asks to be
// registered, in the JSON of Apache Curator's service discovery (ServiceInstance), so that Curator's
// ServiceDiscovery and any ZooKeeper client can read it.
package main

import (
	"sort"
	"strconv"
	"strings"
)

const (
	// LabelRegister marks a service whose running tasks are registered ("true").
	LabelRegister = "swarm-ha.register"
	// LabelPort names the port to register, reached at the task's address on its overlay network.
	LabelPort = "swarm-ha.register.port"
)

// Payload is the instance's payload: where the task runs and what it runs. "@class" is how Curator's
// JSON serializer names the payload's Java type (Jackson's class type id); a map reads back as one.
type Payload struct {
	Class       string `json:"@class"`
	Node        string `json:"node"`
	Image       string `json:"image"`
	Slot        int    `json:"slot,omitempty"`
	TaskAddress string `json:"taskAddress,omitempty"`
}

// Instance is Curator's ServiceInstance as its JSON serializer writes it.
type Instance struct {
	Name                string  `json:"name"`
	ID                  string  `json:"id"`
	Address             string  `json:"address"`
	Port                *int    `json:"port"`
	SslPort             *int    `json:"sslPort"`
	Payload             Payload `json:"payload"`
	RegistrationTimeUTC int64   `json:"registrationTimeUTC"`
	ServiceType         string  `json:"serviceType"`
	URISpec             *string `json:"uriSpec"`
	Enabled             bool    `json:"enabled"`
}

// Desired is, for each registered service by name, its running tasks' instances by task ID.
type Desired map[string]map[string]Instance

// DesiredInstances computes what the registry should hold for a snapshot of the swarm. A task counts
// while the swarm wants it running and it runs: a task being stopped, moved or replaced leaves the
// registry as soon as its desired state changes, before its container stops.
func DesiredInstances(s Snapshot) Desired {
	nodes := map[string]Node{}
	for _, n := range s.Nodes {
		nodes[n.ID] = n
	}
	services := map[string]Service{}
	desired := Desired{}
	for _, svc := range s.Services {
		if svc.Spec.Labels[LabelRegister] != "true" {
			continue
		}
		services[svc.ID] = svc
		desired[svc.Spec.Name] = map[string]Instance{}
	}
	for _, t := range s.Tasks {
		svc, ok := services[t.ServiceID]
		if !ok || t.DesiredState != "running" || t.Status.State != "running" {
			continue
		}
		node := nodes[t.NodeID]
		address, port := endpoint(svc, t, node)
		desired[svc.Spec.Name][t.ID] = Instance{
			Name:    svc.Spec.Name,
			ID:      t.ID,
			Address: address,
			Port:    port,
			Payload: Payload{
				Class:       "java.util.LinkedHashMap",
				Node:        node.Description.Hostname,
				Image:       t.Spec.ContainerSpec.Image,
				Slot:        t.Slot,
				TaskAddress: taskAddress(t),
			},
			ServiceType: "DYNAMIC",
			Enabled:     true,
		}
	}
	return desired
}

// endpoint is where a task is reached: with the service's swarm-ha.register.port label, that port at
// the task's overlay address; else its first published port at the task's node; else its first target
// port at the task's overlay address (the node's where it has none); else that address and no port.
func endpoint(svc Service, t Task, node Node) (string, *int) {
	overlay := taskAddress(t)
	if overlay == "" {
		overlay = node.Status.Addr
	}
	if p, err := strconv.Atoi(svc.Spec.Labels[LabelPort]); err == nil && p > 0 {
		return overlay, &p
	}
	ports := svc.Spec.EndpointSpec.Ports
	for _, p := range ports {
		if p.PublishedPort > 0 {
			published := p.PublishedPort
			return node.Status.Addr, &published
		}
	}
	if len(ports) > 0 {
		target := ports[0].TargetPort
		return overlay, &target
	}
	return overlay, nil
}

// taskAddress is the task's address on its first network other than the ingress, without the prefix.
func taskAddress(t Task) string {
	for _, a := range t.NetworksAttachments {
		if a.Network.Spec.Ingress || len(a.Addresses) == 0 {
			continue
		}
		address, _, _ := strings.Cut(a.Addresses[0], "/")
		return address
	}
	return ""
}

// Names is the desired services' names, sorted.
func (d Desired) Names() []string {
	names := make([]string, 0, len(d))
	for n := range d {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

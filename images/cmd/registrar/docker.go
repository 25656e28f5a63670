// The little of the Docker Engine API the registrar reads, over the engine's unix socket: the
// services that ask to be registered, their tasks and the swarm's nodes. Only a manager answers these.
package main

import (
	"time"

	"github.com/swarm-ha/images/internal/dockerapi"
)

// Service is the part of a swarm service the registrar reads.
type Service struct {
	ID   string `json:"ID"`
	Spec struct {
		Name         string            `json:"Name"`
		Labels       map[string]string `json:"Labels"`
		EndpointSpec struct {
			Ports []Port `json:"Ports"`
		} `json:"EndpointSpec"`
	} `json:"Spec"`
}

// Port is a port a service publishes.
type Port struct {
	TargetPort    int    `json:"TargetPort"`
	PublishedPort int    `json:"PublishedPort"`
	PublishMode   string `json:"PublishMode"`
	Protocol      string `json:"Protocol"`
}

// Task is the part of a swarm task the registrar reads.
type Task struct {
	ID           string `json:"ID"`
	ServiceID    string `json:"ServiceID"`
	NodeID       string `json:"NodeID"`
	Slot         int    `json:"Slot"`
	DesiredState string `json:"DesiredState"`
	Status       struct {
		State     string    `json:"State"`
		Timestamp time.Time `json:"Timestamp"`
	} `json:"Status"`
	Spec struct {
		ContainerSpec struct {
			Image string `json:"Image"`
		} `json:"ContainerSpec"`
	} `json:"Spec"`
	NetworksAttachments []Attachment `json:"NetworksAttachments"`
}

// Attachment is a task's place on one network: the network and the task's addresses on it.
type Attachment struct {
	Network struct {
		Spec struct {
			Name    string `json:"Name"`
			Ingress bool   `json:"Ingress"`
		} `json:"Spec"`
	} `json:"Network"`
	Addresses []string `json:"Addresses"`
}

// Node is the part of a swarm node the registrar reads.
type Node struct {
	ID          string `json:"ID"`
	Description struct {
		Hostname string `json:"Hostname"`
	} `json:"Description"`
	Status struct {
		Addr string `json:"Addr"`
	} `json:"Status"`
}

// Snapshot is what the swarm runs now, as the registrar needs it.
type Snapshot struct {
	Services []Service
	Tasks    []Task
	Nodes    []Node
}

// ReadSnapshot asks the engine for the registered services, the tasks meant to run and the nodes.
func ReadSnapshot(d *dockerapi.Client) (Snapshot, error) {
	var s Snapshot
	if err := d.Get("/services", dockerapi.Filters(map[string][]string{"label": {LabelRegister + "=true"}}), &s.Services); err != nil {
		return s, err
	}
	if len(s.Services) == 0 {
		return s, nil
	}
	if err := d.Get("/tasks", dockerapi.Filters(map[string][]string{"desired-state": {"running"}}), &s.Tasks); err != nil {
		return s, err
	}
	if err := d.Get("/nodes", nil, &s.Nodes); err != nil {
		return s, err
	}
	return s, nil
}

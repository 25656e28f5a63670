package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarm-ha/images/internal/dockerapi"
	"github.com/swarm-ha/images/internal/fake"
)

// fakeZooKeeper answers one connection on loopback with answer, after reading the four letters.
func fakeZooKeeper(t *testing.T, answer string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return answerOn(t, l, answer)
}

// answerOn answers one connection on l with answer, after reading "mntr"; returns l's address.
func answerOn(t *testing.T, l net.Listener, answer string) string {
	t.Cleanup(func() { l.Close() })
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		word := make([]byte, 4)
		if _, err := conn.Read(word); err == nil && string(word) == "mntr" {
			fmt.Fprint(conn, answer)
		}
	}()
	return l.Addr().String()
}

func TestZooKeeperMetricsOfALeader(t *testing.T) {
	target := fakeZooKeeper(t, "zk_version\t3.8.0-1, built on 2023\nzk_server_state\tleader\nzk_znode_count\t12\nzk_synced_followers\t2\nzk_avg_latency\t0.5\n")
	got := string(ZooKeeperMetrics(Mntr(target, time.Second, nil)).Bytes())
	for _, line := range []string{
		"zk_up 1\n",
		`zk_server_state{state="leader"} 1` + "\n",
		`zk_server_state{state="follower"} 0` + "\n",
		"zk_znode_count 12\n",
		"zk_synced_followers 2\n",
		"zk_avg_latency 0.5\n",
		"# TYPE zk_synced_followers gauge\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("missing %q in\n%s", line, got)
		}
	}
	if strings.Contains(got, "zk_version") {
		t.Errorf("a text value was rendered as a gauge:\n%s", got)
	}
}

func TestZooKeeperMetricsOfAServerThatDoesNotAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := l.Addr().String()
	l.Close()
	got := string(ZooKeeperMetrics(Mntr(target, 200*time.Millisecond, nil)).Bytes())
	want := "# HELP zk_up 1 when the server answered mntr.\n# TYPE zk_up gauge\nzk_up 0\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMntrNamesTheWhitelistWhenTheServerSaysNothing(t *testing.T) {
	target := fakeZooKeeper(t, "")
	_, err := Mntr(target, time.Second, nil)
	if err == nil || !strings.Contains(err.Error(), "4lw.commands.whitelist") {
		t.Errorf("got %v", err)
	}
}

// fakeEngine serves the Docker API's /nodes and /services on a unix socket.
func fakeEngine(t *testing.T, nodes, services string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/nodes", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, nodes) })
	mux.HandleFunc("/services", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("status") != "true" {
			http.Error(w, "asked without status=true", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, services)
	})
	return fake.Engine(t, mux)
}

func TestSwarmMetrics(t *testing.T) {
	nodes := `[
	 {"Description":{"Hostname":"lab-m1"},"Spec":{"Role":"manager","Availability":"active"},
	  "Status":{"State":"ready","Addr":"172.30.213.11"},"ManagerStatus":{"Leader":true,"Reachability":"reachable"}},
	 {"Description":{"Hostname":"lab-m2"},"Spec":{"Role":"manager","Availability":"active"},
	  "Status":{"State":"down","Addr":"172.30.213.12"},"ManagerStatus":{"Reachability":"unreachable"}},
	 {"Description":{"Hostname":"lab-w1"},"Spec":{"Role":"worker","Availability":"drain"},
	  "Status":{"State":"ready","Addr":"172.30.213.21"}}]`
	services := `[{"Spec":{"Name":"web"},"ServiceStatus":{"RunningTasks":2,"DesiredTasks":3}},{"Spec":{"Name":"old"}}]`
	got := string(SwarmMetrics(ReadSwarm(dockerapi.New(fakeEngine(t, nodes, services)))).Bytes())
	for _, line := range []string{
		"swarm_ha_swarm_api_up 1\n",
		`swarm_ha_node_ready{address="172.30.213.11",node="lab-m1",role="manager"} 1` + "\n",
		`swarm_ha_node_ready{address="172.30.213.12",node="lab-m2",role="manager"} 0` + "\n",
		`swarm_ha_node_active{address="172.30.213.21",node="lab-w1",role="worker"} 0` + "\n",
		`swarm_ha_manager_reachable{address="172.30.213.11",node="lab-m1"} 1` + "\n",
		`swarm_ha_manager_reachable{address="172.30.213.12",node="lab-m2"} 0` + "\n",
		`swarm_ha_manager_leader{address="172.30.213.11",node="lab-m1"} 1` + "\n",
		`swarm_ha_service_tasks_running{service="web"} 2` + "\n",
		`swarm_ha_service_tasks_desired{service="web"} 3` + "\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("missing %q in\n%s", line, got)
		}
	}
	if strings.Contains(got, `swarm_ha_manager_reachable{address="172.30.213.21"`) {
		t.Errorf("a worker was reported as a manager:\n%s", got)
	}
	if strings.Contains(got, `service="old"`) {
		t.Errorf("a service without a status was rendered:\n%s", got)
	}
}

func TestSwarmMetricsWithoutAQuorum(t *testing.T) {
	got := string(SwarmMetrics(Swarm{Err: errors.New("docker /nodes: 503 Service Unavailable: The swarm does not have a leader")}).Bytes())
	if !strings.HasSuffix(got, "swarm_ha_swarm_api_up 0\n") || strings.Count(got, "\n") != 3 {
		t.Errorf("got\n%s", got)
	}
}

func TestSwarmMetricsWithoutAnEngine(t *testing.T) {
	s := ReadSwarm(dockerapi.New(filepath.Join(os.TempDir(), "no-such-engine.sock")))
	if s.Err == nil || !strings.Contains(s.Err.Error(), "docker /nodes") {
		t.Errorf("got %v", s.Err)
	}
}

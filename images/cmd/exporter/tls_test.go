package main

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/swarm-ha/images/internal/fake"
	"github.com/swarm-ha/images/internal/zktls"
)

// tlsZooKeeper answers one connection on loopback, over TLS with cert, with answer after "mntr".
func tlsZooKeeper(t *testing.T, cert tls.Certificate, answer string) string {
	t.Helper()
	return answerOn(t, fake.TLSListen(t, cert), answer)
}

func TestMntrOverTLSFromAServerTheCASigned(t *testing.T) {
	caPEM, cert := fake.CA(t)
	config, err := zktls.ClientConfig(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	target := tlsZooKeeper(t, cert, "zk_server_state\tfollower\n")
	got := string(ZooKeeperMetrics(Mntr(target, time.Second, config)).Bytes())
	if !strings.Contains(got, "zk_up 1\n") || !strings.Contains(got, `zk_server_state{state="follower"} 1`) {
		t.Errorf("over TLS:\n%s", got)
	}
}

func TestMntrOverTLSRefusesAServerOfAnotherCA(t *testing.T) {
	_, cert := fake.CA(t)
	otherPEM, _ := fake.CA(t)
	config, err := zktls.ClientConfig(otherPEM)
	if err != nil {
		t.Fatal(err)
	}
	target := tlsZooKeeper(t, cert, "zk_server_state\tleader\n")
	if _, err := Mntr(target, time.Second, config); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a server of another CA: err = %v, want a certificate error", err)
	}
}

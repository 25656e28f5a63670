// swarm-ha-registrar: registers the running tasks of the swarm's services that ask for it in
// ZooKeeper, as Apache Curator's service discovery lays them out, and keeps them current.
//
// It runs as a Swarm service on the managers with the Docker socket mounted. Settings, from the
// environment:
//
//	ZOOKEEPER_CONNECT   the ensemble, "host:port,host:port" (required)
//	ZOOKEEPER_TLS_CA    the ensemble's CA certificate (PEM) when it speaks TLS: the connect string
//	                    names the secure client ports, and servers must present a certificate it signed
//	REGISTRY_ROOT       where instances go, ROOT/<service>/<task id> (default /services)
//	ELECTION_PATH       the leader's ephemeral znode (default /swarm-ha/registrar/leader)
//	ZK_PASSWORD_FILE    the password of the registrar's own digest user (never super); with it the
//	                    registrar authenticates as ZK_USER, and what it creates is readable by
//	                    everyone and writable by that user only (existing znodes it may change get
//	                    that ACL too)
//	ZK_USER             the registrar's digest user (default registrar; "super" is refused)
//	DOCKER_SOCKET       the engine's socket (default /var/run/docker.sock)
//	POLL_INTERVAL       how often the swarm is read (default 250ms)
//	SESSION_TIMEOUT     the ZooKeeper session's timeout (default 6s): how long a dead leader's
//	                    instances outlive it before another task registers them again
//	TASK_NAME           this task's name, written into the election znode (default the host name)
package main

import (
	"crypto/tls"
	"log"
	"net"
	"os"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/swarm-ha/images/internal/dockerapi"
	"github.com/swarm-ha/images/internal/setting"
	"github.com/swarm-ha/images/internal/zktls"
)

var env = setting.String

func duration(key, fallback string) time.Duration {
	d, err := setting.Duration(key, fallback)
	if err != nil {
		log.Fatalf("swarm-ha-registrar: %v", err)
	}
	return d
}

func main() {
	logger := log.New(os.Stdout, "", log.LstdFlags|log.Lmicroseconds)
	connect := os.Getenv("ZOOKEEPER_CONNECT")
	if connect == "" {
		logger.Fatal("swarm-ha-registrar: ZOOKEEPER_CONNECT is empty; give the ensemble as host:port,host:port")
	}
	host, _ := os.Hostname()
	name := env("TASK_NAME", host)
	poll := duration("POLL_INTERVAL", "250ms")
	var tlsConfig *tls.Config
	if ca := os.Getenv("ZOOKEEPER_TLS_CA"); ca != "" {
		var err error
		if tlsConfig, err = zktls.ClientConfig(ca); err != nil {
			logger.Fatalf("swarm-ha-registrar: ZOOKEEPER_TLS_CA: %v", err)
		}
	}
	dialer := func(network, address string, timeout time.Duration) (net.Conn, error) {
		return zktls.Dial(network, address, timeout, tlsConfig)
	}
	conn, _, err := zk.Connect(strings.Split(connect, ","), duration("SESSION_TIMEOUT", "6s"), zk.WithLogger(logger), zk.WithDialer(dialer))
	if err != nil {
		logger.Fatalf("swarm-ha-registrar: ZooKeeper %s: %v", connect, err)
	}
	acl := zk.WorldACL(zk.PermAll)
	if file := os.Getenv("ZK_PASSWORD_FILE"); file != "" {
		user := env("ZK_USER", "registrar")
		if err := CheckUser(user); err != nil {
			logger.Fatalf("swarm-ha-registrar: ZK_USER: %v", err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			logger.Fatalf("swarm-ha-registrar: ZK_PASSWORD_FILE: %v", err)
		}
		password := strings.TrimSpace(string(data))
		if password == "" {
			logger.Fatalf("swarm-ha-registrar: ZK_PASSWORD_FILE %s is empty", file)
		}
		// The client sends the credentials again on every new session.
		if err := conn.AddAuth("digest", []byte(user+":"+password)); err != nil {
			logger.Fatalf("swarm-ha-registrar: authenticating to ZooKeeper as %s: %v", user, err)
		}
		acl = OwnACL(user, password)
	}
	docker := dockerapi.New(env("DOCKER_SOCKET", "/var/run/docker.sock"))
	r := &Registrar{
		Store:    conn,
		Read:     func() (Snapshot, error) { return ReadSnapshot(docker) },
		Root:     env("REGISTRY_ROOT", "/services"),
		Election: env("ELECTION_PATH", "/swarm-ha/registrar/leader"),
		ACL:      acl,
		Name:     name,
		Now:      time.Now,
		Log:      logger,
	}
	logger.Printf("swarm-ha-registrar %s: registering under %s in %s", name, r.Root, connect)
	lastErr, role := "", ""
	for {
		leading, err := r.Round()
		// The role is logged when it changes (Round logs when this task starts leading).
		now := role
		switch {
		case leading:
			now = "leading"
		case err == nil && conn.SessionID() != 0:
			now = "standing by"
		}
		if now != role && now == "standing by" {
			logger.Printf("standing by: another task leads")
		}
		role = now
		// An error is logged when it changes, not at every round.
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != lastErr {
			if msg != "" {
				logger.Printf("error: %s", msg)
			} else if lastErr != "" {
				logger.Printf("recovered")
			}
			lastErr = msg
		}
		time.Sleep(poll)
	}
}

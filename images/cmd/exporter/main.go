// swarm-ha-exporter: the metrics Prometheus needs about this platform that nothing else exposes.
//
//	/metrics             the swarm as its managers see it: each node's state and, for managers,
//	                     whether the others reach it and who leads; each service's running and desired
//	                     tasks. Read from the Docker socket of a manager.
//	/probe?target=H:P    one ZooKeeper server's `mntr`, as Prometheus's multi-target exporters do: one
//	                     scrape per server, zk_up 0 when it does not answer.
//
// Settings, from the environment:
//
//	LISTEN          the address to serve on (default :9142)
//	DOCKER_SOCKET   the engine's socket (default /var/run/docker.sock)
//	PROBE_TIMEOUT   how long a ZooKeeper server may take to answer (default 2s)
//	ZOOKEEPER_TLS_CA  the ensemble's CA certificate (PEM) when it speaks TLS: servers are asked over
//	                TLS and must present a certificate it signed
package main

import (
	"crypto/tls"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/swarm-ha/images/internal/dockerapi"
	"github.com/swarm-ha/images/internal/setting"
	"github.com/swarm-ha/images/internal/zktls"
)

func main() {
	timeout, err := setting.Duration("PROBE_TIMEOUT", "2s")
	if err != nil {
		log.Fatalf("swarm-ha-exporter: %v", err)
	}
	var tlsConfig *tls.Config
	if ca := os.Getenv("ZOOKEEPER_TLS_CA"); ca != "" {
		if tlsConfig, err = zktls.ClientConfig(ca); err != nil {
			log.Fatalf("swarm-ha-exporter: ZOOKEEPER_TLS_CA: %v", err)
		}
	}
	docker := dockerapi.New(setting.String("DOCKER_SOCKET", "/var/run/docker.sock"))
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(SwarmMetrics(ReadSwarm(docker)).Bytes())
	})
	mux.HandleFunc("/probe", func(w http.ResponseWriter, r *http.Request) {
		target := r.URL.Query().Get("target")
		if target == "" {
			http.Error(w, "give the ZooKeeper server as ?target=host:port", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(ZooKeeperMetrics(Mntr(target, timeout, tlsConfig)).Bytes())
	})
	listen := setting.String("LISTEN", ":9142")
	log.Printf("swarm-ha-exporter: serving /metrics and /probe on %s", listen)
	server := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(server.ListenAndServe())
}

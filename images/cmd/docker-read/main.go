// swarm-ha-docker-read: the Docker Engine API, read-only, for the platform's own services. It
// listens on a unix socket in a folder the consumers mount (the registrar, the exporter and
// Prometheus's Swarm discovery) and passes on to the engine's socket only GET and HEAD of the
// lists they read (proxy.go); every other request is answered 403 and never reaches the engine.
// The lists of services and tasks lose their containers' environment, command lines, secrets and
// configs on the way (filter.go).
// Only this service mounts the engine's socket, and it publishes no port.
//
// Settings, from the environment:
//
//	LISTEN     the socket to listen on (default /run/docker-read/docker.sock)
//	UPSTREAM   the engine's socket (default /var/run/docker.sock)
package main

import (
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/swarm-ha/images/internal/setting"
)

var env = setting.String

func main() {
	listen := env("LISTEN", "/run/docker-read/docker.sock")
	upstream := env("UPSTREAM", "/var/run/docker.sock")
	l, err := Listen(listen)
	if err != nil {
		log.Fatalf("swarm-ha-docker-read: listening on %s: %v", listen, err)
	}
	server := &http.Server{
		Handler:           Proxy(upstream),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		// Exit without closing the listener: that would not unlink the file (Listen), but a
		// newer task listening there must not see a gap either.
		os.Exit(0)
	}()
	log.Printf("swarm-ha-docker-read: %s, read-only, to %s", listen, upstream)
	log.Fatal(server.Serve(l))
}

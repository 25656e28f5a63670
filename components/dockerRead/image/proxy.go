// The filter: which requests reach the engine. Only reads, and only of the lists the platform's
// own services ask for; everything else is answered 403 here and never reaches the engine.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"regexp"
	"strings"
)

// Allowed are the API paths answered, each with or without a /vX.Y version prefix:
//
//	/_ping      the Docker client's API version negotiation (Prometheus's discovery)
//	/nodes      the registrar, the exporter, Prometheus's dockerswarm_sd (roles nodes and tasks)
//	/services   the registrar, the exporter (?status=true), dockerswarm_sd (tasks)
//	/tasks      the registrar, dockerswarm_sd (tasks)
//	/networks   dockerswarm_sd (tasks: the networks' names and labels)
//
// Lists only: no /services/ID, no /containers, /secrets, /configs, /swarm (its join tokens),
// /info or /events. Query strings (filters, status) pass as they are: they narrow a list.
var Allowed = []string{"/_ping", "/nodes", "/services", "/tasks", "/networks"}

var allowedPath = regexp.MustCompile(
	`^(/v[0-9]{1,3}\.[0-9]{1,3})?(` + strings.Join(Allowed, "|") + `)$`)

// allowedMethods are the methods answered: reads.
var allowedMethods = map[string]bool{http.MethodGet: true, http.MethodHead: true}

// Permitted tells whether a request for method and path (as the server decoded it) is answered,
// and the path sent on to the engine.
func Permitted(method, path string) (string, bool) {
	if !allowedMethods[method] || !allowedPath.MatchString(path) {
		return "", false
	}
	return path, true
}

// Refusal is the body of a 403: the method and path refused, and what is answered.
func Refusal(method, path string) string {
	return fmt.Sprintf("docker-read: %s %q is refused; only GET and HEAD of %s (optionally /vX.Y/...) are answered\n",
		method, path, strings.Join(Allowed, ", "))
}

// Proxy answers permitted requests from the engine listening on the unix socket upstream.
func Proxy(upstream string) http.Handler {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", upstream)
	}
	engine := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			// The path checked, never the raw one the client wrote (no %2F or other spelling).
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = "docker"
			r.Out.URL.Path, _ = Permitted(r.In.Method, r.In.URL.Path)
			r.Out.URL.RawPath = ""
			r.Out.Host = "docker"
		},
		Transport: &http.Transport{DialContext: dial, DisableCompression: true},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "docker-read: the engine did not answer: "+err.Error(), http.StatusBadGateway)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := Permitted(r.Method, r.URL.Path); !ok || r.Header.Get("Upgrade") != "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, Refusal(r.Method, r.URL.Path))
			return
		}
		engine.ServeHTTP(w, r)
	})
}

// Listen listens on the unix socket at path, replacing a socket a previous task left there, and
// lets every user of the folder connect (only containers that mount it reach it; what they get
// is read-only). Closing the listener leaves the file: a newer task may be listening there by then.
func Listen(path string) (*net.UnixListener, error) {
	if err := removeSocket(path); err != nil {
		return nil, err
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(false)
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

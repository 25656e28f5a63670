// The filter: which requests reach the engine. Only reads, and only of the lists the platform's
// own services ask for; everything else is answered 403 here and never reaches the engine. The
// replies of /services and /tasks are filtered (filter.go) before they reach the client.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"regexp"
	"strconv"
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
// /info or /events. Query strings (filters, status, insertDefaults) pass as they are: they
// narrow a list or fill in its defaults. The lists of services and tasks come back without their
// containers' environment, command lines, secrets and configs (filter.go).
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
			if Filtered(r.Out.URL.Path) {
				// A reply to filter is read as it is written: never compressed.
				r.Out.Header.Del("Accept-Encoding")
			}
		},
		Transport:      &http.Transport{DialContext: dial, DisableCompression: true},
		ModifyResponse: filterReply,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			var refused *errReply
			if errors.As(err, &refused) {
				log.Print(refused.Error())
				http.Error(w, refused.Error(), http.StatusBadGateway)
				return
			}
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
		if r.Method == http.MethodHead && Filtered(r.URL.Path) {
			// The engine is asked for the list itself, so that the length answered is the
			// filtered one; the server sends no body for a HEAD.
			r = r.Clone(r.Context())
			r.Method = http.MethodGet
		}
		engine.ServeHTTP(w, r)
	})
}

// filterReply filters a successful reply to /services or /tasks (filter.go) and sets its length;
// an error of the engine passes as it is, with its status and body.
func filterReply(resp *http.Response) error {
	path := resp.Request.URL.Path
	if !Filtered(path) || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return &errReply{path, "is encoded (" + strconv.Quote(ce) + ")"}
	}
	body, err := Filter(path, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.TransferEncoding = nil
	resp.Trailer = nil
	for _, h := range []string{"Content-Encoding", "Trailer", "Etag", "Content-Md5"} {
		resp.Header.Del(h)
	}
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
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

package main

import (
	"bufio"
	"context"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// engine is a fake Docker engine on a unix socket: it records each request it gets and answers
// with answer, or 200 and an empty list.
type engine struct {
	mu     sync.Mutex
	seen   []string
	answer http.HandlerFunc
}

func (e *engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.seen = append(e.seen, r.Method+" "+r.URL.RequestURI())
	answer := e.answer
	e.mu.Unlock()
	if answer != nil {
		answer(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, "[]")
}

// answers makes the engine answer with answer from now on.
func (e *engine) answers(answer http.HandlerFunc) {
	e.mu.Lock()
	e.answer = answer
	e.mu.Unlock()
}

func (e *engine) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.seen...)
}

// shortDir is a temporary folder with a path short enough for a unix socket (108 bytes).
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// start runs a fake engine and the proxy in front of it; it returns the engine and a client of
// the proxy's socket.
func start(t *testing.T) (*engine, *http.Client, string) {
	t.Helper()
	dir := shortDir(t)
	upstream := filepath.Join(dir, "engine.sock")
	el, err := net.Listen("unix", upstream)
	if err != nil {
		t.Fatal(err)
	}
	e := &engine{}
	es := &http.Server{Handler: e}
	go es.Serve(el)
	t.Cleanup(func() { es.Close() })

	socket := filepath.Join(dir, "docker.sock")
	pl, err := Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	ps := &http.Server{Handler: Proxy(upstream)}
	go ps.Serve(pl)
	t.Cleanup(func() { ps.Close() })
	return e, unixClient(socket), socket
}

func unixClient(socket string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}
}

func do(t *testing.T, c *http.Client, method, target string) (int, string) {
	t.Helper()
	resp, body := get(t, c, method, target)
	return resp.StatusCode, body
}

func TestTheConsumersReadsReachTheEngineAsAsked(t *testing.T) {
	e, c, _ := start(t)
	reads := []string{
		// The registrar.
		"GET /services?filters=%7B%22label%22%3A%5B%22swarm-ha.register%3Dtrue%22%5D%7D",
		"GET /tasks?filters=%7B%22desired-state%22%3A%5B%22running%22%5D%7D",
		"GET /nodes",
		// The exporter.
		"GET /services?status=true",
		// Prometheus's dockerswarm_sd: the client's version negotiation, then versioned lists.
		"HEAD /_ping",
		"GET /_ping",
		"GET /v1.41/nodes",
		"GET /v1.41/services",
		"GET /v1.41/tasks?filters=%7B%7D",
		"GET /v1.41/networks",
	}
	for _, r := range reads {
		method, target, _ := strings.Cut(r, " ")
		if code, body := do(t, c, method, target); code != http.StatusOK {
			t.Errorf("%s: %d %s", r, code, body)
		}
	}
	if got := e.requests(); strings.Join(got, "\n") != strings.Join(reads, "\n") {
		t.Errorf("the engine got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(reads, "\n"))
	}
}

func TestEverythingElseIsRefusedHereNamingMethodAndPath(t *testing.T) {
	e, c, _ := start(t)
	refused := []string{
		// Writes, even of an allowed path.
		"POST /containers/create",
		"POST /v1.41/services/create",
		"POST /nodes",
		"PUT /services",
		"DELETE /v1.41/networks",
		"PATCH /tasks",
		"OPTIONS /nodes",
		// Reads of anything but the lists.
		"GET /containers/json",
		"GET /v1.41/containers/abc/json",
		"GET /services/abc",
		"GET /nodes/abc",
		"GET /secrets",
		"GET /configs",
		"GET /swarm",
		"GET /info",
		"GET /events",
		"GET /version",
		"GET /v1.41/containers/abc/logs",
		"GET /images/json",
		// Other spellings of a path.
		"GET /nodes/",
		"GET /nodes/../containers/json",
		"GET /nodes%2F..%2Fcontainers%2Fjson",
		"GET //nodes",
		"GET /v1.41/v1.41/nodes",
		"GET /vX/nodes",
		"GET /NODES",
		"GET /nodes;x",
	}
	for _, r := range refused {
		method, target, _ := strings.Cut(r, " ")
		code, body := do(t, c, method, target)
		if code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", r, code)
			continue
		}
		if !strings.HasPrefix(body, "docker-read: "+method+" \"") || !strings.Contains(body, "is refused; only GET and HEAD of /_ping, /nodes, /services, /tasks, /networks") {
			t.Errorf("%s: body %q", r, body)
		}
	}
	if got := e.requests(); len(got) != 0 {
		t.Errorf("refused requests reached the engine: %v", got)
	}
	_, body := do(t, c, "POST", "/containers/create")
	if body != "docker-read: POST \"/containers/create\" is refused; only GET and HEAD of /_ping, /nodes, /services, /tasks, /networks (optionally /vX.Y/...) are answered\n" {
		t.Errorf("body %q", body)
	}
}

func TestAnUpgradeOrAHijackIsRefused(t *testing.T) {
	e, c, _ := start(t)
	req, _ := http.NewRequest("GET", "http://docker/nodes", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(e.requests()) != 0 {
		t.Errorf("upgrade: %d, engine saw %v", resp.StatusCode, e.requests())
	}
}

func TestARawRequestLineCannotSmuggleAnotherPath(t *testing.T) {
	e, _, socket := start(t)
	for _, line := range []string{
		"GET http://docker/containers/json HTTP/1.1",
		"GET /nodes?x HTTP/1.1\r\nX: y\r\n\r\nPOST /containers/create HTTP/1.1",
		"GET * HTTP/1.1",
	} {
		conn, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, line+"\r\nHost: docker\r\nConnection: close\r\n\r\n")
		r := bufio.NewReader(conn)
		for {
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				break
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		conn.Close()
	}
	for _, got := range e.requests() {
		if got != "GET /nodes?x" {
			t.Errorf("the engine got %q", got)
		}
	}
}

func TestAnEngineThatDoesNotAnswerIsA502(t *testing.T) {
	dir := shortDir(t)
	socket := filepath.Join(dir, "docker.sock")
	l, err := Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	s := &http.Server{Handler: Proxy(filepath.Join(dir, "none.sock"))}
	go s.Serve(l)
	defer s.Close()
	code, body := do(t, unixClient(socket), "GET", "/nodes")
	if code != http.StatusBadGateway || !strings.HasPrefix(body, "docker-read: the engine did not answer") {
		t.Errorf("%d %q", code, body)
	}
}

func TestListenReplacesAStaleSocketAndLeavesItOnClose(t *testing.T) {
	dir := shortDir(t)
	socket := filepath.Join(dir, "docker.sock")
	old, err := Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	// A newer task listens while the old one still runs; the old one's close leaves it in place.
	l, err := Listen(socket)
	if err != nil {
		t.Fatalf("a second listen: %v", err)
	}
	defer l.Close()
	old.Close()
	info, err := os.Stat(socket)
	if err != nil {
		t.Fatalf("the socket is gone after the old listener closed: %v", err)
	}
	if info.Mode().Type() != fs.ModeSocket || info.Mode().Perm() != 0o666 {
		t.Errorf("mode %v", info.Mode())
	}
}

func TestListenRefusesToRemoveAnythingButASocket(t *testing.T) {
	dir := shortDir(t)
	file := filepath.Join(dir, "docker.sock")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(file); err == nil || !strings.Contains(err.Error(), "is not a socket") {
		t.Errorf("err %v", err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("the file was removed: %v", err)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// secret marks every value the filter must remove; no reply may contain it.
const secret = "SECRET"

// A service as the engine lists it, after an update (PreviousSpec) and with ?status=true; the
// fields to remove hold "SECRET". MemoryBytes is above 2^53 and UpdateStatus.Message has what
// an HTML-escaping encoder would change: both must come back as they were.
const serviceJSON = `{"ID":"9mnpnzenvg8p8tdbtq4wvbkcz","Version":{"Index":19},
"CreatedAt":"2026-12-01T21:05:51.880065305Z","UpdatedAt":"2026-12-02T08:00:00.1Z",
"Spec":{"Name":"web","Labels":{"swarm-ha.register":"true","swarm-ha.register.port":"80"},
 "TaskTemplate":{"ContainerSpec":{"Image":"swarm-ha-web:3","Labels":{"team":"é"},
  "Command":["/bin/sh","-c"],"Args":["httpd -f --password=SECRET-arg"],
  "Hostname":"{{.Task.Name}}","Env":["DB_PASSWORD=SECRET-env","PLAIN=1"],
  "Healthcheck":{"Test":["CMD","curl","-u","admin:SECRET-hc","http://localhost/"],
   "Interval":30000000000,"Timeout":5000000000,"Retries":3},
  "Secrets":[{"File":{"Name":"db","UID":"0","GID":"0","Mode":292},"SecretID":"s1","SecretName":"SECRET-ref"}],
  "Configs":[{"File":{"Name":"/etc/web.conf","UID":"0","GID":"0","Mode":292},"ConfigID":"c1","ConfigName":"SECRET-cfg"}],
  "Mounts":[{"Type":"volume","Source":"data","Target":"/data"}],"Isolation":"default"},
  "Resources":{"Limits":{"NanoCPUs":500000000,"MemoryBytes":9007199254740993}},
  "RestartPolicy":{"Condition":"any","Delay":5000000000,"MaxAttempts":0},
  "Placement":{"Constraints":["node.role==worker"]},"Networks":[{"Target":"n1","Aliases":["web"]}],
  "ForceUpdate":0,"Runtime":"container"},
 "Mode":{"Replicated":{"Replicas":2}},
 "EndpointSpec":{"Mode":"vip","Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080,"PublishMode":"ingress"}]}},
"PreviousSpec":{"Name":"web","TaskTemplate":{"ContainerSpec":{"Image":"swarm-ha-web:2",
  "Env":["DB_PASSWORD=SECRET-old"],"Args":["SECRET-old-arg"]}},"Mode":{"Replicated":{"Replicas":1}}},
"Endpoint":{"Spec":{"Mode":"vip"},"VirtualIPs":[{"NetworkID":"n1","Addr":"10.0.0.2/24"}]},
"ServiceStatus":{"RunningTasks":2,"DesiredTasks":2,"CompletedTasks":0},
"UpdateStatus":{"State":"completed","Message":"update completed <done> & ok"}}`

// The same service as the proxy must answer it.
const serviceFiltered = `{"ID":"9mnpnzenvg8p8tdbtq4wvbkcz","Version":{"Index":19},
"CreatedAt":"2026-12-01T21:05:51.880065305Z","UpdatedAt":"2026-12-02T08:00:00.1Z",
"Spec":{"Name":"web","Labels":{"swarm-ha.register":"true","swarm-ha.register.port":"80"},
 "TaskTemplate":{"ContainerSpec":{"Image":"swarm-ha-web:3","Labels":{"team":"é"},
  "Hostname":"{{.Task.Name}}",
  "Healthcheck":{"Interval":30000000000,"Timeout":5000000000,"Retries":3},
  "Mounts":[{"Type":"volume","Source":"data","Target":"/data"}],"Isolation":"default"},
  "Resources":{"Limits":{"NanoCPUs":500000000,"MemoryBytes":9007199254740993}},
  "RestartPolicy":{"Condition":"any","Delay":5000000000,"MaxAttempts":0},
  "Placement":{"Constraints":["node.role==worker"]},"Networks":[{"Target":"n1","Aliases":["web"]}],
  "ForceUpdate":0,"Runtime":"container"},
 "Mode":{"Replicated":{"Replicas":2}},
 "EndpointSpec":{"Mode":"vip","Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080,"PublishMode":"ingress"}]}},
"PreviousSpec":{"Name":"web","TaskTemplate":{"ContainerSpec":{"Image":"swarm-ha-web:2"}},"Mode":{"Replicated":{"Replicas":1}}},
"Endpoint":{"Spec":{"Mode":"vip"},"VirtualIPs":[{"NetworkID":"n1","Addr":"10.0.0.2/24"}]},
"ServiceStatus":{"RunningTasks":2,"DesiredTasks":2,"CompletedTasks":0},
"UpdateStatus":{"State":"completed","Message":"update completed <done> & ok"}}`

// A task as the engine lists it, and as the proxy must answer it; the second is a network
// attachment's task, with no container spec.
const taskJSON = `{"ID":"0kzzo1i0y4jz6027t0k7aezc7","Version":{"Index":71},"Labels":{},
"Spec":{"ContainerSpec":{"Image":"swarm-ha-web:3","Labels":{"com.docker.stack.namespace":"demo"},
  "Args":["--token","SECRET-arg"],"Env":["API_KEY=SECRET-env"],
  "Secrets":[{"SecretID":"s1","SecretName":"SECRET-ref"}],"Configs":[{"ConfigID":"c1","ConfigName":"SECRET-cfg"}]},
 "Resources":{},"Placement":{},"ForceUpdate":0},
"ServiceID":"9mnpnzenvg8p8tdbtq4wvbkcz","Slot":1,"NodeID":"60gvrl6tm78dmak4yl7srz94v",
"Status":{"Timestamp":"2026-12-02T08:00:01.2Z","State":"running","Message":"started",
 "ContainerStatus":{"ContainerID":"e5d62702a1b4","PID":677}},"DesiredState":"running",
"NetworksAttachments":[{"Network":{"ID":"n1","Spec":{"Name":"demo","Labels":{}}},"Addresses":["10.0.0.3/24"]}]}`

const taskFiltered = `{"ID":"0kzzo1i0y4jz6027t0k7aezc7","Version":{"Index":71},"Labels":{},
"Spec":{"ContainerSpec":{"Image":"swarm-ha-web:3","Labels":{"com.docker.stack.namespace":"demo"}},
 "Resources":{},"Placement":{},"ForceUpdate":0},
"ServiceID":"9mnpnzenvg8p8tdbtq4wvbkcz","Slot":1,"NodeID":"60gvrl6tm78dmak4yl7srz94v",
"Status":{"Timestamp":"2026-12-02T08:00:01.2Z","State":"running","Message":"started",
 "ContainerStatus":{"ContainerID":"e5d62702a1b4","PID":677}},"DesiredState":"running",
"NetworksAttachments":[{"Network":{"ID":"n1","Spec":{"Name":"demo","Labels":{}}},"Addresses":["10.0.0.3/24"]}]}`

const attachmentTask = `{"ID":"t2","Spec":{"NetworkAttachmentSpec":{"ContainerID":"c2"}},"Status":{"State":"running"}}`

// canonical is a JSON text decoded and encoded again as the filter encodes (keys sorted,
// numbers as written, no HTML escaping): two replies are equal when their canonical forms are.
func canonical(t *testing.T, text string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v in %s", err, text)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// lists answers /services and /tasks (any version) with the fixtures, as the engine does: JSON,
// its API version, and a newline after the value; it fails when the proxy asked for compression.
func lists(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ae := r.Header.Get("Accept-Encoding"); ae != "" {
			t.Errorf("%s: the engine was asked for Accept-Encoding %q", r.URL, ae)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Api-Version", "1.47")
		switch unversioned(r.URL.Path) {
		case "/services":
			io.WriteString(w, "["+serviceJSON+"]\n")
		case "/tasks":
			io.WriteString(w, "["+taskJSON+","+attachmentTask+"]\n")
		case "/_ping":
			io.WriteString(w, "OK")
		default:
			t.Errorf("unexpected %s", r.URL)
		}
	}
}

func get(t *testing.T, c *http.Client, method, target string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://docker"+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestTheListsOfServicesAndTasksComeBackWithoutTheContainersSecrets(t *testing.T) {
	e, c, _ := start(t)
	e.answers(lists(t))
	services := canonical(t, "["+serviceFiltered+"]")
	tasks := canonical(t, "["+taskFiltered+","+attachmentTask+"]")
	for target, want := range map[string]string{
		"/services":                     services,
		"/services?insertDefaults=true": services,
		"/v1.41/services?status=true":   services,
		"/v1.47/services?filters=%7B%22label%22%3A%5B%22swarm-ha.register%3Dtrue%22%5D%7D": services,
		"/tasks": tasks,
		"/v1.41/tasks?filters=%7B%22desired-state%22%3A%5B%22running%22%5D%7D": tasks,
	} {
		resp, body := get(t, c, "GET", target)
		if resp.StatusCode != http.StatusOK || body != want {
			t.Errorf("%s: %d\n%s\nwant\n%s", target, resp.StatusCode, body, want)
		}
		if strings.Contains(body, secret) {
			t.Errorf("%s: a secret reached the client: %s", target, body)
		}
		for _, kept := range []string{"9007199254740993", "<done> & ok", "é"} {
			if strings.Contains(target, "services") && !strings.Contains(body, kept) {
				t.Errorf("%s: %q changed in %s", target, kept, body)
			}
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) || resp.ContentLength != int64(len(body)) {
			t.Errorf("%s: Content-Length %q (%d), body %d bytes", target, got, resp.ContentLength, len(body))
		}
		if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Api-Version") != "1.47" {
			t.Errorf("%s: headers %v", target, resp.Header)
		}
	}
	for _, got := range e.requests() {
		if !strings.HasPrefix(got, "GET /") {
			t.Errorf("the engine got %q", got)
		}
	}
	if got := len(e.requests()); got != 6 {
		t.Errorf("the engine got %d requests, want 6", got)
	}
}

func TestTheQueryStringReachesTheEngineAsWritten(t *testing.T) {
	e, c, _ := start(t)
	e.answers(lists(t))
	get(t, c, "GET", "/v1.41/services?insertDefaults=true&status=true")
	if got := e.requests(); len(got) != 1 || got[0] != "GET /v1.41/services?insertDefaults=true&status=true" {
		t.Errorf("the engine got %v", got)
	}
}

func TestOneObjectIsFilteredLikeAList(t *testing.T) {
	got, err := Filter("/services", strings.NewReader(serviceJSON))
	if err != nil || string(got) != canonical(t, serviceFiltered) {
		t.Errorf("%v\n%s", err, got)
	}
	got, err = Filter("/v1.41/tasks", strings.NewReader(taskJSON))
	if err != nil || string(got) != canonical(t, taskFiltered) {
		t.Errorf("%v\n%s", err, got)
	}
}

func TestAPathTheFilterDoesNotKnowIsRefusedNotPassed(t *testing.T) {
	for _, path := range []string{"/nodes", "GET /services", "/services/abc", ""} {
		_, err := Filter(path, strings.NewReader(`[{"Spec":{"ContainerSpec":{"Env":["A=SECRET"]}}}]`))
		if err == nil || !strings.HasSuffix(err.Error(), " is of a path the filter does not know; refused") {
			t.Errorf("%q: %v", path, err)
		}
	}
}

func TestTheFilterRemovesOnlyWhatItNames(t *testing.T) {
	for _, c := range []struct{ path, in, want string }{
		{"/services", `[]`, "[]\n"},
		{"/tasks", `[]`, "[]\n"},
		// Nothing to remove: missing or null steps.
		{"/services", `[{"ID":"a"},{"Spec":null},{"Spec":{"TaskTemplate":{"ContainerSpec":null}}}]`,
			`[{"ID":"a"},{"Spec":null},{"Spec":{"TaskTemplate":{"ContainerSpec":null}}}]` + "\n"},
		// Keys in another case, as Docker's client would read them, and a null health check.
		{"/tasks", `[{"spec":{"containerSpec":{"env":["A=SECRET"],"ARGS":["SECRET"],"Image":"x","Healthcheck":null}}}]`,
			`[{"spec":{"containerSpec":{"Healthcheck":null,"Image":"x"}}}]` + "\n"},
		// Only the container spec's fields: the same names elsewhere stay.
		{"/services", `[{"Env":"e","Spec":{"Env":"s","TaskTemplate":{"Env":"t","ContainerSpec":{"Image":"x"}}}}]`,
			`[{"Env":"e","Spec":{"Env":"s","TaskTemplate":{"ContainerSpec":{"Image":"x"},"Env":"t"}}}]` + "\n"},
		// A task's spec is not a service's: no TaskTemplate step.
		{"/tasks", `[{"Spec":{"TaskTemplate":{"ContainerSpec":{"Env":["kept"]}}}}]`,
			`[{"Spec":{"TaskTemplate":{"ContainerSpec":{"Env":["kept"]}}}}]` + "\n"},
		// Numbers keep their text.
		{"/tasks", `[{"Version":{"Index":1.50e3},"Big":123456789012345678901234567890}]`,
			`[{"Big":123456789012345678901234567890,"Version":{"Index":1.50e3}}]` + "\n"},
	} {
		got, err := Filter(c.path, strings.NewReader(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("%s %s: %v\n%s\nwant\n%s", c.path, c.in, err, got, c.want)
		}
	}
}

func TestOtherListsPassByteForByte(t *testing.T) {
	e, c, _ := start(t)
	// Keys out of order, spacing, an "Env": none of it is touched outside /services and /tasks.
	reply := `[ {"Spec":{"Name":"n","ContainerSpec":{"Env":["X=1"]}}, "ID":"z"} ]`
	e.answers(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, reply)
	})
	for _, target := range []string{"/nodes", "/v1.41/networks", "/_ping"} {
		resp, body := get(t, c, "GET", target)
		if resp.StatusCode != http.StatusOK || body != reply || resp.ContentLength != int64(len(reply)) {
			t.Errorf("%s: %d %d %q", target, resp.StatusCode, resp.ContentLength, body)
		}
	}
}

func TestAnEngineErrorPassesAsItIs(t *testing.T) {
	e, c, _ := start(t)
	for _, c2 := range []struct {
		code        int
		contentType string
		body        string
	}{
		{500, "application/json", `{"message":"rpc error: code = Unknown desc = The swarm does not have a leader. <x> & y"}` + "\n"},
		{503, "application/json", `{"message":"This node is not a swarm manager."}` + "\n"},
		{400, "application/json", `{"message":"invalid filter 'nope'"}` + "\n"},
		{404, "text/plain; charset=utf-8", "page not found\n"},
	} {
		e.answers(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", c2.contentType)
			w.Header().Set("Api-Version", "1.47")
			w.WriteHeader(c2.code)
			io.WriteString(w, c2.body)
		})
		for _, target := range []string{"/services", "/v1.41/tasks?filters=nope"} {
			resp, body := get(t, c, "GET", target)
			if resp.StatusCode != c2.code || body != c2.body || resp.Header.Get("Content-Type") != c2.contentType ||
				resp.Header.Get("Api-Version") != "1.47" || resp.ContentLength != int64(len(c2.body)) {
				t.Errorf("%s: %d %v %q, want %d %q", target, resp.StatusCode, resp.Header, body, c2.code, c2.body)
			}
		}
	}
}

func TestAReplyThatCannotBeFilteredIsRefused(t *testing.T) {
	e, c, _ := start(t)
	both := []string{"/services", "/v1.41/tasks"}
	for _, c2 := range []struct {
		targets                []string
		encoding, body, reason string
	}{
		{both, "", "not json SECRET", "is not JSON"},
		{both, "", `[{"Spec":{"TaskTemplate":{"ContainerSpec":{"Env":["A=SECRET`, "is not JSON"},
		{both, "", "", "is not JSON"},
		{both, "", `[] ["SECRET"]`, "has more than one JSON value"},
		{both, "", `[{"ID":"a"}] x`, "has more than one JSON value"},
		{both, "", `["SECRET"]`, "is a list of something other than objects"},
		{both, "", `[{"ID":"a"},null]`, "is a list of something other than objects"},
		{both, "", `"SECRET"`, "is neither a list nor an object"},
		{both, "", `null`, "is neither a list nor an object"},
		{[]string{"/services"}, "", `[{"Spec":"SECRET"}]`, "has a Spec.TaskTemplate.ContainerSpec that is not an object"},
		{[]string{"/v1.41/tasks"}, "", `[{"Spec":"SECRET"}]`, "has a Spec.ContainerSpec that is not an object"},
		{[]string{"/services"}, "", `[{"PreviousSpec":{"TaskTemplate":["SECRET"]}}]`, "has a PreviousSpec.TaskTemplate.ContainerSpec that is not an object"},
		{[]string{"/services"}, "", `[{"Spec":{"TaskTemplate":{"ContainerSpec":["Env=SECRET"]}}}]`, "has a Spec.TaskTemplate.ContainerSpec that is not an object"},
		{[]string{"/services"}, "", `[{"Spec":{"TaskTemplate":{"ContainerSpec":{"Healthcheck":["SECRET"]}}}}]`, "has a Spec.TaskTemplate.ContainerSpec that is not an object"},
		{[]string{"/v1.41/tasks"}, "", `[{"Spec":{"ContainerSpec":{"Healthcheck":"SECRET"}}}]`, "has a Spec.ContainerSpec that is not an object"},
		{both, "gzip", `[{"Spec":{"ContainerSpec":{"Env":["A=SECRET"]}}}]`, `is encoded ("gzip")`},
	} {
		e.answers(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if c2.encoding != "" {
				w.Header().Set("Content-Encoding", c2.encoding)
			}
			io.WriteString(w, c2.body)
		})
		for _, target := range c2.targets {
			want := "docker-read: the engine's reply to GET " + target + " " + c2.reason + "; refused\n"
			resp, body := get(t, c, "GET", target)
			if resp.StatusCode != http.StatusBadGateway || body != want {
				t.Errorf("%s %q: %d %q, want %q", target, c2.body, resp.StatusCode, body, want)
			}
			if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("%s %q: headers %v", target, c2.body, resp.Header)
			}
		}
	}
}

func TestAReplyLargerThanTheLimitIsRefused(t *testing.T) {
	saved := maxReply
	maxReply = 1 << 20
	defer func() { maxReply = saved }()
	big := "[" + strings.Repeat(`{"ID":"x"},`, 1<<17) + `{"ID":"x"}]`
	_, err := Filter("/services", strings.NewReader(big))
	if err == nil || err.Error() != "docker-read: the engine's reply to GET /services is larger than 1 MiB; refused" {
		t.Errorf("err %v", err)
	}
	exact := "[" + strings.Repeat(" ", 1<<20-2) + "]"
	if got, err := Filter("/services", strings.NewReader(exact)); err != nil || string(got) != "[]\n" {
		t.Errorf("a reply of exactly the limit: %v %q", err, got)
	}
}

func TestHeadOfAFilteredListAnswersTheFilteredLength(t *testing.T) {
	e, c, _ := start(t)
	e.answers(lists(t))
	for _, target := range []string{"/services", "/v1.41/tasks?filters=%7B%7D"} {
		_, full := get(t, c, "GET", target)
		resp, body := get(t, c, "HEAD", target)
		if resp.StatusCode != http.StatusOK || body != "" || resp.ContentLength != int64(len(full)) ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("HEAD %s: %d %d (want %d) %q %v", target, resp.StatusCode, resp.ContentLength, len(full), body, resp.Header)
		}
	}
	// The engine is asked for the lists themselves; a HEAD of another path stays a HEAD.
	get(t, c, "HEAD", "/_ping")
	want := "GET /services\nGET /services\nGET /v1.41/tasks?filters=%7B%7D\nGET /v1.41/tasks?filters=%7B%7D\nHEAD /_ping"
	if got := strings.Join(e.requests(), "\n"); got != want {
		t.Errorf("the engine got\n%s\nwant\n%s", got, want)
	}
}

func TestALargeListIsFilteredWhole(t *testing.T) {
	e, c, _ := start(t)
	const n = 5000
	e.answers(func(w http.ResponseWriter, r *http.Request) {
		// Written in pieces and flushed: the engine's reply is chunked, with no length.
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "[")
		for i := 0; i < n; i++ {
			if i > 0 {
				io.WriteString(w, ",")
			}
			fmt.Fprintf(w, `{"ID":"s%d","Spec":{"Name":"svc%d","TaskTemplate":{"ContainerSpec":{"Image":"img:%d","Env":["K%d=SECRET-%d"],"Args":["SECRET"]}}}}`, i, i, i, i, i)
			if i%500 == 0 {
				w.(http.Flusher).Flush()
			}
		}
		io.WriteString(w, "]\n")
	})
	resp, body := get(t, c, "GET", "/v1.41/services")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, secret) {
		t.Fatalf("%d, secret in the reply: %v", resp.StatusCode, strings.Contains(body, secret))
	}
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("length %d, transfer encoding %v, body %d bytes", resp.ContentLength, resp.TransferEncoding, len(body))
	}
	var list []struct {
		ID   string
		Spec struct {
			Name         string
			TaskTemplate struct{ ContainerSpec map[string]any }
		}
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != n {
		t.Fatalf("%v, %d services", err, len(list))
	}
	for i, s := range list {
		cs := s.Spec.TaskTemplate.ContainerSpec
		if s.ID != fmt.Sprintf("s%d", i) || s.Spec.Name != fmt.Sprintf("svc%d", i) || len(cs) != 1 || cs["Image"] != fmt.Sprintf("img:%d", i) {
			t.Fatalf("service %d: %+v", i, s)
		}
	}
}

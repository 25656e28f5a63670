package dockerapi

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarm-ha/images/internal/fake"
)

func TestGetDecodesTheAnswerAndPassesTheFilters(t *testing.T) {
	socket := fake.Engine(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services" || r.URL.Query().Get("filters") != `{"label":["a=b"]}` {
			http.Error(w, "asked "+r.URL.String(), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `[{"ID":"s1"}]`)
	}))
	var got []struct{ ID string }
	if err := New(socket).Get("/services", Filters(map[string][]string{"label": {"a=b"}}), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "s1" {
		t.Errorf("got %+v", got)
	}
}

func TestGetNamesThePathAndTheEnginesRefusal(t *testing.T) {
	socket := fake.Engine(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "This node is not a swarm manager.", http.StatusServiceUnavailable)
	}))
	err := New(socket).Get("/nodes", nil, &[]any{})
	if err == nil || err.Error() != "docker /nodes: 503 Service Unavailable: This node is not a swarm manager.\n" {
		t.Errorf("err = %v", err)
	}
}

func TestGetNamesThePathWithoutAnEngine(t *testing.T) {
	err := New(filepath.Join(os.TempDir(), "no-such-engine.sock")).Get("/nodes", nil, &[]any{})
	if err == nil || !strings.HasPrefix(err.Error(), "docker /nodes: ") {
		t.Errorf("err = %v", err)
	}
}

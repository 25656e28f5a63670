package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log"
	"path"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// fakeStore is an in-memory ZooKeeper tree with sessions and ACLs, checked as ZooKeeper checks
// them: creating and deleting need the parent's create and delete permissions, setting an ACL the
// znode's admin permission. The session's identity is the digest id it authenticated with ("" for
// an anonymous one).
type fakeStore struct {
	session  int64
	identity string
	nodes    map[string]*fakeNode
	ops      []string
}

type fakeNode struct {
	data  []byte
	owner int64
	acl   []zk.ACL
}

func newFakeStore(session int64) *fakeStore {
	return &fakeStore{session: session, nodes: map[string]*fakeNode{"/": {acl: zk.WorldACL(zk.PermAll)}}}
}

// allowed reports whether the session's identity has perm on the znode at p.
func (f *fakeStore) allowed(p string, perm int32) bool {
	for _, a := range f.nodes[p].acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.Scheme == "world" && a.ID == "anyone" || a.Scheme == "digest" && a.ID == f.identity && f.identity != "" {
			return true
		}
	}
	return false
}

func (f *fakeStore) GetACL(p string) ([]zk.ACL, *zk.Stat, error) {
	n, ok := f.nodes[p]
	if !ok {
		return nil, nil, zk.ErrNoNode
	}
	if !f.allowed(p, zk.PermRead|zk.PermAdmin) {
		return nil, nil, zk.ErrNoAuth
	}
	return append([]zk.ACL(nil), n.acl...), &zk.Stat{}, nil
}

func (f *fakeStore) SetACL(p string, acl []zk.ACL, _ int32) (*zk.Stat, error) {
	n, ok := f.nodes[p]
	if !ok {
		return nil, zk.ErrNoNode
	}
	if !f.allowed(p, zk.PermAdmin) {
		return nil, zk.ErrNoAuth
	}
	n.acl = acl
	f.ops = append(f.ops, "setACL "+p)
	return &zk.Stat{}, nil
}

func (f *fakeStore) SessionID() int64 { return f.session }

func (f *fakeStore) Get(p string) ([]byte, *zk.Stat, error) {
	n, ok := f.nodes[p]
	if !ok {
		return nil, nil, zk.ErrNoNode
	}
	return n.data, &zk.Stat{EphemeralOwner: n.owner}, nil
}

func (f *fakeStore) Children(p string) ([]string, *zk.Stat, error) {
	if _, ok := f.nodes[p]; !ok {
		return nil, nil, zk.ErrNoNode
	}
	var out []string
	for k := range f.nodes {
		if k != "/" && path.Dir(k) == p {
			out = append(out, path.Base(k))
		}
	}
	sort.Strings(out)
	return out, &zk.Stat{}, nil
}

func (f *fakeStore) Create(p string, data []byte, flags int32, acl []zk.ACL) (string, error) {
	if _, ok := f.nodes[p]; ok {
		return "", zk.ErrNodeExists
	}
	if _, ok := f.nodes[path.Dir(p)]; !ok {
		return "", zk.ErrNoNode
	}
	if !f.allowed(path.Dir(p), zk.PermCreate) {
		return "", zk.ErrNoAuth
	}
	n := &fakeNode{data: data, acl: acl}
	if flags == zk.FlagEphemeral {
		n.owner = f.session
	}
	f.nodes[p] = n
	f.ops = append(f.ops, "create "+p)
	return p, nil
}

func (f *fakeStore) Delete(p string, _ int32) error {
	if _, ok := f.nodes[p]; !ok {
		return zk.ErrNoNode
	}
	if c, _, _ := f.Children(p); len(c) > 0 {
		return zk.ErrNotEmpty
	}
	if !f.allowed(path.Dir(p), zk.PermDelete) {
		return zk.ErrNoAuth
	}
	delete(f.nodes, p)
	f.ops = append(f.ops, "delete "+p)
	return nil
}

// expire drops a session's ephemeral znodes, as ZooKeeper does when it expires.
func (f *fakeStore) expire(session int64) {
	for p, n := range f.nodes {
		if n.owner == session {
			delete(f.nodes, p)
		}
	}
}

func service(id, name string, labels map[string]string, ports ...Port) Service {
	var s Service
	s.ID, s.Spec.Name, s.Spec.Labels, s.Spec.EndpointSpec.Ports = id, name, labels, ports
	return s
}

func task(id, serviceID, nodeID, desired, state, overlay string) Task {
	var t Task
	t.ID, t.ServiceID, t.NodeID, t.Slot, t.DesiredState = id, serviceID, nodeID, 1, desired
	t.Status.State = state
	t.Spec.ContainerSpec.Image = "swarm-ha-web:3"
	if overlay != "" {
		t.NetworksAttachments = make([]Attachment, 1)
		t.NetworksAttachments[0].Network.Spec.Name = "backend"
		t.NetworksAttachments[0].Addresses = []string{overlay}
	}
	return t
}

func node(id, host, addr string) Node {
	var n Node
	n.ID, n.Description.Hostname, n.Status.Addr = id, host, addr
	return n
}

var registered = map[string]string{LabelRegister: "true"}

func snapshot() Snapshot {
	return Snapshot{
		Services: []Service{
			service("s1", "web", registered, Port{TargetPort: 80, PublishedPort: 80, PublishMode: "host"}),
			service("s2", "api", map[string]string{LabelRegister: "true", LabelPort: "9000"}),
			service("s3", "quiet", nil),
		},
		Tasks: []Task{
			task("t1", "s1", "n1", "running", "running", "10.0.1.5/24"),
			task("t2", "s1", "n2", "running", "starting", "10.0.1.6/24"),
			task("t3", "s1", "n2", "shutdown", "running", "10.0.1.7/24"),
			task("t4", "s2", "n2", "running", "running", "10.0.1.8/24"),
			task("t5", "s3", "n1", "running", "running", ""),
		},
		Nodes: []Node{node("n1", "lab-w1", "172.30.213.21"), node("n2", "lab-w2", "172.30.213.22")},
	}
}

func TestDesiredInstancesTakesRunningTasksOfRegisteredServices(t *testing.T) {
	d := DesiredInstances(snapshot())
	if got, want := d.Names(), []string{"api", "web"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("services %v, want %v", got, want)
	}
	if len(d["web"]) != 1 || len(d["api"]) != 1 {
		t.Fatalf("instances %v", d)
	}
	web := d["web"]["t1"]
	if web.Address != "172.30.213.21" || *web.Port != 80 {
		t.Fatalf("web at %s:%d, want the node's address and the published port", web.Address, *web.Port)
	}
	api := d["api"]["t4"]
	if api.Address != "10.0.1.8" || *api.Port != 9000 {
		t.Fatalf("api at %s:%d, want the overlay address and the label's port", api.Address, *api.Port)
	}
}

func TestInstanceJSONIsCuratorsServiceInstance(t *testing.T) {
	i := DesiredInstances(snapshot())["web"]["t1"]
	i.RegistrationTimeUTC = 1764000000000
	data, err := json.Marshal(i)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"web","id":"t1","address":"172.30.213.21","port":80,"sslPort":null,` +
		`"payload":{"@class":"java.util.LinkedHashMap","node":"lab-w1","image":"swarm-ha-web:3","slot":1,"taskAddress":"10.0.1.5"},` +
		`"registrationTimeUTC":1764000000000,"serviceType":"DYNAMIC","uriSpec":null,"enabled":true}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
}

func TestEndpointFallsBackToTargetPortThenNoPort(t *testing.T) {
	n := node("n1", "lab-w1", "172.30.213.21")
	a, p := endpoint(service("s", "x", registered, Port{TargetPort: 8080}), task("t", "s", "n1", "running", "running", "10.0.2.2/24"), n)
	if a != "10.0.2.2" || *p != 8080 {
		t.Fatalf("got %s:%d", a, *p)
	}
	a, p = endpoint(service("s", "x", registered), task("t", "s", "n1", "running", "running", ""), n)
	if a != "172.30.213.21" || p != nil {
		t.Fatalf("got %s %v, want the node's address and no port", a, p)
	}
}

func newRegistrar(store *fakeStore, read func() (Snapshot, error)) *Registrar {
	return &Registrar{
		Store: store, Read: read, Root: "/services", Election: "/swarm-ha/registrar/leader",
		ACL: zk.WorldACL(zk.PermAll), Name: "registrar.1",
		Now: func() time.Time { return time.UnixMilli(1764000000000) },
		Log: log.New(io.Discard, "", 0),
	}
}

func paths(f *fakeStore, under string) []string {
	var out []string
	for p := range f.nodes {
		if strings.HasPrefix(p, under+"/") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func TestRoundRegistersAndDeregisters(t *testing.T) {
	store := newFakeStore(7)
	s := snapshot()
	r := newRegistrar(store, func() (Snapshot, error) { return s, nil })
	if leading, err := r.Round(); !leading || err != nil {
		t.Fatalf("leading %v, err %v", leading, err)
	}
	want := []string{"/services/api", "/services/api/t4", "/services/web", "/services/web/t1"}
	if got := paths(store, "/services"); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// t2 starts running, t1 is stopped, api no longer asks to be registered.
	s.Tasks[1].Status.State = "running"
	s.Tasks[0].DesiredState = "shutdown"
	s.Services[1].Spec.Labels = nil
	store.ops = nil
	if _, err := r.Round(); err != nil {
		t.Fatal(err)
	}
	want = []string{"/services/web", "/services/web/t2"}
	if got := paths(store, "/services"); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	wantOps := []string{"delete /services/api/t4", "delete /services/api", "delete /services/web/t1", "create /services/web/t2"}
	if !reflect.DeepEqual(store.ops, wantOps) {
		t.Fatalf("ops %v, want %v", store.ops, wantOps)
	}
	// Nothing changed: a round writes nothing.
	store.ops = nil
	if _, err := r.Round(); err != nil || len(store.ops) != 0 {
		t.Fatalf("ops %v, err %v", store.ops, err)
	}
}

func TestOnlyTheLeaderWritesAndAStandbyTakesOverWhenItsSessionExpires(t *testing.T) {
	store := newFakeStore(1)
	s := snapshot()
	leader := newRegistrar(store, func() (Snapshot, error) { return s, nil })
	if leading, _ := leader.Round(); !leading {
		t.Fatal("the first registrar does not lead")
	}
	// The standby has a session of its own; it neither leads nor writes.
	store.session = 2
	standby := newRegistrar(store, func() (Snapshot, error) { return s, nil })
	store.ops = nil
	if leading, err := standby.Round(); leading || err != nil || len(store.ops) != 0 {
		t.Fatalf("standby leading %v, err %v, ops %v", leading, err, store.ops)
	}
	// The leader dies; its session expires with its znodes; the standby leads and registers again.
	store.expire(1)
	if leading, err := standby.Round(); !leading || err != nil {
		t.Fatalf("standby leading %v, err %v", leading, err)
	}
	if got := paths(store, "/services"); len(got) != 4 {
		t.Fatalf("got %v", got)
	}
	if store.nodes["/services/web/t1"].owner != 2 {
		t.Fatal("the instance is not the new leader's")
	}
}

func TestANewLeaderReplacesInstancesOfAnotherSession(t *testing.T) {
	store := newFakeStore(1)
	s := snapshot()
	old := newRegistrar(store, func() (Snapshot, error) { return s, nil })
	if _, err := old.Round(); err != nil {
		t.Fatal(err)
	}
	// The old leader's election znode is gone (say, removed by hand) but its session lives on.
	delete(store.nodes, "/swarm-ha/registrar/leader")
	store.session = 2
	next := newRegistrar(store, func() (Snapshot, error) { return s, nil })
	if _, err := next.Round(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/services/web/t1", "/services/api/t4"} {
		if store.nodes[p].owner != 2 {
			t.Fatalf("%s still belongs to session %d", p, store.nodes[p].owner)
		}
	}
}

// setData is what an anonymous client's set of a znode's data amounts to: the write permission.
func (f *fakeStore) setData(p string, data []byte) error {
	if _, ok := f.nodes[p]; !ok {
		return zk.ErrNoNode
	}
	if !f.allowed(p, zk.PermWrite) {
		return zk.ErrNoAuth
	}
	f.nodes[p].data = data
	return nil
}

// registrarID is the digest id of the registrar's user with the tests' password.
var registrarID = zk.DigestACL(zk.PermAll, "registrar", "pw-of-the-tests")[0].ID

func ownedRegistrar(store *fakeStore, read func() (Snapshot, error)) *Registrar {
	r := newRegistrar(store, read)
	r.ACL = OwnACL("registrar", "pw-of-the-tests")
	store.identity = registrarID
	return r
}

func TestOwnACLLetsOnlyTheRegistrarWriteAndAnyoneRead(t *testing.T) {
	want := []zk.ACL{
		{Perms: zk.PermAll, Scheme: "digest", ID: "registrar:OEc8EvS09lhyYtjI3fg524QE6i8="},
		{Perms: zk.PermRead, Scheme: "world", ID: "anyone"},
	}
	if got := OwnACL("registrar", "pw-of-the-tests"); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// ZooKeeper's digest: base64(sha1("registrar:pw-of-the-tests")), 28 characters.
	if d := registrarID[len("registrar:"):]; len(d) != 28 || strings.Contains(d, "pw-of") {
		t.Fatalf("digest %q", d)
	}
}

func TestEverythingTheRegistrarCreatesIsItsOwnAndAnAnonymousClientCannotWriteIt(t *testing.T) {
	store := newFakeStore(7)
	r := ownedRegistrar(store, func() (Snapshot, error) { return snapshot(), nil })
	if leading, err := r.Round(); !leading || err != nil {
		t.Fatalf("leading %v, err %v", leading, err)
	}
	own := OwnACL("registrar", "pw-of-the-tests")
	for _, p := range []string{"/services", "/services/web", "/services/web/t1", "/services/api", "/services/api/t4", "/swarm-ha", "/swarm-ha/registrar", "/swarm-ha/registrar/leader"} {
		if n, ok := store.nodes[p]; !ok || !reflect.DeepEqual(n.acl, own) {
			t.Fatalf("%s: %+v, want the registrar's ACL %v", p, n, own)
		}
	}
	// An anonymous session: reads work, writes under the registrar's znodes are refused.
	store.identity = ""
	if _, _, err := store.Get("/services/web/t1"); err != nil {
		t.Fatalf("anonymous read: %v", err)
	}
	for what, err := range map[string]error{
		"create under /services":     firstErr(store.Create("/services/intruder", nil, 0, zk.WorldACL(zk.PermAll))),
		"create under /services/web": firstErr(store.Create("/services/web/intruder", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))),
		"delete an instance":         store.Delete("/services/web/t1", -1),
		"delete the leader znode":    store.Delete("/swarm-ha/registrar/leader", -1),
		"set the leader znode":       store.setData("/swarm-ha/registrar/leader", []byte("intruder")),
		"set an instance":            store.setData("/services/web/t1", []byte("{}")),
		"open the ACL of /services":  firstErr(store.SetACL("/services", zk.WorldACL(zk.PermAll), -1)),
		"create beside the election": firstErr(store.Create("/swarm-ha/registrar/other", nil, 0, zk.WorldACL(zk.PermAll))),
	} {
		if !errors.Is(err, zk.ErrNoAuth) {
			t.Errorf("anonymous %s: %v, want %v", what, err, zk.ErrNoAuth)
		}
	}
}

func firstErr[T any](_ T, err error) error { return err }

func TestZnodesOpenToEveryoneFromAnEarlierRegistrarGetTheRegistrarsACL(t *testing.T) {
	store := newFakeStore(7)
	open := zk.WorldACL(zk.PermAll)
	for _, p := range []string{"/services", "/services/web", "/swarm-ha", "/swarm-ha/registrar"} {
		store.nodes[p] = &fakeNode{acl: open}
	}
	var logged bytes.Buffer
	r := ownedRegistrar(store, func() (Snapshot, error) { return snapshot(), nil })
	r.Log = log.New(&logged, "", 0)
	if _, err := r.Round(); err != nil {
		t.Fatal(err)
	}
	own := OwnACL("registrar", "pw-of-the-tests")
	for _, p := range []string{"/services", "/services/web", "/swarm-ha", "/swarm-ha/registrar"} {
		if !reflect.DeepEqual(store.nodes[p].acl, own) {
			t.Fatalf("%s still has %v", p, store.nodes[p].acl)
		}
	}
	if !strings.Contains(logged.String(), "/services had the ACL world:anyone:31; now digest:registrar:…:31,world:anyone:1") {
		t.Fatalf("log: %s", logged.String())
	}
	if strings.Contains(logged.String(), registrarID[len("registrar:"):]) {
		t.Fatalf("the log holds the digest: %s", logged.String())
	}
	// Once per session: the next round reads no ACL again and changes nothing.
	store.ops = nil
	if _, err := r.Round(); err != nil || len(store.ops) != 0 {
		t.Fatalf("ops %v, err %v", store.ops, err)
	}
}

func TestAReadOnlyRootFromASuperRegistrarNamesTheEnsemblesStep(t *testing.T) {
	store := newFakeStore(7)
	store.nodes["/services"] = &fakeNode{acl: zk.WorldACL(zk.PermRead)}
	r := ownedRegistrar(store, func() (Snapshot, error) { return snapshot(), nil })
	leading, err := r.Round()
	if !leading || !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("leading %v, err %v", leading, err)
	}
	if !strings.Contains(err.Error(), "/services has an ACL the registrar may not change (world:anyone:1); the ensemble's ACL step") {
		t.Fatalf("error: %v", err)
	}
}

func TestCheckUserRefusesSuperAndNamesTheDigestSchemeWouldSplit(t *testing.T) {
	for _, ok := range []string{"registrar", "reg_2", "R-x"} {
		if err := CheckUser(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"super", "", "a:b", "2abc", "reg istrar", "x\n", strings.Repeat("a", 33), "ré"} {
		if err := CheckUser(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := CheckUser("super"); !strings.Contains(err.Error(), "the ensemble's own user") {
		t.Fatalf("%v", err)
	}
}

// Keeping ZooKeeper in step with the swarm. Every registrar task holds a ZooKeeper session; the one
// whose ephemeral znode at the election path exists leads, and only the leader writes: each round it
// reads the swarm and makes ROOT/<service>/<task id> match the running tasks. The instances are
// ephemeral znodes of the leader's session: if the leader dies, its session expires, another task
// leads and registers the instances again.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// Store is the part of a ZooKeeper connection the registrar uses (a zk.Conn; a fake in tests).
type Store interface {
	SessionID() int64
	Get(path string) ([]byte, *zk.Stat, error)
	Children(path string) ([]string, *zk.Stat, error)
	Create(path string, data []byte, flags int32, acl []zk.ACL) (string, error)
	Delete(path string, version int32) error
	GetACL(path string) ([]zk.ACL, *zk.Stat, error)
	SetACL(path string, acl []zk.ACL, version int32) (*zk.Stat, error)
}

// OwnACL is the ACL of what the registrar creates when it has a digest user of its own: that user
// may do everything, everyone else may read (discovery reads anonymously).
func OwnACL(user, password string) []zk.ACL {
	return append(zk.DigestACL(zk.PermAll, user, password), zk.WorldACL(zk.PermRead)...)
}

var userName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)

// CheckUser refuses a digest user the registrar must not be: the ensemble's super user (it passes
// every ACL, so a registrar holding it could change anything), or a name the digest scheme would
// split (a colon) or that is not a plain name.
func CheckUser(user string) error {
	if user == "super" {
		return errors.New(`"super" is the ensemble's own user; give the registrar a user of its own, such as registrar`)
	}
	if !userName.MatchString(user) {
		return fmt.Errorf("%q is not a user name; use a letter, then up to 31 letters, digits, '_' or '-'", user)
	}
	return nil
}

// Registrar reconciles the registry at Root with what Read returns.
type Registrar struct {
	Store    Store
	Read     func() (Snapshot, error)
	Root     string
	Election string
	// ACL of every persistent znode and instance the registrar creates, and of the persistent ones
	// it finds (the root, each service's znode, the election's parents): with a user of its own,
	// OwnACL (only it writes, anyone reads); without, open.
	ACL  []zk.ACL
	Name string
	Now  func() time.Time
	Log  *log.Logger

	session int64
	// Instances this session created, by path: others (a previous leader's) are taken over.
	owned map[string]bool
	// Persistent paths known to exist in this session.
	made map[string]bool
}

// Round makes one pass: elect, read the swarm, and reconcile. It reports whether this task leads.
func (r *Registrar) Round() (bool, error) {
	if sid := r.Store.SessionID(); sid != r.session || r.owned == nil {
		r.session, r.owned, r.made = sid, map[string]bool{}, map[string]bool{}
	}
	if r.session == 0 {
		// Connecting: the client retries the servers by itself.
		return false, nil
	}
	leading, err := r.lead()
	if err != nil || !leading {
		return false, err
	}
	snapshot, err := r.Read()
	if err != nil {
		return true, err
	}
	return true, r.Sync(DesiredInstances(snapshot))
}

// lead reports whether this session holds the election znode, creating it when nobody does.
func (r *Registrar) lead() (bool, error) {
	_, stat, err := r.Store.Get(r.Election)
	if errors.Is(err, zk.ErrNoNode) {
		if err := r.ensure(path.Dir(r.Election)); err != nil {
			return false, err
		}
		_, err = r.Store.Create(r.Election, []byte(r.Name), zk.FlagEphemeral, r.ACL)
		if errors.Is(err, zk.ErrNodeExists) {
			return false, nil
		}
		if err == nil {
			r.Log.Printf("leading: %s holds %s", r.Name, r.Election)
		}
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	return stat.EphemeralOwner == r.session, nil
}

// Sync makes ROOT/<service>/<task id> hold exactly the desired instances. Services under the root that
// are no longer registered lose their instances and then their znode: the root belongs to the registrar.
func (r *Registrar) Sync(desired Desired) error {
	if err := r.ensure(r.Root); err != nil {
		return err
	}
	present, _, err := r.Store.Children(r.Root)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, n := range present {
		names[n] = true
	}
	for _, n := range desired.Names() {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var firstErr error
	for _, name := range sorted {
		if err := r.syncService(name, desired[name]); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

func (r *Registrar) syncService(name string, want map[string]Instance) error {
	dir := path.Join(r.Root, name)
	have, _, err := r.Store.Children(dir)
	if errors.Is(err, zk.ErrNoNode) {
		have, err = nil, nil
		delete(r.made, dir)
	}
	if err != nil {
		return err
	}
	for _, id := range have {
		if _, ok := want[id]; !ok {
			if err := r.remove(path.Join(dir, id)); err != nil {
				return err
			}
			r.Log.Printf("deregistered %s/%s", name, id)
		}
	}
	if len(want) == 0 {
		// No instance left: the service's znode goes too (another round brings it back if needed).
		if err := r.Store.Delete(dir, -1); err != nil && !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrNotEmpty) {
			return err
		}
		delete(r.made, dir)
		return nil
	}
	if err := r.ensure(dir); err != nil {
		return err
	}
	existing := map[string]bool{}
	for _, id := range have {
		existing[id] = true
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := path.Join(dir, id)
		if r.owned[p] && existing[id] {
			continue
		}
		if existing[id] {
			// A previous leader's instance: replaced by one of this session's, which outlives it.
			if err := r.remove(p); err != nil {
				return err
			}
		}
		instance := want[id]
		instance.RegistrationTimeUTC = r.Now().UnixMilli()
		data, err := json.Marshal(instance)
		if err != nil {
			return err
		}
		if _, err := r.Store.Create(p, data, zk.FlagEphemeral, r.ACL); err != nil {
			return fmt.Errorf("registering %s: %w", p, err)
		}
		r.owned[p] = true
		r.Log.Printf("registered %s/%s at %s%s on %s", name, id, instance.Address, portSuffix(instance.Port), instance.Payload.Node)
	}
	return nil
}

func (r *Registrar) remove(p string) error {
	delete(r.owned, p)
	if err := r.Store.Delete(p, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("deregistering %s: %w", p, err)
	}
	return nil
}

// ensure creates a persistent znode and its parents once per session; one that exists already
// (made by an earlier registrar, perhaps open to everyone) is given the registrar's ACL.
func (r *Registrar) ensure(p string) error {
	if p == "/" || r.made[p] {
		return nil
	}
	if err := r.ensure(path.Dir(p)); err != nil {
		return err
	}
	_, err := r.Store.Create(p, nil, 0, r.ACL)
	if errors.Is(err, zk.ErrNodeExists) {
		err = r.own(p)
	} else if err != nil {
		err = fmt.Errorf("creating %s: %w", p, err)
	}
	if err != nil {
		return err
	}
	r.made[p] = true
	return nil
}

// own gives an existing znode the registrar's ACL when it has another. ZooKeeper lets only a
// client with the admin permission change an ACL: one open to everyone (made before the registrar
// had a user) is fixed here; one that is read-only to the registrar (made as the super user by an
// older registrar) is fixed by the ensemble's ACL step, which runs as the super user.
func (r *Registrar) own(p string) error {
	acl, _, err := r.Store.GetACL(p)
	if err != nil {
		return fmt.Errorf("reading the ACL of %s: %w", p, err)
	}
	if sameACL(acl, r.ACL) {
		return nil
	}
	if _, err := r.Store.SetACL(p, r.ACL, -1); err != nil {
		if errors.Is(err, zk.ErrNoAuth) {
			return fmt.Errorf("%s has an ACL the registrar may not change (%s); the ensemble's ACL step, as the super user, gives it the registrar's: %w", p, describeACL(acl), err)
		}
		return fmt.Errorf("setting the ACL of %s: %w", p, err)
	}
	r.Log.Printf("%s had the ACL %s; now %s", p, describeACL(acl), describeACL(r.ACL))
	return nil
}

// sameACL compares two ACLs as sets.
func sameACL(a, b []zk.ACL) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[zk.ACL]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		if seen[x] == 0 {
			return false
		}
		seen[x]--
	}
	return true
}

// describeACL writes an ACL for the log without its digests: "digest:registrar:…:31,world:anyone:1".
func describeACL(acl []zk.ACL) string {
	parts := make([]string, 0, len(acl))
	for _, a := range acl {
		id := a.ID
		if a.Scheme == "digest" {
			user, _, _ := strings.Cut(a.ID, ":")
			id = user + ":…"
		}
		parts = append(parts, fmt.Sprintf("%s:%s:%d", a.Scheme, id, a.Perms))
	}
	return strings.Join(parts, ",")
}

func portSuffix(port *int) string {
	if port == nil {
		return ""
	}
	return fmt.Sprintf(":%d", *port)
}

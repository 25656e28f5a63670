// The replies' filter: the lists of services and tasks lose what a container is started with
// (environment, command line, health check command, secret and config references) before they
// reach a consumer. SwarmService puts the stack's secrets there (secretEnv, and args or command
// when the stack's services hold a secret); no consumer reads them.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// containerSpecs are, for each filtered path (without its version prefix), where a container's
// spec sits in one object of the reply. A service's PreviousSpec is the spec before its last
// update: it holds the old values.
var containerSpecs = map[string][][]string{
	"/services": {
		{"Spec", "TaskTemplate", "ContainerSpec"},
		{"PreviousSpec", "TaskTemplate", "ContainerSpec"},
	},
	"/tasks": {{"Spec", "ContainerSpec"}},
}

// Removed are the fields of a container's spec that are deleted. Env holds secretEnv's values;
// Command and Args are text the user typed, which the program keeps secret when the stack's
// services hold one; Healthcheck.Test (below) is a command line too; Secrets and Configs name
// what the container is given and where. The registrar reads the image, the exporter the
// service's name and status, Prometheus the image, the hostname and the labels: all kept.
var Removed = []string{"Env", "Command", "Args", "Secrets", "Configs"}

// maxReply is the largest reply filtered (it is read whole); a larger one is refused.
var maxReply int64 = 128 << 20

// errReply is a reply of the engine that is not filtered, so refused; reason is ours, never the
// decoder's (its messages quote the reply). The engine is only ever asked GET for these paths.
type errReply struct{ path, reason string }

func (e *errReply) Error() string {
	return fmt.Sprintf("docker-read: the engine's reply to GET %s %s; refused", e.path, e.reason)
}

// Filtered tells whether replies to path (a permitted one) are filtered.
func Filtered(path string) bool {
	_, ok := containerSpecs[unversioned(path)]
	return ok
}

func unversioned(path string) string {
	if m := allowedPath.FindStringSubmatch(path); m != nil {
		return m[2]
	}
	return ""
}

// Filter reads a reply of the engine to path, a list of objects or one object, and returns it
// without the Removed fields, encoded again. Numbers keep their text; objects' keys come out
// sorted. Anything else, or anything after the value, is an error.
func Filter(path string, body io.Reader) ([]byte, error) {
	refuse := func(reason string) ([]byte, error) { return nil, &errReply{path, reason} }
	specs, ok := containerSpecs[unversioned(path)]
	if !ok {
		// Never passed on as it is: a path here has its specs listed above.
		return refuse("is of a path the filter does not know")
	}
	data, err := io.ReadAll(io.LimitReader(body, maxReply+1))
	if err != nil {
		return refuse("could not be read")
	}
	if int64(len(data)) > maxReply {
		return refuse(fmt.Sprintf("is larger than %d MiB", maxReply>>20))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return refuse("is not JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return refuse("has more than one JSON value")
	}
	var objects []map[string]any
	switch t := v.(type) {
	case map[string]any:
		objects = []map[string]any{t}
	case []any:
		for _, e := range t {
			o, ok := e.(map[string]any)
			if !ok {
				return refuse("is a list of something other than objects")
			}
			objects = append(objects, o)
		}
	default:
		return refuse("is neither a list nor an object")
	}
	for _, o := range objects {
		for _, at := range specs {
			if !scrub(o, at) {
				return refuse("has a " + strings.Join(at, ".") + " that is not an object")
			}
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return refuse("could not be encoded again")
	}
	return out.Bytes(), nil
}

// scrub deletes the Removed fields of the container spec at path in o (keys compared as Docker's
// client decodes them, regardless of case). A missing or null step means there is nothing to
// delete; false when a step is something other than an object.
func scrub(o map[string]any, path []string) bool {
	if len(path) == 0 {
		for k, v := range o {
			if matches(k, Removed) {
				delete(o, k)
			} else if strings.EqualFold(k, "Healthcheck") {
				switch h := v.(type) {
				case nil:
				case map[string]any:
					for hk := range h {
						if strings.EqualFold(hk, "Test") {
							delete(h, hk)
						}
					}
				default:
					return false
				}
			}
		}
		return true
	}
	for k, v := range o {
		if !strings.EqualFold(k, path[0]) {
			continue
		}
		switch next := v.(type) {
		case nil:
		case map[string]any:
			if !scrub(next, path[1:]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func matches(key string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return true
		}
	}
	return false
}

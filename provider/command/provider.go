// The gRPC resource provider: check, diff, create, update, delete and read of Command resources.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	localType  = "command:local:Command"
	remoteType = "command:remote:Command"
)

// Inputs compared by Diff; stdout and stderr are outputs only.
var inputKeys = []resource.PropertyKey{
	"connection", "create", "update", "delete", "environment", "stdin", "triggers", "logging",
	"addPreviousOutputInEnv", "interpreter", "dir", "assetPaths", "archivePaths",
}

type commandProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
	host *provider.HostClient
}

func newCommandProvider(host *provider.HostClient) *commandProvider {
	return &commandProvider{host: host}
}

// Properties keep their secret markers in both directions, so what was secret stays secret.
var marshal = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func (p *commandProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

func (p *commandProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":"command","version":%q}`, Version)}, nil
}

func (p *commandProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *commandProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *commandProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *commandProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := plugin.UnmarshalProperties(req.GetNews(), marshal)
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	if req.GetType() == remoteType || resource.URN(req.GetUrn()).Type() == remoteType {
		if !news.HasValue("connection") {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "connection", Reason: "connection is required"})
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

// Diff: triggers replace the resource when there is no update command (as upstream); any other
// input change updates it in place, running `update` (or `create` when there is none).
func (p *commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := plugin.UnmarshalProperties(req.GetOlds(), marshal)
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), marshal)
	if err != nil {
		return nil, err
	}
	var diffs, replaces []string
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for _, key := range inputKeys {
		o, n := olds[key], news[key]
		if equalValues(o, n) {
			continue
		}
		diffs = append(diffs, string(key))
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case o.IsNull() || !olds.HasValue(key):
			kind = pulumirpc.PropertyDiff_ADD
		case n.IsNull() || !news.HasValue(key):
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if key == "triggers" && !news.HasValue("update") {
			replaces = append(replaces, string(key))
			kind += 1 // the _REPLACE variant follows each kind
		}
		detailed[string(key)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	sort.Strings(diffs)
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(diffs) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{
		Changes: changes, Diffs: diffs, Replaces: replaces,
		DetailedDiff: detailed, HasDetailedDiff: true,
	}, nil
}

func (p *commandProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs, err := plugin.UnmarshalProperties(req.GetProperties(), marshal)
	if err != nil {
		return nil, err
	}
	id := newID()
	if req.GetPreview() {
		return p.respondCreate(id, previewOutputs(inputs))
	}
	outputs, err := p.run(ctx, resource.URN(req.GetUrn()), inputs, "create", nil)
	if err != nil {
		return nil, err
	}
	return p.respondCreate(id, outputs)
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds, err := plugin.UnmarshalProperties(req.GetOlds(), marshal)
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), marshal)
	if err != nil {
		return nil, err
	}
	var outputs resource.PropertyMap
	if req.GetPreview() {
		outputs = previewOutputs(news)
	} else {
		step := "create"
		if news.HasValue("update") {
			step = "update"
		}
		if outputs, err = p.run(ctx, resource.URN(req.GetUrn()), news, step, olds); err != nil {
			return nil, err
		}
	}
	props, err := plugin.MarshalProperties(outputs, marshal)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *commandProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	state, err := plugin.UnmarshalProperties(req.GetProperties(), marshal)
	if err != nil {
		return nil, err
	}
	if state.HasValue("delete") {
		if _, err := p.run(ctx, resource.URN(req.GetUrn()), state, "delete", state); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

// Read (refresh) keeps what is known: a command's effect on a host is not something it can read.
func (p *commandProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *commandProvider) respondCreate(id string, outputs resource.PropertyMap) (*pulumirpc.CreateResponse, error) {
	props, err := plugin.MarshalProperties(outputs, marshal)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// previewOutputs: the inputs as they are, with stdout and stderr unknown until the command runs.
func previewOutputs(inputs resource.PropertyMap) resource.PropertyMap {
	out := inputs.Copy()
	out["stdout"] = resource.MakeComputed(resource.NewStringProperty(""))
	out["stderr"] = resource.MakeComputed(resource.NewStringProperty(""))
	return out
}

func equalValues(a, b resource.PropertyValue) bool {
	if a.IsComputed() || b.IsComputed() {
		return false
	}
	return plain(a).DeepEquals(plain(b))
}

// plain strips secret markers, recursively, so values can be compared and used.
func plain(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsObject():
		m := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			m[k] = plain(e)
		}
		return resource.NewObjectProperty(m)
	case v.IsArray():
		arr := make([]resource.PropertyValue, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			arr = append(arr, plain(e))
		}
		return resource.NewArrayProperty(arr)
	}
	return v
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

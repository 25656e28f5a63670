// pulumi-resource-command: the project's own implementation of the command provider's
// command:local:Command and command:remote:Command resources, with the inputs and outputs of
// @pulumi/command 1.2.1. It exists because the upstream provider's Go module is not served by the
// module proxy these machines reach; on machines that can install the upstream plugin, use that.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Version is the @pulumi/command release whose schema this provider implements.
var Version = "1.2.1"

func main() {
	err := provider.Main("command", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newCommandProvider(host), nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-command: %v\n", err)
		os.Exit(1)
	}
}

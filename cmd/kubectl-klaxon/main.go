// Command kubectl-klaxon is the `kubectl klaxon` plugin: installed on PATH
// as kubectl-klaxon, kubectl runs it for `kubectl klaxon ...`. The commands
// live in internal/plugin.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	// Load every client auth plugin (OIDC...) for out-of-cluster use, as
	// kubectl does.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/utils/clock"

	"github.com/klaxon-dev/klaxon/internal/plugin"
)

// version is stamped at build time: -ldflags "-X main.version=v0.1.0".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := plugin.Execute(ctx, plugin.Options{
		Streams: genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr},
		Clock:   clock.RealClock{},
		Version: version,
	}, os.Args[1:])
	stop()
	os.Exit(code)
}

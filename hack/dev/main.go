package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

func run() error {
	metricsAddr := flag.String("metrics-bind-address", ":8080", "Where the operator serves metrics over plain HTTP.")
	probeAddr := flag.String("health-probe-bind-address", ":8081", "Where the operator serves health probes.")
	user := flag.String("user", defaultUser(), "The user your kubeconfig authenticates as; incidents record it as the actor.")
	zapOpts := zap.Options{Development: true}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Println("Starting etcd and kube-apiserver...")
	cluster, err := localcluster.Start(ctx)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("Stopping the local control plane...")
		if stopErr := cluster.Stop(); stopErr != nil {
			fmt.Fprintln(os.Stderr, "dev: stopping the control plane:", stopErr)
		}
	}()

	kubeconfig, data, err := writeKubeconfig(cluster, *user)
	if err != nil {
		return err
	}
	userConfig, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return fmt.Errorf("reading %s: %w", kubeconfig, err)
	}
	userClient, err := client.New(userConfig, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		return err
	}

	mgr, err := operator.New(cluster.OperatorConfig, operator.Options{MetricsAddr: *metricsAddr, ProbeAddr: *probeAddr})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()

	samples := filepath.Join(localcluster.RepoRoot(), "config", "samples")
	if err := localcluster.ApplyFiles(ctx, userClient, samples, "default"); err != nil {
		stop()
		if mgrErr := <-done; mgrErr != nil && !errors.Is(mgrErr, context.Canceled) {
			fmt.Fprintln(os.Stderr, "dev: operator:", mgrErr)
		}
		return fmt.Errorf("applying samples: %w", err)
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	fmt.Printf(`
Klaxon is running on a local control plane, with config/samples applied as %q.
In another terminal:

    export KUBECONFIG=%s
    export PATH=%s:$PATH
    kubectl get klaxon

Press Ctrl-C to stop.

`, *user, kubeconfig, assets)

	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("operator: %w", err)
	}
	return nil
}

// writeKubeconfig writes the kubeconfig of user to bin/dev/kubeconfig, a path
// that stays the same between runs so a second terminal can keep its export.
func writeKubeconfig(cluster *localcluster.Cluster, user string) (string, []byte, error) {
	data, err := cluster.AddUser(user)
	if err != nil {
		return "", nil, err
	}
	dir := filepath.Join(localcluster.RepoRoot(), "bin", "dev")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", nil, fmt.Errorf("writing kubeconfig: %w", err)
	}
	return path, data, nil
}

func defaultUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "developer"
}

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

var (
	cluster *localcluster.Cluster
	k8s     client.Client
	// receiverURL is where the operator binary's receiver listens.
	receiverURL string
	// alertmanagerBin is the alertmanager binary installed by hack/alertmanager.sh.
	alertmanagerBin string
)

func TestMain(m *testing.M) {
	suite.RequireAssets(m, suite.ControlPlane, suite.Alertmanager, suite.Mailpit)
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if alertmanagerBin, err = proc.AlertmanagerBinary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if cluster, err = localcluster.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cluster.Stop() }()
	k8s = cluster.Admin

	stop, err := startOperator(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

// startOperator builds cmd/ and runs it as the operator's identity, as the
// Deployment runs it.
func startOperator(ctx context.Context) (func(), error) {
	tmp, err := os.MkdirTemp("", "klaxon-e2e-")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(tmp, "operator.log")
	op, err := launchOperator(ctx, tmp, logPath)
	if err != nil {
		if tail := proc.LogTail(logPath, 40); tail != "" {
			err = fmt.Errorf("%w; the last lines of its log:\n%s", err, tail)
		}
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	stop := func() {
		op.Stop()
		if os.Getenv("KLAXON_TEST_VERBOSE") != "" {
			log, _ := os.ReadFile(logPath)
			fmt.Fprintf(os.Stderr, "operator log:\n%s\n", log)
		}
		_ = os.RemoveAll(tmp)
	}
	receiverURL = op.ReceiverURL
	return stop, nil
}

// launchOperator builds the operator into dir and starts it, logging to
// logPath.
func launchOperator(ctx context.Context, dir, logPath string) (*proc.Operator, error) {
	bin, err := proc.BuildOperator(ctx, dir)
	if err != nil {
		return nil, err
	}
	kubeconfig, err := proc.WriteOperatorKubeconfig(cluster, dir)
	if err != nil {
		return nil, err
	}
	return proc.StartOperator(ctx, proc.OperatorOptions{
		Binary:     bin,
		Kubeconfig: kubeconfig,
		Namespace:  localcluster.OperatorNamespace,
		// Pages link to the receiver's acknowledge page.
		PublicURL: true,
		Flags:     []string{"--zap-log-level=info"},
		LogPath:   logPath,
	})
}

func eventually(t *testing.T, what string, timeout time.Duration, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	suite.Eventually(t, what, timeout, cond)
}

// onlyIncident waits until the namespace holds one incident satisfying
// cond, and returns it.
func onlyIncident(t *testing.T, ns, what string, cond func(*klaxonv1alpha1.Incident) bool) klaxonv1alpha1.Incident {
	t.Helper()
	var inc klaxonv1alpha1.Incident
	eventually(t, what, 30*time.Second, func(ctx context.Context) (bool, error) {
		list := &klaxonv1alpha1.IncidentList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil || len(list.Items) != 1 {
			return false, err
		}
		inc = list.Items[0]
		return cond(&inc), nil
	})
	return inc
}

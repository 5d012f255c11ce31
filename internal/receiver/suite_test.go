package receiver_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

var (
	cluster *localcluster.Cluster
	k8s     client.Client
	// mgr is a running operator; receivers under test read through its cache.
	mgr manager.Manager
)

func TestMain(m *testing.M) {
	suite.RequireAssets(m, suite.ControlPlane)
	os.Exit(run(m))
}

func run(m *testing.M) int {
	suite.SetLogger()
	// Fuzz workers (FuzzReceiverRequest) are processes this one starts:
	// they attach to this control plane instead of starting their own.
	var err error
	if cluster, err = localcluster.StartOrAttach(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cluster.Stop() }()
	if err = cluster.Share(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	k8s = cluster.Admin
	var stop func() error
	mgr, stop, err = suite.StartOperator(cluster.OperatorConfig, operator.Options{MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: "0", EgressAllow: suite.LoopbackEgress})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	return code
}

func newNamespace(t *testing.T) string {
	t.Helper()
	return suite.NewNamespace(t, cluster, "receiver-")
}

func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	suite.Eventually(t, what, suite.DefaultTimeout, cond)
}

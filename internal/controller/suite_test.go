package controller_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

var (
	cluster *localcluster.Cluster
	// k8s is the admin client tests read and write with.
	k8s client.Client
	// fakeClock is the operator's clock; tests step it to make time pass.
	fakeClock = testingclock.NewFakeClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
)

// TestMain runs every test of this package against one real control plane
// and one running operator.
func TestMain(m *testing.M) {
	suite.RequireAssets(m, suite.ControlPlane, suite.Mailpit)
	os.Exit(run(m))
}

func run(m *testing.M) int {
	suite.SetLogger()
	var err error
	cluster, err = localcluster.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cluster.Stop() }()
	k8s = cluster.Admin

	if err := startOperator(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := stopOperator(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	return code
}

// stopOperator stops the running operator and waits until it has stopped.
var stopOperator func() error

// startOperator starts an operator on the shared control plane and clock.
func startOperator() error {
	_, stop, err := suite.StartOperator(cluster.OperatorConfig, operator.Options{
		MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: "0", Clock: fakeClock, Restartable: true,
		EgressAllow: suite.LoopbackEgress,
	})
	stopOperator = stop
	return err
}

// pauseOperator stops the shared operator for a test that reconciles by
// hand and counts what it writes, and starts it again when the test ends.
func pauseOperator(t *testing.T) {
	t.Helper()
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := startOperator(); err != nil {
			t.Fatal(err)
		}
	})
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	return suite.NewNamespace(t, cluster, "test-")
}

// eventually polls cond until it holds or 20 seconds pass.
func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	suite.Eventually(t, what, suite.DefaultTimeout, cond)
}

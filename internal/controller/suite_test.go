package controller_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/util/wait"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/klaxon-dev/klaxon/internal/localcluster"
	"github.com/klaxon-dev/klaxon/internal/operator"
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
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
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
	mgr, err := operator.New(cluster.OperatorConfig, operator.Options{
		MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: "0", Clock: fakeClock, Restartable: true,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stopOperator = func() error {
		cancel()
		return <-done
	}
	return nil
}

// zapLevel keeps the operator quiet unless KLAXON_TEST_VERBOSE is set.
func zapLevel() zapcore.Level {
	if os.Getenv("KLAXON_TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns, err := cluster.NewNamespace(context.Background(), "test-")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// eventually polls cond until it holds or 20 seconds pass.
func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 20*time.Second, true, cond)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

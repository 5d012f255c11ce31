package receiver_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/klaxon-dev/klaxon/internal/localcluster"
	"github.com/klaxon-dev/klaxon/internal/operator"
)

var (
	cluster *localcluster.Cluster
	k8s     client.Client
	// mgr is a running operator; receivers under test read through its cache.
	mgr manager.Manager
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	level := zapcore.ErrorLevel
	if os.Getenv("KLAXON_TEST_VERBOSE") != "" {
		level = zapcore.DebugLevel
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(level)))
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
	mgr, err = operator.New(cluster.OperatorConfig, operator.Options{MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: "0"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		fmt.Fprintln(os.Stderr, "the operator's cache did not sync")
		return 1
	}
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	return code
}

func newNamespace(t *testing.T) string {
	t.Helper()
	ns, err := cluster.NewNamespace(context.Background(), "receiver-")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 20*time.Second, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

package suite

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

// DefaultTimeout is how long Eventually waits unless told otherwise: long
// enough for a machine that runs other packages' API servers, and a
// package's own earlier floods, at the same time. A wait returns as soon
// as its condition holds, so only a failing test waits this long.
const DefaultTimeout = time.Minute

// SetLogger logs errors only, or everything when KLAXON_TEST_VERBOSE is set.
func SetLogger() {
	level := zapcore.ErrorLevel
	if os.Getenv("KLAXON_TEST_VERBOSE") != "" {
		level = zapcore.DebugLevel
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(level)))
}

// StartOperator builds the production manager with o, starts it and waits
// until its cache has synced. stop stops it and waits until it has stopped.
func StartOperator(cfg *rest.Config, o operator.Options) (mgr manager.Manager, stop func() error, err error) {
	mgr, err = operator.New(cfg, o)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stop = func() error {
		cancel()
		return <-done
	}
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return nil, nil, errors.Join(errors.New("the operator's cache did not sync"), stop())
	}
	return mgr, stop, nil
}

// NewNamespace creates a namespace for one test, named prefix plus a random
// suffix.
func NewNamespace(t testing.TB, c *localcluster.Cluster, prefix string) string {
	t.Helper()
	ns, err := c.NewNamespace(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// Eventually polls cond until it holds, failing t after timeout.
func Eventually(t testing.TB, what string, timeout time.Duration, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, timeout, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

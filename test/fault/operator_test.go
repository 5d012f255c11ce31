package fault

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// operator is the operator binary running as a separate process, as one
// replica of a Deployment, bound to the test that started it.
type operator struct {
	*proc.Operator
	t    *testing.T
	name string
	// receiverURL stays the same across restarts.
	receiverURL string
}

// startOperator runs the operator binary with the fixed flags, on fresh
// loopback ports, then extra flags, and waits until it is ready. It is
// stopped at the end of the test.
func startOperator(t *testing.T, name string, extra ...string) *operator {
	t.Helper()
	p, err := proc.NewOperator(proc.OperatorOptions{
		Name:       name,
		Binary:     managerBin,
		Kubeconfig: operatorKubeconfig,
		Namespace:  localcluster.OperatorNamespace,
		PublicURL:  true,
		Flags:      append([]string{"--zap-log-level=info"}, extra...),
		LogPath:    filepath.Join(t.TempDir(), name+".log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	o := &operator{Operator: p, t: t, name: name, receiverURL: p.ReceiverURL}
	t.Cleanup(func() {
		o.stop()
		if t.Failed() {
			dumpTail(t, "operator "+name, p.LogPath())
		}
	})
	if err := o.spawn(); err != nil {
		t.Fatal(err)
	}
	if err := o.ready(); err != nil {
		t.Fatal(err)
	}
	return o
}

// spawn starts the process again; safe off the test's goroutine.
func (o *operator) spawn() error { return o.Start() }

// ready waits until the operator answers /readyz; safe off the test's
// goroutine.
func (o *operator) ready() error { return o.WaitReady(context.Background()) }

// running tells whether the process is alive.
func (o *operator) running() bool { return o.Running() }

// kill ends the process with SIGKILL: no lease released, nothing flushed.
func (o *operator) kill() { o.Kill() }

// stop ends the operator as a kubelet does: SIGTERM, then SIGKILL.
func (o *operator) stop() { o.Stop() }

// supervise restarts the operator whenever it exits, as a kubelet
// restarts a container, until the test ends, and returns how many times it
// did. Call it from the test's goroutine.
func (o *operator) supervise() (restarts func() int) {
	o.t.Helper()
	// A kubelet backs off restarts from 10 s; a second keeps the test short
	// while still never restarting in a busy loop.
	restarts, stop := o.Supervise(time.Second, func(err error) { o.t.Error(err) })
	// Registered after startOperator's cleanup, so it runs first: nothing
	// restarts the operator once the test stops it.
	o.t.Cleanup(stop)
	return restarts
}

// dumpTail logs the last lines of a process's log, their stack traces
// left out.
func dumpTail(t *testing.T, who, path string) {
	if tail := proc.LogTail(path, 40); tail != "" {
		t.Logf("the last lines of %s's log:\n%s", who, tail)
	}
}

// peakRSS is the operator's peak resident memory in bytes, from /proc.
func (o *operator) peakRSS() int64 {
	o.t.Helper()
	_, peak, err := o.RSS()
	if err != nil {
		o.t.Fatal(err)
	}
	return peak
}

// metric sums the samples of a metric whose label set contains every one of
// labels (as name="value"), from the operator's metrics endpoint; 0 when it
// has none.
func (o *operator) metric(name string, labels ...string) float64 {
	o.t.Helper()
	v, err := o.Metric(name, labels...)
	if err != nil {
		o.t.Fatal(err)
	}
	return v
}

// failures repeats a test's failures after everything its cleanups log
// (the processes' logs, on failure), so that the end of a long output
// says why it failed.
type failures struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

// repeatFailures must be called before anything that registers a cleanup:
// cleanups run last registered first.
func repeatFailures(t *testing.T) *failures {
	f := &failures{t: t}
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.lines) > 0 {
			t.Logf("%s failed, as reported above:\n%s", t.Name(), strings.Join(f.lines, "\n"))
		}
	})
	return f
}

// Errorf reports a failure, as t.Errorf does, and keeps it to repeat.
func (f *failures) Errorf(format string, args ...any) {
	f.t.Helper()
	msg := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.lines = append(f.lines, msg)
	f.mu.Unlock()
	f.t.Error(msg)
}

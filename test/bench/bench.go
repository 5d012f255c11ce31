package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// sizes are the counts and durations of one bench run.
type sizes struct {
	serialCreates  int
	parallelFor    time.Duration
	workers        int
	pageAlerts     map[int]int
	stormSenders   int
	repeatGroups   int
	repeatFor      time.Duration
	lifecycles     int
	scaleIncidents int
	scaleNS        int
	scaleDue       int
	escalateAfter  time.Duration
}

// concurrencies are the numbers of concurrent Alertmanager senders whose
// alert-to-page latency is measured.
var concurrencies = []int{1, 8, 32}

func sizesFor(c config) sizes {
	s := sizes{
		serialCreates: 200, parallelFor: 3 * time.Second, workers: 32,
		pageAlerts:   map[int]int{1: 20, 8: 64, 32: 128},
		stormSenders: 32, repeatGroups: 32, repeatFor: 10 * time.Second, lifecycles: 1,
		escalateAfter: time.Minute,
	}
	if c.smoke {
		s.serialCreates, s.parallelFor = 20, time.Second
		s.pageAlerts = map[int]int{1: 3, 8: 8, 32: 32}
		s.repeatFor, s.lifecycles, s.escalateAfter = 2*time.Second, 1, 20*time.Second
	}
	s.scaleIncidents = max(int(math.Round(10000*c.scale)), 10)
	s.scaleNS = max(int(math.Round(100*c.scale)), 1)
	s.scaleDue = max(int(math.Round(1000*c.scale)), 5)
	return s
}

// bench holds the control plane, the operator and what observes them.
type bench struct {
	cfg   config
	size  sizes
	clock clock.Clock

	cluster        *localcluster.Cluster
	admin          client.Client
	adminConfig    *rest.Config
	api            *apiMetrics
	observer       *observer
	sender         *sender
	op             *operatorProcess
	tmp            string
	managerBin     string
	kubeconfigPath string
	operatorLog    string
	// stopWatch ends the bench's own watch before the control plane stops,
	// which would otherwise wait for it to drain.
	stopWatch context.CancelFunc
	// idleRSS is the operator's memory with no incidents, the part of it
	// that does not grow with them.
	idleRSS int64
}

// newBench starts the control plane and the operator. On error it returns
// what it started, for close to stop.
func newBench(ctx context.Context, cfg config, clk clock.Clock) (*bench, error) {
	tmp, err := os.MkdirTemp("", "klaxon-bench-")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary directory: %w", err)
	}
	b := &bench{cfg: cfg, size: sizesFor(cfg), clock: clk, tmp: tmp, managerBin: cfg.manager,
		observer: newObserver(clk), sender: newSender()}
	// The build and the control plane's start each take many seconds.
	built := make(chan error, 1)
	if b.managerBin == "" {
		logf(clk, "building the operator")
		go func() {
			bin, buildErr := proc.BuildOperator(ctx, tmp)
			b.managerBin = bin
			built <- buildErr
		}()
	} else {
		built <- nil
	}
	logf(clk, "starting etcd and kube-apiserver")
	b.cluster, err = localcluster.Start(ctx)
	if err = errors.Join(err, <-built); err != nil {
		return b, err
	}
	// The baseline is the API server's own speed, not a client's rate limit.
	b.adminConfig = rest.CopyConfig(b.cluster.AdminConfig)
	b.adminConfig.QPS, b.adminConfig.Burst = 1e6, 1e6
	if b.admin, err = client.New(b.adminConfig, client.Options{Scheme: operator.Scheme()}); err != nil {
		return b, fmt.Errorf("creating the admin client: %w", err)
	}
	if b.api, err = newAPIMetrics(b.adminConfig); err != nil {
		return b, err
	}
	if b.kubeconfigPath, err = proc.WriteOperatorKubeconfig(b.cluster, tmp); err != nil {
		return b, err
	}
	b.operatorLog = filepath.Join(tmp, "operator.log")
	if err = b.observer.serveHook(); err != nil {
		return b, err
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	b.stopWatch = stopWatch
	if err = b.observer.watchIncidents(watchCtx, b.adminConfig); err != nil {
		return b, err
	}
	logf(clk, "starting the operator %s", b.managerBin)
	if b.op, err = b.startOperator(ctx); err != nil {
		return b, err
	}
	// Ready comes before the caches have synced and settled.
	select {
	case <-ctx.Done():
		return b, fmt.Errorf("starting the operator: %w", ctx.Err())
	case <-time.After(3 * time.Second):
	}
	if b.idleRSS, _, err = b.op.rss(); err != nil {
		return b, err
	}
	return b, nil
}

// close stops the operator, then the control plane, and removes the
// temporary files unless the log is to be kept.
func (b *bench) close() {
	b.op.stop()
	if b.stopWatch != nil {
		b.stopWatch()
	}
	b.observer.close()
	if b.cluster != nil {
		if err := b.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: stopping the control plane:", err)
		}
	}
	if b.cfg.keepLog {
		fmt.Fprintln(os.Stderr, "bench: the operator's log is", b.operatorLog)
		return
	}
	_ = os.RemoveAll(b.tmp)
}

// restartOperator stops the operator and starts it again with extra flags.
func (b *bench) restartOperator(ctx context.Context, extra ...string) error {
	b.op.stop()
	b.op = nil
	var err error
	b.op, err = b.startOperator(ctx, extra...)
	return err
}

// runAll runs every scenario in an order that leaves each one a settled
// operator: the scale scenario, which fills the cluster, runs last.
func (b *bench) runAll(ctx context.Context) (*report, error) {
	r := &report{cfg: b.cfg, size: b.size, idleRSS: b.idleRSS}
	var err error
	logf(b.clock, "baseline: raw kube-apiserver creates")
	if r.baseline, err = b.runBaseline(ctx); err != nil {
		return nil, err
	}
	if b.cfg.only == onlyStorm {
		logf(b.clock, "alert storm of %s, %d time(s)", b.cfg.storm, b.cfg.stormRuns)
		r.storms, err = b.runStorms(ctx)
		return r, err
	}
	logf(b.clock, "alert to page at %v concurrent senders", concurrencies)
	if r.pages, r.repeats, err = b.runPages(ctx); err != nil {
		return nil, err
	}
	logf(b.clock, "alert to page through each intake, 1 sender")
	if r.intakes, err = b.runIntakes(ctx); err != nil {
		return nil, err
	}
	// The storm leaves minutes of Events behind; the lifecycle goes first.
	logf(b.clock, "writes per lifecycle")
	if r.lifecycles, err = b.runLifecycles(ctx); err != nil {
		return nil, err
	}
	logf(b.clock, "alert storm of %s, %d time(s)", b.cfg.storm, b.cfg.stormRuns)
	if r.storms, err = b.runStorms(ctx); err != nil {
		return nil, err
	}
	logf(b.clock, "scale: %d incidents across %d namespaces", b.size.scaleIncidents, b.size.scaleNS)
	if r.scale, err = b.runScale(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// logf reports progress on stderr; the table goes to stdout.
func logf(clk clock.PassiveClock, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", clk.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

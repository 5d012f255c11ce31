// Command bench measures Klaxon end to end: it starts a local control plane
// (etcd and kube-apiserver), runs the real operator binary against it, drives
// it the way Alertmanager and people do, and prints one markdown table. Every
// figure is a median over repeated runs and is set against a baseline
// measured on the same control plane in the same run, because absolute
// numbers on a shared machine say little.
//
//	KUBEBUILDER_ASSETS=$(hack/control-plane.sh) go run ./test/bench -manager bin/manager
//
// It reports; it asserts nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
)

// defaultScale is the fraction of the 10,000 incidents across 100
// namespaces that a default run uses, chosen so the whole run fits in ten
// minutes on two shared cores; BENCH_SCALE=1 runs the full size.
const defaultScale = 0.5

// config is what the flags and the environment ask for.
type config struct {
	manager      string
	runs         int
	storm        time.Duration
	stormRuns    int
	smoke        bool
	scale        float64
	scaleFromEnv bool
	operatorArgs []string
	keepLog      bool
	// scaleSchedule is the schedule of the scale namespaces: scheduleTeam,
	// scheduleTeamSolo or scheduleSingle.
	scaleSchedule string
	// only names the one scenario to run after the baseline (onlyStorm);
	// empty runs them all.
	only string
}

// onlyStorm runs the baseline and the alert storm alone (-only storm), for
// profiling the operator through a storm and its drain.
const onlyStorm = "storm"

func parseFlags() (config, error) {
	var c config
	var operatorArgs string
	flag.StringVar(&c.manager, "manager", "", "path of the operator binary; empty builds ./cmd into a temporary directory")
	flag.IntVar(&c.runs, "runs", 3, "repetitions behind each median")
	flag.DurationVar(&c.storm, "storm", 60*time.Second, "how long each alert storm lasts")
	flag.IntVar(&c.stormRuns, "storm-runs", 1, "alert storms; the storm rate is the median of -runs equal windows of each")
	flag.BoolVar(&c.smoke, "smoke", false, "a quick run for CI: one repetition, small counts, a few seconds per scenario, scale 0.01")
	flag.StringVar(&operatorArgs, "operator-args", "", "comma-separated extra flags for the operator, such as --kube-api-qps=200,--kube-api-burst=400")
	flag.BoolVar(&c.keepLog, "keep-log", false, "keep the operator's log and print where it is")
	flag.StringVar(&c.scaleSchedule, "scale-schedule", scheduleTeam, "the scale namespaces' schedule: "+
		scheduleTeam+" (groups, windows across days, an ended layer, an Add layer and an override: three people a page), "+
		scheduleTeamSolo+" (the same constructs, one person a page) or "+scheduleSingle+" (one layer of one person)")
	flag.StringVar(&c.only, "only", "", "run the baseline and only this scenario: "+onlyStorm)
	flag.Parse()
	if c.only != "" && c.only != onlyStorm {
		return c, fmt.Errorf("-only=%q: want %s", c.only, onlyStorm)
	}
	switch c.scaleSchedule {
	case scheduleTeam, scheduleTeamSolo, scheduleSingle:
	default:
		return c, fmt.Errorf("-scale-schedule=%q: want %s, %s or %s", c.scaleSchedule, scheduleTeam, scheduleTeamSolo, scheduleSingle)
	}
	if c.runs < 1 || c.stormRuns < 1 {
		return c, fmt.Errorf("-runs and -storm-runs must be at least 1, not %d and %d", c.runs, c.stormRuns)
	}
	if operatorArgs != "" {
		c.operatorArgs = strings.Split(operatorArgs, ",")
	}
	c.scale = defaultScale
	if v := os.Getenv("BENCH_SCALE"); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || s <= 0 || s > 1 {
			return c, fmt.Errorf("BENCH_SCALE=%q: want a fraction in (0, 1]", v)
		}
		c.scale, c.scaleFromEnv = s, true
	}
	if c.smoke {
		c.runs, c.stormRuns, c.storm = 1, 1, 3*time.Second
		if !c.scaleFromEnv {
			c.scale = 0.01
		}
	}
	return c, nil
}

func main() {
	os.Exit(run())
}

func run() int {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	// An interrupt cancels the context; every wait below honours it, and the
	// deferred stops end the operator, kube-apiserver and etcd.
	// The bench's clients log nothing worth reading next to the table.
	ctrl.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	clk := clock.RealClock{}
	start := clk.Now()
	b, err := newBench(ctx, cfg, clk)
	if b != nil {
		defer b.close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	report, err := b.runAll(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if errors.Is(err, context.Canceled) {
			return 130
		}
		return 1
	}
	report.wall = clk.Since(start)
	report.print(os.Stdout)
	return 0
}

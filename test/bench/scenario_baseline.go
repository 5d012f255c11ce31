package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// baselineRun is the API server's own speed for one run.
type baselineRun struct {
	// createP50 and createP99 are serial ConfigMap create latencies.
	createP50, createP99 time.Duration
	serialPerSec         float64
	parallelPerSec       float64
	// incidentP50 and incidentP99 are serial Incident create latencies:
	// the same round trip through a CRD, its CEL rules and the admission
	// policies, with no operator work in it.
	incidentP50, incidentP99 time.Duration
}

func (b *bench) runBaseline(ctx context.Context) ([]baselineRun, error) {
	ns, err := b.cluster.NewNamespace(ctx, "bench-baseline-")
	if err != nil {
		return nil, err
	}
	// The first writes to a new namespace wait for kube-apiserver's
	// admission caches to see it; that is no property of the server's speed.
	warm := func(i int) client.Object {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("warm-%d", i), Namespace: ns}}
	}
	if _, _, err := b.serialCreates(ctx, 10, warm); err != nil {
		return nil, err
	}
	var runs []baselineRun
	for run := range b.cfg.runs {
		var r baselineRun
		configMap := func(i int) client.Object {
			return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("serial-%d-%d", run, i), Namespace: ns},
				Data: map[string]string{"key": "value"}}
		}
		lat, elapsed, err := b.serialCreates(ctx, b.size.serialCreates, configMap)
		if err != nil {
			return nil, err
		}
		r.createP50, r.createP99 = percentile(lat, 50), percentile(lat, 99)
		r.serialPerSec = float64(len(lat)) / elapsed.Seconds()
		if r.parallelPerSec, err = b.parallelCreates(ctx, ns, run); err != nil {
			return nil, err
		}
		incident := func(i int) client.Object {
			return &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("raw-%d-%d", run, i), Namespace: ns},
				Spec: klaxonv1alpha1.IncidentSpec{Title: "raw create", Severity: klaxonv1alpha1.SeverityModerate}}
		}
		if lat, _, err = b.serialCreates(ctx, max(b.size.serialCreates/4, 5), incident); err != nil {
			return nil, err
		}
		r.incidentP50, r.incidentP99 = percentile(lat, 50), percentile(lat, 99)
		runs = append(runs, r)
		logf(b.clock, "  run %d: create p50 %.1fms p99 %.1fms, serial %.0f/s, parallel %.0f/s; incident create p50 %.1fms",
			run+1, ms(r.createP50), ms(r.createP99), r.serialPerSec, r.parallelPerSec, ms(r.incidentP50))
		// The raw incidents' first reconcile must not land in the next run.
		if err := b.observer.quiet(ctx, time.Second, 30*time.Second); err != nil {
			return nil, err
		}
	}
	return runs, nil
}

// serialCreates creates n objects one after another and returns each
// create's latency and the total time.
func (b *bench) serialCreates(ctx context.Context, n int, obj func(int) client.Object) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, 0, n)
	start := b.clock.Now()
	for i := range n {
		o := obj(i)
		t0 := b.clock.Now()
		if err := b.admin.Create(ctx, o); err != nil {
			return nil, 0, fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
		lat = append(lat, b.clock.Since(t0))
	}
	return lat, b.clock.Since(start), nil
}

// parallelCreates creates ConfigMaps from as many workers as the storm has
// senders, for parallelFor, and returns creates per second.
func (b *bench) parallelCreates(ctx context.Context, ns string, run int) (float64, error) {
	var (
		next, done atomic.Int64
		wg         sync.WaitGroup
		firstErr   atomic.Value
	)
	start := b.clock.Now()
	deadline := start.Add(b.size.parallelFor)
	for range b.size.stormSenders {
		wg.Go(func() {
			for b.clock.Now().Before(deadline) && ctx.Err() == nil {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("parallel-%d-%d", run, next.Add(1)), Namespace: ns},
					Data: map[string]string{"key": "value"}}
				if err := b.admin.Create(ctx, cm); err != nil {
					firstErr.CompareAndSwap(nil, fmt.Errorf("creating ConfigMap %s: %w", cm.Name, err))
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, err
	}
	return float64(done.Load()) / b.clock.Since(start).Seconds(), nil
}

package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// stormDrainLimit bounds the wait for a storm's incidents to be paged.
const stormDrainLimit = 5 * time.Minute

// stormRun is one alert storm.
type stormRun struct {
	duration time.Duration
	// accepted counts distinct groups answered 200; groupsPerSec is them
	// over the storm's length, and windowRates over each of -runs equal
	// windows of it.
	accepted     int
	groupsPerSec float64
	windowRates  []float64
	// retries counts answers Alertmanager would retry (503, or no answer);
	// refused counts any other answer, after which a group is dropped.
	retries, refused int
	// found counts accepted groups with their incident; lost is the rest;
	// extra counts incidents of no accepted group (a group opened twice).
	found, lost, extra int
	// unpaged counts incidents not paged within stormDrainLimit; drain is
	// from the storm's end until the last one was paged.
	unpaged int
	drain   time.Duration
	// unrecorded counts incidents with no delivery recorded in status
	// within stormDrainLimit; recordDrain is from the storm's end until the
	// last one was.
	unrecorded  int
	recordDrain time.Duration
	// unnamed counts incidents no message received named within
	// stormDrainLimit; nameDrain is from the storm's end until the last
	// one was.
	unnamed   int
	nameDrain time.Duration
	// bundleAfter and bundleWindow are the storm responder's bundling;
	// mostPerWindow is the most messages the responder received in one
	// bundleWindow from the storm's start until every incident was named
	// (or the wait gave up), messages all of them, and bundles the bundles
	// among them and the incidents they held.
	bundleAfter   int
	bundleWindow  time.Duration
	mostPerWindow int
	messages      int
	bundles       bundleTally
	api           apiCounts
}

// stormNamespace is what a storm namespace holds: alice on call, paged
// through the webhook channel. Its alerts open SEV2 incidents, since SEV1
// pages are never bundled and the storm measures bundling too.
var stormNamespace = nsOptions{route: true, hookToken: true, severity: klaxonv1alpha1.SeverityHigh}

func (b *bench) runStorms(ctx context.Context) ([]stormRun, error) {
	var runs []stormRun
	for run := range b.cfg.stormRuns {
		// A namespace per storm, so its incidents can be counted.
		ns, err := b.newNamespace(ctx, "bench-storm-", stormNamespace)
		if err != nil {
			return nil, err
		}
		r, err := b.storm(ctx, ns, fmt.Sprintf("s%d", run), stormNamespace)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
		logf(b.clock, "  storm %d: %d groups in %s (%.1f/s; windows %.1f/s), %d retried, %d refused, %d lost, %d extra, all paged %.1fs after the end (%d never), delivery recorded %.1fs after (%d never), named in a message %.1fs after (%d never), "+
			"at most %d messages in %s to one person (%d in all, %d bundles of %d incidents), "+
			"%.2f writes and %.2f conflicts per group; APF: %.0f rejected, %.0f ms mean queue wait",
			run+1, r.accepted, r.duration.Round(time.Millisecond), r.groupsPerSec, r.windowRates, r.retries, r.refused, r.lost, r.extra, r.drain.Seconds(), r.unpaged,
			r.recordDrain.Seconds(), r.unrecorded, r.nameDrain.Seconds(), r.unnamed,
			r.mostPerWindow, r.bundleWindow, r.messages, r.bundles.messages, r.bundles.incidents,
			r.api.incidentWrites/float64(max(r.accepted, 1)), r.api.incidentConflicts/float64(max(r.accepted, 1)),
			r.api.apfRejected, 1000*r.api.apfWaited/max(r.api.apfWaits, 1))
		// The scale scenario measures memory and restarts with its own
		// incidents, not with thousands the storm left. The operator is
		// stopped meanwhile, so the API server deletes them without
		// serving its reconciles of each deletion too; the scale scenario,
		// or the next storm, starts it again.
		b.op.stop()
		if err = b.deleteIncidents(ctx, ns); err != nil {
			return nil, err
		}
		if run+1 < b.cfg.stormRuns {
			if err = b.restartOperator(ctx); err != nil {
				return nil, err
			}
		}
	}
	return runs, nil
}

// drained waits until each accepted group's incident has a mark, and
// returns from end until the last mark, and how many had none within
// stormDrainLimit of end.
func (b *bench) drained(ctx context.Context, m *marks, accepted []group, end time.Time) (time.Duration, int, error) {
	var last time.Time
	missing := 0
	for _, g := range accepted {
		at, err := m.wait(ctx, g.incident(), max(stormDrainLimit-b.clock.Since(end), 0))
		if err != nil {
			if ctx.Err() != nil {
				return 0, 0, err
			}
			missing++
			continue
		}
		if at.After(last) {
			last = at
		}
	}
	return max(last.Sub(end), 0), missing, nil
}

// deleteIncidents deletes every incident of a namespace, one request each:
// a single delete of thousands can outlast the API server's request
// timeout.
func (b *bench) deleteIncidents(ctx context.Context, ns string) error {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(klaxonv1alpha1.GroupVersion.WithKind("IncidentList"))
	if err := b.admin.List(ctx, list, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("listing the storm's incidents: %w", err)
	}
	err := parallel(ctx, len(list.Items), 32, func(ctx context.Context, i int) error {
		return client.IgnoreNotFound(b.admin.Delete(ctx, &list.Items[i]))
	})
	if err != nil {
		return fmt.Errorf("deleting the storm's incidents: %w", err)
	}
	logf(b.clock, "  deleted the storm's %d incidents", len(list.Items))
	return nil
}

// storm sends distinct groups from stormSenders senders, back to back, for
// the storm's length. Each group is retried on 503 as Alertmanager does,
// until the receiver takes it or the storm ends.
func (b *bench) storm(ctx context.Context, ns, tag string, o nsOptions) (stormRun, error) {
	var r stormRun
	r.bundleAfter, r.bundleWindow = o.bundling()
	if err := b.observer.quiet(ctx, time.Second, 60*time.Second); err != nil {
		return r, err
	}
	before, err := b.api.counts(ctx)
	if err != nil {
		return r, err
	}
	var (
		next             atomic.Int64
		retries, refused atomic.Int64
		mu               sync.Mutex
		accepted         []group
		acceptedAt       []time.Time
		firstRefusal     string
		wg               sync.WaitGroup
	)
	start := b.clock.Now()
	deadline := start.Add(b.cfg.storm)
	for range b.size.stormSenders {
		wg.Go(func() {
			for b.clock.Now().Before(deadline) && ctx.Err() == nil {
				g := newGroup(ns, fmt.Sprintf("%s-%d", tag, next.Add(1)))
				for b.clock.Now().Before(deadline) && ctx.Err() == nil {
					code, answer, postErr := b.sender.post(ctx, b.op.receiverURL, g)
					if postErr == nil && code == http.StatusOK {
						mu.Lock()
						accepted, acceptedAt = append(accepted, g), append(acceptedAt, b.clock.Now())
						mu.Unlock()
						break
					}
					if postErr == nil && code != http.StatusServiceUnavailable {
						refused.Add(1)
						mu.Lock()
						if firstRefusal == "" {
							firstRefusal = fmt.Sprintf("%d %s", code, strings.TrimSpace(answer))
						}
						mu.Unlock()
						break
					}
					retries.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	end := b.clock.Now()
	if ctx.Err() != nil {
		return r, fmt.Errorf("storming the receiver: %w", ctx.Err())
	}
	if firstRefusal != "" {
		logf(b.clock, "  the first refusal: %s", firstRefusal)
	}
	r.duration = end.Sub(start)
	r.accepted, r.retries, r.refused = len(accepted), int(retries.Load()), int(refused.Load())
	r.groupsPerSec = float64(r.accepted) / r.duration.Seconds()
	window := r.duration / time.Duration(b.cfg.runs)
	counts := make([]int, b.cfg.runs)
	for _, at := range acceptedAt {
		counts[min(int(at.Sub(start)/window), b.cfg.runs-1)]++
	}
	for _, n := range counts {
		r.windowRates = append(r.windowRates, float64(n)/window.Seconds())
	}

	// Each wait shares one limit from the storm's end.
	if r.drain, r.unpaged, err = b.drained(ctx, b.observer.paged0, accepted, end); err != nil {
		return r, err
	}
	if r.recordDrain, r.unrecorded, err = b.drained(ctx, b.observer.recorded, accepted, end); err != nil {
		return r, err
	}
	// Every delivery is recorded after its message arrived.
	keys := make([]string, len(accepted))
	for i, g := range accepted {
		keys[i] = g.incident()
	}
	r.nameDrain, r.unnamed = b.observer.namedDrain(ns, keys, end)
	lastNamed := end.Add(r.nameDrain)
	if r.unnamed > 0 {
		lastNamed = b.clock.Now()
	}
	r.mostPerWindow, r.messages, r.bundles = b.observer.messagesPerWindow(contactKey(ns, contactAddress(level0User)), start, lastNamed, r.bundleWindow)

	// Each accepted group must have its incident, found by the name the
	// receiver derives from the route and the group key.
	list := &klaxonv1alpha1.IncidentList{}
	if err = b.admin.List(ctx, list, client.InNamespace(ns)); err != nil {
		return r, fmt.Errorf("listing the storm's incidents: %w", err)
	}
	names := make(map[string]bool, len(list.Items))
	for _, inc := range list.Items {
		names[inc.Namespace+"/"+inc.Name] = true
	}
	for _, g := range accepted {
		if names[g.incident()] {
			r.found++
		}
	}
	r.lost, r.extra = r.accepted-r.found, len(list.Items)-r.found

	if err = b.observer.quiet(ctx, time.Second, 60*time.Second); err != nil {
		return r, err
	}
	after, err := b.api.counts(ctx)
	if err != nil {
		return r, err
	}
	r.api = after.sub(before)
	return r, nil
}

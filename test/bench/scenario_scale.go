package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// setupFlags raise the operator's client rate limits while the scale
// scenario fills the cluster, which is not measured; every measured
// operator runs with the defaults (and -operator-args).
var setupFlags = []string{"--kube-api-qps=1000", "--kube-api-burst=2000"}

// restartRun is one restart of the operator over the full cluster.
type restartRun struct {
	// incidents is how many incidents the cluster holds; reconcile is from
	// the process's start until each was reconciled once and the queue is
	// empty.
	incidents int
	reconcile time.Duration
	rss, peak int64
	// notCurrent counts incidents whose observedGeneration lags after it.
	notCurrent int
	api        apiCounts
}

// scaleResult is the scale scenario.
type scaleResult struct {
	incidents, namespaces, due int
	restarts                   []restartRun
	// lateness is, per due incident, when its level-1 page was seen minus
	// its nextEscalationAt; missed counts those never seen or without one.
	lateness []time.Duration
	missed   int
	// pageSpread is how long paging the due incidents' level 0 took, which
	// spreads their due times.
	pageSpread time.Duration
}

func (b *bench) runScale(ctx context.Context) (*scaleResult, error) {
	s := &scaleResult{incidents: b.size.scaleIncidents, namespaces: b.size.scaleNS, due: b.size.scaleDue}
	setupStart := b.clock.Now()
	if err := b.restartOperator(ctx, setupFlags...); err != nil {
		return nil, err
	}
	namespaces, err := b.scaleNamespaces(ctx)
	if err != nil {
		return nil, err
	}
	steady := s.incidents - s.due
	logf(b.clock, "  creating %d incidents that page and wait", steady)
	keys, err := b.createIncidents(ctx, namespaces, "steady", steady, policyName)
	if err != nil {
		return nil, err
	}
	if _, _, err = b.waitPaged(ctx, b.observer.paged0, keys, 10*time.Minute); err != nil {
		return nil, err
	}
	if err = b.checkTeamPage(ctx, keys[0]); err != nil {
		return nil, err
	}
	logf(b.clock, "  set up in %s; restarting the operator with its default flags", b.clock.Since(setupStart).Round(time.Second))
	if _, err = b.measuredRestart(ctx); err != nil {
		return nil, err
	}

	logf(b.clock, "  creating %d incidents whose level 1 is due %s after their page", s.due, b.size.escalateAfter)
	escStart := b.clock.Now()
	dueKeys, err := b.createIncidents(ctx, namespaces, "due", s.due, fastPolicy)
	if err != nil {
		return nil, err
	}
	first, last, err := b.waitPaged(ctx, b.observer.paged0, dueKeys, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	s.pageSpread = last.Sub(first)
	logf(b.clock, "  level 0 of the due incidents paged within %s of each other (%s after the first create)",
		s.pageSpread.Round(time.Millisecond), last.Sub(escStart).Round(time.Millisecond))
	for _, key := range dueKeys {
		paged, err := b.observer.paged1.wait(ctx, key, max(last.Add(b.size.escalateAfter+5*time.Minute).Sub(b.clock.Now()), 0))
		due, ok := b.observer.dueAt(key)
		if err != nil || !ok {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("waiting for escalations: %w", ctx.Err())
			}
			s.missed++
			continue
		}
		s.lateness = append(s.lateness, paged.Sub(due))
	}
	logf(b.clock, "  escalation lateness p50 %.0fms p99 %.0fms max %.0fms, %d missed",
		ms(percentile(s.lateness, 50)), ms(percentile(s.lateness, 99)), ms(percentile(s.lateness, 100)), s.missed)

	for run := range b.cfg.runs {
		r, err := b.measuredRestart(ctx)
		if err != nil {
			return nil, err
		}
		s.restarts = append(s.restarts, r)
		logf(b.clock, "  restart %d: %d incidents reconciled in %s, VmRSS %.0f MiB (peak %.0f MiB), %.0f incident writes, %d not current",
			run+1, r.incidents, r.reconcile.Round(time.Millisecond), mib(r.rss), mib(r.peak), r.api.incidentWrites, r.notCurrent)
	}
	return s, nil
}

// scaleNamespaces creates the scale scenario's namespaces: the schedule
// -scale-schedule names (by default a team's, with an override in force,
// level 0 paging three people), the
// steady policy (level 1 an hour after level 0), the fast policy, and
// responders whose rule sends a day after the page, so no incident sends
// anything while it is measured.
func (b *bench) scaleNamespaces(ctx context.Context) ([]string, error) {
	namespaces := make([]string, b.size.scaleNS)
	opts := nsOptions{sendAfter: 24 * time.Hour, escalateAfter: time.Hour, fastAfter: b.size.escalateAfter, schedule: b.cfg.scaleSchedule}
	err := parallel(ctx, len(namespaces), 8, func(ctx context.Context, i int) error {
		ns, err := b.newNamespace(ctx, "bench-scale-", opts)
		namespaces[i] = ns
		return err
	})
	return namespaces, err
}

// checkTeamPage makes sure an incident's level 0 paged whom its schedule
// and overrides say (for the team schedule: alice, her group's partner, and
// grace covering frank; otherwise alice alone), so the scale rows measure
// schedules that use them.
func (b *bench) checkTeamPage(ctx context.Context, key string) error {
	ns, name, _ := strings.Cut(key, "/")
	inc := &klaxonv1alpha1.Incident{}
	if err := b.admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, inc); err != nil {
		return fmt.Errorf("reading incident %s: %w", key, err)
	}
	var paged []string
	for _, a := range inc.Status.Assignments {
		if a.Level == 0 && a.Round == 0 {
			paged = append(paged, a.Name)
		}
	}
	slices.Sort(paged)
	switch b.cfg.scaleSchedule {
	case scheduleTeam:
		if len(paged) != 3 || !slices.Contains(paged, level0User) || !slices.Contains(paged, "grace") || slices.Contains(paged, "frank") {
			return fmt.Errorf("incident %s paged %v at level 0, want alice, one partner and grace (covering frank)", key, paged)
		}
	default:
		if len(paged) != 1 || paged[0] != level0User {
			return fmt.Errorf("incident %s paged %v at level 0, want alice alone", key, paged)
		}
	}
	logf(b.clock, "  level 0 pages %s (incident %s)", strings.Join(paged, ", "), key)
	return nil
}

// createIncidents creates n Triggered SEV3 incidents following policy,
// spread round-robin over the namespaces, and returns their keys.
func (b *bench) createIncidents(ctx context.Context, namespaces []string, prefix string, n int, policy string) ([]string, error) {
	keys := make([]string, n)
	err := parallel(ctx, n, 16, func(ctx context.Context, i int) error {
		inc := &klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, i), Namespace: namespaces[i%len(namespaces)]},
			Spec: klaxonv1alpha1.IncidentSpec{Title: fmt.Sprintf("Scale incident %d", i), Severity: klaxonv1alpha1.SeverityModerate,
				Service: "bench", EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: policy}},
		}
		keys[i] = inc.Namespace + "/" + inc.Name
		if err := b.admin.Create(ctx, inc); err != nil {
			return fmt.Errorf("creating incident %s: %w", keys[i], err)
		}
		return nil
	})
	return keys, err
}

// waitPaged waits until every key is marked, within limit, and returns
// the first and last marks.
func (b *bench) waitPaged(ctx context.Context, m *marks, keys []string, limit time.Duration) (first, last time.Time, err error) {
	deadline := b.clock.Now().Add(limit)
	for _, key := range keys {
		at, err := m.wait(ctx, key, max(deadline.Sub(b.clock.Now()), 0))
		if err != nil {
			return first, last, fmt.Errorf("waiting for the incidents to be paged: %w", err)
		}
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	return first, last, nil
}

// measuredRestart restarts the operator with its default flags and times
// it from the process's start until its incident controller has
// reconciled every incident once and has nothing queued or in flight: the
// first reconcile of each incident after a restart is when it is current
// again (a due page sent, a changed status written).
func (b *bench) measuredRestart(ctx context.Context) (restartRun, error) {
	var r restartRun
	if err := b.observer.quiet(ctx, time.Second, time.Minute); err != nil {
		return r, err
	}
	b.op.stop()
	before, err := b.api.counts(ctx)
	if err != nil {
		return r, err
	}
	r.incidents = b.observer.incidents()
	if b.op, err = b.startOperator(ctx); err != nil {
		return r, err
	}
	for {
		var q queueState
		q, err = b.op.incidentQueue(ctx)
		switch {
		case err != nil && b.clock.Since(b.op.startedAt) < 30*time.Second:
			// /readyz can answer before the metrics server listens: ask again.
			q = queueState{reconciles: -1}
		case err != nil:
			return r, err
		}
		if q.reconciles >= float64(r.incidents) && q.depth == 0 && q.active == 0 {
			r.reconcile = b.clock.Since(b.op.startedAt)
			break
		}
		if b.clock.Since(b.op.startedAt) > 10*time.Minute {
			return r, fmt.Errorf("the restarted operator reconciled %.0f of %d incidents in 10 minutes", q.reconciles, r.incidents)
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("waiting for the restarted operator: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if r.rss, r.peak, err = b.op.rss(); err != nil {
		return r, err
	}
	if err = b.observer.quiet(ctx, time.Second, time.Minute); err != nil {
		return r, err
	}
	after, err := b.api.counts(ctx)
	if err != nil {
		return r, err
	}
	r.api = after.sub(before)
	r.notCurrent = b.observer.notCurrent()
	return r, nil
}

// parallel runs f for 0..n-1 on workers goroutines and returns the first
// error; after one, the rest are skipped.
func parallel(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

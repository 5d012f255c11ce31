package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// pageTimeout bounds the wait for one alert's page and delivery; an alert
// that takes longer counts as missed.
const pageTimeout = 2 * time.Minute

// pageRun is one batch of alerts at one concurrency.
type pageRun struct {
	concurrency int
	alerts      int
	// missed counts alerts not answered 200, or not paged or delivered
	// within pageTimeout.
	missed                 int
	pageP50, pageP99       time.Duration
	deliverP50, deliverP99 time.Duration
	api                    apiCounts
	paged                  []group
	pageLat, deliverLat    []time.Duration
}

// repeatRun is one burst of repeats of groups that changed nothing.
type repeatRun struct {
	repeats int
	perSec  float64
	nonOK   int
	api     apiCounts
}

// runPages measures alert to page at each concurrency, then repeats of the
// groups it paged.
func (b *bench) runPages(ctx context.Context) ([][]pageRun, []repeatRun, error) {
	ns, err := b.newNamespace(ctx, "bench-page-", nsOptions{route: true, hookToken: true})
	if err != nil {
		return nil, nil, err
	}
	// The first notification fills the receiver's token copy and the
	// delivery path's connections; it is not measured.
	if _, err := b.pageBatch(ctx, ns, "warmup", 1, 2); err != nil {
		return nil, nil, err
	}
	pages := make([][]pageRun, len(concurrencies))
	var repeats []repeatRun
	for run := range b.cfg.runs {
		var paged []group
		for i, c := range concurrencies {
			r, err := b.pageBatch(ctx, ns, fmt.Sprintf("r%d", run), c, b.size.pageAlerts[c])
			if err != nil {
				return nil, nil, err
			}
			pages[i] = append(pages[i], r)
			paged = append(paged, r.paged...)
			logf(b.clock, "  run %d, %d senders: page p50 %.0fms p99 %.0fms, delivered p50 %.0fms p99 %.0fms, %.2f writes and %.2f conflicts per alert, %d missed",
				run+1, c, ms(r.pageP50), ms(r.pageP99), ms(r.deliverP50), ms(r.deliverP99),
				r.api.incidentWrites/float64(r.alerts), r.api.incidentConflicts/float64(r.alerts), r.missed)
		}
		r, err := b.repeatBurst(ctx, paged[:min(len(paged), b.size.repeatGroups)])
		if err != nil {
			return nil, nil, err
		}
		repeats = append(repeats, r)
		logf(b.clock, "  run %d, repeats: %.0f/s, %.3f writes per repeat, %d not 200", run+1, r.perSec, r.api.incidentWrites/float64(max(r.repeats, 1)), r.nonOK)
	}
	return pages, repeats, nil
}

// pageBatch sends n distinct groups from c senders, each sending its next
// group once the previous one's page was delivered, and times each group
// from its POST to its level-0 assignment and to the webhook channel's POST.
func (b *bench) pageBatch(ctx context.Context, ns, tag string, c, n int) (pageRun, error) {
	r := pageRun{concurrency: c, alerts: n}
	if err := b.observer.quiet(ctx, time.Second, 30*time.Second); err != nil {
		return r, err
	}
	before, err := b.api.counts(ctx)
	if err != nil {
		return r, err
	}
	var (
		next   atomic.Int64
		mu     sync.Mutex
		wg     sync.WaitGroup
		errs   []error
		missed atomic.Int64
	)
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				g := newGroup(ns, fmt.Sprintf("%s-c%d-%d", tag, c, i))
				t0 := b.clock.Now()
				code, answer, postErr := b.sender.post(ctx, b.op.receiverURL, g)
				if postErr != nil || code != http.StatusOK {
					missed.Add(1)
					if postErr == nil {
						postErr = fmt.Errorf("answered %d: %s", code, answer)
					}
					mu.Lock()
					errs = append(errs, fmt.Errorf("group %s: %w", g.id, postErr))
					mu.Unlock()
					continue
				}
				paged, errPage := b.observer.paged0.wait(ctx, g.incident(), pageTimeout)
				delivered, errDeliver := b.observer.delivered.wait(ctx, g.incident(), pageTimeout)
				mu.Lock()
				if errPage == nil && errDeliver == nil {
					r.pageLat = append(r.pageLat, paged.Sub(t0))
					r.deliverLat = append(r.deliverLat, delivered.Sub(t0))
					r.paged = append(r.paged, g)
				} else {
					missed.Add(1)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return r, fmt.Errorf("sending alerts: %w", ctx.Err())
	}
	r.missed = int(missed.Load())
	if len(errs) > 0 {
		logf(b.clock, "  %d alerts refused, the first: %v", len(errs), errs[0])
	}
	// The delivery's outcome is written after the channel answered.
	if err = b.observer.quiet(ctx, time.Second, 30*time.Second); err != nil {
		return r, err
	}
	after, err := b.api.counts(ctx)
	if err != nil {
		return r, err
	}
	r.api = after.sub(before)
	r.pageP50, r.pageP99 = percentile(r.pageLat, 50), percentile(r.pageLat, 99)
	r.deliverP50, r.deliverP99 = percentile(r.deliverLat, 50), percentile(r.deliverLat, 99)
	return r, nil
}

// repeatBurst resends the notifications of groups that are paged and
// delivered, unchanged, from one sender per group for repeatFor.
func (b *bench) repeatBurst(ctx context.Context, groups []group) (repeatRun, error) {
	var r repeatRun
	if err := b.observer.quiet(ctx, time.Second, 30*time.Second); err != nil {
		return r, err
	}
	before, err := b.api.counts(ctx)
	if err != nil {
		return r, err
	}
	var ok, nonOK atomic.Int64
	var wg sync.WaitGroup
	start := b.clock.Now()
	deadline := start.Add(b.size.repeatFor)
	for _, g := range groups {
		wg.Go(func() {
			for b.clock.Now().Before(deadline) && ctx.Err() == nil {
				code, _, postErr := b.sender.post(ctx, b.op.receiverURL, g)
				if postErr != nil || code != http.StatusOK {
					nonOK.Add(1)
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := b.clock.Since(start)
	if ctx.Err() != nil {
		return r, fmt.Errorf("repeating notifications: %w", ctx.Err())
	}
	// A write caused by a repeat would show within a second.
	if err = b.observer.quiet(ctx, time.Second, 10*time.Second); err != nil {
		return r, err
	}
	after, err := b.api.counts(ctx)
	if err != nil {
		return r, err
	}
	r.repeats, r.nonOK = int(ok.Load()), int(nonOK.Load())
	r.perSec = float64(r.repeats) / elapsed.Seconds()
	r.api = after.sub(before)
	return r, nil
}

package main

import (
	"context"
	"fmt"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// moves are the lifecycle steps measured, in order; the first is the
// incident's creation.
var moves = []klaxonv1alpha1.IncidentState{
	klaxonv1alpha1.StateTriggered, klaxonv1alpha1.StateAcknowledged, klaxonv1alpha1.StateResolved, klaxonv1alpha1.StateClosed,
}

// lifecycleRun is the writes each move of one incident caused, besides
// the admin's own create or patch, and the Events about it.
type lifecycleRun struct {
	writes, conflicts, events [4]float64
}

// runLifecycles takes incidents from trigger to close by admin writes. The
// incident pages alice, whose only rule sends an hour later, so the
// trigger's page and its pending delivery are in the count while no send
// adds writes of its own.
func (b *bench) runLifecycles(ctx context.Context) ([]lifecycleRun, error) {
	ns, err := b.newNamespace(ctx, "bench-life-", nsOptions{sendAfter: time.Hour})
	if err != nil {
		return nil, err
	}
	var runs []lifecycleRun
	for run := range b.cfg.runs * b.size.lifecycles {
		r, err := b.lifecycle(ctx, ns, fmt.Sprintf("life-%d", run))
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
		logf(b.clock, "  incident %d: operator writes trigger %.0f, ack %.0f, resolve %.0f, close %.0f; events %.0f %.0f %.0f %.0f",
			run+1, r.writes[0], r.writes[1], r.writes[2], r.writes[3], r.events[0], r.events[1], r.events[2], r.events[3])
	}
	return runs, nil
}

func (b *bench) lifecycle(ctx context.Context, ns, name string) (lifecycleRun, error) {
	var r lifecycleRun
	inc := &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.IncidentSpec{Title: "Lifecycle " + name, Severity: klaxonv1alpha1.SeverityModerate,
			EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: policyName}}}
	seen := 0
	for i, state := range moves {
		if err := b.observer.quiet(ctx, time.Second, 30*time.Second); err != nil {
			return r, err
		}
		before, err := b.api.counts(ctx)
		if err != nil {
			return r, err
		}
		if i == 0 {
			err = b.admin.Create(ctx, inc)
		} else {
			patch := fmt.Sprintf(`{"spec":{"state":%q}}`, state)
			err = b.admin.Patch(ctx, inc, client.RawPatch(types.MergePatchType, []byte(patch)))
		}
		if err != nil {
			return r, fmt.Errorf("moving incident %s to %s: %w", name, state, err)
		}
		err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			if getErr := b.admin.Get(ctx, client.ObjectKeyFromObject(inc), inc); getErr != nil {
				return false, fmt.Errorf("reading incident %s: %w", name, getErr)
			}
			accepted := inc.Status.Phase == state && inc.Status.ObservedGeneration == inc.Generation
			if state == klaxonv1alpha1.StateTriggered {
				accepted = accepted && len(inc.Status.Assignments) > 0
			}
			return accepted, nil
		})
		if err != nil {
			return r, fmt.Errorf("waiting for incident %s to be %s: %w", name, state, err)
		}
		if err = b.observer.quiet(ctx, time.Second, 30*time.Second); err != nil {
			return r, err
		}
		after, err := b.api.counts(ctx)
		if err != nil {
			return r, err
		}
		events, err := b.eventsAbout(ctx, ns, name)
		if err != nil {
			return r, err
		}
		d := after.sub(before)
		// The admin's own create or patch is not the operator's.
		r.writes[i], r.conflicts[i], r.events[i] = d.incidentWrites-1, d.incidentConflicts, float64(events-seen)
		seen = events
	}
	return r, nil
}

// eventsAbout counts the occurrences of Events about the incident, once
// their number has held still for a second: the operator's Events are
// sent in the background, behind those of other incidents.
func (b *bench) eventsAbout(ctx context.Context, ns, name string) (int, error) {
	count := func(ctx context.Context) (int, error) {
		list := &eventsv1.EventList{}
		if err := b.admin.List(ctx, list, client.InNamespace(ns)); err != nil {
			return 0, fmt.Errorf("listing the Events of %s: %w", ns, err)
		}
		n := 0
		for _, e := range list.Items {
			if e.Regarding.Kind != "Incident" || e.Regarding.Name != name {
				continue
			}
			n++
			if e.Series != nil {
				n += int(e.Series.Count) - 1
			}
		}
		return n, nil
	}
	last, err := count(ctx)
	if err != nil {
		return 0, err
	}
	stable, deadline := b.clock.Now(), b.clock.Now().Add(30*time.Second)
	for b.clock.Since(stable) < time.Second && b.clock.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("counting Events: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
		n, err := count(ctx)
		if err != nil {
			return 0, err
		}
		if n != last {
			last, stable = n, b.clock.Now()
		}
	}
	return last, nil
}

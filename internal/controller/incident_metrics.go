package controller

import (
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/escalation"
	"github.com/klaxon-dev/klaxon/internal/lifecycle"
	"github.com/klaxon-dev/klaxon/internal/metrics"
	"github.com/klaxon-dev/klaxon/internal/targets"
)

// observeTransition returns what a lifecycle move adds to the metrics, to
// run once the move is stored. A move is accepted once (a restarted or new
// leader finds it in status.phase and makes no move), so each episode's
// times are observed once, and only by the leader, which alone reconciles.
// The durations are those of the stored timestamps, whole seconds.
//
// Time to acknowledge is observed only on a move to Acknowledged: an episode
// resolved without acknowledgement (an alert that resolved by itself) has
// none, rather than one that would flatter MTTA. Time to resolve is observed
// on the first move to Resolved or past it (straight to Closed).
func observeTransition(inc *klaxonv1alpha1.Incident, tr lifecycle.Transition, now time.Time) func() {
	st := &inc.Status
	if st.TriggeredAt == nil {
		return func() {}
	}
	ns, sev := inc.Namespace, string(inc.Spec.Severity)
	d := now.Truncate(time.Second).Sub(st.TriggeredAt.Truncate(time.Second))
	resolvedOrLater := func(s klaxonv1alpha1.IncidentState) bool {
		return s == klaxonv1alpha1.StateResolved || s == klaxonv1alpha1.StateClosed
	}
	switch {
	case tr.To == klaxonv1alpha1.StateAcknowledged:
		return func() { metrics.Acknowledged(ns, sev, d) }
	case resolvedOrLater(tr.To) && !resolvedOrLater(tr.From):
		return func() { metrics.Resolved(ns, sev, d) }
	}
	return func() {}
}

// countPage returns the counting of a page, to run once it is stored.
func countPage(inc *klaxonv1alpha1.Incident, page *escalation.Page) func() {
	ns, sev := inc.Namespace, string(inc.Spec.Severity)
	escalated := page.Level > 0 || page.Round > 0
	return func() { metrics.Paged(ns, sev, escalated) }
}

// countMiss returns the counting of a missed target, to run once the miss
// (its condition turning True) is stored: a later reconcile finds the
// condition True and does not count it again.
func countMiss(inc *klaxonv1alpha1.Incident, kind targets.Kind) func() {
	ns, sev := inc.Namespace, string(inc.Spec.Severity)
	return func() { metrics.TargetMissed(ns, sev, string(kind)) }
}

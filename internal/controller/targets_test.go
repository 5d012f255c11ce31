package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// targetsPolicy pages erin and sets response targets for SEV1 and SEV2.
func targetsPolicy(t *testing.T, ns string) {
	t.Helper()
	d := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	p := &klaxonv1alpha1.EscalationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "targets", Namespace: ns},
		Spec: klaxonv1alpha1.EscalationPolicySpec{
			Levels: []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{{User: "erin"}}}},
			ResponseTargets: &klaxonv1alpha1.ResponseTargets{
				SEV1: &klaxonv1alpha1.ResponseTarget{AcknowledgeWithin: d(5 * time.Minute), UpdateEvery: d(30 * time.Minute),
					ResolveWithin: d(4 * time.Hour), Postmortem: &klaxonv1alpha1.PostmortemTarget{DueWithin: metav1.Duration{Duration: 72 * time.Hour}}},
				SEV2: &klaxonv1alpha1.ResponseTarget{AcknowledgeWithin: d(15 * time.Minute), ResolveWithin: d(24 * time.Hour)},
			},
		},
	}
	if err := k8s.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until the incident satisfies cond, and returns it.
func waitFor(t *testing.T, inc *klaxonv1alpha1.Incident, what string, cond func(*klaxonv1alpha1.Incident) bool) *klaxonv1alpha1.Incident {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	eventually(t, inc.Name+": "+what, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got)
		return err == nil && cond(got), err
	})
	return got
}

// warnings counts the incident's Warning Events of a reason.
func warnings(t *testing.T, inc *klaxonv1alpha1.Incident, reason string) int {
	t.Helper()
	evs, err := incidentEvents(context.Background(), inc)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Reason == reason && e.Type == corev1.EventTypeWarning {
			n++
		}
	}
	return n
}

func timelineHas(inc *klaxonv1alpha1.Incident, entryType, contains string) bool {
	for _, e := range inc.Status.Timeline {
		if e.Type == entryType && strings.Contains(e.Message, contains) {
			return true
		}
	}
	return false
}

func TestResponseTargets(t *testing.T) {
	ns := newNamespace(t)
	targetsPolicy(t, ns)
	inc := createIncident(t, k8s, ns, "targets", withPolicy("targets"), func(i *klaxonv1alpha1.Incident) {
		i.Spec.Severity = klaxonv1alpha1.SeverityCritical
	})
	got := waitFor(t, inc, "deadlines", func(i *klaxonv1alpha1.Incident) bool { return i.Status.ResponseTargets != nil })
	start := got.Status.TriggeredAt.Time
	rt := got.Status.ResponseTargets
	if !rt.AcknowledgeBy.Time.Equal(start.Add(5*time.Minute)) || !rt.NextUpdateBy.Time.Equal(start.Add(30*time.Minute)) ||
		!rt.ResolveBy.Time.Equal(start.Add(4*time.Hour)) || rt.PostmortemBy != nil {
		t.Fatalf("responseTargets = %+v, want ack/update/resolve 5m/30m/4h after %s", rt, start)
	}
	if c := condition(got, klaxonv1alpha1.ConditionAcknowledgeTargetMissed); c != "False/WithinTarget" {
		t.Fatalf("AcknowledgeTargetMissed = %s", c)
	}

	// A second before the deadline nothing is missed; at it, it is.
	fakeClock.SetTime(rt.AcknowledgeBy.Add(-time.Second))
	nudge(t, got)
	time.Sleep(time.Second)
	if got = waitFor(t, inc, "reconciled", func(*klaxonv1alpha1.Incident) bool { return true }); condition(got, klaxonv1alpha1.ConditionAcknowledgeTargetMissed) != "False/WithinTarget" {
		t.Fatalf("a second early: AcknowledgeTargetMissed = %s", condition(got, klaxonv1alpha1.ConditionAcknowledgeTargetMissed))
	}
	fakeClock.SetTime(rt.AcknowledgeBy.Time)
	nudge(t, got)
	got = waitFor(t, inc, "AcknowledgeTargetMissed", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionAcknowledgeTargetMissed) == "True/TargetMissed"
	})
	if !timelineHas(got, klaxonv1alpha1.TimelineTargetMissed, "acknowledge") {
		t.Errorf("no timeline entry for the miss: %+v", got.Status.Timeline)
	}
	eventually(t, "one Warning Event for the miss", func(context.Context) (bool, error) {
		return warnings(t, inc, klaxonv1alpha1.ConditionAcknowledgeTargetMissed) == 1, nil
	})
	nudge(t, got)
	time.Sleep(time.Second)
	if n := warnings(t, inc, klaxonv1alpha1.ConditionAcknowledgeTargetMissed); n != 1 {
		t.Errorf("%d Warning Events for one miss", n)
	}

	// Acknowledging late clears the condition.
	mustSetState(t, k8s, got, A)
	got = waitFor(t, inc, "acknowledge target met", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionAcknowledgeTargetMissed) == "False/TargetMet"
	})
	if !timelineHas(got, klaxonv1alpha1.TimelineTargetMet, "acknowledge") {
		t.Errorf("no timeline entry for the met target")
	}

	// Each update restarts the cadence, and is in the timeline.
	update := fakeClock.Now().Add(10 * time.Minute).Truncate(time.Second)
	fakeClock.SetTime(update)
	got.Spec.Updates = append(got.Spec.Updates, klaxonv1alpha1.StakeholderUpdate{Time: metav1.NewTime(update), Author: "alice", Message: "Rolled back"})
	if err := k8s.Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	got = waitFor(t, inc, "the update's cadence", func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.ResponseTargets.NextUpdateBy != nil && i.Status.ResponseTargets.NextUpdateBy.Time.Equal(update.Add(30*time.Minute))
	})
	if !timelineHas(got, klaxonv1alpha1.TimelineUpdate, "Rolled back") {
		t.Errorf("the update is not in the timeline")
	}

	// A severity change recomputes the targets from the same trigger.
	got.Spec.Severity = klaxonv1alpha1.SeverityHigh
	if err := k8s.Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	got = waitFor(t, inc, "SEV2 targets", func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.ResponseTargets.ResolveBy != nil && i.Status.ResponseTargets.ResolveBy.Time.Equal(start.Add(24*time.Hour)) &&
			i.Status.ResponseTargets.NextUpdateBy == nil && condition(i, klaxonv1alpha1.ConditionUpdateOverdue) == "absent"
	})

	// Back to SEV1, resolved: the postmortem is due, and linking it meets it.
	got.Spec.Severity = klaxonv1alpha1.SeverityCritical
	if err := k8s.Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	mustSetState(t, k8s, got, R)
	got = waitFor(t, inc, "postmortem due", func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.ResponseTargets.PostmortemBy != nil && condition(i, klaxonv1alpha1.ConditionPostmortemOverdue) == "False/WithinTarget"
	})
	if c := condition(got, klaxonv1alpha1.ConditionPostmortemPending); c != "True/PostmortemMissing" {
		t.Errorf("PostmortemPending = %s", c)
	}
	fakeClock.SetTime(got.Status.ResponseTargets.PostmortemBy.Time)
	nudge(t, got)
	got = waitFor(t, inc, "postmortem overdue", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionPostmortemOverdue) == "True/TargetMissed"
	})
	withPostmortem(got)
	if err := k8s.Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	waitFor(t, inc, "postmortem linked", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionPostmortemOverdue) == "False/TargetMet" &&
			condition(i, klaxonv1alpha1.ConditionPostmortemPending) == "False/PostmortemLinked"
	})

	// A reopen starts the new episode's targets.
	mustSetState(t, k8s, got, T)
	waitFor(t, inc, "episode 2 targets", func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.Episode == 2 && i.Status.ResponseTargets != nil && i.Status.ResponseTargets.AcknowledgeBy != nil &&
			i.Status.ResponseTargets.AcknowledgeBy.Time.Equal(i.Status.TriggeredAt.Add(5*time.Minute)) &&
			condition(i, klaxonv1alpha1.ConditionAcknowledgeTargetMissed) == "False/WithinTarget"
	})
}

// The timeline keeps the newest entries and counts what it dropped.
func TestTimelineIsCappedAndCounted(t *testing.T) {
	ns := newNamespace(t)
	inc := createIncident(t, k8s, ns, "chatty", func(i *klaxonv1alpha1.Incident) {
		for n := range 110 {
			i.Spec.Updates = append(i.Spec.Updates, klaxonv1alpha1.StakeholderUpdate{
				Time: metav1.NewTime(fakeClock.Now().Truncate(time.Second)), Author: "alice", Message: fmt.Sprintf("update %d", n)})
		}
	})
	got := waitFor(t, inc, "every update recorded", func(i *klaxonv1alpha1.Incident) bool { return i.Status.RecordedUpdates == 110 })
	// 1 trigger + 110 updates, 100 kept.
	if len(got.Status.Timeline) != 100 || got.Status.TimelineDropped != 11 {
		t.Errorf("timeline of %d entries, %d dropped; want 100 and 11", len(got.Status.Timeline), got.Status.TimelineDropped)
	}
	if last := got.Status.Timeline[len(got.Status.Timeline)-1]; last.Message != "Stakeholder update: update 109" || last.Actor != "alice" {
		t.Errorf("newest entry = %+v", last)
	}
}

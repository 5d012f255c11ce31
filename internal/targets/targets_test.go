package targets

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) *metav1.Time { return &metav1.Time{Time: t0.Add(d)} }

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

var sev1 = &klaxonv1alpha1.ResponseTarget{
	AcknowledgeWithin: dur(5 * time.Minute), UpdateEvery: dur(30 * time.Minute), ResolveWithin: dur(4 * time.Hour),
	Postmortem: &klaxonv1alpha1.PostmortemTarget{DueWithin: metav1.Duration{Duration: 72 * time.Hour}},
}

// verdict is a Verdict without its message, for comparing.
type verdict struct {
	Kind   Kind
	Due    time.Time
	Reason string
}

func TestEvaluate(t *testing.T) {
	triggered := func(mutate ...func(*klaxonv1alpha1.Incident)) *klaxonv1alpha1.Incident {
		inc := &klaxonv1alpha1.Incident{Spec: klaxonv1alpha1.IncidentSpec{Severity: klaxonv1alpha1.SeverityCritical},
			Status: klaxonv1alpha1.IncidentStatus{Phase: klaxonv1alpha1.StateTriggered, TriggeredAt: at(0)}}
		for _, m := range mutate {
			m(inc)
		}
		return inc
	}
	acked := func(d time.Duration) func(*klaxonv1alpha1.Incident) {
		return func(i *klaxonv1alpha1.Incident) {
			i.Status.Phase, i.Status.AcknowledgedAt = klaxonv1alpha1.StateAcknowledged, at(d)
		}
	}
	resolved := func(d time.Duration) func(*klaxonv1alpha1.Incident) {
		return func(i *klaxonv1alpha1.Incident) {
			i.Status.Phase, i.Status.ResolvedAt = klaxonv1alpha1.StateResolved, at(d)
		}
	}
	updated := func(d time.Duration) func(*klaxonv1alpha1.Incident) {
		return func(i *klaxonv1alpha1.Incident) {
			i.Spec.Updates = append(i.Spec.Updates, klaxonv1alpha1.StakeholderUpdate{Time: *at(d), Message: "m"})
		}
	}
	due := t0.Add
	cases := map[string]struct {
		inc      *klaxonv1alpha1.Incident
		target   *klaxonv1alpha1.ResponseTarget
		now      time.Duration
		want     []verdict
		wantNext time.Duration // -1: none
	}{
		"a second before the acknowledge deadline": {triggered(), sev1, 5*time.Minute - time.Second, []verdict{
			{Acknowledge, due(5 * time.Minute), klaxonv1alpha1.ReasonWithinTarget},
			{Update, due(30 * time.Minute), klaxonv1alpha1.ReasonWithinTarget},
			{Resolve, due(4 * time.Hour), klaxonv1alpha1.ReasonWithinTarget},
		}, 5 * time.Minute},
		"at the acknowledge deadline": {triggered(), sev1, 5 * time.Minute, []verdict{
			{Acknowledge, due(5 * time.Minute), klaxonv1alpha1.ReasonTargetMissed},
			{Update, due(30 * time.Minute), klaxonv1alpha1.ReasonWithinTarget},
			{Resolve, due(4 * time.Hour), klaxonv1alpha1.ReasonWithinTarget},
		}, 30 * time.Minute},
		"acknowledged late": {triggered(acked(7 * time.Minute)), sev1, 8 * time.Minute, []verdict{
			{Acknowledge, due(5 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Update, due(30 * time.Minute), klaxonv1alpha1.ReasonWithinTarget},
			{Resolve, due(4 * time.Hour), klaxonv1alpha1.ReasonWithinTarget},
		}, 30 * time.Minute},
		"each update restarts the cadence": {triggered(acked(time.Minute), updated(20*time.Minute), updated(50*time.Minute)), sev1, time.Hour, []verdict{
			{Acknowledge, due(5 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Update, due(80 * time.Minute), klaxonv1alpha1.ReasonWithinTarget},
			{Resolve, due(4 * time.Hour), klaxonv1alpha1.ReasonWithinTarget},
		}, 80 * time.Minute},
		"update overdue": {triggered(acked(time.Minute), updated(20*time.Minute)), sev1, 50 * time.Minute, []verdict{
			{Acknowledge, due(5 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Update, due(50 * time.Minute), klaxonv1alpha1.ReasonTargetMissed},
			{Resolve, due(4 * time.Hour), klaxonv1alpha1.ReasonWithinTarget},
		}, 4 * time.Hour},
		"resolved without acknowledgement, postmortem pending": {triggered(resolved(time.Hour)), sev1, 2 * time.Hour, []verdict{
			{Acknowledge, due(5 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Update, due(30 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Resolve, due(4 * time.Hour), klaxonv1alpha1.ReasonTargetMet},
			{Postmortem, due(73 * time.Hour), klaxonv1alpha1.ReasonWithinTarget},
		}, 73 * time.Hour},
		"postmortem overdue": {triggered(resolved(time.Hour)), sev1, 73 * time.Hour, []verdict{
			{Acknowledge, due(5 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Update, due(30 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Resolve, due(4 * time.Hour), klaxonv1alpha1.ReasonTargetMet},
			{Postmortem, due(73 * time.Hour), klaxonv1alpha1.ReasonTargetMissed},
		}, -1},
		"postmortem linked": {triggered(resolved(time.Hour), func(i *klaxonv1alpha1.Incident) {
			i.Spec.Postmortem = &klaxonv1alpha1.Postmortem{URL: "https://wiki/pm/1"}
		}), sev1, 80 * time.Hour, []verdict{
			{Acknowledge, due(5 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Update, due(30 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Resolve, due(4 * time.Hour), klaxonv1alpha1.ReasonTargetMet},
			{Postmortem, due(73 * time.Hour), klaxonv1alpha1.ReasonTargetMet},
		}, -1},
		"no postmortem target below SEV2": {triggered(resolved(time.Hour), func(i *klaxonv1alpha1.Incident) {
			i.Spec.Severity = klaxonv1alpha1.SeverityModerate
		}), sev1, 80 * time.Hour, []verdict{
			{Acknowledge, due(5 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Update, due(30 * time.Minute), klaxonv1alpha1.ReasonTargetMet},
			{Resolve, due(4 * time.Hour), klaxonv1alpha1.ReasonTargetMet},
		}, -1},
		"a reopened episode counts from its own trigger": {triggered(func(i *klaxonv1alpha1.Incident) {
			i.Status.TriggeredAt, i.Status.Episode = at(10*time.Hour), 2
		}), &klaxonv1alpha1.ResponseTarget{AcknowledgeWithin: dur(5 * time.Minute)}, 10*time.Hour + time.Minute, []verdict{
			{Acknowledge, due(10*time.Hour + 5*time.Minute), klaxonv1alpha1.ReasonWithinTarget},
		}, 10*time.Hour + 5*time.Minute},
		"no target": {triggered(), nil, time.Hour, nil, -1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, verdicts, next := Evaluate(tc.inc, tc.target, t0.Add(tc.now))
			var got []verdict
			for _, v := range verdicts {
				got = append(got, verdict{v.Kind, v.Due, v.Reason()})
				if v.Message == "" {
					t.Errorf("%s has no message", v.Kind)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
			wantNext := time.Time{}
			if tc.wantNext >= 0 {
				wantNext = t0.Add(tc.wantNext)
			}
			if !next.Equal(wantNext) {
				t.Errorf("next = %s, want %s", next, wantNext)
			}
		})
	}
}

// Deadlines are whole seconds, rounded up, so that read back from status a
// deadline is never earlier than computed.
func TestDeadlinesRoundUp(t *testing.T) {
	inc := &klaxonv1alpha1.Incident{Status: klaxonv1alpha1.IncidentStatus{Phase: klaxonv1alpha1.StateTriggered,
		TriggeredAt: &metav1.Time{Time: t0.Add(300 * time.Millisecond)}}}
	st, _, _ := Evaluate(inc, &klaxonv1alpha1.ResponseTarget{AcknowledgeWithin: dur(time.Minute)}, t0)
	if want := t0.Add(61 * time.Second); !st.AcknowledgeBy.Time.Equal(want) {
		t.Errorf("acknowledgeBy = %s, want %s", st.AcknowledgeBy, want)
	}
}

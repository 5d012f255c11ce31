package plugin

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestMissedTargets(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ts := func(d time.Duration) *metav1.Time { v := metav1.NewTime(now.Add(d)); return &v }
	missed := func(condition string) metav1.Condition {
		return metav1.Condition{Type: condition, Status: metav1.ConditionTrue, Reason: klaxonv1alpha1.ReasonTargetMissed}
	}
	cases := map[string]struct {
		status     klaxonv1alpha1.IncidentStatus
		postmortem bool
		want       []string
	}{
		"no targets": {},
		"deadlines ahead": {
			status: klaxonv1alpha1.IncidentStatus{ResponseTargets: &klaxonv1alpha1.ResponseTargetsStatus{
				AcknowledgeBy: ts(time.Minute), NextUpdateBy: ts(time.Hour), ResolveBy: ts(4 * time.Hour)}},
		},
		"deadlines passed undone, before the operator says so": {
			status: klaxonv1alpha1.IncidentStatus{ResponseTargets: &klaxonv1alpha1.ResponseTargetsStatus{
				AcknowledgeBy: ts(-time.Minute), NextUpdateBy: ts(0), ResolveBy: ts(-time.Hour)}},
			want: []string{"acknowledge", "update", "resolve"},
		},
		"acknowledged in time: only the later deadlines count": {
			status: klaxonv1alpha1.IncidentStatus{AcknowledgedAt: ts(-2 * time.Minute), ResponseTargets: &klaxonv1alpha1.ResponseTargetsStatus{
				AcknowledgeBy: ts(-time.Minute), ResolveBy: ts(-time.Second)}},
			want: []string{"resolve"},
		},
		"resolved: no update or resolve deadline, but the postmortem one": {
			status: klaxonv1alpha1.IncidentStatus{ResolvedAt: ts(-time.Hour), ResponseTargets: &klaxonv1alpha1.ResponseTargetsStatus{
				NextUpdateBy: ts(-time.Minute), ResolveBy: ts(-time.Minute), PostmortemBy: ts(-time.Second)}},
			want: []string{"postmortem"},
		},
		"postmortem linked": {
			status:     klaxonv1alpha1.IncidentStatus{ResolvedAt: ts(-time.Hour), ResponseTargets: &klaxonv1alpha1.ResponseTargetsStatus{PostmortemBy: ts(-time.Second)}},
			postmortem: true,
		},
		"conditions the operator set, whatever the deadlines": {
			status: klaxonv1alpha1.IncidentStatus{Conditions: []metav1.Condition{
				missed(klaxonv1alpha1.ConditionAcknowledgeTargetMissed), missed(klaxonv1alpha1.ConditionPostmortemOverdue),
				{Type: klaxonv1alpha1.ConditionUpdateOverdue, Status: metav1.ConditionFalse, Reason: klaxonv1alpha1.ReasonTargetMet},
			}},
			want: []string{"acknowledge", "postmortem"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inc := &klaxonv1alpha1.Incident{Status: tc.status}
			if tc.postmortem {
				inc.Spec.Postmortem = &klaxonv1alpha1.Postmortem{URL: "https://wiki.example.com/pm/1"}
			}
			if diff := cmp.Diff(tc.want, missedTargets(inc, now)); diff != "" {
				t.Errorf("missed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusRowsOrderAndContent(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ts := func(d time.Duration) *metav1.Time { v := metav1.NewTime(now.Add(d)); return &v }
	inc := func(name string, sev klaxonv1alpha1.Severity, state, phase klaxonv1alpha1.IncidentState, triggered time.Duration) klaxonv1alpha1.Incident {
		return klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
			Spec:       klaxonv1alpha1.IncidentSpec{Severity: sev, State: state},
			Status:     klaxonv1alpha1.IncidentStatus{Phase: phase, TriggeredAt: ts(triggered)},
		}
	}
	incidents := []klaxonv1alpha1.Incident{
		inc("sev3-new", "", "", "", -time.Minute),
		inc("sev1-young", "SEV1", "Acknowledged", "Triggered", -time.Hour),
		inc("closed", "SEV1", "Closed", "Closed", -3*time.Hour),
		inc("closing", "SEV1", "Closed", "Resolved", -3*time.Hour),
		inc("sev1-old", "SEV1", "Triggered", "Triggered", -2*time.Hour),
		inc("sev2", "SEV2", "Resolved", "Resolved", -5*time.Hour),
	}
	incidents[4].Spec.Commander = "carol"
	incidents[4].Status.Commander = "alice"
	incidents[4].Status.AcknowledgedBy = "dave"
	incidents[4].Status.Assignments = []klaxonv1alpha1.Assignment{{Name: "alice"}, {Name: "bob", Level: 1}, {Name: "alice", Round: 1}}

	type row struct{ Name, Severity, Phase, Who string }
	var got []row
	for _, r := range StatusRows(incidents, now) {
		got = append(got, row{r.Incident.Name, string(r.Severity), r.Phase, r.Who})
	}
	want := []row{
		{"sev1-old", "SEV1", "Triggered", "commander carol; acked by dave; paged alice, bob"},
		{"sev1-young", "SEV1", "Triggered -> Acknowledged", "<nobody>"},
		{"sev2", "SEV2", "Resolved", "<nobody>"},
		{"sev3-new", "SEV3", "Triggered (pending)", "<nobody>"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

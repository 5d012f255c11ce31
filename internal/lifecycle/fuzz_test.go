package lifecycle

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// FuzzAcceptAnyStatus runs the incident reconciler's lifecycle decisions
// (Repair, Accept, SetConditions, Commander) on arbitrary stored status, as
// a hand edit or a restore from backup can leave it: no panic, every string
// within the CRD's limits, and a phase that Accept leaves always has the
// start of its episode.
func FuzzAcceptAnyStatus(f *testing.F) {
	f.Add("Triggered", "Acknowledged", int32(1), true, int64(0), "alice", "SEV1", "")
	f.Add("Acknowledged", "Triggered", int32(0), false, int64(-5), "", "SEV2", "bob")
	f.Add("", "Closed", int32(3), true, int64(1<<40), "system:serviceaccount:ns:a-very-long-name", "SEV9", "")
	f.Add("Resolved", "Triggered", int32(-1), false, int64(0), "x%sy%d", "", "carol")
	f.Add("Bogus", "Mitigated", int32(2147483647), true, int64(99), "", "SEV3", "")
	f.Fuzz(func(t *testing.T, phase, state string, episode int32, hasTriggered bool, triggeredOffset int64, actor, severity, commander string) {
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		inc := &klaxonv1alpha1.Incident{
			Spec: klaxonv1alpha1.IncidentSpec{
				Title: "t", State: klaxonv1alpha1.IncidentState(state), Severity: klaxonv1alpha1.Severity(severity), Commander: commander,
			},
			Status: klaxonv1alpha1.IncidentStatus{Phase: klaxonv1alpha1.IncidentState(phase), Episode: episode},
		}
		if hasTriggered {
			inc.Status.TriggeredAt = &metav1.Time{Time: now.Add(time.Duration(triggeredOffset))}
		}
		Repair(&inc.Status, now)
		if _, err := Accept(inc, actor, now); err != nil {
			return // a move the API server's transition rule rejects too
		}
		SetConditions(inc, now)
		inc.Status.Commander = Commander(inc)
		if inc.Status.Phase != "" && inc.Status.TriggeredAt == nil {
			t.Fatalf("phase %s without triggeredAt", inc.Status.Phase)
		}
		checkStatusBounds(t, &inc.Status)
	})
}

package lifecycle

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/google/go-cmp/cmp"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func incident(sev klaxonv1alpha1.Severity, state klaxonv1alpha1.IncidentState) *klaxonv1alpha1.Incident {
	return &klaxonv1alpha1.Incident{Spec: klaxonv1alpha1.IncidentSpec{Title: "t", Severity: sev, State: state}}
}

// move asks for a state as actor at t and accepts it.
func move(t *testing.T, inc *klaxonv1alpha1.Incident, to klaxonv1alpha1.IncidentState, actor string, at time.Time) []Transition {
	t.Helper()
	inc.Spec.State = to
	trs, err := Accept(inc, actor, at)
	if err != nil {
		t.Fatalf("Accept(%s): %v", to, err)
	}
	SetConditions(inc, at)
	return trs
}

func TestAcceptEpisodes(t *testing.T) {
	inc := incident(klaxonv1alpha1.SeverityModerate, T)
	trs := move(t, inc, T, "alice", t0)
	if len(trs) != 1 || trs[0].Reason() != "Triggered" || inc.Status.Episode != 1 {
		t.Fatalf("create: transitions %+v, episode %d", trs, inc.Status.Episode)
	}
	move(t, inc, A, "bob", t0.Add(time.Minute))
	move(t, inc, R, "carol", t0.Add(2*time.Minute))
	st := inc.Status
	if st.AcknowledgedBy != "bob" || !st.AcknowledgedAt.Time.Equal(t0.Add(time.Minute)) ||
		!st.ResolvedAt.Time.Equal(t0.Add(2*time.Minute)) || st.MitigatedAt != nil {
		t.Fatalf("first episode status wrong: %+v", st)
	}

	// Reopen: a new episode with fresh timestamps; history stays in the timeline.
	trs = move(t, inc, T, "dave", t0.Add(time.Hour))
	if len(trs) != 1 || !trs[0].Reopen || trs[0].Reason() != klaxonv1alpha1.TimelineReopened {
		t.Fatalf("reopen transitions = %+v", trs)
	}
	st = inc.Status
	if st.Episode != 2 || !st.TriggeredAt.Time.Equal(t0.Add(time.Hour)) ||
		st.AcknowledgedAt != nil || st.AcknowledgedBy != "" || st.ResolvedAt != nil {
		t.Fatalf("second episode status wrong: %+v", st)
	}
	var types []string
	for _, e := range st.Timeline {
		types = append(types, e.Type+"/"+e.Actor)
	}
	if got, want := fmt.Sprint(types), "[Triggered/alice Acknowledged/bob Resolved/carol Reopened/dave]"; got != want {
		t.Errorf("timeline = %s, want %s", got, want)
	}
	c := meta.FindStatusCondition(st.Conditions, klaxonv1alpha1.ConditionAcknowledged)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != klaxonv1alpha1.ReasonReopened {
		t.Errorf("Acknowledged condition after reopen = %+v", c)
	}
}

func TestAcceptSkipAheadHasNoAcknowledgeTime(t *testing.T) {
	inc := incident(klaxonv1alpha1.SeverityLow, T)
	move(t, inc, T, "alertmanager", t0)
	move(t, inc, R, "alertmanager", t0.Add(time.Minute))
	if inc.Status.AcknowledgedAt != nil {
		t.Errorf("acknowledgedAt = %v, want none", inc.Status.AcknowledgedAt)
	}
	for _, ct := range []string{klaxonv1alpha1.ConditionAcknowledged, klaxonv1alpha1.ConditionMitigated, klaxonv1alpha1.ConditionResolved} {
		if !meta.IsStatusConditionTrue(inc.Status.Conditions, ct) {
			t.Errorf("condition %s not True after Triggered -> Resolved", ct)
		}
	}
}

func TestAcceptReopenThenForwardBetweenReconciles(t *testing.T) {
	inc := incident(klaxonv1alpha1.SeverityModerate, T)
	move(t, inc, T, "a", t0)
	move(t, inc, R, "a", t0)
	trs := move(t, inc, A, "b", t0.Add(time.Minute))
	if len(trs) != 2 || !trs[0].Reopen || trs[1].To != A {
		t.Fatalf("transitions = %+v, want reopen then Acknowledged", trs)
	}
	if inc.Status.Episode != 2 || inc.Status.AcknowledgedBy != "b" {
		t.Errorf("status = %+v", inc.Status)
	}
}

func TestAcceptIsIdempotent(t *testing.T) {
	inc := incident(klaxonv1alpha1.SeverityHigh, T)
	move(t, inc, A, "alice", t0)
	before := inc.Status.DeepCopy()
	if trs := move(t, inc, A, "alice", t0.Add(time.Hour)); len(trs) != 0 {
		t.Errorf("second Accept made transitions %+v", trs)
	}
	if !equality.Semantic.DeepEqual(before, &inc.Status) {
		t.Errorf("status changed on a repeat (-before +after):\n%s", cmp.Diff(before, &inc.Status))
	}
}

func TestAcceptFromClosedFails(t *testing.T) {
	inc := incident(klaxonv1alpha1.SeverityLow, C)
	move(t, inc, C, "a", t0)
	inc.Spec.State = T
	if _, err := Accept(inc, "a", t0); err == nil {
		t.Fatal("Accept from Closed to Triggered succeeded")
	}
}

func TestTimelineIsCapped(t *testing.T) {
	st := &klaxonv1alpha1.IncidentStatus{}
	for i := range MaxTimeline + 5 {
		AppendTimeline(st, klaxonv1alpha1.TimelineEntry{Type: fmt.Sprint(i)})
	}
	if len(st.Timeline) != MaxTimeline || st.Timeline[0].Type != "5" {
		t.Errorf("timeline has %d entries starting at %s, want %d starting at 5", len(st.Timeline), st.Timeline[0].Type, MaxTimeline)
	}
}

func TestPostmortemPending(t *testing.T) {
	cases := map[string]struct {
		sev        klaxonv1alpha1.Severity
		state      klaxonv1alpha1.IncidentState
		postmortem bool
		want       metav1.ConditionStatus
		reason     string
	}{
		"SEV1 resolved without link": {klaxonv1alpha1.SeverityCritical, R, false, metav1.ConditionTrue, klaxonv1alpha1.ReasonPostmortemMissing},
		"SEV2 resolved without link": {klaxonv1alpha1.SeverityHigh, R, false, metav1.ConditionTrue, klaxonv1alpha1.ReasonPostmortemMissing},
		"SEV2 resolved with link":    {klaxonv1alpha1.SeverityHigh, R, true, metav1.ConditionFalse, klaxonv1alpha1.ReasonPostmortemLinked},
		"SEV2 still open":            {klaxonv1alpha1.SeverityHigh, A, false, metav1.ConditionFalse, klaxonv1alpha1.ReasonIncidentOpen},
		"SEV3 resolved without link": {klaxonv1alpha1.SeverityModerate, R, false, metav1.ConditionFalse, klaxonv1alpha1.ReasonNotRequired},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inc := incident(tc.sev, T)
			if tc.postmortem {
				inc.Spec.Postmortem = &klaxonv1alpha1.Postmortem{URL: "https://wiki/pm/1"}
			}
			move(t, inc, tc.state, "a", t0)
			c := meta.FindStatusCondition(inc.Status.Conditions, klaxonv1alpha1.ConditionPostmortemPending)
			if c == nil || c.Status != tc.want || c.Reason != tc.reason {
				t.Errorf("PostmortemPending = %+v, want %s/%s", c, tc.want, tc.reason)
			}
		})
	}
}

func TestCommanderFallsBackToFirstAssignee(t *testing.T) {
	inc := incident(klaxonv1alpha1.SeverityModerate, T)
	if c := Commander(inc); c != "" {
		t.Errorf("commander = %q, want nobody", c)
	}
	inc.Status.Assignments = []klaxonv1alpha1.Assignment{{Name: "erin"}, {Name: "frank"}}
	if c := Commander(inc); c != "erin" {
		t.Errorf("commander = %q, want erin", c)
	}
	inc.Spec.Commander = "alice"
	if c := Commander(inc); c != "alice" {
		t.Errorf("commander = %q, want alice", c)
	}
}

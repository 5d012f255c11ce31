package lifecycle

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/google/go-cmp/cmp"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// A user name longer than status allows (service accounts and identity
// provider names can be) is cut, not written whole: one long value would
// make the API server refuse the whole status patch.
func TestLongActorIsBounded(t *testing.T) {
	actor := "system:serviceaccount:" + strings.Repeat("n", 63) + ":" + strings.Repeat("a", 253)
	inc := incident(klaxonv1alpha1.SeverityModerate, T)
	move(t, inc, T, actor, t0)
	move(t, inc, A, actor, t0.Add(time.Minute))
	st := inc.Status
	if n := utf8.RuneCountInString(st.AcknowledgedBy); n > klaxonv1alpha1.MaxUserNameLength || !strings.HasPrefix(actor, strings.TrimSuffix(st.AcknowledgedBy, "…")) {
		t.Errorf("acknowledgedBy has %d characters: %q", n, st.AcknowledgedBy)
	}
	checkStatusBounds(t, &inc.Status)
}

func TestTimelineEntriesAreBounded(t *testing.T) {
	st := &klaxonv1alpha1.IncidentStatus{}
	AppendTimeline(st, klaxonv1alpha1.TimelineEntry{
		Type: strings.Repeat("T", 100), Actor: strings.Repeat("a", 400), Message: strings.Repeat("€", 5000),
	})
	checkStatusBounds(t, st)
}

func TestCommanderIsBounded(t *testing.T) {
	inc := incident(klaxonv1alpha1.SeverityModerate, T)
	inc.Status.Assignments = []klaxonv1alpha1.Assignment{{Name: strings.Repeat("b", 300)}}
	if n := utf8.RuneCountInString(Commander(inc)); n > klaxonv1alpha1.MaxUserNameLength {
		t.Errorf("commander has %d characters", n)
	}
}

func TestRepair(t *testing.T) {
	cases := map[string]struct {
		in       klaxonv1alpha1.IncidentStatus
		repaired bool
		want     klaxonv1alpha1.IncidentStatus
	}{
		"new incident": {klaxonv1alpha1.IncidentStatus{}, false, klaxonv1alpha1.IncidentStatus{}},
		"whole": {
			klaxonv1alpha1.IncidentStatus{Phase: T, Episode: 2, TriggeredAt: &metav1.Time{Time: t0}}, false,
			klaxonv1alpha1.IncidentStatus{Phase: T, Episode: 2, TriggeredAt: &metav1.Time{Time: t0}},
		},
		"triggeredAt removed": {
			klaxonv1alpha1.IncidentStatus{Phase: A, Episode: 1}, true,
			klaxonv1alpha1.IncidentStatus{Phase: A, Episode: 1, TriggeredAt: &metav1.Time{Time: t0.Add(time.Hour)}},
		},
		"episode removed": {
			klaxonv1alpha1.IncidentStatus{Phase: T, TriggeredAt: &metav1.Time{Time: t0}}, true,
			klaxonv1alpha1.IncidentStatus{Phase: T, Episode: 1, TriggeredAt: &metav1.Time{Time: t0}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st := tc.in.DeepCopy()
			if got := Repair(st, t0.Add(time.Hour)); got != tc.repaired {
				t.Errorf("Repair = %v, want %v", got, tc.repaired)
			}
			if st.Phase != tc.want.Phase || st.Episode != tc.want.Episode || !st.TriggeredAt.Equal(tc.want.TriggeredAt) {
				t.Errorf("status (-want +got):\n%s", cmp.Diff(&tc.want, st))
			}
		})
	}
}

// checkStatusBounds fails t for any string of st longer than the CRD allows.
func checkStatusBounds(t *testing.T, st *klaxonv1alpha1.IncidentStatus) {
	t.Helper()
	runes := utf8.RuneCountInString
	check := func(what, s string, limit int) {
		if n := runes(s); n > limit {
			t.Errorf("%s has %d characters, the CRD allows %d", what, n, limit)
		}
	}
	check("acknowledgedBy", st.AcknowledgedBy, klaxonv1alpha1.MaxUserNameLength)
	check("commander", st.Commander, klaxonv1alpha1.MaxUserNameLength)
	for _, e := range st.Timeline {
		check("timeline type", e.Type, klaxonv1alpha1.MaxTimelineTypeLength)
		check("timeline actor", e.Actor, klaxonv1alpha1.MaxUserNameLength)
		check("timeline message", e.Message, klaxonv1alpha1.MaxTimelineMessageLength)
	}
	for _, c := range st.Conditions {
		check("condition message", c.Message, 32768)
	}
	for _, a := range st.Assignments {
		check("assignment name", a.Name, klaxonv1alpha1.MaxUserNameLength)
	}
}

package receiver

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

func TestNeedsWrite(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(-d)} }
	route := func(at *metav1.Time, incident string) *klaxonv1alpha1.AlertRoute {
		ar := &klaxonv1alpha1.AlertRoute{}
		ar.Status.LastReceivedAt = at
		if at != nil {
			ar.Status.Intakes = []klaxonv1alpha1.IntakeStatus{{Name: klaxonv1alpha1.IntakeAlertmanager, LastReceivedAt: at, LastIncident: incident}}
		}
		return ar
	}
	for _, tc := range []struct {
		name     string
		route    *klaxonv1alpha1.AlertRoute
		written  time.Duration // how long ago this replica wrote; 0 never
		wrote    string
		incident string
		want     bool
	}{
		{"first notification", route(nil, ""), 0, "", "", true},
		{"repeat, route fresh", route(ago(10*time.Second), "a"), 0, "", "", false},
		{"same incident, route fresh", route(ago(10*time.Second), "a"), 0, "", "a", false},
		{"route stale", route(ago(2*time.Minute), "a"), 0, "", "", true},
		{"another incident", route(ago(10*time.Second), "a"), 0, "", "b", true},
		{"another incident than the route's, this replica wrote it", route(ago(10*time.Second), "a"), 5 * time.Second, "b", "b", false},
		{"cache behind this replica's write, repeat", route(ago(2*time.Minute), "a"), 5 * time.Second, "b", "", false},
		{"cache behind, a third incident", route(ago(2*time.Minute), "a"), 5 * time.Second, "b", "c", true},
		{"this replica wrote a minute ago", route(ago(2*time.Minute), "a"), time.Minute, "a", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &intakeState{incident: tc.wrote}
			if tc.written > 0 {
				st.writtenAt = now.Add(-tc.written)
			}
			if got := needsWrite(tc.route, alertmapping.IntakeAlertmanager, tc.incident, now, st); got != tc.want {
				t.Errorf("needsWrite = %v, want %v", got, tc.want)
			}
		})
	}
}

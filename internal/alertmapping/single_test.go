package alertmapping

import (
	"maps"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestSingleAlert(t *testing.T) {
	labels, annotations := KV{"alertname": "DB down", "priority": "P1"}, KV{"alias": "db-down"}
	n := SingleAlert(IntakeOpsgenie, "db-down", StatusFiring, labels, annotations)
	if n.Intake != IntakeOpsgenie || n.Kind != KindAlerts || !n.Timeless || n.Version != PayloadVersion ||
		n.GroupKey != "opsgenie:db-down" || n.Status != StatusFiring || n.Receiver != "opsgenie" || len(n.Alerts) != 1 {
		t.Fatalf("notification %+v, message %+v", n, n.Message)
	}
	a := n.Alerts[0]
	if a.Status != StatusFiring || a.Fingerprint != FingerprintOf("db-down") || !a.StartsAt.IsZero() ||
		!maps.Equal(a.Labels, labels) || !maps.Equal(n.CommonLabels, labels) ||
		!maps.Equal(a.Annotations, annotations) || !maps.Equal(n.CommonAnnotations, annotations) ||
		!maps.Equal(n.GroupLabels, KV{"alertname": "DB down"}) {
		t.Errorf("alert %+v, common %v %v, group %v", a, n.CommonLabels, n.CommonAnnotations, n.GroupLabels)
	}
	// The alert's labels are its own: restoring them leaves the caller's map.
	a.Labels["priority"] = "P5"
	if labels["priority"] != "P1" {
		t.Error("the alert shares the caller's labels")
	}

	bare := SingleAlert(IntakePagerDuty, "k", StatusResolved, nil, nil)
	if bare.CommonLabels == nil || bare.CommonAnnotations == nil || len(bare.GroupLabels) != 0 || !ResolvesByKey(bare) {
		t.Errorf("a resolve without labels: %+v", bare.Data)
	}
	for name, n := range map[string]Notification{"acknowledge": AcknowledgeOf(IntakePagerDuty, "k"), "note": NoteOf(IntakePagerDuty, "k", "text")} {
		if n.GroupKey != "pagerduty:k" || n.Data == nil || len(n.Alerts) != 0 || n.Timeless || ResolvesByKey(n) {
			t.Errorf("%s: %+v", name, n)
		}
	}
	if n := NoteOf(IntakeOpsgenie, "a", "text"); n.Kind != KindNote || n.Note != "text" {
		t.Errorf("note %+v", n)
	}
	if n := AcknowledgeOf(IntakeOpsgenie, "a"); n.Kind != KindAcknowledge {
		t.Errorf("acknowledge %+v", n)
	}
}

func TestRestoreLabels(t *testing.T) {
	fp := FingerprintOf("db-down")
	at := func(minute int) *metav1.Time {
		t := metav1.NewTime(time.Date(2026, 12, 1, 10, minute, 0, 0, time.UTC))
		return &t
	}
	fired := map[string]string{"alertname": "DB down", "priority": "P1", "dedup_key": "db-down"}
	stored := &klaxonv1alpha1.AlertsSummary{Items: []klaxonv1alpha1.AlertItem{{Fingerprint: fp, StartsAt: at(0), Labels: fired}}}
	tests := map[string]struct {
		n      Notification
		stored *klaxonv1alpha1.AlertsSummary
		want   map[string]string
	}{
		"a close, no incident": {n: SingleAlert(IntakeOpsgenie, "db-down", StatusResolved, nil, nil), want: map[string]string{}},
		"a close, another alert stored only": {n: SingleAlert(IntakeOpsgenie, "db-down", StatusResolved, nil, nil),
			stored: &klaxonv1alpha1.AlertsSummary{Items: []klaxonv1alpha1.AlertItem{{Fingerprint: "0000000000000000", Labels: map[string]string{"alertname": "Other"}}}},
			want:   map[string]string{}},
		"a close gets the alert's labels": {n: SingleAlert(IntakeOpsgenie, "db-down", StatusResolved, nil, nil), stored: stored, want: fired},
		// PagerDuty's resolve carries the dedup_key label, and whatever
		// payload it was sent with, which PagerDuty ignores.
		"a bare resolve gets them": {n: SingleAlert(IntakePagerDuty, "db-down", StatusResolved, KV{"dedup_key": "db-down"}, nil), stored: stored, want: fired},
		"a resolve with another payload gets them": {n: SingleAlert(IntakePagerDuty, "db-down", StatusResolved,
			KV{"dedup_key": "db-down", "alertname": "other", "severity": "info"}, nil), stored: stored, want: fired},
		"the latest occurrence's": {n: SingleAlert(IntakeOpsgenie, "db-down", StatusResolved, nil, nil),
			stored: &klaxonv1alpha1.AlertsSummary{Items: []klaxonv1alpha1.AlertItem{
				{Fingerprint: fp, StartsAt: at(5), Labels: map[string]string{"alertname": "DB down", "priority": "P2"}},
				{Fingerprint: fp, StartsAt: at(0), Labels: map[string]string{"alertname": "DB down", "priority": "P1"}}}},
			want: map[string]string{"alertname": "DB down", "priority": "P2"}},
		"a trigger keeps its own": {n: SingleAlert(IntakePagerDuty, "db-down", StatusFiring, KV{"alertname": "new"}, nil), stored: stored,
			want: map[string]string{"alertname": "new"}},
		"a resolve of a sender with times keeps its own": {n: func() Notification {
			n := SingleAlert(IntakeAlertmanager, "db-down", StatusResolved, KV{"alertname": "own"}, nil)
			n.Timeless = false
			return n
		}(), stored: stored, want: map[string]string{"alertname": "own"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			RestoreLabels(tc.n, tc.stored)
			if !maps.Equal(tc.n.Alerts[0].Labels, tc.want) || !maps.Equal(tc.n.CommonLabels, tc.want) {
				t.Fatalf("labels %v, common %v; want %v", tc.n.Alerts[0].Labels, tc.n.CommonLabels, tc.want)
			}
			if name := tc.want["alertname"]; tc.n.GroupLabels["alertname"] != name {
				t.Fatalf("group labels %v, want the alertname %q", tc.n.GroupLabels, name)
			}
		})
	}
	// The incident's stored labels are not shared with the notification.
	n := SingleAlert(IntakeOpsgenie, "db-down", StatusResolved, nil, nil)
	RestoreLabels(n, stored)
	n.Alerts[0].Labels["priority"] = "P5"
	if stored.Items[0].Labels["priority"] != "P1" {
		t.Error("the restored labels share the incident's map")
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{"": "", "  a\n b\t\tc \r\n": "a b c", "one": "one"} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRouteSeverityLabel(t *testing.T) {
	for label, want := range map[string]string{"": DefaultSeverityLabel, "priority": "priority"} {
		r, err := CompileRoute(klaxonv1alpha1.AlertRouteSpec{Severity: klaxonv1alpha1.AlertSeverityMapping{Label: label}})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.SeverityLabel(); got != want {
			t.Errorf("SeverityLabel of %q = %q, want %q", label, got, want)
		}
	}
}

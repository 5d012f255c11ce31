package alertmapping

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestOpeningAlerts(t *testing.T) {
	summary := &klaxonv1alpha1.AlertsSummary{Firing: 2, Items: []klaxonv1alpha1.AlertItem{
		{Fingerprint: "a1", Status: "firing", Labels: map[string]string{"alertname": "CheckoutErrors"}},
		{Fingerprint: "b2", Status: "firing"},
	}}
	huge := &klaxonv1alpha1.AlertsSummary{Firing: 50}
	for range 50 {
		huge.Items = append(huge.Items, klaxonv1alpha1.AlertItem{Fingerprint: "f", Labels: map[string]string{"big": strings.Repeat("x", 2000)}})
	}
	stored := &klaxonv1alpha1.AlertsSummary{Firing: 1, Resolved: 1}

	cases := map[string]struct {
		set        *klaxonv1alpha1.AlertsSummary
		annotation string // used when set is nil
		status     *klaxonv1alpha1.AlertsSummary
		wantSet    bool
		want       *klaxonv1alpha1.AlertsSummary // StoredAlerts
	}{
		"created with its alerts":            {set: summary, wantSet: true, want: summary},
		"too large for an annotation":        {set: huge, wantSet: false, want: nil},
		"status wins once stored":            {set: summary, status: stored, wantSet: true, want: stored},
		"an annotation edited into nonsense": {annotation: "{not json", want: nil},
		"more items than status holds":       {annotation: `{"firing":51,"items":[` + strings.Repeat(`{"fingerprint":"x"},`, 50) + `{"fingerprint":"y"}]}`, want: nil},
		"no annotation, no status":           {want: nil},
		"no annotation, status":              {status: stored, want: stored},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inc := &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"other": "kept"}}}
			if tc.set != nil {
				if got := SetOpeningAlerts(inc, tc.set); got != tc.wantSet {
					t.Fatalf("SetOpeningAlerts = %v, want %v", got, tc.wantSet)
				}
			} else if tc.annotation != "" {
				inc.Annotations[klaxonv1alpha1.OpeningAlertsAnnotation] = tc.annotation
			}
			inc.Status.Alerts = tc.status
			got := StoredAlerts(inc)
			switch {
			case tc.want == nil && got != nil:
				t.Errorf("StoredAlerts = %+v, want none", got)
			case tc.want != nil && (got == nil || got.Firing != tc.want.Firing || got.Resolved != tc.want.Resolved || len(got.Items) != len(tc.want.Items)):
				t.Errorf("StoredAlerts = %+v, want %+v", got, tc.want)
			}
			if inc.Annotations["other"] != "kept" {
				t.Errorf("other annotations changed: %v", inc.Annotations)
			}
		})
	}
}

// A repeat of the notification that opened an incident, before the
// reconciler stored its alerts, writes nothing: the opening alerts count as
// stored.
func TestRepeatBeforeTheAlertsAreStoredWritesNothing(t *testing.T) {
	route := mustCompile(t, klaxonv1alpha1.AlertRouteSpec{})
	msg := message(firingAlert("a1", t0))
	d := Decide(route, nil, msg, t0.Add(time.Minute))
	if d.Action != ActionCreate || d.Alerts == nil {
		t.Fatalf("first notification: %+v", d)
	}
	inc, err := NewIncident(route, "payments", "default", d.Serial, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !SetOpeningAlerts(inc, d.Alerts) {
		t.Fatal("the summary did not fit the annotation")
	}
	inc.Spec.State = klaxonv1alpha1.StateTriggered
	again := Decide(route, inc, msg, t0.Add(time.Minute))
	if again.Action != ActionNothing || again.ApplyStatus(inc.DeepCopy()) {
		t.Errorf("a repeat before the reconciler stored the alerts decided %+v", again)
	}
}

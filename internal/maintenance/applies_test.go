package maintenance

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// incident is a Triggered checkout incident; paged marks it paged at level 0.
func incident(triggeredAt string, paged bool) *klaxonv1alpha1.Incident {
	inc := &klaxonv1alpha1.Incident{Spec: klaxonv1alpha1.IncidentSpec{Service: "checkout"}}
	inc.Status.Phase = klaxonv1alpha1.StateTriggered
	inc.Status.TriggeredAt = mtime(triggeredAt)
	if paged {
		inc.Status.Escalation = &klaxonv1alpha1.EscalationStatus{NextEscalationAt: mtime(triggeredAt)}
	}
	return inc
}

// notified records a page of the incident at when.
func notified(inc *klaxonv1alpha1.Incident, when string) *klaxonv1alpha1.Incident {
	inc.Status.Assignments = append(inc.Status.Assignments, klaxonv1alpha1.Assignment{Name: "alice", NotifiedAt: *mtime(when)})
	return inc
}

func withMode(w klaxonv1alpha1.MaintenanceWindow, mode klaxonv1alpha1.MaintenanceMode) klaxonv1alpha1.MaintenanceWindow {
	w.Spec.Mode = mode
	return w
}

func TestApplies(t *testing.T) {
	morning := oneOff("morning", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z")
	noon := withMode(oneOff("noon", "2026-11-24T11:30:00Z", "2026-11-24T13:00:00Z"), klaxonv1alpha1.MaintenanceHold)
	search := oneOff("search", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z")
	search.Spec.Services = []klaxonv1alpha1.ServiceName{"search"}
	invalid := weekly("invalid", "Mars/Olympus_Mons", "00:00", "00:00", allDays...)
	always := weekly("always", "UTC", "00:00", "00:00", allDays...)
	// Sunday 01:00-04:00 in Berlin: 2026-10-25 lasts four hours (fall back).
	sunday := weekly("sunday", "Europe/Berlin", "01:00", "04:00", "Sun")

	type want struct {
		window string
		mode   klaxonv1alpha1.MaintenanceMode
		until  string
		since  string // when the hold began
	}
	cases := map[string]struct {
		windows []klaxonv1alpha1.MaintenanceWindow
		inc     *klaxonv1alpha1.Incident
		now     string
		want    *want // nil: no window applies
	}{
		"triggered in a Suppress window": {[]klaxonv1alpha1.MaintenanceWindow{morning},
			incident("2026-11-24T10:30:00Z", false), "2026-11-24T10:30:00Z", &want{"morning", klaxonv1alpha1.MaintenanceSuppress, "", ""}},
		"suppressed still after the window": {[]klaxonv1alpha1.MaintenanceWindow{morning},
			incident("2026-11-24T10:30:00Z", false), "2026-11-24T14:00:00Z", &want{"morning", klaxonv1alpha1.MaintenanceSuppress, "", ""}},
		"triggered before a Suppress window: held": {[]klaxonv1alpha1.MaintenanceWindow{morning},
			incident("2026-11-24T09:00:00Z", true), "2026-11-24T10:30:00Z", &want{"morning", klaxonv1alpha1.MaintenanceHold, "2026-11-24T12:00:00Z", "2026-11-24T10:00:00Z"}},
		"paged already: held, not suppressed": {[]klaxonv1alpha1.MaintenanceWindow{morning},
			incident("2026-11-24T10:30:00Z", true), "2026-11-24T10:31:00Z", &want{"morning", klaxonv1alpha1.MaintenanceHold, "2026-11-24T12:00:00Z", "2026-11-24T10:30:00Z"}},
		"paged already, window over": {[]klaxonv1alpha1.MaintenanceWindow{morning},
			incident("2026-11-24T10:30:00Z", true), "2026-11-24T12:00:00Z", nil},
		"triggered in a Hold window": {[]klaxonv1alpha1.MaintenanceWindow{noon},
			incident("2026-11-24T12:00:00Z", false), "2026-11-24T12:00:00Z", &want{"noon", klaxonv1alpha1.MaintenanceHold, "2026-11-24T13:00:00Z", "2026-11-24T12:00:00Z"}},
		"Hold window over": {[]klaxonv1alpha1.MaintenanceWindow{noon},
			incident("2026-11-24T12:00:00Z", false), "2026-11-24T13:00:00Z", nil},
		"overlapping windows hold until the last ends": {[]klaxonv1alpha1.MaintenanceWindow{noon, morning},
			incident("2026-11-24T09:00:00Z", true), "2026-11-24T10:30:00Z", &want{"morning", klaxonv1alpha1.MaintenanceHold, "2026-11-24T13:00:00Z", "2026-11-24T10:00:00Z"}},
		"held since the first of overlapping windows opened": {[]klaxonv1alpha1.MaintenanceWindow{noon, morning},
			incident("2026-11-24T09:00:00Z", true), "2026-11-24T12:30:00Z", &want{"noon", klaxonv1alpha1.MaintenanceHold, "2026-11-24T13:00:00Z", "2026-11-24T10:00:00Z"}},
		"held since the last page of a window made afterwards": {[]klaxonv1alpha1.MaintenanceWindow{morning},
			notified(incident("2026-11-24T09:00:00Z", true), "2026-11-24T10:45:00Z"), "2026-11-24T11:00:00Z", &want{"morning", klaxonv1alpha1.MaintenanceHold, "2026-11-24T12:00:00Z", "2026-11-24T10:45:00Z"}},
		"held since a recurring window opened before fall back": {[]klaxonv1alpha1.MaintenanceWindow{sunday},
			incident("2026-10-24T20:00:00Z", true), "2026-10-25T02:30:00Z", &want{"sunday", klaxonv1alpha1.MaintenanceHold, "2026-10-25T03:00:00Z", "2026-10-24T23:00:00Z"}},
		"Suppress wins over Hold": {[]klaxonv1alpha1.MaintenanceWindow{noon, morning},
			incident("2026-11-24T11:45:00Z", false), "2026-11-24T11:45:00Z", &want{"morning", klaxonv1alpha1.MaintenanceSuppress, "", ""}},
		"another service's window": {[]klaxonv1alpha1.MaintenanceWindow{search},
			incident("2026-11-24T10:30:00Z", false), "2026-11-24T10:30:00Z", nil},
		"an invalid window is ignored": {[]klaxonv1alpha1.MaintenanceWindow{invalid},
			incident("2026-11-24T10:30:00Z", false), "2026-11-24T10:30:00Z", nil},
		"a hold without an end in sight": {[]klaxonv1alpha1.MaintenanceWindow{always},
			incident("2026-11-24T10:30:00Z", false), "2026-11-24T10:30:00Z", &want{"always", klaxonv1alpha1.MaintenanceHold, "", "2026-11-24T10:30:00Z"}},
		"recurring hold across fall back": {[]klaxonv1alpha1.MaintenanceWindow{sunday},
			incident("2026-10-24T23:30:00Z", false), "2026-10-24T23:30:00Z", &want{"sunday", klaxonv1alpha1.MaintenanceHold, "2026-10-25T03:00:00Z", "2026-10-24T23:30:00Z"}},
		"recurring Suppress across spring forward": {[]klaxonv1alpha1.MaintenanceWindow{withMode(sunday, klaxonv1alpha1.MaintenanceSuppress)},
			incident("2026-03-29T01:59:00Z", false), "2026-03-29T01:59:00Z", &want{"sunday", klaxonv1alpha1.MaintenanceSuppress, "", ""}},
		"recurring window closed by spring forward": {[]klaxonv1alpha1.MaintenanceWindow{withMode(sunday, klaxonv1alpha1.MaintenanceSuppress)},
			incident("2026-03-29T02:00:00Z", false), "2026-03-29T02:00:00Z", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v, ok := Applies(tc.windows, tc.inc, utc(tc.now))
			if tc.want == nil {
				if ok {
					t.Errorf("Applies = %+v, want no window", v)
				}
				return
			}
			if !ok {
				t.Fatalf("Applies found no window, want %+v", *tc.want)
			}
			if v.Window != tc.want.window || v.Mode != tc.want.mode || fmtTime(v.Until) != tc.want.until || fmtTime(v.Since) != tc.want.since {
				t.Errorf("Applies = {%s %s %s %s}, want %+v", v.Window, v.Mode, fmtTime(v.Until), fmtTime(v.Since), *tc.want)
			}
		})
	}
}

// An incident not Triggered in any way still gets an answer; the caller
// only asks for Triggered ones. One without triggeredAt is never suppressed.
func TestAppliesWithoutTriggeredAt(t *testing.T) {
	inc := incident("2026-11-24T10:30:00Z", false)
	inc.Status.TriggeredAt = nil
	v, ok := Applies([]klaxonv1alpha1.MaintenanceWindow{oneOff("morning", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z")}, inc, utc("2026-11-24T10:30:00Z"))
	if !ok || v.Mode != klaxonv1alpha1.MaintenanceHold {
		t.Errorf("Applies = %+v, %v; want a hold", v, ok)
	}
	_ = metav1.Now
}

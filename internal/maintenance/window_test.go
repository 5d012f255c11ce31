package maintenance

import (
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mtime(s string) *metav1.Time {
	t := metav1.NewTime(utc(s))
	return &t
}

// oneOff is a Suppress window for service checkout between start and end.
func oneOff(name, start, end string) klaxonv1alpha1.MaintenanceWindow {
	return klaxonv1alpha1.MaintenanceWindow{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: klaxonv1alpha1.MaintenanceWindowSpec{
			Services: []klaxonv1alpha1.ServiceName{"checkout"}, Start: mtime(start), End: mtime(end),
			Mode: klaxonv1alpha1.MaintenanceSuppress,
		},
	}
}

// weekly is a Hold window for service checkout on a schedule.
func weekly(name, zone, from, to string, days ...klaxonv1alpha1.Weekday) klaxonv1alpha1.MaintenanceWindow {
	return klaxonv1alpha1.MaintenanceWindow{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: klaxonv1alpha1.MaintenanceWindowSpec{
			Services: []klaxonv1alpha1.ServiceName{"checkout"},
			Schedule: &klaxonv1alpha1.MaintenanceSchedule{TimeZone: zone,
				TimeRestriction: klaxonv1alpha1.TimeRestriction{Days: days, From: from, To: to}},
			Mode: klaxonv1alpha1.MaintenanceHold,
		},
	}
}

var allDays = []klaxonv1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

func TestWindowAt(t *testing.T) {
	const berlin = "Europe/Berlin"
	cases := map[string]struct {
		window klaxonv1alpha1.MaintenanceWindow
		at     string
		active bool
		start  string // "" for none
		end    string
	}{
		"one-off, before": {oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"), "2026-11-24T09:00:00Z",
			false, "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"},
		"one-off, at its start": {oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"), "2026-11-24T10:00:00Z",
			true, "", "2026-11-24T12:00:00Z"},
		"one-off, at its end": {oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"), "2026-11-24T12:00:00Z",
			false, "", ""},
		// 01:00-04:00 local on the night clocks spring forward: 01:00 CET
		// is 00:00Z, 04:00 CEST is 02:00Z, two hours.
		"spring forward, inside": {weekly("w", berlin, "01:00", "04:00", "Sun"), "2026-03-29T01:30:00Z",
			true, "2026-04-04T23:00:00Z", "2026-03-29T02:00:00Z"},
		"spring forward, before": {weekly("w", berlin, "01:00", "04:00", "Sun"), "2026-03-28T12:00:00Z",
			false, "2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z"},
		// Across midnight: Saturday 22:00 CET to Sunday 06:00 CEST.
		"spring forward, overnight": {weekly("w", berlin, "22:00", "06:00", "Sat"), "2026-03-28T20:00:00Z",
			false, "2026-03-28T21:00:00Z", "2026-03-29T04:00:00Z"},
		// Times skipped by the gap are read with the offset before it (RFC
		// 5545): 02:30-02:45 that night is 03:30-03:45 CEST.
		"spring forward, inside the gap": {weekly("w", berlin, "02:30", "02:45", "Sun"), "2026-03-28T12:00:00Z",
			false, "2026-03-29T01:30:00Z", "2026-03-29T01:45:00Z"},
		// 02:15-03:00 comes out empty that night (03:30 CEST to 03:00
		// CEST): the next one is a week later.
		"spring forward, swallowed by the gap": {weekly("w", berlin, "02:15", "03:00", "Sun"), "2026-03-28T12:00:00Z",
			false, "2026-04-05T00:15:00Z", "2026-04-05T01:00:00Z"},
		// 01:00-04:00 local on the night clocks fall back: 01:00 CEST is
		// 23:00Z the day before, 04:00 CET is 03:00Z, four hours.
		"fall back, before": {weekly("w", berlin, "01:00", "04:00", "Sun"), "2026-10-24T12:00:00Z",
			false, "2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z"},
		"fall back, in the repeated hour": {weekly("w", berlin, "01:00", "04:00", "Sun"), "2026-10-25T01:30:00Z",
			true, "2026-11-01T00:00:00Z", "2026-10-25T03:00:00Z"},
		// A time that happens twice opens the window the first time.
		"fall back, opening in the repeated hour": {weekly("w", berlin, "02:30", "05:00", "Sun"), "2026-10-24T12:00:00Z",
			false, "2026-10-25T00:30:00Z", "2026-10-25T04:00:00Z"},
		// Whole days side by side make one window, Monday to Wednesday.
		"adjacent days": {weekly("w", "UTC", "00:00", "00:00", "Mon", "Tue"), "2026-11-23T12:00:00Z",
			true, "2026-11-30T00:00:00Z", "2026-11-25T00:00:00Z"},
		"every day, all day": {weekly("w", berlin, "00:00", "00:00", allDays...), "2026-11-23T12:00:00Z",
			true, "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w, err := Compile(&tc.window)
			if err != nil {
				t.Fatal(err)
			}
			at := utc(tc.at)
			st := w.At(at)
			if st.Active != tc.active || st.Active != w.ActiveAt(at) {
				t.Errorf("Active = %v (ActiveAt %v), want %v", st.Active, w.ActiveAt(at), tc.active)
			}
			if got := fmtTime(st.NextStart); got != tc.start {
				t.Errorf("NextStart = %s, want %s", got, tc.start)
			}
			if got := fmtTime(st.NextEnd); got != tc.end {
				t.Errorf("NextEnd = %s, want %s", got, tc.end)
			}
			if r := st.Recheck(); tc.window.Spec.Schedule != nil && !r.After(at) {
				t.Errorf("Recheck = %s, want after %s", r, at)
			}
		})
	}
}

// The walk agrees with ActiveAt minute by minute across both DST changes.
func TestWindowAtAgreesWithAScan(t *testing.T) {
	mw := weekly("w", "Europe/Berlin", "01:30", "03:30", "Sat", "Sun")
	w, err := Compile(&mw)
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"2026-03-27T00:00:00Z", "2026-10-23T00:00:00Z"} {
		at := utc(from)
		st := w.At(at)
		for m := at; m.Before(at.Add(4 * 24 * time.Hour)); m = m.Add(time.Minute) {
			if w.ActiveAt(m) == st.Active {
				continue
			}
			want := st.NextEnd
			if !st.Active {
				want = st.NextStart
			}
			if !m.Equal(want) {
				t.Fatalf("from %s: the window changes at %s, At said %s", from, m, want)
			}
			at, st = m, w.At(m)
		}
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func TestCompileErrors(t *testing.T) {
	badZone := weekly("w", "Mars/Olympus_Mons", "01:00", "02:00", "Sun")
	badSelector := oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z")
	badSelector.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "pay ments"}}
	both := oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z")
	both.Spec.Schedule = weekly("w", "UTC", "01:00", "02:00", "Sun").Spec.Schedule
	backwards := oneOff("w", "2026-11-24T12:00:00Z", "2026-11-24T10:00:00Z")
	none := oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z")
	none.Spec.Services = nil
	cases := map[string]struct {
		window klaxonv1alpha1.MaintenanceWindow
		is     error
	}{
		"unknown time zone":   {badZone, oncall.ErrUnknownTimeZone},
		"invalid selector":    {badSelector, ErrInvalidSelector},
		"start and schedule":  {both, ErrInvalidWindow},
		"end before start":    {backwards, ErrInvalidWindow},
		"no incident matched": {none, ErrInvalidWindow},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Compile(&tc.window)
			if !errors.Is(err, tc.is) {
				t.Errorf("Compile = %v, want %v", err, tc.is)
			}
		})
	}
	if _, err := Compile(&badZone); err == nil || err.Error() != `invalid maintenance schedule: spec.schedule.timeZone "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons; use an IANA name such as Europe/Berlin` {
		t.Errorf("message = %v", err)
	}
}

func TestMatches(t *testing.T) {
	inc := func(service string, labels map[string]string) *klaxonv1alpha1.Incident {
		return &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: klaxonv1alpha1.IncidentSpec{Service: service}}
	}
	bySelector := oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z")
	bySelector.Spec.Services = nil
	bySelector.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "payments"}}
	byBoth := oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z")
	byBoth.Spec.Selector = bySelector.Spec.Selector
	cases := map[string]struct {
		window klaxonv1alpha1.MaintenanceWindow
		inc    *klaxonv1alpha1.Incident
		want   bool
	}{
		"service matches":          {oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"), inc("checkout", nil), true},
		"other service":            {oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"), inc("search", nil), false},
		"no service":               {oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"), inc("", nil), false},
		"labels match":             {bySelector, inc("", map[string]string{"team": "payments"}), true},
		"labels differ":            {bySelector, inc("checkout", map[string]string{"team": "search"}), false},
		"both match":               {byBoth, inc("checkout", map[string]string{"team": "payments"}), true},
		"service but not labels":   {byBoth, inc("checkout", nil), false},
		"labels but not a service": {byBoth, inc("search", map[string]string{"team": "payments"}), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w, err := Compile(&tc.window)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.Matches(tc.inc); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOccurrence(t *testing.T) {
	const berlin = "Europe/Berlin"
	cases := map[string]struct {
		window     klaxonv1alpha1.MaintenanceWindow
		at         string
		start, end string // "" for none
	}{
		"one-off, before": {oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"), "2026-11-24T09:00:00Z",
			"2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"},
		"one-off, during": {oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"), "2026-11-24T11:00:00Z",
			"2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"},
		"one-off, over": {oneOff("w", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"), "2026-11-24T12:00:00Z", "", ""},
		"weekly, the next": {weekly("w", berlin, "01:00", "04:00", "Sun"), "2026-11-24T12:00:00Z",
			"2026-11-29T00:00:00Z", "2026-11-29T03:00:00Z"},
		"weekly, during, since it opened": {weekly("w", berlin, "01:00", "04:00", "Sun"), "2026-11-29T02:00:00Z",
			"2026-11-29T00:00:00Z", "2026-11-29T03:00:00Z"},
		"weekly, at its end the next week's": {weekly("w", berlin, "01:00", "04:00", "Sun"), "2026-11-29T03:00:00Z",
			"2026-12-06T00:00:00Z", "2026-12-06T03:00:00Z"},
		"spring forward: two hours": {weekly("w", berlin, "01:00", "04:00", "Sun"), "2026-03-28T12:00:00Z",
			"2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z"},
		"fall back: four hours": {weekly("w", berlin, "01:00", "04:00", "Sun"), "2026-10-24T12:00:00Z",
			"2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z"},
		"nights across midnight, one stretch": {weekly("w", "UTC", "22:00", "00:00", "Mon"), "2026-11-23T23:00:00Z",
			"2026-11-23T22:00:00Z", "2026-11-24T00:00:00Z"},
		"never closes: a horizon from the day's start": {weekly("w", "UTC", "00:00", "00:00", allDays...), "2026-11-24T15:00:00Z",
			"2026-11-16T15:00:00Z", "2026-12-02T00:00:00Z"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w, err := Compile(&tc.window)
			if err != nil {
				t.Fatal(err)
			}
			start, end, ok := w.Occurrence(utc(tc.at))
			if ok != (tc.start != "") || fmtTime(start) != tc.start || fmtTime(end) != tc.end {
				t.Errorf("Occurrence = %s, %s, %v; want %q, %q", fmtTime(start), fmtTime(end), ok, tc.start, tc.end)
			}
		})
	}
}

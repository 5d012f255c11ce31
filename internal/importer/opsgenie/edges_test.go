package opsgenie

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// TestDayLongHourlyTurns: Opsgenie hands an hourly rotation over every
// exactly N hours; Klaxon reads a shift of whole days as the same time of
// day. Where the clocks change, the two part at the change, and the
// import says so; where they do not, the layer is exact.
func TestDayLongHourlyTurns(t *testing.T) {
	rot := rotation{Name: "R", StartDate: "2027-03-20T07:00:00Z", Type: "hourly", Length: 24, Participants: []recipient{u("u1"), u("u2")}}
	for _, c := range []struct {
		zone   string
		approx bool
	}{
		{"Europe/Berlin", true},
		{"America/New_York", true},
		{"UTC", false},
		// Japan has kept one offset since 1951.
		{"Asia/Tokyo", false},
	} {
		t.Run(c.zone, func(t *testing.T) {
			m := mapSchedule(schedule{Timezone: c.zone, Rotations: []rotation{rot}}, testPeople)
			if m.spec == nil {
				t.Fatalf("not mapped: %s", m.why)
			}
			if m.notes.approx != c.approx {
				t.Fatalf("approximated = %v, want %v (notes %q)", m.notes.approx, c.approx, m.notes.list)
			}
			if c.approx {
				want := `rotation "R" hands over every 24 hours, and Klaxon reads a shift of 24h as whole days, handing over at the same time of day on the clocks of ` + c.zone +
					`: across each clock change Klaxon's handoff is an hour earlier or later than Opsgenie's, and verify shows that hour as a difference when the window holds a clock change`
				if diff := cmp.Diff([]string{want}, m.notes.list); diff != "" {
					t.Errorf("notes differ (-want +got):\n%s", diff)
				}
			}
		})
	}
	// In Berlin, the turn from 2027-03-27 07:00Z (Bob's, the eighth) ends
	// at 2027-03-28 07:00Z in Opsgenie: Alice's from then. Klaxon hands
	// over at 08:00 Berlin, which is 06:00Z after the clocks went forward.
	m := mapSchedule(schedule{Timezone: "Europe/Berlin", Rotations: []rotation{rot}}, testPeople)
	s, err := oncall.Compile(m.spec)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 3, 28, 6, 30, 0, 0, time.UTC)
	if got := s.At(at); !cmp.Equal(got, []string{"alice"}) {
		t.Errorf("Klaxon at %s = %v, want [alice], the hour Opsgenie still has bob", at, got)
	}
	rot.StartDate = "2027-03-20T07:00:00Z"
	rot.EndDate = "2027-03-27T00:00:00Z"
	if m := mapSchedule(schedule{Timezone: "Europe/Berlin", Rotations: []rotation{rot}}, testPeople); m.notes.approx {
		t.Errorf("a rotation that ends before the clocks change is approximated: %q", m.notes.list)
	}
}

// TestRulesAfterAnInexactRule: an earlier rule that Klaxon applies to
// more alerts, or at more times, than Opsgenie does keeps the later rules
// of its priorities: the person gets more notifications, not fewer.
func TestRulesAfterAnInexactRule(t *testing.T) {
	usr := user{ID: "u1", Username: "alice@example.com", FullName: "Alice"}
	contacts := []contact{{Method: "email", To: "alice@example.com"}, {Method: "sms", To: "49-1"}}
	email := []ruleStep{{Enabled: true, Contact: stepContact{Method: "email", To: "alice@example.com"}}}
	sms := []ruleStep{{Enabled: true, Contact: stepContact{Method: "sms", To: "49-1"}}}
	everything := notificationRule{Name: "Everything", Order: 1, Enabled: true, Criteria: &criteria{Type: "match-all"}, Steps: sms}
	both := []klaxonv1alpha1.NotificationRule{{Contact: "email"}, {Contact: "sms"}}
	cases := map[string]struct {
		first notificationRule
		rules []klaxonv1alpha1.NotificationRule
		notes []string
	}{
		"a condition on tags": {
			first: notificationRule{Name: "Database", Order: 0, Enabled: true, Steps: email, Criteria: &criteria{Type: "match-all-conditions",
				Conditions: []condition{{Field: "tags", Operation: "contains", ExpectedValue: "db"}}}},
			rules: both,
			notes: []string{
				`rule "Database": the condition on "tags" not mapped (Klaxon's rules choose by severity only): taken to match every alert`,
				`rule "Everything" also applies to P1, P2, P3, P4, P5, for which Opsgenie uses an earlier rule instead when that one matches (by a condition Klaxon cannot read, or at its times): the person gets the notifications of both`,
			},
		},
		"some hours of the week": {
			first: notificationRule{Name: "Nights", Order: 0, Enabled: true, Steps: email, TimeRestriction: &timeRestriction{Type: "time-of-day", Restriction: &timeOfDay{StartHour: 22, EndHour: 6}}},
			rules: both,
			notes: []string{
				`rule "Nights" applies only at some times of the week: Klaxon's rules apply at all times`,
				`rule "Everything" also applies to P1, P2, P3, P4, P5, for which Opsgenie uses an earlier rule instead when that one matches (by a condition Klaxon cannot read, or at its times): the person gets the notifications of both`,
			},
		},
		"an exact rule takes its priorities": {
			first: notificationRule{Name: "All", Order: 0, Enabled: true, Steps: email},
			rules: []klaxonv1alpha1.NotificationRule{{Contact: "email"}},
			notes: []string{`rule "Everything" never applies: earlier rules take every priority it matches`},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			spec, n := mapResponder(usr, contacts, []notificationRule{everything, c.first}, nil)
			if diff := cmp.Diff(c.rules, spec.Rules); diff != "" {
				t.Errorf("rules differ (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.notes, n.list); diff != "" {
				t.Errorf("notes differ (-want +got):\n%s", diff)
			}
		})
	}
}

// TestShortTimeline: a timeline that covers less than the window is an
// error, not hours of nobody on call.
func TestShortTimeline(t *testing.T) {
	a := newAnswers(t)
	a.users(user{ID: "u1", Username: "alice@example.com"})
	a.schedules(schedule{ID: "s1", Name: "S", Timezone: "UTC", Rotations: []rotation{weekly("r1", u("u1"))}})
	short := timeline{StartDate: "2026-12-07T00:00:00Z", EndDate: "2026-12-21T00:00:00Z", FinalTimeline: finalTimeline{Rotations: []timelineRotation{{ID: "r1", Periods: []timelinePeriod{
		{StartDate: "2026-12-07T00:00:00Z", EndDate: "2026-12-21T00:00:00Z", Recipient: recipient{Type: "user", ID: "u1"}},
	}}}}}
	a.put("escalations", nil, []escalation{})
	a.put("schedules/s1/timeline", timelineQuery(testWindow), short)
	_, err := a.run()
	if err == nil || !strings.Contains(err.Error(), `the timeline of schedule "s1" covers 2026-12-07T00:00:00Z to 2026-12-21T00:00:00Z, not all of the window 2026-12-07T00:00:00Z to 2027-01-04T00:00:00Z`) {
		t.Fatalf("err = %v, want one saying the timeline is short", err)
	}
	short.StartDate, short.EndDate = "", ""
	a.put("schedules/s1/timeline", timelineQuery(testWindow), short)
	if _, err := a.run(); err == nil || !strings.Contains(err.Error(), "no RFC 3339 times") {
		t.Fatalf("err = %v, want one saying the timeline has no range", err)
	}
}

// TestOverrideFractionsOfSeconds: an OnCallOverride's times are whole
// seconds, and the API server refuses one that ends when it starts.
func TestOverrideFractionsOfSeconds(t *testing.T) {
	s := schedule{ID: "s1", Name: "S", Timezone: "UTC", Rotations: []rotation{weekly("r1", u("u1"), u("u2"))}}
	m := mapSchedule(s, testPeople)
	if m.spec == nil {
		t.Fatal(m.why)
	}
	o := override{Alias: "o", User: u("u3"), StartDate: "2026-12-12T10:00:00.2Z", EndDate: "2026-12-12T10:00:00.8Z"}
	if _, _, why := mapOverride(o, s, "s", m, testPeople); why != "it lasts less than a second once its times are whole seconds, as an OnCallOverride's are" {
		t.Errorf("an override within one second: why = %q", why)
	}
	o.EndDate = "2026-12-12T11:00:00.5Z"
	parts, n, why := mapOverride(o, s, "s", m, testPeople)
	if why != "" {
		t.Fatal(why)
	}
	if diff := cmp.Diff([]string{`its times have fractions of a second, and an OnCallOverride's are whole seconds: it runs from 2026-12-12T10:00:00Z to 2026-12-12T11:00:00Z`}, n.list); diff != "" {
		t.Errorf("notes differ (-want +got):\n%s", diff)
	}
	for _, p := range parts {
		if p.spec.Start.Nanosecond() != 0 || p.spec.End.Nanosecond() != 0 {
			t.Errorf("part %q runs from %s to %s, not whole seconds", p.suffix, p.spec.Start.Format(time.RFC3339Nano), p.spec.End.Format(time.RFC3339Nano))
		}
		if !oncall.ValidOverride(&p.spec) {
			t.Errorf("part %q is refused: %+v", p.suffix, p.spec)
		}
	}
}

// admitted checks that obj, written as YAML and read back, passes what the
// API server checks of its kind: a schedule compiles, an override is
// valid.
func admitted(t *testing.T, obj client.Object) {
	t.Helper()
	data, err := importer.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	switch obj.(type) {
	case *klaxonv1alpha1.OnCallSchedule:
		var back klaxonv1alpha1.OnCallSchedule
		if err := yaml.UnmarshalStrict(data, &back); err != nil {
			t.Fatalf("reading back %s: %v", obj.GetName(), err)
		}
		if _, err := oncall.Compile(&back.Spec); err != nil {
			t.Fatalf("OnCallSchedule %s is refused once written: %v\n%s", obj.GetName(), err, data)
		}
	case *klaxonv1alpha1.OnCallOverride:
		var back klaxonv1alpha1.OnCallOverride
		if err := yaml.UnmarshalStrict(data, &back); err != nil {
			t.Fatalf("reading back %s: %v", obj.GetName(), err)
		}
		if !oncall.ValidOverride(&back.Spec) {
			t.Fatalf("OnCallOverride %s is refused once written:\n%s", obj.GetName(), data)
		}
	}
}

// TestOverrideWrittenInWholeSeconds: the override of fractions of a second
// is admitted once written.
func TestOverrideWrittenInWholeSeconds(t *testing.T) {
	a := newAnswers(t)
	a.users(user{ID: "u1", Username: "alice@example.com"}, user{ID: "u2", Username: "bob@example.com"})
	a.schedules(schedule{ID: "s1", Name: "S", Timezone: "UTC", Rotations: []rotation{weekly("r1", u("u1"))}})
	a.put("schedules/s1/overrides", nil, []override{
		{Alias: "a", User: u("u2"), StartDate: "2026-12-12T10:00:00.2Z", EndDate: "2026-12-12T10:00:00.8Z"},
		{Alias: "b", User: u("u2"), StartDate: "2026-12-13T10:00:00.2Z", EndDate: "2026-12-13T10:00:01.1Z"},
	})
	a.put("escalations", nil, []escalation{})
	res, err := a.run()
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]importer.Outcome{}
	for _, e := range res.Entries {
		outcomes[e.SourceID] = e.Outcome
	}
	if outcomes["s1/a"] != importer.NotMapped || outcomes["s1/b"] != importer.Approximated {
		t.Errorf("outcomes = %v, want s1/a not mapped and s1/b approximated", outcomes)
	}
	for _, o := range res.Objects {
		admitted(t, o)
	}
}

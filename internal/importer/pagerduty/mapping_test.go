package pagerduty

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

func TestTimeZone(t *testing.T) {
	cases := map[string]struct {
		in, want string
		ok       bool
	}{
		"IANA":             {"Europe/Berlin", "Europe/Berlin", true},
		"UTC":              {"UTC", "UTC", true},
		"Rails US":         {"Eastern Time (US & Canada)", "America/New_York", true},
		"Rails city":       {"Berlin", "Europe/Berlin", true},
		"unknown":          {"Mars/Olympus_Mons", "", false},
		"the machine's":    {"Local", "", false},
		"empty":            {"", "", false},
		"path out of zone": {"../../etc/passwd", "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, loc, ok := timeZone(tc.in)
			if got != tc.want || ok != tc.ok || (ok && loc.String() != tc.want) {
				t.Errorf("timeZone(%q) = %q, %v, %v; want %q, %v", tc.in, got, loc, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestMapRestrictions(t *testing.T) {
	wd := func(days ...klaxonv1alpha1.Weekday) []klaxonv1alpha1.Weekday { return days }
	cases := map[string]struct {
		in           []restriction
		want         []klaxonv1alpha1.TimeRestriction
		always       bool
		approximated bool
	}{
		"none: always": {in: nil, always: true},
		"daily business hours": {
			in:   []restriction{{Type: "daily_restriction", StartTimeOfDay: "08:00:00", DurationSeconds: 36000}},
			want: []klaxonv1alpha1.TimeRestriction{{Days: everyDay, From: "08:00", To: "18:00"}},
		},
		"daily over midnight": {
			in:   []restriction{{Type: "daily_restriction", StartTimeOfDay: "20:00:00", DurationSeconds: 36000}},
			want: []klaxonv1alpha1.TimeRestriction{{Days: everyDay, From: "20:00", To: "06:00"}},
		},
		"daily of a whole day: always": {
			in:     []restriction{{Type: "daily_restriction", StartTimeOfDay: "09:00:00", DurationSeconds: 86400}},
			always: true,
		},
		"weekly within a day": {
			in:   []restriction{{Type: "weekly_restriction", StartDayOfWeek: 3, StartTimeOfDay: "09:00:00", DurationSeconds: 28800}},
			want: []klaxonv1alpha1.TimeRestriction{{Days: wd(klaxonv1alpha1.Wednesday), From: "09:00", To: "17:00"}},
		},
		"weekly of exactly a day": {
			in:   []restriction{{Type: "weekly_restriction", StartDayOfWeek: 7, StartTimeOfDay: "09:00:00", DurationSeconds: 86400}},
			want: []klaxonv1alpha1.TimeRestriction{{Days: wd(klaxonv1alpha1.Sunday), From: "09:00", To: "09:00"}},
		},
		"weekly weekend": {
			in:   []restriction{{Type: "weekly_restriction", StartDayOfWeek: 5, StartTimeOfDay: "18:00:00", DurationSeconds: 63 * 3600}},
			want: []klaxonv1alpha1.TimeRestriction{{FromDay: klaxonv1alpha1.Friday, From: "18:00", ToDay: klaxonv1alpha1.Monday, To: "09:00"}},
		},
		"weekly of a week less an hour ends on its own day": {
			in:   []restriction{{Type: "weekly_restriction", StartDayOfWeek: 1, StartTimeOfDay: "10:00:00", DurationSeconds: secondsPerWeek - 3600}},
			want: []klaxonv1alpha1.TimeRestriction{{FromDay: klaxonv1alpha1.Monday, From: "10:00", ToDay: klaxonv1alpha1.Monday, To: "09:00"}},
		},
		"weekly of a week: always, whatever else": {
			in: []restriction{
				{Type: "weekly_restriction", StartDayOfWeek: 3, StartTimeOfDay: "09:00:00", DurationSeconds: 3600},
				{Type: "weekly_restriction", StartDayOfWeek: 2, StartTimeOfDay: "00:00:00", DurationSeconds: secondsPerWeek},
			},
			always: true,
		},
		"seconds are cut to minutes": {
			in:           []restriction{{Type: "daily_restriction", StartTimeOfDay: "08:00:30", DurationSeconds: 3600}},
			want:         []klaxonv1alpha1.TimeRestriction{{Days: everyDay, From: "08:00", To: "09:00"}},
			approximated: true,
		},
		"seconds cut before a restriction of a whole day: always, exactly": {
			in: []restriction{
				{Type: "daily_restriction", StartTimeOfDay: "08:00:30", DurationSeconds: 3600},
				{Type: "daily_restriction", StartTimeOfDay: "00:00:00", DurationSeconds: secondsPerDay},
			},
			always: true,
		},
		"a restriction left out before one of a whole week: always, exactly": {
			in: []restriction{
				{Type: "monthly_restriction", StartTimeOfDay: "08:00:00", DurationSeconds: 3600},
				{Type: "weekly_restriction", StartDayOfWeek: 1, StartTimeOfDay: "00:00:00", DurationSeconds: secondsPerWeek},
			},
			always: true,
		},
		"no day of week": {
			in:           []restriction{{Type: "weekly_restriction", StartTimeOfDay: "08:00:00", DurationSeconds: 3600}},
			approximated: true,
		},
		"not a time of day": {
			in:           []restriction{{Type: "daily_restriction", StartTimeOfDay: "25:00:00", DurationSeconds: 3600}},
			approximated: true,
		},
		"no time at all": {
			in: []restriction{{Type: "daily_restriction", StartTimeOfDay: "08:00:00", DurationSeconds: 0}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := mapRestrictions(tc.in)
			if !reflect.DeepEqual(got.restrictions, tc.want) || got.always != tc.always || got.approximated != tc.approximated {
				t.Errorf("got %+v, always %v, approximated %v (%q)\nwant %+v, always %v, approximated %v",
					got.restrictions, got.always, got.approximated, got.notes, tc.want, tc.always, tc.approximated)
			}
		})
	}
}

func TestMapLayer(t *testing.T) {
	w := importer.Window{From: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	people := []string{"a", "b", "c"}
	str := func(s string) *string { return &s }
	day := metav1.Duration{Duration: 24 * time.Hour}
	cases := map[string]struct {
		layer        scheduleLayer
		loc          *time.Location
		want         []klaxonv1alpha1.ScheduleLayer
		approximated bool
	}{
		"starts at its virtual start": {
			layer: scheduleLayer{Start: "2026-11-02T08:00:00+01:00", RotationVirtualStart: "2026-11-02T08:00:00+01:00", RotationTurnLengthSeconds: 86400},
			loc:   berlin,
			want:  []klaxonv1alpha1.ScheduleLayer{{Name: "l", Participants: []string{"a", "b", "c"}, Start: "2026-11-02T08:00:00", Shift: day}},
		},
		"starts at a later handoff: the people turn with it": {
			layer: scheduleLayer{Start: "2026-11-04T07:00:00Z", RotationVirtualStart: "2026-11-02T08:00:00+01:00", RotationTurnLengthSeconds: 86400},
			loc:   berlin,
			want:  []klaxonv1alpha1.ScheduleLayer{{Name: "l", Participants: []string{"c", "a", "b"}, Start: "2026-11-04T08:00:00", Shift: day}},
		},
		"virtual start after the start: turns count back": {
			layer: scheduleLayer{Start: "2026-11-01T08:00:00Z", RotationVirtualStart: "2026-11-02T08:00:00Z", RotationTurnLengthSeconds: 86400},
			loc:   time.UTC,
			want:  []klaxonv1alpha1.ScheduleLayer{{Name: "l", Participants: []string{"c", "a", "b"}, Start: "2026-11-01T08:00:00", Shift: day}},
		},
		"starts within a turn: that turn is a layer of its own": {
			layer: scheduleLayer{Start: "2026-12-18T20:00:00Z", RotationVirtualStart: "2026-12-01T08:00:00Z", RotationTurnLengthSeconds: 86400},
			loc:   time.UTC,
			want: []klaxonv1alpha1.ScheduleLayer{
				{Name: "l-first-turn", Participants: []string{"c"}, Start: "2026-12-18T20:00:00", End: "2026-12-19T08:00:00", Shift: day},
				{Name: "l", Participants: []string{"a", "b", "c"}, Start: "2026-12-19T08:00:00", Shift: day},
			},
		},
		"starts and ends within a turn": {
			layer: scheduleLayer{Start: "2026-12-18T20:00:00Z", End: str("2026-12-19T02:00:00Z"), RotationVirtualStart: "2026-12-01T08:00:00Z", RotationTurnLengthSeconds: 86400},
			loc:   time.UTC,
			want: []klaxonv1alpha1.ScheduleLayer{
				{Name: "l-first-turn", Participants: []string{"c"}, Start: "2026-12-18T20:00:00", End: "2026-12-19T02:00:00", Shift: day},
			},
		},
		"a first turn that ended before the window is left out": {
			layer: scheduleLayer{Start: "2026-11-18T20:00:00Z", RotationVirtualStart: "2026-11-01T08:00:00Z", RotationTurnLengthSeconds: 86400},
			loc:   time.UTC,
			// Turn 18 from 2026-11-01 08:00: 18 mod 3 is a's.
			want: []klaxonv1alpha1.ScheduleLayer{{Name: "l", Participants: []string{"a", "b", "c"}, Start: "2026-11-19T08:00:00", Shift: day}},
		},
		"twelve-hour turns are exact": {
			layer: scheduleLayer{Start: "2026-12-01T06:00:00Z", RotationVirtualStart: "2026-11-30T18:00:00Z", RotationTurnLengthSeconds: 43200},
			loc:   time.UTC,
			want: []klaxonv1alpha1.ScheduleLayer{{Name: "l", Participants: []string{"b", "c", "a"}, Start: "2026-12-01T06:00:00",
				Shift: metav1.Duration{Duration: 12 * time.Hour}}},
		},
		"removed mid-window": {
			layer: scheduleLayer{Start: "2026-11-30T20:00:00Z", End: str("2026-12-18T20:00:00Z"), RotationVirtualStart: "2026-11-30T20:00:00Z", RotationTurnLengthSeconds: 86400},
			loc:   time.UTC,
			want:  []klaxonv1alpha1.ScheduleLayer{{Name: "l", Participants: []string{"a", "b", "c"}, Start: "2026-11-30T20:00:00", End: "2026-12-18T20:00:00", Shift: day}},
		},
		"ended before the window": {
			layer: scheduleLayer{Start: "2026-10-01T00:00:00Z", End: str("2026-11-15T00:00:00Z"), RotationVirtualStart: "2026-10-01T00:00:00Z", RotationTurnLengthSeconds: 86400},
			loc:   time.UTC,
		},
		"turns under an hour": {
			layer:        scheduleLayer{Start: "2026-11-30T00:00:00Z", RotationVirtualStart: "2026-11-30T00:00:00Z", RotationTurnLengthSeconds: 1800},
			loc:          time.UTC,
			approximated: true,
		},
		"turns over a year": {
			layer:        scheduleLayer{Start: "2026-11-30T00:00:00Z", RotationVirtualStart: "2026-11-30T00:00:00Z", RotationTurnLengthSeconds: 1 << 62},
			loc:          time.UTC,
			approximated: true,
		},
		"not a time": {
			layer:        scheduleLayer{Start: "yesterday", RotationVirtualStart: "2026-11-30T00:00:00Z", RotationTurnLengthSeconds: 86400},
			loc:          time.UTC,
			approximated: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := mapLayer(&tc.layer, tc.loc, w, layerName{main: "l", firstTurn: "l-first-turn"}, people)
			if !reflect.DeepEqual(got.layers, tc.want) || got.approximated != tc.approximated {
				t.Errorf("got %+v, approximated %v (%q)\nwant %+v, approximated %v", got.layers, got.approximated, got.notes, tc.want, tc.approximated)
			}
		})
	}
}

func TestLayerNames(t *testing.T) {
	long := strings.Repeat("x", 80)
	got := layerNames([]scheduleLayer{{Name: "Nights"}, {Name: "nights"}, {Name: "Nights first turn"}, {Name: "!!"}, {Name: long}, {Name: long + "!"}})
	x := func(n int) string { return strings.Repeat("x", n) }
	want := []layerName{
		{"nights", "nights-first-turn"}, {"nights-2", "nights-2-first-turn"},
		{"nights-first-turn-2", "nights-first-turn-2-first-turn"}, {"layer-3", "layer-3-first-turn"},
		{x(63), x(52) + "-first-turn"}, {x(61) + "-2", x(50) + "-2-first-turn"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("layerNames = %q, want %q", got, want)
	}
}

func TestMapPolicy(t *testing.T) {
	mins := func(m int) *metav1.Duration { return &metav1.Duration{Duration: time.Duration(m) * time.Minute} }
	userRef := func(id string) reference { return reference{ID: id, Type: "user_reference"} }
	cases := map[string]struct {
		policy       escalationPolicy
		want         []klaxonv1alpha1.EscalationLevel
		repeat       int32
		outcome      importer.Outcome
		wantNotesLen int
		wantNote     string
	}{
		"delays move to the next level": {
			policy: escalationPolicy{ID: "P1", Name: "p", EscalationRules: []escalationRule{
				{EscalationDelayInMinutes: 10, Targets: []reference{userRef("U1")}},
				{EscalationDelayInMinutes: 20, Targets: []reference{userRef("U2")}},
			}},
			want: []klaxonv1alpha1.EscalationLevel{
				{Targets: []klaxonv1alpha1.EscalationTarget{{User: "one"}}},
				{After: mins(10), Targets: []klaxonv1alpha1.EscalationTarget{{User: "two"}}},
			},
			outcome: importer.Mapped,
		},
		"loops wait the last rule's delay before the first level again": {
			policy: escalationPolicy{ID: "P1", Name: "p", NumLoops: 3, EscalationRules: []escalationRule{
				{EscalationDelayInMinutes: 10, Targets: []reference{userRef("U1")}},
			}},
			want:    []klaxonv1alpha1.EscalationLevel{{After: mins(10), Targets: []klaxonv1alpha1.EscalationTarget{{User: "one"}}}},
			repeat:  3,
			outcome: importer.Mapped,
		},
		"a rule without a target Klaxon can page adds its delay to the next level's": {
			policy: escalationPolicy{ID: "P1", Name: "p", EscalationRules: []escalationRule{
				{EscalationDelayInMinutes: 10, Targets: []reference{userRef("U1")}},
				{EscalationDelayInMinutes: 5, Targets: []reference{{ID: "P1", Type: "escalation_policy_reference"}}},
				{EscalationDelayInMinutes: 20, Targets: []reference{userRef("U2")}},
			}},
			want: []klaxonv1alpha1.EscalationLevel{
				{Targets: []klaxonv1alpha1.EscalationTarget{{User: "one"}}},
				{After: mins(15), Targets: []klaxonv1alpha1.EscalationTarget{{User: "two"}}},
			},
			outcome:      importer.Approximated,
			wantNotesLen: 2,
		},
		"rules left out first: the next is paged at once, and a loop waits their delay too": {
			policy: escalationPolicy{ID: "P1", Name: "p", NumLoops: 2, EscalationRules: []escalationRule{
				{EscalationDelayInMinutes: 30, Targets: []reference{{ID: "P1", Type: "escalation_policy_reference"}}},
				{EscalationDelayInMinutes: 10, Targets: []reference{userRef("U2")}},
			}},
			want:         []klaxonv1alpha1.EscalationLevel{{After: mins(40), Targets: []klaxonv1alpha1.EscalationTarget{{User: "two"}}}},
			repeat:       2,
			outcome:      importer.Approximated,
			wantNotesLen: 3,
			wantNote:     "rule 2 is paged at once instead of after 30m",
		},
		"round robin": {
			policy: escalationPolicy{ID: "P1", Name: "p", EscalationRules: []escalationRule{
				{EscalationDelayInMinutes: 10, Targets: []reference{userRef("U1"), userRef("U2")}, AssignmentStrategy: []byte(`{"type":"round_robin"}`)},
			}},
			want:         []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{{User: "one"}, {User: "two"}}}},
			outcome:      importer.Approximated,
			wantNotesLen: 1,
		},
		"more than ten rules: the first ten": {
			policy:       escalationPolicy{ID: "P1", Name: "p", EscalationRules: repeatRules(12, userRef("U1"))},
			want:         repeatLevels(10, klaxonv1alpha1.EscalationTarget{User: "one"}),
			outcome:      importer.Approximated,
			wantNotesLen: 1,
		},
		"a delay no duration holds": {
			policy: escalationPolicy{ID: "P1", Name: "p", NumLoops: 1, EscalationRules: []escalationRule{
				{EscalationDelayInMinutes: 1 << 60, Targets: []reference{userRef("U1")}},
				{EscalationDelayInMinutes: 5, Targets: []reference{userRef("U2")}},
			}},
			want: []klaxonv1alpha1.EscalationLevel{
				{After: mins(5), Targets: []klaxonv1alpha1.EscalationTarget{{User: "one"}}},
				{After: mins(30 * 24 * 60), Targets: []klaxonv1alpha1.EscalationTarget{{User: "two"}}},
			},
			repeat:       1,
			outcome:      importer.Approximated,
			wantNotesLen: 1,
		},
		"nothing to page": {
			policy: escalationPolicy{ID: "P1", Name: "p", EscalationRules: []escalationRule{
				{EscalationDelayInMinutes: 10, Targets: []reference{{ID: "P1", Type: "escalation_policy_reference"}}},
			}},
			outcome:      importer.NotMapped,
			wantNotesLen: 3,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			acc := &account{users: []user{{ID: "U1", Name: "One"}, {ID: "U2", Name: "Two"}}, policies: []escalationPolicy{tc.policy}}
			m := newMapper(acc, importer.Window{})
			m.mapPolicy(&acc.policies[0])
			e := m.result.Entries[0]
			if e.Outcome != tc.outcome || len(e.Notes) != tc.wantNotesLen {
				t.Errorf("outcome %s, notes %q; want %s and %d notes", e.Outcome, e.Notes, tc.outcome, tc.wantNotesLen)
			}
			if tc.wantNote != "" && !slices.Contains(e.Notes, tc.wantNote) {
				t.Errorf("notes %q, want one %q", e.Notes, tc.wantNote)
			}
			if tc.outcome == importer.NotMapped {
				if len(m.result.Objects) != 0 {
					t.Errorf("wrote %d objects for a policy not mapped", len(m.result.Objects))
				}
				return
			}
			p := m.result.Objects[0].(*klaxonv1alpha1.EscalationPolicy)
			if !reflect.DeepEqual(p.Spec.Levels, tc.want) || p.Spec.Repeat != tc.repeat {
				t.Errorf("levels %+v repeat %d\nwant %+v repeat %d", p.Spec.Levels, p.Spec.Repeat, tc.want, tc.repeat)
			}
		})
	}
}

func repeatRules(n int, target reference) []escalationRule {
	out := make([]escalationRule, n)
	for i := range out {
		out[i] = escalationRule{EscalationDelayInMinutes: 5, Targets: []reference{target}}
	}
	return out
}

func repeatLevels(n int, target klaxonv1alpha1.EscalationTarget) []klaxonv1alpha1.EscalationLevel {
	out := make([]klaxonv1alpha1.EscalationLevel, n)
	for i := range out {
		out[i] = klaxonv1alpha1.EscalationLevel{Targets: []klaxonv1alpha1.EscalationTarget{target}}
		if i > 0 {
			out[i].After = &metav1.Duration{Duration: 5 * time.Minute}
		}
	}
	return out
}

func TestMapUserRules(t *testing.T) {
	mail := contactMethod{ID: "C1", Type: "email_contact_method", Label: "Work", Address: "a@example.com"}
	sms := contactMethod{ID: "C2", Type: "sms_contact_method", Label: "Mobile", Address: "15112345678", CountryCode: 49}
	rule := func(cm contactMethod, delay int, urgency string) notificationRule {
		return notificationRule{Type: "assignment_notification_rule", StartDelayInMinutes: delay, Urgency: urgency,
			ContactMethod: reference{ID: cm.ID, Type: cm.Type + "_reference"}}
	}
	cases := map[string]struct {
		rules        []notificationRule
		want         []klaxonv1alpha1.NotificationRule
		approximated bool
	}{
		"high urgency at once": {
			rules: []notificationRule{rule(mail, 0, "high")},
			want: []klaxonv1alpha1.NotificationRule{{Contact: "email-work",
				Severities: []klaxonv1alpha1.Severity{klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.SeverityHigh}}},
		},
		"low urgency after five minutes": {
			rules: []notificationRule{rule(sms, 5, "low")},
			want: []klaxonv1alpha1.NotificationRule{{Contact: "sms-mobile", After: &metav1.Duration{Duration: 5 * time.Minute},
				Severities: []klaxonv1alpha1.Severity{klaxonv1alpha1.SeverityModerate, klaxonv1alpha1.SeverityLow}}},
		},
		"any urgency: every severity": {
			rules: []notificationRule{rule(mail, 0, "any")},
			want:  []klaxonv1alpha1.NotificationRule{{Contact: "email-work"}},
		},
		"a delay over a day waits a day": {
			rules: []notificationRule{rule(mail, 2000, "high")},
			want: []klaxonv1alpha1.NotificationRule{{Contact: "email-work", After: &metav1.Duration{Duration: 24 * time.Hour},
				Severities: []klaxonv1alpha1.Severity{klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.SeverityHigh}}},
			approximated: true,
		},
		"a delay no duration holds waits a day": {
			rules: []notificationRule{rule(mail, 1<<60, "high")},
			want: []klaxonv1alpha1.NotificationRule{{Contact: "email-work", After: &metav1.Duration{Duration: 24 * time.Hour},
				Severities: []klaxonv1alpha1.Severity{klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.SeverityHigh}}},
			approximated: true,
		},
		"a negative delay sends at once": {
			rules: []notificationRule{rule(mail, -3, "high")},
			want: []klaxonv1alpha1.NotificationRule{{Contact: "email-work",
				Severities: []klaxonv1alpha1.Severity{klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.SeverityHigh}}},
			approximated: true,
		},
		"a contact method not imported": {
			rules:        []notificationRule{{Urgency: "high", ContactMethod: reference{ID: "C9"}}},
			approximated: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u := user{ID: "U1", Name: "Ann", ContactMethods: []contactMethod{mail, sms}, NotificationRules: tc.rules}
			m := newMapper(&account{users: []user{u}}, importer.Window{})
			m.mapUser(&u)
			r := m.result.Objects[0].(*klaxonv1alpha1.Responder)
			wantContacts := []klaxonv1alpha1.Contact{
				{Name: "email-work", Channel: importer.ChannelEmail, Address: "a@example.com"},
				{Name: "sms-mobile", Channel: importer.ChannelSMS, Address: "+4915112345678", Kind: klaxonv1alpha1.ContactKindSMS},
			}
			if !reflect.DeepEqual(r.Spec.Contacts, wantContacts) {
				t.Errorf("contacts %+v, want %+v", r.Spec.Contacts, wantContacts)
			}
			if !reflect.DeepEqual(r.Spec.Rules, tc.want) {
				t.Errorf("rules %+v, want %+v", r.Spec.Rules, tc.want)
			}
			if got := m.result.Entries[0].Outcome == importer.Approximated; got != tc.approximated {
				t.Errorf("approximated %v, want %v (%q)", got, tc.approximated, m.result.Entries[0].Notes)
			}
		})
	}
}

// A daily handoff at 02:30 in Berlin stays at 02:30 when the layer starts
// on the night the clocks skip 02:00 to 03:00.
func TestMapLayerStartInAClockChange(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	w := importer.Window{From: time.Date(2027, 3, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 4, 17, 0, 0, 0, 0, time.UTC)}
	// 2027-03-28 02:30 does not exist in Berlin; PagerDuty writes the
	// instant, 01:30Z.
	l := scheduleLayer{Start: "2027-03-28T01:30:00Z", RotationVirtualStart: "2027-03-01T02:30:00+01:00", RotationTurnLengthSeconds: 86400}
	got := mapLayer(&l, berlin, w, layerName{main: "l", firstTurn: "l-first-turn"}, []string{"a", "b"})
	if len(got.layers) != 1 || got.layers[0].Start != "2027-03-28T02:30:00" || !reflect.DeepEqual(got.layers[0].Participants, []string{"b", "a"}) {
		t.Fatalf("layers %+v (%q), want one starting 2027-03-28T02:30:00 with b first (turn 27)", got.layers, got.notes)
	}
	// After the change, turns hand off at 02:30 Berlin summer time,
	// 00:30Z: b has turn 27 until 2027-03-29 00:30Z, a turn 28, b turn 29.
	s, err := oncall.Compile(&klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: got.layers})
	if err != nil {
		t.Fatal(err)
	}
	for at, want := range map[string]string{
		"2027-03-28T01:30:00Z": "b", "2027-03-29T00:29:00Z": "b", "2027-03-29T00:30:00Z": "a",
		"2027-03-30T00:29:00Z": "a", "2027-03-30T00:30:00Z": "b", "2027-04-10T00:30:00Z": "a",
	} {
		ts, _ := time.Parse(time.RFC3339, at)
		if on := s.At(ts); !reflect.DeepEqual(on, []string{want}) {
			t.Errorf("at %s %v is on call, want %s", at, on, want)
		}
	}
}

// A layer that starts in the hour the autumn change repeats: its partial
// first turn has no Klaxon local times, so it is left out, and the
// rotation starts at the next handoff, which Klaxon reads as PagerDuty
// means it.
func TestMapLayerStartInARepeatedHour(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	w := importer.Window{From: time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	cases := map[string]struct {
		start, virtual string
		length         int64
		end            *string
	}{
		// 01:30 EST, the repeated hour's second pass; daily turns hand
		// off at 01:00, which 01:30 EDT, the first pass, already passed.
		"daily turns":  {start: "2026-11-01T01:30:00-05:00", virtual: "2026-10-01T01:00:00-04:00", length: secondsPerDay},
		"hourly turns": {start: "2026-11-01T01:30:00-04:00", virtual: "2026-10-01T00:00:00-04:00", length: 3600},
		"two hours":    {start: "2026-11-01T01:30:00-05:00", virtual: "2026-10-01T00:00:00-04:00", length: 7200},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := scheduleLayer{Start: tc.start, End: tc.end, RotationVirtualStart: tc.virtual, RotationTurnLengthSeconds: tc.length}
			got := mapLayer(&l, ny, w, layerName{main: "l", firstTurn: "l-first-turn"}, []string{"a", "b"})
			spec := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "America/New_York", Layers: got.layers}
			if err := importer.Check(&klaxonv1alpha1.OnCallSchedule{Spec: *spec}); err != nil {
				t.Fatalf("layers %+v: %v", got.layers, err)
			}
			if !got.approximated {
				t.Errorf("not approximated: %q", got.notes)
			}
			start, _ := time.Parse(time.RFC3339, tc.start)
			s, err := oncall.Compile(spec)
			if err != nil {
				t.Fatal(err)
			}
			// From the first handoff after the start, Klaxon has whom
			// PagerDuty's local handoff times have.
			rot := newTurns(mustTime(t, tc.virtual), ny, tc.length)
			k := rot.index(start) + 1
			for i := range int64(6) {
				at := rot.boundary(k + i).Add(time.Minute)
				if on, want := s.At(at), []string{[]string{"a", "b"}[mod(k+i, 2)]}; !reflect.DeepEqual(on, want) {
					t.Errorf("at %s %v is on call, want %v", at.Format(time.RFC3339), on, want)
				}
			}
		})
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// Sub-day turns where the clocks change are approximated with the note
// that says how; in UTC they are exact.
func TestMapLayerSubDayTurnsAndClockChanges(t *testing.T) {
	w := importer.Window{From: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)}
	for zone, want := range map[string]bool{"America/New_York": true, "UTC": false, "Asia/Tokyo": false} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		l := scheduleLayer{Name: "Halves", Start: "2026-11-02T09:00:00Z", RotationVirtualStart: "2026-11-02T09:00:00Z", RotationTurnLengthSeconds: 12 * 3600}
		got := mapLayer(&l, loc, w, layerName{main: "l", firstTurn: "l-first-turn"}, []string{"a", "b"})
		note := `layer "Halves": turns of 12h keep exact hours in Klaxon; across a clock change they move an hour against PagerDuty's local handoff time`
		if got.approximated != want || slices.Contains(got.notes, note) != want {
			t.Errorf("%s: approximated %v, notes %q; want approximated %v", zone, got.approximated, got.notes, want)
		}
	}
}

// A rotation begun in summer hands off at the same local time in winter.
func TestMapLayerFromSummer(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	w := importer.Window{From: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)}
	for _, length := range []int64{secondsPerDay, secondsPerWeek} {
		l := scheduleLayer{Start: "2026-07-06T09:00:00-04:00", RotationVirtualStart: "2026-07-06T09:00:00-04:00", RotationTurnLengthSeconds: length}
		got := mapLayer(&l, ny, w, layerName{main: "l", firstTurn: "l-first-turn"}, []string{"a", "b", "c"})
		rot := newTurns(mustTime(t, l.RotationVirtualStart), ny, length)
		k := rot.index(w.From)
		// 09:00 EST is 14:00Z.
		if b := rot.boundary(k); b.UTC().Hour() != 14 || got.approximated || len(got.layers) != 1 {
			t.Errorf("turns of %ds: turn %d begins %s; layers %+v (%q)", length, k, b.UTC(), got.layers, got.notes)
		}
	}
}

func TestAssignmentStrategy(t *testing.T) {
	cases := map[string]struct{ raw, want string }{
		"the schema's string":  {`"round_robin"`, "round_robin"},
		"the examples' object": {`{"type": "round_robin"}`, "round_robin"},
		"a list of objects":    {`[{"type": "assign_to_everyone"}]`, "assign_to_everyone"},
		"not asked for":        {``, ""},
		"null":                 {`null`, ""},
		"something else":       {`42`, "unknown"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := escalationRule{AssignmentStrategy: []byte(tc.raw)}
			if got := r.strategy(); got != tc.want {
				t.Errorf("strategy of %s = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

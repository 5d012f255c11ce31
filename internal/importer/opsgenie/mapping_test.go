package opsgenie

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

var testPeople = &people{
	byID:       map[string]string{"u1": "alice", "u2": "bob", "u3": "carol"},
	byUsername: map[string]string{"alice@example.com": "alice", "bob@example.com": "bob", "carol@example.com": "carol"},
}

func u(id string) recipient { return recipient{Type: "user", ID: id} }

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func TestMapRestriction(t *testing.T) {
	all := []klaxonv1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	cases := map[string]struct {
		in    timeRestriction
		want  []klaxonv1alpha1.TimeRestriction
		ok    bool
		notes []string
	}{
		"office hours every day": {
			in:   timeRestriction{Type: "time-of-day", Restriction: &timeOfDay{StartHour: 9, EndHour: 17}},
			want: []klaxonv1alpha1.TimeRestriction{{Days: all, From: "09:00", To: "17:00"}}, ok: true,
		},
		"nights cross midnight": {
			in:   timeRestriction{Type: "time-of-day", Restriction: &timeOfDay{StartHour: 22, StartMin: 30, EndHour: 6}},
			want: []klaxonv1alpha1.TimeRestriction{{Days: all, From: "22:30", To: "06:00"}}, ok: true,
		},
		"24:00 is midnight": {
			in:   timeRestriction{Type: "time-of-day", Restriction: &timeOfDay{StartHour: 18, EndHour: 24}},
			want: []klaxonv1alpha1.TimeRestriction{{Days: all, From: "18:00", To: "00:00"}}, ok: true,
		},
		"a whole day": {
			in:   timeRestriction{Type: "time-of-day", Restriction: &timeOfDay{StartHour: 8, EndHour: 8}},
			want: []klaxonv1alpha1.TimeRestriction{{Days: all, From: "08:00", To: "08:00"}}, ok: true,
			notes: []string{`R is restricted from 08:00 to 08:00: taken as the whole day`},
		},
		"no such hour": {
			in:    timeRestriction{Type: "time-of-day", Restriction: &timeOfDay{StartHour: 25, EndHour: 8}},
			notes: []string{`R left out: its time-of-day restriction's hours are no times of day`},
		},
		"no hours": {
			in:    timeRestriction{Type: "time-of-day"},
			notes: []string{`R left out: its time-of-day restriction has no hours`},
		},
		"the weekend across days": {
			in: timeRestriction{Type: "weekday-and-time-of-day", Restrictions: []weekdayTimeOfDay{
				{StartDay: "friday", StartHour: 18, EndDay: "monday", EndHour: 9},
			}},
			want: []klaxonv1alpha1.TimeRestriction{{FromDay: "Fri", From: "18:00", ToDay: "Mon", To: "09:00"}}, ok: true,
		},
		"two windows, one within a day": {
			in: timeRestriction{Type: "weekday-and-time-of-day", Restrictions: []weekdayTimeOfDay{
				{StartDay: "monday", StartHour: 8, StartMin: 30, EndDay: "monday", EndHour: 12},
				{StartDay: "wednesday", StartHour: 20, EndDay: "thursday", EndHour: 2, EndMin: 15},
			}},
			want: []klaxonv1alpha1.TimeRestriction{
				{FromDay: "Mon", From: "08:30", ToDay: "Mon", To: "12:00"},
				{FromDay: "Wed", From: "20:00", ToDay: "Thu", To: "02:15"},
			}, ok: true,
		},
		"an empty window is dropped": {
			in: timeRestriction{Type: "weekday-and-time-of-day", Restrictions: []weekdayTimeOfDay{
				{StartDay: "monday", StartHour: 8, EndDay: "monday", EndHour: 8},
				{StartDay: "tuesday", StartHour: 8, EndDay: "tuesday", EndHour: 9},
			}},
			want: []klaxonv1alpha1.TimeRestriction{{FromDay: "Tue", From: "08:00", ToDay: "Tue", To: "09:00"}}, ok: true,
			notes: []string{`R: the window from Mon 08:00 to Mon 08:00 is empty or the whole week: left out of its restrictions`},
		},
		"no such day": {
			in: timeRestriction{Type: "weekday-and-time-of-day", Restrictions: []weekdayTimeOfDay{
				{StartDay: "caturday", StartHour: 8, EndDay: "monday", EndHour: 9},
			}},
			notes: []string{`R left out: a restriction window ("caturday" to "monday") has no day or time Klaxon reads`},
		},
		"too many windows": {
			in:    timeRestriction{Type: "weekday-and-time-of-day", Restrictions: make([]weekdayTimeOfDay, 33)},
			notes: []string{`R left out: it has 33 restriction windows and a Klaxon layer at most 32`},
		},
		"unknown type": {
			in:    timeRestriction{Type: "moon-phase"},
			notes: []string{`R left out: its restriction of type "moon-phase" is none of time-of-day, weekday-and-time-of-day`},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var n notes
			got, ok := mapRestriction(c.in, "R", &n)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v", ok, c.ok)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("restrictions differ (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.notes, n.list); diff != "" {
				t.Errorf("notes differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMapRotation(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	base := rotation{Name: "R", StartDate: "2026-11-30T08:00:00Z", Type: "weekly", Length: 1, Participants: []recipient{u("u1"), u("u2")}}
	with := func(f func(r *rotation)) rotation {
		r := base
		r.Participants = append([]recipient(nil), base.Participants...)
		f(&r)
		return r
	}
	cases := map[string]struct {
		in    rotation
		want  klaxonv1alpha1.ScheduleLayer
		ok    bool
		notes []string
	}{
		"weekly, on Berlin's clock": {
			in:   base,
			want: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-11-30T09:00:00", Shift: metav1.Duration{Duration: 168 * time.Hour}}, ok: true,
		},
		"two weeks": {
			in:   with(func(r *rotation) { r.Length = 2 }),
			want: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-11-30T09:00:00", Shift: metav1.Duration{Duration: 336 * time.Hour}}, ok: true,
		},
		"daily, length left out": {
			in:   with(func(r *rotation) { r.Type, r.Length = "daily", 0 }),
			want: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-11-30T09:00:00", Shift: metav1.Duration{Duration: 24 * time.Hour}}, ok: true,
		},
		"hourly, by username, with an end": {
			in: with(func(r *rotation) {
				r.Type, r.Length, r.EndDate = "hourly", 6, "2026-12-21T00:00:00Z"
				r.Participants = []recipient{{Type: "user", Username: "Carol@example.com"}, u("u1")}
			}),
			want: klaxonv1alpha1.ScheduleLayer{Participants: []string{"carol", "alice"}, Start: "2026-11-30T09:00:00", End: "2026-12-21T01:00:00", Shift: metav1.Duration{Duration: 6 * time.Hour}}, ok: true,
		},
		"a person twice": {
			in:   with(func(r *rotation) { r.Participants = []recipient{u("u1"), u("u2"), u("u1")} }),
			want: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob", "alice"}, Start: "2026-11-30T09:00:00", Shift: metav1.Duration{Duration: 168 * time.Hour}}, ok: true,
		},
		"an empty turn": {
			in:    with(func(r *rotation) { r.Participants = append(r.Participants, recipient{Type: "none"}) }),
			notes: []string{`rotation "R" left out: it has turns with nobody on call (none), and every turn of a Klaxon layer has someone: add the rotation by hand, with restrictions for the empty turns`},
		},
		"an escalation takes a turn": {
			in:    with(func(r *rotation) { r.Participants = []recipient{{Type: "escalation", Name: "Ops"}} }),
			notes: []string{`rotation "R" left out: its participant escalation "Ops" is no person, and Klaxon's layers rotate people: put the people it stands for into a layer by hand`},
		},
		"someone unknown": {
			in:    with(func(r *rotation) { r.Participants = []recipient{u("u9")} }),
			notes: []string{`rotation "R" left out: its participant user "u9" is none of the users read`},
		},
		"monthly": {
			in:    with(func(r *rotation) { r.Type = "monthly" }),
			notes: []string{`rotation "R" left out: its type "monthly" is none of hourly, daily, weekly`},
		},
		"a length past any schedule": {
			in:    with(func(r *rotation) { r.Length = 1 << 40 }),
			notes: []string{`rotation "R" left out: its length 1099511627776 is not from 1 to 1000`},
		},
		"ends before it starts": {
			in:    with(func(r *rotation) { r.EndDate = "2026-11-01T00:00:00Z" }),
			notes: []string{`rotation "R" left out: it ends (2026-11-01T00:00:00Z) before it starts`},
		},
		"no start": {
			in:    with(func(r *rotation) { r.StartDate = "tomorrow" }),
			notes: []string{`rotation "R" left out: its startDate "tomorrow" is no RFC 3339 time`},
		},
		"no participants": {
			in:    with(func(r *rotation) { r.Participants = nil }),
			notes: []string{`rotation "R" left out: it has no participants`},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var n notes
			got, ok := mapRotation(c.in, berlin, testPeople, &n)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v (notes %v)", ok, c.ok, n.list)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("layer differs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.notes, n.list); diff != "" {
				t.Errorf("notes differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMapScheduleTimeZones(t *testing.T) {
	rot := rotation{Name: "R", StartDate: "2026-03-29T00:30:00Z", Type: "daily", Participants: []recipient{u("u1")}}
	cases := map[string]struct {
		zone, start, why string
	}{
		"Berlin, before the clocks go forward": {zone: "Europe/Berlin", start: "2026-03-29T01:30:00"},
		"New York":                             {zone: "America/New_York", start: "2026-03-28T20:30:00"},
		"UTC":                                  {zone: "UTC", start: "2026-03-29T00:30:00"},
		"none":                                 {zone: "", why: `its time zone "" is no IANA time zone name: write the schedule by hand`},
		"the machine's":                        {zone: "Local", why: `its time zone "Local" is no IANA time zone name: write the schedule by hand`},
		"a path":                               {zone: "../../etc/passwd", why: `its time zone "../../etc/passwd" is no IANA time zone name: write the schedule by hand`},
		"unknown":                              {zone: "Europe/Atlantis", why: `its time zone "Europe/Atlantis" is unknown here: write the schedule by hand`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m := mapSchedule(schedule{Timezone: c.zone, Rotations: []rotation{rot}}, testPeople)
			if m.why != c.why {
				t.Fatalf("why = %q, want %q", m.why, c.why)
			}
			if c.why == "" && m.spec.Layers[0].Start != c.start {
				t.Errorf("start = %s, want %s", m.spec.Layers[0].Start, c.start)
			}
		})
	}
}

func TestMapScheduleAddsUp(t *testing.T) {
	off := false
	s := schedule{Timezone: "UTC", Enabled: &off, Rotations: []rotation{
		{ID: "r1", Name: "Primary", StartDate: "2026-12-01T00:00:00Z", Type: "weekly", Participants: []recipient{u("u1")}},
		{ID: "r2", Name: "Team", StartDate: "2026-12-01T00:00:00Z", Type: "weekly", Participants: []recipient{{Type: "team", Name: "T"}}},
		{ID: "r3", Name: "Primary", StartDate: "2026-12-01T00:00:00Z", Type: "daily", Participants: []recipient{u("u2"), u("u3")}},
		{ID: "r4", Name: "***", StartDate: "2026-12-01T00:00:00Z", Type: "hourly", Length: 12, Participants: []recipient{u("u3")}},
	}}
	m := mapSchedule(s, testPeople)
	if m.spec == nil {
		t.Fatal(m.why)
	}
	var got [][2]string
	for _, l := range m.spec.Layers {
		got = append(got, [2]string{l.Name, string(l.Combine)})
	}
	want := [][2]string{{"primary", ""}, {"primary-2", "Add"}, {"rotation-4", "Add"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layers differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"alice", "bob", "carol"}, m.everyone); diff != "" {
		t.Errorf("everyone differs (-want +got):\n%s", diff)
	}
	if !m.notes.approx || len(m.notes.list) != 3 || !strings.Contains(m.notes.list[1], "left out (1 of 4)") || !strings.Contains(m.notes.list[2], "disabled in Opsgenie") {
		t.Errorf("notes = %v, want the team rotation, what verify shows of it, and the disabled schedule", m.notes.list)
	}
}

func TestMapScheduleTooManyRotations(t *testing.T) {
	for _, n := range []int{0, 17} {
		rots := make([]rotation, n)
		for i := range rots {
			rots[i] = rotation{Name: "R", StartDate: "2026-12-01T00:00:00Z", Type: "daily", Participants: []recipient{u("u1")}}
		}
		m := mapSchedule(schedule{Timezone: "UTC", Rotations: rots}, testPeople)
		if m.spec != nil || m.why == "" {
			t.Errorf("%d rotations: mapped, want not mapped", n)
		}
	}
}

func TestMapEscalation(t *testing.T) {
	schedules := map[string]scheduleRef{
		"s1": {name: "primary", imported: true, label: `"Primary"`},
		"s2": {name: "lost", label: `"Lost"`},
	}
	rule := func(delay int64, r recipient) escalationRule {
		return escalationRule{Condition: "if-not-acked", NotifyType: "default", Delay: timeAmount{TimeAmount: delay, TimeUnit: "minutes"}, Recipient: r}
	}
	sched := recipient{Type: "schedule", ID: "s1"}
	cases := map[string]struct {
		in    escalation
		want  *klaxonv1alpha1.EscalationPolicySpec
		notes []string
		why   string
	}{
		"0, 5 and 15 minutes with a repeat": {
			in: escalation{Rules: []escalationRule{rule(0, sched), rule(5, u("u1")), rule(15, u("u2"))},
				Repeat: &escalationRepeat{WaitInterval: 10, Count: 2}},
			want: &klaxonv1alpha1.EscalationPolicySpec{Repeat: 2, Levels: []klaxonv1alpha1.EscalationLevel{
				{After: dur(10 * time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: "primary"}}},
				{After: dur(5 * time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{{User: "alice"}}},
				{After: dur(10 * time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{{User: "bob"}}},
			}},
		},
		"rules of one delay are one level, in any order": {
			in: escalation{Rules: []escalationRule{rule(30, u("u2")), rule(0, sched), rule(30, u("u3")),
				{Delay: timeAmount{TimeAmount: 1, TimeUnit: "hours"}, Recipient: u("u1")}}},
			want: &klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: "primary"}}},
				{After: dur(30 * time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{{User: "bob"}, {User: "carol"}}},
				{After: dur(30 * time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{{User: "alice"}}},
			}},
		},
		"a first rule that waits": {
			in: escalation{Rules: []escalationRule{rule(3, u("u1"))}},
			want: &klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: []klaxonv1alpha1.EscalationTarget{{User: "alice"}}},
			}},
			notes: []string{`its first rule waits 3m0s after the alert is created: Klaxon pages the first level at once`},
		},
		"a repeat turned off": {
			in: escalation{Rules: []escalationRule{rule(0, u("u1"))}, Repeat: &escalationRepeat{WaitInterval: 0, Count: 3}},
			want: &klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: []klaxonv1alpha1.EscalationTarget{{User: "alice"}}},
			}},
		},
		"a schedule not imported, the previous on-call": {
			in: escalation{Rules: []escalationRule{{Condition: "if-not-acked", NotifyType: "previous", Recipient: recipient{Type: "schedule", ID: "s2"}}}},
			want: &klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: "lost"}}},
			}},
			notes: []string{
				`rule 1 pages schedule "Lost", which was not imported: the policy waits for an OnCallSchedule lost, which you write by hand`,
				`rule 1 pages the previous on-call of schedule "Lost": Klaxon pages who is on call now`,
			},
		},
		"only a team": {
			in:    escalation{Rules: []escalationRule{rule(0, recipient{Type: "team", Name: "Ops"})}},
			why:   `none of its rules could be mapped: rule 1 left out: it notifies team "Ops", and Klaxon pages schedules and people: page the team's schedule or people instead`,
			notes: []string{`rule 1 left out: it notifies team "Ops", and Klaxon pages schedules and people: page the team's schedule or people instead`},
		},
		"a delay of years": {
			in:  escalation{Rules: []escalationRule{rule(1<<50, u("u1"))}},
			why: `rule 1's delay: not a wait from 0 to 720h0m0s`,
		},
		"no rules": {in: escalation{}, why: "it has no rules"},
		"eleven delays": {
			in: func() escalation {
				var e escalation
				for i := range 11 {
					e.Rules = append(e.Rules, rule(int64(i), u("u1")))
				}
				return e
			}(),
			why: "its rules have 11 different delays and a policy at most 10 levels: merge rules by hand",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, n, why := mapEscalation(c.in, schedules, testPeople)
			if why != c.why {
				t.Fatalf("why = %q, want %q", why, c.why)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("policy differs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.notes, n.list); diff != "" {
				t.Errorf("notes differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCriteriaSeverities(t *testing.T) {
	prio := func(p string, not bool) condition {
		return condition{Field: "priority", Operation: "equals", ExpectedValue: p, Not: not}
	}
	cases := map[string]struct {
		in   *criteria
		want []klaxonv1alpha1.Severity
		set  string
		lost bool
		note string
	}{
		"no criteria":   {in: nil, set: "P1, P2, P3, P4, P5"},
		"match-all":     {in: &criteria{Type: "match-all"}, set: "P1, P2, P3, P4, P5"},
		"P1 or P2":      {in: &criteria{Type: "match-any-condition", Conditions: []condition{prio("P1", false), prio("P2", false)}}, want: []klaxonv1alpha1.Severity{"SEV1", "SEV2"}, set: "P1, P2"},
		"P3":            {in: &criteria{Type: "match-all-conditions", Conditions: []condition{prio("P3", false)}}, want: []klaxonv1alpha1.Severity{"SEV3"}, set: "P3"},
		"P4 and P5":     {in: &criteria{Type: "match-any-condition", Conditions: []condition{prio("P4", false), prio("P5", false)}}, want: []klaxonv1alpha1.Severity{"SEV4"}, set: "P4, P5"},
		"not P1":        {in: &criteria{Type: "match-all-conditions", Conditions: []condition{prio("P1", true)}}, want: []klaxonv1alpha1.Severity{"SEV2", "SEV3", "SEV4"}, set: "P2, P3, P4, P5"},
		"not P1 nor P2": {in: &criteria{Type: "match-all-conditions", Conditions: []condition{prio("P1", true), prio("P2", true)}}, want: []klaxonv1alpha1.Severity{"SEV3", "SEV4"}, set: "P3, P4, P5"},
		"tags dropped":  {in: &criteria{Type: "match-all-conditions", Conditions: []condition{{Field: "tags", Operation: "contains", ExpectedValue: "db"}, prio("P2", false)}}, want: []klaxonv1alpha1.Severity{"SEV2"}, set: "P2", lost: true},
		"a comparison":  {in: &criteria{Type: "match-all-conditions", Conditions: []condition{{Field: "priority", Operation: "greater-than", ExpectedValue: "P3"}}}, set: "P1, P2, P3, P4, P5", lost: true, note: `rule: the condition priority greater-than "P3" not mapped (only equals P1 to P5 maps to severities): taken to match every alert`},
		"an odd type":   {in: &criteria{Type: "match-some"}, set: "P1, P2, P3, P4, P5", lost: true},
		"P6":            {in: &criteria{Type: "match-all-conditions", Conditions: []condition{prio("P6", false)}}, set: "P1, P2, P3, P4, P5", lost: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var n notes
			set, _ := criteriaSet(c.in, "rule", &n)
			if set.String() != c.set {
				t.Errorf("set = %s, want %s", set, c.set)
			}
			if diff := cmp.Diff(c.want, set.severities()); diff != "" {
				t.Errorf("severities differ (-want +got):\n%s", diff)
			}
			if n.approx != c.lost {
				t.Errorf("lost = %v, want %v (%v)", n.approx, c.lost, n.list)
			}
			if c.note != "" && (len(n.list) != 1 || n.list[0] != c.note) {
				t.Errorf("notes = %q, want %q", n.list, c.note)
			}
		})
	}
}

func TestMapResponder(t *testing.T) {
	step := func(method, to string, after int64) ruleStep {
		return ruleStep{Enabled: true, Contact: stepContact{Method: method, To: to}, SendAfter: &timeAmount{TimeAmount: after}}
	}
	usr := user{ID: "u1", Username: "alice@example.com", FullName: "Alice"}
	contacts := []contact{
		{Method: "email", To: "alice@example.com"},
		{Method: "email", To: "alice@home.example"},
		{Method: "mobile", To: "Pixel"},
		{Method: "fax", To: "+1 555"},
	}
	rules := []notificationRule{
		// Listed out of order: order decides which rule matches first.
		{Name: "Rest", Order: 2, Enabled: true, Steps: []ruleStep{step("email", "alice@example.com", 0)}},
		{Name: "P5 only", Order: 1, Enabled: true, Criteria: &criteria{Type: "match-all-conditions", Conditions: []condition{{Field: "priority", Operation: "equals", ExpectedValue: "P5"}}},
			Steps: []ruleStep{step("mobile", "Pixel", 2)}},
		{Name: "Critical", Order: 0, Enabled: true, Criteria: &criteria{Type: "match-any-condition", Conditions: []condition{{Field: "priority", Operation: "equals", ExpectedValue: "P1"}}},
			Repeat: &ruleRepeat{LoopAfter: 5, Enabled: true},
			Steps:  []ruleStep{step("voice", "49-1", 0), step("email", "alice@home.example", 2*24*60), {Contact: stepContact{Method: "sms", To: "49-1"}}}},
	}
	spec, n := mapResponder(usr, contacts, rules, []notificationRuleSummary{{Name: "Closed", ActionType: "closed-alert", Enabled: true}})
	want := klaxonv1alpha1.ResponderSpec{
		DisplayName: "Alice",
		Contacts: []klaxonv1alpha1.Contact{
			{Name: "email", Channel: "email", Address: "alice@example.com"},
			{Name: "email-2", Channel: "email", Address: "alice@home.example"},
			{Name: "push", Channel: "push", Address: "Pixel"},
			{Name: "voice", Channel: "voice", Address: "+491"},
		},
		Rules: []klaxonv1alpha1.NotificationRule{
			{Contact: "voice", Severities: []klaxonv1alpha1.Severity{"SEV1"}},
			{Contact: "email-2", After: dur(24 * time.Hour), Severities: []klaxonv1alpha1.Severity{"SEV1"}},
			{Contact: "push", After: dur(2 * time.Minute), Severities: []klaxonv1alpha1.Severity{"SEV4"}},
			{Contact: "email", Severities: []klaxonv1alpha1.Severity{"SEV2", "SEV3", "SEV4"}},
		},
	}
	if diff := cmp.Diff(want, spec); diff != "" {
		t.Errorf("responder differs (-want +got):\n%s", diff)
	}
	wantNotes := []string{
		`contact push is Opsgenie's app on the device "Pixel", a label no push channel can deliver to: set its address to the person's push address by hand`,
		`contact "+1 555" by "fax" not mapped: Klaxon has no channel for that method`,
		`rule "Critical" repeats every 5 minutes until acknowledged: Klaxon sends each rule once`,
		`a step of rule "Critical" waits 48h0m0s: Klaxon waits at most 24h0m0s`,
		`a step of rule "Critical" is disabled in Opsgenie: left out`,
		`rule "P5 only" matches P5: Klaxon's SEV4 is both P4 and P5, so it applies to both`,
		`rule "Rest" matches P2, P3, P4: Klaxon's SEV4 is both P4 and P5, so it applies to both`,
		`rule "Closed" (closed-alert) not mapped: Klaxon's rules say how a page reaches the person, and it tells nobody of other events`,
	}
	if diff := cmp.Diff(wantNotes, n.list); diff != "" {
		t.Errorf("notes differ (-want +got):\n%s", diff)
	}
}

func TestTimeAmount(t *testing.T) {
	cases := map[timeAmount]time.Duration{
		{TimeAmount: 5}:                         5 * time.Minute,
		{TimeAmount: 5, TimeUnit: "minutes"}:    5 * time.Minute,
		{TimeAmount: 2, TimeUnit: "hours"}:      2 * time.Hour,
		{TimeAmount: 1, TimeUnit: "days"}:       24 * time.Hour,
		{TimeAmount: -1}:                        -1,
		{TimeAmount: 1, TimeUnit: "fortnights"}: -1,
		{TimeAmount: 1 << 62, TimeUnit: "days"}: -1,
	}
	for in, want := range cases {
		got, err := in.duration()
		if want < 0 {
			if err == nil {
				t.Errorf("%+v: %s, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%+v: %s, %v, want %s", in, got, err, want)
		}
	}
}

func TestNextPage(t *testing.T) {
	got, err := nextPage("https://api.opsgenie.com/v2/users?limit=100&offset=3&order=asc&sort=username", 0)
	if err != nil || got.Encode() != "limit=100&offset=3" {
		t.Errorf("next = %v, %v", got, err)
	}
	for _, link := range []string{"https://api.opsgenie.com/v2/users?offset=0", "https://x/users?offset=-4", "https://x/users", "::"} {
		if _, err := nextPage(link, 0); err == nil {
			t.Errorf("%s: no error, want one (it does not move on)", link)
		}
	}
}

func TestFlatten(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 12, 7, h, 0, 0, 0, time.UTC) }
	iv := func(a, b int, who ...string) importer.Interval {
		return importer.Interval{Start: at(a), End: at(b), People: who}
	}
	got, err := flatten([]importer.Interval{iv(0, 8, "alice"), iv(8, 16, "alice"), iv(4, 10, "bob"), iv(12, 14, "bob"), iv(12, 14, "alice"), iv(18, 20, "carol")})
	if err != nil {
		t.Fatal(err)
	}
	want := []importer.Interval{iv(0, 4, "alice"), iv(4, 10, "alice", "bob"), iv(10, 12, "alice"), iv(12, 14, "alice", "bob"), iv(14, 16, "alice"), iv(18, 20, "carol")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flatten differs (-want +got):\n%s", diff)
	}
	// A crowd on call at once is an error, at once.
	var crowd []importer.Interval
	for i := range maxPeriods {
		crowd = append(crowd, iv(0, 8, fmt.Sprint("p", i)))
	}
	start := time.Now()
	if _, err := flatten(crowd); err == nil || !strings.Contains(err.Error(), "more than 256 people are on call") {
		t.Errorf("err = %v, want one about the crowd", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

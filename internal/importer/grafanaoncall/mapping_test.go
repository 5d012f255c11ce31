package grafanaoncall

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

func ptr[T any](v T) *T { return &v }

var testPeople = map[string]string{"UA": "alice", "UB": "bob", "UC": "carol"}

func testPerson(id string) (string, bool) {
	name, ok := testPeople[id]
	return name, ok
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func days(d ...klaxonv1alpha1.Weekday) []klaxonv1alpha1.Weekday { return d }

var weekdays = days("Mon", "Tue", "Wed", "Thu", "Fri")

// TestMapShift maps one shift of each shape to a layer.
func TestMapShift(t *testing.T) {
	rolling := func(s shift) *shift {
		s.Type = "rolling_users"
		if s.RollingUsers == nil {
			s.RollingUsers = [][]string{{"UA"}, {"UB"}}
		}
		if s.Start == "" {
			s.Start = "2026-12-07T09:00:00"
		}
		return &s
	}
	tests := map[string]struct {
		shift   *shift
		zone    string
		outcome importer.Outcome
		layer   klaxonv1alpha1.ScheduleLayer // name and combine are set by mapLayers
		noteHas string
		dropped bool
	}{
		"a weekly rotation on call all week": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 604800}),
			outcome: importer.Mapped,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: week}},
		},
		"a turn of two people becomes groups": {
			shift:   rolling(shift{Frequency: ptr("daily"), Duration: 86400, RollingUsers: [][]string{{"UA", "UB"}, {"UC"}}}),
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Groups: []klaxonv1alpha1.ScheduleGroup{{Members: []string{"alice", "bob"}}, {Members: []string{"carol"}}},
				Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: day}},
		},
		"a daily turn on call 8 hours is a window every day": {
			shift:   rolling(shift{Frequency: ptr("daily"), Duration: 8 * 3600}),
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: day},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: days("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), From: "09:00", To: "17:00"}}},
		},
		"a weekly turn on call 48 hours is a window across days": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 48 * 3600, Start: "2026-12-11T18:00:00"}),
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-11T18:00:00", Shift: metav1.Duration{Duration: week},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{FromDay: "Fri", From: "18:00", ToDay: "Sun", To: "18:00"}}},
		},
		"a weekly turn on call overnight is a window of its day": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 10 * 3600, Start: "2026-12-09T22:00:00"}),
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-09T22:00:00", Shift: metav1.Duration{Duration: week},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: days("Wed"), From: "22:00", To: "08:00"}}},
		},
		"a 12-hourly turn on call 4 hours is two windows a day": {
			shift:   rolling(shift{Frequency: ptr("hourly"), Interval: ptr(12), Duration: 4 * 3600}),
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: 12 * time.Hour},
				Restrictions: []klaxonv1alpha1.TimeRestriction{
					{Days: days("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), From: "09:00", To: "13:00"},
					{Days: days("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), From: "21:00", To: "01:00"},
				}},
		},
		"hourly windows drift from the wall clock across daylight saving time": {
			shift:   rolling(shift{Frequency: ptr("hourly"), Interval: ptr(12), Duration: 4 * 3600}),
			zone:    "Europe/Berlin",
			outcome: importer.Approximated,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: 12 * time.Hour},
				Restrictions: []klaxonv1alpha1.TimeRestriction{
					{Days: days("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), From: "09:00", To: "13:00"},
					{Days: days("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), From: "21:00", To: "01:00"},
				}},
			noteHas: "an hour apart",
		},
		"a weekend window whose first turn loses an hour to summer time ends on the clock": {
			shift: rolling(shift{Frequency: ptr("weekly"), Duration: 48 * 3600, Start: "2027-03-27T00:00:00"}),
			zone:  "Europe/Berlin",
			// Weeks other than the first hold no change of clocks.
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2027-03-27T00:00:00", Shift: metav1.Duration{Duration: week},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{FromDay: "Sat", From: "00:00", ToDay: "Mon", To: "00:00"}}},
		},
		"a night window whose first night loses an hour ends on the clock": {
			shift:   rolling(shift{Frequency: ptr("daily"), Duration: 8 * 3600, Start: "2027-03-27T22:00:00"}),
			zone:    "Europe/Berlin",
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2027-03-27T22:00:00", Shift: metav1.Duration{Duration: day},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: days("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), From: "22:00", To: "06:00"}}},
		},
		"by_day days whose first turn loses an hour end on the clock": {
			shift: &shift{Type: "recurrent_event", Users: []string{"UC"}, Start: "2027-03-28T01:00:00", Duration: 8 * 3600,
				Frequency: ptr("weekly"), ByDay: []string{"SU", "MO"}},
			zone:    "Europe/Berlin",
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"carol"}, Start: "2027-03-28T01:00:00", Shift: metav1.Duration{Duration: week},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: days("Mon", "Sun"), From: "01:00", To: "09:00"}}},
		},
		"a 24-hourly turn keeps its length, Klaxon's day its wall clock": {
			shift:   rolling(shift{Frequency: ptr("hourly"), Interval: ptr(24), Duration: 24 * 3600}),
			zone:    "Europe/Berlin",
			outcome: importer.Approximated,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: day}},
			noteHas: "hourly turns keep their length",
		},
		"a 24-hourly turn in a zone without daylight saving time": {
			shift:   rolling(shift{Frequency: ptr("hourly"), Interval: ptr(48), Duration: 48 * 3600}),
			zone:    "Asia/Tokyo",
			outcome: importer.Mapped,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: 2 * day}},
		},
		"a single event ending where the clocks go back ends on the clock": {
			shift:   &shift{Type: "single_event", Users: []string{"UC"}, Start: "2027-10-31T02:40:00+02:00", Duration: 1800},
			zone:    "Europe/Berlin",
			outcome: importer.Approximated,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"carol"}, Start: "2027-10-31T02:40:00", End: "2027-10-31T03:10:00", Shift: metav1.Duration{Duration: time.Hour}},
			noteHas: "where the clocks go back",
		},
		"an until in the last day of 9999 is no end": {
			shift:   rolling(shift{Frequency: ptr("daily"), Duration: 86400, Until: ptr("9999-12-31T12:00:00")}),
			outcome: importer.Mapped,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: day}},
		},
		"a start that is in the year 10000 in the schedule's zone": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 3600, Start: "9999-12-31T23:00:00", TimeZone: ptr("UTC")}),
			zone:    "Pacific/Kiritimati",
			outcome: importer.NotMapped,
			dropped: true,
			noteHas: "beyond the years 1 to 9999",
		},
		"every other day for 8 hours cannot be a weekly window": {
			shift:   rolling(shift{Frequency: ptr("daily"), Interval: ptr(2), Duration: 8 * 3600}),
			outcome: importer.Approximated,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: 2 * day}},
			noteHas: "covers whole turns",
		},
		"a turn longer than its period overlaps the next": {
			shift:   rolling(shift{Frequency: ptr("daily"), Duration: 36 * 3600}),
			outcome: importer.Approximated,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: day}},
			noteHas: "keeps both on call while they overlap",
		},
		"by_day weekdays of one person": {
			shift: &shift{Type: "recurrent_event", Users: []string{"UC"}, Start: "2026-12-07T10:00:00", Duration: 8 * 3600,
				Frequency: ptr("daily"), ByDay: []string{"MO", "TU", "WE", "TH", "FR"}},
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"carol"}, Start: "2026-12-07T10:00:00", Shift: metav1.Duration{Duration: day},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: weekdays, From: "10:00", To: "18:00"}}},
		},
		"a recurrent event of two people is one group": {
			shift: &shift{Type: "recurrent_event", Users: []string{"UA", "UB"}, Start: "2026-12-07T10:00:00", Duration: 8 * 3600,
				Frequency: ptr("weekly"), ByDay: []string{"SA", "SU"}},
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Groups: []klaxonv1alpha1.ScheduleGroup{{Members: []string{"alice", "bob"}}}, Start: "2026-12-07T10:00:00", Shift: metav1.Duration{Duration: week},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: days("Sat", "Sun"), From: "10:00", To: "18:00"}}},
		},
		"a daily rotation on by_day days may hand over differently": {
			shift:   rolling(shift{Frequency: ptr("daily"), Duration: 8 * 3600, ByDay: []string{"MO", "WE", "FR"}}),
			outcome: importer.Approximated,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: day},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: days("Mon", "Wed", "Fri"), From: "09:00", To: "17:00"}}},
			noteHas: "who takes which day may differ",
		},
		"a weekly rotation on by_day days from the week's start": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 8 * 3600, ByDay: []string{"MO", "TU"}, WeekStart: ptr("MO")}),
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: week},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: days("Mon", "Tue"), From: "09:00", To: "17:00"}}},
		},
		"a weekly rotation on by_day days whose week starts another day": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 8 * 3600, ByDay: []string{"MO", "TU"}, WeekStart: ptr("SU")}),
			outcome: importer.Approximated,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: week},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: days("Mon", "Tue"), From: "09:00", To: "17:00"}}},
			noteHas: `its week starts on "SU"`,
		},
		"a shift in another zone with the same offsets keeps its wall clock": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 604800, TimeZone: ptr("Europe/Paris")}),
			zone:    "Europe/Berlin",
			outcome: importer.Mapped,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: week}},
		},
		"a shift in a zone of other offsets is converted": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 604800, TimeZone: ptr("America/New_York")}),
			zone:    "Europe/Berlin",
			outcome: importer.Approximated,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T15:00:00", Shift: metav1.Duration{Duration: week}},
			noteHas: "daylight saving time",
		},
		"by_day days move with the zone": {
			shift: &shift{Type: "recurrent_event", Users: []string{"UA"}, Start: "2026-12-07T20:00:00", Duration: 4 * 3600, TimeZone: ptr("UTC"),
				Frequency: ptr("daily"), ByDay: []string{"MO", "SU"}},
			zone:    "Asia/Tokyo",
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice"}, Start: "2026-12-08T05:00:00", Shift: metav1.Duration{Duration: day},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: days("Mon", "Tue"), From: "05:00", To: "09:00"}}},
		},
		"until inside a turn lets the turn run to its end": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 604800, Until: ptr("2026-12-23T12:00:00")}),
			outcome: importer.Mapped,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", End: "2026-12-28T09:00:00", Shift: metav1.Duration{Duration: week}},
		},
		"until on by_day days ends with the last of them": {
			shift: &shift{Type: "recurrent_event", Users: []string{"UA"}, Start: "2026-12-07T10:00:00", Duration: 3600,
				Frequency: ptr("daily"), ByDay: []string{"MO", "TU", "WE", "TH", "FR"}, Until: ptr("2026-12-13T12:00:00")},
			outcome: importer.Mapped,
			layer: klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice"}, Start: "2026-12-07T10:00:00", End: "2026-12-11T11:00:00", Shift: metav1.Duration{Duration: day},
				Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: weekdays, From: "10:00", To: "11:00"}}},
		},
		"until before the start puts nobody on call": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 604800, Until: ptr("2026-12-01T00:00:00")}),
			outcome: importer.NotMapped,
			dropped: true,
			noteHas: "before its first turn",
		},
		"a single event shorter than an hour": {
			shift:   &shift{Type: "single_event", Users: []string{"UB"}, Start: "2026-12-24T18:00:00", Duration: 1800},
			outcome: importer.Mapped,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"bob"}, Start: "2026-12-24T18:00:00", End: "2026-12-24T18:30:00", Shift: metav1.Duration{Duration: time.Hour}},
		},
		"a single event that ended before the window": {
			shift:   &shift{Type: "single_event", Users: []string{"UB"}, Start: "2026-11-24T18:00:00", Duration: 1800},
			outcome: importer.NotMapped,
			dropped: true,
			noteHas: "before the imported window",
		},
		"the rotation starts from a later turn": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 604800, RollingUsers: [][]string{{"UA"}, {"UB"}, {"UC"}}, StartRotationIndex: ptr(1)}),
			outcome: importer.Mapped,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"bob", "carol", "alice"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: week}},
		},
		"an unknown user leaves a turn out": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 604800, RollingUsers: [][]string{{"UA"}, {"UNKNOWN"}}}),
			outcome: importer.Approximated,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: week}},
			noteHas: `users not among the users read were left out of their turns: "UNKNOWN"`,
		},
		"a monthly rotation gets its first month's length": {
			shift:   rolling(shift{Frequency: ptr("monthly"), Duration: 31 * 86400, Start: "2026-12-01T00:00:00"}),
			outcome: importer.Approximated,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-01T00:00:00", Shift: metav1.Duration{Duration: 31 * day}},
			noteHas: "31-day turns",
		},
		"an unknown frequency": {
			shift:   rolling(shift{Frequency: ptr("yearly"), Duration: 3600}),
			outcome: importer.NotMapped,
			dropped: true,
			noteHas: `frequency "yearly" is unknown`,
		},
		"an unknown time zone": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 3600, TimeZone: ptr("Mars/Olympus_Mons")}),
			outcome: importer.NotMapped,
			dropped: true,
			noteHas: "unknown",
		},
		"by_monthday is left out": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 604800, ByMonthday: []int{1, 15}}),
			outcome: importer.Approximated,
			layer:   klaxonv1alpha1.ScheduleLayer{Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: week}},
			noteHas: "by_monthday [1 15] were left out",
		},
		"a start that is no time": {
			shift:   rolling(shift{Frequency: ptr("weekly"), Duration: 3600, Start: "next monday"}),
			outcome: importer.NotMapped,
			dropped: true,
			noteHas: "is no time",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			zone := tc.zone
			if zone == "" {
				zone = "UTC"
			}
			from := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
			m := mapShift(tc.shift, shiftContext{loc: mustZone(t, zone), person: testPerson, from: from, ended: map[string]bool{}})
			if m.outcome != tc.outcome || m.skip != tc.dropped {
				t.Fatalf("outcome %s, dropped %v, want %s, %v (notes %q)", m.outcome, m.skip, tc.outcome, tc.dropped, m.notes)
			}
			if tc.noteHas != "" && !strings.Contains(strings.Join(m.notes, "\n"), tc.noteHas) {
				t.Errorf("notes %q lack %q", m.notes, tc.noteHas)
			}
			if tc.outcome == importer.Mapped && len(m.notes) > 0 {
				t.Errorf("mapped with notes %q", m.notes)
			}
			if tc.dropped {
				return
			}
			if !reflect.DeepEqual(m.layer, tc.layer) {
				t.Errorf("layer\n%+v\nwant\n%+v", m.layer, tc.layer)
			}
			l := m.layer
			l.Name = "layer"
			if _, err := oncall.Compile(&klaxonv1alpha1.OnCallScheduleSpec{TimeZone: zone, Layers: []klaxonv1alpha1.ScheduleLayer{l}}); err != nil {
				t.Errorf("the layer does not compile: %v", err)
			}
		})
	}
}

// TestMapLayers orders layers by level and adds shifts of a level after
// its first.
func TestMapLayers(t *testing.T) {
	mk := func(id string, level int, who string) *shift {
		return &shift{ID: id, Name: "Shift " + id, Type: "rolling_users", Level: level, Start: "2026-12-07T09:00:00", Duration: 604800,
			Frequency: ptr("weekly"), RollingUsers: [][]string{{who}}}
	}
	sc := shiftContext{loc: time.UTC, person: testPerson, from: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), ended: map[string]bool{}}
	layers, entries := mapLayers([]*shift{mk("C", 2, "UC"), mk("A", 0, "UA"), mk("B", 2, "UB")}, sc, "s")
	var got []string
	for _, l := range layers {
		got = append(got, l.Name+":"+string(l.Combine))
	}
	if want := []string{"shift-a:", "shift-c:", "shift-b:Add"}; !reflect.DeepEqual(got, want) {
		t.Errorf("layers %v, want %v", got, want)
	}
	if e := entries[2]; e.SourceID != "B" || e.Outcome != importer.Approximated || !strings.Contains(strings.Join(e.Notes, " "), "shares level 2") {
		t.Errorf("the second shift of level 2 above a lower level: %+v, want approximated", e)
	}
	// At the lowest level, adding is exact: there is nothing below.
	_, entries = mapLayers([]*shift{mk("A", 0, "UA"), mk("B", 0, "UB")}, sc, "s")
	if entries[1].Outcome != importer.Mapped {
		t.Errorf("two shifts of the lowest level: %+v, want mapped", entries[1])
	}
	// Names stay unique within a schedule.
	a, b := mk("A", 0, "UA"), mk("B", 1, "UB")
	b.Name = a.Name
	layers, _ = mapLayers([]*shift{a, b}, sc, "s")
	if layers[0].Name == layers[1].Name {
		t.Errorf("two layers named %s", layers[0].Name)
	}
}

// TestSameLevelApart: shifts of one level whose windows never meet keep
// Replace, so each alone hides the levels below in its windows, as in
// Grafana OnCall; windows that meet add up, approximated.
func TestSameLevelApart(t *testing.T) {
	window := func(id string, days []string, start, who string) *shift {
		return &shift{ID: id, Name: "Shift " + id, Type: "recurrent_event", Level: 1, Start: start, Duration: 8 * 3600,
			Frequency: ptr("weekly"), ByDay: days, Users: []string{who}}
	}
	base := &shift{ID: "A", Name: "Shift A", Type: "rolling_users", Level: 0, Start: "2026-12-07T00:00:00", Duration: 604800,
		Frequency: ptr("weekly"), RollingUsers: [][]string{{"UA"}}}
	sc := shiftContext{loc: time.UTC, person: testPerson, from: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), ended: map[string]bool{}}
	weekdays := window("B", []string{"MO", "TU", "WE", "TH", "FR"}, "2026-12-07T09:00:00", "UB")
	weekend := window("C", []string{"SA", "SU"}, "2026-12-12T09:00:00", "UC")
	layers, entries := mapLayers([]*shift{base, weekdays, weekend}, sc, "s")
	if c := layers[2].Combine; c != "" {
		t.Errorf("the weekend layer combines %q, want Replace", c)
	}
	if e := entries[2]; e.Outcome != importer.Mapped {
		t.Errorf("the weekend shift: %+v, want mapped", e)
	}
	sched, err := oncall.Compile(&klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	for at, want := range map[string][]string{
		"2026-12-09T10:00:00Z": {"bob"}, "2026-12-12T10:00:00Z": {"carol"}, "2026-12-12T18:00:00Z": {"alice"}, "2026-12-14T08:59:00Z": {"alice"},
	} {
		ts, _ := time.Parse(time.RFC3339, at)
		if got := sched.At(ts); !reflect.DeepEqual(got, want) {
			t.Errorf("at %s: %v, want %v", at, got, want)
		}
	}
	// Friday evening into Saturday meets the weekend's Saturday window.
	evenings := window("D", []string{"FR"}, "2026-12-11T20:00:00", "UB")
	evenings.Duration = 14 * 3600
	layers, entries = mapLayers([]*shift{base, weekend, evenings}, sc, "s")
	if c := layers[2].Combine; c != klaxonv1alpha1.CombineAdd || entries[2].Outcome != importer.Approximated {
		t.Errorf("windows that meet: %q, %+v; want Add, approximated", c, entries[2])
	}
}

// TestMapChain maps escalation steps to levels.
func TestMapChain(t *testing.T) {
	r := &run{people: map[string]string{"UA": "alice", "UB": "bob"}, schedules: map[string]string{"S1": "primary"}}
	notify := func(ids ...string) escalationPolicy {
		return escalationPolicy{Type: "notify_persons", PersonsToNotify: ids}
	}
	wait := func(s int64) escalationPolicy { return escalationPolicy{Type: "wait", Duration: &s} }
	sched := func(id string) escalationPolicy {
		return escalationPolicy{Type: "notify_on_call_from_schedule", NotifyOnCallSchedule: &id}
	}
	repeat := escalationPolicy{Type: "repeat_escalation"}
	d := func(x time.Duration) *metav1.Duration { return &metav1.Duration{Duration: x} }
	user := func(n string) klaxonv1alpha1.EscalationTarget { return klaxonv1alpha1.EscalationTarget{User: n} }
	tests := map[string]struct {
		steps   []escalationPolicy
		outcome importer.Outcome
		levels  []klaxonv1alpha1.EscalationLevel
		repeat  int32
		noteHas string
	}{
		"waits add up to the next level's after": {
			steps:   []escalationPolicy{notify("UA"), wait(60), wait(300), notify("UB")},
			outcome: importer.Mapped,
			levels:  []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{user("alice")}}, {After: d(6 * time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{user("bob")}}},
		},
		"steps without a wait between them page together": {
			steps:   []escalationPolicy{sched("S1"), notify("UA", "UB")},
			outcome: importer.Mapped,
			levels:  []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: "primary"}, user("alice"), user("bob")}}},
		},
		"the wait after the last level is the pause before a repeat": {
			steps:   []escalationPolicy{notify("UA"), wait(900), notify("UB"), wait(1800), repeat},
			outcome: importer.Mapped,
			levels:  []klaxonv1alpha1.EscalationLevel{{After: d(30 * time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{user("alice")}}, {After: d(15 * time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{user("bob")}}},
			repeat:  5,
		},
		"a single level repeated straight away waits a minute": {
			steps:   []escalationPolicy{notify("UA"), repeat},
			outcome: importer.Approximated,
			levels:  []klaxonv1alpha1.EscalationLevel{{After: d(time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{user("alice")}}},
			repeat:  5,
			noteHas: "at least a minute",
		},
		"a wait of more than a day is a day, with a note": {
			steps:   []escalationPolicy{notify("UA"), wait(3 * 86400), notify("UB")},
			outcome: importer.Approximated,
			levels:  []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{user("alice")}}, {After: d(24 * time.Hour), Targets: []klaxonv1alpha1.EscalationTarget{user("bob")}}},
			noteHas: "it waits 259200 s, more than a day; it was taken as a wait of 24h0m0s",
		},
		"a wait before the first notification": {
			steps:   []escalationPolicy{wait(300), notify("UA")},
			outcome: importer.Approximated,
			levels:  []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{user("alice")}}},
			noteHas: "waits 5m0s before its first notification",
		},
		"a level of nobody passes its wait on": {
			steps:   []escalationPolicy{notify("UA"), wait(300), sched("GONE"), wait(300), notify("UB")},
			outcome: importer.Approximated,
			levels:  []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{user("alice")}}, {After: d(10 * time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{user("bob")}}},
			noteHas: `schedule "GONE" was not imported`,
		},
		"round robin pages everyone": {
			steps:   []escalationPolicy{{Type: "notify_person_next_each_time", PersonsNextEachTime: []string{"UA", "UB"}}},
			outcome: importer.Approximated,
			levels:  []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{user("alice"), user("bob")}}},
			noteHas: "round robin",
		},
		"steps after a resolve never run": {
			steps:   []escalationPolicy{notify("UA"), {Type: "resolve"}, wait(60), notify("UB")},
			outcome: importer.Approximated,
			levels:  []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{user("alice")}}},
			noteHas: "comes after the chain ends",
		},
		"a chain of only a webhook": {
			steps:   []escalationPolicy{{Type: "trigger_webhook", ActionToTrigger: ptr("K1")}},
			outcome: importer.NotMapped,
			noteHas: "pages nobody",
		},
		"eleven levels": {
			steps: func() []escalationPolicy {
				var s []escalationPolicy
				for i := 0; i < 11; i++ {
					s = append(s, notify("UA"), wait(60))
				}
				return s
			}(),
			outcome: importer.NotMapped,
			noteHas: "11 levels",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for i := range tc.steps {
				tc.steps[i].Position = i
			}
			spec, e := r.mapChain(&escalationChain{ID: "F1", Name: "chain"}, tc.steps)
			if e.Outcome != tc.outcome {
				t.Fatalf("outcome %s, want %s (notes %q)", e.Outcome, tc.outcome, e.Notes)
			}
			if tc.noteHas != "" && !strings.Contains(strings.Join(e.Notes, "\n"), tc.noteHas) {
				t.Errorf("notes %q lack %q", e.Notes, tc.noteHas)
			}
			if tc.outcome == importer.NotMapped {
				return
			}
			if !reflect.DeepEqual(spec.Levels, tc.levels) || spec.Repeat != tc.repeat {
				t.Errorf("levels %+v repeat %d, want %+v repeat %d", spec.Levels, spec.Repeat, tc.levels, tc.repeat)
			}
		})
	}
}

// TestMapUser maps notification rules: waits before a rule are its after,
// important rules are SEV1's.
func TestMapUser(t *testing.T) {
	rule := func(pos int, typ string, important bool, dur int64) notificationRule {
		r := notificationRule{Position: pos, Type: typ, Important: important}
		if typ == "wait" {
			r.Duration = &dur
		}
		return r
	}
	sev := func(s ...klaxonv1alpha1.Severity) []klaxonv1alpha1.Severity { return s }
	d := func(x time.Duration) *metav1.Duration { return &metav1.Duration{Duration: x} }
	tests := map[string]struct {
		user    user
		rules   []notificationRule
		outcome importer.Outcome
		want    []klaxonv1alpha1.NotificationRule
		noteHas string
	}{
		"waits before each rule": {
			user:    user{ID: "U1", Username: "a", Email: "a@example.com", Slack: []byte(`[{"user_id":"US1","team_id":"T1"}]`)},
			rules:   []notificationRule{rule(2, "notify_by_email", false, 0), rule(0, "notify_by_slack", false, 0), rule(1, "wait", false, 900)},
			outcome: importer.Mapped,
			want:    []klaxonv1alpha1.NotificationRule{{Contact: "slack"}, {Contact: "email", After: d(15 * time.Minute)}},
		},
		"a wait of more than a day is a day, with a note": {
			user:    user{ID: "U1", Username: "a", Email: "a@example.com"},
			rules:   []notificationRule{rule(0, "wait", false, 2*86400), rule(1, "notify_by_email", false, 0)},
			outcome: importer.Approximated,
			want:    []klaxonv1alpha1.NotificationRule{{Contact: "email", After: d(24 * time.Hour)}},
			noteHas: "it waits 172800 s, more than Klaxon waits before a rule; it was taken as a wait of 24h0m0s",
		},
		"important rules are SEV1's, the others the other severities'": {
			user:    user{ID: "U1", Username: "a", Email: "a@example.com"},
			rules:   []notificationRule{rule(0, "notify_by_email", false, 0), rule(0, "notify_by_email", true, 0)},
			outcome: importer.Approximated,
			want: []klaxonv1alpha1.NotificationRule{
				{Contact: "email", Severities: sev("SEV2", "SEV3", "SEV4")},
				{Contact: "email", Severities: sev("SEV1")},
			},
			noteHas: "important rules became SEV1 rules",
		},
		"phone calls need a number the API does not give": {
			user:    user{ID: "U1", Username: "a", Email: "a@example.com"},
			rules:   []notificationRule{rule(0, "notify_by_phone_call", false, 0), rule(1, "wait", false, 300), rule(2, "notify_by_email", false, 0)},
			outcome: importer.Approximated,
			want:    []klaxonv1alpha1.NotificationRule{{Contact: "email", After: d(5 * time.Minute)}},
			noteHas: "does not expose phone numbers",
		},
		"slack without a slack id": {
			user:    user{ID: "U1", Username: "a", Email: "a@example.com", Slack: []byte(`null`)},
			rules:   []notificationRule{rule(0, "notify_by_slack", false, 0)},
			outcome: importer.Approximated,
			noteHas: "no slack address",
		},
		"slack as one object, as older versions answer": {
			user:    user{ID: "U1", Username: "a", Slack: []byte(`{"user_id":"US1","team_id":"T1"}`)},
			rules:   []notificationRule{rule(0, "notify_by_slack", false, 0)},
			outcome: importer.Mapped,
			want:    []klaxonv1alpha1.NotificationRule{{Contact: "slack"}},
		},
		"a wait past a day": {
			user:    user{ID: "U1", Username: "a", Email: "a@example.com"},
			rules:   []notificationRule{rule(0, "wait", false, 86400), rule(1, "wait", false, 3600), rule(2, "notify_by_email", false, 0)},
			outcome: importer.Approximated,
			want:    []klaxonv1alpha1.NotificationRule{{Contact: "email", After: d(24 * time.Hour)}},
			noteHas: "at most 24h",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec, e := mapUser(&tc.user, tc.rules)
			if e.Outcome != tc.outcome {
				t.Fatalf("outcome %s, want %s (notes %q)", e.Outcome, tc.outcome, e.Notes)
			}
			if tc.noteHas != "" && !strings.Contains(strings.Join(e.Notes, "\n"), tc.noteHas) {
				t.Errorf("notes %q lack %q", e.Notes, tc.noteHas)
			}
			if !reflect.DeepEqual(spec.Rules, tc.want) {
				t.Errorf("rules %+v, want %+v", spec.Rules, tc.want)
			}
			for _, r := range spec.Rules {
				found := false
				for _, c := range spec.Contacts {
					found = found || c.Name == r.Contact
				}
				if !found {
					t.Errorf("rule names contact %s, which the responder lacks", r.Contact)
				}
			}
		})
	}
}

// TestLabelMatchers translates simple routing templates to matchers, and
// leaves everything else for a person.
func TestLabelMatchers(t *testing.T) {
	tests := map[string]struct {
		typ, expr string
		want      []string
	}{
		"common label":     {"jinja2", `{{ payload.commonLabels.severity == "critical" }}`, []string{`severity="critical"`}},
		"two joined":       {"jinja2", `{{ payload.commonLabels.team == "db" and labels["env"] != "dev" }}`, []string{`env!="dev"`, `team="db"`}},
		"labels shorthand": {"jinja2", `{{labels.team=="db"}}`, []string{`team="db"`}},
		"or":               {"jinja2", `{{ labels.team == "db" or labels.team == "dba" }}`, nil},
		"a filter":         {"jinja2", `{{ payload.title | lower == "x" }}`, nil},
		"regex":            {"regex", `"severity": "critical"`, nil},
		"the default type": {"", `{{ labels.team == "db" }}`, nil},
		"no braces":        {"jinja2", `labels.team == "db"`, nil},
		"unknown type":     {"labels", `{{ labels.team == "db" }}`, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := labelMatchers(tc.typ, tc.expr)
			if ok != (tc.want != nil) || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("matchers %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
	neg, ok := negate([][]string{{`team="db"`}, {`env!="a!=b"`}})
	if want := []string{`team!="db"`, `env="a!=b"`}; !ok || !reflect.DeepEqual(neg, want) {
		t.Errorf("negate: %q, %v; want %q", neg, ok, want)
	}
	if _, ok := negate([][]string{{`a="1"`, `b="2"`}}); ok {
		t.Errorf("negated two matchers joined by and: one matcher list cannot say either is false")
	}
}

// TestPrintable: control characters and invalid UTF-8 from the source
// reach neither notes nor fields.
func TestPrintable(t *testing.T) {
	spec, _ := mapUser(&user{ID: "U1", Username: "al\x07ice", Email: "a\n@example.com", Slack: []byte(`[{"user_id":"US\u0001"}]`)}, nil)
	if spec.DisplayName != "al ice" || len(spec.Contacts) != 0 {
		t.Errorf("responder %+v: want display name \"al ice\" and no contacts of unprintable addresses", spec)
	}
}

package calendar

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

func TestWindow(t *testing.T) {
	for name, tc := range map[string]struct {
		now      time.Time
		weeks    int
		from, to time.Time
	}{
		"midday UTC": {time.Date(2027, 3, 20, 12, 30, 0, 0, time.UTC), 8,
			time.Date(2027, 3, 13, 0, 0, 0, 0, time.UTC), time.Date(2027, 5, 15, 0, 0, 0, 0, time.UTC)},
		"a zone ahead of UTC counts UTC's day": {time.Date(2027, 3, 21, 0, 30, 0, 0, time.FixedZone("CET", 3600)), 1,
			time.Date(2027, 3, 13, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 27, 0, 0, 0, 0, time.UTC)},
		"the same all day": {time.Date(2027, 3, 20, 23, 59, 59, 0, time.UTC), 8,
			time.Date(2027, 3, 13, 0, 0, 0, 0, time.UTC), time.Date(2027, 5, 15, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(name, func(t *testing.T) {
			from, to := Window(tc.now, tc.weeks)
			if !from.Equal(tc.from) || !to.Equal(tc.to) {
				t.Errorf("Window = %v, %v; want %v, %v", from, to, tc.from, tc.to)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain":              "plain",
		`a\b`:                `a\\b`,
		"a;b,c":              `a\;b\,c`,
		"line\nnext":         `line\nnext`,
		"bell\a and \r gone": "bell and  gone",
		"tab\tstays":         "tab\tstays",
		"Zoë, 東京":            `Zoë\, 東京`,
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// Lines fold at 75 octets, continuations start with a space, and no fold
// splits a UTF-8 sequence.
func TestFolding(t *testing.T) {
	for name, in := range map[string]string{
		"short":        "SUMMARY:On call: payments-primary",
		"exactly 75":   strings.Repeat("a", 75),
		"ascii":        "DESCRIPTION:" + strings.Repeat("x", 300),
		"multibyte":    "SUMMARY:" + strings.Repeat("東", 100),
		"mixed at cut": "SUMMARY:" + strings.Repeat("a", 66) + strings.Repeat("ë", 40),
	} {
		t.Run(name, func(t *testing.T) {
			var w writer
			w.line(in)
			out := w.String()
			if !strings.HasSuffix(out, "\r\n") {
				t.Fatalf("no CRLF at the end: %q", out)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
			var unfolded strings.Builder
			for i, l := range lines {
				if len(l) > maxLineOctets {
					t.Errorf("line %d has %d octets", i, len(l))
				}
				if !utf8.ValidString(l) {
					t.Errorf("line %d splits a UTF-8 sequence: %q", i, l)
				}
				if i > 0 {
					if !strings.HasPrefix(l, " ") {
						t.Errorf("continuation %d does not start with a space", i)
					}
					l = l[1:]
				}
				unfolded.WriteString(l)
			}
			if unfolded.String() != in {
				t.Errorf("unfolded = %q, want %q", unfolded.String(), in)
			}
			if len(in) <= maxLineOctets && len(lines) != 1 {
				t.Errorf("a line of %d octets was folded", len(in))
			}
		})
	}
}

func compile(t *testing.T, spec *klaxonv1alpha1.OnCallScheduleSpec, overrides ...klaxonv1alpha1.OnCallOverride) *oncall.Schedule {
	t.Helper()
	s, err := oncall.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s.WithOverrides("payments", overrides)
}

func everyone(oncall.PersonShift) bool     { return true }
func bySchedule(oncall.PersonShift) string { return "On call: payments" }
func byUser(sh oncall.PersonShift) string  { return "On call: " + sh.User }
func only(user string) func(oncall.PersonShift) bool {
	return func(sh oncall.PersonShift) bool { return sh.User == user }
}

func TestBuilder(t *testing.T) {
	daily := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{
		{Name: "days", Participants: []string{"alice", "bob"}, Start: "2027-01-04T09:00:00", Shift: metav1.Duration{Duration: 24 * time.Hour}},
	}}
	hourly := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{
		{Name: "hours", Participants: []string{"alice", "bob"}, Start: "2027-01-04T09:00:00", Shift: metav1.Duration{Duration: time.Hour}},
	}}
	from := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
	swap := klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: "swap"}, Spec: klaxonv1alpha1.OnCallOverrideSpec{
		ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: "payments"},
		Replace:     &klaxonv1alpha1.OverrideReplacement{User: "alice", With: "erin"},
		Start:       metav1.NewTime(from.Add(12 * time.Hour)), End: metav1.NewTime(from.Add(14 * time.Hour)),
	}}
	for name, tc := range map[string]struct {
		s       *oncall.Schedule
		to      time.Time
		keep    func(oncall.PersonShift) bool
		summary func(oncall.PersonShift) string
		want    []string
		notes   int
		budget  int
	}{
		"a person's shifts": {compile(t, daily), from.Add(72 * time.Hour), only("bob"), bySchedule, []string{
			"2027-01-05T09:00:00Z 2027-01-06T09:00:00Z On call: payments|Schedule: ns/payments\nTakes over from: alice\nHands over to: alice",
		}, 0, 0},
		"everyone, an override": {compile(t, daily, swap), from.Add(24 * time.Hour), everyone, byUser, []string{
			// The layer starts at 09:00: nobody hands over to alice.
			"2027-01-04T09:00:00Z 2027-01-04T12:00:00Z On call: alice|Schedule: ns/payments\nHands over to: erin",
			"2027-01-04T12:00:00Z 2027-01-04T14:00:00Z On call: erin|Schedule: ns/payments\nTakes over from: alice\nHands over to: alice",
			// The window ends at midnight; the shift across it keeps its end.
			"2027-01-04T14:00:00Z 2027-01-05T09:00:00Z On call: alice|Schedule: ns/payments\nTakes over from: erin\nHands over to: bob",
		}, 0, 0},
		"too many handoffs cut the feed short": {compile(t, hourly), from.AddDate(0, 0, 60), only("nobody"), byUser, nil, 1, 10},
	} {
		t.Run(name, func(t *testing.T) {
			b := NewBuilder("feed", from, tc.to)
			if tc.budget > 0 {
				b.budget = tc.budget
			}
			b.Add(Schedule{Namespace: "ns", Name: "payments", Compiled: tc.s, Sequence: 3}, tc.keep, tc.summary)
			f := b.Feed()
			var got []string
			for _, e := range f.Events {
				got = append(got, e.Start.Format(time.RFC3339)+" "+e.End.Format(time.RFC3339)+" "+e.Summary+"|"+e.Description)
				if e.Sequence != 3 || !strings.HasSuffix(e.UID, "@klaxon.dev") {
					t.Errorf("event %s: sequence %d, UID %q", e.Summary, e.Sequence, e.UID)
				}
			}
			if strings.Join(got, "\n\n") != strings.Join(tc.want, "\n\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n\n"), strings.Join(tc.want, "\n\n"))
			}
			if len(f.Notes) != tc.notes {
				t.Errorf("notes = %q, want %d", f.Notes, tc.notes)
			}
		})
	}
}

// Past the feed's budget of handoffs, the schedules left are not walked,
// and a note says so.
func TestFeedBudget(t *testing.T) {
	daily := compile(t, &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{
		{Name: "days", Participants: []string{"alice", "bob"}, Start: "2027-01-04T09:00:00", Shift: metav1.Duration{Duration: 24 * time.Hour}},
	}})
	from := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
	b := NewBuilder("feed", from, from.AddDate(0, 0, 10))
	// What one schedule's walk costs, look-around included: the budget
	// pays for the first and half the second.
	_, _, cost := daily.PersonShifts(from.Add(-lookAround), from.AddDate(0, 0, 10).Add(lookAround), HandoffBudget)
	b.left = cost + cost/2
	for _, name := range []string{"first", "second", "third"} {
		b.Add(Schedule{Namespace: "ns", Name: name, Compiled: daily}, everyone, byUser)
	}
	f := b.Feed()
	var names []string
	for _, e := range f.Events {
		name, _, _ := strings.Cut(strings.TrimPrefix(e.Description, "Schedule: ns/"), "\n")
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	// The second is cut where the budget ran out.
	if want := []string{"first", "second"}; !slices.Equal(names, want) {
		t.Errorf("schedules shown: %v, want %v", names, want)
	}
	if len(f.Notes) != 2 || !strings.Contains(f.Notes[0], "ns/second changes hands too often") ||
		!strings.Contains(f.Notes[1], "schedule ns/third and those after it are not shown") {
		t.Errorf("notes: %q", f.Notes)
	}
}

// The shift an override makes has a UID of its own; the same shift worked
// out again has the same UID.
func TestUIDs(t *testing.T) {
	start := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	base := oncall.PersonShift{User: "alice", Start: start, Source: "layer/days"}
	same := uid("ns", "payments", base)
	for name, tc := range map[string]struct {
		ns, schedule string
		sh           oncall.PersonShift
		equal        bool
	}{
		"again":             {"ns", "payments", base, true},
		"ends elsewhere":    {"ns", "payments", oncall.PersonShift{User: "alice", Start: start, Source: "layer/days", End: start.Add(time.Hour)}, true},
		"an override":       {"ns", "payments", oncall.PersonShift{User: "alice", Start: start, Source: "override/swap"}, false},
		"another user":      {"ns", "payments", oncall.PersonShift{User: "bob", Start: start, Source: "layer/days"}, false},
		"another start":     {"ns", "payments", oncall.PersonShift{User: "alice", Start: start.Add(time.Hour), Source: "layer/days"}, false},
		"another schedule":  {"ns", "checkout", base, false},
		"another namespace": {"other", "payments", base, false},
	} {
		if got := uid(tc.ns, tc.schedule, tc.sh) == same; got != tc.equal {
			t.Errorf("%s: same UID = %v, want %v", name, got, tc.equal)
		}
	}
}

func TestRender(t *testing.T) {
	stamp := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
	f := Feed{Name: "On call, alice", Stamp: stamp, Notes: []string{"Cut; short."}, Events: []Event{{
		UID: "u@klaxon.dev", Start: stamp.Add(9 * time.Hour), End: stamp.Add(33 * time.Hour),
		Summary: "On call: payments", Description: "Schedule: ns/payments\nWith: bob, carol", Sequence: 2,
	}}}
	want := strings.Join([]string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//klaxon.dev//Klaxon//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
		`X-WR-CALNAME:On call\, alice`, `X-WR-CALDESC:Cut\; short.`,
		"REFRESH-INTERVAL;VALUE=DURATION:PT15M", "X-PUBLISHED-TTL:PT15M",
		"BEGIN:VEVENT", "UID:u@klaxon.dev", "DTSTAMP:20270104T000000Z", "DTSTART:20270104T090000Z", "DTEND:20270105T090000Z",
		"SUMMARY:On call: payments", `DESCRIPTION:Schedule: ns/payments\nWith: bob\, carol`, "SEQUENCE:2", "TRANSP:OPAQUE",
		"END:VEVENT", "END:VCALENDAR", "",
	}, "\r\n")
	if got := string(Render(f)); got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
}

// A weekly shift that began before the window keeps its start, and so its
// UID, as the window moves on day by day.
func TestShiftAcrossTheWindowStartKeepsItsUID(t *testing.T) {
	weekly := compile(t, &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{
		{Name: "weeks", Participants: []string{"alice", "bob"}, Start: "2027-01-04T09:00:00", Shift: metav1.Duration{Duration: 7 * 24 * time.Hour}},
	}})
	var uids []string
	for day := 12; day <= 14; day++ {
		// The window opens a week before today, on the 5th to the 7th:
		// inside alice's first week, which began on the 4th.
		from, to := Window(time.Date(2027, 1, day, 12, 0, 0, 0, time.UTC), 1)
		b := NewBuilder("feed", from, to)
		b.Add(Schedule{Namespace: "ns", Name: "s", Compiled: weekly}, func(sh oncall.PersonShift) bool { return sh.User == "alice" }, byUser)
		f := b.Feed()
		if len(f.Events) == 0 {
			t.Fatalf("day %d: no events", day)
		}
		first := f.Events[0]
		if want := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC); !first.Start.Equal(want) {
			t.Errorf("day %d: the shift in progress at the window's start starts at %v, want %v", day, first.Start, want)
		}
		uids = append(uids, first.UID)
	}
	if uids[0] != uids[1] || uids[1] != uids[2] {
		t.Errorf("the UID of one shift changed from day to day: %v", uids)
	}
}

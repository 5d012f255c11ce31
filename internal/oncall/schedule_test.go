package oncall

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// probe asks who is on call at an instant and when that next changes.
// Instants carry the local offset so that the hand computation shows.
type probe struct {
	at   string
	want []string
	next string // "" when nothing changes within Horizon
}

func TestSchedule(t *testing.T) {
	cases := map[string]struct {
		spec   *klaxonv1alpha1.OnCallScheduleSpec
		probes []probe
	}{
		"Europe/Berlin weekly shift keeps its 09:00 Monday handoff across spring forward (Sun 29 Mar 2026)": {
			spec: schedule("Europe/Berlin", rotation3("2026-03-23T09:00:00", 168*time.Hour)),
			probes: []probe{
				{at: "2026-03-23T08:59:59+01:00", want: nil, next: "2026-03-23T09:00:00+01:00"},
				{at: "2026-03-23T09:00:00+01:00", want: people("alice"), next: "2026-03-30T09:00:00+02:00"},
				{at: "2026-03-30T08:59:59+02:00", want: people("alice"), next: "2026-03-30T09:00:00+02:00"},
				{at: "2026-03-30T09:00:00+02:00", want: people("bob"), next: "2026-04-06T09:00:00+02:00"},
			},
		},
		"Europe/Berlin weekly shift keeps its 09:00 Monday handoff across fall back (Sun 25 Oct 2026)": {
			// 23 Mar to 26 Oct is 217 days: shift 31 begins, 31 mod 3 = 1.
			spec: schedule("Europe/Berlin", rotation3("2026-03-23T09:00:00", 168*time.Hour)),
			probes: []probe{
				{at: "2026-10-24T02:00:00+02:00", want: people("alice"), next: "2026-10-26T09:00:00+01:00"},
				{at: "2026-10-26T08:59:59+01:00", want: people("alice"), next: "2026-10-26T09:00:00+01:00"},
				{at: "2026-10-26T09:00:00+01:00", want: people("bob"), next: "2026-11-02T09:00:00+01:00"},
			},
		},
		"Europe/Berlin daily 02:30 handoff moves to 03:30 in the spring-forward gap": {
			spec: schedule("Europe/Berlin", layerSpec("daily", "2026-03-27T02:30:00", 24*time.Hour, "alice", "bob")),
			probes: []probe{
				{at: "2026-03-28T12:00:00+01:00", want: people("bob"), next: "2026-03-29T03:30:00+02:00"},
				{at: "2026-03-29T03:29:59+02:00", want: people("bob"), next: "2026-03-29T03:30:00+02:00"},
				{at: "2026-03-29T03:30:00+02:00", want: people("alice"), next: "2026-03-30T02:30:00+02:00"},
			},
		},
		"Europe/Berlin daily 02:30 handoff takes the first 02:30 at fall back": {
			// 27 Mar to 25 Oct is 212 days: shift 212 is alice's.
			spec: schedule("Europe/Berlin", layerSpec("daily", "2026-03-27T02:30:00", 24*time.Hour, "alice", "bob")),
			probes: []probe{
				{at: "2026-10-24T12:00:00+02:00", want: people("bob"), next: "2026-10-25T02:30:00+02:00"},
				{at: "2026-10-25T02:30:00+02:00", want: people("alice"), next: "2026-10-26T02:30:00+01:00"},
				{at: "2026-10-25T02:30:00+01:00", want: people("alice"), next: "2026-10-26T02:30:00+01:00"},
			},
		},
		"America/New_York 12h shifts are exact durations across spring forward (Sun 8 Mar 2026)": {
			spec: schedule("America/New_York", layerSpec("halves", "2026-03-07T08:00:00", 12*time.Hour, "alice", "bob")),
			probes: []probe{
				{at: "2026-03-07T08:00:00-05:00", want: people("alice"), next: "2026-03-07T20:00:00-05:00"},
				{at: "2026-03-08T00:00:00-05:00", want: people("bob"), next: "2026-03-08T09:00:00-04:00"},
				{at: "2026-03-08T08:59:59-04:00", want: people("bob"), next: "2026-03-08T09:00:00-04:00"},
				{at: "2026-03-08T09:00:00-04:00", want: people("alice"), next: "2026-03-08T21:00:00-04:00"},
			},
		},
		"America/New_York daily 08:00 handoff stays at 08:00 across fall back (Sun 1 Nov 2026)": {
			spec: schedule("America/New_York", rotation3("2026-10-30T08:00:00", 24*time.Hour)),
			probes: []probe{
				{at: "2026-10-31T08:00:00-04:00", want: people("bob"), next: "2026-11-01T08:00:00-05:00"},
				{at: "2026-11-01T07:30:00-05:00", want: people("bob"), next: "2026-11-01T08:00:00-05:00"},
				{at: "2026-11-01T08:00:00-05:00", want: people("carol"), next: "2026-11-02T08:00:00-05:00"},
			},
		},
		"America/New_York daily 01:30 handoff takes the first (EDT) 01:30 at fall back": {
			spec: schedule("America/New_York", layerSpec("daily", "2026-10-31T01:30:00", 24*time.Hour, "alice", "bob")),
			probes: []probe{
				{at: "2026-10-31T01:30:00-04:00", want: people("alice"), next: "2026-11-01T01:30:00-04:00"},
				{at: "2026-11-01T01:30:00-04:00", want: people("bob"), next: "2026-11-02T01:30:00-05:00"},
				{at: "2026-11-01T01:30:00-05:00", want: people("bob"), next: "2026-11-02T01:30:00-05:00"},
			},
		},
		"Australia/Sydney weekly Monday 09:00 handoff across DST end (Sun 5 Apr 2026)": {
			spec: schedule("Australia/Sydney", layerSpec("weekly", "2026-03-30T09:00:00", 168*time.Hour, "alice", "bob")),
			probes: []probe{
				{at: "2026-03-30T09:00:00+11:00", want: people("alice"), next: "2026-04-06T09:00:00+10:00"},
				{at: "2026-04-06T08:59:59+10:00", want: people("alice"), next: "2026-04-06T09:00:00+10:00"},
				{at: "2026-04-06T09:00:00+10:00", want: people("bob"), next: "2026-04-13T09:00:00+10:00"},
			},
		},
		"Australia/Sydney weekly Monday 09:00 handoff across DST start (Sun 4 Oct 2026)": {
			// 30 Mar to 5 Oct is 189 days: shift 27 begins, 27 mod 2 = 1.
			spec: schedule("Australia/Sydney", layerSpec("weekly", "2026-03-30T09:00:00", 168*time.Hour, "alice", "bob")),
			probes: []probe{
				{at: "2026-10-01T00:00:00+10:00", want: people("alice"), next: "2026-10-05T09:00:00+11:00"},
				{at: "2026-10-05T09:00:00+11:00", want: people("bob"), next: "2026-10-12T09:00:00+11:00"},
			},
		},
		"Australia/Sydney Saturday night window crossing midnight and DST end is nine hours": {
			spec: schedule("Australia/Sydney",
				layerSpec("days", "2026-01-01T00:00:00", 168*time.Hour, "alice"),
				restricted(layerSpec("nights", "2026-01-01T00:00:00", 168*time.Hour, "owl"), windowSpec("22:00", "06:00", "Sat")),
			),
			probes: []probe{
				{at: "2026-04-04T21:59:59+11:00", want: people("alice"), next: "2026-04-04T22:00:00+11:00"},
				{at: "2026-04-04T22:00:00+11:00", want: people("owl"), next: "2026-04-05T06:00:00+10:00"},
				{at: "2026-04-05T02:30:00+10:00", want: people("owl"), next: "2026-04-05T06:00:00+10:00"},
				{at: "2026-04-05T06:00:00+10:00", want: people("alice"), next: "2026-04-11T22:00:00+10:00"},
			},
		},
		"leap day 2028-02-29 is a shift of its own": {
			spec: schedule("Europe/Berlin", rotation3("2028-02-27T09:00:00", 24*time.Hour)),
			probes: []probe{
				{at: "2028-02-28T09:00:00+01:00", want: people("bob"), next: "2028-02-29T09:00:00+01:00"},
				{at: "2028-02-29T12:00:00+01:00", want: people("carol"), next: "2028-03-01T09:00:00+01:00"},
				{at: "2028-03-01T09:00:00+01:00", want: people("alice"), next: "2028-03-02T09:00:00+01:00"},
			},
		},
		"leap day 2028-02-29 as a two-day shift start and a Tuesday restriction": {
			spec: schedule("UTC",
				layerSpec("base", "2028-01-01T00:00:00", 168*time.Hour, "base"),
				restricted(layerSpec("twodays", "2028-02-29T09:00:00", 48*time.Hour, "alice", "bob"), windowSpec("09:00", "17:00", "Tue", "Thu")),
			),
			probes: []probe{
				{at: "2028-02-29T08:59:59Z", want: people("base"), next: "2028-02-29T09:00:00Z"},
				{at: "2028-02-29T09:00:00Z", want: people("alice"), next: "2028-02-29T17:00:00Z"},
				{at: "2028-03-01T12:00:00Z", want: people("base"), next: "2028-03-02T09:00:00Z"},
				{at: "2028-03-02T09:00:00Z", want: people("bob"), next: "2028-03-02T17:00:00Z"},
			},
		},
		"restriction crossing midnight belongs to the day it opens": {
			// Fri 6 and Sat 7 Nov 2026, CET.
			spec: schedule("Europe/Berlin",
				layerSpec("days", "2026-01-01T00:00:00", 168*time.Hour, "dave"),
				restricted(layerSpec("weekend-nights", "2026-01-01T00:00:00", 168*time.Hour, "erin"), windowSpec("22:00", "06:00", "Fri", "Sat")),
			),
			probes: []probe{
				{at: "2026-11-06T12:00:00+01:00", want: people("dave"), next: "2026-11-06T22:00:00+01:00"},
				{at: "2026-11-06T22:00:00+01:00", want: people("erin"), next: "2026-11-07T06:00:00+01:00"},
				{at: "2026-11-07T03:00:00+01:00", want: people("erin"), next: "2026-11-07T06:00:00+01:00"},
				{at: "2026-11-07T06:00:00+01:00", want: people("dave"), next: "2026-11-07T22:00:00+01:00"},
				{at: "2026-11-08T02:00:00+01:00", want: people("erin"), next: "2026-11-08T06:00:00+01:00"},
				// No window opens on Sunday night.
				{at: "2026-11-08T23:00:00+01:00", want: people("dave"), next: "2026-11-13T22:00:00+01:00"},
			},
		},
		"restriction crossing midnight on the fall-back night lasts nine hours": {
			spec: schedule("Europe/Berlin",
				layerSpec("days", "2026-01-01T00:00:00", 168*time.Hour, "dave"),
				restricted(layerSpec("nights", "2026-01-01T00:00:00", 168*time.Hour, "erin"), windowSpec("22:00", "06:00", "Sat")),
			),
			probes: []probe{
				{at: "2026-10-24T22:00:00+02:00", want: people("erin"), next: "2026-10-25T06:00:00+01:00"},
				{at: "2026-10-25T05:59:59+01:00", want: people("erin"), next: "2026-10-25T06:00:00+01:00"},
			},
		},
		"a window the spring-forward gap empties opens again a week later": {
			// Sun 29 Mar 2026 02:00-03:00 does not exist in Berlin.
			spec: schedule("Europe/Berlin",
				layerSpec("days", "2026-01-01T00:00:00", 168*time.Hour, "alice"),
				restricted(layerSpec("gap", "2026-01-01T00:00:00", 168*time.Hour, "bob"), windowSpec("02:00", "03:00", "Sun")),
			),
			probes: []probe{
				{at: "2026-03-28T12:00:00+01:00", want: people("alice"), next: "2026-04-05T02:00:00+02:00"},
				{at: "2026-03-29T03:00:00+02:00", want: people("alice"), next: "2026-04-05T02:00:00+02:00"},
				{at: "2026-04-05T02:00:00+02:00", want: people("bob"), next: "2026-04-05T03:00:00+02:00"},
			},
		},
		"restriction with from == to covers a whole day": {
			spec: schedule("UTC",
				restricted(layerSpec("wednesdays", "2026-01-01T00:00:00", 24*time.Hour, "alice"), windowSpec("09:00", "09:00", "Wed")),
			),
			probes: []probe{
				{at: "2026-11-25T08:59:59Z", want: nil, next: "2026-11-25T09:00:00Z"},
				{at: "2026-11-26T08:59:59Z", want: people("alice"), next: "2026-11-26T09:00:00Z"},
				{at: "2026-11-26T09:00:00Z", want: nil, next: "2026-12-02T09:00:00Z"},
			},
		},
		"restricted rotation keeps rotating outside its windows": {
			// Daily shifts from Mon 2 Nov 2026; only office hours are covered.
			spec: schedule("Europe/Berlin",
				restricted(rotation3("2026-11-02T00:00:00", 24*time.Hour), windowSpec("09:00", "18:00", "Mon", "Tue", "Wed", "Thu", "Fri")),
			),
			probes: []probe{
				{at: "2026-11-02T08:00:00+01:00", want: nil, next: "2026-11-02T09:00:00+01:00"},
				{at: "2026-11-02T09:00:00+01:00", want: people("alice"), next: "2026-11-02T18:00:00+01:00"},
				{at: "2026-11-03T09:00:00+01:00", want: people("bob"), next: "2026-11-03T18:00:00+01:00"},
				{at: "2026-11-06T17:59:59+01:00", want: people("bob"), next: "2026-11-06T18:00:00+01:00"},
				{at: "2026-11-06T18:00:00+01:00", want: nil, next: "2026-11-09T09:00:00+01:00"},
				// Mon 9 Nov is shift 7, bob's: the rotation went on over the weekend.
				{at: "2026-11-09T09:00:00+01:00", want: people("bob"), next: "2026-11-09T18:00:00+01:00"},
			},
		},
		"later layers win, earlier ones show through before a later start": {
			spec: schedule("UTC",
				layerSpec("primary", "2026-11-01T00:00:00", 168*time.Hour, "alice"),
				layerSpec("new", "2026-11-10T12:00:00", 168*time.Hour, "bob"),
			),
			probes: []probe{
				{at: "2026-10-31T23:59:59Z", want: nil, next: "2026-11-01T00:00:00Z"},
				{at: "2026-11-01T00:00:00Z", want: people("alice"), next: "2026-11-10T12:00:00Z"},
				{at: "2026-11-10T12:00:00Z", want: people("bob"), next: ""},
			},
		},
		"override starts and ends exactly at t": {
			spec: schedule("Europe/Berlin", []klaxonv1alpha1.ScheduleLayer{layerSpec("primary", "2026-01-01T00:00:00", 168*time.Hour, "alice")},
				cover("dave", "2026-11-24T18:00:00Z", "2026-11-25T09:00:00Z")),
			probes: []probe{
				{at: "2026-11-24T12:00:00Z", want: people("alice"), next: "2026-11-24T18:00:00Z"},
				{at: "2026-11-24T17:59:59.999999999Z", want: people("alice"), next: "2026-11-24T18:00:00Z"},
				{at: "2026-11-24T18:00:00Z", want: people("dave"), next: "2026-11-25T09:00:00Z"},
				{at: "2026-11-25T08:59:59.999999999Z", want: people("dave"), next: "2026-11-25T09:00:00Z"},
				{at: "2026-11-25T09:00:00Z", want: people("alice"), next: ""},
			},
		},
		"overlapping overrides are all on call; back-to-back ones hand off": {
			spec: schedule("UTC", []klaxonv1alpha1.ScheduleLayer{layerSpec("primary", "2026-01-01T00:00:00", 168*time.Hour, "alice")},
				cover("dave", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"),
				cover("erin", "2026-11-24T11:00:00Z", "2026-11-24T14:00:00Z"),
				cover("frank", "2026-11-24T14:00:00Z", "2026-11-24T15:00:00Z"),
			),
			probes: []probe{
				{at: "2026-11-24T10:30:00Z", want: people("dave"), next: "2026-11-24T11:00:00Z"},
				{at: "2026-11-24T11:00:00Z", want: people("dave", "erin"), next: "2026-11-24T12:00:00Z"},
				{at: "2026-11-24T12:00:00Z", want: people("erin"), next: "2026-11-24T14:00:00Z"},
				{at: "2026-11-24T14:00:00Z", want: people("frank"), next: "2026-11-24T15:00:00Z"},
				{at: "2026-11-24T15:00:00Z", want: people("alice"), next: ""},
			},
		},
		"override by the person already on call is no handoff": {
			spec: schedule("UTC", []klaxonv1alpha1.ScheduleLayer{rotation3("2026-11-23T09:00:00", 24*time.Hour)},
				cover("alice", "2026-11-23T12:00:00Z", "2026-11-24T12:00:00Z")),
			probes: []probe{
				{at: "2026-11-23T10:00:00Z", want: people("alice"), next: "2026-11-24T12:00:00Z"},
				{at: "2026-11-24T12:00:00Z", want: people("bob"), next: "2026-11-25T09:00:00Z"},
			},
		},
		"consecutive shifts of the same person are no handoff": {
			spec: schedule("UTC", layerSpec("twice", "2026-11-23T09:00:00", 24*time.Hour, "alice", "alice", "bob")),
			probes: []probe{
				{at: "2026-11-23T09:00:00Z", want: people("alice"), next: "2026-11-25T09:00:00Z"},
				{at: "2026-11-25T09:00:00Z", want: people("bob"), next: "2026-11-26T09:00:00Z"},
			},
		},
		"a start three centuries back still counts exact shifts": {
			// 1700-01-01 to 2026-01-01 is 119069 days: 238138 12h shifts, even.
			spec: schedule("UTC", layerSpec("ancient", "1700-01-01T00:00:00", 12*time.Hour, "alice", "bob")),
			probes: []probe{
				{at: "2026-01-01T06:00:00Z", want: people("alice"), next: "2026-01-01T12:00:00Z"},
				{at: "2026-01-01T12:00:00Z", want: people("bob"), next: "2026-01-02T00:00:00Z"},
			},
		},
		"an hourly rotation is not walked outside its window": {
			// Shifts from Mon 23 Nov 09:00: the window reopens on Mon 30 Nov
			// 09:00, 168 shifts (an even number, a's) later. The walk from
			// Tuesday takes one step, not one a shift (see budget_test.go).
			spec: schedule("UTC",
				layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "base"),
				restricted(layerSpec("flicker", "2026-11-23T09:00:00", time.Hour, "a", "b"), windowSpec("09:00", "11:00", "Mon")),
			),
			probes: []probe{
				{at: "2026-11-24T12:00:00Z", want: people("base"), next: "2026-11-30T09:00:00Z"},
				{at: "2026-11-30T09:00:00Z", want: people("a"), next: "2026-11-30T10:00:00Z"},
				{at: "2026-11-30T10:59:59Z", want: people("b"), next: "2026-11-30T11:00:00Z"},
			},
		},
		"a lone participant never hands off within the horizon": {
			spec: schedule("UTC", layerSpec("solo", "2026-01-01T00:00:00", 24*time.Hour, "alice")),
			probes: []probe{
				{at: "2026-11-24T00:00:00Z", want: people("alice"), next: ""},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := Compile(tc.spec)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			for _, p := range tc.probes {
				at := instantOf(t, p.at)
				if got := s.At(at); !slices.Equal(got, p.want) {
					t.Errorf("At(%s) = %q, want %q", p.at, got, p.want)
				}
				// Every walk here is short: it ends at the handoff or
				// the Horizon, not for want of budget.
				want, wantUntil := time.Time{}, at.Add(Horizon)
				if p.next != "" {
					want = instantOf(t, p.next)
					wantUntil = want
				}
				got, until := s.NextHandoff(at)
				if !got.Equal(want) {
					t.Errorf("NextHandoff(%s) = %s, want %s", p.at, got.In(s.Location()), want.In(s.Location()))
				}
				if !until.Equal(wantUntil) {
					t.Errorf("NextHandoff(%s) holds until %s, want %s", p.at, until.In(s.Location()), wantUntil.In(s.Location()))
				}
			}
		})
	}
}

func people(names ...string) []string { return names }

func instantOf(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad instant %q: %v", s, err)
	}
	return at
}

// schedule builds a spec from layers given one by one, or from a slice of
// layers followed by overrides.
func schedule(tz string, parts ...any) *klaxonv1alpha1.OnCallScheduleSpec {
	spec := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: tz}
	for _, p := range parts {
		switch v := p.(type) {
		case klaxonv1alpha1.ScheduleLayer:
			spec.Layers = append(spec.Layers, v)
		case []klaxonv1alpha1.ScheduleLayer:
			spec.Layers = append(spec.Layers, v...)
		case klaxonv1alpha1.ScheduleOverride:
			spec.Overrides = append(spec.Overrides, v)
		default:
			panic("schedule: unexpected part")
		}
	}
	return spec
}

func layerSpec(name, start string, shift time.Duration, participants ...string) klaxonv1alpha1.ScheduleLayer {
	return klaxonv1alpha1.ScheduleLayer{
		Name:         name,
		Participants: participants,
		Start:        start,
		Shift:        metav1.Duration{Duration: shift},
	}
}

// rotation3 is the usual alice, bob, carol rotation.
func rotation3(start string, shift time.Duration) klaxonv1alpha1.ScheduleLayer {
	return layerSpec("primary", start, shift, "alice", "bob", "carol")
}

func restricted(l klaxonv1alpha1.ScheduleLayer, windows ...klaxonv1alpha1.TimeRestriction) klaxonv1alpha1.ScheduleLayer {
	l.Restrictions = windows
	return l
}

func windowSpec(from, to string, days ...klaxonv1alpha1.Weekday) klaxonv1alpha1.TimeRestriction {
	return klaxonv1alpha1.TimeRestriction{Days: days, From: from, To: to}
}

func cover(user, start, end string) klaxonv1alpha1.ScheduleOverride {
	s, err := time.Parse(time.RFC3339, start)
	if err != nil {
		panic(err)
	}
	e, err := time.Parse(time.RFC3339, end)
	if err != nil {
		panic(err)
	}
	return klaxonv1alpha1.ScheduleOverride{User: user, Start: metav1.NewTime(s), End: metav1.NewTime(e)}
}

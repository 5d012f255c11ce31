package oncall

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// FuzzScheduleAnswers builds a schedule of one to three layers from fuzz
// bytes (participants, start, shift, restrictions, overrides) in one of a
// few time zones, some with odd DST rules, some unknown, and asks it who is
// on call from an instant in 2020-2039 and when that changes. Nothing
// panics, and:
//   - Compile refuses exactly the specs with a field the API forbids, with
//     an *InvalidSpecError that tells an unknown time zone apart;
//   - At answers the same for the same instant, however it is written and
//     however often the spec is compiled;
//   - while overrides are active, At is their users in spec order; else it
//     is nobody or one person, someone whenever a started layer's
//     restrictions (read as a Recurrence) cover the instant, and that person
//     a participant of a layer at or above it that may cover the instant;
//   - a Recurrence's Scan agrees with Covers, and Covers holds still until
//     the edge Scan reports;
//   - NextHandoff is the step-bounded walk, stops after the instant and
//     within the Horizon, At holds still until then, and a reported handoff
//     changes At; asked again from before it, it finds the same handoff
//     or stops short of it.
func FuzzScheduleAnswers(f *testing.F) {
	for _, s := range scheduleSeeds() {
		f.Add(s.zone, s.from, s.spec.encode())
	}
	f.Fuzz(func(t *testing.T, zone uint8, from int64, data []byte) {
		in := decodeFuzzSpec(data)
		at := fuzzEpoch.Add(time.Duration(uint64(from) % uint64(fuzzSpan)))
		spec, valid := in.build(fuzzZones[int(zone)%len(fuzzZones)], at)

		s, err := Compile(spec)
		if !valid {
			checkRefused(t, spec, s, err)
			return
		}
		if err != nil {
			t.Fatalf("Compile(%+v): %v, want a schedule", spec, err)
		}
		again, err := Compile(spec)
		if err != nil {
			t.Fatalf("second Compile: %v", err)
		}
		c := &fuzzCheck{t: t, spec: spec, s: s, again: again, elsewhere: time.FixedZone("elsewhere", -7*3600)}
		for i := range spec.Layers {
			l := &spec.Layers[i]
			rec, err := CompileRecurrence("spec.layers["+strconv.Itoa(i)+"].restrictions", spec.TimeZone, l.Restrictions...)
			if err != nil {
				t.Fatalf("CompileRecurrence of layer %d's restrictions: %v", i, err)
			}
			wall, _ := time.Parse(StartLayout, l.Start)
			c.layers = append(c.layers, fuzzLayerCheck{layer: l, rec: rec, wall: wall})
		}
		c.walk(at)
	})
}

// Time zones of the fuzz specs: DST in either hemisphere, a half-hour DST
// (Lord Howe), a DST change at midnight (Santiago), a half-hour offset
// without DST (Kolkata), UTC, then names Compile must refuse.
var fuzzZones = []string{
	"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Australia/Sydney",
	"America/Santiago", "Asia/Kolkata", "UTC",
	"Mars/Olympus_Mons", "Local", "",
}

const fuzzKnownZones = 7

// fuzzShifts are the shift lengths: whole days, exact durations (one with
// a fraction of a second), then ones Compile must refuse.
var fuzzShifts = []time.Duration{
	24 * time.Hour, 168 * time.Hour, 12 * time.Hour, 8 * time.Hour, time.Hour, 75 * time.Minute,
	90 * time.Minute, 36 * time.Hour, 48 * time.Hour, 72 * time.Hour, 336 * time.Hour, 25 * time.Hour,
	7*time.Hour + 13*time.Minute + 7*time.Second, time.Hour + 500*time.Millisecond,
	59 * time.Minute, 0, -24 * time.Hour,
}

// fuzzPool are the people; the empty name is refused.
var fuzzPool = []string{"alice", "bob", "carol", "dave", ""}

// Instants are drawn from the twenty years after fuzzEpoch. Layer starts
// lie between 1900 and 2149, so that no instant is 290 years from a start:
// shifts with a fraction of a second are exact only within that span.
var fuzzEpoch = time.Date(2020, time.January, 1, 0, 0, 0, 0, time.UTC)

const (
	fuzzSpan      = 20 * 365 * 24 * time.Hour
	fuzzFirstYear = 1900
	fuzzYears     = 250
	// fuzzYearBase makes a zero year field 2026.
	fuzzYearBase = 2026 - fuzzFirstYear
)

// fuzzSpec is what the fuzz bytes describe, in the terms of their choices.
type fuzzSpec struct {
	layers    []fuzzLayer
	overrides []fuzzOverride
}

type fuzzLayer struct {
	// name: 0 its own, 1 empty, 2 the first layer's.
	name         int
	participants []int // indexes into fuzzPool; none is refused
	// year 1900-2149, month 1-13, day 1-31, hour 0-24, minute, second.
	start [6]int
	shift int // index into fuzzShifts
	// windows are the restrictions.
	windows []fuzzWindow
}

type fuzzWindow struct {
	// days: bit i is propertyDays[i]; bit 7 adds a day that does not exist.
	days byte
	// from and to are quarter hours since midnight, 0-96; 96 writes 24:00.
	from, to int
}

type fuzzOverride struct {
	user   int // index into fuzzPool
	start  int // half hours from the instant asked about, -128 to 127
	length int // quarter hours, -32 to 223; none or fewer is refused
}

// fuzzBytes reads the fuzz input a byte at a time, zeros once it runs out.
type fuzzBytes []byte

func (b *fuzzBytes) next(n int) int {
	if len(*b) == 0 {
		return 0
	}
	v := (*b)[0]
	*b = (*b)[1:]
	return int(v) % n
}

// decodeFuzzSpec reads a spec of one to three layers of up to four
// participants and two restrictions, and up to two overrides.
func decodeFuzzSpec(data []byte) fuzzSpec {
	b := fuzzBytes(data)
	var in fuzzSpec
	for range 1 + b.next(3) {
		var l fuzzLayer
		l.name = b.next(3)
		for range b.next(5) {
			l.participants = append(l.participants, b.next(len(fuzzPool)))
		}
		year := b.next(256)<<8 | b.next(256)
		l.start = [6]int{fuzzFirstYear + (year+fuzzYearBase)%fuzzYears, 1 + b.next(13), 1 + b.next(31), b.next(25), b.next(60), b.next(60)}
		l.shift = b.next(len(fuzzShifts))
		for range b.next(3) {
			l.windows = append(l.windows, fuzzWindow{days: byte(b.next(256)), from: b.next(97), to: b.next(97)})
		}
		in.layers = append(in.layers, l)
	}
	for range b.next(3) {
		in.overrides = append(in.overrides, fuzzOverride{user: b.next(len(fuzzPool)), start: int(int8(b.next(256))), length: b.next(256) - 32})
	}
	return in
}

// encode is decodeFuzzSpec's inverse, for seeds.
func (in fuzzSpec) encode() []byte {
	var b []byte
	b = append(b, byte(len(in.layers)-1))
	for _, l := range in.layers {
		b = append(b, byte(l.name), byte(len(l.participants)))
		for _, p := range l.participants {
			b = append(b, byte(p))
		}
		year := (l.start[0] - fuzzFirstYear - fuzzYearBase + fuzzYears) % fuzzYears
		b = append(b, byte(year>>8), byte(year), byte(l.start[1]-1), byte(l.start[2]-1),
			byte(l.start[3]), byte(l.start[4]), byte(l.start[5]), byte(l.shift), byte(len(l.windows)))
		for _, w := range l.windows {
			b = append(b, w.days, byte(w.from), byte(w.to))
		}
	}
	b = append(b, byte(len(in.overrides)))
	for _, o := range in.overrides {
		b = append(b, byte(o.user), byte(int8(o.start)), byte(o.length+32))
	}
	return b
}

// build writes the spec out, its overrides placed around at, and tells
// whether the API would admit it.
func (in fuzzSpec) build(zone string, at time.Time) (*klaxonv1alpha1.OnCallScheduleSpec, bool) {
	spec := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: zone}
	valid := slices.Index(fuzzZones, zone) < fuzzKnownZones
	names := map[string]bool{}
	for i, fl := range in.layers {
		l := klaxonv1alpha1.ScheduleLayer{Name: "layer-" + strconv.Itoa(i)}
		switch fl.name {
		case 1:
			l.Name = ""
		case 2:
			if i > 0 {
				l.Name = spec.Layers[0].Name
			}
		}
		valid = valid && l.Name != "" && !names[l.Name]
		names[l.Name] = true

		valid = valid && len(fl.participants) > 0
		for _, p := range fl.participants {
			l.Participants = append(l.Participants, fuzzPool[p])
			valid = valid && fuzzPool[p] != ""
		}

		y, mo, d, h, mi, s := fl.start[0], fl.start[1], fl.start[2], fl.start[3], fl.start[4], fl.start[5]
		l.Start = fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s)
		// time.Date carries a day past the month's end into the next.
		valid = valid && mo <= 12 && h < 24 && time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Day() == d

		l.Shift = metav1.Duration{Duration: fuzzShifts[fl.shift]}
		valid = valid && l.Shift.Duration >= MinShift

		for _, w := range fl.windows {
			r := klaxonv1alpha1.TimeRestriction{From: quarterClock(w.from), To: quarterClock(w.to)}
			for j, day := range propertyDays {
				if w.days&(1<<j) != 0 {
					r.Days = append(r.Days, day)
				}
			}
			if w.days&(1<<7) != 0 {
				r.Days = append(r.Days, "Funday")
			}
			valid = valid && w.days != 0 && w.days&(1<<7) == 0 && w.from < 96 && w.to < 96
			l.Restrictions = append(l.Restrictions, r)
		}
		spec.Layers = append(spec.Layers, l)
	}
	for _, fo := range in.overrides {
		start := at.Truncate(time.Minute).Add(time.Duration(fo.start) * 30 * time.Minute)
		end := start.Add(time.Duration(fo.length) * 15 * time.Minute)
		spec.Overrides = append(spec.Overrides, klaxonv1alpha1.ScheduleOverride{
			User: fuzzPool[fo.user], Start: metav1.NewTime(start), End: metav1.NewTime(end),
		})
		valid = valid && fuzzPool[fo.user] != "" && fo.length > 0
	}
	return spec, valid
}

// quarterClock writes quarter hours since midnight as HH:MM.
func quarterClock(q int) string {
	return fmt.Sprintf("%02d:%02d", q*15/60, q*15%60)
}

// checkRefused fails unless Compile refused an invalid spec as promised.
func checkRefused(t *testing.T, spec *klaxonv1alpha1.OnCallScheduleSpec, s *Schedule, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("Compile(%+v) succeeded, want an error", spec)
	}
	if s != nil {
		t.Fatalf("Compile returned a schedule along with %v", err)
	}
	var invalid *InvalidSpecError
	if !errors.As(err, &invalid) || len(invalid.Fields) == 0 {
		t.Fatalf("error %T names no field: %v", err, err)
	}
	unknownZone := slices.Index(fuzzZones, spec.TimeZone) >= fuzzKnownZones
	if errors.Is(err, ErrUnknownTimeZone) != unknownZone {
		t.Fatalf("errors.Is(%v, ErrUnknownTimeZone) = %v, want %v", err, !unknownZone, unknownZone)
	}
	for _, fe := range invalid.Fields {
		if !errors.Is(fe, ErrUnknownTimeZone) && !errors.Is(fe, ErrInvalidField) {
			t.Fatalf("field error %v is of neither class", fe)
		}
	}
}

// fuzzCheck asks a compiled fuzz schedule questions and checks the answers.
type fuzzCheck struct {
	t         *testing.T
	spec      *klaxonv1alpha1.OnCallScheduleSpec
	s, again  *Schedule
	layers    []fuzzLayerCheck
	elsewhere *time.Location
}

type fuzzLayerCheck struct {
	layer *klaxonv1alpha1.ScheduleLayer
	rec   *Recurrence
	// wall is the layer start read as if in UTC: the start is within a day
	// of it, whatever the zone's offset.
	wall time.Time
}

func (l *fuzzLayerCheck) surelyStarted(x time.Time) bool { return !x.Before(l.wall.Add(day)) }
func (l *fuzzLayerCheck) surelyNotYet(x time.Time) bool  { return x.Before(l.wall.Add(-day)) }

// walkSteps is how many handoffs a fuzz run follows.
const walkSteps = 3

// walk follows the handoffs from x, checking At along the way.
func (c *fuzzCheck) walk(x time.Time) {
	t := c.t
	cur := c.at(x)
	prev := x
	for step := range walkSteps {
		h, until, steps := c.s.walk(prev, stepBudget)
		if steps > max(stepBudget, len(c.layers)) {
			t.Fatalf("walk(%s) took %d steps, over the budget of %d", prev, steps, stepBudget)
		}
		if step == 0 {
			if nh, nu := c.s.NextHandoff(prev); !nh.Equal(h) || !nu.Equal(until) {
				t.Fatalf("NextHandoff(%s) = %s until %s, but the walk gives %s until %s", prev, nh, nu, h, until)
			}
		}
		if !until.After(prev) || until.After(prev.Add(Horizon)) {
			t.Fatalf("%+v: NextHandoff(%s) holds until %s, not after it and within the Horizon", c.spec, prev, until)
		}
		for _, y := range between(prev, until) {
			if got := c.at(y); !slices.Equal(got, cur) {
				t.Fatalf("%+v: At(%s) = %q, want %q as at %s: it changed before %s (handoff %s)", c.spec, y, got, cur, prev, until, h)
			}
		}
		if h.IsZero() {
			return
		}
		if !until.Equal(h) {
			t.Fatalf("NextHandoff(%s) = %s until %s, want until the handoff", prev, h, until)
		}
		next := c.at(h)
		if slices.Equal(next, cur) {
			t.Fatalf("%+v: At(%s) = %q does not change at the reported handoff", c.spec, h, next)
		}
		if step == 0 {
			// From before the handoff the walk finds it again, unless its
			// budget runs out first.
			mid := prev.Add(h.Sub(prev) / 2)
			if mh, mu := c.s.NextHandoff(mid); !mh.Equal(h) && (!mh.IsZero() || !mu.After(mid) || mu.After(h)) {
				t.Fatalf("%+v: NextHandoff(%s) = %s until %s, want %s as from %s", c.spec, mid, mh, mu, h, prev)
			}
		}
		prev, cur = h, next
	}
}

// between returns instants in (a, b): fractions of the way and the last
// nanosecond.
func between(a, b time.Time) []time.Time {
	d := b.Sub(a)
	out := make([]time.Time, 0, 8)
	for _, k := range []time.Duration{1, 2, 3, 5, 7} {
		if y := a.Add(d / 8 * k); y.After(a) {
			out = append(out, y)
		}
	}
	return append(out, b.Add(-time.Nanosecond))
}

// at is Schedule.At at x, checked against what the spec says of x.
func (c *fuzzCheck) at(x time.Time) []string {
	t := c.t
	got := c.s.At(x)
	if !slices.Equal(c.s.At(x.In(c.elsewhere)), got) || !slices.Equal(c.again.At(x), got) {
		t.Fatalf("%+v: At(%s) = %q is not the same written in another zone or compiled again", c.spec, x, got)
	}

	var overriding []string
	for _, o := range c.spec.Overrides {
		if !x.Before(o.Start.Time) && x.Before(o.End.Time) && !slices.Contains(overriding, o.User) {
			overriding = append(overriding, o.User)
		}
	}
	if len(overriding) > 0 {
		if !slices.Equal(got, overriding) {
			t.Fatalf("%+v: At(%s) = %q, want the overrides' %q", c.spec, x, got, overriding)
		}
		return got
	}
	if len(got) > 1 {
		t.Fatalf("%+v: At(%s) = %q, more than one person without an override", c.spec, x, got)
	}

	top := -1 // the last layer that surely has someone at x
	for k := range c.layers {
		l := &c.layers[k]
		c.checkScan(l, x)
		if l.surelyStarted(x) && l.rec.Covers(x) {
			top = k
		}
	}
	if len(got) == 0 {
		if top >= 0 {
			t.Fatalf("%+v: At(%s) is nobody, though layer %d has started and covers it", c.spec, x, top)
		}
		return got
	}
	for k := max(top, 0); k < len(c.layers); k++ {
		l := &c.layers[k]
		if !l.surelyNotYet(x) && l.rec.Covers(x) && slices.Contains(l.layer.Participants, got[0]) {
			return got
		}
	}
	t.Fatalf("%+v: At(%s) = %q, a participant of no layer from %d on that may cover it", c.spec, x, got, top)
	return nil
}

// checkScan checks a layer's restrictions at x: Scan agrees with Covers,
// which holds still until the edge Scan reports.
func (c *fuzzCheck) checkScan(l *fuzzLayerCheck, x time.Time) {
	t := c.t
	covered, next := l.rec.Scan(x)
	if covered != l.rec.Covers(x) {
		t.Fatalf("%+v: Scan(%s) says covered %v, Covers %v", l.layer.Restrictions, x, covered, !covered)
	}
	if len(l.layer.Restrictions) == 0 {
		if !covered || !next.IsZero() {
			t.Fatalf("no restrictions: Scan(%s) = %v, %s; want covered and no edge", x, covered, next)
		}
		return
	}
	if !next.After(x) {
		t.Fatalf("%+v: Scan(%s) reports edge %s, not after it", l.layer.Restrictions, x, next)
	}
	for _, y := range between(x, next) {
		if l.rec.Covers(y) != covered {
			t.Fatalf("%+v in %s: Covers(%s) = %v, but Scan(%s) = %v until %s", l.layer.Restrictions, c.spec.TimeZone, y, !covered, x, covered, next)
		}
	}
}

// scheduleSeed is a seed of FuzzScheduleAnswers in readable form.
type scheduleSeed struct {
	zone uint8
	from int64
	spec fuzzSpec
}

// seedFrom is a fuzz instant in readable form.
func seedFrom(rfc3339 string) int64 {
	at, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		panic(err)
	}
	return int64(at.Sub(fuzzEpoch))
}

func zoneIndex(name string) uint8 { return uint8(slices.Index(fuzzZones, name)) }

// Indexes of fuzzShifts and fuzzPool, and fuzzWindow days, for seeds.
const (
	shiftDay, shiftWeek, shift12h, shift8h, shiftHour, shift75m = 0, 1, 2, 3, 4, 5
	shiftFraction, shift59m                                     = 13, 14
	alice, bob, carol, dave, nobody                             = 0, 1, 2, 3, 4
	weekdaysMask, everyDay, sunday, saturday                    = 0b0011111, 0b1111111, 1 << 6, 1 << 5
)

func scheduleSeeds() []scheduleSeed {
	return []scheduleSeed{
		// A daily 02:30 handoff moves to 03:30 in Berlin's spring-forward gap.
		{zoneIndex("Europe/Berlin"), seedFrom("2026-03-28T11:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice, bob}, start: [6]int{2026, 3, 27, 2, 30, 0}, shift: shiftDay},
		}}},
		// 12h exact shifts under office hours across New York's spring forward.
		{zoneIndex("America/New_York"), seedFrom("2026-03-06T18:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice, bob}, start: [6]int{2026, 3, 7, 8, 0, 0}, shift: shift12h},
			{participants: []int{carol, dave, alice}, start: [6]int{2026, 3, 2, 9, 0, 0}, shift: shiftWeek,
				windows: []fuzzWindow{{days: weekdaysMask, from: 36, to: 68}}},
		}}},
		// Lord Howe's half-hour DST: a window inside the gap and one across it.
		{zoneIndex("Australia/Lord_Howe"), seedFrom("2026-10-03T08:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shiftWeek},
			{participants: []int{bob, carol}, start: [6]int{2026, 9, 28, 2, 15, 0}, shift: shiftHour,
				windows: []fuzzWindow{{days: sunday, from: 8, to: 10}, {days: saturday | sunday, from: 88, to: 24}}},
		}}},
		// Overlapping overrides over three layers at Sydney's DST end.
		{zoneIndex("Australia/Sydney"), seedFrom("2026-04-04T09:00:00Z"), fuzzSpec{
			layers: []fuzzLayer{
				{participants: []int{alice, bob, carol}, start: [6]int{2026, 3, 30, 9, 0, 0}, shift: shiftWeek},
				{participants: []int{dave}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shiftWeek, windows: []fuzzWindow{{days: saturday, from: 88, to: 24}}},
				{participants: []int{bob, bob, alice}, start: [6]int{2026, 4, 1, 0, 0, 0}, shift: shift8h,
					windows: []fuzzWindow{{days: everyDay, from: 0, to: 0}}},
			},
			overrides: []fuzzOverride{{user: carol, start: 2, length: 8}, {user: dave, start: 4, length: 12}},
		}},
		// Santiago changes DST at midnight; a whole-day window from midnight.
		{zoneIndex("America/Santiago"), seedFrom("2026-04-03T12:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice, bob}, start: [6]int{2026, 1, 3, 0, 0, 0}, shift: shiftDay,
				windows: []fuzzWindow{{days: saturday | sunday, from: 0, to: 0}}},
		}}},
		// A lone participant on hourly shifts never hands off: the walk
		// reaches the Horizon or its budget.
		{zoneIndex("UTC"), seedFrom("2027-06-01T00:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{dave, dave}, start: [6]int{2027, 1, 1, 0, 0, 0}, shift: shiftHour},
			{participants: []int{dave}, start: [6]int{2027, 1, 1, 0, 0, 0}, shift: shift75m,
				windows: []fuzzWindow{{days: everyDay, from: 4, to: 5}, {days: everyDay, from: 50, to: 51}}},
		}}},
		// Shifts with a fraction of a second from 1900, in Kolkata.
		{zoneIndex("Asia/Kolkata"), seedFrom("2031-01-01T00:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice, bob, carol}, start: [6]int{1900, 1, 1, 0, 0, 0}, shift: shiftFraction},
		}}},
		// Refused: an unknown zone.
		{zoneIndex("Mars/Olympus_Mons"), seedFrom("2026-01-01T00:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shiftDay},
		}}},
		// Refused: 30 February, a 24:00 window, a 59-minute shift, no user.
		{zoneIndex("Europe/Berlin"), seedFrom("2026-01-01T00:00:00Z"), fuzzSpec{
			layers: []fuzzLayer{
				{participants: []int{alice}, start: [6]int{2026, 2, 30, 9, 0, 0}, shift: shiftDay},
				{participants: []int{bob, nobody}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shift59m,
					windows: []fuzzWindow{{days: everyDay, from: 36, to: 96}}},
			},
			overrides: []fuzzOverride{{user: nobody, start: 0, length: 0}},
		}},
	}
}

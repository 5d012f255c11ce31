package oncall

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// FuzzScheduleAnswers builds a schedule of one to three layers from fuzz
// bytes (participants or groups, start, end, shift, restrictions of either
// form, Replace or Add, the spec's overrides and OnCallOverrides) in one of
// a few time zones, some with odd DST rules, some unknown, and asks it who
// is on call from an instant in 2020-2039 and when that changes. Nothing
// panics, and:
//   - Compile refuses exactly the specs with a field the API forbids, with
//     an *InvalidSpecError that tells an unknown time zone apart;
//   - At answers the same for the same instant, however it is written and
//     however often the spec is compiled;
//   - each layer alone has nobody or one of its turns, someone whenever it
//     has surely started, not surely ended and its restrictions (read as a
//     Recurrence) cover the instant, and nobody when it surely has not
//     started, surely ended or is not covered;
//   - At is the spec's active overrides' users, or else the layers'
//     answers joined from the top (Add layers join, the first Replace
//     layer with someone hides the rest), then changed by the active
//     OnCallOverrides in the order of their start and name;
//   - a Recurrence's Scan agrees with Covers, and Covers holds still until
//     the edge Scan reports;
//   - NextHandoff is the step-bounded walk, stops after the instant and
//     within the Horizon (so groups, ends, windows across days and
//     overrides never make it loop for ever), At holds still until then,
//     and a reported handoff changes At; asked again from before it, it
//     finds the same handoff or stops short of it.
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
		newFuzzCheck(t, spec, in.onCallOverrides(at)).walk(at)
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
	// flags: fuzzAdd combines with Add, fuzzGroups makes a group of each
	// participant slot (groups holds their members), fuzzEnd sets end.
	flags int
	// groups are member masks, one a participant slot: bit i is
	// fuzzPool[i]; fuzzCrowd makes a group of 51, which is refused.
	groups []int
	// end is in steps of seven hours after start; none or fewer is refused.
	end int
}

const (
	fuzzAdd, fuzzGroups, fuzzEnd = 1, 2, 4
	fuzzCrowd                    = 1 << 5
)

type fuzzWindow struct {
	// days: bit i is propertyDays[i]; bit 7 adds a day that does not exist.
	days byte
	// from and to are quarter hours since midnight, 0-96; 96 writes 24:00.
	from, to int
	// span 1-49 makes a window across days from propertyDays[(span-1)%7]
	// to propertyDays[(span-1)/7] (days is then not written); other values
	// the same-day form.
	span int
}

type fuzzOverride struct {
	user   int // index into fuzzPool
	start  int // half hours from the instant asked about, -128 to 127
	length int // quarter hours, -32 to 223; none or fewer is refused
	// kind: 0 a spec override; an OnCallOverride that adds user (1),
	// replaces user by with (2) or removes user (3).
	kind int
	with int // index into fuzzPool
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
// participants and two restrictions, and up to four overrides.
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
	for range b.next(5) {
		in.overrides = append(in.overrides, fuzzOverride{user: b.next(len(fuzzPool)), start: int(int8(b.next(256))), length: b.next(256) - 32})
	}
	// What the first fuzz inputs could not say follows, so that they still
	// read as they did: groups, ends, Add, windows across days, kinds of
	// overrides.
	for i := range in.layers {
		l := &in.layers[i]
		l.flags = b.next(8)
		if l.flags&fuzzGroups != 0 {
			for range l.participants {
				l.groups = append(l.groups, b.next(64))
			}
		}
		if l.flags&fuzzEnd != 0 {
			l.end = int(int8(b.next(256)))
		}
		for j := range l.windows {
			l.windows[j].span = b.next(64)
		}
	}
	for i := range in.overrides {
		in.overrides[i].kind = b.next(4)
		in.overrides[i].with = b.next(len(fuzzPool))
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
	for _, l := range in.layers {
		b = append(b, byte(l.flags))
		if l.flags&fuzzGroups != 0 {
			for k := range l.participants {
				b = append(b, byte(l.groups[k]))
			}
		}
		if l.flags&fuzzEnd != 0 {
			b = append(b, byte(int8(l.end)))
		}
		for _, w := range l.windows {
			b = append(b, byte(w.span))
		}
	}
	for _, o := range in.overrides {
		b = append(b, byte(o.kind), byte(o.with))
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
		if fl.flags&fuzzGroups != 0 {
			for _, mask := range fl.groups {
				g := klaxonv1alpha1.ScheduleGroup{}
				for k, p := range fuzzPool {
					if mask&(1<<k) != 0 {
						g.Members = append(g.Members, p)
						valid = valid && p != ""
					}
				}
				if mask&fuzzCrowd != 0 {
					for k := range MaxGroupMembers + 1 {
						g.Members = append(g.Members, "crowd-"+strconv.Itoa(k))
					}
					valid = false
				}
				valid = valid && len(g.Members) > 0
				l.Groups = append(l.Groups, g)
			}
		} else {
			for _, p := range fl.participants {
				l.Participants = append(l.Participants, fuzzPool[p])
				valid = valid && fuzzPool[p] != ""
			}
		}
		if fl.flags&fuzzAdd != 0 {
			l.Combine = klaxonv1alpha1.CombineAdd
		}

		y, mo, d, h, mi, s := fl.start[0], fl.start[1], fl.start[2], fl.start[3], fl.start[4], fl.start[5]
		l.Start = fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s)
		// time.Date carries a day past the month's end into the next.
		valid = valid && mo <= 12 && h < 24 && time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Day() == d
		if fl.flags&fuzzEnd != 0 {
			end := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC).Add(time.Duration(fl.end) * 7 * time.Hour)
			l.End = end.Format(StartLayout)
			valid = valid && fl.end > 0
		}

		l.Shift = metav1.Duration{Duration: fuzzShifts[fl.shift]}
		valid = valid && l.Shift.Duration >= MinShift

		for _, w := range fl.windows {
			r := klaxonv1alpha1.TimeRestriction{From: quarterClock(w.from), To: quarterClock(w.to)}
			valid = valid && w.from < 96 && w.to < 96
			if w.span >= 1 && w.span <= 49 {
				r.FromDay, r.ToDay = propertyDays[(w.span-1)%7], propertyDays[(w.span-1)/7]
				valid = valid && (r.FromDay != r.ToDay || w.from != w.to)
				l.Restrictions = append(l.Restrictions, r)
				continue
			}
			for j, day := range propertyDays {
				if w.days&(1<<j) != 0 {
					r.Days = append(r.Days, day)
				}
			}
			if w.days&(1<<7) != 0 {
				r.Days = append(r.Days, "Funday")
			}
			valid = valid && w.days != 0 && w.days&(1<<7) == 0
			l.Restrictions = append(l.Restrictions, r)
		}
		spec.Layers = append(spec.Layers, l)
	}
	for _, fo := range in.overrides {
		if fo.kind != 0 {
			continue
		}
		start, end := fo.interval(at)
		spec.Overrides = append(spec.Overrides, klaxonv1alpha1.ScheduleOverride{
			User: fuzzPool[fo.user], Start: metav1.NewTime(start), End: metav1.NewTime(end),
		})
		valid = valid && fuzzPool[fo.user] != "" && fo.length > 0
	}
	return spec, valid
}

// interval places the override around at.
func (fo fuzzOverride) interval(at time.Time) (start, end time.Time) {
	start = at.Truncate(time.Minute).Add(time.Duration(fo.start) * 30 * time.Minute)
	return start, start.Add(time.Duration(fo.length) * 15 * time.Minute)
}

// onCallOverrides writes out the OnCallOverrides of the schedule
// "primary", placed around at. Those the API would refuse are written
// too: WithOverrides must leave them out.
func (in fuzzSpec) onCallOverrides(at time.Time) []klaxonv1alpha1.OnCallOverride {
	var out []klaxonv1alpha1.OnCallOverride
	for i, fo := range in.overrides {
		if fo.kind == 0 {
			continue
		}
		o := klaxonv1alpha1.OnCallOverride{}
		// Names sort apart from the order written, so that ties are
		// broken by name and not by position.
		o.Name = "o-" + strconv.Itoa(9-i)
		o.Spec.ScheduleRef.Name = "primary"
		start, end := fo.interval(at)
		o.Spec.Start, o.Spec.End = metav1.NewTime(start), metav1.NewTime(end)
		switch fo.kind {
		case 1:
			o.Spec.Add = []string{fuzzPool[fo.user]}
		case 2:
			o.Spec.Replace = &klaxonv1alpha1.OverrideReplacement{User: fuzzPool[fo.user], With: fuzzPool[fo.with]}
		default:
			o.Spec.Remove = []string{fuzzPool[fo.user]}
		}
		out = append(out, o)
	}
	return out
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

// newFuzzCheck compiles a valid spec, with the OnCallOverrides of the
// schedule "primary", to check its answers.
func newFuzzCheck(t *testing.T, spec *klaxonv1alpha1.OnCallScheduleSpec, overrides []klaxonv1alpha1.OnCallOverride) *fuzzCheck {
	t.Helper()
	s, err := Compile(spec)
	if err != nil {
		t.Fatalf("Compile(%+v): %v, want a schedule", spec, err)
	}
	again, err := Compile(spec)
	if err != nil {
		t.Fatalf("second Compile: %v", err)
	}
	c := &fuzzCheck{
		t: t, spec: spec, overrides: overrides,
		s: s.WithOverrides("primary", overrides), again: again.WithOverrides("primary", overrides),
		elsewhere: time.FixedZone("elsewhere", -7*3600),
	}
	for i := range spec.Layers {
		l := &spec.Layers[i]
		rec, err := CompileRecurrence("spec.layers["+strconv.Itoa(i)+"].restrictions", spec.TimeZone, l.Restrictions...)
		if err != nil {
			t.Fatalf("CompileRecurrence of layer %d's restrictions: %v", i, err)
		}
		alone := *l
		alone.Combine = ""
		one, err := Compile(&klaxonv1alpha1.OnCallScheduleSpec{TimeZone: spec.TimeZone, Layers: []klaxonv1alpha1.ScheduleLayer{alone}})
		if err != nil {
			t.Fatalf("Compile of layer %d alone: %v", i, err)
		}
		check := fuzzLayerCheck{layer: l, rec: rec, alone: one, turns: turnsOf(l)}
		check.wall, _ = time.Parse(StartLayout, l.Start)
		check.endWall, _ = time.Parse(StartLayout, l.End)
		c.layers = append(c.layers, check)
	}
	return c
}

// fuzzCheck asks a compiled fuzz schedule questions and checks the answers.
type fuzzCheck struct {
	t         *testing.T
	spec      *klaxonv1alpha1.OnCallScheduleSpec
	overrides []klaxonv1alpha1.OnCallOverride
	s, again  *Schedule
	layers    []fuzzLayerCheck
	elsewhere *time.Location
}

type fuzzLayerCheck struct {
	layer *klaxonv1alpha1.ScheduleLayer
	rec   *Recurrence
	// alone is a schedule of just this layer.
	alone *Schedule
	// turns are who is on call in each turn, as sets.
	turns [][]string
	// wall and endWall are the layer's start and end (zero: none) read as
	// if in UTC: each is within a day of the instant it stands for,
	// whatever the zone's offset.
	wall, endWall time.Time
}

func (l *fuzzLayerCheck) surelyStarted(x time.Time) bool { return !x.Before(l.wall.Add(day)) }
func (l *fuzzLayerCheck) surelyNotYet(x time.Time) bool  { return x.Before(l.wall.Add(-day)) }
func (l *fuzzLayerCheck) surelyEnded(x time.Time) bool {
	return !l.endWall.IsZero() && !x.Before(l.endWall.Add(day))
}
func (l *fuzzLayerCheck) surelyGoingOn(x time.Time) bool {
	return l.endWall.IsZero() || x.Before(l.endWall.Add(-day))
}

// turnsOf returns who is on call in each of a layer's turns, as sets.
func turnsOf(l *klaxonv1alpha1.ScheduleLayer) [][]string {
	var turns [][]string
	for _, p := range l.Participants {
		turns = append(turns, []string{p})
	}
	for _, g := range l.Groups {
		set := slices.Clone(g.Members)
		slices.Sort(set)
		turns = append(turns, slices.Compact(set))
	}
	return turns
}

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
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) || (got != nil && len(got) == 0) {
		t.Fatalf("%+v: At(%s) = %q is not a set in name order", c.spec, x, got)
	}

	answers := make([][]string, len(c.layers))
	for k := range c.layers {
		answers[k] = c.layerAt(&c.layers[k], x)
	}
	var want []string
	for _, o := range c.spec.Overrides {
		if !x.Before(o.Start.Time) && x.Before(o.End.Time) {
			want = append(want, o.User)
		}
	}
	if len(want) == 0 {
		for k := len(c.layers) - 1; k >= 0; k-- {
			if len(answers[k]) == 0 {
				continue
			}
			want = append(want, answers[k]...)
			if c.layers[k].layer.Combine != klaxonv1alpha1.CombineAdd {
				break
			}
		}
	}
	ordered := slices.Clone(c.overrides)
	slices.SortStableFunc(ordered, func(a, b klaxonv1alpha1.OnCallOverride) int {
		if d := a.Spec.Start.Compare(b.Spec.Start.Time); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, o := range ordered {
		sp := o.Spec
		admitted := sp.End.After(sp.Start.Time) && !slices.Contains(sp.Add, "") && !slices.Contains(sp.Remove, "") &&
			(sp.Replace == nil || (sp.Replace.User != "" && sp.Replace.With != "" && sp.Replace.User != sp.Replace.With))
		if !admitted || x.Before(sp.Start.Time) || !x.Before(sp.End.Time) {
			continue
		}
		switch {
		case sp.Add != nil:
			want = append(want, sp.Add...)
		case sp.Replace != nil:
			if slices.Contains(want, sp.Replace.User) {
				want = append(slices.DeleteFunc(want, func(p string) bool { return p == sp.Replace.User }), sp.Replace.With)
			}
		default:
			want = slices.DeleteFunc(want, func(p string) bool { return slices.Contains(sp.Remove, p) })
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if len(want) == 0 {
		want = nil
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%+v %+v: At(%s) = %q, want %q from the layers' answers %q", c.spec, c.overrides, x, got, want, answers)
	}
	return got
}

// layerAt is who layer l alone has on call at x, checked against its turns,
// its start and end, and its restrictions.
func (c *fuzzCheck) layerAt(l *fuzzLayerCheck, x time.Time) []string {
	t := c.t
	c.checkScan(l, x)
	got := l.alone.At(x)
	if got != nil && !slices.ContainsFunc(l.turns, func(turn []string) bool { return slices.Equal(turn, got) }) {
		t.Fatalf("%+v: layer %s alone has %q on call at %s, none of its turns %q", c.spec, l.layer.Name, got, x, l.turns)
	}
	covered := refCovers(c.s.Location(), l.layer.Restrictions, x)
	if got == nil && l.surelyStarted(x) && l.surelyGoingOn(x) && covered {
		t.Fatalf("%+v: layer %s has nobody at %s, though it has started, not ended and covers it", c.spec, l.layer.Name, x)
	}
	if got != nil && (l.surelyNotYet(x) || l.surelyEnded(x) || !covered) {
		t.Fatalf("%+v: layer %s has %q at %s, before its start, after its end or outside its windows", c.spec, l.layer.Name, got, x)
	}
	return got
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

package pagerduty

import (
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

const (
	// maxParticipants is how many participants a Klaxon layer takes.
	maxParticipants = 128
	// maxLayerName bounds a Klaxon layer's name.
	maxLayerName = 63
	// maxTurn is the longest turn PagerDuty allows: a year, in seconds.
	maxTurn = 365 * secondsPerDay
)

// turns is a PagerDuty layer's rotation: turn k begins at boundary(k)
// and belongs to users[k mod n]. PagerDuty speaks of a layer's "handoff
// time" in the schedule's zone, so turns are counted on the wall clock:
// turn k begins when the clock shows rotation_virtual_start's local time
// plus k turn lengths. Whole-day turns so hand off at the same local time
// every day, as Klaxon's whole-day shifts do; sub-day turns hand off at
// fixed local times, which Klaxon's exact-hour shifts do only where the
// clocks do not change.
type turns struct {
	loc *time.Location
	// virtual is rotation_virtual_start's local time, as if in UTC.
	virtual time.Time
	length  int64 // seconds
}

func newTurns(virtual time.Time, loc *time.Location, length int64) turns {
	return turns{loc: loc, virtual: wallOf(virtual, loc), length: length}
}

// wallAt returns the local time turn k begins at, as if in UTC.
func (r turns) wallAt(k int64) time.Time {
	// Whole days go through the calendar, the rest (under a day) as a
	// duration, which a span of centuries would overflow.
	total := k * r.length
	days := floorDiv(total, secondsPerDay)
	rest := total - days*secondsPerDay
	return r.virtual.AddDate(0, 0, int(days)).Add(time.Duration(rest) * time.Second)
}

func (r turns) boundary(k int64) time.Time {
	t, _ := atWall(r.wallAt(k), r.loc)
	return t
}

// wall returns turn k's start as Klaxon's local layer time, which Klaxon
// reads back as boundary(k), even on a night the clocks skip it.
func (r turns) wall(k int64) string {
	return r.wallAt(k).Format(oncall.StartLayout)
}

// index returns the turn that holds t (negative before the virtual start).
func (r turns) index(t time.Time) int64 {
	k := floorDiv(wallOf(t, r.loc).Unix()-r.virtual.Unix(), r.length)
	// The estimate may be a turn off around a clock change.
	for !r.boundary(k + 1).After(t) {
		k++
	}
	for r.boundary(k).After(t) {
		k--
	}
	return k
}

// wallOf returns t's local time in loc, as if in UTC.
func wallOf(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// atWall returns the instant Klaxon reads local time wall (as if in UTC)
// as in loc, and how often the clock shows it: 1, 0 in a gap (the instant
// then follows the offset before it), 2 in a repeated hour (the instant
// is the first).
func atWall(wall time.Time, loc *time.Location) (time.Time, int) {
	w := wall.Unix()
	offset := func(unix int64) int64 {
		_, off := time.Unix(unix, 0).In(loc).Zone()
		return int64(off)
	}
	before, after := offset(w-secondsPerDay), offset(w+secondsPerDay)
	seen := 0
	var best int64
	for i, off := range []int64{before, after} {
		if i == 1 && after == before {
			break
		}
		if c := w - off; offset(c) == off {
			if seen == 0 || c < best {
				best = c
			}
			seen++
		}
	}
	if seen == 0 {
		best = w - before
	}
	return time.Unix(best, 0).In(loc), seen
}

// exactly says whether Klaxon reads t's local time in loc back as t: not
// so for the second pass of a repeated hour.
func exactly(t time.Time, loc *time.Location) bool {
	back, n := atWall(wallOf(t, loc), loc)
	return n == 1 && back.Equal(t)
}

// clockChanges says whether loc's clocks change in the year from t.
func clockChanges(loc *time.Location, t time.Time) bool {
	_, off := t.In(loc).Zone()
	for d := 1; d <= 12; d++ {
		if _, o := t.AddDate(0, d, 0).In(loc).Zone(); o != off {
			return true
		}
	}
	return false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// mod returns k mod n in [0, n).
func mod(k int64, n int) int {
	m := int(k % int64(n))
	if m < 0 {
		m += n
	}
	return m
}

// mappedLayer is what one PagerDuty layer becomes: no Klaxon layer (it
// ended before the window, or covers nothing, or cannot be written), one,
// or two (when it starts in the middle of a turn: that partial first turn,
// then the rotation from the next handoff).
type mappedLayer struct {
	layers       []klaxonv1alpha1.ScheduleLayer
	notes        []string
	approximated bool
}

// mapLayer maps one PagerDuty layer of a schedule in loc. people gives the
// Klaxon name of each of its users; name is the layer's Klaxon name.
func mapLayer(l *scheduleLayer, loc *time.Location, w importer.Window, name layerName, people []string) mappedLayer {
	var out mappedLayer
	label := layerLabel(l)
	drop := func(format string, args ...any) mappedLayer {
		out.notes = append(out.notes, label+": "+fmt.Sprintf(format, args...))
		out.approximated = true
		out.layers = nil
		return out
	}
	start, err := time.Parse(time.RFC3339, l.Start)
	if err != nil {
		return drop("its start %q is not a time: left out", importer.Clip(l.Start, importer.MaxValue))
	}
	virtual, err := time.Parse(time.RFC3339, l.RotationVirtualStart)
	if err != nil {
		return drop("its rotation_virtual_start %q is not a time: left out", importer.Clip(l.RotationVirtualStart, importer.MaxValue))
	}
	var end time.Time
	if l.End != nil && *l.End != "" {
		if end, err = time.Parse(time.RFC3339, *l.End); err != nil {
			return drop("its end %q is not a time: left out", importer.Clip(*l.End, importer.MaxValue))
		}
		if !end.After(w.From) || !end.After(start) {
			// The layer ended (PagerDuty keeps the layers an edit
			// replaced): it covers nothing from now on.
			out.notes = append(out.notes, fmt.Sprintf("%s: ended %s, before %s: left out", label, importer.Stamp(end), importer.Stamp(w.From)))
			return out
		}
	}
	length := l.RotationTurnLengthSeconds
	switch {
	case length < int64(oncall.MinShift/time.Second):
		return drop("turns of %ds are shorter than the hour a Klaxon shift lasts at least: left out, so its people are not on call in Klaxon", length)
	case length > maxTurn:
		// PagerDuty's own bound; it also keeps turn arithmetic in range.
		return drop("turns of %ds are longer than a year, which PagerDuty does not allow: left out", length)
	case len(people) == 0:
		out.notes = append(out.notes, label+": has no users: left out")
		return out
	case len(people) > maxParticipants:
		return drop("has %d users, more than the %d a Klaxon layer takes: left out", len(people), maxParticipants)
	}
	cov := mapRestrictions(l.Restrictions)
	for _, n := range cov.notes {
		out.notes = append(out.notes, label+": "+n)
	}
	out.approximated = cov.approximated
	switch {
	case cov.never():
		out.notes = append(out.notes, label+": its restrictions cover no time: left out")
		return out
	case len(cov.restrictions) > maxRestrictions:
		return drop("has %d restrictions, more than the %d a Klaxon layer takes: left out", len(cov.restrictions), maxRestrictions)
	}

	rot := newTurns(virtual, loc, length)
	if length%secondsPerDay != 0 && clockChanges(loc, w.From) {
		out.notes = append(out.notes, fmt.Sprintf("%s: turns of %s keep exact hours in Klaxon; across a clock change they move an hour against PagerDuty's local handoff time",
			label, span(time.Duration(length)*time.Second)))
		out.approximated = true
	}
	shift := metav1.Duration{Duration: time.Duration(length) * time.Second}
	layer := func(layerName string, who []string, from string, to time.Time) klaxonv1alpha1.ScheduleLayer {
		kl := klaxonv1alpha1.ScheduleLayer{Name: layerName, Participants: who, Start: from, Shift: shift,
			Restrictions: cov.restrictions}
		if !to.IsZero() {
			kl.End = local(to, loc)
		}
		return kl
	}
	// Klaxon's layer start is when participants[0]'s turn begins, and
	// nobody is on call before it: start at a handoff, with the people
	// rotated so that the turn there is the one PagerDuty has.
	k := rot.index(start)
	first := rot.boundary(k)
	if !first.Equal(start) {
		// The layer starts within turn k: that partial turn is a layer
		// of its own, ending at the next handoff (or the layer's end).
		next := rot.boundary(k + 1)
		partialEnd := next
		if !end.IsZero() && end.Before(next) {
			partialEnd = end
		}
		switch {
		case !partialEnd.After(w.From):
		case !exactly(start, loc) || !exactly(partialEnd, loc) || local(partialEnd, loc) <= local(start, loc):
			// A clock change makes local times that say no such turn.
			out.notes = append(out.notes, fmt.Sprintf("%s: starts %s, within a turn, in an hour a clock change repeats: that turn, to %s, is left out, the rotation starts at the handoff",
				label, importer.Stamp(start), importer.Stamp(partialEnd)))
			out.approximated = true
		default:
			out.layers = append(out.layers, layer(name.firstTurn, []string{people[mod(k, len(people))]}, local(start, loc), partialEnd))
			out.notes = append(out.notes, fmt.Sprintf("%s: starts %s, within a turn: that turn is layer %s, the rotation goes on from the handoff at %s",
				label, importer.Stamp(start), name.firstTurn, importer.Stamp(next)))
		}
		k++
		first = next
	}
	if end.IsZero() || end.After(first) {
		rotated := make([]string, len(people))
		for i := range people {
			rotated[i] = people[mod(k+int64(i), len(people))]
		}
		main := layer(name.main, rotated, rot.wall(k), time.Time{})
		switch {
		case end.IsZero():
		case !exactly(end, loc) || local(end, loc) <= main.Start:
			// Klaxon reads the end's local time as the repeated hour's
			// first pass, or not after the start at all.
			back, _ := atWall(wallOf(end, loc), loc)
			out.notes = append(out.notes, fmt.Sprintf("%s: ends %s, in an hour a clock change repeats: ends at %s in Klaxon", label, importer.Stamp(end), importer.Stamp(back)))
			out.approximated = true
			if local(end, loc) <= main.Start {
				return out
			}
			main.End = local(end, loc)
		default:
			main.End = local(end, loc)
		}
		out.layers = append(out.layers, main)
	}
	return out
}

// local writes t as Klaxon's local layer time in loc.
func local(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(oncall.StartLayout)
}

func layerLabel(l *scheduleLayer) string {
	if l.Name != "" {
		return fmt.Sprintf("layer %q", importer.Clip(l.Name, importer.MaxValue))
	}
	return "layer " + importer.Clip(l.ID, importer.MaxValue)
}

// layerName is the Klaxon name of a PagerDuty layer, and of the layer of
// its first turn when it starts within one.
type layerName struct {
	main, firstTurn string
}

// layerNames gives each PagerDuty layer Klaxon layer names, unique within
// the schedule, from its own name.
func layerNames(layers []scheduleLayer) []layerName {
	out := make([]layerName, len(layers))
	taken := map[string]bool{}
	for i := range layers {
		base := importer.Sanitize(layers[i].Name)
		if base == "" {
			base = "layer-" + strconv.Itoa(len(layers)-i)
		}
		// The suffix is kept whole, so each j gives names of its own.
		n := layerName{main: boundName(base, ""), firstTurn: boundName(base, "-first-turn")}
		for j := 2; taken[n.main] || taken[n.firstTurn]; j++ {
			sfx := "-" + strconv.Itoa(j)
			n = layerName{main: boundName(base, sfx), firstTurn: boundName(base, sfx+"-first-turn")}
		}
		taken[n.main], taken[n.firstTurn] = true, true
		out[i] = n
	}
	return out
}

// boundName appends suffix to name within a layer name's bound.
func boundName(name, suffix string) string {
	if keep := maxLayerName - len(suffix); len(name) > keep {
		name = name[:keep]
	}
	return name + suffix
}

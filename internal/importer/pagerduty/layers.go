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

// turns is a PagerDuty layer's rotation: turn k begins at boundary(k),
// counted from rotation_virtual_start, and belongs to users[k mod n]. Turns
// of whole days hand off at the virtual start's wall-clock time in the
// schedule's zone, as Klaxon's whole-day shifts do; others are exact
// multiples of the turn length.
type turns struct {
	loc     *time.Location
	virtual time.Time
	length  int64 // seconds
}

func (r turns) days() int { return int(r.length / secondsPerDay) }

func (r turns) boundary(k int64) time.Time {
	if r.length%secondsPerDay == 0 {
		v := r.virtual.In(r.loc)
		return time.Date(v.Year(), v.Month(), v.Day()+int(k)*r.days(), v.Hour(), v.Minute(), v.Second(), 0, r.loc)
	}
	return time.Unix(r.virtual.Unix()+k*r.length, 0).In(r.loc)
}

// wall returns turn k's start as Klaxon's local layer time. Whole-day
// turns count days on the wall clock, never through an instant, so that a
// handoff time a clock change skips on that day (02:30 on a spring-forward
// night) stays the handoff time of every other day.
func (r turns) wall(k int64) string {
	if r.length%secondsPerDay == 0 {
		v := r.virtual.In(r.loc)
		return time.Date(v.Year(), v.Month(), v.Day()+int(k)*r.days(), v.Hour(), v.Minute(), v.Second(), 0, time.UTC).Format(oncall.StartLayout)
	}
	return local(r.boundary(k), r.loc)
}

// index returns the turn that holds t (negative before the virtual start).
func (r turns) index(t time.Time) int64 {
	k := floorDiv(t.Unix()-r.virtual.Unix(), r.length)
	// Whole-day turns may be an hour off the estimate across DST.
	for !r.boundary(k + 1).After(t) {
		k++
	}
	for r.boundary(k).After(t) {
		k--
	}
	return k
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
			out.notes = append(out.notes, fmt.Sprintf("%s: ended %s, before %s: left out", label, stamp(end), stamp(w.From)))
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

	rot := turns{loc: loc, virtual: virtual, length: length}
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
		if partialEnd.After(w.From) {
			out.layers = append(out.layers, layer(name.firstTurn, []string{people[mod(k, len(people))]}, local(start, loc), partialEnd))
			out.notes = append(out.notes, fmt.Sprintf("%s: starts %s, within a turn: that turn is layer %s, the rotation goes on from the handoff at %s",
				label, stamp(start), name.firstTurn, stamp(next)))
		}
		k++
		first = next
	}
	if end.IsZero() || end.After(first) {
		rotated := make([]string, len(people))
		for i := range people {
			rotated[i] = people[mod(k+int64(i), len(people))]
		}
		out.layers = append(out.layers, layer(name.main, rotated, rot.wall(k), end))
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

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") }

package oncall

import (
	"slices"
	"time"

	// The answer must not depend on whether the operator's image ships
	// zoneinfo files; the embedded copy is used only when they are missing.
	_ "time/tzdata"
)

// Horizon bounds how far ahead NextHandoff looks. A schedule that changes
// less often than this (a lone participant, say) reports no next handoff,
// and its controller refreshes it when the horizon moves on.
const Horizon = 400 * 24 * time.Hour

// stepBudget bounds the work of one NextHandoff call, so that a reconcile
// takes tens of milliseconds at most, whatever the spec. A step is one
// layer's answer worked out at one instant (its restrictions over a day or
// two, sixteen at most), or one OnCallOverride's start or end passed: the
// unit of the walk's cost. The densest spec the API
// admits has about a thousand edges a day (16 layers of 32 windows that
// open and close daily), each a step, so even there the walk sees four days
// ahead; an ordinary spec has a few edges a week and reaches its handoff or
// the Horizon well within the budget.
const stepBudget = 4096

// Schedule is a compiled OnCallSchedule spec, with the OnCallOverrides
// added by WithOverrides. It is immutable and safe for concurrent use.
type Schedule struct {
	loc       *time.Location
	layers    []layer
	overrides []override
	// changes are the OnCallOverrides, in the order they apply.
	changes []change
}

// layer is a rotation limited by restrictions and an end.
type layer struct {
	name         string
	add          bool
	rotation     rotation
	restrictions restrictions
	// end is when the layer stops covering anything; zero: never.
	end time.Time
}

func (l *layer) ended(t time.Time) bool {
	return !l.end.IsZero() && !t.Before(l.end)
}

// who returns the people the layer has on call at t, or nobody. The answer
// is shared: callers must not change it.
func (l *layer) who(t time.Time) []string {
	if l.ended(t) || !l.restrictions.covers(t) {
		return nil
	}
	return l.rotation.who(t)
}

// state returns who the layer has on call at t, as who does, and the first
// instant after t at which that may change, or the zero time if it never
// does. Outside its windows a layer has nobody whatever its rotation does,
// so only a window opening counts; before its first shift it has nobody
// whatever its windows say, so only that shift counts; once ended, nothing
// counts.
func (l *layer) state(t time.Time) ([]string, time.Time) {
	if l.ended(t) {
		return nil, time.Time{}
	}
	if t.Before(l.rotation.start) {
		return nil, l.rotation.start
	}
	covered, edge := l.restrictions.scan(t)
	edge = earliestAfter(t, edge, l.end)
	if !covered {
		return nil, edge
	}
	return l.rotation.who(t), earliestAfter(t, l.rotation.next(t), edge)
}

// override puts user on call in place of everyone in [start, end).
type override struct {
	user       string
	start, end time.Time
}

func (o *override) active(t time.Time) bool {
	return !t.Before(o.start) && t.Before(o.end)
}

// Location returns the schedule's time zone.
func (s *Schedule) Location() *time.Location {
	return s.loc
}

// At returns who is on call at t, in name order, each once: the users of
// the spec's overrides active at t, if any; otherwise the layers' people,
// from the last layer in the spec that has someone and replaces those
// below, joined by the people of the Add layers above it; then changed by
// the OnCallOverrides active at t, in their order. Nobody is nil.
func (s *Schedule) At(t time.Time) []string {
	set, overridden := s.overriding(t)
	if !overridden {
		set, _ = s.combine(func(i int) []string { return s.layers[i].who(t) })
	}
	return s.applyChanges(t, set)
}

// overriding returns the users of the spec's overrides active at t, and
// whether any is.
func (s *Schedule) overriding(t time.Time) ([]string, bool) {
	var users []string
	for i := range s.overrides {
		o := &s.overrides[i]
		if o.active(t) {
			users = append(users, o.user)
		}
	}
	return users, len(users) > 0
}

// combine joins the answers of n layers, asked for with who, from the top:
// Add layers' people join, and the first Replace layer with someone ends
// the search, hiding the layers below it. It returns the set and the index
// of that layer, or -1 when every layer showed.
func (s *Schedule) combine(who func(int) []string) ([]string, int) {
	var set []string
	for i := len(s.layers) - 1; i >= 0; i-- {
		people := who(i)
		if len(people) == 0 {
			continue
		}
		set = append(set, people...)
		if !s.layers[i].add {
			return set, i
		}
	}
	return set, -1
}

// NextHandoff returns the first instant after t at which At gives a
// different answer than At(t), and the instant until which At(t) is known
// to hold. A handoff between two shifts of the same person is no handoff.
//
// When a handoff is found, until is that handoff. Otherwise handoff is the
// zero time and until is Horizon after t, or earlier when the walk used up
// its step budget first; either way until is after t, and the caller should
// ask again then.
func (s *Schedule) NextHandoff(t time.Time) (handoff, until time.Time) {
	handoff, until, _ = s.walk(t, stepBudget)
	return handoff, until
}

// walk is NextHandoff with a given budget. It also reports the steps it
// took: at most the larger of budget and the number of layers plus the
// override edges at one instant (2*MaxOverrides at most), since visiting
// the first edge may take all of those, and without that edge until could
// not be after t.
func (s *Schedule) walk(t time.Time, budget int) (handoff, until time.Time, steps int) {
	horizon := t.Add(Horizon)
	w := newWalker(s, t)
	current, bottom := w.at(t)
	for c := t; ; {
		next := w.nextEvent(c, bottom)
		if next.IsZero() || next.After(horizon) {
			return time.Time{}, horizon, w.steps
		}
		// Visiting an edge and finding the one after it takes at most a
		// step of every layer and of every override edge at it; stop while
		// the budget can still pay for it.
		if w.steps+len(s.layers)+w.changeEdgesAt(next) > budget {
			// At holds up to the edge that was not visited.
			return time.Time{}, next, w.steps
		}
		var set []string
		if set, bottom = w.at(next); !slices.Equal(set, current) {
			return next, next, w.steps
		}
		c = next
	}
}

// walker answers At and finds edges for instants that only move forward,
// remembering each layer's answer until that layer's next edge: a step then
// recomputes only the layers whose answer may have changed, rather than
// every layer's restrictions. The OnCallOverrides' edges are sorted once
// and passed by a cursor, and those active are kept as a set, so that many
// overrides cost each walk a step per edge rather than a scan per step.
type walker struct {
	s      *Schedule
	layers []layerState
	// steps counts the layer states worked out and override edges passed.
	steps int
	// edges are the OnCallOverrides' starts and ends after the walk's
	// first instant, in time order; those before cursor are passed.
	edges  []changeEdge
	cursor int
	// active are the indexes of the OnCallOverrides active at the last
	// instant asked about, in the order they apply.
	active []int
}

// changeEdge is where OnCallOverride i starts or ends.
type changeEdge struct {
	at    time.Time
	i     int
	start bool
}

// newWalker returns a walker whose first instant is t. Overrides ended by
// then never show again and are left out.
func newWalker(s *Schedule, t time.Time) *walker {
	w := &walker{s: s, layers: make([]layerState, len(s.layers))}
	for i := range s.changes {
		ch := &s.changes[i]
		if !ch.end.After(t) {
			continue
		}
		if ch.start.After(t) {
			w.edges = append(w.edges, changeEdge{at: ch.start, i: i, start: true})
		} else {
			w.active = append(w.active, i)
		}
		w.edges = append(w.edges, changeEdge{at: ch.end, i: i})
	}
	slices.SortStableFunc(w.edges, func(a, b changeEdge) int { return a.at.Compare(b.at) })
	return w
}

// pass moves the cursor over the override edges up to c, inclusive,
// updating the active set; each edge is a step.
func (w *walker) pass(c time.Time) {
	for ; w.cursor < len(w.edges) && !w.edges[w.cursor].at.After(c); w.cursor++ {
		e := &w.edges[w.cursor]
		pos, found := slices.BinarySearch(w.active, e.i)
		switch {
		case e.start && !found:
			w.active = slices.Insert(w.active, pos, e.i)
		case !e.start && found:
			w.active = slices.Delete(w.active, pos, pos+1)
		}
		w.steps++
	}
}

// changeEdgesAt counts the override edges not yet passed at exactly c.
func (w *walker) changeEdgesAt(c time.Time) int {
	n := 0
	for i := w.cursor; i < len(w.edges) && w.edges[i].at.Equal(c); i++ {
		n++
	}
	return n
}

// layerState is who a layer has on call from the instant it was computed
// for until, exclusive (zero: for ever).
type layerState struct {
	known bool
	who   []string
	until time.Time
}

// layer returns layer i's state at c; c must not be before any instant the
// walker was asked about earlier.
func (w *walker) layer(i int, c time.Time) *layerState {
	st := &w.layers[i]
	if !st.known || (!st.until.IsZero() && !c.Before(st.until)) {
		st.who, st.until = w.s.layers[i].state(c)
		st.known = true
		w.steps++
	}
	return st
}

// at is Schedule.At from the remembered states. bottom is the lowest layer
// whose edges can change At: the Replace layer combine stopped at, 0 when
// every layer showed, or -1 when the spec's overrides hide them all.
func (w *walker) at(c time.Time) (set []string, bottom int) {
	w.pass(c)
	set, overridden := w.s.overriding(c)
	bottom = -1
	if !overridden {
		set, bottom = w.s.combine(func(i int) []string { return w.layer(i, c).who })
		bottom = max(bottom, 0)
	}
	for _, i := range w.active {
		set = w.s.changes[i].apply(set)
	}
	return normalize(set), bottom
}

// nextEvent returns the first instant after c at which At may change, or
// the zero time if it never can; bottom is the lowest layer that shows at
// c (-1: none). c must be the last instant at was asked about. At only
// changes where an override, a rotation, a restriction or a layer's end
// has an edge, and while a spec override is active, or a Replace layer has
// someone on call, the edges of what lies beneath cannot show; skipping
// them keeps the walk short when a busy layer is covered.
func (w *walker) nextEvent(c time.Time, bottom int) time.Time {
	var next time.Time
	for i := range w.s.overrides {
		o := &w.s.overrides[i]
		next = earliestAfter(c, next, o.start)
		next = earliestAfter(c, next, o.end)
	}
	if w.cursor < len(w.edges) {
		next = earliestAfter(c, next, w.edges[w.cursor].at)
	}
	if bottom < 0 {
		return next
	}
	for i := bottom; i < len(w.layers); i++ {
		next = earliestAfter(c, next, w.layer(i, c).until)
	}
	return next
}

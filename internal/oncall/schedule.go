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
// two, sixteen at most): the unit of the walk's cost. The densest spec the API
// admits has about a thousand edges a day (16 layers of 32 windows that
// open and close daily), each a step, so even there the walk sees four days
// ahead; an ordinary spec has a few edges a week and reaches its handoff or
// the Horizon well within the budget.
const stepBudget = 4096

// Schedule is a compiled OnCallSchedule spec. It is immutable and safe for
// concurrent use.
type Schedule struct {
	loc       *time.Location
	layers    []layer
	overrides []override
}

// layer is a rotation limited by restrictions.
type layer struct {
	name         string
	rotation     rotation
	restrictions restrictions
}

// who returns the person the layer has on call at t, or "".
func (l *layer) who(t time.Time) string {
	if !l.restrictions.covers(t) {
		return ""
	}
	return l.rotation.who(t)
}

// state returns who the layer has on call at t, as who does, and the first
// instant after t at which that may change, or the zero time if it never
// does. Outside its windows a layer has nobody whatever its rotation does,
// so only a window opening counts; before its first shift it has nobody
// whatever its windows say, so only that shift counts.
func (l *layer) state(t time.Time) (string, time.Time) {
	if t.Before(l.rotation.start) {
		return "", l.rotation.start
	}
	covered, edge := l.restrictions.scan(t)
	if !covered {
		return "", edge
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

// At returns who is on call at t: the users of the overrides active at t, in
// spec order, if any; otherwise the person of the last layer in the spec
// that has someone at t; otherwise nobody (nil).
func (s *Schedule) At(t time.Time) []string {
	if users := s.overriding(t); len(users) > 0 {
		return users
	}
	if i, who := s.top(t); i >= 0 {
		return []string{who}
	}
	return nil
}

// overriding returns the users of the overrides active at t, in spec order.
func (s *Schedule) overriding(t time.Time) []string {
	var users []string
	for i := range s.overrides {
		o := &s.overrides[i]
		if o.active(t) && !slices.Contains(users, o.user) {
			users = append(users, o.user)
		}
	}
	return users
}

// top returns the index and person of the last layer with someone on call
// at t, or -1 when no layer has anyone.
func (s *Schedule) top(t time.Time) (int, string) {
	for i := len(s.layers) - 1; i >= 0; i-- {
		if who := s.layers[i].who(t); who != "" {
			return i, who
		}
	}
	return -1, ""
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
// took: at most the larger of budget and the number of layers, since
// finding the first edge may take a step of every layer, and without that
// edge until could not be after t.
func (s *Schedule) walk(t time.Time, budget int) (handoff, until time.Time, steps int) {
	horizon := t.Add(Horizon)
	w := walker{s: s, layers: make([]layerState, len(s.layers))}
	current := w.at(t)
	for c := t; ; {
		next := w.nextEvent(c)
		if next.IsZero() || next.After(horizon) {
			return time.Time{}, horizon, w.steps
		}
		// Visiting an edge and finding the one after it takes at most a
		// step of every layer; stop while the budget can still pay for it.
		if w.steps+len(s.layers) > budget {
			// At holds up to the edge that was not visited.
			return time.Time{}, next, w.steps
		}
		if !slices.Equal(w.at(next), current) {
			return next, next, w.steps
		}
		c = next
	}
}

// walker answers At and finds edges for instants that only move forward,
// remembering each layer's answer until that layer's next edge: a step then
// recomputes only the layers whose answer may have changed, rather than
// every layer's restrictions.
type walker struct {
	s      *Schedule
	layers []layerState
	// steps counts the layer states worked out.
	steps int
}

// layerState is who a layer has on call from the instant it was computed
// for until, exclusive (zero: for ever).
type layerState struct {
	known bool
	who   string
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

// top is Schedule.top from the remembered states.
func (w *walker) top(c time.Time) (int, string) {
	for i := len(w.layers) - 1; i >= 0; i-- {
		if who := w.layer(i, c).who; who != "" {
			return i, who
		}
	}
	return -1, ""
}

// at is Schedule.At from the remembered states.
func (w *walker) at(c time.Time) []string {
	if users := w.s.overriding(c); len(users) > 0 {
		return users
	}
	if i, who := w.top(c); i >= 0 {
		return []string{who}
	}
	return nil
}

// nextEvent returns the first instant after c at which At may change, or
// the zero time if it never can. At only changes where an override, a
// rotation or a restriction has an edge, and while an override is active,
// or a layer has someone on call, the edges of what lies beneath cannot
// show; skipping them keeps the walk short when a busy layer is covered.
func (w *walker) nextEvent(c time.Time) time.Time {
	var next time.Time
	overridden := false
	for i := range w.s.overrides {
		o := &w.s.overrides[i]
		next = earliestAfter(c, next, o.start)
		next = earliestAfter(c, next, o.end)
		overridden = overridden || o.active(c)
	}
	if overridden {
		return next
	}
	top, _ := w.top(c)
	for i := max(top, 0); i < len(w.layers); i++ {
		next = earliestAfter(c, next, w.layer(i, c).until)
	}
	return next
}

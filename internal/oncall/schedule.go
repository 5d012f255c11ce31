// Package oncall answers who is on call on an OnCallSchedule at a given
// instant, and when that answer next changes. It is pure: no clock, no
// Kubernetes client, so the OnCallSchedule controller and the escalation
// planner can both rely on it and it can be tested on its own.
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

// next returns the first instant after t at which the layer's answer may
// change, or the zero time if it never does. Outside its windows a layer
// has nobody whatever its rotation does, so only a window opening counts.
func (l *layer) next(t time.Time) time.Time {
	edge := l.restrictions.next(t)
	if !l.restrictions.covers(t) {
		return edge
	}
	return earliestAfter(t, l.rotation.next(t), edge)
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
	var users []string
	for i := range s.overrides {
		o := &s.overrides[i]
		if o.active(t) && !slices.Contains(users, o.user) {
			users = append(users, o.user)
		}
	}
	if len(users) > 0 {
		return users
	}
	if i, who := s.top(t); i >= 0 {
		return []string{who}
	}
	return nil
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
// different answer than At(t), or the zero time if that does not happen
// within Horizon of t. A handoff between two shifts of the same person is
// no handoff.
func (s *Schedule) NextHandoff(t time.Time) time.Time {
	horizon := t.Add(Horizon)
	current := s.At(t)
	for c := t; ; {
		next := s.nextEvent(c)
		if next.IsZero() || next.After(horizon) {
			return time.Time{}
		}
		if !slices.Equal(s.At(next), current) {
			return next
		}
		c = next
	}
}

// nextEvent returns the first instant after c at which At may change, or
// the zero time if it never can. At only changes where an override, a
// rotation or a restriction has an edge, and while an override is active,
// or a layer has someone on call, the edges of what lies beneath cannot
// show; skipping them keeps the walk short when a busy layer is covered.
func (s *Schedule) nextEvent(c time.Time) time.Time {
	var next time.Time
	overridden := false
	for i := range s.overrides {
		o := &s.overrides[i]
		next = earliestAfter(c, next, o.start)
		next = earliestAfter(c, next, o.end)
		overridden = overridden || o.active(c)
	}
	if overridden {
		return next
	}
	top, _ := s.top(c)
	for i := max(top, 0); i < len(s.layers); i++ {
		next = earliestAfter(c, next, s.layers[i].next(c))
	}
	return next
}

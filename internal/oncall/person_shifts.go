package oncall

import (
	"slices"
	"strconv"
	"time"
)

// PersonShift is one person's unbroken time on call.
type PersonShift struct {
	User       string
	Start, End time.Time
	// Source names what put User on call at Start: "layer/<name>",
	// "override/<OnCallOverride name>", or "spec-override/<index>" for one
	// of the spec's own overrides. With Start it makes a stable name for
	// the shift.
	Source string
	// HandsOver are those on call just before Start who are not at Start:
	// who hands over to User. Nil at the walk's first instant, where it is
	// not known, or when nobody was on call.
	HandsOver []string
	// TakesOver are those on call at End who were not just before it:
	// whom User hands over to. Nil when the shift runs to the walk's end.
	TakesOver []string
	// With are the others on call at Start.
	With []string
}

// PersonShifts returns every person's shifts in [from, to), cut to it, by
// start, then user. It follows at most maxSteps handoffs: when they run
// out, it returns the shifts up to where it stopped, cut there, and that
// instant as until; otherwise until is to.
func (s *Schedule) PersonShifts(from, to time.Time, maxSteps int) (shifts []PersonShift, until time.Time) {
	spans, until := s.spans(from, to, maxSteps)
	// open are the shifts not yet ended, by user.
	open := map[string]int{}
	for k, sp := range spans {
		var before []string
		if k > 0 {
			before = spans[k-1].People
		}
		for user, i := range open {
			if !slices.Contains(sp.People, user) {
				shifts[i].End = sp.From
				shifts[i].TakesOver = minus(sp.People, before)
				delete(open, user)
			}
		}
		for _, user := range sp.People {
			if _, ok := open[user]; ok {
				continue
			}
			sh := PersonShift{User: user, Start: sp.From, Source: s.Source(sp.From, user),
				With: slices.DeleteFunc(slices.Clone(sp.People), func(p string) bool { return p == user })}
			if k > 0 {
				sh.HandsOver = minus(before, sp.People)
			}
			open[user] = len(shifts)
			shifts = append(shifts, sh)
		}
	}
	for _, i := range open {
		shifts[i].End = until
	}
	slices.SortStableFunc(shifts, func(a, b PersonShift) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if a.User < b.User {
			return -1
		}
		if a.User > b.User {
			return 1
		}
		return 0
	})
	return shifts, until
}

// spans splits [from, to) at the handoffs, as Shifts does, but stops when
// maxSteps handoffs are spent, returning the spans up to where it stopped
// and that instant.
func (s *Schedule) spans(from, to time.Time, maxSteps int) ([]Shift, time.Time) {
	var out []Shift
	cur := Shift{From: from, People: s.At(from)}
	t := from
	for steps := 0; ; steps++ {
		if steps == maxSteps {
			cur.To = t
			if t.After(cur.From) {
				out = append(out, cur)
			}
			return out, t
		}
		h, until := s.NextHandoff(t)
		if h.IsZero() {
			if !until.Before(to) {
				break
			}
			if slices.Equal(s.At(until), cur.People) {
				t = until
				continue
			}
			h = until
		}
		if !h.Before(to) {
			break
		}
		cur.To = h
		out = append(out, cur)
		cur = Shift{From: h, People: s.At(h)}
		t = h
	}
	cur.To = to
	return append(out, cur), to
}

// Source names what puts user on call at t (see PersonShift.Source), or ""
// when user is not on call then.
func (s *Schedule) Source(t time.Time, user string) string {
	// The OnCallOverrides apply last, so the last that brings user in
	// decides.
	for i := len(s.changes) - 1; i >= 0; i-- {
		c := &s.changes[i]
		if c.active(t) && (slices.Contains(c.add, user) || c.with == user) {
			return "override/" + c.name
		}
	}
	if _, overridden := s.overriding(t); overridden {
		for i := range s.overrides {
			if o := &s.overrides[i]; o.active(t) && o.user == user {
				return "spec-override/" + strconv.Itoa(i)
			}
		}
		return ""
	}
	for i := len(s.layers) - 1; i >= 0; i-- {
		people := s.layers[i].who(t)
		if slices.Contains(people, user) {
			return "layer/" + s.layers[i].name
		}
		if len(people) > 0 && !s.layers[i].add {
			return ""
		}
	}
	return ""
}

// minus returns the people of a who are not in b, or nil.
func minus(a, b []string) []string {
	var out []string
	for _, p := range a {
		if !slices.Contains(b, p) {
			out = append(out, p)
		}
	}
	return out
}

package oncall

import (
	"slices"
	"strconv"
	"time"
)

// MaxNamed is the most people a PersonShift names in HandsOver, TakesOver
// and With: a schedule may put hundreds on call at once, and a shift's
// description is read by a person.
const MaxNamed = 20

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
	// not known, or when nobody was on call. At most MaxNamed, shared
	// with the other shifts that start then: callers must not change it.
	HandsOver []string
	// TakesOver are those on call at End who were not just before it:
	// whom User hands over to. Nil when the shift runs to the walk's end.
	// At most MaxNamed, shared as HandsOver is.
	TakesOver []string
	// With are the others on call at Start, at most MaxNamed.
	With []string
}

// PersonShifts returns every person's shifts in [from, to), cut to it, by
// start, then user. Its work is bounded by budget: each instant at which
// who is on call changes costs one, plus one for each person on call from
// then. When the budget runs out it returns the shifts up to where it
// stopped, cut there, and that instant as until; otherwise until is to.
// used is the budget it spent.
func (s *Schedule) PersonShifts(from, to time.Time, budget int) (shifts []PersonShift, until time.Time, used int) {
	spans, until, used := s.spans(from, to, budget)
	// open are the shifts not yet ended, by user.
	open := map[string]int{}
	for k, sp := range spans {
		var before []string
		if k > 0 {
			before = spans[k-1].People
		}
		// Worked out once for the span: every shift that starts or ends
		// here shares them.
		left, arrived := minus(before, sp.People, MaxNamed), minus(sp.People, before, MaxNamed)
		now := set(sp.People)
		for user, i := range open {
			if !now[user] {
				shifts[i].End = sp.From
				shifts[i].TakesOver = arrived
				delete(open, user)
			}
		}
		for _, user := range sp.People {
			if _, ok := open[user]; ok {
				continue
			}
			sh := PersonShift{User: user, Start: sp.From, Source: s.Source(sp.From, user), With: others(sp.People, user)}
			if k > 0 {
				sh.HandsOver = left
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
	return shifts, until, used
}

// spans splits [from, to) at the handoffs, as Shifts does, charging each
// span one plus its people against budget. When the budget runs out it
// returns the spans up to where it stopped, and that instant.
func (s *Schedule) spans(from, to time.Time, budget int) ([]Shift, time.Time, int) {
	var out []Shift
	cur := Shift{From: from, People: s.At(from)}
	used := 1 + len(cur.People)
	t := from
	for {
		if used > budget {
			cur.To = t
			if t.After(cur.From) {
				out = append(out, cur)
			}
			return out, t, used
		}
		h, until := s.NextHandoff(t)
		used++
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
		used += len(cur.People)
		t = h
	}
	cur.To = to
	return append(out, cur), to, used
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

// minus returns at most n of the people of a who are not in b, or nil.
func minus(a, b []string, n int) []string {
	in := set(b)
	var out []string
	for _, p := range a {
		if len(out) == n {
			break
		}
		if !in[p] {
			out = append(out, p)
		}
	}
	return out
}

// others returns at most MaxNamed of people other than user, or nil.
func others(people []string, user string) []string {
	var out []string
	for _, p := range people {
		if len(out) == MaxNamed {
			break
		}
		if p != user {
			out = append(out, p)
		}
	}
	return out
}

func set(people []string) map[string]bool {
	m := make(map[string]bool, len(people))
	for _, p := range people {
		m[p] = true
	}
	return m
}

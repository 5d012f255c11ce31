package oncall

import (
	"errors"
	"slices"
	"time"
)

// Shift is an interval in which the same people are on call.
type Shift struct {
	From, To time.Time
	People   []string
}

// ErrTooManyHandoffs says a walk through an interval changed hands more
// often than its budget allows.
var ErrTooManyHandoffs = errors.New("changes hands too often")

// Shifts splits [from, to) at s's handoffs: each shift says who is on call
// throughout it, and the next has someone else. It follows at most
// maxSteps handoffs, so a caller's budget bounds the work.
func (s *Schedule) Shifts(from, to time.Time, maxSteps int) ([]Shift, error) {
	var out []Shift
	cur := Shift{From: from, People: s.At(from)}
	for t, steps := from, 0; ; steps++ {
		if steps == maxSteps {
			return nil, ErrTooManyHandoffs
		}
		h, until := s.NextHandoff(t)
		if h.IsZero() {
			if !until.Before(to) {
				break
			}
			// A walk that ran out of its budget stops at the first edge it
			// did not visit, where who is on call may change.
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
	return append(out, cur), nil
}

package oncall

import (
	"slices"
	"time"
)

// day is the shift unit that keeps its wall-clock meaning across DST.
const day = 24 * time.Hour

// rotation is a layer's turn-taking: turns[i mod n] holds shift i, and
// shift 0 begins at the layer start. A turn is the set of people on call
// in it: one participant, or a group's members.
type rotation struct {
	loc   *time.Location
	turns [][]string
	// start is the instant shift 0 begins, and wall the same moment on the
	// local clock.
	start time.Time
	wall  wallTime
	// days is the shift length in whole days, or 0 when the shift is an
	// exact duration.
	days  int
	shift time.Duration
	// changes is false when every turn has the same people, so that
	// handoffs never change who is on call and need not be visited.
	changes bool
}

// newRotation returns the rotation of turns, each a set in name order.
func newRotation(loc *time.Location, turns [][]string, wall wallTime, shift time.Duration) rotation {
	r := rotation{
		loc:   loc,
		turns: turns,
		wall:  wall,
		shift: shift,
		start: wall.in(loc),
	}
	if shift%day == 0 {
		r.days = int(shift / day)
	}
	for _, turn := range turns[1:] {
		if !slices.Equal(turn, turns[0]) {
			r.changes = true
			break
		}
	}
	return r
}

// boundary returns the instant shift i begins. Whole-day shifts hand off at
// the start's wall-clock time on the local date i*days after the start's, so
// a 02:00 handoff stays at 02:00 across DST changes; other shifts are exact
// multiples of their duration.
func (r *rotation) boundary(i int64) time.Time {
	if r.days > 0 {
		w := r.wall
		return instant(r.loc, w.year, w.month, w.day+int(i)*r.days, w.hour, w.minute, w.second)
	}
	if r.shift%time.Second == 0 {
		// Counting in seconds cannot overflow, however far t is from start.
		return time.Unix(r.start.Unix()+i*int64(r.shift/time.Second), 0).In(r.loc)
	}
	return r.start.Add(time.Duration(i) * r.shift)
}

// index returns the shift that holds t, or -1 before the first one.
func (r *rotation) index(t time.Time) int64 {
	if t.Before(r.start) {
		return -1
	}
	if r.days == 0 {
		if r.shift%time.Second == 0 {
			// start has no fraction of a second, so whole seconds suffice.
			return (t.Unix() - r.start.Unix()) / int64(r.shift/time.Second)
		}
		// Shifts with a fraction of a second are exact only within the
		// 290 years a time.Duration spans; nobody rotates that long.
		return int64(t.Sub(r.start) / r.shift)
	}
	// A whole-day shift lasts days*24h give or take a DST change, so the
	// estimate is at most one shift off.
	i := (t.Unix() - r.start.Unix()) / int64(r.days*secondsPerDay)
	for !r.boundary(i + 1).After(t) {
		i++
	}
	for i > 0 && r.boundary(i).After(t) {
		i--
	}
	return i
}

// who returns who holds the shift at t, or nobody before the first shift.
// The answer is shared: callers must not change it.
func (r *rotation) who(t time.Time) []string {
	i := r.index(t)
	if i < 0 {
		return nil
	}
	return r.turns[i%int64(len(r.turns))]
}

// next returns the first instant after t at which the rotation may change
// who is on call, or the zero time if it never does.
func (r *rotation) next(t time.Time) time.Time {
	if t.Before(r.start) {
		return r.start
	}
	if !r.changes {
		return time.Time{}
	}
	return r.boundary(r.index(t) + 1)
}

package oncall

import (
	"time"
)

// day is the shift unit that keeps its wall-clock meaning across DST.
const day = 24 * time.Hour

// rotation is a layer's turn-taking: participants[i mod n] holds shift i,
// and shift 0 begins at the layer start.
type rotation struct {
	loc          *time.Location
	participants []string
	// start is the instant shift 0 begins, and wall the same moment on the
	// local clock.
	start time.Time
	wall  wallTime
	// days is the shift length in whole days, or 0 when the shift is an
	// exact duration.
	days  int
	shift time.Duration
	// changes is false when every participant is the same person, so that
	// handoffs never change who is on call and need not be visited.
	changes bool
}

func newRotation(loc *time.Location, participants []string, wall wallTime, shift time.Duration) rotation {
	r := rotation{
		loc:          loc,
		participants: participants,
		wall:         wall,
		shift:        shift,
		start:        instant(loc, wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second),
	}
	if shift%day == 0 {
		r.days = int(shift / day)
	}
	for _, p := range participants[1:] {
		if p != participants[0] {
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

// who returns who holds the shift at t, or "" before the first shift.
func (r *rotation) who(t time.Time) string {
	i := r.index(t)
	if i < 0 {
		return ""
	}
	return r.participants[i%int64(len(r.participants))]
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

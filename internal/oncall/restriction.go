package oncall

import (
	"time"
)

// window is a restriction: a local wall-clock window that opens at from on
// each of its days and closes at to, endDays local dates later: 0 or 1 in
// the same-day form (1 when to <= from), up to 7 in the multi-day form.
type window struct {
	days     [7]bool // indexed by time.Weekday
	from, to clock
	endDays  int
}

// span returns the instants the window opened on the given local date opens
// and closes. Around a DST change the window is as long as the wall clock
// says, so it may be an hour shorter or longer, and a window that lies
// wholly inside a spring-forward gap comes out empty (end <= start).
func (w *window) span(loc *time.Location, year int, month time.Month, d int) (start, end time.Time) {
	start = instant(loc, year, month, d, int(w.from)/60, int(w.from)%60, 0)
	end = instant(loc, year, month, d+w.endDays, int(w.to)/60, int(w.to)%60, 0)
	return start, end
}

// restrictions limit a layer to the union of its windows; none means the
// layer covers all the time.
type restrictions struct {
	loc     *time.Location
	windows []window
	// reach is how many local dates before t's a window holding t may have
	// opened: one for same-day windows, up to seven for multi-day ones.
	reach int
}

func newRestrictions(loc *time.Location, windows []window) restrictions {
	r := restrictions{loc: loc, windows: windows, reach: 1}
	for i := range windows {
		r.reach = max(r.reach, windows[i].endDays)
	}
	return r
}

// covers reports whether t lies in one of the windows.
func (r *restrictions) covers(t time.Time) bool {
	if len(r.windows) == 0 {
		return true
	}
	y, m, d := localDate(t, r.loc)
	// A window closes at most reach local dates after the one it opened
	// on, so only the windows opened since then can hold t.
	for dd := d - r.reach; dd <= d; dd++ {
		wd := weekdayOf(y, m, dd)
		for i := range r.windows {
			w := &r.windows[i]
			if !w.days[wd] {
				continue
			}
			start, end := w.span(r.loc, y, m, dd)
			if !t.Before(start) && t.Before(end) {
				return true
			}
		}
	}
	return false
}

// scan reports whether t lies in one of the windows, as covers does, and
// returns the first instant after t at which a window opens or closes, or
// the zero time when there are no windows.
func (r *restrictions) scan(t time.Time) (covered bool, next time.Time) {
	if len(r.windows) == 0 {
		return true, time.Time{}
	}
	y, m, d := localDate(t, r.loc)
	// Windows recur weekly, so the nearest edge after t belongs to a window
	// opened between reach days before t's local date and a week after it,
	// or a week later still when a spring-forward gap empties that opening.
	for dd := d - r.reach; dd <= d+14; dd++ {
		// A window opened on a later date opens and closes after that date
		// begins: once an edge before then is known, no later date can
		// offer a nearer one. Most scans stop after a day or two.
		if dd > d && !next.IsZero() && next.Before(dayBegins(r.loc, y, m, dd)) {
			break
		}
		wd := weekdayOf(y, m, dd)
		for i := range r.windows {
			w := &r.windows[i]
			if !w.days[wd] {
				continue
			}
			start, end := w.span(r.loc, y, m, dd)
			if !end.After(start) {
				continue
			}
			if dd <= d && !t.Before(start) && t.Before(end) {
				covered = true
			}
			next = earliestAfter(t, next, start)
			next = earliestAfter(t, next, end)
		}
	}
	return covered, next
}

// earliestAfter returns candidate if it is after t and before best (or best
// is zero); otherwise best.
func earliestAfter(t, best, candidate time.Time) time.Time {
	if candidate.IsZero() || !candidate.After(t) {
		return best
	}
	if best.IsZero() || candidate.Before(best) {
		return candidate
	}
	return best
}

package grafanaoncall

import (
	"strconv"
	"strings"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// minutesPerWeek is the length of the week restrictions repeat over.
const minutesPerWeek = 7 * 24 * 60

// weekCover is the wall-clock minutes of the week a layer's restrictions
// cover, Sunday 00:00 first; nil covers all the time.
type weekCover []bool

// coverOf returns what l's restrictions cover of a week, or nil when it
// has none or one cannot be read (then it is taken to cover everything).
func coverOf(l *klaxonv1alpha1.ScheduleLayer) weekCover {
	if len(l.Restrictions) == 0 {
		return nil
	}
	c := make(weekCover, minutesPerWeek)
	weekdays := map[klaxonv1alpha1.Weekday]int{}
	for d, k := range klaxonDays {
		weekdays[k] = d
	}
	for _, r := range l.Restrictions {
		from, ok1 := minuteOfDay(r.From)
		to, ok2 := minuteOfDay(r.To)
		if !ok1 || !ok2 {
			return nil
		}
		mark := func(start, length int) {
			for i := range length {
				c[(start+i)%minutesPerWeek] = true
			}
		}
		if r.FromDay != "" || r.ToDay != "" {
			fd, ok1 := weekdays[r.FromDay]
			td, ok2 := weekdays[r.ToDay]
			if !ok1 || !ok2 {
				return nil
			}
			start, end := fd*1440+from, td*1440+to
			length := (end - start + minutesPerWeek) % minutesPerWeek
			if length == 0 {
				return nil
			}
			mark(start, length)
			continue
		}
		length := to - from
		if length <= 0 {
			length += 1440
		}
		for _, d := range r.Days {
			wd, ok := weekdays[d]
			if !ok {
				return nil
			}
			mark(wd*1440+from, length)
		}
	}
	return c
}

// disjoint says whether a and b cover no minute of the week both.
func disjoint(a, b weekCover) bool {
	if a == nil || b == nil {
		return false
	}
	for i := range a {
		if a[i] && b[i] {
			return false
		}
	}
	return true
}

// minuteOfDay reads a restriction's HH:MM.
func minuteOfDay(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*int(time.Hour/time.Minute) + mm, true
}

package grafanaoncall

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

// recurrence is how a shift repeats: a turn every interval frequency
// periods from start, each turn on call for dur (on each by_day day, if
// days are given).
type recurrence struct {
	freq     string
	interval int
	start    time.Time // in the shift's time zone
	dur      time.Duration
	days     []time.Weekday
	// months is the fixed length a monthly shift is given.
	months time.Duration
}

// period is the length of a turn: the layer's shift.
func (r *recurrence) period() time.Duration {
	switch r.freq {
	case "hourly":
		return time.Duration(r.interval) * time.Hour
	case "daily":
		return time.Duration(r.interval) * day
	case "weekly":
		return time.Duration(r.interval) * week
	}
	return r.months
}

// at returns when turn k begins, as Grafana OnCall counts: days and weeks
// on the wall clock of the shift's time zone.
func (r *recurrence) at(k int) time.Time {
	switch r.freq {
	case "hourly":
		// In seconds: a duration overflows after 292 years.
		return time.Unix(r.start.Unix()+int64(k)*int64(r.interval)*3600, int64(r.start.Nanosecond())).In(r.start.Location())
	case "daily":
		return r.start.AddDate(0, 0, k*r.interval)
	case "weekly":
		return r.start.AddDate(0, 0, 7*k*r.interval)
	}
	return r.start.AddDate(0, k*r.interval, 0)
}

// monthly gives a monthly shift the fixed length of its first turn:
// Klaxon's shifts do not follow the calendar's months.
func (r *recurrence) monthly(m *layerMapping) {
	first := r.start.AddDate(0, r.interval, 0).Sub(r.start)
	days := int(math.Round(first.Hours() / 24))
	r.months = time.Duration(days) * day
	every := "every month"
	if r.interval > 1 {
		every = fmt.Sprintf("every %d months", r.interval)
	}
	m.approx("it hands over %s; Klaxon's shifts have a fixed length: mapped as %d-day turns (its first turn's length), so later handoffs drift from the same day of the month", every, days)
	if len(r.days) > 0 {
		m.approx("its by_day %s within months was left out", describeDays(r.days))
		r.days = nil
	}
}

// restrictions limits the layer to the first dur of each turn, when a turn
// is longer than the time on call.
func (r *recurrence) restrictions(m *layerMapping, loc *time.Location) {
	p := r.period()
	switch {
	case r.dur == p:
		return
	case r.dur > p:
		m.approx("each turn lasts %s but a new one starts every %s: Grafana OnCall keeps both on call while they overlap, Klaxon hands over", r.dur, p)
		return
	case r.freq == "monthly":
		m.approx("each turn is on call only for its first %s; Klaxon's restrictions repeat weekly and cannot say it: the layer covers whole turns", r.dur)
		return
	}
	var out []klaxonv1alpha1.TimeRestriction
	switch {
	case p == day:
		out = append(out, r.window(r.start, loc, everyDay))
	case p == week:
		out = append(out, r.window(r.start, loc, []time.Weekday{r.start.In(loc).Weekday()}))
	case r.freq == "hourly" && day%p == 0:
		for t := r.start; t.Before(r.start.Add(day)); t = t.Add(p) {
			out = append(out, r.window(t, loc, everyDay))
		}
		if !sameOffsets(loc, time.UTC, r.start) {
			m.approx("its hourly turns keep their length across daylight saving time changes, while Klaxon's windows keep the wall clock: after a change they are an hour apart")
		}
	default:
		m.approx("each turn is on call only for its first %s of %s; Klaxon's restrictions repeat daily or weekly and cannot say it: the layer covers whole turns", r.dur, p)
		return
	}
	if len(out) > maxRestrictions {
		m.approx("it needs %d windows; Klaxon allows %d: the layer covers whole turns", len(out), maxRestrictions)
		return
	}
	r.checkMinutes(m, loc)
	m.layer.Restrictions = out
}

// byDayRestrictions limits the layer to the by_day days, from the start's
// time of day for dur.
func (r *recurrence) byDayRestrictions(m *layerMapping, sh *shift, turns int, loc *time.Location) {
	if r.freq != "daily" && r.freq != "weekly" {
		m.approx("by_day with a %s frequency was left out: the layer covers every day", r.freq)
		return
	}
	if r.interval != 1 {
		m.approx("it repeats every %d %s periods on its by_day days; Klaxon's restrictions repeat weekly, so the layer covers those days in every week", r.interval, r.freq)
	}
	if r.dur > day {
		m.approx("each by_day turn lasts %s, more than a day; Klaxon's restrictions cannot say it: the layer covers whole turns", r.dur)
		return
	}
	if turns > 1 {
		switch r.freq {
		case "daily":
			m.approx("it rotates %d turns on by_day days; Klaxon hands over every day, the days left out included, so who takes which day may differ: see the verify differences", turns)
		case "weekly":
			weekStart := "SU"
			if sh.WeekStart != nil {
				weekStart = strings.ToUpper(*sh.WeekStart)
			}
			if wd, ok := icalDays[weekStart]; !ok || wd != r.start.Weekday() {
				m.approx("its week starts on %s but its first turn on %s: Grafana OnCall hands over at the week's start, Klaxon a week after the first turn", importer.Quote(weekStart), r.start.Weekday())
			}
		}
	}
	// The days are those of the shift's zone; in the schedule's zone the
	// start may fall on another day.
	shiftDays := int(r.start.In(loc).Weekday()) - int(r.start.Weekday())
	days := make([]time.Weekday, 0, len(r.days))
	for _, d := range r.days {
		days = append(days, time.Weekday((int(d)+shiftDays+7)%7))
	}
	r.checkMinutes(m, loc)
	m.layer.Restrictions = []klaxonv1alpha1.TimeRestriction{r.window(r.start, loc, days)}
}

// window is the restriction of a time on call of dur from t's time of day
// in loc, on days: the same-day form below a day, else the multi-day form.
// Its end is counted on the clock from t's time of day, as the window
// repeats all year: a first turn across a change of daylight saving time
// does not move it.
func (r *recurrence) window(t time.Time, loc *time.Location, days []time.Weekday) klaxonv1alpha1.TimeRestriction {
	t = t.In(loc)
	from, _ := hhmm(t, loc)
	h, mi, _ := t.Clock()
	minutes := h*60 + mi + int(r.dur/time.Minute)
	to := fmt.Sprintf("%02d:%02d", minutes/60%24, minutes%60)
	if r.dur <= day {
		out := klaxonv1alpha1.TimeRestriction{From: from, To: to}
		ds := slices.Clone(days)
		slices.SortFunc(ds, func(a, b time.Weekday) int { return mondayFirst(a) - mondayFirst(b) })
		for _, d := range ds {
			out.Days = append(out.Days, klaxonDays[d])
		}
		return out
	}
	return klaxonv1alpha1.TimeRestriction{
		FromDay: klaxonDays[t.Weekday()], From: from,
		ToDay: klaxonDays[(int(t.Weekday())+minutes/(24*60))%7], To: to,
	}
}

// checkMinutes notes a time on call that neither starts nor ends on a
// whole minute: restrictions are written in minutes.
func (r *recurrence) checkMinutes(m *layerMapping, loc *time.Location) {
	_, whole := hhmm(r.start, loc)
	if !whole || r.dur%time.Minute != 0 {
		m.approx("its times on call do not begin and end on whole minutes: Klaxon's windows are cut to the minute")
	}
}

func mondayFirst(d time.Weekday) int { return (int(d) + 6) % 7 }

// everyDay are the days of a window repeated daily.
var everyDay = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// lastEnd returns when the last turn that begins by until ends: Grafana
// OnCall lets a turn begun before until run its full length. ok is false
// when no turn begins by until.
func (r *recurrence) lastEnd(until time.Time) (time.Time, bool) {
	if until.Before(r.start) {
		return time.Time{}, false
	}
	if r.days != nil && (r.freq == "daily" || r.freq == "weekly") {
		y, mo, d := until.Date()
		h, mi, s := r.start.Clock()
		for i := 0; i < 15; i++ {
			c := time.Date(y, mo, d-i, h, mi, s, 0, r.start.Location())
			if !c.After(until) && !c.Before(r.start) && slices.Contains(r.days, c.Weekday()) {
				return c.Add(r.dur), true
			}
		}
		return time.Time{}, false
	}
	k := r.turnsBefore(until)
	// The estimate is off by at most a turn or two (days of 23 or 25
	// hours, months of unequal length): step to the last turn by until.
	for i := 0; i < 4 && r.at(k+1).Compare(until) <= 0; i++ {
		k++
	}
	for i := 0; i < 4 && k > 0 && r.at(k).After(until); i++ {
		k--
	}
	if r.at(k).After(until) {
		return time.Time{}, false
	}
	return r.at(k).Add(r.dur), true
}

// turnsBefore estimates how many turns begin from start to until, in whole
// seconds or months, which do not overflow as durations of centuries do.
func (r *recurrence) turnsBefore(until time.Time) int {
	secs := until.Unix() - r.start.Unix()
	var k int64
	switch r.freq {
	case "hourly":
		k = secs / (3600 * int64(r.interval))
	case "daily":
		k = secs / (86400 * int64(r.interval))
	case "weekly":
		k = secs / (7 * 86400 * int64(r.interval))
	default:
		months := int64(until.Year()-r.start.Year())*12 + int64(until.Month()-r.start.Month())
		k = months / int64(r.interval)
	}
	return int(max(k-1, 0))
}

// describeDays lists weekdays for a note.
func describeDays(days []time.Weekday) string {
	var out []string
	for _, d := range days {
		out = append(out, string(klaxonDays[d]))
	}
	return fmt.Sprint(out)
}

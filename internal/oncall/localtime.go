package oncall

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// StartLayout is the layout of a layer's start: local time in the schedule's
// time zone, without an offset, so that the start keeps its wall-clock meaning
// whatever the DST rules of the zone.
const StartLayout = "2006-01-02T15:04:05"

var (
	startPattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`)
	clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)
)

// wallTime is a local date and time of day, read in a schedule's time zone.
type wallTime struct {
	year                 int
	month                time.Month
	day                  int
	hour, minute, second int
}

// parseStart reads a layer start written in StartLayout.
func parseStart(s string) (wallTime, error) {
	if !startPattern.MatchString(s) {
		return wallTime{}, fmt.Errorf("must be local time written as %s", StartLayout)
	}
	// time.Parse rejects dates that do not exist, such as 2026-02-30.
	p, err := time.Parse(StartLayout, s)
	if err != nil {
		return wallTime{}, fmt.Errorf("not a valid date and time: %w", err)
	}
	return wallTime{p.Year(), p.Month(), p.Day(), p.Hour(), p.Minute(), p.Second()}, nil
}

// in returns the instant at which the wall clock in loc shows w, read as
// instant reads it.
func (w wallTime) in(loc *time.Location) time.Time {
	return instant(loc, w.year, w.month, w.day, w.hour, w.minute, w.second)
}

// clock is a time of day, in minutes since midnight.
type clock int

// parseClock reads a time of day written "HH:MM".
func parseClock(s string) (clock, error) {
	m := clockPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, errors.New("must be a time of day written HH:MM, from 00:00 to 23:59")
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	return clock(h*60 + mi), nil
}

const secondsPerDay = 24 * 60 * 60

// instant returns the instant at which the wall clock in loc shows the given
// date and time; out-of-range days and minutes carry over as in time.Date.
//
// time.Date leaves the answer unspecified around DST changes, and in practice
// it differs between zones, so the rule is fixed here, as RFC 5545 does: a
// time skipped by a spring-forward gap is read with the offset in force
// before the gap (02:30 in a 02:00-03:00 gap becomes 03:30), and a time that
// occurs twice at a fall-back is its first occurrence.
func instant(loc *time.Location, year int, month time.Month, day, hour, minute, second int) time.Time {
	// The wall time counted as if it were UTC; subtracting the zone offset
	// in force gives the instant.
	wall := time.Date(year, month, day, hour, minute, second, 0, time.UTC).Unix()
	before := offsetAt(loc, wall-secondsPerDay)
	after := offsetAt(loc, wall+secondsPerDay)

	found := false
	var best int64
	for _, off := range []int64{before, after} {
		candidate := wall - off
		if offsetAt(loc, candidate) == off && (!found || candidate < best) {
			best, found = candidate, true
		}
	}
	if !found {
		// The wall time falls in a gap.
		best = wall - before
	}
	return time.Unix(best, 0).In(loc)
}

// offsetAt is loc's offset from UTC, in seconds, at the given Unix time.
func offsetAt(loc *time.Location, unix int64) int64 {
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return int64(off)
}

// localDate returns the date of t on the wall clock of loc.
func localDate(t time.Time, loc *time.Location) (int, time.Month, int) {
	return t.In(loc).Date()
}

// weekdayOf returns the day of the week of a (possibly out-of-range) date.
func weekdayOf(year int, month time.Month, day int) time.Weekday {
	return time.Date(year, month, day, 12, 0, 0, 0, time.UTC).Weekday()
}

// dayBegins returns an instant no later than the first one at which the
// wall clock in loc shows the given (possibly out-of-range) date: its
// midnight read with the larger of the offsets in force around it, so that
// a DST change that night cannot make the answer late. Like instant, it
// assumes that the offset changes at most once within a day of midnight.
func dayBegins(loc *time.Location, year int, month time.Month, day int) time.Time {
	wall := time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix()
	off := max(offsetAt(loc, wall-secondsPerDay), offsetAt(loc, wall+secondsPerDay))
	return time.Unix(wall-off, 0)
}

// localLayouts are the ways a person writes a local wall-clock time.
var localLayouts = []string{StartLayout, "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}

// ParseLocal reads a wall-clock time without an offset, such as
// "2026-12-24T18:00" or "2026-12-24 18:00:00", in loc, with the rules a
// layer start is read by: a time skipped by a spring-forward gap moves on
// by the gap, and a time that occurs twice is its first occurrence.
func ParseLocal(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range localLayouts {
		if p, err := time.Parse(layout, s); err == nil {
			return instant(loc, p.Year(), p.Month(), p.Day(), p.Hour(), p.Minute(), p.Second()), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a local time written as 2006-01-02T15:04 or 2006-01-02 15:04[:05]", s)
}

package pagerduty

import (
	"fmt"
	"strconv"
	"strings"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

const (
	secondsPerDay  = 24 * 60 * 60
	secondsPerWeek = 7 * secondsPerDay
	// maxRestrictions is how many restrictions a Klaxon layer takes.
	maxRestrictions = 32
)

// isoWeekdays are PagerDuty's days of the week, ISO 8601: 1 is Monday.
var isoWeekdays = [8]klaxonv1alpha1.Weekday{
	1: klaxonv1alpha1.Monday, 2: klaxonv1alpha1.Tuesday, 3: klaxonv1alpha1.Wednesday, 4: klaxonv1alpha1.Thursday,
	5: klaxonv1alpha1.Friday, 6: klaxonv1alpha1.Saturday, 7: klaxonv1alpha1.Sunday,
}

var everyDay = []klaxonv1alpha1.Weekday{
	klaxonv1alpha1.Monday, klaxonv1alpha1.Tuesday, klaxonv1alpha1.Wednesday, klaxonv1alpha1.Thursday,
	klaxonv1alpha1.Friday, klaxonv1alpha1.Saturday, klaxonv1alpha1.Sunday,
}

// coverage is what a layer's restrictions become: Klaxon restrictions,
// or all the time, or none of it.
type coverage struct {
	restrictions []klaxonv1alpha1.TimeRestriction
	// always: the restrictions cover all the time (or there are none).
	always bool
	// notes say what changed; approximated says whether coverage differs.
	notes        []string
	approximated bool
}

// never says whether the layer covers no time at all.
func (c *coverage) never() bool { return !c.always && len(c.restrictions) == 0 }

// mapRestrictions turns a layer's PagerDuty restrictions, read in the
// schedule's time zone, into Klaxon restrictions. A daily restriction opens
// on every day; a weekly one on its day, in the same-day form when it lasts
// a day or less and in the multi-day form when longer. Either that lasts a
// whole day (daily) or week (weekly) or more covers all the time.
func mapRestrictions(rs []restriction) coverage {
	if len(rs) == 0 {
		return coverage{always: true}
	}
	var c coverage
	for i := range rs {
		r := &rs[i]
		sod, err := parseTimeOfDay(r.StartTimeOfDay)
		if err != nil {
			c.notes = append(c.notes, fmt.Sprintf("a %s's start_time_of_day %q %v: left out", kindWord(r.Type), importer.Clip(r.StartTimeOfDay, importer.MaxValue), err))
			c.approximated = true
			continue
		}
		dur := r.DurationSeconds
		if dur <= 0 {
			c.notes = append(c.notes, fmt.Sprintf("a %s at %s lasts no time: left out", kindWord(r.Type), clock(sod)))
			continue
		}
		if sod%60 != 0 || dur%60 != 0 {
			c.notes = append(c.notes, fmt.Sprintf("a %s at %s for %ds is not in whole minutes, as Klaxon's are: cut to whole minutes",
				kindWord(r.Type), importer.Clip(r.StartTimeOfDay, importer.MaxValue), dur))
			c.approximated = true
			sod -= sod % 60
			dur -= dur % 60
			if dur == 0 {
				continue
			}
		}
		switch r.Type {
		case "daily_restriction":
			if dur >= secondsPerDay {
				c.always = true
				continue
			}
			c.restrictions = append(c.restrictions, klaxonv1alpha1.TimeRestriction{
				Days: everyDay, From: clock(sod), To: clock((sod + dur) % secondsPerDay)})
		case "weekly_restriction":
			if r.StartDayOfWeek < 1 || r.StartDayOfWeek > 7 {
				c.notes = append(c.notes, fmt.Sprintf("a weekly_restriction's start_day_of_week %d is no ISO day (1 to 7): left out", r.StartDayOfWeek))
				c.approximated = true
				continue
			}
			c.restrictions = append(c.restrictions, weekly(r.StartDayOfWeek, sod, dur, &c))
		default:
			c.notes = append(c.notes, fmt.Sprintf("a restriction of type %q is neither daily nor weekly: left out", importer.Clip(r.Type, importer.MaxValue)))
			c.approximated = true
		}
	}
	if c.always {
		// One restriction covering all the time makes the others moot,
		// and so whatever was cut or left out of them.
		c.restrictions = nil
		if c.approximated {
			c.notes = append(c.notes, "a restriction covers all the time, so the layer is always on as in PagerDuty")
			c.approximated = false
		}
	}
	return c
}

// weekly maps a weekly restriction opening on ISO day at sod seconds into
// the day, lasting dur seconds; a week or more sets c.always.
func weekly(day int, sod, dur int64, c *coverage) klaxonv1alpha1.TimeRestriction {
	if dur >= secondsPerWeek {
		c.always = true
		return klaxonv1alpha1.TimeRestriction{}
	}
	if dur <= secondsPerDay {
		// A window that crosses midnight belongs to the day it opens; one
		// of a whole day is from == to.
		return klaxonv1alpha1.TimeRestriction{Days: []klaxonv1alpha1.Weekday{isoWeekdays[day]},
			From: clock(sod), To: clock((sod + dur) % secondsPerDay)}
	}
	end := sod + dur
	toDay := (int64(day-1)+end/secondsPerDay)%7 + 1
	return klaxonv1alpha1.TimeRestriction{FromDay: isoWeekdays[day], From: clock(sod),
		ToDay: isoWeekdays[toDay], To: clock(end % secondsPerDay)}
}

// parseTimeOfDay reads "HH:MM:SS" (or "HH:MM") as seconds into the day.
func parseTimeOfDay(s string) (int64, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 2 && len(parts) != 3 {
		return 0, fmt.Errorf("is not HH:mm:ss")
	}
	limits := []int64{24, 60, 60}
	var out int64
	for i, p := range parts {
		if len(p) != 2 {
			return 0, fmt.Errorf("is not HH:mm:ss")
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 || n >= limits[i] {
			return 0, fmt.Errorf("is not HH:mm:ss")
		}
		out = out*60 + n
	}
	if len(parts) == 2 {
		out *= 60
	}
	return out, nil
}

// clock writes seconds into the day as Klaxon's "HH:MM".
func clock(sod int64) string {
	return fmt.Sprintf("%02d:%02d", sod/3600, sod/60%60)
}

func kindWord(t string) string {
	switch t {
	case "daily_restriction", "weekly_restriction":
		return t
	}
	return "restriction"
}

package oncall

import (
	"slices"
	"strconv"
	"testing"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// refCovers is a reference for a layer's restrictions, written apart from
// the code under test: for each of the local dates from t's back to seven
// before it, every restriction that opens on that date's weekday opens at
// its wall-clock from and closes at its wall-clock to, on the same date or
// the next (the same-day form; the next when to <= from), or toDay after
// fromDay (a week when they describe the same day with to before from).
// No restrictions cover all the time.
func refCovers(loc *time.Location, rs []klaxonv1alpha1.TimeRestriction, t time.Time) bool {
	if len(rs) == 0 {
		return true
	}
	local := t.In(loc)
	for back := 0; back <= 7; back++ {
		day := time.Date(local.Year(), local.Month(), local.Day()-back, 12, 0, 0, 0, loc)
		for i := range rs {
			r := &rs[i]
			fromH, fromM := refClock(r.From)
			toH, toM := refClock(r.To)
			var days int
			if r.FromDay != "" {
				if refWeekday(r.FromDay) != day.Weekday() {
					continue
				}
				days = (int(refWeekday(r.ToDay)) - int(day.Weekday()) + 7) % 7
				if days == 0 && (toH*60+toM) < (fromH*60+fromM) {
					days = 7
				}
			} else {
				if !slices.ContainsFunc(r.Days, func(d klaxonv1alpha1.Weekday) bool { return refWeekday(d) == day.Weekday() }) {
					continue
				}
				if toH*60+toM <= fromH*60+fromM {
					days = 1
				}
			}
			open := refInstant(loc, day.Year(), day.Month(), day.Day(), fromH, fromM)
			closes := refInstant(loc, day.Year(), day.Month(), day.Day()+days, toH, toM)
			if !t.Before(open) && t.Before(closes) {
				return true
			}
		}
	}
	return false
}

// refInstant is when loc's clocks show the date and time: time.Date's
// answer, with the rules made explicit where time.Date leaves them open. A
// time a spring-forward gap skips is read with the offset of before the
// gap, and a time shown twice at a fall-back is its first showing.
func refInstant(loc *time.Location, year int, month time.Month, day, hour, minute int) time.Time {
	t := time.Date(year, month, day, hour, minute, 0, 0, loc)
	naive := time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
	_, offBefore := t.Add(-24 * time.Hour).Zone()
	if w := t.In(loc); w.Hour() != hour || w.Minute() != minute || w.Day() != naive.Day() {
		// Skipped: the clocks jumped over it.
		return naive.Add(-time.Duration(offBefore) * time.Second)
	}
	// Shown twice when an earlier instant, by a fall-back's length, shows it too.
	if _, off := t.Zone(); offBefore > off {
		earlier := t.Add(-time.Duration(offBefore-off) * time.Second)
		if e := earlier.In(loc); e.Hour() == hour && e.Minute() == minute {
			return earlier
		}
	}
	return t
}

func refClock(s string) (hour, minute int) {
	hour, _ = strconv.Atoi(s[:2])
	minute, _ = strconv.Atoi(s[3:5])
	return hour, minute
}

func refWeekday(d klaxonv1alpha1.Weekday) time.Weekday {
	return time.Weekday(slices.Index([]klaxonv1alpha1.Weekday{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}, d))
}

// The reference agrees with the windows around a change where it matters:
// a window opening in Berlin's skipped hour opens at 03:30, one closing in
// New York's repeated hour closes at its first 01:30, and a weekend window
// spans the days between.
func TestReferenceWindows(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	sun := []klaxonv1alpha1.Weekday{"Sun"}
	cases := []struct {
		loc  *time.Location
		r    klaxonv1alpha1.TimeRestriction
		at   string
		want bool
	}{
		{berlin, klaxonv1alpha1.TimeRestriction{Days: sun, From: "02:30", To: "05:00"}, "2026-03-29T01:29:00Z", false}, // 03:29 CEST
		{berlin, klaxonv1alpha1.TimeRestriction{Days: sun, From: "02:30", To: "05:00"}, "2026-03-29T01:30:00Z", true},  // 03:30 CEST
		{ny, klaxonv1alpha1.TimeRestriction{Days: sun, From: "00:00", To: "01:30"}, "2026-11-01T05:29:00Z", true},      // 01:29 EDT
		{ny, klaxonv1alpha1.TimeRestriction{Days: sun, From: "00:00", To: "01:30"}, "2026-11-01T05:30:00Z", false},     // 01:30 EDT
		{berlin, klaxonv1alpha1.TimeRestriction{FromDay: "Fri", From: "18:00", ToDay: "Mon", To: "09:00"}, "2026-11-29T12:00:00Z", true},
		{berlin, klaxonv1alpha1.TimeRestriction{FromDay: "Fri", From: "18:00", ToDay: "Mon", To: "09:00"}, "2026-11-30T08:00:00Z", false},
		{berlin, klaxonv1alpha1.TimeRestriction{FromDay: "Mon", From: "18:00", ToDay: "Mon", To: "09:00"}, "2026-11-30T07:59:00Z", true},
	}
	for _, tc := range cases {
		at, _ := time.Parse(time.RFC3339, tc.at)
		rs := []klaxonv1alpha1.TimeRestriction{tc.r}
		if got := refCovers(tc.loc, rs, at); got != tc.want {
			t.Errorf("refCovers(%+v, %s) = %v, want %v", tc.r, at.In(tc.loc), got, tc.want)
		}
		rec, err := CompileRecurrence("spec", tc.loc.String(), tc.r)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Covers(at); got != tc.want {
			t.Errorf("Covers(%+v, %s) = %v, want %v", tc.r, at.In(tc.loc), got, tc.want)
		}
	}
}

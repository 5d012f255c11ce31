package grafanaoncall

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// Limits of Klaxon's schedules, as the CRD states them.
const (
	maxLayers       = 16
	maxParticipants = 128
	maxGroups       = 32
	maxMembers      = 50
	maxRestrictions = 32
	maxOverrides    = 128
	day             = 24 * time.Hour
	week            = 7 * day
)

// localLayout is how Grafana OnCall writes a shift's start and until:
// local time in the shift's time zone.
const localLayout = "2006-01-02T15:04:05"

// icalDays are the by_day values and the Klaxon weekdays they name.
var icalDays = map[string]time.Weekday{
	"MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday, "TH": time.Thursday,
	"FR": time.Friday, "SA": time.Saturday, "SU": time.Sunday,
}

var klaxonDays = [7]klaxonv1alpha1.Weekday{
	klaxonv1alpha1.Sunday, klaxonv1alpha1.Monday, klaxonv1alpha1.Tuesday, klaxonv1alpha1.Wednesday,
	klaxonv1alpha1.Thursday, klaxonv1alpha1.Friday, klaxonv1alpha1.Saturday,
}

// loadZone reads an IANA time zone name as the CRD accepts it.
func loadZone(name string) (*time.Location, error) {
	if !importer.ZoneName(name) {
		return nil, fmt.Errorf("time zone %s is no IANA time zone name", importer.Quote(name))
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %s is unknown: %w", importer.Quote(name), err)
	}
	return loc, nil
}

// parseLocal reads a start or until: local time in loc, or an instant with
// its offset.
func parseLocal(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation(localLayout, s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s is no time such as 2026-12-07T09:00:00", importer.Quote(s))
}

// layerMapping is what became of one shift in a schedule's layer.
type layerMapping struct {
	layer   klaxonv1alpha1.ScheduleLayer
	outcome importer.Outcome
	notes   []string
	// skip: the shift gave no layer (the notes say why).
	skip bool
}

func (m *layerMapping) approx(format string, args ...any) {
	if m.outcome == importer.Mapped {
		m.outcome = importer.Approximated
	}
	m.notes = append(m.notes, fmt.Sprintf(format, args...))
}

func (m *layerMapping) drop(format string, args ...any) {
	m.outcome = importer.NotMapped
	m.skip = true
	m.notes = append(m.notes, fmt.Sprintf(format, args...))
}

// shiftContext is what mapping a shift needs besides the shift.
type shiftContext struct {
	// loc is the schedule's time zone, in which layers are written.
	loc *time.Location
	// person returns the Responder name of a Grafana OnCall user id.
	person func(id string) (string, bool)
	// from is the start of the import's window: a shift that ended
	// before it is left out, and its id set in ended.
	from  time.Time
	ended map[string]bool
}

// mapShift maps a rolling_users, recurrent_event or single_event shift to
// a layer (without its name and combine, which depend on the others).
func mapShift(sh *shift, sc shiftContext) layerMapping {
	m := layerMapping{outcome: importer.Mapped}
	shiftLoc := sc.loc
	if sh.TimeZone != nil && *sh.TimeZone != "" {
		loc, err := loadZone(*sh.TimeZone)
		if err != nil {
			m.drop("%v: set the shift's time zone by hand", err)
			return m
		}
		shiftLoc = loc
	}
	start, err := parseLocal(sh.Start, shiftLoc)
	if err != nil {
		m.drop("start %v", err)
		return m
	}
	start = start.In(shiftLoc)
	if y := start.In(sc.loc).Year(); y < 1 || y > lastYear {
		m.drop("it starts at %s, beyond the years 1 to %d that Klaxon's times can say", start.Format(time.RFC3339), lastYear)
		return m
	}
	if sh.Duration < 60 {
		m.drop("its duration %d s is less than a minute, the least Klaxon's windows say", sh.Duration)
		return m
	}
	if sh.Duration > 100*365*86400 {
		m.drop("its duration %d s is more than a century", sh.Duration)
		return m
	}
	dur := time.Duration(sh.Duration) * time.Second
	if !sameOffsets(shiftLoc, sc.loc, start) {
		m.approx("its time zone %s is not the schedule's %s: its times were converted at %s, and move by the difference where the two zones change to or from daylight saving time on different dates", shiftLoc, sc.loc, start.Format("2006-01-02"))
	}

	groups := m.groups(sh, sc.person)
	if m.skip {
		return m
	}
	setPeople(&m.layer, groups)

	freq := ""
	if sh.Frequency != nil {
		freq = *sh.Frequency
	}
	if sh.Type == "single_event" || freq == "" {
		m.layer.Start = wall(start, sc.loc)
		m.layer.Shift = metav1.Duration{Duration: max(dur, oncall.MinShift)}
		end := start.Add(dur)
		m.setEnd(start, end, sc.loc)
		if !end.After(sc.from) {
			m.drop("it ended at %s, before the imported window: left out", end.UTC().Format(time.RFC3339))
			sc.ended[importer.Clip(sh.ID, importer.MaxValue)] = true
		}
		if len(sh.ByDay) > 0 || sh.Until != nil {
			m.notes = append(m.notes, "it has no frequency: by_day and until were ignored, as Grafana OnCall ignores them")
		}
		return m
	}
	interval := 1
	if sh.Interval != nil {
		interval = *sh.Interval
	}
	if interval < 1 || interval > 1000 {
		m.drop("its interval %d is out of range", interval)
		return m
	}
	if len(sh.ByMonth) > 0 || len(sh.ByMonthday) > 0 {
		m.approx("its by_month %v and by_monthday %v were left out: Klaxon's restrictions are weekly, so the layer covers every month and day of the month", importer.Clip(fmt.Sprint(sh.ByMonth), importer.MaxValue), importer.Clip(fmt.Sprint(sh.ByMonthday), importer.MaxValue))
	}
	rec := recurrence{freq: freq, interval: interval, start: start, dur: dur}
	if len(sh.ByDay) > 0 {
		days, err := byDays(sh.ByDay)
		if err != nil {
			m.drop("%v", err)
			return m
		}
		rec.days = days
	}
	switch freq {
	case "hourly", "daily", "weekly":
	case "monthly":
		rec.monthly(&m)
	default:
		m.drop("its frequency %s is unknown", importer.Quote(freq))
		return m
	}
	if m.skip {
		return m
	}
	m.layer.Start = wall(start, sc.loc)
	m.layer.Shift = metav1.Duration{Duration: rec.period()}
	if freq == "hourly" && rec.period()%day == 0 && !sameOffsets(sc.loc, time.UTC, start) {
		m.approx("its hourly turns keep their length across daylight saving time changes, while Klaxon's whole-day turns keep the wall clock: after a change its handoffs are an hour apart")
	}
	if rec.days != nil {
		rec.byDayRestrictions(&m, sh, len(groups), sc.loc)
	} else {
		rec.restrictions(&m, sc.loc)
	}
	if m.skip {
		return m
	}
	if sh.Until != nil && *sh.Until != "" {
		until, err := parseLocal(*sh.Until, shiftLoc)
		if err != nil {
			m.drop("until %v", err)
			return m
		}
		end, ok := rec.lastEnd(until.In(shiftLoc))
		if !ok {
			m.drop("its until %s is before its first turn: it puts nobody on call", importer.Quote(*sh.Until))
			return m
		}
		if !end.After(sc.from) {
			m.drop("it ended at %s, before the imported window: left out", end.UTC().Format(time.RFC3339))
			sc.ended[importer.Clip(sh.ID, importer.MaxValue)] = true
			return m
		}
		m.setEnd(start, end, sc.loc)
	}
	return m
}

// lastYear is the last year a layer's times and an override's instants
// can be written in: RFC 3339 has four digits for it.
const lastYear = 9999

// setEnd writes the layer's end, the local time of end. An end past the
// year 9999 is no end: nothing ends after it. Where the clocks go back,
// the local time of end may come before that of the layer's start: the
// layer then ends at the start's local time plus its length, on the clock.
func (m *layerMapping) setEnd(start, end time.Time, loc *time.Location) {
	if end.In(loc).Year() > lastYear {
		return
	}
	from, to := wall(start, loc), wall(end, loc)
	if to > from {
		m.layer.End = to
		return
	}
	clock, err := time.Parse(oncall.StartLayout, from)
	if err != nil {
		return
	}
	clock = clock.Add(end.Sub(start))
	if clock.Year() > lastYear {
		return
	}
	m.layer.End = clock.Format(oncall.StartLayout)
	m.approx("it ends at %s local time, where the clocks go back to before its start at %s: the layer ends at %s, its start plus its length on the clock, later than in Grafana OnCall by the time the clocks went back", to, from, m.layer.End)
}

// groups returns the turns of sh as Responder names, a turn a list.
func (m *layerMapping) groups(sh *shift, person func(string) (string, bool)) [][]string {
	var source [][]string
	switch sh.Type {
	case "rolling_users":
		source = sh.RollingUsers
	case "recurrent_event", "single_event":
		source = [][]string{sh.Users}
	default:
		m.drop("its type %s is unknown", importer.Quote(sh.Type))
		return nil
	}
	if len(source) > maxParticipants {
		m.drop("it has %d turns; Klaxon allows %d a layer: split it into several shifts", len(source), maxParticipants)
		return nil
	}
	if sh.StartRotationIndex != nil && len(source) > 0 {
		if i := *sh.StartRotationIndex; i > 0 && i < len(source) {
			source = append(slices.Clone(source[i:]), source[:i]...)
		}
	}
	var out [][]string
	var unknown missing
	defer func() {
		if unknown.n > 0 {
			m.approx("users not among the users read were left out of their turns: %s", unknown)
		}
	}()
	for i, g := range source {
		if len(g) > maxMembers {
			m.drop("turn %d has %d people; Klaxon allows %d a group", i+1, len(g), maxMembers)
			return nil
		}
		var names []string
		for _, id := range g {
			name, ok := person(id)
			if !ok {
				unknown.add(id)
				continue
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			m.approx("turn %d has nobody: Klaxon's turns need someone, so it was left out and the turns after it come earlier", i+1)
			continue
		}
		out = append(out, names)
	}
	if len(out) == 0 {
		m.drop("it has nobody on call")
	}
	if len(out) > maxGroups && slices.ContainsFunc(out, func(g []string) bool { return len(g) > 1 }) {
		m.drop("it has %d turns, some of several people; Klaxon allows %d such turns a layer: split it into several shifts", len(out), maxGroups)
	}
	return out
}

// setPeople sets the layer's participants, or its groups when a turn has
// more than one person.
func setPeople(l *klaxonv1alpha1.ScheduleLayer, groups [][]string) {
	if slices.ContainsFunc(groups, func(g []string) bool { return len(g) > 1 }) {
		for _, g := range groups {
			l.Groups = append(l.Groups, klaxonv1alpha1.ScheduleGroup{Members: g})
		}
		return
	}
	for _, g := range groups {
		l.Participants = append(l.Participants, g[0])
	}
}

// byDays reads by_day values into weekdays, in week order, each once.
func byDays(in []string) ([]time.Weekday, error) {
	if len(in) > 7*4 {
		return nil, fmt.Errorf("by_day has %d days", len(in))
	}
	var out []time.Weekday
	for _, d := range in {
		wd, ok := icalDays[strings.ToUpper(d)]
		if !ok {
			return nil, fmt.Errorf("by_day %s is no day such as MO", importer.Quote(d))
		}
		if !slices.Contains(out, wd) {
			out = append(out, wd)
		}
	}
	slices.Sort(out)
	return out, nil
}

// wall writes t as local time in loc, as a layer's start and end are.
func wall(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(oncall.StartLayout)
}

// sameOffsets says whether a and b are the same distance apart all year
// round, so converting a shift's times between them keeps its handoffs.
func sameOffsets(a, b *time.Location, at time.Time) bool {
	if a.String() == b.String() {
		return true
	}
	diff := func(t time.Time) int {
		_, oa := t.In(a).Zone()
		_, ob := t.In(b).Zone()
		return oa - ob
	}
	// Daily over a year: zones change a week or a few apart.
	for d := 1; d <= 366; d++ {
		if diff(at.AddDate(0, 0, d)) != diff(at) {
			return false
		}
	}
	return true
}

// hhmm writes the time of day of t in loc as a restriction does, and says
// whether it fell on a whole minute.
func hhmm(t time.Time, loc *time.Location) (string, bool) {
	t = t.In(loc)
	return t.Format("15:04"), t.Second() == 0 && t.Nanosecond() == 0
}

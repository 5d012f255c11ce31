package opsgenie

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// Bounds of an OnCallSchedule, as its CRD sets them, and of a rotation's
// length as the import reads it.
const (
	maxLayers       = 16
	maxParticipants = 128
	maxRestrictions = 32
	maxLength       = 1000
	maxLayerName    = 63
	localLayout     = "2006-01-02T15:04:05"
)

// mappedSchedule is what became of one Opsgenie schedule.
type mappedSchedule struct {
	spec *klaxonv1alpha1.OnCallScheduleSpec
	// rotations are the ids and names of the rotations that became layers.
	rotations map[string]bool
	// everyone are the people of the layers, sorted.
	everyone []string
	notes    notes
	// why the schedule was not mapped, when spec is nil.
	why string
}

// mapSchedule maps a schedule's rotations to layers. Opsgenie puts on
// call everyone any rotation has, so every layer but the first adds its
// people to those below.
func mapSchedule(s schedule, p *people) mappedSchedule {
	m := mappedSchedule{rotations: map[string]bool{}}
	zone := s.Timezone
	loc, err := time.LoadLocation(zone)
	switch {
	case !importer.ZoneName(zone):
		m.why = fmt.Sprintf("its time zone %s is no IANA time zone name: write the schedule by hand", importer.Quote(zone))
		return m
	case err != nil:
		m.why = fmt.Sprintf("its time zone %s is unknown here: write the schedule by hand", importer.Quote(zone))
		return m
	case len(s.Rotations) == 0:
		m.why = "it has no rotations: Klaxon's schedules need at least one layer"
		return m
	case len(s.Rotations) > maxLayers:
		m.why = fmt.Sprintf("it has %d rotations and Klaxon's schedules at most %d layers: split it into schedules by hand", len(s.Rotations), maxLayers)
		return m
	}
	spec := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: zone}
	everyone := map[string]bool{}
	for i, r := range s.Rotations {
		layer, ok := mapRotation(r, loc, p, &m.notes)
		if !ok {
			continue
		}
		layer.Name = layerName(r.Name, i, spec.Layers)
		if len(spec.Layers) > 0 {
			layer.Combine = klaxonv1alpha1.CombineAdd
		}
		spec.Layers = append(spec.Layers, layer)
		m.rotations[r.ID] = true
		m.rotations["name:"+r.Name] = true
		for _, who := range layer.Participants {
			everyone[who] = true
		}
	}
	if len(spec.Layers) == 0 {
		m.why = "none of its rotations could be mapped: " + importer.Clip(strings.Join(m.notes.list, "; "), importer.MaxNote)
		return m
	}
	if left := len(s.Rotations) - len(spec.Layers); left > 0 {
		m.notes.lost("verify shows as differences the times the rotations left out (%d of %d) have someone on call", left, len(s.Rotations))
	}
	if s.Enabled != nil && !*s.Enabled {
		m.notes.lost("disabled in Opsgenie: Klaxon has no disabled schedules, and pages whoever it has on call")
	}
	if _, err := oncall.Compile(spec); err != nil {
		m.why = "Klaxon refuses the layers it maps to: " + importer.Clip(err.Error(), importer.MaxNote)
		return m
	}
	for who := range everyone {
		m.everyone = append(m.everyone, who)
	}
	slices.Sort(m.everyone)
	m.spec = spec
	return m
}

// layerName is a DNS-safe name of the rotation, unique among layers.
func layerName(name string, i int, layers []klaxonv1alpha1.ScheduleLayer) string {
	base := importer.Sanitize(name)
	if base == "" {
		base = "rotation-" + strconv.Itoa(i+1)
	}
	out := base
	for k := 2; slices.ContainsFunc(layers, func(l klaxonv1alpha1.ScheduleLayer) bool { return l.Name == out }); k++ {
		suffix := "-" + strconv.Itoa(k)
		out = base[:min(len(base), maxLayerName-len(suffix))] + suffix
	}
	return out
}

// mapRotation maps one rotation to a layer; when it cannot, it says why in
// n and returns false.
func mapRotation(r rotation, loc *time.Location, p *people, n *notes) (klaxonv1alpha1.ScheduleLayer, bool) {
	label := "rotation " + importer.Quote(r.Name)
	leftOut := func(format string, args ...any) (klaxonv1alpha1.ScheduleLayer, bool) {
		n.lost("%s left out: %s", label, fmt.Sprintf(format, args...))
		return klaxonv1alpha1.ScheduleLayer{}, false
	}
	var layer klaxonv1alpha1.ScheduleLayer
	switch {
	case len(r.Participants) == 0:
		return leftOut("it has no participants")
	case len(r.Participants) > maxParticipants:
		return leftOut("it has %d participants and a Klaxon layer at most %d", len(r.Participants), maxParticipants)
	}
	for _, who := range r.Participants {
		switch who.Type {
		case "user":
			name, ok := p.name(who)
			if !ok {
				return leftOut("its participant %s is none of the users read", describe(who))
			}
			layer.Participants = append(layer.Participants, name)
		case "none":
			return leftOut("it has turns with nobody on call (none), and every turn of a Klaxon layer has someone: add the rotation by hand, with restrictions for the empty turns")
		case "team", "escalation":
			return leftOut("its participant %s is no person, and Klaxon's layers rotate people: put the people it stands for into a layer by hand", describe(who))
		default:
			return leftOut("its participant %s is of an unknown type", describe(who))
		}
	}
	start, err := time.Parse(time.RFC3339, r.StartDate)
	if err != nil {
		return leftOut("its startDate %s is no RFC 3339 time", importer.Quote(r.StartDate))
	}
	length := r.Length
	if length == 0 {
		// Opsgenie's default length.
		length = 1
	}
	if length < 0 || length > maxLength {
		return leftOut("its length %d is not from 1 to %d", r.Length, maxLength)
	}
	switch r.Type {
	case "hourly":
		layer.Shift = metav1.Duration{Duration: time.Duration(length) * time.Hour}
		if length%24 == 0 && changesClocks(loc, start, r.EndDate) {
			n.lost("%s hands over every %d hours, and Klaxon reads a shift of %dh as whole days, handing over at the same time of day on the clocks of %s: across each clock change Klaxon's handoff is an hour earlier or later than Opsgenie's, and verify shows that hour as a difference when the window holds a clock change", label, length, length, loc)
		}
	case "daily":
		layer.Shift = metav1.Duration{Duration: time.Duration(length) * 24 * time.Hour}
	case "weekly":
		layer.Shift = metav1.Duration{Duration: time.Duration(length) * 7 * 24 * time.Hour}
	default:
		return leftOut("its type %s is none of hourly, daily, weekly", importer.Quote(r.Type))
	}
	layer.Start = start.In(loc).Format(localLayout)
	if back, err := oncall.ParseLocal(layer.Start, loc); err != nil || !back.Equal(start) {
		n.lost("%s starts at %s, which the clocks of %s show twice or never: Klaxon starts it at %s", label, start.UTC().Format(time.RFC3339), loc, layer.Start)
	}
	if r.EndDate != "" {
		end, err := time.Parse(time.RFC3339, r.EndDate)
		switch {
		case err != nil:
			return leftOut("its endDate %s is no RFC 3339 time", importer.Quote(r.EndDate))
		case !end.After(start):
			return leftOut("it ends (%s) before it starts", end.UTC().Format(time.RFC3339))
		}
		layer.End = end.In(loc).Format(localLayout)
		if layer.End <= layer.Start {
			return leftOut("it ends within the hour a clock change repeats")
		}
	}
	if r.TimeRestriction != nil {
		rs, ok := mapRestriction(*r.TimeRestriction, label, n)
		if !ok {
			return klaxonv1alpha1.ScheduleLayer{}, false
		}
		layer.Restrictions = rs
	}
	return layer, true
}

// changesClocks says whether the clocks of loc change their offset from
// UTC after start (and before end, an RFC 3339 time or empty).
func changesClocks(loc *time.Location, start time.Time, end string) bool {
	until, err := time.Parse(time.RFC3339, end)
	if err != nil {
		until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	t := start.In(loc)
	_, offset := t.Zone()
	// A zone's changes of name alone are few; a bound keeps a walk short.
	for range 64 {
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.Before(until) {
			return false
		}
		t = next.In(loc)
		if _, o := t.Zone(); o != offset {
			return true
		}
	}
	return true
}

var weekdays = map[string]klaxonv1alpha1.Weekday{
	"monday": klaxonv1alpha1.Monday, "tuesday": klaxonv1alpha1.Tuesday, "wednesday": klaxonv1alpha1.Wednesday,
	"thursday": klaxonv1alpha1.Thursday, "friday": klaxonv1alpha1.Friday, "saturday": klaxonv1alpha1.Saturday,
	"sunday": klaxonv1alpha1.Sunday,
}

var everyDay = []klaxonv1alpha1.Weekday{
	klaxonv1alpha1.Monday, klaxonv1alpha1.Tuesday, klaxonv1alpha1.Wednesday, klaxonv1alpha1.Thursday,
	klaxonv1alpha1.Friday, klaxonv1alpha1.Saturday, klaxonv1alpha1.Sunday,
}

// clockOf writes an hour and minute as "HH:MM"; Opsgenie's end of day,
// 24:00, is Klaxon's 00:00.
func clockOf(h, m int) (string, bool) {
	if h == 24 && m == 0 {
		h = 0
	}
	if h < 0 || h > 23 || m < 0 || m > 59 {
		return "", false
	}
	return fmt.Sprintf("%02d:%02d", h, m), true
}

// mapRestriction maps a rotation's time restriction: time-of-day is the
// same window every day, weekday-and-time-of-day a list of windows across
// days, both read on the schedule's clock.
func mapRestriction(tr timeRestriction, label string, n *notes) ([]klaxonv1alpha1.TimeRestriction, bool) {
	leftOut := func(format string, args ...any) ([]klaxonv1alpha1.TimeRestriction, bool) {
		n.lost("%s left out: %s", label, fmt.Sprintf(format, args...))
		return nil, false
	}
	switch tr.Type {
	case "time-of-day":
		if tr.Restriction == nil {
			return leftOut("its time-of-day restriction has no hours")
		}
		r := *tr.Restriction
		from, ok1 := clockOf(r.StartHour, r.StartMin)
		to, ok2 := clockOf(r.EndHour, r.EndMin)
		if !ok1 || !ok2 {
			return leftOut("its time-of-day restriction's hours are no times of day")
		}
		if from == to {
			n.lost("%s is restricted from %s to %s: taken as the whole day", label, from, to)
		}
		return []klaxonv1alpha1.TimeRestriction{{Days: slices.Clone(everyDay), From: from, To: to}}, true
	case "weekday-and-time-of-day":
		if len(tr.Restrictions) == 0 {
			return leftOut("its weekday restriction has no windows")
		}
		if len(tr.Restrictions) > maxRestrictions {
			return leftOut("it has %d restriction windows and a Klaxon layer at most %d", len(tr.Restrictions), maxRestrictions)
		}
		var out []klaxonv1alpha1.TimeRestriction
		for _, r := range tr.Restrictions {
			fromDay, ok1 := weekdays[r.StartDay]
			toDay, ok2 := weekdays[r.EndDay]
			from, ok3 := clockOf(r.StartHour, r.StartMin)
			to, ok4 := clockOf(r.EndHour, r.EndMin)
			if !ok1 || !ok2 || !ok3 || !ok4 {
				return leftOut("a restriction window (%s to %s) has no day or time Klaxon reads", importer.Quote(r.StartDay), importer.Quote(r.EndDay))
			}
			if fromDay == toDay && from == to {
				n.lost("%s: the window from %s %s to %s %s is empty or the whole week: left out of its restrictions", label, fromDay, from, toDay, to)
				continue
			}
			out = append(out, klaxonv1alpha1.TimeRestriction{FromDay: fromDay, From: from, ToDay: toDay, To: to})
		}
		if len(out) == 0 {
			return leftOut("none of its restriction windows could be mapped")
		}
		return out, true
	default:
		return leftOut("its restriction of type %s is none of time-of-day, weekday-and-time-of-day", importer.Quote(tr.Type))
	}
}

package pagerduty

import (
	"fmt"
	"slices"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

const (
	// maxLayers is how many layers a Klaxon schedule takes.
	maxLayers = 16
	// maxSourceLayers bounds the PagerDuty layers looked at one by one;
	// a schedule with more is not mapped without reading them.
	maxSourceLayers = 256
	// maxOverrides is how many overrides a schedule's spec takes.
	maxOverrides = 128
)

// mapSchedule maps one schedule with its overrides in the window, and
// reads its final schedule.
func (m *mapper) mapSchedule(s *schedule, overrides []override) {
	e := importer.Entry{SourceKind: "schedule", SourceID: s.ID, SourceName: s.Name}
	name, _ := m.names.Lookup(kindSchedule, s.ID)
	if note := m.nameNotes[kindSchedule+"/"+s.ID]; note != "" {
		e.Notes = append(e.Notes, note)
	}
	notMapped := func(format string, args ...any) {
		e.Outcome = importer.NotMapped
		e.Notes = append(e.Notes, fmt.Sprintf(format, args...))
		m.report(e)
	}
	zone, loc, ok := timeZone(s.TimeZone)
	if !ok {
		notMapped("its time zone %q is not one Klaxon knows: create the schedule by hand with an IANA zone such as Europe/Berlin", importer.Clip(s.TimeZone, importer.MaxValue))
		return
	}
	if zone != s.TimeZone {
		e.Notes = append(e.Notes, fmt.Sprintf("time zone %q is %s", importer.Clip(s.TimeZone, importer.MaxValue), zone))
	}
	if n := len(s.ScheduleLayers); n > maxSourceLayers {
		notMapped("it has %d layers; a Klaxon schedule has at most %d: split it by hand", n, maxLayers)
		return
	}
	approximated := false
	spec := klaxonv1alpha1.OnCallScheduleSpec{TimeZone: zone}
	people := m.people(s)
	names := layerNames(s.ScheduleLayers)
	// PagerDuty lists the layer that wins first; Klaxon's later layers win.
	for i := len(s.ScheduleLayers) - 1; i >= 0; i-- {
		l := &s.ScheduleLayers[i]
		ml := mapLayer(l, loc, m.window, names[i], people[i])
		spec.Layers = append(spec.Layers, ml.layers...)
		e.Notes = append(e.Notes, ml.notes...)
		approximated = approximated || ml.approximated
	}
	if len(spec.Layers) > maxLayers {
		notMapped("its layers make %d Klaxon layers; a Klaxon schedule has at most %d: split it by hand", len(spec.Layers), maxLayers)
		return
	}
	var ovNotes []string
	var ovApprox bool
	var ovEntries []importer.Entry
	spec.Overrides, ovNotes, ovApprox, ovEntries = m.mapOverrides(overrides, name)
	e.Notes = append(e.Notes, ovNotes...)
	approximated = approximated || ovApprox
	if len(spec.Layers) == 0 {
		if len(spec.Overrides) == 0 {
			notMapped("no layer covers any time from %s on: nothing to import", importer.Stamp(m.window.From))
			return
		}
		// A schedule needs a layer; one that has nobody on call until
		// long after the window adds nobody.
		spec.Layers = []klaxonv1alpha1.ScheduleLayer{{Name: "nobody", Participants: []string{"nobody"},
			Start: local(m.window.To.AddDate(100, 0, 0), loc), Shift: metav1.Duration{Duration: 24 * time.Hour}}}
		e.Notes = append(e.Notes, "only its overrides cover time from now on: layer nobody, which starts in 100 years, holds the place of its layers")
	}
	// Such turns page nobody in Klaxon, where PagerDuty pages (or at
	// least shows) someone: not the same schedule, whoever verify says.
	for _, id := range m.missingIn(s, overrides) {
		e.Notes = append(e.Notes, m.missingNote(id))
		approximated = true
	}
	final, finalNote := m.final(s, name)
	if finalNote != "" {
		e.Notes = append(e.Notes, finalNote)
	}
	e.Outcome = importer.Mapped
	if approximated {
		e.Outcome = importer.Approximated
	}
	obj := &klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	m.add(obj, e)
	// Each override is a source object of its own; what it became is part
	// of the schedule's spec.
	for _, oe := range ovEntries {
		m.report(oe)
	}
	if final != nil {
		m.result.Finals = append(m.result.Finals, *final)
	}
}

// people returns the Klaxon names of each layer's users, in turn order.
func (m *mapper) people(s *schedule) [][]string {
	out := make([][]string, len(s.ScheduleLayers))
	for i := range s.ScheduleLayers {
		for _, u := range s.ScheduleLayers[i].Users {
			out[i] = append(out[i], m.userName(u.User))
		}
	}
	return out
}

// mapOverrides maps the overrides that end after the window starts into
// the schedule's spec.overrides: a PagerDuty override puts one person on
// call in place of everyone, as a Klaxon schedule override does.
func (m *mapper) mapOverrides(list []override, schedule string) ([]klaxonv1alpha1.ScheduleOverride, []string, bool, []importer.Entry) {
	var out []klaxonv1alpha1.ScheduleOverride
	var notes []string
	var entries []importer.Entry
	// keptOverride is an override written, with its source id.
	type keptOverride struct {
		id string
		ov klaxonv1alpha1.ScheduleOverride
	}
	var kept []keptOverride
	approximated := false
	leftOut := func(o *override, note string) {
		notes = append(notes, note)
		entries = append(entries, importer.Entry{SourceKind: "override", SourceID: importer.Clip(o.ID, importer.MaxValue),
			Outcome: importer.NotMapped, Notes: []string{note}})
		approximated = true
	}
	for i := range list {
		o := &list[i]
		start, err1 := time.Parse(time.RFC3339, o.Start)
		end, err2 := time.Parse(time.RFC3339, o.End)
		switch {
		case err1 != nil || err2 != nil:
			leftOut(o, fmt.Sprintf("override %s: its start %s or end %s is not a time: left out", importer.Clip(o.ID, importer.MaxValue), importer.Quote(o.Start), importer.Quote(o.End)))
			continue
		case !end.After(start), !end.After(m.window.From):
			continue
		case o.User.ID == "":
			leftOut(o, fmt.Sprintf("override %s names no user: left out", importer.Clip(o.ID, importer.MaxValue)))
			continue
		}
		ov := klaxonv1alpha1.ScheduleOverride{User: m.userName(o.User), Start: metav1.NewTime(start.UTC()), End: metav1.NewTime(end.UTC())}
		kept = append(kept, keptOverride{id: importer.Clip(o.ID, importer.MaxValue), ov: ov})
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].ov.Start.Before(&kept[j].ov.Start) })
	if len(kept) > maxOverrides {
		notes = append(notes, fmt.Sprintf("%d overrides, more than the %d a Klaxon schedule takes: those from %s on are left out; add them as OnCallOverrides",
			len(kept), maxOverrides, importer.Stamp(kept[maxOverrides].ov.Start.Time)))
		for _, k := range kept[maxOverrides:] {
			entries = append(entries, importer.Entry{SourceKind: "override", SourceID: k.id, Outcome: importer.NotMapped,
				Notes: []string{fmt.Sprintf("beyond the %d overrides a Klaxon schedule takes: add it as an OnCallOverride", maxOverrides)}})
		}
		kept = kept[:maxOverrides]
		approximated = true
	}
	for _, k := range kept {
		out = append(out, k.ov)
		entries = append(entries, importer.Entry{SourceKind: "override", SourceID: k.id, Outcome: importer.Mapped,
			Notes: []string{fmt.Sprintf("%s on call in place of everyone from %s to %s, in spec.overrides of OnCallSchedule/%s", k.ov.User, importer.Stamp(k.ov.Start.Time), importer.Stamp(k.ov.End.Time), schedule)}})
	}
	for i := 1; i < len(out); i++ {
		if out[i].Start.Before(&out[i-1].End) {
			notes = append(notes, fmt.Sprintf("overrides of %s and %s overlap from %s: Klaxon puts both on call then",
				out[i-1].User, out[i].User, importer.Stamp(out[i].Start.Time)))
			approximated = true
		}
	}
	return out, notes, approximated, entries
}

// final reads the schedule's final schedule into the Klaxon names of its
// people, or says why there is none.
func (m *mapper) final(s *schedule, name string) (*importer.Final, string) {
	if s.FinalSchedule == nil {
		return nil, "PagerDuty gave no final_schedule: not verified"
	}
	f := &importer.Final{Schedule: name, SourceID: s.ID, Intervals: []importer.Interval{}}
	for _, re := range s.FinalSchedule.RenderedScheduleEntries {
		start, err1 := time.Parse(time.RFC3339, re.Start)
		end, err2 := time.Parse(time.RFC3339, re.End)
		if err1 != nil || err2 != nil || !end.After(start) {
			return nil, fmt.Sprintf("final_schedule entry %q to %q is no interval: not verified", importer.Clip(re.Start, importer.MaxValue), importer.Clip(re.End, importer.MaxValue))
		}
		if re.User == nil || re.User.ID == "" {
			continue
		}
		f.Intervals = append(f.Intervals, importer.Interval{Start: start.UTC(), End: end.UTC(), People: []string{m.userName(*re.User)}})
	}
	return f, ""
}

// missingIn returns the ids of the deleted or unknown users the schedule's
// layers or overrides name, sorted.
func (m *mapper) missingIn(s *schedule, overrides []override) []string {
	var out []string
	for i := range s.ScheduleLayers {
		for _, u := range s.ScheduleLayers[i].Users {
			if m.missing(u.User) {
				out = append(out, u.User.ID)
			}
		}
	}
	for _, o := range overrides {
		if m.missing(o.User) {
			out = append(out, o.User.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (m *mapper) missingNote(id string) string {
	name, _ := m.names.Lookup(kindResponder, id)
	return fmt.Sprintf("user %s (%s) is deactivated or deleted in PagerDuty but still takes turns: kept as %s, who has no Responder, so those turns page nobody; put someone else in their place",
		importer.Quote(m.missingNames[id]), importer.Clip(id, importer.MaxValue), name)
}

// timeZone returns the IANA name and location of a PagerDuty time zone,
// which may also be written as Rails names it ("Eastern Time (US & Canada)").
func timeZone(tz string) (string, *time.Location, bool) {
	if iana, ok := railsZones[tz]; ok {
		tz = iana
	}
	if !importer.ZoneName(tz) {
		return "", nil, false
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return "", nil, false
	}
	return tz, loc, true
}

package grafanaoncall

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

// maxOverrideLength is the longest OnCallOverride the CRD accepts.
const maxOverrideLength = 90 * day

// importSchedules reads the schedules and their shifts and maps them.
func (r *run) importSchedules(ctx context.Context) error {
	scheds, err := list[schedule](ctx, r.src, "schedules", nil)
	if err != nil {
		return err
	}
	shifts, err := list[shift](ctx, r.src, "on_call_shifts", nil)
	if err != nil {
		return err
	}
	byID := make(map[string]*shift, len(shifts))
	for i := range shifts {
		byID[shifts[i].ID] = &shifts[i]
	}
	used := map[string]bool{}
	slices.SortStableFunc(scheds, func(a, b schedule) int { return cmp.Compare(a.ID, b.ID) })
	seen := map[string]bool{}
	for i := range scheds {
		s := &scheds[i]
		if seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		for _, id := range s.Shifts {
			used[id] = true
		}
		if err := r.importSchedule(ctx, s, byID); err != nil {
			return err
		}
	}
	for i := range shifts {
		if sh := &shifts[i]; !used[sh.ID] {
			r.report(importer.Entry{SourceKind: "on_call_shift", SourceID: importer.Clip(sh.ID, importer.MaxValue), SourceName: importer.Clip(sh.Name, importer.MaxValue), Outcome: importer.NotMapped,
				Notes: []string{"no schedule lists it: it puts nobody on call in Grafana OnCall either"}})
		}
	}
	return nil
}

// importSchedule maps one schedule and reads its final shifts.
func (r *run) importSchedule(ctx context.Context, s *schedule, shifts map[string]*shift) error {
	entry := importer.Entry{SourceKind: "schedule", SourceID: importer.Clip(s.ID, importer.MaxValue), SourceName: importer.Clip(s.Name, importer.MaxValue), Outcome: importer.Mapped}
	if s.Type == "ical" {
		url := ""
		if s.ICalURLPrimary != nil {
			url = importer.Quote(*s.ICalURLPrimary)
		}
		entry.Outcome = importer.NotMapped
		entry.Notes = append(entry.Notes, fmt.Sprintf("an iCal schedule: its shifts live in the calendar at %s, which the API does not expose as shifts; write its layers by hand from that calendar", url))
		r.report(entry)
		return nil
	}
	zone := "UTC"
	if s.TimeZone != nil && *s.TimeZone != "" {
		zone = *s.TimeZone
	}
	loc, err := loadZone(zone)
	if err != nil {
		entry.Outcome = importer.NotMapped
		entry.Notes = append(entry.Notes, fmt.Sprintf("%v: set an IANA time zone in Grafana OnCall and import again", err))
		r.report(entry)
		return nil
	}
	if s.ICalOverrides != nil && *s.ICalOverrides != "" {
		entry.Outcome = importer.Approximated
		entry.Notes = append(entry.Notes, fmt.Sprintf("its overrides come from the calendar at %s, which the API does not expose: add them as OnCallOverrides by hand", importer.Quote(*s.ICalOverrides)))
	}
	var rotations, overrides []*shift
	var shiftEntries []importer.Entry
	// ended are the shifts left out for having ended before the window:
	// leaving them out changes nothing to come.
	ended := map[string]bool{}
	seen := map[string]bool{}
	var absent missing
	for _, id := range s.Shifts {
		if seen[id] {
			continue
		}
		seen[id] = true
		sh, ok := shifts[id]
		if !ok {
			absent.add(id)
			continue
		}
		if sh.Type == "override" {
			overrides = append(overrides, sh)
		} else {
			rotations = append(rotations, sh)
		}
	}
	if absent.n > 0 {
		entry.Outcome = importer.Approximated
		entry.Notes = append(entry.Notes, fmt.Sprintf("it lists shifts that on_call_shifts does not return, left out: %s", absent))
	}
	if len(rotations) > maxLayers {
		entry.Outcome = importer.NotMapped
		entry.Notes = append(entry.Notes, fmt.Sprintf("it has %d shifts; Klaxon allows %d layers a schedule: split it into several schedules by hand", len(rotations), maxLayers))
		r.report(entry)
		return nil
	}
	name, note := r.namer.Name("OnCallSchedule", s.ID, s.Name)
	if note != "" {
		entry.Notes = append(entry.Notes, note)
	}
	spec := klaxonv1alpha1.OnCallScheduleSpec{TimeZone: zone}
	sc := shiftContext{loc: loc, person: r.person, from: r.opts.Window.From, ended: ended}
	layers, layerEntries := mapLayers(rotations, sc, name)
	spec.Layers = layers
	shiftEntries = append(shiftEntries, layerEntries...)
	var extra []overrideObject
	spec.Overrides, extra, layerEntries = r.mapOverrides(overrides, loc, name, ended)
	shiftEntries = append(shiftEntries, layerEntries...)
	var changed []string
	for _, e := range shiftEntries {
		if e.Outcome != importer.Mapped && !ended[e.SourceID] && !slices.Contains(changed, e.SourceID) {
			changed = append(changed, e.SourceID)
		}
	}
	if len(changed) > 0 {
		entry.Outcome = importer.Approximated
		entry.Notes = append(entry.Notes, fmt.Sprintf("shifts approximated or left out: %s; see their entries and the verify differences", quoteList(changed)))
	}
	if len(spec.Layers) == 0 {
		entry.Outcome = importer.NotMapped
		entry.Notes = append(entry.Notes, "none of its shifts gives a layer Klaxon can run: write its layers by hand")
		r.report(entry)
		for _, e := range shiftEntries {
			e.Kind, e.Name = "", ""
			if e.Outcome == importer.Mapped {
				e.Outcome = importer.NotMapped
				e.Notes = append(e.Notes, "its schedule was not mapped")
			}
			r.report(e)
		}
		return nil
	}
	obj := &klaxonv1alpha1.OnCallSchedule{
		TypeMeta:   metav1.TypeMeta{APIVersion: klaxonv1alpha1.GroupVersion.String(), Kind: "OnCallSchedule"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       spec,
	}
	final, notes, err := r.readFinal(ctx, s.ID, name)
	if err != nil {
		return err
	}
	if len(notes) > 0 {
		entry.Outcome = importer.Approximated
		entry.Notes = append(entry.Notes, notes...)
	}
	r.res.Finals = append(r.res.Finals, final)
	r.add(obj, entry)
	r.schedules[s.ID] = name
	for _, e := range shiftEntries {
		r.report(e)
	}
	for _, o := range extra {
		r.add(o.obj, o.entry)
	}
	return nil
}

// overrideObject pairs an object written for a shift with its entry.
type overrideObject struct {
	obj   *klaxonv1alpha1.OnCallOverride
	entry importer.Entry
}

// mapLayers maps the rotations of a schedule to layers: lower levels
// first, as later layers win; shifts of one level after the first add to
// it, as Grafana OnCall puts everyone of overlapping shifts of a level on
// call.
func mapLayers(rotations []*shift, sc shiftContext, schedule string) ([]klaxonv1alpha1.ScheduleLayer, []importer.Entry) {
	order := slices.Clone(rotations)
	slices.SortStableFunc(order, func(a, b *shift) int { return cmp.Compare(a.Level, b.Level) })
	var layers []klaxonv1alpha1.ScheduleLayer
	var entries []importer.Entry
	names := map[string]bool{}
	levelSeen := map[int]bool{}
	// covers are what the layers of each level so far cover of a week.
	covers := map[int][]weekCover{}
	lowest := 0
	if len(order) > 0 {
		lowest = order[0].Level
	}
	for _, sh := range order {
		m := mapShift(sh, sc)
		e := importer.Entry{SourceKind: "on_call_shift", SourceID: importer.Clip(sh.ID, importer.MaxValue), SourceName: importer.Clip(sh.Name, importer.MaxValue), Outcome: m.outcome, Notes: m.notes}
		if !m.skip {
			m.layer.Name = layerName(sh, names)
			cover := coverOf(&m.layer)
			// A shift whose windows meet none of its level's earlier ones
			// is alone on call in them, as a Replace layer is.
			apart := !slices.ContainsFunc(covers[sh.Level], func(c weekCover) bool { return !disjoint(c, cover) })
			covers[sh.Level] = append(covers[sh.Level], cover)
			if levelSeen[sh.Level] && !apart {
				m.layer.Combine = klaxonv1alpha1.CombineAdd
				if sh.Level != lowest {
					e.Outcome = worse(e.Outcome, importer.Approximated)
					e.Notes = append(e.Notes, fmt.Sprintf("it shares level %d with an earlier shift, so it adds its people to that level's; where it alone of its level has someone, Klaxon keeps the lower levels' people beside it, where Grafana OnCall has only its people", sh.Level))
				}
			}
			levelSeen[sh.Level] = true
			layers = append(layers, m.layer)
			// The entry names its layer in a note, not the schedule as its
			// object: the schedule's own entry says whether it is mapped.
			e.Notes = append([]string{fmt.Sprintf("layer %s (level %d) of OnCallSchedule/%s", m.layer.Name, sh.Level, schedule)}, e.Notes...)
		}
		entries = append(entries, e)
	}
	return layers, entries
}

// layerName names a shift's layer, unique within its schedule.
func layerName(sh *shift, taken map[string]bool) string {
	base := importer.Sanitize(sh.Name)
	if base == "" {
		base = importer.Sanitize("shift-" + sh.ID)
	}
	if base == "" {
		base = "shift"
	}
	if len(base) > 55 {
		base = base[:55]
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	taken[name] = true
	return name
}

func worse(a, b importer.Outcome) importer.Outcome {
	rank := map[importer.Outcome]int{importer.Mapped: 0, importer.Approximated: 1, importer.NotMapped: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// mapOverrides maps override shifts: one person in place of everyone is
// an override of the schedule's spec; more people are the first of them
// there and an OnCallOverride adding the others.
func (r *run) mapOverrides(shifts []*shift, loc *time.Location, schedule string, ended map[string]bool) ([]klaxonv1alpha1.ScheduleOverride, []overrideObject, []importer.Entry) {
	var out []klaxonv1alpha1.ScheduleOverride
	var extra []overrideObject
	var entries []importer.Entry
	slices.SortStableFunc(shifts, func(a, b *shift) int { return cmp.Compare(a.Start, b.Start) })
	for _, sh := range shifts {
		e := importer.Entry{SourceKind: "on_call_shift", SourceID: importer.Clip(sh.ID, importer.MaxValue), SourceName: importer.Clip(sh.Name, importer.MaxValue), Outcome: importer.Mapped}
		notMapped := func(format string, args ...any) {
			e.Outcome = importer.NotMapped
			e.Notes = append(e.Notes, fmt.Sprintf(format, args...))
			entries = append(entries, e)
		}
		shiftLoc := loc
		if sh.TimeZone != nil && *sh.TimeZone != "" {
			l, err := loadZone(*sh.TimeZone)
			if err != nil {
				notMapped("override: %v", err)
				continue
			}
			shiftLoc = l
		}
		start, err := parseLocal(sh.Start, shiftLoc)
		if err != nil {
			notMapped("override: start %v", err)
			continue
		}
		if sh.Duration <= 0 {
			notMapped("override: its duration %d s is not positive", sh.Duration)
			continue
		}
		end := start.Add(time.Duration(sh.Duration) * time.Second)
		if start.UTC().Year() < 1 || end.UTC().Year() > lastYear {
			notMapped("override: it runs from %s to %s, beyond the years 1 to %d that Klaxon's times can say", start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), lastYear)
			continue
		}
		if !end.After(r.opts.Window.From) {
			notMapped("override: it ended at %s, before the imported window: left out", end.UTC().Format(time.RFC3339))
			ended[importer.Clip(sh.ID, importer.MaxValue)] = true
			continue
		}
		var users []string
		var unknown missing
		for _, id := range sh.Users {
			if name, ok := r.person(id); ok && !slices.Contains(users, name) {
				users = append(users, name)
			} else if !ok {
				unknown.add(id)
			}
		}
		if unknown.n > 0 {
			e.Outcome = importer.Approximated
			e.Notes = append(e.Notes, fmt.Sprintf("users not among the users read were left out: %s", unknown))
		}
		if len(users) == 0 {
			notMapped("override: it puts nobody on call; Klaxon's overrides name someone: remove people with an OnCallOverride by hand")
			continue
		}
		if sh.Frequency != nil && *sh.Frequency != "" {
			e.Outcome = importer.Approximated
			e.Notes = append(e.Notes, fmt.Sprintf("it repeats %s: only its first time was imported", importer.Quote(*sh.Frequency)))
		}
		if len(out) >= maxOverrides {
			notMapped("override: the schedule has more than %d overrides, as many as Klaxon takes: add it as an OnCallOverride by hand", maxOverrides)
			continue
		}
		out = append(out, klaxonv1alpha1.ScheduleOverride{User: users[0], Start: metav1.NewTime(start.UTC()), End: metav1.NewTime(end.UTC())})
		e.Notes = append([]string{fmt.Sprintf("override of %s from %s to %s in OnCallSchedule/%s", users[0], start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), schedule)}, e.Notes...)
		if len(users) > 1 {
			if end.Sub(start) > maxOverrideLength {
				e.Outcome = importer.Approximated
				e.Notes = append(e.Notes, fmt.Sprintf("it puts %d people on call for longer than an OnCallOverride may last: only %s is on call", len(users), users[0]))
			} else {
				name, note := r.namer.Name("OnCallOverride", sh.ID, schedule+"-"+sh.Name)
				ov := &klaxonv1alpha1.OnCallOverride{
					TypeMeta:   metav1.TypeMeta{APIVersion: klaxonv1alpha1.GroupVersion.String(), Kind: "OnCallOverride"},
					ObjectMeta: metav1.ObjectMeta{Name: name},
					Spec: klaxonv1alpha1.OnCallOverrideSpec{
						ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: schedule},
						Start:       metav1.NewTime(start.UTC()), End: metav1.NewTime(end.UTC()),
						Add: users[1:],
					},
				}
				oe := importer.Entry{SourceKind: "on_call_shift", SourceID: importer.Clip(sh.ID, importer.MaxValue), SourceName: importer.Clip(sh.Name, importer.MaxValue), Outcome: importer.Mapped,
					Notes: []string{fmt.Sprintf("adds %v beside %s during the override", users[1:], users[0])}}
				if note != "" {
					oe.Notes = append(oe.Notes, note)
				}
				extra = append(extra, overrideObject{obj: ov, entry: oe})
			}
		}
		entries = append(entries, e)
	}
	return out, extra, entries
}

// readFinal reads the schedule's final shifts over the window, with notes
// on people it names that were not read as users.
func (r *run) readFinal(ctx context.Context, id, name string) (importer.Final, []string, error) {
	w := r.opts.Window
	f := importer.Final{Schedule: name, SourceID: importer.Clip(id, importer.MaxValue), Intervals: []importer.Interval{}}
	// The API answers at most 365 days from start_date, end_date
	// included: a longer window is read in parts.
	var got []finalShift
	for from := w.From.UTC(); from.Before(w.To); {
		last := earlier(from.AddDate(0, 0, 365), w.To).Add(-time.Nanosecond).UTC()
		q := url.Values{
			"start_date": {from.Format(time.DateOnly)},
			"end_date":   {last.Format(time.DateOnly)},
		}
		part, err := list[finalShift](ctx, r.src, "schedules/"+url.PathEscape(id)+"/final_shifts", q)
		if err != nil {
			return f, nil, err
		}
		got = append(got, part...)
		// The next part begins the day after end_date.
		from = time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, time.UTC)
	}
	var notes []string
	unknown := map[string]bool{}
	for _, fs := range got {
		from, to := later(fs.ShiftStart, w.From), earlier(fs.ShiftEnd, w.To)
		if !to.After(from) {
			continue
		}
		who, ok := r.person(fs.UserPK)
		if !ok {
			// Someone no longer among the users: verify shows their
			// stretches as differences, under a name no Responder has.
			who = "unknown-" + importer.Sanitize(fs.UserPK)
			if !unknown[fs.UserPK] && len(unknown) < 10 {
				notes = append(notes, fmt.Sprintf("its final shifts put user %s (%s) on call, who is not among the users read: verify lists those stretches as %s", importer.Quote(fs.UserPK), importer.Quote(fs.UserUsername), who))
			}
			unknown[fs.UserPK] = true
		}
		f.Intervals = append(f.Intervals, importer.Interval{Start: from.UTC(), End: to.UTC(), People: []string{who}})
	}
	return f, notes, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

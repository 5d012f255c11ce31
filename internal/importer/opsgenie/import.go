package opsgenie

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

// Import reads Opsgenie through src and maps what it finds: users to
// Responders, schedules to OnCallSchedules with their overrides as
// OnCallOverrides, escalations to EscalationPolicies, and each imported
// schedule's final timeline over opts.Window to a Final.
func Import(ctx context.Context, src importer.Source, opts importer.Options) (*importer.Result, error) {
	if !opts.Window.To.After(opts.Window.From) {
		return nil, fmt.Errorf("the window's end %s is not after its start %s", opts.Window.To, opts.Window.From)
	}
	res := &importer.Result{Source: sourceName, Title: sourceTitle, Window: opts.Window}
	namer := importer.NewNamer()
	p, err := importUsers(ctx, src, res, namer)
	if err != nil {
		return nil, err
	}
	refs, err := importSchedules(ctx, src, res, namer, p, opts.Window)
	if err != nil {
		return nil, err
	}
	if err := importEscalations(ctx, src, res, namer, refs, p); err != nil {
		return nil, err
	}
	return res, nil
}

// importSchedules adds an OnCallSchedule for each schedule, an
// OnCallOverride for each override, and the final timeline of each.
func importSchedules(ctx context.Context, src importer.Source, res *importer.Result, namer *importer.Namer, p *people, w importer.Window) (map[string]scheduleRef, error) {
	schedules, err := readSchedules(ctx, src)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(schedules, func(a, b schedule) int { return strings.Compare(a.ID, b.ID) })
	refs := map[string]scheduleRef{}
	for i, s := range schedules {
		entry := importer.Entry{SourceKind: "schedule", SourceID: importer.Clip(s.ID, importer.MaxValue), SourceName: importer.Clip(s.Name, importer.MaxValue)}
		if i > 0 && schedules[i-1].ID == s.ID {
			res.Report(duplicate(entry))
			continue
		}
		if !usableID(s.ID) {
			entry.Outcome = importer.NotMapped
			entry.Notes = []string{fmt.Sprintf("its id %s is no Opsgenie id: write the schedule by hand", importer.Quote(s.ID))}
			res.Report(entry)
			continue
		}
		name, nameNote := namer.Name("OnCallSchedule", s.ID, s.Name)
		ref := scheduleRef{name: name, label: importer.Quote(s.Name)}
		m := mapSchedule(s, p)
		if m.spec == nil {
			entry.Outcome = importer.NotMapped
			entry.Notes = append([]string{m.why}, m.notes.list...)
			res.Report(entry)
		} else {
			ref.imported = true
			m.notes.info("%s", nameNote)
			entry.Outcome = outcome(m.notes)
			entry.Notes = m.notes.list
			res.Add(&klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: *m.spec}, entry)
		}
		refs[s.ID] = ref
		refs["name:"+s.Name] = ref
		overrides, err := readOverrides(ctx, src, s.ID)
		if err != nil {
			return nil, err
		}
		at := len(res.Entries) - 1
		if inexact := importOverrides(res, namer, s, name, m, p, overrides); inexact > 0 && m.spec != nil {
			// Who the schedule has on call is the overrides' work too.
			e := &res.Entries[at]
			e.Outcome = importer.Approximated
			e.Notes = append(e.Notes, fmt.Sprintf("%d of its overrides could not be imported as they are (see them below): verify shows where who is on call differs while they apply", inexact))
		}
		if m.spec == nil {
			continue
		}
		tl, err := readTimeline(ctx, src, s.ID, w)
		if err != nil {
			return nil, err
		}
		final, err := finalOf(tl, name, s.ID, w, p)
		if err != nil {
			return nil, err
		}
		res.Finals = append(res.Finals, final)
	}
	return refs, nil
}

// importOverrides adds the OnCallOverrides of one schedule's overrides, in
// the order they start, and returns how many were approximated or not
// mapped.
func importOverrides(res *importer.Result, namer *importer.Namer, s schedule, name string, m mappedSchedule, p *people, overrides []override) int {
	inexact := 0
	slices.SortStableFunc(overrides, func(a, b override) int {
		return strings.Compare(a.StartDate+"\x00"+a.Alias, b.StartDate+"\x00"+b.Alias)
	})
	for i, o := range overrides {
		key := o.Alias
		if key == "" {
			key = strconv.Itoa(i)
		}
		entry := importer.Entry{SourceKind: "override", SourceID: importer.Clip(s.ID+"/"+key, importer.MaxValue), SourceName: importer.Clip(o.Alias, importer.MaxValue)}
		if m.spec == nil {
			entry.Outcome = importer.NotMapped
			entry.Notes = []string{fmt.Sprintf("its schedule %s was not imported: add the override once the schedule is written", importer.Quote(s.Name))}
			res.Report(entry)
			continue
		}
		parts, n, why := mapOverride(o, s, name, m, p)
		if why != "" {
			entry.Outcome = importer.NotMapped
			entry.Notes = []string{why}
			res.Report(entry)
			inexact++
			continue
		}
		if n.approx {
			inexact++
		}
		stamp := strings.NewReplacer(":", "", "-", "").Replace(o.StartDate)
		if len(stamp) > 13 {
			stamp = stamp[:13]
		}
		entry.Outcome = outcome(n)
		entry.Notes = n.list
		for j, part := range parts {
			oname, nameNote := namer.Name("OnCallOverride", s.ID+"/"+key+"/"+part.suffix, name+" "+stamp+" "+part.suffix)
			obj := &klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: oname}, Spec: part.spec}
			if j == 0 {
				if nameNote != "" {
					entry.Notes = append(entry.Notes, nameNote)
				}
				res.Add(obj, entry)
				continue
			}
			addPart(res, obj)
			// The parts share the entry Result.Add recorded for the first.
			last := &res.Entries[len(res.Entries)-1]
			last.Notes = append(last.Notes, fmt.Sprintf("written as two OnCallOverrides: %s takes everyone else off call, %s puts %s on", last.Name, oname, part.spec.Add[0]))
			if nameNote != "" {
				last.Notes = append(last.Notes, nameNote)
			}
		}
	}
	return inexact
}

// addPart adds the second OnCallOverride of an override to the one
// Result.Add recorded last. It shares that one's report entry, as the two
// do the work of one Opsgenie override, so it takes its annotation rather
// than adding an entry of its own.
func addPart(res *importer.Result, obj *klaxonv1alpha1.OnCallOverride) {
	first := res.Objects[len(res.Objects)-1]
	obj.SetAnnotations(map[string]string{importer.AnnotationSource: first.GetAnnotations()[importer.AnnotationSource]})
	res.Objects = append(res.Objects, obj)
}

// importEscalations adds an EscalationPolicy for each escalation.
func importEscalations(ctx context.Context, src importer.Source, res *importer.Result, namer *importer.Namer, refs map[string]scheduleRef, p *people) error {
	escalations, err := readEscalations(ctx, src)
	if err != nil {
		return err
	}
	slices.SortStableFunc(escalations, func(a, b escalation) int { return strings.Compare(a.ID, b.ID) })
	for i, e := range escalations {
		entry := importer.Entry{SourceKind: "escalation", SourceID: importer.Clip(e.ID, importer.MaxValue), SourceName: importer.Clip(e.Name, importer.MaxValue)}
		if i > 0 && escalations[i-1].ID == e.ID {
			res.Report(duplicate(entry))
			continue
		}
		spec, n, why := mapEscalation(e, refs, p)
		if spec == nil {
			entry.Outcome = importer.NotMapped
			entry.Notes = append([]string{why}, n.list...)
			res.Report(entry)
			continue
		}
		name, nameNote := namer.Name("EscalationPolicy", e.ID, e.Name)
		n.info("%s", nameNote)
		entry.Outcome = outcome(n)
		entry.Notes = n.list
		res.Add(&klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: *spec}, entry)
	}
	return nil
}

// duplicate reports an object whose id an earlier one of the same answer
// had: only the first is imported.
func duplicate(e importer.Entry) importer.Entry {
	e.Outcome = importer.NotMapped
	e.Notes = []string{"its id is the id of another one in the same answer: only the first was imported; compare them in Opsgenie"}
	return e
}

// Package notice decides the shift notices of a schedule's people: the
// record of everyone's shifts in the next 14 days, what an edit changed in
// it, which ShiftStart and ShiftChange notices to plan and what they say,
// and how a send's outcome changes a notice. It has no Kubernetes client;
// the OnCallSchedule reconciler applies its decisions to status.shifts and
// status.notices and sends.
package notice

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

const (
	// Window is how far ahead the record looks, and so how far ahead an
	// edit's moves are told.
	Window = 14 * 24 * time.Hour
	// MaxEntries is the most shifts the record holds (its CRD bound).
	MaxEntries = 256
	// MaxHandoffs bounds the walk over the window (PersonShifts' budget: a
	// handoff and each person on call after it): a schedule that hands off
	// more often is recorded up to where the budget ran out.
	MaxHandoffs = 4096
	// Refresh is how old a record grows before it is written again with
	// the window moved on; between, time passing changes nothing.
	Refresh = 24 * time.Hour
	// maxUser is the CRD bound of a recorded user.
	maxUser = 253
)

// Shifts returns everyone's shifts in [now-TooLate, now+Window), as
// PersonShifts gives them (a shift that started within TooLate is still
// one to tell of), and the end of the span they cover: at most MaxEntries,
// the span cut to where they stop when there are more, or where the walk's
// budget ran out.
func Shifts(s *oncall.Schedule, now time.Time) ([]oncall.PersonShift, time.Time) {
	shifts, until, _ := s.PersonShifts(now.Add(-TooLate), now.Add(Window), MaxHandoffs)
	if len(shifts) <= MaxEntries {
		return shifts, until
	}
	// Shifts are by start: cut where the first left out starts, so that
	// the span holds every shift in it.
	until = shifts[MaxEntries].Start
	shifts = slices.DeleteFunc(shifts[:MaxEntries], func(sh oncall.PersonShift) bool { return !sh.Start.Before(until) })
	for i := range shifts {
		if shifts[i].End.After(until) {
			shifts[i].End = until
			shifts[i].TakesOver = nil
		}
	}
	return shifts, until
}

// Entries turns shifts into the record's entries, which begin at now:
// shifts that ended by then are left out, and those in progress cut.
func Entries(shifts []oncall.PersonShift, now time.Time) []klaxonv1alpha1.RecordedShift {
	out := make([]klaxonv1alpha1.RecordedShift, 0, len(shifts))
	for _, sh := range shifts {
		if !sh.End.After(now) {
			continue
		}
		start := sh.Start
		if start.Before(now) {
			start = now
		}
		out = append(out, klaxonv1alpha1.RecordedShift{User: bounded.Runes(sh.User, maxUser),
			Start: metav1.NewTime(start.Truncate(time.Second)), End: metav1.NewTime(sh.End.Truncate(time.Second))})
	}
	return out
}

// HoldBack returns rec with the old shifts of the untold people in place
// of their new ones, and untold recorded, so that the next reconcile finds
// their changes again and plans the notices that found no room; rec as it
// is when nobody is untold. It never changes rec or old.
func HoldBack(rec, old *klaxonv1alpha1.ShiftRecord, untold []string) *klaxonv1alpha1.ShiftRecord {
	if len(untold) == 0 || old == nil {
		if rec.Untold == nil {
			return rec
		}
		out := rec.DeepCopy()
		out.Untold = nil
		return out
	}
	held := map[string]bool{}
	for _, u := range untold {
		held[u] = true
	}
	out := rec.DeepCopy()
	out.Entries = slices.DeleteFunc(out.Entries, func(e klaxonv1alpha1.RecordedShift) bool { return held[e.User] })
	for _, e := range old.Entries {
		if held[e.User] {
			out.Entries = append(out.Entries, e)
		}
	}
	slices.SortStableFunc(out.Entries, func(a, b klaxonv1alpha1.RecordedShift) int {
		if c := a.Start.Compare(b.Start.Time); c != 0 {
			return c
		}
		return strings.Compare(a.User, b.User)
	})
	out.Entries = out.Entries[:min(len(out.Entries), MaxEntries)]
	out.Untold = slices.Sorted(maps.Keys(held))
	out.Untold = out.Untold[:min(len(out.Untold), MaxEntries)]
	return out
}

// Untold keeps of changes those of the people the record held back.
func Untold(changes map[string]Change, old *klaxonv1alpha1.ShiftRecord) map[string]Change {
	out := map[string]Change{}
	if old == nil {
		return out
	}
	for _, u := range old.Untold {
		if c, ok := changes[u]; ok {
			out[u] = c
		}
	}
	return out
}

// Inputs is a digest of what the shifts are worked out from: the spec and
// the OnCallOverrides WithOverrides applies to the schedule, by name.
func Inputs(schedule string, spec *klaxonv1alpha1.OnCallScheduleSpec, overrides []klaxonv1alpha1.OnCallOverride) string {
	type named struct {
		Name string                             `json:"name"`
		Spec *klaxonv1alpha1.OnCallOverrideSpec `json:"spec"`
	}
	leftOut := oncall.LeftOut(schedule, overrides)
	var applied []named
	for i := range overrides {
		o := &overrides[i]
		if o.Spec.ScheduleRef.Name == schedule && oncall.ValidOverride(&o.Spec) && !slices.Contains(leftOut, o.Name) {
			applied = append(applied, named{o.Name, &o.Spec})
		}
	}
	slices.SortFunc(applied, func(a, b named) int { return strings.Compare(a.Name, b.Name) })
	// Both marshal without fail: plain API types.
	b, _ := json.Marshal(struct {
		Spec      *klaxonv1alpha1.OnCallScheduleSpec `json:"spec"`
		Overrides []named                            `json:"overrides"`
	}{spec, applied})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Update returns the record to store and whether it differs from old: a
// new one when there was none, when the inputs changed (the revision grows
// then), when changes were found, or when old is Refresh old; otherwise
// old itself, so that a reconcile that changes nothing writes nothing.
func Update(old *klaxonv1alpha1.ShiftRecord, inputs string, entries []klaxonv1alpha1.RecordedShift,
	until, now time.Time, changed bool) (*klaxonv1alpha1.ShiftRecord, bool) {
	// As stored: the API keeps whole seconds.
	rec := &klaxonv1alpha1.ShiftRecord{Revision: 1, Inputs: inputs, From: metav1.NewTime(now.Truncate(time.Second)),
		Until: metav1.NewTime(until.Truncate(time.Second)), Entries: entries}
	switch {
	case old == nil:
		return rec, true
	case old.Inputs != inputs:
		rec.Revision = old.Revision + 1
		return rec, true
	case changed || now.Sub(old.From.Time) >= Refresh || spansNothing(old) != !until.After(now):
		// Also when the record comes to span shifts, or stops: a notice
		// rule was added to the namespace, or the last removed.
		rec.Revision = old.Revision
		return rec, true
	}
	return old, false
}

// spansNothing reports whether the record spans no time: it was made
// while no notice rule asked for shifts.
func spansNothing(r *klaxonv1alpha1.ShiftRecord) bool { return !r.Until.After(r.From.Time) }

// Span is a stretch of a person's time on call.
type Span struct{ Start, End time.Time }

// Change is what an edit changed in one person's shifts: those they had
// and no longer have, and those they now have and did not.
type Change struct{ Was, Now []Span }

// Diff compares the old record with the new entries on the span both
// cover from now, each cut to it, so that time passing is no change, and
// returns the changes by user. Without an old record (a schedule first
// seen) nothing counts as changed.
func Diff(old *klaxonv1alpha1.ShiftRecord, entries []klaxonv1alpha1.RecordedShift, until, now time.Time) map[string]Change {
	if old == nil {
		return nil
	}
	end := until
	if old.Until.Before(&metav1.Time{Time: end}) {
		end = old.Until.Time
	}
	if !now.Before(end) {
		return nil
	}
	was, is := cut(old.Entries, now, end), cut(entries, now, end)
	out := map[string]Change{}
	for user, spans := range was {
		for _, sp := range spans {
			if !slices.Contains(is[user], sp) {
				c := out[user]
				c.Was = append(c.Was, sp)
				out[user] = c
			}
		}
	}
	for user, spans := range is {
		for _, sp := range spans {
			if !slices.Contains(was[user], sp) {
				c := out[user]
				c.Now = append(c.Now, sp)
				out[user] = c
			}
		}
	}
	return out
}

// cut returns the entries' spans within [from, to), by user.
func cut(entries []klaxonv1alpha1.RecordedShift, from, to time.Time) map[string][]Span {
	out := map[string][]Span{}
	for _, e := range entries {
		sp := Span{Start: e.Start.Time, End: e.End.Time}
		if sp.Start.Before(from) {
			sp.Start = from
		}
		if sp.End.After(to) {
			sp.End = to
		}
		if sp.Start.Before(sp.End) {
			out[e.User] = append(out[e.User], Span{Start: sp.Start.UTC(), End: sp.End.UTC()})
		}
	}
	return out
}

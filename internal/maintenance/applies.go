package maintenance

import (
	"sort"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// maxChain bounds how many overlapping or back-to-back windows Applies
// follows to find when a hold ends; past it, the hold ends where the chain
// was left and is worked out again then.
const maxChain = 16

// Verdict is what the maintenance windows decide about an incident's
// paging now.
type Verdict struct {
	// Window names the window that decides: for Suppress, the window the
	// episode was triggered in; for Hold, one of the windows that apply now.
	Window string
	// Mode is Suppress (never page this episode) or Hold (page nothing
	// until Until).
	Mode klaxonv1alpha1.MaintenanceMode
	// Until is when a hold ends: the first instant at which no matching
	// window applies. Zero for Suppress, and for a hold whose end lies
	// beyond the look-ahead.
	Until time.Time
	// Since is when a hold began: the start of the unbroken stretch of
	// matching windows that applies now, but not before the episode was
	// triggered or last paged, since escalation ran until then. Zero for
	// Suppress.
	Since time.Time
}

// Applies decides whether maintenance keeps a Triggered incident from being
// paged at now, and how:
//
//   - Suppress: the episode was triggered (status.triggeredAt) inside a
//     matching Suppress window and has paged nobody yet. It is never paged;
//     the caller records that, so the verdict outlives the window.
//   - Hold: otherwise, a matching window of either mode applies at now.
//     Paging waits, and escalation pauses, until Until.
//
// Windows whose spec does not compile are ignored (their own status says
// why). ok is false when no window applies.
func Applies(windows []klaxonv1alpha1.MaintenanceWindow, inc *klaxonv1alpha1.Incident, now time.Time) (v Verdict, ok bool) {
	var matching []*Window
	for i := range windows {
		w, err := Compile(&windows[i])
		if err == nil && w.Matches(inc) {
			matching = append(matching, w)
		}
	}
	sort.Slice(matching, func(i, j int) bool { return matching[i].Name < matching[j].Name })

	if st := &inc.Status; st.TriggeredAt != nil && !st.TriggeredAt.After(now) && !pagedInEpisode(st) {
		for _, w := range matching {
			if w.Mode == klaxonv1alpha1.MaintenanceSuppress && w.ActiveAt(st.TriggeredAt.Time) {
				return Verdict{Window: w.Name, Mode: klaxonv1alpha1.MaintenanceSuppress}, true
			}
		}
	}

	until := now
	for range maxChain {
		var end time.Time
		active := false
		for _, w := range matching {
			st := w.At(until)
			if !st.Active {
				continue
			}
			if !active && v.Window == "" {
				v.Window = w.Name
			}
			active = true
			if st.NextEnd.IsZero() {
				// It does not end within the look-ahead: nor does the hold.
				return Verdict{Window: v.Window, Mode: klaxonv1alpha1.MaintenanceHold, Since: holdSince(matching, &inc.Status, now)}, true
			}
			if st.NextEnd.After(end) {
				end = st.NextEnd
			}
		}
		if !active {
			break
		}
		until = end
	}
	if v.Window == "" {
		return Verdict{}, false
	}
	return Verdict{Window: v.Window, Mode: klaxonv1alpha1.MaintenanceHold, Until: until, Since: holdSince(matching, &inc.Status, now)}, true
}

// holdSince works out Verdict.Since: it follows the windows that apply at
// now back to where the first of them opened, and from there to windows
// that applied just before, at most maxChain times.
func holdSince(matching []*Window, st *klaxonv1alpha1.IncidentStatus, now time.Time) time.Time {
	since, probe := now, now
	for range maxChain {
		earliest := since
		for _, w := range matching {
			if opened, ok := w.openedBefore(probe); ok && opened.Before(earliest) {
				earliest = opened
			}
		}
		if !earliest.Before(since) {
			break
		}
		since = earliest
		probe = since.Add(-time.Nanosecond)
	}
	if st.TriggeredAt != nil && st.TriggeredAt.After(since) {
		since = st.TriggeredAt.Time
	}
	for _, a := range st.Assignments {
		if a.NotifiedAt.After(since) && !a.NotifiedAt.After(now) {
			since = a.NotifiedAt.Time
		}
	}
	return since
}

// pagedInEpisode reports whether the current episode has paged anyone:
// status.escalation is set, or an assignment was made since triggeredAt.
func pagedInEpisode(st *klaxonv1alpha1.IncidentStatus) bool {
	if st.Escalation != nil {
		return true
	}
	since := st.TriggeredAt.Truncate(time.Second)
	for _, a := range st.Assignments {
		if !a.NotifiedAt.Time.Before(since) {
			return true
		}
	}
	return false
}

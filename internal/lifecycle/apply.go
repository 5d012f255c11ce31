package lifecycle

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// MaxTimeline is how many timeline entries status keeps; the oldest go first.
const MaxTimeline = 100

// Transition is one move the operator accepted.
type Transition struct {
	From, To klaxonv1alpha1.IncidentState
	// Reopen is true when the move starts a new episode.
	Reopen bool
	Actor  string
	// Message is the sentence recorded in the timeline and the Event.
	Message string
}

// Reason is the Event reason and timeline type of the transition.
func (t Transition) Reason() string {
	switch {
	case t.Reopen:
		return klaxonv1alpha1.TimelineReopened
	case t.To == klaxonv1alpha1.StateAcknowledged:
		return klaxonv1alpha1.TimelineAcknowledged
	case t.To == klaxonv1alpha1.StateMitigated:
		return klaxonv1alpha1.TimelineMitigated
	case t.To == klaxonv1alpha1.StateResolved:
		return klaxonv1alpha1.TimelineResolved
	case t.To == klaxonv1alpha1.StateClosed:
		return klaxonv1alpha1.TimelineClosed
	}
	return klaxonv1alpha1.TimelineTriggered
}

// Repair restores what the rest of the lifecycle relies on when status was
// edited or restored by hand: an accepted phase always has the start of its
// episode (everything after, paging included, counts from it), and its
// episode number. It reports whether it changed anything; the missing start
// becomes now, the moment the operator noticed.
func Repair(st *klaxonv1alpha1.IncidentStatus, now time.Time) bool {
	if st.Phase == "" {
		return false
	}
	repaired := false
	if st.TriggeredAt == nil {
		t := metav1.NewTime(now)
		st.TriggeredAt, repaired = &t, true
	}
	if st.Episode < 1 {
		st.Episode, repaired = 1, true
	}
	return repaired
}

// Accept moves status.phase to spec.state, recording each step: the
// per-episode timestamp, acknowledgedBy, the episode counter and a timeline
// entry. It returns the transitions made, none when the phase already matches.
// actor is who asked for the move, from the klaxon.dev/actor annotation.
func Accept(inc *klaxonv1alpha1.Incident, actor string, now time.Time) ([]Transition, error) {
	actor = bounded.Runes(actor, klaxonv1alpha1.MaxUserNameLength)
	desired := inc.Spec.State
	if desired == "" {
		desired = klaxonv1alpha1.StateTriggered
	}
	steps, err := Steps(inc.Status.Phase, desired)
	if err != nil {
		return nil, err
	}
	st := &inc.Status
	t := metav1.NewTime(now)
	var transitions []Transition
	for _, to := range steps {
		tr := Transition{From: st.Phase, To: to, Actor: actor}
		switch to {
		case klaxonv1alpha1.StateTriggered:
			tr.Reopen = st.Phase != ""
			st.Episode++
			st.TriggeredAt = &t
			// A new episode: its own timestamps, its own paging from level 0.
			st.AcknowledgedAt, st.MitigatedAt, st.ResolvedAt = nil, nil, nil
			st.AcknowledgedBy = ""
			st.Escalation = nil
			st.ResponseTargets = nil
		case klaxonv1alpha1.StateAcknowledged:
			st.AcknowledgedAt = &t
			st.AcknowledgedBy = actor
		case klaxonv1alpha1.StateMitigated:
			st.MitigatedAt = &t
		case klaxonv1alpha1.StateResolved:
			st.ResolvedAt = &t
		case klaxonv1alpha1.StateClosed:
			st.ClosedAt = &t
		}
		tr.Message = message(tr)
		st.Phase = to
		AppendTimeline(st, klaxonv1alpha1.TimelineEntry{Time: t, Type: tr.Reason(), Actor: actor, Message: tr.Message})
		transitions = append(transitions, tr)
	}
	return transitions, nil
}

func message(tr Transition) string {
	by := ""
	if tr.Actor != "" {
		by = " by " + tr.Actor
	}
	switch {
	case tr.Reopen:
		return fmt.Sprintf("Incident reopened%s: the problem is back after it was %s", by, lower(tr.From))
	case tr.From == "":
		return fmt.Sprintf("Incident triggered%s", by)
	default:
		return fmt.Sprintf("Incident %s%s", lower(tr.To), by)
	}
}

func lower(s klaxonv1alpha1.IncidentState) string {
	switch s {
	case klaxonv1alpha1.StateTriggered:
		return "triggered"
	case klaxonv1alpha1.StateAcknowledged:
		return "acknowledged"
	case klaxonv1alpha1.StateMitigated:
		return "mitigated"
	case klaxonv1alpha1.StateResolved:
		return "resolved"
	case klaxonv1alpha1.StateClosed:
		return "closed"
	}
	return string(s)
}

// AppendTimeline adds an entry, cut to the lengths the CRD allows, dropping
// the oldest beyond MaxTimeline and counting them in status.timelineDropped.
func AppendTimeline(st *klaxonv1alpha1.IncidentStatus, e klaxonv1alpha1.TimelineEntry) {
	e.Type = bounded.Runes(e.Type, klaxonv1alpha1.MaxTimelineTypeLength)
	e.Actor = bounded.Runes(e.Actor, klaxonv1alpha1.MaxUserNameLength)
	e.Message = bounded.Runes(e.Message, klaxonv1alpha1.MaxTimelineMessageLength)
	st.Timeline = append(st.Timeline, e)
	if over := len(st.Timeline) - MaxTimeline; over > 0 {
		st.Timeline = append([]klaxonv1alpha1.TimelineEntry(nil), st.Timeline[over:]...)
		st.TimelineDropped += int32(over) //nolint:gosec // over is at most one more than MaxTimeline
	}
}

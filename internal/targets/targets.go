package targets

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/apitime"
)

// Kind is one kind of response target.
type Kind string

// The kinds of response targets, each with its condition.
const (
	Acknowledge Kind = "acknowledge"
	Update      Kind = "update"
	Resolve     Kind = "resolve"
	Postmortem  Kind = "postmortem"
)

// Condition is the condition type that reports the target.
func (k Kind) Condition() string {
	switch k {
	case Acknowledge:
		return klaxonv1alpha1.ConditionAcknowledgeTargetMissed
	case Update:
		return klaxonv1alpha1.ConditionUpdateOverdue
	case Resolve:
		return klaxonv1alpha1.ConditionResolveTargetMissed
	}
	return klaxonv1alpha1.ConditionPostmortemOverdue
}

// Kinds are all kinds, in the order conditions are reported.
var Kinds = []Kind{Acknowledge, Update, Resolve, Postmortem}

// Verdict is where one target stands.
type Verdict struct {
	Kind Kind
	// Due is the deadline.
	Due time.Time
	// Missed is true while the deadline has passed and the target is not
	// met: the condition is True.
	Missed bool
	// Met is true once the target is met, in time or late, or no longer
	// applies (an update cadence once the incident is resolved).
	Met bool
	// Message says where the target stands, as a sentence.
	Message string
}

// Reason is the condition reason of the verdict.
func (v Verdict) Reason() string {
	switch {
	case v.Missed:
		return klaxonv1alpha1.ReasonTargetMissed
	case v.Met:
		return klaxonv1alpha1.ReasonTargetMet
	}
	return klaxonv1alpha1.ReasonWithinTarget
}

// Evaluate returns the deadlines of the incident's current episode, the
// verdict on each target the policy sets for its severity (target is nil
// when it sets none), and the next instant a verdict changes by itself (zero
// when none will). Deadlines are rounded up to whole seconds, as status
// stores them, so a verdict read back from status never comes early.
func Evaluate(inc *klaxonv1alpha1.Incident, target *klaxonv1alpha1.ResponseTarget, now time.Time) (*klaxonv1alpha1.ResponseTargetsStatus, []Verdict, time.Time) {
	st := &inc.Status
	if target == nil || st.TriggeredAt == nil {
		return nil, nil, time.Time{}
	}
	start := st.TriggeredAt.Time
	out := &klaxonv1alpha1.ResponseTargetsStatus{}
	var verdicts []Verdict
	var next time.Time
	add := func(kind Kind, due time.Time, doneAt *metav1.Time, doneWhat, dueWhat string) *metav1.Time {
		due = apitime.CeilSecond(due)
		v := Verdict{Kind: kind, Due: due}
		switch {
		case doneAt != nil:
			v.Met = true
			v.Message = fmt.Sprintf("%s at %s, target %s", doneWhat, stamp(doneAt.Time), stamp(due))
			if doneAt.After(due) {
				v.Message = fmt.Sprintf("%s late at %s; target was %s", doneWhat, stamp(doneAt.Time), stamp(due))
			}
		case !now.Before(due):
			v.Missed = true
			v.Message = fmt.Sprintf("Not %s by %s", dueWhat, stamp(due))
		default:
			v.Message = fmt.Sprintf("To be %s by %s", dueWhat, stamp(due))
			if next.IsZero() || due.Before(next) {
				next = due
			}
		}
		verdicts = append(verdicts, v)
		return &metav1.Time{Time: due}
	}

	if d := target.AcknowledgeWithin; d != nil {
		// Moving past Acknowledged without acknowledging (a resolution by
		// Alertmanager) ends the wait for an acknowledgement too.
		done := st.AcknowledgedAt
		if done == nil && rank(st.Phase) > rank(klaxonv1alpha1.StateAcknowledged) {
			done = firstOf(st.MitigatedAt, st.ResolvedAt, st.ClosedAt)
		}
		out.AcknowledgeBy = add(Acknowledge, start.Add(d.Duration), done, "Acknowledged", "acknowledged")
	}
	if d := target.UpdateEvery; d != nil {
		last := start
		for _, u := range inc.Spec.Updates {
			if u.Time.After(last) {
				last = u.Time.Time
			}
		}
		// Stakeholders need no cadence once the problem is resolved.
		closed := firstOf(st.ResolvedAt, st.ClosedAt)
		out.NextUpdateBy = add(Update, last.Add(d.Duration), closed, "Resolved", "updated")
		if closed != nil {
			out.NextUpdateBy = nil
			verdicts[len(verdicts)-1].Message = "No updates are due once the incident is resolved"
		}
	}
	if d := target.ResolveWithin; d != nil {
		out.ResolveBy = add(Resolve, start.Add(d.Duration), firstOf(st.ResolvedAt, st.ClosedAt), "Resolved", "resolved")
	}
	if p := target.Postmortem; p != nil && inc.Spec.Severity.RequiresPostmortem() {
		if resolved := firstOf(st.ResolvedAt, st.ClosedAt); resolved != nil {
			// When the link was set is not recorded: a linked postmortem is
			// simply met.
			var linked *metav1.Time
			if inc.Spec.Postmortem != nil {
				linked = resolved
			}
			out.PostmortemBy = add(Postmortem, resolved.Add(p.DueWithin.Duration), linked, "Postmortem linked", "linked to a postmortem")
			if linked != nil {
				verdicts[len(verdicts)-1].Message = "The postmortem is linked"
			}
		}
	}
	return out, verdicts, next
}

func firstOf(ts ...*metav1.Time) *metav1.Time {
	for _, t := range ts {
		if t != nil {
			return t
		}
	}
	return nil
}

func rank(s klaxonv1alpha1.IncidentState) int {
	switch s {
	case klaxonv1alpha1.StateAcknowledged:
		return 1
	case klaxonv1alpha1.StateMitigated:
		return 2
	case klaxonv1alpha1.StateResolved:
		return 3
	case klaxonv1alpha1.StateClosed:
		return 4
	}
	return 0
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

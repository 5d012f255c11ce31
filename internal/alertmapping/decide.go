package alertmapping

import (
	"fmt"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// Action is what one notification does to its group's incident.
type Action string

const (
	// ActionNothing writes nothing: a repeat that says nothing new, a
	// resolved group without an open incident, or a group the route's
	// matchers do not select.
	ActionNothing Action = "Nothing"
	// ActionCreate opens a new incident (NewIncident with Decision.Serial),
	// then writes Decision.Alerts to its status.
	ActionCreate Action = "Create"
	// ActionUpdateAlerts writes only status.alerts.
	ActionUpdateAlerts Action = "UpdateAlerts"
	// ActionResolve asks for spec.state Resolved on behalf of Alertmanager.
	ActionResolve Action = "Resolve"
	// ActionReopen asks for spec.state Triggered on behalf of Alertmanager:
	// the problem is back.
	ActionReopen Action = "Reopen"
)

// Decision is what the receiver must write for one notification: at most
// one spec patch (State, with the actor annotation) and one status patch
// (Alerts), and nothing at all for ActionNothing.
type Decision struct {
	Action Action
	// Serial is the group serial of the incident to create (ActionCreate).
	Serial int32
	// State is the spec.state to ask for; empty leaves spec alone.
	State klaxonv1alpha1.IncidentState
	// Alerts is the status.alerts to write; nil leaves status alone.
	Alerts *klaxonv1alpha1.AlertsSummary
	// Message says why, as a sentence for logs and Events.
	Message string
}

// ApplySpec makes the decided spec change on inc: spec.state and the
// klaxon.dev/actor annotation naming Alertmanager. It reports whether inc
// changed, so the caller patches spec only when it did.
func (d Decision) ApplySpec(inc *klaxonv1alpha1.Incident) bool {
	if d.State == "" || inc.Spec.State == d.State {
		return false
	}
	inc.Spec.State = d.State
	if inc.Annotations == nil {
		inc.Annotations = map[string]string{}
	}
	inc.Annotations[klaxonv1alpha1.ActorAnnotation] = klaxonv1alpha1.ActorAlertmanager
	return true
}

// ApplyStatus sets status.alerts on inc to the decided summary. It reports
// whether inc changed, so the caller patches status only when it did.
func (d Decision) ApplyStatus(inc *klaxonv1alpha1.Incident) bool {
	if d.Alerts == nil || sameSummary(inc.Status.Alerts, *d.Alerts) {
		return false
	}
	inc.Status.Alerts = d.Alerts.DeepCopy()
	return true
}

// Decide works out what a notification does to its group's latest incident
// (existing, from LatestIncident; nil when the group has none). It judges the
// group by the payload's status, never by counting alerts, because the
// alerts Alertmanager truncated away are invisible. The incident's state is
// its spec.state, the move last asked for, so a move the operator has not
// yet accepted is not asked for twice.
//
//   - No incident, or it is Closed: a firing group opens a new incident (the
//     next serial); a resolved one does nothing.
//   - Resolved: a firing group reopens it within reopenWindow of
//     status.resolvedAt (or when resolvedAt is not set yet), and opens a new
//     incident after that.
//   - Mitigated: people judged the impact contained while alerts may still
//     fire, so repeats do not reopen it; it reopens only when an alert fires
//     after the stored alerts showed the group resolved (the stored summary
//     is the only record of that, and one with truncated alerts proves
//     nothing).
//   - Triggered, Acknowledged, Mitigated: a resolved group resolves it when
//     the route has autoResolve.
//   - Otherwise, and alongside any move, status.alerts is written when the
//     summary differs from the stored one, ignoring item order.
//
// The route's matchers gate only the moves that page people (create and
// reopen); an incident the route already opened keeps its alerts current
// and still resolves.
func Decide(route *Route, existing *klaxonv1alpha1.Incident, msg *Message, now time.Time) Decision {
	summary := Summarise(msg)
	firing := msg.Status == StatusFiring
	matches := route.Matches(msg)

	if existing == nil {
		switch {
		case !firing:
			return nothing("The group resolved and has no incident; nothing to do")
		case !matches:
			return unmatched()
		}
		return Decision{Action: ActionCreate, Serial: 1, Alerts: &summary,
			Message: "The group is firing and has no incident; opening one"}
	}

	var changed *klaxonv1alpha1.AlertsSummary
	if !sameSummary(existing.Status.Alerts, summary) {
		changed = &summary
	}
	update := func(why string) Decision {
		if changed == nil {
			return nothing(fmt.Sprintf("Incident %s already shows these alerts; nothing to do", existing.Name))
		}
		return Decision{Action: ActionUpdateAlerts, Alerts: changed, Message: why}
	}
	create := func(why string) Decision {
		if !matches {
			return unmatched()
		}
		return Decision{Action: ActionCreate, Serial: nextSerial(existing), Alerts: &summary, Message: why}
	}
	reopen := func(why string) Decision {
		if !matches {
			return update(fmt.Sprintf("Updating the alerts of incident %s; the route's matchers no longer select the group, so it is not reopened", existing.Name))
		}
		return Decision{Action: ActionReopen, State: klaxonv1alpha1.StateTriggered, Alerts: changed, Message: why}
	}
	resolve := func() Decision {
		return Decision{Action: ActionResolve, State: klaxonv1alpha1.StateResolved, Alerts: changed,
			Message: fmt.Sprintf("Every alert of the group resolved; resolving incident %s", existing.Name)}
	}

	switch state := currentState(existing); state {
	case klaxonv1alpha1.StateClosed:
		if !firing {
			return nothing(fmt.Sprintf("Incident %s is closed; a resolved group changes nothing", existing.Name))
		}
		return create(fmt.Sprintf("The group fired again after incident %s was closed; opening a new incident", existing.Name))

	case klaxonv1alpha1.StateResolved:
		if !firing {
			return update(fmt.Sprintf("Updating the alerts of resolved incident %s", existing.Name))
		}
		if resolvedAt := existing.Status.ResolvedAt; resolvedAt != nil && now.Sub(resolvedAt.Time) > route.reopenWindow {
			return create(fmt.Sprintf("The group fired again more than %s after incident %s was resolved; opening a new incident", route.reopenWindow, existing.Name))
		}
		return reopen(fmt.Sprintf("The group fired again within %s of resolving incident %s; reopening it", route.reopenWindow, existing.Name))

	case klaxonv1alpha1.StateMitigated:
		if !firing {
			if route.autoResolve {
				return resolve()
			}
			return update(fmt.Sprintf("Updating the alerts of incident %s; the route does not resolve incidents automatically", existing.Name))
		}
		if summary.Firing > 0 && groupWasResolved(existing.Status.Alerts) {
			return reopen(fmt.Sprintf("The group fired again after it resolved while incident %s was mitigated; reopening it", existing.Name))
		}
		return update(fmt.Sprintf("Updating the alerts of mitigated incident %s", existing.Name))

	default: // Triggered, Acknowledged
		if !firing && route.autoResolve {
			return resolve()
		}
		return update(fmt.Sprintf("Updating the alerts of incident %s", existing.Name))
	}
}

// currentState is the state last asked for: spec.state, Triggered when
// unset, and Closed once the operator has closed the incident whatever spec
// says.
func currentState(inc *klaxonv1alpha1.Incident) klaxonv1alpha1.IncidentState {
	if inc.Status.Phase == klaxonv1alpha1.StateClosed {
		return klaxonv1alpha1.StateClosed
	}
	if inc.Spec.State == "" {
		return klaxonv1alpha1.StateTriggered
	}
	return inc.Spec.State
}

// groupWasResolved reports whether the stored summary proves the group had
// resolved: no firing alert among all of them. With truncated alerts a
// firing one may have been left out, so it proves nothing.
func groupWasResolved(s *klaxonv1alpha1.AlertsSummary) bool {
	return s != nil && s.Firing == 0 && s.Resolved > 0 && s.Truncated == 0
}

func nothing(why string) Decision {
	return Decision{Action: ActionNothing, Message: why}
}

func unmatched() Decision {
	return nothing("The route's matchers do not select the group's common labels; ignoring it")
}

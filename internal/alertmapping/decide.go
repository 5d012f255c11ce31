package alertmapping

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
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
	// ActionAcknowledge asks for spec.state Acknowledged on behalf of a
	// sender that acknowledged the group (DecideAcknowledge).
	ActionAcknowledge Action = "Acknowledge"
	// ActionNote appends a sender's note to the incident's timeline.
	ActionNote Action = "Note"
)

// Decision is what the receiver must write for one notification: at most
// one spec patch (State, with the actor annotation) and one status patch
// (Alerts), and nothing at all for ActionNothing.
type Decision struct {
	Action Action
	// Serial is the group serial of the incident to create (ActionCreate):
	// NextSerial of the latest incident's. The receiver moves past serials
	// whose names objects of other groups hold.
	Serial int32
	// State is the spec.state to ask for; empty leaves spec alone.
	State klaxonv1alpha1.IncidentState
	// Alerts is the status.alerts to write; nil leaves status alone.
	Alerts *klaxonv1alpha1.AlertsSummary
	// Message says why, as a sentence for logs and Events.
	Message string
	// Actor is who the spec move is recorded as (Actor); empty means
	// Alertmanager.
	Actor string
}

// ApplySpec makes the decided spec change on inc: spec.state and the
// klaxon.dev/actor annotation naming the sender (d.Actor, Alertmanager when
// empty). It reports whether inc changed, so the caller patches spec only
// when it did.
func (d Decision) ApplySpec(inc *klaxonv1alpha1.Incident) bool {
	if d.State == "" || inc.Spec.State == d.State {
		return false
	}
	inc.Spec.State = d.State
	if inc.Annotations == nil {
		inc.Annotations = map[string]string{}
	}
	actor := d.Actor
	if actor == "" {
		actor = klaxonv1alpha1.ActorAlertmanager
	}
	inc.Annotations[klaxonv1alpha1.ActorAnnotation] = actor
	return true
}

// DecideAcknowledge works out what a sender's acknowledgement does to its
// group's latest incident (nil when it has none): a triggered incident is
// acknowledged, as a person would acknowledge it; any other state, or no
// incident, is left alone, as the lifecycle allows no move back to
// Acknowledged.
func DecideAcknowledge(existing *klaxonv1alpha1.Incident) Decision {
	if existing == nil {
		return nothing("The group has no incident to acknowledge; nothing to do")
	}
	if state := currentState(existing); state != klaxonv1alpha1.StateTriggered {
		return nothing(fmt.Sprintf("Incident %s is %s; an acknowledgement changes nothing", existing.Name, state))
	}
	return Decision{Action: ActionAcknowledge, State: klaxonv1alpha1.StateAcknowledged,
		Message: fmt.Sprintf("The sender acknowledged the group; acknowledging incident %s", existing.Name)}
}

// Open reports whether an incident still takes notes about its group: not
// closed (a resolved incident may reopen, and a note after the resolve is
// part of its story).
func Open(inc *klaxonv1alpha1.Incident) bool {
	return inc != nil && currentState(inc) != klaxonv1alpha1.StateClosed
}

// Active reports whether an incident is being responded to: triggered,
// acknowledged or mitigated. Route-wide notes (a change event) go to these
// only.
func Active(inc *klaxonv1alpha1.Incident) bool {
	if inc == nil {
		return false
	}
	switch currentState(inc) {
	case klaxonv1alpha1.StateTriggered, klaxonv1alpha1.StateAcknowledged, klaxonv1alpha1.StateMitigated:
		return true
	}
	return false
}

// MaxSenderNotes bounds the sender notes (TimelineNote entries) one
// incident's timeline holds: the timeline keeps its newest entries only, so
// a chatty sender must not push the pages and moves out of it. Past the
// bound a note is not recorded.
const MaxSenderNotes = 25

// NotesFull reports whether inc's timeline already holds MaxSenderNotes
// sender notes.
func NotesFull(inc *klaxonv1alpha1.Incident) bool {
	n := 0
	for _, e := range inc.Status.Timeline {
		if e.Type == klaxonv1alpha1.TimelineNote {
			n++
		}
	}
	return n >= MaxSenderNotes
}

// ApplyStatus sets status.alerts on inc to the decided summary. It reports
// whether inc changed, so the caller patches status only when it did.
func (d Decision) ApplyStatus(inc *klaxonv1alpha1.Incident) bool {
	if d.Alerts == nil || sameSummary(StoredAlerts(inc), *d.Alerts) {
		return false
	}
	inc.Status.Alerts = d.Alerts.DeepCopy()
	return true
}

// Decide works out what a notification does to its group's latest incident
// (existing, from LatestIncident; nil when the group has none). It judges
// whether the group fired or resolved by the payload's status, never by
// counting alerts, because the alerts Alertmanager truncated away are
// invisible. Whether a firing group fired *again* it judges by the alerts
// themselves against the ones the incident stored (see judgeFiring): a group
// status says nothing about when its alerts started, and a repeat, or a
// notification an Alertmanager HA peer delivers late, says "firing" too. The
// incident's state is its spec.state, the move last asked for, so a move the
// operator has not yet accepted is not asked for twice.
//
//   - No incident: a firing group opens one (serial 1); a resolved one does
//     nothing.
//   - A firing notification whose firing alerts are no newer than what the
//     incident stored, one of them stored as resolved since, is older than
//     the stored state: nothing is written at all.
//   - Closed: a firing group with an alert new to the incident opens a new
//     incident (the next serial); anything else does nothing.
//   - Resolved: a firing group with an alert new to the incident reopens it
//     within reopenWindow of status.resolvedAt (or when resolvedAt is not
//     set yet), and opens a new incident after that. Alerts it already
//     showed firing (it was resolved by hand while they fired) reopen
//     nothing and open nothing; its alerts are kept current.
//   - Mitigated: people judged the impact contained while alerts may still
//     fire, so repeats do not reopen it; it reopens only when an alert new to
//     it fires after the stored alerts showed the group resolved (the stored
//     summary is the only record of that, and one with truncated alerts
//     proves nothing).
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

	state := currentState(existing)
	var news firingNews
	if firing {
		news = judgeFiring(StoredAlerts(existing), endedAt(existing, state), msg)
		if news.kind == newsStale {
			return nothing(fmt.Sprintf("The notification is older than what incident %s shows (%s); ignoring it", existing.Name, news.why))
		}
	}

	var changed *klaxonv1alpha1.AlertsSummary
	if !sameSummary(StoredAlerts(existing), summary) {
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

	switch state {
	case klaxonv1alpha1.StateClosed:
		if !firing {
			return nothing(fmt.Sprintf("Incident %s is closed; a resolved group changes nothing", existing.Name))
		}
		if news.kind != newsFresh {
			return nothing(fmt.Sprintf("Incident %s is closed and %s; nothing to do", existing.Name, news.why))
		}
		return create(fmt.Sprintf("The group fired again after incident %s was closed (%s); opening a new incident", existing.Name, news.why))

	case klaxonv1alpha1.StateResolved:
		if !firing {
			return update(fmt.Sprintf("Updating the alerts of resolved incident %s", existing.Name))
		}
		if news.kind != newsFresh {
			return update(fmt.Sprintf("Updating the alerts of resolved incident %s; %s, so it is not reopened", existing.Name, news.why))
		}
		if resolvedAt := existing.Status.ResolvedAt; resolvedAt != nil && now.Sub(resolvedAt.Time) > route.reopenWindow {
			return create(fmt.Sprintf("The group fired again more than %s after incident %s was resolved (%s); opening a new incident", route.reopenWindow, existing.Name, news.why))
		}
		return reopen(fmt.Sprintf("The group fired again within %s of resolving incident %s (%s); reopening it", route.reopenWindow, existing.Name, news.why))

	case klaxonv1alpha1.StateMitigated:
		if !firing {
			if route.autoResolve {
				return resolve()
			}
			return update(fmt.Sprintf("Updating the alerts of incident %s; the route does not resolve incidents automatically", existing.Name))
		}
		if news.kind == newsFresh && groupWasResolved(StoredAlerts(existing)) {
			return reopen(fmt.Sprintf("The group fired again after it resolved while incident %s was mitigated (%s); reopening it", existing.Name, news.why))
		}
		return update(fmt.Sprintf("Updating the alerts of mitigated incident %s", existing.Name))

	default: // Triggered, Acknowledged
		if !firing && route.autoResolve {
			return resolve()
		}
		return update(fmt.Sprintf("Updating the alerts of incident %s", existing.Name))
	}
}

// firingNews is what a firing notification's firing alerts say against the
// alerts an incident stored.
type firingNews struct {
	kind newsKind
	// why names an alert that decided it, as a clause for Decision.Message.
	why string
}

type newsKind int

const (
	// newsKnown: no firing alert is new to the incident (it showed them
	// firing, or cannot tell because it stored only some alerts).
	newsKnown newsKind = iota
	// newsFresh: a firing alert is new to the incident.
	newsFresh
	// newsStale: no firing alert is new, and one the incident stored as
	// resolved fires in this notification with a start no later than that
	// resolution: the notification is older than the stored alerts.
	newsStale
)

// judgeFiring compares a firing notification's firing alerts with the
// alerts an incident stored (stored; nil when none were) and, for a
// resolved or closed incident, the time it ended (endedAt). Times are
// compared at whole seconds, as stored. A firing alert is new when
//
//   - the incident stored an alert of its fingerprint as firing that started
//     earlier (a new occurrence), or as resolved that ended before it started;
//   - or it stored none of its fingerprint and would have: the stored list
//     is complete, or it is cut to the newest MaxAlertItems and this alert
//     started after the oldest one kept (one that started no later may have
//     been cut); a list Alertmanager truncated can miss any alert;
//   - or it started after the incident ended, which a repeat of an alert
//     that fired through a resolution or closing made by hand cannot do.
func judgeFiring(stored *klaxonv1alpha1.AlertsSummary, endedAt *metav1.Time, msg *Message) firingNews {
	known := map[string]klaxonv1alpha1.AlertItem{}
	var oldest *metav1.Time
	complete, cut := true, false
	if stored != nil {
		for i, it := range stored.Items {
			// Of two items with one fingerprint the later occurrence counts.
			if k, ok := known[it.Fingerprint]; !ok || compareTimes(it.StartsAt, k.StartsAt) > 0 {
				known[it.Fingerprint] = it
			}
			if i == 0 || compareTimes(it.StartsAt, oldest) < 0 {
				oldest = it.StartsAt
			}
		}
		complete = stored.Truncated == 0 && int(stored.Firing)+int(stored.Resolved) <= len(stored.Items)
		cut = stored.Truncated == 0 && !complete
	}

	news := firingNews{kind: newsKnown, why: "none of the firing alerts is new to it"}
	for _, a := range msg.Alerts {
		if a.Status != StatusFiring {
			continue
		}
		fp := bounded.Prefix(a.Fingerprint, maxFingerprintLength)
		startsAt := storedTime(a.StartsAt)
		k, ok := known[fp]
		switch {
		case !ok:
			if complete || (cut && compareTimes(startsAt, oldest) > 0) ||
				(endedAt != nil && compareTimes(startsAt, endedAt) > 0) {
				return firingNews{kind: newsFresh, why: fmt.Sprintf("alert %s is new to it", fp)}
			}
		case k.Status == StatusResolved:
			end := k.EndsAt
			if end == nil {
				end = k.StartsAt
			}
			if compareTimes(startsAt, end) > 0 {
				return firingNews{kind: newsFresh, why: fmt.Sprintf("alert %s fired again after it resolved", fp)}
			}
			news = firingNews{kind: newsStale, why: fmt.Sprintf("alert %s resolved no earlier than the start this notification gives it", fp)}
		default:
			if compareTimes(startsAt, k.StartsAt) > 0 {
				return firingNews{kind: newsFresh, why: fmt.Sprintf("alert %s fired again", fp)}
			}
		}
	}
	return news
}

// endedAt is when a resolved or closed incident ended: status.resolvedAt,
// else status.closedAt; nil for an open incident, whose timestamps belong
// to an episode still going on.
func endedAt(inc *klaxonv1alpha1.Incident, state klaxonv1alpha1.IncidentState) *metav1.Time {
	switch state {
	case klaxonv1alpha1.StateResolved, klaxonv1alpha1.StateClosed:
		if inc.Status.ResolvedAt != nil {
			return inc.Status.ResolvedAt
		}
		return inc.Status.ClosedAt
	}
	return nil
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

package lifecycle

import (
	"fmt"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/conditions"
)

// SetConditions derives the lifecycle conditions (Acknowledged, Mitigated,
// Resolved, PostmortemPending) from the accepted phase and the spec. A condition's transition time changes only when its status
// does, so calling it again on an unchanged incident changes nothing.
func SetConditions(inc *klaxonv1alpha1.Incident, now time.Time) {
	st := &inc.Status
	reason := phaseReason(st)
	set := func(condType string, reached klaxonv1alpha1.IncidentState, trueMsg, falseMsg string) {
		if rank(st.Phase) >= rank(reached) {
			conditions.Set(inc, condType, true, reason, trueMsg, now)
		} else {
			conditions.Set(inc, condType, false, reason, falseMsg, now)
		}
	}

	ackMsg := fmt.Sprintf("Incident moved to %s without an acknowledgement", st.Phase)
	if st.AcknowledgedAt != nil {
		ackMsg = "Incident acknowledged"
		if st.AcknowledgedBy != "" {
			ackMsg += " by " + st.AcknowledgedBy
		}
	}
	set(klaxonv1alpha1.ConditionAcknowledged, klaxonv1alpha1.StateAcknowledged, ackMsg,
		"Waiting for a responder to acknowledge the incident")
	set(klaxonv1alpha1.ConditionMitigated, klaxonv1alpha1.StateMitigated,
		"The impact is mitigated", "The impact is not mitigated yet")
	set(klaxonv1alpha1.ConditionResolved, klaxonv1alpha1.StateResolved,
		"The problem is resolved", "The problem is not resolved yet")

	setPostmortemCondition(inc, now)
}

// Commander is who leads the response: spec.commander, or else the first
// person paged. Call it after paging, so a first page shows at once.
func Commander(inc *klaxonv1alpha1.Incident) string {
	if inc.Spec.Commander != "" || len(inc.Status.Assignments) == 0 {
		return bounded.Runes(inc.Spec.Commander, klaxonv1alpha1.MaxUserNameLength)
	}
	return bounded.Runes(inc.Status.Assignments[0].Name, klaxonv1alpha1.MaxUserNameLength)
}

// phaseReason is the reason of the lifecycle conditions: the phase, from
// the catalogue.
func phaseReason(st *klaxonv1alpha1.IncidentStatus) string {
	switch st.Phase {
	case klaxonv1alpha1.StateTriggered:
		if st.Episode > 1 {
			return klaxonv1alpha1.ReasonReopened
		}
		return klaxonv1alpha1.ReasonTriggered
	case klaxonv1alpha1.StateAcknowledged:
		return klaxonv1alpha1.ReasonAcknowledged
	case klaxonv1alpha1.StateMitigated:
		return klaxonv1alpha1.ReasonMitigated
	case klaxonv1alpha1.StateResolved:
		return klaxonv1alpha1.ReasonResolved
	case klaxonv1alpha1.StateClosed:
		return klaxonv1alpha1.ReasonClosed
	}
	// Only a new incident has no phase, and Accept gives it one first.
	return klaxonv1alpha1.ReasonTriggered
}

func setPostmortemCondition(inc *klaxonv1alpha1.Incident, now time.Time) {
	set := func(status bool, reason, message string) {
		conditions.Set(inc, klaxonv1alpha1.ConditionPostmortemPending, status, reason, message, now)
	}
	sev := inc.Spec.Severity
	switch {
	case inc.Spec.Postmortem != nil:
		set(false, klaxonv1alpha1.ReasonPostmortemLinked, "The post-incident review is linked")
	case !sev.RequiresPostmortem():
		set(false, klaxonv1alpha1.ReasonNotRequired, fmt.Sprintf("%s incidents need no postmortem", sev))
	case inc.Status.Phase == klaxonv1alpha1.StateResolved:
		set(true, klaxonv1alpha1.ReasonPostmortemMissing,
			fmt.Sprintf("%s incident resolved without a postmortem: set spec.postmortem.url before closing it", sev))
	default:
		set(false, klaxonv1alpha1.ReasonIncidentOpen, fmt.Sprintf("A %s incident needs a postmortem once it is resolved", sev))
	}
}

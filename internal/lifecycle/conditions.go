package lifecycle

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// SetConditions derives the lifecycle conditions (Acknowledged, Mitigated,
// Resolved, PostmortemPending) from the accepted phase and the spec. A condition's transition time changes only when its status
// does, so calling it again on an unchanged incident changes nothing.
func SetConditions(inc *klaxonv1alpha1.Incident, now time.Time) {
	st := &inc.Status
	reason := phaseReason(st)
	set := func(condType string, reached klaxonv1alpha1.IncidentState, trueMsg, falseMsg string) {
		c := metav1.Condition{
			Type:               condType,
			Status:             metav1.ConditionFalse,
			Reason:             reason,
			Message:            falseMsg,
			ObservedGeneration: inc.Generation,
			LastTransitionTime: metav1.NewTime(now),
		}
		if rank(st.Phase) >= rank(reached) {
			c.Status, c.Message = metav1.ConditionTrue, trueMsg
		}
		c.Message = bounded.Runes(c.Message, bounded.ConditionMessage)
		meta.SetStatusCondition(&st.Conditions, c)
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

	meta.SetStatusCondition(&st.Conditions, postmortemCondition(inc, now))
}

// Commander is who leads the response: spec.commander, or else the first
// person paged. Call it after paging, so a first page shows at once.
func Commander(inc *klaxonv1alpha1.Incident) string {
	if inc.Spec.Commander != "" || len(inc.Status.Assignments) == 0 {
		return bounded.Runes(inc.Spec.Commander, klaxonv1alpha1.MaxUserNameLength)
	}
	return bounded.Runes(inc.Status.Assignments[0].Name, klaxonv1alpha1.MaxUserNameLength)
}

func phaseReason(st *klaxonv1alpha1.IncidentStatus) string {
	if st.Phase == klaxonv1alpha1.StateTriggered && st.Episode > 1 {
		return klaxonv1alpha1.ReasonReopened
	}
	return string(st.Phase)
}

func postmortemCondition(inc *klaxonv1alpha1.Incident, now time.Time) metav1.Condition {
	c := metav1.Condition{
		Type:               klaxonv1alpha1.ConditionPostmortemPending,
		Status:             metav1.ConditionFalse,
		ObservedGeneration: inc.Generation,
		LastTransitionTime: metav1.NewTime(now),
	}
	sev := inc.Spec.Severity
	switch {
	case inc.Spec.Postmortem != nil:
		c.Reason, c.Message = klaxonv1alpha1.ReasonPostmortemLinked, "The post-incident review is linked"
	case !sev.RequiresPostmortem():
		c.Reason, c.Message = klaxonv1alpha1.ReasonNotRequired, fmt.Sprintf("%s incidents need no postmortem", sev)
	case inc.Status.Phase == klaxonv1alpha1.StateResolved:
		c.Status, c.Reason = metav1.ConditionTrue, klaxonv1alpha1.ReasonPostmortemMissing
		c.Message = fmt.Sprintf("%s incident resolved without a postmortem: set spec.postmortem.url before closing it", sev)
	default:
		c.Reason, c.Message = klaxonv1alpha1.ReasonIncidentOpen, fmt.Sprintf("A %s incident needs a postmortem once it is resolved", sev)
	}
	return c
}

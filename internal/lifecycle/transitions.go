package lifecycle

import (
	"fmt"
	"slices"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// States lists the lifecycle states in their forward order.
var States = []klaxonv1alpha1.IncidentState{
	klaxonv1alpha1.StateTriggered,
	klaxonv1alpha1.StateAcknowledged,
	klaxonv1alpha1.StateMitigated,
	klaxonv1alpha1.StateResolved,
	klaxonv1alpha1.StateClosed,
}

// rank is a state's position in the forward order, or -1 when unknown.
func rank(s klaxonv1alpha1.IncidentState) int {
	return slices.Index(States, s)
}

// IsReopen reports whether moving from one state to another is a reopen: the
// problem is back after it was mitigated or resolved.
func IsReopen(from, to klaxonv1alpha1.IncidentState) bool {
	return to == klaxonv1alpha1.StateTriggered &&
		(from == klaxonv1alpha1.StateMitigated || from == klaxonv1alpha1.StateResolved)
}

// Allowed reports whether spec.state may move from one state to another in a
// single write. It mirrors the CEL transition rule on the Incident CRD, which
// is what enforces it; the table test keeps the two in step.
func Allowed(from, to klaxonv1alpha1.IncidentState) bool {
	if rank(from) < 0 || rank(to) < 0 {
		return false
	}
	if from == to {
		return true
	}
	if from == klaxonv1alpha1.StateClosed {
		return false
	}
	return rank(to) > rank(from) || IsReopen(from, to)
}

// Steps returns the moves that take an incident whose accepted phase is from
// to the desired state, in order. An empty phase is a new incident, which
// starts at Triggered.
//
// The reconciler sees only the latest spec.state, so several writes may have
// happened between two reconciles. The API server allows only the moves that
// Allowed accepts, so a desired state that is not directly reachable from the
// phase can only have been reached through a reopen: the steps are then the
// reopen followed by the forward move.
func Steps(from, to klaxonv1alpha1.IncidentState) ([]klaxonv1alpha1.IncidentState, error) {
	if rank(to) < 0 {
		return nil, fmt.Errorf("unknown desired state %q", to)
	}
	if from == "" {
		if to == klaxonv1alpha1.StateTriggered {
			return []klaxonv1alpha1.IncidentState{to}, nil
		}
		return []klaxonv1alpha1.IncidentState{klaxonv1alpha1.StateTriggered, to}, nil
	}
	if rank(from) < 0 {
		return nil, fmt.Errorf("unknown phase %q", from)
	}
	switch {
	case from == to:
		return nil, nil
	case Allowed(from, to):
		return []klaxonv1alpha1.IncidentState{to}, nil
	case from == klaxonv1alpha1.StateClosed:
		return nil, fmt.Errorf("cannot move incident from Closed to %s: Closed is final", to)
	case to == klaxonv1alpha1.StateTriggered:
		// From Acknowledged: it went through Mitigated or Resolved first.
		return []klaxonv1alpha1.IncidentState{to}, nil
	default:
		// A backward move other than to Triggered: a reopen, then forward.
		return []klaxonv1alpha1.IncidentState{klaxonv1alpha1.StateTriggered, to}, nil
	}
}

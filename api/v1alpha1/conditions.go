package v1alpha1

// Condition types. Each is True when the line above it says.
const (
	// ConditionAcknowledged: someone acknowledged the current episode, or it
	// moved past Acknowledged.
	ConditionAcknowledged = "Acknowledged"
	// ConditionMitigated: the current episode is mitigated, or moved past it.
	ConditionMitigated = "Mitigated"
	// ConditionResolved: the current episode is resolved or the incident closed.
	ConditionResolved = "Resolved"
	// ConditionRespondersAssigned: someone is paged or assigned.
	ConditionRespondersAssigned = "RespondersAssigned"
	// ConditionEscalated: paging moved past level 0.
	ConditionEscalated = "Escalated"
	// ConditionEscalationExhausted: every level was paged repeat+1 times and
	// nobody acknowledged.
	ConditionEscalationExhausted = "EscalationExhausted"
	// ConditionAcknowledgeTargetMissed: the incident was not acknowledged
	// within the policy's acknowledgeWithin.
	ConditionAcknowledgeTargetMissed = "AcknowledgeTargetMissed"
	// ConditionUpdateOverdue: no stakeholder update within the policy's
	// updateEvery while the incident is open.
	ConditionUpdateOverdue = "UpdateOverdue"
	// ConditionResolveTargetMissed: the incident was not resolved within the
	// policy's resolveWithin.
	ConditionResolveTargetMissed = "ResolveTargetMissed"
	// ConditionPostmortemPending: a SEV1 or SEV2 incident is resolved without
	// a postmortem link.
	ConditionPostmortemPending = "PostmortemPending"
	// ConditionReady: the object is valid and everything it refers to exists
	// (OnCallSchedule, EscalationPolicy, AlertRoute).
	ConditionReady = "Ready"
)

// Condition reasons, CamelCase.
const (
	// ReasonTriggered: the incident (or its current episode) is triggered and
	// nobody has acknowledged it yet.
	ReasonTriggered = "Triggered"
	// ReasonReopened: the problem came back; a new episode began.
	ReasonReopened = "Reopened"
	// ReasonAcknowledged: a person acknowledged the incident.
	ReasonAcknowledged = "Acknowledged"
	// ReasonMitigated: the impact is mitigated.
	ReasonMitigated = "Mitigated"
	// ReasonResolved: the problem is resolved.
	ReasonResolved = "Resolved"
	// ReasonClosed: the incident is closed.
	ReasonClosed = "Closed"
	// ReasonPostmortemMissing: a SEV1/SEV2 incident has no postmortem link.
	ReasonPostmortemMissing = "PostmortemMissing"
	// ReasonPostmortemLinked: the postmortem link is set.
	ReasonPostmortemLinked = "PostmortemLinked"
	// ReasonNotRequired: the condition does not apply to this incident.
	ReasonNotRequired = "NotRequired"
	// ReasonIncidentOpen: the incident is not resolved yet.
	ReasonIncidentOpen = "IncidentOpen"
	// ReasonAssigned: RespondersAssigned is True because a commander or
	// responders were named by hand.
	ReasonAssigned = "Assigned"
	// ReasonNobodyAssigned: RespondersAssigned is False: the incident has no
	// escalation policy and nobody was named by hand.
	ReasonNobodyAssigned = "NobodyAssigned"
	// ReasonInvalidPolicy: Ready is False on an EscalationPolicy whose spec
	// fails a check the API server cannot make.
	ReasonInvalidPolicy = "InvalidPolicy"
	// ReasonStopped: escalation stopped because someone
	// acknowledged (or the incident moved on) before it was exhausted.
	ReasonStopped = "Stopped"
)

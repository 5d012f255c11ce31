package v1alpha1

// Condition reasons for on-call schedules, escalation policies and the
// paging of incidents, CamelCase. They complement conditions.go.
const (
	// ReasonValid: Ready is True; the object is valid and everything it
	// refers to exists.
	ReasonValid = "Valid"
	// ReasonInvalidTimeZone: Ready is False on an OnCallSchedule whose
	// spec.timeZone is not a known IANA time zone.
	ReasonInvalidTimeZone = "InvalidTimeZone"
	// ReasonInvalidSchedule: Ready is False on an OnCallSchedule whose spec
	// fails a check the API server cannot make, such as a start date that
	// does not exist (2026-02-30).
	ReasonInvalidSchedule = "InvalidSchedule"
	// ReasonScheduleNotFound: Ready is False on an EscalationPolicy, or
	// paging an incident failed, because a referenced OnCallSchedule does not
	// exist in the namespace.
	ReasonScheduleNotFound = "ScheduleNotFound"
	// ReasonScheduleNotReady: Ready is False on an EscalationPolicy, or
	// paging an incident failed, because a referenced OnCallSchedule exists
	// but is not Ready.
	ReasonScheduleNotReady = "ScheduleNotReady"
	// ReasonPolicyNotFound: RespondersAssigned is False because the
	// incident's escalation policy does not exist.
	ReasonPolicyNotFound = "PolicyNotFound"
	// ReasonPaged: RespondersAssigned is True because the escalation policy
	// paged someone.
	ReasonPaged = "Paged"
	// ReasonNobodyOnCall: a level was paged but none of its schedules had
	// anyone on call, so nobody was notified by it.
	ReasonNobodyOnCall = "NobodyOnCall"
	// ReasonEscalated: Escalated is True; paging moved past level 0 of the
	// first round.
	ReasonEscalated = "Escalated"
	// ReasonNotEscalated: Escalated or EscalationExhausted is False; only
	// the first level has been paged, or paging stopped before it moved on.
	ReasonNotEscalated = "NotEscalated"
	// ReasonExhausted: EscalationExhausted is True; every level was paged
	// repeat+1 times and nobody acknowledged.
	ReasonExhausted = "Exhausted"
)

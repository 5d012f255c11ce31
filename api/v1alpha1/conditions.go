package v1alpha1

// The conditions catalogue: every condition type and reason Klaxon sets, with
// when it is set. TestConditionCatalogue checks that each reason here is set
// by the code and that the code sets no other.

// Condition types. Each is True when the line above it says.
const (
	// ConditionReady (OnCallSchedule, OnCallOverride, EscalationPolicy,
	// AlertRoute, NotificationChannel, Responder, StatusPage,
	// MaintenanceWindow): the object is valid and everything it refers to
	// exists and is usable; an OnCallOverride also has not ended.
	ConditionReady = "Ready"

	// ConditionAcknowledged (Incident): someone acknowledged the current
	// episode, or it moved past Acknowledged.
	ConditionAcknowledged = "Acknowledged"
	// ConditionMitigated (Incident): the current episode is mitigated, or
	// moved past it.
	ConditionMitigated = "Mitigated"
	// ConditionResolved (Incident): the current episode is resolved or the
	// incident closed.
	ConditionResolved = "Resolved"
	// ConditionPostmortemPending (Incident): a SEV1 or SEV2 incident is
	// resolved without a postmortem link.
	ConditionPostmortemPending = "PostmortemPending"
	// ConditionRespondersAssigned (Incident): someone is paged or assigned.
	ConditionRespondersAssigned = "RespondersAssigned"
	// ConditionEscalated (Incident): paging moved past level 0.
	ConditionEscalated = "Escalated"
	// ConditionEscalationExhausted (Incident): every level was paged
	// repeat+1 times and nobody acknowledged.
	ConditionEscalationExhausted = "EscalationExhausted"
	// ConditionAcknowledgeTargetMissed (Incident): the episode was not
	// acknowledged within the policy's acknowledgeWithin for its severity.
	ConditionAcknowledgeTargetMissed = "AcknowledgeTargetMissed"
	// ConditionUpdateOverdue (Incident): no stakeholder update within the
	// policy's updateEvery while the incident is open.
	ConditionUpdateOverdue = "UpdateOverdue"
	// ConditionResolveTargetMissed (Incident): the episode was not resolved
	// within the policy's resolveWithin.
	ConditionResolveTargetMissed = "ResolveTargetMissed"
	// ConditionPostmortemOverdue (Incident): a resolved SEV1 or SEV2
	// incident has no postmortem link within the policy's postmortem.dueWithin.
	ConditionPostmortemOverdue = "PostmortemOverdue"
	// ConditionNotificationFailed (Incident): a delivery of a page in the
	// current episode failed for good, or a paged person could not be
	// reached at all (no Responder, or no contact for the severity).
	ConditionNotificationFailed = "NotificationFailed"
	// ConditionSuppressed (Incident): a MaintenanceWindow keeps the current
	// episode from being paged, for good (Suppress, triggered during the
	// window) or until the window ends (Hold, or escalation paused).
	ConditionSuppressed = "Suppressed"
	// ConditionActive (MaintenanceWindow): the window applies now.
	ConditionActive = "Active"
)

// Reasons of Suppressed (Incident) and Active (MaintenanceWindow).
const (
	// ReasonMaintenanceSuppress: Suppressed is True; the episode was
	// triggered during a Suppress window and is never paged.
	ReasonMaintenanceSuppress = "MaintenanceSuppress"
	// ReasonMaintenanceHold: Suppressed is True; a window applies, so paging
	// waits, or escalation pauses, until it ends.
	ReasonMaintenanceHold = "MaintenanceHold"
	// ReasonMaintenanceEnded: Suppressed is False; the windows that held
	// paging ended, or the incident left Triggered, and nothing holds it.
	ReasonMaintenanceEnded = "MaintenanceEnded"
	// ReasonInWindow: Active is True; now lies in the window.
	ReasonInWindow = "InWindow"
	// ReasonOutsideWindow: Active is False; now lies outside the window.
	ReasonOutsideWindow = "OutsideWindow"
)

// Reasons of NotificationFailed.
const (
	// ReasonDeliveryFailed: True; a delivery failed for good (a permanent
	// error, or every attempt failed).
	ReasonDeliveryFailed = "DeliveryFailed"
	// ReasonNobodyReached: True; a paged person has no Responder, or no
	// rule of theirs covers the incident's severity, so only the status
	// records the page.
	ReasonNobodyReached = "NobodyReached"
	// ReasonDelivered: False; every delivery due so far was sent, or is
	// still being tried.
	ReasonDelivered = "Delivered"
)

// Event reasons of delivery, which are not condition reasons.
const (
	// EventNotificationFailed: a delivery failed for good.
	EventNotificationFailed = "NotificationFailed"
	// EventNotificationLimited: a text or call was not sent because its
	// twilio channel reached an hourly cap (spec.twilio.limits).
	EventNotificationLimited = "NotificationLimited"
)

// Event reasons of Alertmanager silences (AlertRoute
// spec.alertmanager.silenceOnAcknowledge), which are not condition reasons.
const (
	// EventSilenced: Klaxon created the silence of the incident's group.
	EventSilenced = "Silenced"
	// EventSilenceExpired: Klaxon expired the silence, because the incident
	// left Acknowledged or is being deleted.
	EventSilenceExpired = "SilenceExpired"
	// EventSilenceFailed: Alertmanager refused a call or could not be
	// reached; status.silence.error says why.
	EventSilenceFailed = "SilenceFailed"
	// EventAlertsGone: while silenced, Alertmanager's API showed none of the
	// group's alerts, so Klaxon resolved the incident (autoResolve).
	EventAlertsGone = "AlertsGone"
)

// Event reasons of incident channels (NotificationChannel
// spec.slack.incidentChannels), which are not condition reasons.
const (
	// EventSlackChannelCreated: Klaxon made the incident's Slack channel.
	EventSlackChannelCreated = "SlackChannelCreated"
	// EventSlackChannelArchived: Klaxon archived it, after the close.
	EventSlackChannelArchived = "SlackChannelArchived"
	// EventSlackChannelFailed: Slack refused a call about the channel, or
	// could not be reached; status.slackChannel.error says why.
	EventSlackChannelFailed = "SlackChannelFailed"
)

// Reasons of the lifecycle conditions (Acknowledged, Mitigated, Resolved):
// the phase the incident is in.
const (
	// ReasonTriggered: the incident (its first episode) is triggered.
	ReasonTriggered = "Triggered"
	// ReasonReopened: the problem came back; a later episode is triggered.
	ReasonReopened = "Reopened"
	// ReasonAcknowledged: a person acknowledged the incident.
	ReasonAcknowledged = "Acknowledged"
	// ReasonMitigated: the impact is mitigated.
	ReasonMitigated = "Mitigated"
	// ReasonResolved: the problem is resolved.
	ReasonResolved = "Resolved"
	// ReasonClosed: the incident is closed.
	ReasonClosed = "Closed"
)

// Reasons of PostmortemPending.
const (
	// ReasonPostmortemMissing: True; a resolved SEV1/SEV2 incident has no
	// postmortem link.
	ReasonPostmortemMissing = "PostmortemMissing"
	// ReasonPostmortemLinked: False; the postmortem link is set.
	ReasonPostmortemLinked = "PostmortemLinked"
	// ReasonNotRequired: False; the incident's severity needs no postmortem.
	ReasonNotRequired = "NotRequired"
	// ReasonIncidentOpen: False; the incident is not resolved yet.
	ReasonIncidentOpen = "IncidentOpen"
)

// Reasons of the response-target conditions (AcknowledgeTargetMissed,
// UpdateOverdue, ResolveTargetMissed, PostmortemOverdue). A target the
// incident's policy does not set for its severity has no condition.
const (
	// ReasonTargetMissed: True; the deadline passed and the target is not met.
	ReasonTargetMissed = "TargetMissed"
	// ReasonWithinTarget: False; the deadline has not passed yet.
	ReasonWithinTarget = "WithinTarget"
	// ReasonTargetMet: False; the target was met, in time or late.
	ReasonTargetMet = "TargetMet"
)

// Reasons of the paging conditions (RespondersAssigned, Escalated,
// EscalationExhausted).
const (
	// ReasonPaged: RespondersAssigned is True; the escalation policy paged
	// someone in the current episode.
	ReasonPaged = "Paged"
	// ReasonAssigned: RespondersAssigned is True; a commander or responders
	// were named by hand.
	ReasonAssigned = "Assigned"
	// ReasonNobodyAssigned: RespondersAssigned is False; the incident has no
	// escalation policy and nobody was named by hand.
	ReasonNobodyAssigned = "NobodyAssigned"
	// ReasonPolicyNotFound: RespondersAssigned (or Escalated) is False; the
	// incident's escalation policy does not exist. Paging waits for it.
	ReasonPolicyNotFound = "PolicyNotFound"
	// ReasonEscalated: Escalated is True; paging moved past level 0 of the
	// first round.
	ReasonEscalated = "Escalated"
	// ReasonNotEscalated: Escalated or EscalationExhausted is False; only the
	// first level has been paged, or paging stopped before it moved on.
	ReasonNotEscalated = "NotEscalated"
	// ReasonExhausted: EscalationExhausted is True; every level was paged
	// repeat+1 times and nobody acknowledged.
	ReasonExhausted = "Exhausted"
)

// Reasons of Ready, and of the paging conditions where paging waits for a
// schedule or cannot follow its policy.
const (
	// ReasonValid: Ready is True; the object is valid and everything it
	// refers to exists.
	ReasonValid = "Valid"
	// ReasonInvalidTimeZone: Ready is False on an OnCallSchedule whose
	// spec.timeZone, or a MaintenanceWindow whose spec.schedule.timeZone, is
	// not a known IANA time zone.
	ReasonInvalidTimeZone = "InvalidTimeZone"
	// ReasonInvalidSchedule: Ready is False on an OnCallSchedule whose spec
	// fails a check the API server cannot make, such as a start date that
	// does not exist (2026-02-30), or on a MaintenanceWindow whose spec
	// does.
	ReasonInvalidSchedule = "InvalidSchedule"
	// ReasonInvalidPolicy: Ready is False on an EscalationPolicy (and paging
	// its incidents is stalled) when its spec fails a check the API server
	// cannot make.
	ReasonInvalidPolicy = "InvalidPolicy"
	// ReasonScheduleNotFound: Ready is False on an EscalationPolicy or an
	// OnCallOverride, or paging an incident waits, because a referenced
	// OnCallSchedule does not exist in the namespace.
	ReasonScheduleNotFound = "ScheduleNotFound"
	// ReasonScheduleNotReady: Ready is False on an EscalationPolicy or an
	// OnCallOverride, or paging an incident waits, because a referenced
	// OnCallSchedule exists but is not Ready.
	ReasonScheduleNotReady = "ScheduleNotReady"
	// ReasonInForce: Ready is True on an OnCallOverride that applies now.
	ReasonInForce = "InForce"
	// ReasonScheduled: Ready is True on an OnCallOverride that starts later.
	ReasonScheduled = "Scheduled"
	// ReasonEnded: Ready is False on an OnCallOverride whose end has
	// passed; retention deletes it later.
	ReasonEnded = "Ended"
	// ReasonUnknownUser: Ready is False on an OnCallOverride whose
	// replace.user is nobody its schedule names, so it could never apply.
	ReasonUnknownUser = "UnknownUser"
	// ReasonTooManyOverrides: Ready is False on an OnCallOverride left
	// out because its schedule has more than it takes (1000), and the
	// others end later.
	ReasonTooManyOverrides = "TooManyOverrides"
	// ReasonInvalidMatcher: Ready is False on an AlertRoute or a Heartbeat;
	// an entry of spec.matchers is not valid Alertmanager matcher syntax.
	ReasonInvalidMatcher = "InvalidMatcher"
	// ReasonInvalidRoute: Ready is False on an AlertRoute; another part of
	// its spec is invalid, such as an unknown severity.
	ReasonInvalidRoute = "InvalidRoute"
	// ReasonInvalidTitleTemplate: Ready is False on an AlertRoute;
	// spec.titleTemplate is not a valid Go template, or could exceed the
	// render budget.
	ReasonInvalidTitleTemplate = "InvalidTitleTemplate"
	// ReasonTokenSecretNotFound: Ready is False on an AlertRoute; the Secret
	// named by spec.tokenSecretRef does not exist, so no notification can be
	// authenticated.
	ReasonTokenSecretNotFound = "TokenSecretNotFound"
	// ReasonTokenKeyNotFound: Ready is False on an AlertRoute; the Secret
	// exists but has no non-empty value under spec.tokenSecretRef.key.
	ReasonTokenKeyNotFound = "TokenKeyNotFound"
	// ReasonTokenSecretForbidden: Ready is False on an AlertRoute; the
	// operator may not read the Secret named by spec.tokenSecretRef, because
	// the namespace has not granted it (docs/security.md).
	ReasonTokenSecretForbidden = "TokenSecretForbidden"
	// ReasonTokenSecretNotMarked: Ready is False on an AlertRoute; the Secret
	// lacks the label klaxon.dev/receiver-token=true that marks it as a
	// receiver token, so the operator does not use it.
	ReasonTokenSecretNotMarked = "TokenSecretNotMarked"
	// ReasonInvalidChannel: Ready is False on a NotificationChannel; a
	// setting is wrong, such as an Alertmanager receiver block that does not
	// load.
	ReasonInvalidChannel = "InvalidChannel"
	// ReasonSecretNotFound: Ready is False on a NotificationChannel; a Secret
	// it names does not exist, or has no non-empty value under the key.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretForbidden: Ready is False on a NotificationChannel; the
	// operator may not read a Secret it names, because the namespace has not
	// granted it (docs/security.md).
	ReasonSecretForbidden = "SecretForbidden"
	// ReasonSecretNotMarked: Ready is False on a NotificationChannel; a
	// Secret it names lacks the label klaxon.dev/channel-credentials=true.
	ReasonSecretNotMarked = "SecretNotMarked"
	// ReasonChannelNotFound: Ready is False on a Responder; a contact names
	// a NotificationChannel that does not exist. SlackUserGroupSynced is
	// False on an OnCallSchedule whose spec.slackUserGroup names one.
	ReasonChannelNotFound = "ChannelNotFound"
	// ReasonChannelNotReady: Ready is False on a Responder; a contact names
	// a NotificationChannel that is not Ready.
	ReasonChannelNotReady = "ChannelNotReady"
	// ReasonInvalidContact: Ready is False on a Responder; a contact's
	// address does not suit its channel (a twilio contact whose address is
	// not a phone number in E.164 form).
	ReasonInvalidContact = "InvalidContact"
	// ReasonServed: Ready is True on a StatusPage; the receiver serves it
	// at /status/{namespace}/{name}.
	ReasonServed = "Served"
	// ReasonInvalidSelector: Ready is False on a StatusPage or a
	// MaintenanceWindow; spec.selector is not a valid label selector, so the
	// page shows no incident, or the window matches none.
	ReasonInvalidSelector = "InvalidSelector"
	// ReasonAlertRouteNotFound: Ready is False on a Heartbeat; the AlertRoute
	// named by spec.alertRouteRef does not exist in the namespace, so no
	// beat can be authenticated.
	ReasonAlertRouteNotFound = "AlertRouteNotFound"
)

// Heartbeat conditions. Ready (above) is True on a Heartbeat when its route
// exists and its matchers are valid.
const (
	// ConditionOverdue (Heartbeat): no beat arrived within spec.timeout of
	// status.lastSeenAt (or of the heartbeat's creation, before any beat).
	ConditionOverdue = "Overdue"

	// ReasonBeatMissed: Overdue is True; no beat arrived within
	// spec.timeout, and the heartbeat opened an incident.
	ReasonBeatMissed = "BeatMissed"
	// ReasonBeating: Overdue is False; a beat arrived within spec.timeout,
	// or the heartbeat is younger than its timeout.
	ReasonBeating = "Beating"
)

// OnCallSchedule's Slack user group (spec.slackUserGroup).
const (
	// ConditionSlackUserGroupSynced (OnCallSchedule): the Slack user group
	// of spec.slackUserGroup holds the Slack IDs of whoever is on call.
	ConditionSlackUserGroupSynced = "SlackUserGroupSynced"

	// ReasonUserGroupSynced: SlackUserGroupSynced is True; Slack took the
	// on-call people's IDs.
	ReasonUserGroupSynced = "UserGroupSynced"
	// ReasonNotSlack: SlackUserGroupSynced is False; spec.slackUserGroup
	// names a NotificationChannel that is not a slack one. A channel that
	// does not exist is ReasonChannelNotFound.
	ReasonNotSlack = "NotSlack"
	// ReasonMissingSlackContact: SlackUserGroupSynced is False; someone on
	// call has no contact on the channel. The group is set to those who
	// have one, or left as it is when nobody has; the message names who
	// lacks one.
	ReasonMissingSlackContact = "MissingSlackContact"
	// ReasonSlackError: SlackUserGroupSynced is False; Slack refused the
	// update, or could not be reached, or the channel cannot send (its
	// Secrets); the message gives Slack's error. Retried with backoff.
	ReasonSlackError = "SlackError"
)

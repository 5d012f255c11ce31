package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IncidentState is a step of the incident lifecycle:
// Triggered -> Acknowledged -> Mitigated -> Resolved -> Closed. Forward moves
// may skip steps; Mitigated and Resolved may reopen to Triggered; Closed is
// final.
// +kubebuilder:validation:Enum=Triggered;Acknowledged;Mitigated;Resolved;Closed
// +kubebuilder:validation:MaxLength=16
type IncidentState string

// The lifecycle states, in order.
const (
	StateTriggered    IncidentState = "Triggered"
	StateAcknowledged IncidentState = "Acknowledged"
	StateMitigated    IncidentState = "Mitigated"
	StateResolved     IncidentState = "Resolved"
	StateClosed       IncidentState = "Closed"
)

// ResponderRole is the part a person plays in the response.
// +kubebuilder:validation:Enum=Commander;Communications;Operations;Scribe;SubjectMatterExpert
type ResponderRole string

// The roles of a responder.
const (
	RoleCommander           ResponderRole = "Commander"
	RoleCommunications      ResponderRole = "Communications"
	RoleOperations          ResponderRole = "Operations"
	RoleScribe              ResponderRole = "Scribe"
	RoleSubjectMatterExpert ResponderRole = "SubjectMatterExpert"
)

// IncidentResponder is a person added to the response by hand.
type IncidentResponder struct {
	// name of the person.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// role the person plays.
	// +optional
	Role ResponderRole `json:"role,omitempty"`
}

// StakeholderUpdate is one message to the people affected by the incident.
type StakeholderUpdate struct {
	// time the update was given.
	// +required
	Time metav1.Time `json:"time"`

	// author of the update.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Author string `json:"author,omitempty"`

	// message to stakeholders.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	Message string `json:"message"`
}

// Postmortem links the post-incident review.
type Postmortem struct {
	// url of the post-incident review.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self)",message="postmortem.url must be an absolute URL"
	URL string `json:"url"`
}

// IntakeName names the kind of sender that opened an incident.
// +kubebuilder:validation:Enum=alertmanager;grafana;pagerduty;opsgenie
type IntakeName string

// The intakes of the receiver (docs/alerts-in.md).
const (
	// IntakeAlertmanager: Alertmanager's webhook (payload version 4).
	IntakeAlertmanager IntakeName = "alertmanager"
	// IntakeGrafana: Grafana-managed alerting's webhook (payload version 1).
	IntakeGrafana IntakeName = "grafana"
	// IntakePagerDuty: the PagerDuty Events API v2.
	IntakePagerDuty IntakeName = "pagerduty"
	// IntakeOpsgenie: the Opsgenie Alert API v2.
	IntakeOpsgenie IntakeName = "opsgenie"
)

// IncidentSource records the alert group an incident was opened for.
type IncidentSource struct {
	// intake is the kind of sender that opened the incident; unset means
	// alertmanager.
	// +optional
	Intake IntakeName `json:"intake,omitempty"`

	// alertRoute is the AlertRoute that received the notification.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	AlertRoute string `json:"alertRoute"`

	// groupKey identifies the alert group: Alertmanager's or Grafana's
	// groupKey, or "pagerduty:{dedup_key}" or "opsgenie:{alias}".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	GroupKey string `json:"groupKey"`

	// externalURL is the address of the Alertmanager that sent it.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	ExternalURL string `json:"externalURL,omitempty"`
}

// IncidentSpec is what people (or the receiver) say about an incident.
// +kubebuilder:validation:XValidation:rule="!has(self.state) || self.state != 'Closed' || !has(self.severity) || !(self.severity in ['SEV1', 'SEV2']) || has(self.postmortem)",messageExpression="'closing a ' + self.severity + ' incident needs spec.postmortem.url: link the post-incident review first'",reason=FieldValueRequired,fieldPath=".postmortem"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.updates) || (has(self.updates) && size(self.updates) >= size(oldSelf.updates) && oldSelf.updates.all(i, u, self.updates[i] == u))",message="spec.updates is append-only: add new entries at the end, never edit or remove one",fieldPath=".updates"
// +kubebuilder:validation:XValidation:rule="has(self.source) == has(oldSelf.source)",message="spec.source is immutable: it is set when the incident is created and never added or removed"
type IncidentSpec struct {
	// title says in a line what is wrong.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	Title string `json:"title"`

	// description gives the detail.
	// +optional
	// +kubebuilder:validation:MaxLength=8192
	Description string `json:"description,omitempty"`

	// severity of the incident; SEV1 is the worst.
	// +optional
	// +kubebuilder:default=SEV3
	Severity Severity `json:"severity,omitempty"`

	// service that is affected.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Service string `json:"service,omitempty"`

	// impact says who is affected and how.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Impact string `json:"impact,omitempty"`

	// state is the lifecycle state asked for; status.phase is the state the
	// operator has accepted.
	// +optional
	// +kubebuilder:default=Triggered
	// +kubebuilder:validation:XValidation:rule="self == oldSelf || oldSelf == 'Triggered' || (oldSelf == 'Acknowledged' && self in ['Mitigated', 'Resolved', 'Closed']) || (oldSelf == 'Mitigated' && self in ['Resolved', 'Closed', 'Triggered']) || (oldSelf == 'Resolved' && self in ['Closed', 'Triggered'])",messageExpression="oldSelf == 'Closed' ? 'cannot move incident from Closed to ' + self + ': Closed is final' : 'cannot move incident from ' + oldSelf + ' to ' + self + ': states move forward, or reopen to Triggered from Mitigated or Resolved'"
	State IncidentState `json:"state,omitempty"`

	// escalationPolicyRef names the EscalationPolicy that decides whom to page.
	// +optional
	EscalationPolicyRef *LocalObjectReference `json:"escalationPolicyRef,omitempty"`

	// commander leads the response.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Commander string `json:"commander,omitempty"`

	// responders are people added to the response by hand.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Responders []IncidentResponder `json:"responders,omitempty"`

	// updates are stakeholder updates, oldest first. Entries can be added,
	// never edited or removed.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	Updates []StakeholderUpdate `json:"updates,omitempty"`

	// postmortem links the post-incident review; closing a SEV1 or SEV2
	// incident needs it.
	// +optional
	Postmortem *Postmortem `json:"postmortem,omitempty"`

	// source is set by the receiver for incidents opened by Alertmanager.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.source is immutable"
	Source *IncidentSource `json:"source,omitempty"`
}

// EscalationStatus is where paging stands along the escalation policy.
type EscalationStatus struct {
	// level of the policy paged last, from 0.
	// +optional
	Level int32 `json:"level"`

	// round counts the passes through all levels, from 0.
	// +optional
	Round int32 `json:"round"`

	// nextEscalationAt is when the next level is paged unless someone
	// acknowledges first.
	// +optional
	NextEscalationAt *metav1.Time `json:"nextEscalationAt,omitempty"`

	// exhausted is true once every level was paged repeat+1 times.
	// +optional
	Exhausted bool `json:"exhausted,omitempty"`
}

// Assignment records a person paged for the incident.
type Assignment struct {
	// name of the person.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// level of the escalation policy that paged them.
	// +optional
	Level int32 `json:"level"`

	// round of the escalation in which they were paged.
	// +optional
	Round int32 `json:"round,omitempty"`

	// schedule they were on call for, when paged through one.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Schedule string `json:"schedule,omitempty"`

	// notifiedAt is when they were paged.
	// +required
	NotifiedAt metav1.Time `json:"notifiedAt"`
}

// NotificationState is where one delivery of a page stands.
// +kubebuilder:validation:Enum=Pending;Sent;Failed;Cancelled
type NotificationState string

// The states of a delivery.
const (
	// NotificationPending waits for its time, or for its next attempt.
	NotificationPending NotificationState = "Pending"
	// NotificationSent was accepted by the channel; it is never sent again.
	NotificationSent NotificationState = "Sent"
	// NotificationFailed failed for good: a permanent error, or every
	// attempt failed.
	NotificationFailed NotificationState = "Failed"
	// NotificationCancelled was not sent because the episode was
	// acknowledged (or moved on) before it was due.
	NotificationCancelled NotificationState = "Cancelled"
)

// NotificationEvent is what a notification to stakeholders tells.
// +kubebuilder:validation:Enum=Triggered;Update;Resolved;Closed
type NotificationEvent string

// The events stakeholders are told of.
const (
	NotificationEventTriggered NotificationEvent = "Triggered"
	NotificationEventUpdate    NotificationEvent = "Update"
	NotificationEventResolved  NotificationEvent = "Resolved"
	NotificationEventClosed    NotificationEvent = "Closed"
)

// Notification is one delivery: of a page, to one contact of a paged
// responder or to a team channel a policy level names; or of news to a
// stakeholder of the policy.
type Notification struct {
	// event is, for news to a stakeholder, what it tells; empty for a page.
	// +optional
	Event NotificationEvent `json:"event,omitempty"`

	// update is, for the event Update, the index of the spec.updates entry.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Update int32 `json:"update,omitempty"`

	// responder is the person paged; empty for a team channel.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Responder string `json:"responder,omitempty"`

	// contact is the name of the responder's contact used.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Contact string `json:"contact,omitempty"`

	// channel is the NotificationChannel sent through; empty when the
	// responder could not be reached at all (no Responder, or no contact
	// for the severity), which is recorded as a Failed entry.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Channel string `json:"channel,omitempty"`

	// address is where the channel sends.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Address string `json:"address,omitempty"`

	// episode is the episode of the page.
	// +optional
	Episode int32 `json:"episode,omitempty"`

	// level is the policy level of the page.
	// +optional
	Level int32 `json:"level"`

	// round is the escalation round of the page.
	// +optional
	Round int32 `json:"round,omitempty"`

	// state is where the delivery stands.
	// +required
	State NotificationState `json:"state"`

	// dueAt is when it is to be sent: the page's time plus the rule's after.
	// +required
	DueAt metav1.Time `json:"dueAt"`

	// attempts counts the sends tried.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Attempts int32 `json:"attempts,omitempty"`

	// nextAttemptAt is when a failed attempt is retried.
	// +optional
	NextAttemptAt *metav1.Time `json:"nextAttemptAt,omitempty"`

	// sentAt is when the channel accepted it.
	// +optional
	SentAt *metav1.Time `json:"sentAt,omitempty"`

	// messageRef is what the channel calls the message (Slack: channel/ts),
	// to update it later.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	MessageRef string `json:"messageRef,omitempty"`

	// bundle names the bundled message the delivery went out in, shared by
	// every incident that message named; empty for a message of its own.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Bundle string `json:"bundle,omitempty"`

	// error is the last attempt's error.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Error string `json:"error,omitempty"`
}

// AlertItem is one alert of the incident's Alertmanager group.
type AlertItem struct {
	// fingerprint identifies the alert in Alertmanager.
	// +required
	// +kubebuilder:validation:MaxLength=64
	Fingerprint string `json:"fingerprint"`

	// status is firing or resolved.
	// +required
	// +kubebuilder:validation:Enum=firing;resolved
	Status string `json:"status"`

	// labels of the alert.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Labels map[string]string `json:"labels,omitempty"`

	// startsAt is when the alert started firing.
	// +optional
	StartsAt *metav1.Time `json:"startsAt,omitempty"`

	// endsAt is when the alert resolved.
	// +optional
	EndsAt *metav1.Time `json:"endsAt,omitempty"`
}

// AlertsSummary summarises the alerts of the incident's Alertmanager group.
type AlertsSummary struct {
	// firing counts the firing alerts.
	// +optional
	Firing int32 `json:"firing"`

	// resolved counts the resolved alerts.
	// +optional
	Resolved int32 `json:"resolved"`

	// truncated counts the alerts Alertmanager left out of its last notification.
	// +optional
	Truncated int32 `json:"truncated,omitempty"`

	// items are the alerts, newest first, capped.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	Items []AlertItem `json:"items,omitempty"`
}

// ResponseTargetsStatus holds the deadlines from the policy's response targets.
type ResponseTargetsStatus struct {
	// acknowledgeBy is when the incident must be acknowledged.
	// +optional
	AcknowledgeBy *metav1.Time `json:"acknowledgeBy,omitempty"`

	// nextUpdateBy is when the next stakeholder update is due.
	// +optional
	NextUpdateBy *metav1.Time `json:"nextUpdateBy,omitempty"`

	// resolveBy is when the incident must be resolved.
	// +optional
	ResolveBy *metav1.Time `json:"resolveBy,omitempty"`

	// postmortemBy is when the postmortem link of a resolved SEV1 or SEV2
	// incident is due.
	// +optional
	PostmortemBy *metav1.Time `json:"postmortemBy,omitempty"`
}

// AlertCounts are the firing and resolved alerts the timeline last recorded.
type AlertCounts struct {
	// firing alerts.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Firing int32 `json:"firing,omitempty"`

	// resolved alerts.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Resolved int32 `json:"resolved,omitempty"`
}

// Timeline entry types. A lifecycle move's entry has the type of the state
// it reached (TimelineTriggered ... TimelineClosed), or TimelineReopened.
const (
	TimelineTriggered    = "Triggered"
	TimelineAcknowledged = "Acknowledged"
	TimelineMitigated    = "Mitigated"
	TimelineResolved     = "Resolved"
	TimelineClosed       = "Closed"
	// TimelineReopened: the problem came back; a new episode began.
	TimelineReopened = "Reopened"
	// TimelinePaged: level 0 of the first round was paged.
	TimelinePaged = "Paged"
	// TimelineEscalated: a later level or round was paged.
	TimelineEscalated = "Escalated"
	// TimelineTargetMissed: a response target's deadline passed.
	TimelineTargetMissed = "TargetMissed"
	// TimelineTargetMet: a response target was met, in time or late.
	TimelineTargetMet = "TargetMet"
	// TimelineUpdate: a stakeholder update was added to spec.updates.
	TimelineUpdate = "Update"
	// TimelineAlerts: the alerts of the incident's group changed.
	TimelineAlerts = "Alerts"
	// TimelineNotified: a delivery of a page was sent.
	TimelineNotified = "Notified"
	// TimelineNotificationFailed: a delivery of a page failed for good.
	TimelineNotificationFailed = "NotificationFailed"
	// TimelineNote: a sender added text about the incident's group (an
	// Opsgenie note or new message, a PagerDuty change event).
	TimelineNote = "Note"
)

// TimelineEntry is one thing that happened to the incident.
type TimelineEntry struct {
	// time it happened.
	// +required
	Time metav1.Time `json:"time"`

	// type of the entry, such as Triggered, Acknowledged or Reopened.
	// +required
	// +kubebuilder:validation:MaxLength=64
	Type string `json:"type"`

	// actor who made it happen.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Actor string `json:"actor,omitempty"`

	// message describes it.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// SilenceStatus is the Alertmanager silence Klaxon keeps for an
// acknowledged incident.
type SilenceStatus struct {
	// id is the silence's ID in Alertmanager; empty while none exists.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id,omitempty"`

	// expiresAt is when the silence ends unless Klaxon extends it.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// error is why the last call to Alertmanager failed, such as its
	// rejection of the silence; empty after a call succeeds.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Error string `json:"error,omitempty"`
}

// IncidentStatus is what the operator has accepted and done.
type IncidentStatus struct {
	// conditions describe the incident's state; see conditions.go.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase is the lifecycle state the operator has accepted and acted on.
	// +optional
	Phase IncidentState `json:"phase,omitempty"`

	// episode counts the times the incident was triggered: 1, then one more
	// per reopen. The phase timestamps belong to the current episode.
	// +optional
	Episode int32 `json:"episode,omitempty"`

	// commander leads the response: spec.commander, or else the first person
	// paged.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Commander string `json:"commander,omitempty"`

	// triggeredAt is when the current episode began.
	// +optional
	TriggeredAt *metav1.Time `json:"triggeredAt,omitempty"`

	// acknowledgedAt is when someone acknowledged the current episode.
	// +optional
	AcknowledgedAt *metav1.Time `json:"acknowledgedAt,omitempty"`

	// mitigatedAt is when the current episode was mitigated.
	// +optional
	MitigatedAt *metav1.Time `json:"mitigatedAt,omitempty"`

	// resolvedAt is when the current episode was resolved.
	// +optional
	ResolvedAt *metav1.Time `json:"resolvedAt,omitempty"`

	// closedAt is when the incident was closed.
	// +optional
	ClosedAt *metav1.Time `json:"closedAt,omitempty"`

	// acknowledgedBy is who acknowledged the current episode.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	AcknowledgedBy string `json:"acknowledgedBy,omitempty"`

	// escalation is where paging stands.
	// +optional
	Escalation *EscalationStatus `json:"escalation,omitempty"`

	// assignments are the people paged, in the order they were paged.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Assignments []Assignment `json:"assignments,omitempty"`

	// notifications are the deliveries of pages, in the order they were
	// planned; the oldest finished ones are dropped beyond the cap.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Notifications []Notification `json:"notifications,omitempty"`

	// alerts summarises the Alertmanager group of alert-driven incidents.
	// +optional
	Alerts *AlertsSummary `json:"alerts,omitempty"`

	// responseTargets are the deadlines of the policy's response targets.
	// +optional
	ResponseTargets *ResponseTargetsStatus `json:"responseTargets,omitempty"`

	// timeline lists what happened, oldest first; the oldest entries are
	// dropped beyond the cap.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Timeline []TimelineEntry `json:"timeline,omitempty"`

	// timelineDropped counts the timeline entries dropped beyond the cap.
	// +optional
	// +kubebuilder:validation:Minimum=0
	TimelineDropped int32 `json:"timelineDropped,omitempty"`

	// recordedUpdates is how many entries of spec.updates the timeline has
	// recorded.
	// +optional
	// +kubebuilder:validation:Minimum=0
	RecordedUpdates int32 `json:"recordedUpdates,omitempty"`

	// recordedAlerts are the alert counts the timeline last recorded.
	// +optional
	RecordedAlerts *AlertCounts `json:"recordedAlerts,omitempty"`

	// silence is the Alertmanager silence Klaxon keeps while the incident
	// is acknowledged (AlertRoute spec.alertmanager.silenceOnAcknowledge).
	// +optional
	Silence *SilenceStatus `json:"silence,omitempty"`

	// slackChannel is the incident's own Slack channel
	// (NotificationChannel spec.slack.incidentChannels).
	// +optional
	SlackChannel *IncidentSlackChannel `json:"slackChannel,omitempty"`
}

// IncidentSlackChannel is the Slack channel Klaxon keeps for an incident.
// Its name is recorded before the channel is created, so an operator that
// restarts in between finds the channel it made instead of making another.
type IncidentSlackChannel struct {
	// notificationChannel names the Slack NotificationChannel whose app
	// keeps the channel.
	// +required
	// +kubebuilder:validation:MaxLength=253
	NotificationChannel string `json:"notificationChannel"`

	// name is the channel's name in Slack, without the "#".
	// +required
	// +kubebuilder:validation:MaxLength=80
	Name string `json:"name"`

	// id is the channel's ID, such as C0123456789; empty until Slack made it.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	ID string `json:"id,omitempty"`

	// requestedAt is when Klaxon first asked Slack for a channel of this name.
	// +required
	RequestedAt metav1.Time `json:"requestedAt"`

	// invited are the Slack IDs of the people invited, sorted.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=64
	Invited []string `json:"invited,omitempty"`

	// topic is the channel's topic as Klaxon last set it.
	// +optional
	// +kubebuilder:validation:MaxLength=250
	Topic string `json:"topic,omitempty"`

	// pageRef is the page posted last, with the incident's facts and its
	// Acknowledge and Resolve buttons, as channel/ts.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	PageRef string `json:"pageRef,omitempty"`

	// pageEpisode is the episode the page pageRef names was posted for;
	// a reopened incident's channel gets a new page, whose buttons act on
	// the new episode.
	// +optional
	// +kubebuilder:validation:Minimum=0
	PageEpisode int32 `json:"pageEpisode,omitempty"`

	// posted counts the timeline entries posted to the channel, including
	// those dropped from status.timeline since.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Posted int32 `json:"posted,omitempty"`

	// archivedAt is when the channel was archived.
	// +optional
	ArchivedAt *metav1.Time `json:"archivedAt,omitempty"`

	// error is why the last call to Slack failed; empty after one succeeds.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Error string `json:"error,omitempty"`
}

// Incident is one incident, from trigger to close.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=inc,categories=klaxon
// +kubebuilder:printcolumn:name="Severity",type=string,JSONPath=`.spec.severity`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Title",type=string,JSONPath=`.spec.title`
// +kubebuilder:printcolumn:name="Commander",type=string,JSONPath=`.status.commander`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Service",type=string,JSONPath=`.spec.service`,priority=1
// +kubebuilder:printcolumn:name="Level",type=integer,JSONPath=`.status.escalation.level`,priority=1
// +kubebuilder:printcolumn:name="Firing",type=integer,JSONPath=`.status.alerts.firing`,priority=1
// +kubebuilder:printcolumn:name="Intake",type=string,JSONPath=`.spec.source.intake`,priority=1
type Incident struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says the incident, as people and the receiver ask for it.
	// +required
	Spec IncidentSpec `json:"spec"`

	// status is what the operator observed and did.
	// +optional
	Status IncidentStatus `json:"status,omitempty"`
}

// IncidentList is a list of Incidents.
// +kubebuilder:object:root=true
type IncidentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Incident `json:"items"`
}

func init() {
	register(&Incident{}, &IncidentList{})
}

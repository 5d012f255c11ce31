package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EscalationTarget is whom a level pages: everyone on call on a schedule,
// one person, or a team's channel (such as a Slack channel), which is told
// but cannot acknowledge.
// +kubebuilder:validation:XValidation:rule="[has(self.schedule), has(self.user), has(self.channel)].filter(x, x).size() == 1",message="a target sets exactly one of schedule, user or channel"
// +kubebuilder:validation:XValidation:rule="has(self.channel) == has(self.address)",message="address is required with channel, and only with channel"
type EscalationTarget struct {
	// schedule names an OnCallSchedule in the same namespace; whoever is on
	// call on it when the level is paged gets paged.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Schedule string `json:"schedule,omitempty"`

	// user names a person to page directly.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	User string `json:"user,omitempty"`

	// channel names a NotificationChannel in the same namespace to notify
	// at address when the level is paged.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Channel string `json:"channel,omitempty"`

	// address is where channel sends, such as "#payments-incidents".
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Address string `json:"address,omitempty"`
}

// Stakeholder is a channel and address to keep informed, such as a Slack
// channel or a mailing list.
type Stakeholder struct {
	// channel names a NotificationChannel in the same namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Channel string `json:"channel"`

	// address is where the channel sends, such as "#payments-status".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Address string `json:"address"`
}

// EscalationLevel is one step of an escalation policy.
type EscalationLevel struct {
	// after is how long to wait for an acknowledgement after the previous
	// level was paged before paging this one. Every level but the first needs
	// it. The first level is paged at trigger; its after, if set, is the wait
	// before it is paged again in a repeat round (otherwise the second level's
	// after is used).
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="after must be a positive duration, such as 10m"
	After *metav1.Duration `json:"after,omitempty"`

	// targets are paged together when the level is reached.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Targets []EscalationTarget `json:"targets"` //nolint:kubeapilinter // arrayofstruct: CEL rules on EscalationTarget require exactly one of schedule, user or channel, with messages naming them; ExactlyOneOf would only repeat it
}

// ResponseTarget is how fast an incident of one severity must be handled.
type ResponseTarget struct {
	// acknowledgeWithin is the time from trigger to acknowledgement.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="acknowledgeWithin must be a positive duration"
	AcknowledgeWithin *metav1.Duration `json:"acknowledgeWithin,omitempty"`

	// updateEvery is the longest gap between stakeholder updates while the
	// incident is open.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="updateEvery must be a positive duration"
	UpdateEvery *metav1.Duration `json:"updateEvery,omitempty"`

	// resolveWithin is the time from trigger to resolution.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="resolveWithin must be a positive duration"
	ResolveWithin *metav1.Duration `json:"resolveWithin,omitempty"`

	// postmortem is when the post-incident review of a SEV1 or SEV2
	// incident is due.
	// +optional
	Postmortem *PostmortemTarget `json:"postmortem,omitempty"`
}

// PostmortemTarget is when a post-incident review is due.
type PostmortemTarget struct {
	// dueWithin is the time from resolution to spec.postmortem.url being set.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="postmortem.dueWithin must be a positive duration"
	DueWithin metav1.Duration `json:"dueWithin"`
}

// ResponseTargets holds a response target per severity. It is a struct rather
// than a map so that the schema names exactly the four severities.
type ResponseTargets struct {
	// SEV1 applies to SEV1 incidents.
	// +optional
	SEV1 *ResponseTarget `json:"SEV1,omitempty"`

	// SEV2 applies to SEV2 incidents.
	// +optional
	SEV2 *ResponseTarget `json:"SEV2,omitempty"`

	// SEV3 applies to SEV3 incidents.
	// +optional
	SEV3 *ResponseTarget `json:"SEV3,omitempty"`

	// SEV4 applies to SEV4 incidents.
	// +optional
	SEV4 *ResponseTarget `json:"SEV4,omitempty"`
}

// For returns the response target of severity s, or nil when there is none.
func (r *ResponseTargets) For(s Severity) *ResponseTarget {
	if r == nil {
		return nil
	}
	switch s {
	case SeverityCritical:
		return r.SEV1
	case SeverityHigh:
		return r.SEV2
	case SeverityModerate:
		return r.SEV3
	case SeverityLow:
		return r.SEV4
	}
	return nil
}

// EscalationPolicySpec says whom to page, in which order, after how long, and
// how fast incidents must be handled.
// +kubebuilder:validation:XValidation:rule="!has(self.repeat) || self.repeat == 0 || size(self.levels) > 1 || has(self.levels[0].after)",message="a single-level policy that repeats needs levels[0].after: how long to wait before paging it again",fieldPath=".levels"
type EscalationPolicySpec struct {
	// levels are paged in order until someone acknowledges.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:XValidation:rule="self.all(i, l, i == 0 || has(l.after))",message="every level after the first needs after: how long to wait for an acknowledgement after the previous level was paged"
	Levels []EscalationLevel `json:"levels"`

	// repeat is how many more times to run through all levels when nobody
	// acknowledges; after that escalation is exhausted.
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	Repeat int32 `json:"repeat,omitempty"`

	// responseTargets are how fast incidents must be acknowledged, updated
	// and resolved, per severity.
	// +optional
	ResponseTargets *ResponseTargets `json:"responseTargets,omitempty"`

	// stakeholders are told when an incident of this policy triggers, each
	// time a stakeholder update is added, when it is resolved and when it
	// is closed.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Stakeholders []Stakeholder `json:"stakeholders,omitempty"`
}

// EscalationPolicyStatus is what the operator found about the policy.
type EscalationPolicyStatus struct {
	// conditions describe the policy's state; Ready is False when a
	// referenced schedule is missing or invalid.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// EscalationPolicy says whom to page, in which order and after how long, and
// the response targets per severity.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=escpol,categories=klaxon
// +kubebuilder:printcolumn:name="Repeat",type=integer,JSONPath=`.spec.repeat`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type EscalationPolicy struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says whom to page, in which order, after how long, and how fast
	// incidents must be handled.
	// +required
	Spec EscalationPolicySpec `json:"spec"`

	// status is what the operator observed and did.
	// +optional
	Status EscalationPolicyStatus `json:"status,omitempty"`
}

// EscalationPolicyList is a list of EscalationPolicies.
// +kubebuilder:object:root=true
type EscalationPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EscalationPolicy `json:"items"`
}

func init() {
	register(&EscalationPolicy{}, &EscalationPolicyList{})
}

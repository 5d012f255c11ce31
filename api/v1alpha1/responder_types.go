package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ContactKind says how a phone channel reaches a contact.
// +kubebuilder:validation:Enum=sms;voice
type ContactKind string

// The kinds of contact of a twilio channel.
const (
	// ContactKindSMS is texted.
	ContactKindSMS ContactKind = "sms"
	// ContactKindVoice is called.
	ContactKindVoice ContactKind = "voice"
)

// Contact is one way to reach a responder.
// +kubebuilder:validation:XValidation:rule="!has(self.kind) || self.address.matches('^[+][1-9][0-9]{6,14}$')",message="a contact of kind sms or voice has a phone number in E.164 form as its address, such as +4915112345678"
type Contact struct {
	// name identifies the contact in rules.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// channel names a NotificationChannel in the same namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Channel string `json:"channel"`

	// address is where the channel sends: a mail address, a Slack user or
	// channel ID, a phone number.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Address string `json:"address"`

	// kind is, for a contact of a twilio channel, whether it is texted
	// (sms) or called (voice); its address is then a phone number in E.164
	// form. A twilio contact without a kind is texted, never called. Other
	// channels ignore it.
	// +optional
	Kind ContactKind `json:"kind,omitempty"`
}

// RuleOn says what a notification rule sends.
// +kubebuilder:validation:Enum=Page;ShiftStart;ShiftChange
type RuleOn string

// What a notification rule sends.
const (
	// RuleOnPage: the rule's contact is used when the person is paged.
	RuleOnPage RuleOn = "Page"
	// RuleOnShiftStart: the contact is told before each of the person's
	// shifts starts.
	RuleOnShiftStart RuleOn = "ShiftStart"
	// RuleOnShiftChange: the contact is told when an edit to a schedule or
	// an override moves, adds or removes one of the person's shifts within
	// the next 14 days.
	RuleOnShiftChange RuleOn = "ShiftChange"
)

// NotificationRule says which contact to use when paged, or, with on, which
// contact hears of the person's shifts.
// +kubebuilder:validation:XValidation:rule="!has(self.on) || !has(self.__true__)",message="the rule says on twice: once as on and once as true, which is how YAML 1.1 reads an unquoted on key; keep one"
// +kubebuilder:validation:XValidation:rule="!has(self.before) || (has(self.on) ? self.on : (has(self.__true__) ? self.__true__ : 'Page')) == 'ShiftStart'",message="before applies only to a rule with on: ShiftStart"
// +kubebuilder:validation:XValidation:rule="(has(self.on) ? self.on : (has(self.__true__) ? self.__true__ : 'Page')) == 'Page' || (!has(self.after) && !has(self.severities) && !has(self.bundleAfter) && !has(self.bundleWindow))",message="after, severities, bundleAfter and bundleWindow apply only to paging rules; a rule with on: ShiftStart or ShiftChange takes contact, on and before"
type NotificationRule struct {
	// contact names one of spec.contacts.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Contact string `json:"contact"`

	// on says what the rule sends: Page (the default) uses the contact when
	// the person is paged; ShiftStart tells the contact before each of the
	// person's shifts starts; ShiftChange tells it when an edit to a
	// schedule or an override moves, adds or removes one of the person's
	// shifts within the next 14 days.
	// +optional
	On RuleOn `json:"on,omitempty"`

	// true is on as kubectl delivers an unquoted on key: YAML 1.1 reads
	// `on: ShiftStart` as `true: ShiftStart`. It means what on means, so
	// either spelling works; a rule sets at most one of them.
	// +optional
	OnUnquoted RuleOn `json:"true,omitempty"`

	// before is, for a rule with on: ShiftStart, how long before the shift
	// starts the notice goes. Default: 1h.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('168h')",message="before must be a duration from 1m to 168h, such as 1h"
	Before *metav1.Duration `json:"before,omitempty"`

	// after is how long after the page to send, unless acknowledged by then.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('24h')",message="after must be a duration from 0s to 24h, such as 5m"
	After *metav1.Duration `json:"after,omitempty"`

	// severities the rule applies to; all when empty.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=4
	Severities []Severity `json:"severities,omitempty"`

	// bundleAfter is how many messages the rule's contact may be sent
	// within bundleWindow before further pages to it wait for the window's
	// end and go out together as one message; 0 turns bundling off. SEV1
	// pages are never held. When several rules name one contact, the first
	// that sets it counts. Default: the channel's, else 3.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	BundleAfter *int32 `json:"bundleAfter,omitempty"`

	// bundleWindow is the window bundleAfter counts in. Default: the
	// channel's, else 30s.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('1h')",message="bundleWindow must be a duration from 1s to 1h, such as 30s"
	BundleWindow *metav1.Duration `json:"bundleWindow,omitempty"`
}

// ResponderSpec is how to reach a person.
// +kubebuilder:validation:MinProperties=1
// +kubebuilder:validation:XValidation:rule="!has(self.rules) || self.rules.all(r, has(self.contacts) && self.contacts.exists(c, c.name == r.contact))",message="every rule must name one of spec.contacts"
type ResponderSpec struct {
	// displayName is the person's name as messages show it.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	DisplayName string `json:"displayName,omitempty"`

	// contacts are the ways to reach the person.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Contacts []Contact `json:"contacts,omitempty"`

	// rules say which contacts a page uses, after how long and for which
	// severities.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Rules []NotificationRule `json:"rules,omitempty"`
}

// ResponderStatus is what the operator observed.
type ResponderStatus struct {
	// conditions describe the responder's state; Ready is False when a
	// contact names a missing or not-Ready channel, or when a contact's
	// address does not suit its channel (InvalidContact: a twilio contact
	// without an E.164 number, an ntfy contact without a valid topic).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// Responder is a person who can be paged; its name is the user name in
// schedules, policies and acknowledgedBy.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=responder,categories=klaxon
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Responder struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says how to reach the person.
	// +required
	Spec ResponderSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status ResponderStatus `json:"status,omitempty"`
}

// ResponderList is a list of Responders.
// +kubebuilder:object:root=true
type ResponderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Responder `json:"items"`
}

func init() {
	register(&Responder{}, &ResponderList{})
}

// Sends returns what the rule sends: its on, spelt either way, else Page.
func (r *NotificationRule) Sends() RuleOn {
	switch {
	case r.On != "":
		return r.On
	case r.OnUnquoted != "":
		return r.OnUnquoted
	default:
		return RuleOnPage
	}
}

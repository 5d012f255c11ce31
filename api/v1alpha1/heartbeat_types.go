package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations that link an incident to the Heartbeat that opened
// it.
const (
	// LabelHeartbeat is the name of the Heartbeat that opened the incident,
	// or, for a name longer than a label value may be, its first characters
	// and a hash; AnnotationHeartbeat holds the full name.
	LabelHeartbeat = "klaxon.dev/heartbeat"
	// AnnotationHeartbeat is the full name of the Heartbeat that opened the
	// incident.
	AnnotationHeartbeat = "klaxon.dev/heartbeat"
	// AnnotationHeartbeatUID is the UID of that Heartbeat, so that a
	// Heartbeat deleted and made again never takes over its predecessor's
	// incidents.
	AnnotationHeartbeatUID = "klaxon.dev/heartbeat-uid"
	// ActorHeartbeat is the actor recorded for moves made by a Heartbeat:
	// opening its incident and resolving it when the beats return.
	ActorHeartbeat = "heartbeat"
)

// HeartbeatSpec says what counts as a beat and what to do when beats stop.
type HeartbeatSpec struct {
	// alertRouteRef names the AlertRoute in the same namespace whose bearer
	// token authenticates pings (POST /heartbeat/{namespace}/{name}) and
	// whose Alertmanager endpoint receives the notifications that count as
	// beats.
	// +required
	AlertRouteRef LocalObjectReference `json:"alertRouteRef"`

	// matchers select, in Alertmanager matcher syntax (such as
	// alertname="Watchdog"), the firing alerts posted to the route that
	// count as beats. All must match an alert's labels. A notification
	// whose every alert matches a heartbeat's matchers only beats: it opens
	// no incident. Without matchers only pings beat.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=1024
	Matchers []string `json:"matchers,omitempty"`

	// timeout is how long the heartbeat may go without a beat before it is
	// overdue and opens an incident.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('720h')",message="timeout must be a duration from 1m to 720h, such as 5m"
	Timeout metav1.Duration `json:"timeout"`

	// escalationPolicyRef names the EscalationPolicy of the incident opened
	// when the heartbeat is overdue.
	// +optional
	EscalationPolicyRef *LocalObjectReference `json:"escalationPolicyRef,omitempty"`

	// severity of the incident opened when the heartbeat is overdue.
	// +optional
	// +kubebuilder:default=SEV2
	Severity Severity `json:"severity,omitempty"`

	// title of the incident opened when the heartbeat is overdue; "Heartbeat
	// <name> is overdue" when unset.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Title string `json:"title,omitempty"`
}

// HeartbeatStatus is what the operator and the receiver observed.
type HeartbeatStatus struct {
	// conditions describe the heartbeat's state: Ready is True when its
	// route exists and its matchers are valid; Overdue is True when no beat
	// came within spec.timeout.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// lastSeenAt is when the receiver last recorded a beat. It is written
	// coarsely, at most once per a quarter of spec.timeout and at most once
	// a minute, so it may lag the latest beat by that much.
	// +optional
	LastSeenAt *metav1.Time `json:"lastSeenAt,omitempty"`

	// incidentRef names the incident the heartbeat opened when it became
	// overdue, while that incident is open.
	// +optional
	IncidentRef *LocalObjectReference `json:"incidentRef,omitempty"`

	// incidentSerial counts the incidents the heartbeat opened; the latest
	// is named heartbeat-<name>-<incidentSerial>.
	// +optional
	// +kubebuilder:validation:Minimum=0
	IncidentSerial int32 `json:"incidentSerial,omitempty"`
}

// Heartbeat is a dead man's switch: it opens an incident when no beat (a
// ping, or a matching alert such as Alertmanager's Watchdog) arrives within
// its timeout, and resolves it when beats return.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=heartbeat,categories=klaxon
// +kubebuilder:printcolumn:name="Last Seen",type=date,JSONPath=`.status.lastSeenAt`
// +kubebuilder:printcolumn:name="Overdue",type=string,JSONPath=`.status.conditions[?(@.type=="Overdue")].status`
// +kubebuilder:printcolumn:name="Incident",type=string,JSONPath=`.status.incidentRef.name`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Heartbeat struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says what counts as a beat and what to do when beats stop.
	// +required
	Spec HeartbeatSpec `json:"spec"`

	// status is what the operator and the receiver observed.
	// +optional
	Status HeartbeatStatus `json:"status,omitempty"`
}

// HeartbeatList is a list of Heartbeats.
// +kubebuilder:object:root=true
type HeartbeatList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Heartbeat `json:"items"`
}

func init() {
	register(&Heartbeat{}, &HeartbeatList{})
}

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaintenanceMode says what a maintenance window does to the paging of the
// incidents it matches.
// +kubebuilder:validation:Enum=Suppress;Hold
type MaintenanceMode string

// The maintenance modes.
const (
	// MaintenanceSuppress: an incident triggered during the window is never
	// paged, not even after the window ends.
	MaintenanceSuppress MaintenanceMode = "Suppress"
	// MaintenanceHold: paging waits until the window ends, then starts if
	// the incident is still Triggered.
	MaintenanceHold MaintenanceMode = "Hold"
)

// Timeline entry types and Event reasons of maintenance. They are not
// condition reasons; see conditions.go for those.
const (
	// TimelineSuppressed: the episode was triggered during a Suppress
	// window and is not paged.
	TimelineSuppressed = "Suppressed"
	// TimelineHeld: a window holds paging until it ends.
	TimelineHeld = "Held"
	// TimelineResumed: the windows that held paging ended; paging goes on.
	TimelineResumed = "Resumed"
)

// MaintenanceSchedule is a recurring local wall-clock window, written as an
// OnCallSchedule layer's restrictions are, in a time zone.
type MaintenanceSchedule struct {
	// timeZone is the IANA time zone, such as Europe/Berlin, in which days,
	// from and to are read.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$`
	// +kubebuilder:validation:XValidation:rule="self != 'Local'",message="timeZone must be an IANA name such as Europe/Berlin; Local would depend on the operator's machine"
	TimeZone string `json:"timeZone"`

	// TimeRestriction holds days, from and to.
	TimeRestriction `json:",inline"`
}

// MaintenanceSilence mirrors a window as an Alertmanager silence, so that
// the alerts it names notify nobody during the window, through Klaxon or
// any other receiver.
//
// The silence is confined to what the namespace's own route takes: it
// goes to the Alertmanager of an AlertRoute of the window's namespace, and
// carries that route's spec.matchers besides the window's matchers, so it
// never matches an alert the route would not take (a route without
// matchers leaves the window's matchers as the only bound). And it must
// name what it silences: one of the window's matchers at least must be an
// equality with a value, because regular expressions or negative matchers
// alone, such as alertname=~".+", could silence every alert in the
// Alertmanager, other teams' included. Matchers that break either rule
// make no silence; status.silence.error says why.
type MaintenanceSilence struct {
	// alertRouteRef names the AlertRoute in the same namespace whose
	// spec.alertmanager (url and authentication) is the Alertmanager that
	// holds the silence, and whose spec.matchers the silence carries as
	// well (as they are when the silence is written).
	// +required
	AlertRouteRef LocalObjectReference `json:"alertRouteRef"`

	// matchers select the alerts to silence, in Alertmanager matcher syntax
	// (such as service="checkout" or env=~"prod|staging"). All must match;
	// one at least must be an equality with a value, such as
	// service="checkout", and one at least must not match an empty label,
	// as Alertmanager requires.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=1024
	Matchers []string `json:"matchers"`
}

// MaintenanceWindowSpec says which incidents a window matches, when it
// applies and what it does to their paging.
// +kubebuilder:validation:XValidation:rule="(has(self.services) && size(self.services) > 0) || (has(self.selector) && ((has(self.selector.matchLabels) && size(self.selector.matchLabels) > 0) || (has(self.selector.matchExpressions) && size(self.selector.matchExpressions) > 0)))",message="a maintenance window must select its incidents: set spec.services, a non-empty spec.selector, or both (an empty selector would hold every incident of the namespace)"
// +kubebuilder:validation:XValidation:rule="has(self.schedule) != (has(self.start) || has(self.end))",message="set exactly one of spec.start with spec.end, or spec.schedule"
// +kubebuilder:validation:XValidation:rule="has(self.start) == has(self.end)",message="spec.start and spec.end go together"
// +kubebuilder:validation:XValidation:rule="!has(self.start) || !has(self.end) || self.end > self.start",message="spec.end must be after spec.start"
type MaintenanceWindowSpec struct {
	// services matches incidents whose spec.service is one of these. With
	// spec.selector as well, an incident must match both.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	Services []ServiceName `json:"services,omitempty"`

	// selector matches incidents whose labels match it. With spec.services
	// as well, an incident must match both.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// start is when a one-off window opens (inclusive), RFC 3339.
	// +optional
	Start *metav1.Time `json:"start,omitempty"`

	// end is when a one-off window closes (exclusive), RFC 3339.
	// +optional
	End *metav1.Time `json:"end,omitempty"`

	// schedule is a recurring window instead of start and end.
	// +optional
	Schedule *MaintenanceSchedule `json:"schedule,omitempty"`

	// mode is what the window does: Suppress never pages an incident
	// triggered during the window; Hold pages it when the window ends if it
	// is still Triggered. Either pauses the escalation of incidents
	// triggered before the window while it applies.
	// +optional
	// +kubebuilder:default=Suppress
	Mode MaintenanceMode `json:"mode,omitempty"`

	// reason says why there is maintenance, for the people who look.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason,omitempty"`

	// alertmanagerSilence mirrors each occurrence of the window as an
	// Alertmanager silence, when set: created ahead for the next
	// occurrence, and expired when the window is deleted or this field
	// removed.
	// +optional
	AlertmanagerSilence *MaintenanceSilence `json:"alertmanagerSilence,omitempty"`
}

// MaintenanceSilenceStatus is the Alertmanager silence that mirrors the
// window's current or next occurrence.
type MaintenanceSilenceStatus struct {
	// id is the silence's ID in Alertmanager; empty while none was created.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id,omitempty"`

	// alertRoute names the AlertRoute whose Alertmanager holds the
	// silence, so that it can be expired after spec.alertmanagerSilence
	// changes or is removed.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	AlertRoute string `json:"alertRoute,omitempty"`

	// startsAt is when the silence begins: the occurrence's start.
	// +optional
	StartsAt *metav1.Time `json:"startsAt,omitempty"`

	// endsAt is when the silence ends: the occurrence's end.
	// +optional
	EndsAt *metav1.Time `json:"endsAt,omitempty"`

	// generation is the window's metadata.generation the silence was
	// written for; a new spec rewrites the silence.
	// +optional
	Generation int64 `json:"generation,omitempty"`

	// error is why the last call to Alertmanager failed; empty once one
	// succeeds.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Error string `json:"error,omitempty"`
}

// MaintenanceWindowStatus is what the operator computed.
type MaintenanceWindowStatus struct {
	// conditions describe the window's state: Ready, and Active while the
	// window applies; see conditions.go.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// nextStart is when the window opens next; unset when it does not open
	// again within the operator's look-ahead.
	// +optional
	NextStart *metav1.Time `json:"nextStart,omitempty"`

	// nextEnd is when the window closes next; unset when it does not close
	// within the operator's look-ahead.
	// +optional
	NextEnd *metav1.Time `json:"nextEnd,omitempty"`

	// silence is the Alertmanager silence that mirrors the window, when
	// spec.alertmanagerSilence asks for one.
	// +optional
	Silence *MaintenanceSilenceStatus `json:"silence,omitempty"`
}

// The Next Start and Next End columns are strings: a date column prints a
// time in the future as "<invalid>".

// MaintenanceWindow keeps the incidents it matches from being paged while
// it applies: once between start and end, or every week on a schedule.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mw,categories=klaxon
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="Active",type=string,JSONPath=`.status.conditions[?(@.type=="Active")].status`
// +kubebuilder:printcolumn:name="Next Start",type=string,JSONPath=`.status.nextStart`
// +kubebuilder:printcolumn:name="Next End",type=string,JSONPath=`.status.nextEnd`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="a maintenance window needs a spec: spec.services or spec.selector, and spec.start with spec.end or spec.schedule"
type MaintenanceWindow struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says which incidents the window matches and when. Its fields
	// are all optional one by one, so the schema cannot require it; a rule
	// on the object does.
	// +optional
	Spec MaintenanceWindowSpec `json:"spec,omitzero"`

	// status is what the operator computed.
	// +optional
	Status MaintenanceWindowStatus `json:"status,omitempty"`
}

// MaintenanceWindowList is a list of MaintenanceWindows.
// +kubebuilder:object:root=true
type MaintenanceWindowList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MaintenanceWindow `json:"items"`
}

func init() {
	register(&MaintenanceWindow{}, &MaintenanceWindowList{})
}

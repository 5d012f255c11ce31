package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OverrideReplacement puts one person on call in place of another.
// +kubebuilder:validation:XValidation:rule="self.with != self.user",message="replace.with must name someone other than replace.user: a person cannot cover their own shift"
type OverrideReplacement struct {
	// user is the person whose time on call the override takes over.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	User string `json:"user"`

	// with is the person on call instead of user.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	With string `json:"with"`
}

// OnCallOverrideSpec changes who a schedule has on call for a while.
// +kubebuilder:validation:XValidation:rule="[has(self.add), has(self.replace), has(self.remove)].exists_one(x, x)",message="an override needs exactly one of add, replace or remove"
// +kubebuilder:validation:XValidation:rule="self.end > self.start",message="an override's end must be after its start"
// +kubebuilder:validation:XValidation:rule="self.end - self.start <= duration('2160h')",message="an override lasts at most 90 days: split a longer one, or change the schedule itself"
type OnCallOverrideSpec struct {
	// scheduleRef names the OnCallSchedule, in the same namespace, that the
	// override changes.
	// +required
	ScheduleRef LocalObjectReference `json:"scheduleRef"`

	// start is when the override begins (inclusive).
	// +required
	Start metav1.Time `json:"start"`

	// end is when the override ends (exclusive), at most 90 days after start.
	// +required
	End metav1.Time `json:"end"`

	// add puts these people on call beside whoever the schedule has.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	Add []string `json:"add,omitempty"`

	// replace puts replace.with on call in place of replace.user whenever
	// the schedule has replace.user on call.
	// +optional
	Replace *OverrideReplacement `json:"replace,omitempty"`

	// remove takes these people off call.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	Remove []string `json:"remove,omitempty"`
}

// OnCallOverrideStatus is what the operator observed of an override.
type OnCallOverrideStatus struct {
	// conditions describe the override's state; see conditions.go.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// OnCallOverride changes who an OnCallSchedule has on call for a while (a
// cover, a swap, an extra pair of hands) without editing the schedule,
// which git may own. Overrides apply after the schedule's own
// spec.overrides, in the order of their start (ties: by name).
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=override,categories=klaxon
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.scheduleRef.name`
// +kubebuilder:printcolumn:name="Start",type=string,JSONPath=`.spec.start`
// +kubebuilder:printcolumn:name="End",type=string,JSONPath=`.spec.end`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OnCallOverride struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says whom the override puts on or takes off call, and when.
	// +required
	Spec OnCallOverrideSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status OnCallOverrideStatus `json:"status,omitempty"`
}

// OnCallOverrideList is a list of OnCallOverrides.
// +kubebuilder:object:root=true
type OnCallOverrideList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OnCallOverride `json:"items"`
}

func init() {
	register(&OnCallOverride{}, &OnCallOverrideList{})
}

// GetConditions returns the override's conditions.
func (in *OnCallOverride) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the override's conditions.
func (in *OnCallOverride) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetStatus returns a pointer to the OnCallOverride's status.
func (in *OnCallOverride) GetStatus() any { return &in.Status }

// SetObservedGeneration records the generation the OnCallOverride's status reflects.
func (in *OnCallOverride) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceName is the name of a service, as incidents' spec.service names it.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
type ServiceName string

// StatusPageSpec says which incidents of the namespace a status page shows
// and how it is titled.
// +kubebuilder:validation:XValidation:rule="(has(self.services) && size(self.services) > 0) || (has(self.selector) && ((has(self.selector.matchLabels) && size(self.selector.matchLabels) > 0) || (has(self.selector.matchExpressions) && size(self.selector.matchExpressions) > 0)))",message="a status page must select its incidents: set spec.services, a non-empty spec.selector, or both (an empty selector would publish every incident of the namespace)"
type StatusPageSpec struct {
	// title heads the page and the feed, such as "Payments status".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Title string `json:"title"`

	// description is a line under the title, for the readers of the page.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Description string `json:"description,omitempty"`

	// services shows incidents whose spec.service is one of these. With
	// spec.selector as well, an incident must match both.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	Services []ServiceName `json:"services,omitempty"`

	// selector shows incidents whose labels match it. With spec.services as
	// well, an incident must match both.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// StatusPageStatus is what the operator observed.
type StatusPageStatus struct {
	// conditions describe the page's state; Ready is False when
	// spec.selector does not parse.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// StatusPage is a read-only public view of a namespace's incidents, served
// by the receiver as HTML at /status/{namespace}/{name} and as an Atom feed
// at /status/{namespace}/{name}/feed.atom. It shows only titles, severities,
// services, impact, stakeholder updates and times: never people or labels.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=statuspage,categories=klaxon
// +kubebuilder:printcolumn:name="Title",type=string,JSONPath=`.spec.title`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type StatusPage struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says which incidents the page shows.
	// +required
	Spec StatusPageSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status StatusPageStatus `json:"status,omitempty"`
}

// StatusPageList is a list of StatusPages.
// +kubebuilder:object:root=true
type StatusPageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []StatusPage `json:"items"`
}

func init() {
	register(&StatusPage{}, &StatusPageList{})
}

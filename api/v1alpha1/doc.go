// Package v1alpha1 contains the klaxon.dev/v1alpha1 API: incidents, on-call
// schedules, escalation policies and alert routes.
// +kubebuilder:object:generate=true
// +groupName=klaxon.dev
package v1alpha1

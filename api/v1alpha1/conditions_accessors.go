package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// GetConditions and SetConditions let shared helpers read and write the
// conditions of any Klaxon kind through one interface.

// GetConditions returns the incident's conditions.
func (in *Incident) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the incident's conditions.
func (in *Incident) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetConditions returns the schedule's conditions.
func (in *OnCallSchedule) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the schedule's conditions.
func (in *OnCallSchedule) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetConditions returns the policy's conditions.
func (in *EscalationPolicy) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the policy's conditions.
func (in *EscalationPolicy) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetConditions returns the route's conditions.
func (in *AlertRoute) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the route's conditions.
func (in *AlertRoute) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetConditions returns the channel's conditions.
func (in *NotificationChannel) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the channel's conditions.
func (in *NotificationChannel) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetConditions returns the responder's conditions.
func (in *Responder) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the responder's conditions.
func (in *Responder) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetConditions returns the status page's conditions.
func (in *StatusPage) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status page's conditions.
func (in *StatusPage) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetConditions returns the maintenance window's conditions.
func (in *MaintenanceWindow) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the maintenance window's conditions.
func (in *MaintenanceWindow) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetConditions returns the heartbeat's conditions.
func (in *Heartbeat) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the heartbeat's conditions.
func (in *Heartbeat) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

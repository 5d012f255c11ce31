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

// GetStatus and SetObservedGeneration let the shared reconcile shape compare
// any Klaxon kind's status and record the generation it reflects, without
// a switch over the kinds.

// GetStatus returns a pointer to the Incident's status.
func (in *Incident) GetStatus() any { return &in.Status }

// SetObservedGeneration records the generation the Incident's status reflects.
func (in *Incident) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetStatus returns a pointer to the OnCallSchedule's status.
func (in *OnCallSchedule) GetStatus() any { return &in.Status }

// SetObservedGeneration records the generation the OnCallSchedule's status reflects.
func (in *OnCallSchedule) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetStatus returns a pointer to the EscalationPolicy's status.
func (in *EscalationPolicy) GetStatus() any { return &in.Status }

// SetObservedGeneration records the generation the EscalationPolicy's status reflects.
func (in *EscalationPolicy) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetStatus returns a pointer to the AlertRoute's status.
func (in *AlertRoute) GetStatus() any { return &in.Status }

// SetObservedGeneration records the generation the AlertRoute's status reflects.
func (in *AlertRoute) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetStatus returns a pointer to the NotificationChannel's status.
func (in *NotificationChannel) GetStatus() any { return &in.Status }

// SetObservedGeneration records the generation the NotificationChannel's status reflects.
func (in *NotificationChannel) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetStatus returns a pointer to the Responder's status.
func (in *Responder) GetStatus() any { return &in.Status }

// SetObservedGeneration records the generation the Responder's status reflects.
func (in *Responder) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetStatus returns a pointer to the StatusPage's status.
func (in *StatusPage) GetStatus() any { return &in.Status }

// SetObservedGeneration records the generation the StatusPage's status reflects.
func (in *StatusPage) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetStatus returns a pointer to the MaintenanceWindow's status.
func (in *MaintenanceWindow) GetStatus() any { return &in.Status }

// SetObservedGeneration records the generation the MaintenanceWindow's status reflects.
func (in *MaintenanceWindow) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetStatus returns a pointer to the Heartbeat's status.
func (in *Heartbeat) GetStatus() any { return &in.Status }

// SetObservedGeneration records the generation the Heartbeat's status reflects.
func (in *Heartbeat) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

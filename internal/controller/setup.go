package controller

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
)

// EventSource names Klaxon in the Events it records.
const EventSource = "klaxon"

// SecretReaderClusterRole is the ClusterRole (config/rbac) that a namespace
// binds to the operator's service account to let it read the Secrets there:
// alert route tokens, channel credentials and Alertmanager auth.
const SecretReaderClusterRole = "klaxon-secret-reader"

// SetupWithManager registers every Klaxon reconciler with mgr.
func SetupWithManager(mgr ctrl.Manager, opts ...Option) error {
	recorder := mgr.GetEventRecorder(EventSource)
	if err := NewIncidentReconciler(mgr.GetClient(), recorder, opts...).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the incident controller: %w", err)
	}
	if err := NewIncidentChannelReconciler(mgr.GetClient(), mgr.GetAPIReader(), recorder, opts...).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the incident channel controller: %w", err)
	}
	if err := NewOnCallScheduleReconciler(mgr.GetClient(), recorder, opts...).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the on-call schedule controller: %w", err)
	}
	if err := NewOnCallOverrideReconciler(mgr.GetClient(), recorder, opts...).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the on-call override controller: %w", err)
	}
	if retention := buildOptions(opts).overrideRetention; retention > 0 {
		if err := NewOverrideRetentionReconciler(mgr.GetClient(), retention, opts...).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("setting up the on-call override retention controller: %w", err)
		}
	}
	if err := NewEscalationPolicyReconciler(mgr.GetClient(), recorder, opts...).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the escalation policy controller: %w", err)
	}
	if err := NewAlertRouteReconciler(mgr.GetClient(), mgr.GetAPIReader(), recorder, opts...).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the alert route controller: %w", err)
	}
	channels := NewNotificationChannelReconciler(mgr.GetClient(), mgr.GetAPIReader(), recorder, buildOptions(opts).publicURL, opts...)
	if err := channels.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the notification channel controller: %w", err)
	}
	if err := NewResponderReconciler(mgr.GetClient(), recorder, opts...).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the responder controller: %w", err)
	}
	if err := NewStatusPageReconciler(mgr.GetClient(), recorder, opts...).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the status page controller: %w", err)
	}
	if err := NewMaintenanceWindowReconciler(mgr.GetClient(), recorder, opts...).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the maintenance window controller: %w", err)
	}
	if err := NewHeartbeatReconciler(mgr.GetClient(), recorder, opts...).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the heartbeat controller: %w", err)
	}
	// Retention is off unless asked for: deleting incidents is the
	// operator's only destructive act, and nothing is registered without it.
	if retention := buildOptions(opts).closedIncidentRetention; retention > 0 {
		if err := NewRetentionReconciler(mgr.GetClient(), retention, opts...).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("setting up the closed incident retention controller: %w", err)
		}
	}
	return nil
}

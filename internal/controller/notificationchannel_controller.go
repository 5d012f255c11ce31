package controller

import (
	"context"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// NotificationChannelReconciler reports whether each channel can send:
// Ready is False while a Secret it names is missing, unreadable, not
// marked as channel credentials or empty, and when the sender refuses its
// settings. It never writes a channel's spec, which GitOps owns.
//
// Secrets are read with GETs, not watched (see AlertRouteReconciler), so a
// channel checks them again after credentialsRecheckWaiting while it
// cannot send, and after credentialsRecheckReady once it can.
type NotificationChannelReconciler struct {
	reconciler
	loader channelLoader
}

// NewNotificationChannelReconciler returns a NotificationChannelReconciler
// that reads Secrets through secretReader, an uncached reader. publicURL is
// Klaxon's external URL, for links in Alertmanager receivers' messages.
func NewNotificationChannelReconciler(c client.Client, secretReader client.Reader, recorder events.EventRecorder, publicURL string, opts ...Option) *NotificationChannelReconciler {
	return &NotificationChannelReconciler{
		reconciler: newReconciler(c, recorder, opts),
		loader:     channelLoader{secretReader: secretReader, publicURL: publicURL},
	}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=notificationchannels,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=notificationchannels/status,verbs=patch

// Reconcile checks the channel's settings and its Secrets.
func (r *NotificationChannelReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.NotificationChannel{}, phases(r.reconcileReady))
}

// reconcileReady sets Ready by building the channel's sender, and comes
// back to read the Secrets again (see NotificationChannelReconciler).
func (r *NotificationChannelReconciler) reconcileReady(ctx context.Context, s *scope[*klaxonv1alpha1.NotificationChannel]) (ctrl.Result, error) {
	ch := s.obj
	_, p, err := r.loader.load(ctx, ch)
	if err != nil {
		return ctrl.Result{}, err
	}
	result := report(ctx, s, klaxonv1alpha1.ConditionReady, p, klaxonv1alpha1.ReasonValid, describeChannel(&ch.Spec), "Validate")
	switch {
	case p == nil:
		result.RequeueAfter = credentialsRecheckReady
	case p.stalled:
		// Settings the sender refuses may come from a Secret (an
		// Alertmanager receiver block), whose fix no watch reports.
		result.RequeueAfter = credentialsRecheckWaiting
	}
	return result, nil
}

// SetupWithManager registers the reconciler.
func (r *NotificationChannelReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.NotificationChannel{}).
		Named("notificationchannel").
		Complete(r)
}

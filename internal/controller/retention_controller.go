package controller

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// RetentionReconciler deletes incidents that have been closed for longer
// than the retention, so etcd does not grow without bound; the history
// lives on in the Prometheus metrics.
//
// It does not use runPhases: that shape ends in a status patch, and this
// reconciler must never write status (the incident reconciler is its one
// writer), while its only act ends the object. It keeps the rest of the
// shape: read the object, decide from persisted timestamps and the injected
// clock (retentionDeadline), act once, and return the deadline as
// RequeueAfter. It records no Event, since the Event would go with the
// object it is about; the deletion is logged instead.
type RetentionReconciler struct {
	client    client.Client
	clock     clock.PassiveClock
	retention time.Duration
}

// NewRetentionReconciler returns a RetentionReconciler that deletes
// incidents retention after status.closedAt.
func NewRetentionReconciler(c client.Client, retention time.Duration, opts ...Option) *RetentionReconciler {
	return &RetentionReconciler{client: c, clock: buildOptions(opts).clock, retention: retention}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=incidents,verbs=get;list;watch;delete

// Reconcile deletes the incident once it has been closed for the retention,
// and otherwise asks to look again at that moment.
func (r *RetentionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	inc := &klaxonv1alpha1.Incident{}
	if err := r.client.Get(ctx, req.NamespacedName, inc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	deadline, ok := retentionDeadline(inc, r.retention)
	if !ok || !inc.DeletionTimestamp.IsZero() {
		// Not closed (closing it wakes this reconciler), or already going.
		return ctrl.Result{}, nil
	}
	if wait := deadline.Sub(r.clock.Now()); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	// The preconditions make the API server delete exactly the version
	// judged here: an incident changed since it was read is judged afresh
	// when the watch brings the change.
	uid, resourceVersion := inc.UID, inc.ResourceVersion
	err := r.client.Delete(ctx, inc, client.Preconditions{UID: &uid, ResourceVersion: &resourceVersion})
	switch {
	case apierrors.IsNotFound(err):
		return ctrl.Result{}, nil
	case apierrors.IsConflict(err):
		log.FromContext(ctx).V(1).Info("Closed incident changed since it was read; judging it again", "incident", klog.KObj(inc))
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("deleting closed incident %s/%s past its retention: %w", inc.Namespace, inc.Name, err)
	}
	log.FromContext(ctx).Info("Deleted a closed incident past its retention", "incident", klog.KObj(inc),
		"closedAt", inc.Status.ClosedAt.UTC().Format(time.RFC3339), "retention", r.retention.String())
	return ctrl.Result{}, nil
}

// retentionDeadline is when a closed incident is deleted: retention after
// the closedAt the operator stored, so restarts and failovers keep the same
// deadline. It reports false for an incident that is not closed.
func retentionDeadline(inc *klaxonv1alpha1.Incident, retention time.Duration) (time.Time, bool) {
	if inc.Status.Phase != klaxonv1alpha1.StateClosed || inc.Status.ClosedAt == nil {
		return time.Time{}, false
	}
	return inc.Status.ClosedAt.Add(retention), true
}

// SetupWithManager registers the reconciler for closed incidents only: an
// open incident is never deleted, so its changes need no reconcile. Like
// every reconciler it runs on the leader only.
func (r *RetentionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	closed := predicate.NewPredicateFuncs(func(obj client.Object) bool {
		inc, ok := obj.(*klaxonv1alpha1.Incident)
		return ok && inc.Status.Phase == klaxonv1alpha1.StateClosed
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.Incident{}, builder.WithPredicates(closed)).
		Named("incident-retention").
		Complete(r)
}

// WithClosedIncidentRetention deletes closed incidents retention after
// status.closedAt; 0 (the default) keeps them.
func WithClosedIncidentRetention(retention time.Duration) Option {
	return func(o *options) { o.closedIncidentRetention = retention }
}

package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// AlertRouteReconciler reports whether each route can receive: Ready is
// False for a bad matcher or title template and for a missing token Secret
// or key. The receiver records status.lastReceivedAt.
type AlertRouteReconciler struct {
	client   client.Client
	recorder events.EventRecorder
	clock    clock.PassiveClock
}

// NewAlertRouteReconciler returns an AlertRouteReconciler.
func NewAlertRouteReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *AlertRouteReconciler {
	o := buildOptions(opts)
	return &AlertRouteReconciler{client: c, recorder: recorder, clock: o.clock}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=alertroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=alertroutes/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch

// Reconcile checks the route's spec and its token Secret.
func (r *AlertRouteReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ar := &klaxonv1alpha1.AlertRoute{}
	if err := r.client.Get(ctx, req.NamespacedName, ar); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	original := ar.DeepCopy()
	ar.Status.ObservedGeneration = ar.Generation

	rd, err := r.check(ctx, ar)
	if err != nil {
		return ctrl.Result{}, err
	}
	_, err = reportReadiness(ctx, r.client, r.recorder, r.clock.Now(), original, ar, &ar.Status.Conditions, &original.Status, &ar.Status, rd)
	return requeueOnConflict(err)
}

func (r *AlertRouteReconciler) check(ctx context.Context, ar *klaxonv1alpha1.AlertRoute) (readiness, error) {
	if _, err := alertmapping.CompileRoute(ar.Spec); err != nil {
		reason := klaxonv1alpha1.ReasonInvalidRoute
		switch {
		case errors.Is(err, alertmapping.ErrInvalidMatcher):
			reason = klaxonv1alpha1.ReasonInvalidMatcher
		case errors.Is(err, alertmapping.ErrInvalidTitleTemplate):
			reason = klaxonv1alpha1.ReasonInvalidTitleTemplate
		}
		return readiness{reason: reason, message: err.Error(), stalled: true}, nil
	}
	ref := ar.Spec.TokenSecretRef
	secret := &corev1.Secret{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: ar.Namespace, Name: ref.Name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return readiness{reason: klaxonv1alpha1.ReasonTokenSecretNotFound, message: fmt.Sprintf(
			"Secret %s not found in namespace %s, or it lacks the label %s=true that lets the operator read it",
			ref.Name, ar.Namespace, receiver.TokenSecretLabel)}, nil
	case err != nil:
		return readiness{}, fmt.Errorf("reading Secret %s/%s: %w", ar.Namespace, ref.Name, err)
	case len(secret.Data[ref.Key]) == 0:
		return readiness{reason: klaxonv1alpha1.ReasonTokenKeyNotFound,
			message: fmt.Sprintf("Secret %s has no key %q, or it is empty", ref.Name, ref.Key)}, nil
	}
	return readiness{ready: true, reason: klaxonv1alpha1.ReasonValid,
		message: fmt.Sprintf("Receiving at /alertmanager/%s/%s", ar.Namespace, ar.Name)}, nil
}

// SetupWithManager registers the reconciler; a token Secret's change wakes
// the routes of its namespace that use it.
func (r *AlertRouteReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.AlertRoute{}).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.routesForSecret)).
		Named("alertroute").
		Complete(r)
}

func (r *AlertRouteReconciler) routesForSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &klaxonv1alpha1.AlertRouteList{}
	if err := r.client.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, ar := range list.Items {
		if ar.Spec.TokenSecretRef.Name == obj.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&ar)})
		}
	}
	return reqs
}

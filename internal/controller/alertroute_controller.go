package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// AlertRouteReconciler reports whether each route can receive: Ready is
// False for a bad matcher or title template and for a missing, unreadable
// or empty token. The receiver records status.lastReceivedAt and
// lastRejectedAt.
//
// Token Secrets are read with GETs (secretReader is not a cache): the
// operator is not granted the right to read every Secret of the cluster,
// only those of the namespaces that bind it (README, "Security"), so it
// cannot watch them either. A route therefore checks its Secret again
// after tokenRecheckWaiting while it waits for it, and after
// tokenRecheckReady once it is Ready.
type AlertRouteReconciler struct {
	client       client.Client
	secretReader client.Reader
	recorder     events.EventRecorder
	clock        clock.PassiveClock
}

const (
	tokenRecheckWaiting = 10 * time.Second
	tokenRecheckReady   = 5 * time.Minute
)

// NewAlertRouteReconciler returns an AlertRouteReconciler that reads token
// Secrets through secretReader, an uncached reader.
func NewAlertRouteReconciler(c client.Client, secretReader client.Reader, recorder events.EventRecorder, opts ...Option) *AlertRouteReconciler {
	o := buildOptions(opts)
	return &AlertRouteReconciler{client: c, secretReader: secretReader, recorder: recorder, clock: o.clock}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=alertroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=alertroutes/status,verbs=get;update;patch

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
	if _, err = reportReadiness(ctx, r.client, r.recorder, r.clock.Now(), original, ar, &ar.Status.Conditions, &original.Status, &ar.Status, rd); err != nil {
		return requeueOnConflict(err)
	}
	switch {
	case rd.ready:
		return ctrl.Result{RequeueAfter: tokenRecheckReady}, nil
	case rd.stalled:
		// Only an edit of the route helps, and the edit wakes it.
		return ctrl.Result{}, nil
	default:
		return ctrl.Result{RequeueAfter: tokenRecheckWaiting}, nil
	}
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
	err := r.secretReader.Get(ctx, client.ObjectKey{Namespace: ar.Namespace, Name: ref.Name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return readiness{reason: klaxonv1alpha1.ReasonTokenSecretNotFound, message: fmt.Sprintf(
			"Secret %s not found in namespace %s", ref.Name, ar.Namespace)}, nil
	case apierrors.IsForbidden(err):
		return readiness{reason: klaxonv1alpha1.ReasonTokenSecretForbidden, message: fmt.Sprintf(
			"The operator may not read Secret %s in namespace %s: bind the ClusterRole %s to the operator's service account with a RoleBinding in this namespace",
			ref.Name, ar.Namespace, SecretReaderClusterRole)}, nil
	case err != nil:
		return readiness{}, fmt.Errorf("reading Secret %s/%s: %w", ar.Namespace, ref.Name, err)
	case receiver.StoredToken(secret, ref.Key) == nil:
		return readiness{reason: klaxonv1alpha1.ReasonTokenKeyNotFound,
			message: fmt.Sprintf("Secret %s has no key %q, or it holds only whitespace", ref.Name, ref.Key)}, nil
	}
	return readiness{ready: true, reason: klaxonv1alpha1.ReasonValid,
		message: fmt.Sprintf("Receiving at /alertmanager/%s/%s", ar.Namespace, ar.Name)}, nil
}

// SecretReaderClusterRole is the ClusterRole (config/rbac) that a namespace
// binds to the operator's service account to let it read the Secrets there.
const SecretReaderClusterRole = "klaxon-secret-reader"

// SetupWithManager registers the reconciler.
func (r *AlertRouteReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.AlertRoute{}).
		Named("alertroute").
		Complete(r)
}

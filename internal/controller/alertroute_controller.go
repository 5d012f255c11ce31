package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
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
	reconciler
	secretReader client.Reader
}

const (
	tokenRecheckWaiting = 10 * time.Second
	tokenRecheckReady   = 5 * time.Minute
)

// NewAlertRouteReconciler returns an AlertRouteReconciler that reads token
// Secrets through secretReader, an uncached reader.
func NewAlertRouteReconciler(c client.Client, secretReader client.Reader, recorder events.EventRecorder, opts ...Option) *AlertRouteReconciler {
	return &AlertRouteReconciler{reconciler: newReconciler(c, recorder, opts), secretReader: secretReader}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=alertroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=alertroutes/status,verbs=patch

// Reconcile checks the route's spec and its token Secret.
func (r *AlertRouteReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.AlertRoute{}, phases(r.reconcileReady))
}

// reconcileReady sets Ready, and comes back to check the token Secret again
// (see AlertRouteReconciler).
func (r *AlertRouteReconciler) reconcileReady(ctx context.Context, s *scope[*klaxonv1alpha1.AlertRoute]) (ctrl.Result, error) {
	ar := s.obj
	p, err := r.check(ctx, ar)
	if err != nil {
		return ctrl.Result{}, err
	}
	result := report(ctx, s, klaxonv1alpha1.ConditionReady, p, klaxonv1alpha1.ReasonValid,
		fmt.Sprintf("Receiving at /alertmanager/%s/%s", ar.Namespace, ar.Name), "Validate")
	if p == nil {
		result.RequeueAfter = tokenRecheckReady
	}
	return result, nil
}

func (r *AlertRouteReconciler) check(ctx context.Context, ar *klaxonv1alpha1.AlertRoute) (*problem, error) {
	if _, err := alertmapping.CompileRoute(ar.Spec); err != nil {
		reason := klaxonv1alpha1.ReasonInvalidRoute
		switch {
		case errors.Is(err, alertmapping.ErrInvalidMatcher):
			reason = klaxonv1alpha1.ReasonInvalidMatcher
		case errors.Is(err, alertmapping.ErrInvalidTitleTemplate):
			reason = klaxonv1alpha1.ReasonInvalidTitleTemplate
		}
		return stalledBy(reason, err.Error()), nil
	}
	ref := ar.Spec.TokenSecretRef
	secret := &corev1.Secret{}
	err := r.secretReader.Get(ctx, client.ObjectKey{Namespace: ar.Namespace, Name: ref.Name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return waitingFor(klaxonv1alpha1.ReasonTokenSecretNotFound, fmt.Sprintf(
			"Secret %s not found in namespace %s", ref.Name, ar.Namespace), tokenRecheckWaiting), nil
	case apierrors.IsForbidden(err):
		return waitingFor(klaxonv1alpha1.ReasonTokenSecretForbidden, fmt.Sprintf(
			"The operator may not read Secret %s in namespace %s: bind the ClusterRole %s to the operator's service account with a RoleBinding in this namespace",
			ref.Name, ar.Namespace, SecretReaderClusterRole), tokenRecheckWaiting), nil
	case err != nil:
		return nil, fmt.Errorf("reading Secret %s/%s: %w", ar.Namespace, ref.Name, err)
	case !receiver.IsTokenSecret(secret):
		return waitingFor(klaxonv1alpha1.ReasonTokenSecretNotMarked, fmt.Sprintf(
			"Secret %s lacks the label %s=true that marks it as a receiver token; the operator uses no other Secret as one",
			ref.Name, receiver.TokenSecretLabel), tokenRecheckWaiting), nil
	case receiver.StoredToken(secret, ref.Key) == nil:
		return waitingFor(klaxonv1alpha1.ReasonTokenKeyNotFound,
			fmt.Sprintf("Secret %s has no key %q, or it holds only whitespace", ref.Name, ref.Key), tokenRecheckWaiting), nil
	}
	return nil, nil
}

// SetupWithManager registers the reconciler.
func (r *AlertRouteReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.AlertRoute{}).
		Named("alertroute").
		Complete(r)
}

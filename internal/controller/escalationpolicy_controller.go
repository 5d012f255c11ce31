package controller

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/escalation"
)

// EscalationPolicyReconciler reports whether each policy can page: Ready is
// False while a schedule it names is missing or not Ready. It never writes a
// policy's spec, which GitOps owns.
type EscalationPolicyReconciler struct {
	reconciler
}

// NewEscalationPolicyReconciler returns an EscalationPolicyReconciler.
func NewEscalationPolicyReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *EscalationPolicyReconciler {
	return &EscalationPolicyReconciler{newReconciler(c, recorder, opts)}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=escalationpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=escalationpolicies/status,verbs=patch

// Reconcile checks the policy and the schedules it names.
func (r *EscalationPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.EscalationPolicy{}, phases(r.reconcileReady))
}

// reconcileReady sets Ready. A schedule's change wakes the policy (see
// SetupWithManager), so waiting needs no requeue.
func (r *EscalationPolicyReconciler) reconcileReady(ctx context.Context, s *scope[*klaxonv1alpha1.EscalationPolicy]) (ctrl.Result, error) {
	pol := s.obj
	p, err := r.check(ctx, pol)
	if err != nil {
		return ctrl.Result{}, err
	}
	return report(ctx, s, klaxonv1alpha1.ConditionReady, p, klaxonv1alpha1.ReasonValid,
		fmt.Sprintf("%d levels, every schedule found", len(pol.Spec.Levels)), "Validate"), nil
}

func (r *EscalationPolicyReconciler) check(ctx context.Context, pol *klaxonv1alpha1.EscalationPolicy) (*problem, error) {
	if err := escalation.Validate(&pol.Spec); err != nil {
		return stalledBy(klaxonv1alpha1.ReasonInvalidPolicy, err.Error()), nil
	}
	var missing, notReady []string
	for _, name := range escalation.Schedules(&pol.Spec) {
		sched := &klaxonv1alpha1.OnCallSchedule{}
		err := r.client.Get(ctx, client.ObjectKey{Namespace: pol.Namespace, Name: name}, sched)
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, name)
		case err != nil:
			return nil, fmt.Errorf("reading OnCallSchedule %s/%s: %w", pol.Namespace, name, err)
		case meta.IsStatusConditionFalse(sched.Status.Conditions, klaxonv1alpha1.ConditionReady):
			notReady = append(notReady, name)
		}
	}
	switch {
	case len(missing) > 0:
		return waitingFor(klaxonv1alpha1.ReasonScheduleNotFound,
			fmt.Sprintf("OnCallSchedule %s not found in namespace %s", strings.Join(missing, ", "), pol.Namespace), 0), nil
	case len(notReady) > 0:
		return waitingFor(klaxonv1alpha1.ReasonScheduleNotReady,
			fmt.Sprintf("OnCallSchedule %s is not Ready", strings.Join(notReady, ", ")), 0), nil
	}
	return nil, nil
}

// SetupWithManager registers the reconciler; a schedule's change wakes the
// policies of its namespace that name it.
func (r *EscalationPolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.EscalationPolicy{}).
		Watches(&klaxonv1alpha1.OnCallSchedule{}, handler.EnqueueRequestsFromMapFunc(r.policiesForSchedule)).
		Named("escalationpolicy").
		Complete(r)
}

func (r *EscalationPolicyReconciler) policiesForSchedule(ctx context.Context, obj client.Object) []reconcile.Request {
	return policiesNaming(ctx, r.client, obj.GetNamespace(), obj.GetName())
}

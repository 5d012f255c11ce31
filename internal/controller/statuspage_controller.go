package controller

import (
	"context"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/statuspage"
)

// StatusPageReconciler reports whether each status page can be served:
// Ready is False while spec.selector does not parse. The receiver serves
// the pages; this reconciler only validates them, and never writes a
// page's spec.
type StatusPageReconciler struct {
	reconciler
	publicURL string
}

// NewStatusPageReconciler returns a StatusPageReconciler.
func NewStatusPageReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *StatusPageReconciler {
	return &StatusPageReconciler{reconciler: newReconciler(c, recorder, opts), publicURL: buildOptions(opts).publicURL}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=statuspages,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=statuspages/status,verbs=patch

// Reconcile checks the page's selector.
func (r *StatusPageReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.StatusPage{}, phases(r.reconcileReady))
}

// reconcileReady sets Ready. An invalid selector is a fault in the page's
// own spec: stalled until the spec changes.
func (r *StatusPageReconciler) reconcileReady(ctx context.Context, s *scope[*klaxonv1alpha1.StatusPage]) (ctrl.Result, error) {
	var p *problem
	if _, err := statuspage.Selector(s.obj); err != nil {
		p = stalledBy(klaxonv1alpha1.ReasonInvalidSelector, bounded.Runes(err.Error()+"; the page shows no incident until it is fixed", bounded.ConditionMessage))
	}
	return report(ctx, s, klaxonv1alpha1.ConditionReady, p, klaxonv1alpha1.ReasonServed,
		"Served at "+r.publicURL+statuspage.Path(s.obj.Namespace, s.obj.Name), "Validate"), nil
}

// SetupWithManager registers the reconciler.
func (r *StatusPageReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.StatusPage{}).
		Named("statuspage").
		Complete(r)
}

package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/lifecycle"
)

// reconcileLifecycle accepts spec.state into status.phase and derives the
// lifecycle conditions.
func (r *IncidentReconciler) reconcileLifecycle(ctx context.Context, s *incidentScope) (ctrl.Result, error) {
	inc := s.obj
	if inc.Status.Alerts == nil {
		// The alerts the receiver opened it with go to status in this
		// first write.
		inc.Status.Alerts = alertmapping.OpeningAlerts(inc)
	}
	if lifecycle.Repair(&inc.Status, s.now) {
		log.FromContext(ctx).Info("Repaired a status that lacked the start of its episode", "phase", inc.Status.Phase)
	}
	actor := inc.Annotations[klaxonv1alpha1.ActorAnnotation]
	transitions, err := lifecycle.Accept(inc, actor, s.now)
	if err != nil {
		// The API server's transition rule makes this unreachable; retrying
		// would not help, so report it and wait for the spec to change.
		log.FromContext(ctx).Error(err, "Cannot accept the incident's state")
		recordEvent(r.recorder, inc, corev1.EventTypeWarning, "InvalidTransition", "Transition", err.Error())
		return ctrl.Result{}, nil
	}
	for _, tr := range transitions {
		s.record(corev1.EventTypeNormal, tr.Reason(), "Transition", tr.Message)
		log.FromContext(ctx).Info("Incident moved", "from", tr.From, "to", tr.To, "actor", tr.Actor)
		s.afterStore(observeTransition(inc, tr, s.now))
	}
	lifecycle.SetConditions(inc, s.now)
	for _, tr := range transitions {
		if event, ok := eventOf(tr.To); ok {
			r.tellStakeholders(ctx, s, event, 0)
		}
	}
	return ctrl.Result{}, nil
}

package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/conditions"
	"github.com/klaxon-dev/klaxon/internal/lifecycle"
	"github.com/klaxon-dev/klaxon/internal/targets"
)

// reconcileTargets keeps the response-target deadlines of the current
// episode in status.responseTargets and their conditions current, from the
// policy's targets for the incident's severity. A miss is announced once,
// with a Warning Event and a timeline entry, when its condition turns True;
// a met target gets a timeline entry when it turns met. The next deadline is
// the requeue: no polling.
func (r *IncidentReconciler) reconcileTargets(ctx context.Context, s *incidentScope) (ctrl.Result, error) {
	inc := s.obj
	st := &inc.Status
	var target *klaxonv1alpha1.ResponseTarget
	if ref := inc.Spec.EscalationPolicyRef; ref != nil {
		pol := &klaxonv1alpha1.EscalationPolicy{}
		err := r.client.Get(ctx, client.ObjectKey{Namespace: inc.Namespace, Name: ref.Name}, pol)
		switch {
		case apierrors.IsNotFound(err):
			// The paging phase reports the missing policy; its creation
			// wakes this incident.
		case err != nil:
			return ctrl.Result{}, fmt.Errorf("reading EscalationPolicy %s: %w", ref.Name, err)
		default:
			target = pol.Spec.ResponseTargets.For(inc.Spec.Severity)
		}
	}

	deadlines, verdicts, next := targets.Evaluate(inc, target, s.now)
	st.ResponseTargets = deadlines
	byKind := map[targets.Kind]targets.Verdict{}
	for _, v := range verdicts {
		byKind[v.Kind] = v
	}
	for _, kind := range targets.Kinds {
		condType := kind.Condition()
		v, ok := byKind[kind]
		if !ok {
			meta.RemoveStatusCondition(&st.Conditions, condType)
			continue
		}
		before := conditions.Find(inc, condType)
		conditions.Set(inc, condType, v.Missed, v.Reason(), v.Message, s.now)
		switch {
		case v.Missed && (before == nil || before.Status != metav1.ConditionTrue):
			s.record(corev1.EventTypeWarning, condType, "Target", v.Message)
			lifecycle.AppendTimeline(st, klaxonv1alpha1.TimelineEntry{Time: metav1.NewTime(s.now),
				Type: klaxonv1alpha1.TimelineTargetMissed, Message: fmt.Sprintf("%s target missed: %s", kind, v.Message)})
			s.afterStore(countMiss(inc, kind))
		case v.Met && before != nil && before.Reason != klaxonv1alpha1.ReasonTargetMet:
			lifecycle.AppendTimeline(st, klaxonv1alpha1.TimelineEntry{Time: metav1.NewTime(s.now),
				Type: klaxonv1alpha1.TimelineTargetMet, Message: fmt.Sprintf("%s target met: %s", kind, v.Message)})
		}
	}
	if next.IsZero() {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: max(next.Sub(s.now), time.Millisecond)}, nil
}

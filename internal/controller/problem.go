package controller

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/klaxon-dev/klaxon/internal/conditions"
)

// A problem is why an object cannot yet be what its spec asks. It is either
// waiting, for another object to appear or become usable (a Normal Event,
// and a requeue unless a watch wakes the object), or stalled by a fault in
// the object's own spec (a Warning Event, and no retry until the spec
// changes). report decides the condition, the Event, the log and the
// requeue from it, in one place, for every reconciler.
type problem struct {
	reason, message string
	stalled         bool
	// retryAfter is when a waiting object looks again; zero when a watch
	// on what it waits for wakes it.
	retryAfter time.Duration
}

// waitingFor is a problem that resolves itself once another object appears
// or changes.
func waitingFor(reason, message string, retryAfter time.Duration) *problem {
	return &problem{reason: reason, message: message, retryAfter: retryAfter}
}

// stalledBy is a problem in the object's own spec.
func stalledBy(reason, message string) *problem {
	return &problem{reason: reason, message: message, stalled: true}
}

// report sets condType False with the problem (or True with okReason and
// okMessage when p is nil). When the condition's status or reason changes it
// records an Event, Normal for waiting and Warning for stalled, with action,
// and logs it. It returns the requeue the problem asks for.
func report[T object](ctx context.Context, s *scope[T], condType string, p *problem, okReason, okMessage, action string) ctrl.Result {
	before := conditions.Find(s.obj, condType)
	if p == nil {
		conditions.Set(s.obj, condType, true, okReason, okMessage, s.now)
		if before == nil || before.Status != metav1.ConditionTrue {
			s.record(corev1.EventTypeNormal, okReason, action, okMessage)
		}
		return ctrl.Result{}
	}
	conditions.Set(s.obj, condType, false, p.reason, p.message, s.now)
	if before != nil && before.Status == metav1.ConditionFalse && before.Reason == p.reason {
		return p.result()
	}
	if p.stalled {
		s.record(corev1.EventTypeWarning, p.reason, action, p.message)
		log.FromContext(ctx).Info("Stalled", "condition", condType, "reason", p.reason, "message", p.message)
	} else {
		s.record(corev1.EventTypeNormal, p.reason, action, p.message)
		log.FromContext(ctx).Info("Waiting", "condition", condType, "reason", p.reason, "message", p.message)
	}
	return p.result()
}

func (p *problem) result() ctrl.Result {
	if p.stalled {
		return ctrl.Result{}
	}
	return ctrl.Result{RequeueAfter: p.retryAfter}
}

package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// patchStatusIfChanged patches obj's status subresource when its status
// differs from the original's, with optimistic locking: status is computed
// from the version read, so a newer version must be reconciled afresh. It
// reports whether it wrote.
func patchStatusIfChanged(ctx context.Context, c client.Client, original, obj client.Object, oldStatus, newStatus any) (bool, error) {
	if equality.Semantic.DeepEqual(oldStatus, newStatus) {
		return false, nil
	}
	patch := client.MergeFromWithOptions(original, client.MergeFromWithOptimisticLock{})
	if err := c.Status().Patch(ctx, obj, patch); err != nil {
		return false, fmt.Errorf("patching status of %s %s/%s: %w",
			obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return true, nil
}

// setCondition sets a condition; its transition time changes only when its
// status does.
func setCondition(conds *[]metav1.Condition, generation int64, condType string, status bool, reason, message string, now time.Time) {
	s := metav1.ConditionFalse
	if status {
		s = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: condType, Status: s, Reason: reason, Message: bounded.Runes(message, bounded.ConditionMessage),
		ObservedGeneration: generation, LastTransitionTime: metav1.NewTime(now),
	})
}

// readiness is the verdict of checking an object that has a Ready condition.
type readiness struct {
	ready           bool
	reason, message string
	// stalled marks a fault in the object's own spec: a Warning Event, and no
	// retry until the spec changes. Otherwise not being Ready is waiting for
	// another object, which is Normal.
	stalled bool
}

// reportReadiness sets Ready from rd, patches the object's status when it
// changed (oldStatus and newStatus point at original's and obj's), and records
// an Event when Ready appears or flips. It reports whether it wrote.
func reportReadiness(ctx context.Context, c client.Client, recorder events.EventRecorder, now time.Time,
	original, obj client.Object, conds *[]metav1.Condition, oldStatus, newStatus any, rd readiness) (bool, error) {
	before := meta.FindStatusCondition(*conds, klaxonv1alpha1.ConditionReady)
	flipped := before == nil || (before.Status == metav1.ConditionTrue) != rd.ready
	setCondition(conds, obj.GetGeneration(), klaxonv1alpha1.ConditionReady, rd.ready, rd.reason, rd.message, now)
	wrote, err := patchStatusIfChanged(ctx, c, original, obj, oldStatus, newStatus)
	if err != nil {
		return false, err
	}
	if wrote && flipped {
		eventType := corev1.EventTypeNormal
		if rd.stalled {
			eventType = corev1.EventTypeWarning
		}
		recordEvent(recorder, obj, eventType, rd.reason, "Validate", rd.message)
	}
	return wrote, nil
}

// requeueOnConflict turns a conflict into a quiet retry: another writer
// changed the object since it was read, and the watch brings the new version.
func requeueOnConflict(err error) (ctrl.Result, error) {
	if apierrors.IsConflict(err) {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{}, err
}

// ceilSecond rounds t up to a whole second. The API server stores whole
// seconds, so a stored deadline must never read back earlier than it is.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); r.Before(t) {
		return r.Add(time.Second)
	}
	return t
}

// recordEvent records an Event whose note is note, taken literally (it is
// no format string: a "%" in a title must stay a "%") and cut to the events
// API's limits, which would otherwise refuse the Event.
func recordEvent(recorder events.EventRecorder, obj runtime.Object, eventType, reason, action, note string) {
	recorder.Eventf(obj, nil, eventType, bounded.Bytes(reason, bounded.EventReason), bounded.Bytes(action, bounded.EventAction),
		"%s", bounded.Bytes(note, bounded.EventNote))
}

package controller

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
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
		Type: condType, Status: s, Reason: reason, Message: message,
		ObservedGeneration: generation, LastTransitionTime: metav1.NewTime(now),
	})
}

// setReady sets the Ready condition.
func setReady(conds *[]metav1.Condition, generation int64, ready bool, reason, message string, now time.Time) {
	setCondition(conds, generation, klaxonv1alpha1.ConditionReady, ready, reason, message, now)
}

// ceilSecond rounds t up to a whole second. The API server stores whole
// seconds, so a stored deadline must never read back earlier than it is.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); r.Before(t) {
		return r.Add(time.Second)
	}
	return t
}

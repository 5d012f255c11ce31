package conditions

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Object is a Klaxon kind with conditions.
type Object interface {
	GetGeneration() int64
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// Set sets the condition condType of obj to status, with reason and message.
func Set(obj Object, condType string, status bool, reason, message string, now time.Time) {
	s := metav1.ConditionFalse
	if status {
		s = metav1.ConditionTrue
	}
	conds := obj.GetConditions()
	meta.SetStatusCondition(&conds, metav1.Condition{
		Type: condType, Status: s, Reason: reason, Message: bounded.Runes(message, bounded.ConditionMessage),
		ObservedGeneration: obj.GetGeneration(), LastTransitionTime: metav1.NewTime(now),
	})
	obj.SetConditions(conds)
}

// Find returns a copy of the condition condType of obj, or nil. A copy, so
// that it still says what the condition was after Set changes it.
func Find(obj Object, condType string) *metav1.Condition {
	c := meta.FindStatusCondition(obj.GetConditions(), condType)
	if c == nil {
		return nil
	}
	found := *c
	return &found
}

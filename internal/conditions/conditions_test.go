package conditions

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

func TestSet(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	obj := &klaxonv1alpha1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	Set(obj, klaxonv1alpha1.ConditionReady, false, klaxonv1alpha1.ReasonTokenSecretNotFound, "missing", t0)
	// Same status later: the transition time stays.
	Set(obj, klaxonv1alpha1.ConditionReady, false, klaxonv1alpha1.ReasonTokenKeyNotFound, strings.Repeat("x", 40000), t0.Add(time.Hour))
	c := Find(obj, klaxonv1alpha1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != klaxonv1alpha1.ReasonTokenKeyNotFound ||
		!c.LastTransitionTime.Time.Equal(t0) || c.ObservedGeneration != 3 || utf8.RuneCountInString(c.Message) != bounded.ConditionMessage {
		t.Fatalf("condition = %+v", c)
	}
	// What Find returned does not change with the condition.
	before := Find(obj, klaxonv1alpha1.ConditionReady)
	// A new status moves the transition time.
	Set(obj, klaxonv1alpha1.ConditionReady, true, klaxonv1alpha1.ReasonValid, "ok", t0.Add(2*time.Hour))
	if c := Find(obj, klaxonv1alpha1.ConditionReady); c.Status != metav1.ConditionTrue || !c.LastTransitionTime.Time.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("condition = %+v", c)
	}
	if before.Status != metav1.ConditionFalse {
		t.Errorf("the condition found before Set changed with it: %+v", before)
	}
}

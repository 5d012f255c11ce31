package controller_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// TestAlertRouteTitleTemplateOverBudget: a title template that parses but
// would spin the shared receiver is refused when the route is checked, and
// the Ready condition tells its author why, instead of every delivery
// falling back to a default title.
func TestAlertRouteTitleTemplateOverBudget(t *testing.T) {
	ns := newNamespace(t)
	ar := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "spinning-title", Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			TitleTemplate:  `{{range 1000000000}}{{end}}`,
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "am-token", Key: "token"},
		},
	}
	if err := k8s.Create(context.Background(), ar); err != nil {
		t.Fatal(err)
	}
	var ready *metav1.Condition
	eventually(t, "Ready=False InvalidTitleTemplate", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(ar), ar)
		ready = meta.FindStatusCondition(ar.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return ready != nil && ready.Status == metav1.ConditionFalse && ready.Reason == klaxonv1alpha1.ReasonInvalidTitleTemplate, err
	})
	for _, says := range []string{"spec.titleTemplate exceeds the render budget", "{{range 1000000000}}"} {
		if !strings.Contains(ready.Message, says) {
			t.Errorf("Ready message %q does not say %q", ready.Message, says)
		}
	}
}

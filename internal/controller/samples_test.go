package controller_test

import (
	"context"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

// The samples `make dev` applies are accepted and work together: the
// schedules are Ready, the policy finds them, the alert route finds its
// token, and the new incident pages.
func TestSamplesApplyAndPage(t *testing.T) {
	ns := newNamespace(t)
	dir := filepath.Join(localcluster.RepoRoot(), "config", "samples")
	if err := localcluster.ApplyFiles(context.Background(), k8s, dir, ns); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"payments-primary", "payments-secondary"} {
		s := &klaxonv1alpha1.OnCallSchedule{}
		eventually(t, name+" Ready with someone on call", func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s)
			return meta.IsStatusConditionTrue(s.Status.Conditions, klaxonv1alpha1.ConditionReady) && len(s.Status.OnCall) == 1, err
		})
	}
	pol := &klaxonv1alpha1.EscalationPolicy{}
	eventually(t, "policy Ready", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, pol)
		return meta.IsStatusConditionTrue(pol.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
	route := &klaxonv1alpha1.AlertRoute{}
	eventually(t, "alert route Ready", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments-critical"}, route)
		return meta.IsStatusConditionTrue(route.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
	inc := &klaxonv1alpha1.Incident{}
	eventually(t, "the sample incident paged the primary", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payment-gateway-timeouts"}, inc)
		return len(inc.Status.Assignments) == 1 && inc.Status.Assignments[0].Schedule == "payments-primary", err
	})
}

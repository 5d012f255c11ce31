package controller_test

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/controller"
)

// A phase that fails still leaves its mark: the phases before it are
// stored, and observedGeneration does not move until every phase succeeds.
func TestStatusIsPatchedWhenAPhaseFails(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	// This test reconciles by hand, with a client that cannot read
	// policies; the shared operator must not reconcile meanwhile.
	pauseOperator(t)
	inc := createIncident(t, k8s, ns, "phase-fails", func(i *klaxonv1alpha1.Incident) {
		i.Spec.EscalationPolicyRef = &klaxonv1alpha1.LocalObjectReference{Name: "payments"}
	})
	operatorClient, err := client.NewWithWatch(cluster.OperatorConfig, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	failing := interceptor.NewClient(operatorClient, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*klaxonv1alpha1.EscalationPolicy); ok {
				return errors.New("the API server failed")
			}
			return c.Get(ctx, key, obj, opts...)
		},
	})
	recorder := events.NewFakeRecorder(16)
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(inc)}
	if _, err := controller.NewIncidentReconciler(failing, recorder, controller.WithClock(fakeClock)).Reconcile(ctx, req); err == nil {
		t.Fatal("Reconcile succeeded although the policy could not be read")
	}
	if err := k8s.Get(ctx, req.NamespacedName, inc); err != nil {
		t.Fatal(err)
	}
	if inc.Status.Phase != klaxonv1alpha1.StateTriggered || !meta.IsStatusConditionFalse(inc.Status.Conditions, klaxonv1alpha1.ConditionAcknowledged) {
		t.Errorf("after a failed phase: phase %q, conditions %v; want the lifecycle stored", inc.Status.Phase, inc.Status.Conditions)
	}
	if inc.Status.ObservedGeneration != 0 {
		t.Errorf("observedGeneration = %d after a failed phase, want 0", inc.Status.ObservedGeneration)
	}
	// The stored trigger, and that its stakeholders could not be told.
	if len(recorder.Events) != 2 {
		t.Errorf("%d Events, want the one announcing the stored trigger and the one saying stakeholders were not told", len(recorder.Events))
	}

	// Healthy again: the reconcile completes and observes the generation.
	if _, err := controller.NewIncidentReconciler(operatorClient, recorder, controller.WithClock(fakeClock)).Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, req.NamespacedName, inc); err != nil {
		t.Fatal(err)
	}
	if inc.Status.ObservedGeneration != inc.Generation {
		t.Errorf("observedGeneration = %d, want %d", inc.Status.ObservedGeneration, inc.Generation)
	}
}

// Paging that waits for a missing policy says so with one Normal Event, not
// only a condition, and not one per reconcile.
func TestBlockedPagingRecordsOneEvent(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	inc := createIncident(t, k8s, ns, "waiting", func(i *klaxonv1alpha1.Incident) {
		i.Spec.EscalationPolicyRef = &klaxonv1alpha1.LocalObjectReference{Name: "missing"}
	})
	eventually(t, "RespondersAssigned=False PolicyNotFound", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), inc)
		c := meta.FindStatusCondition(inc.Status.Conditions, klaxonv1alpha1.ConditionRespondersAssigned)
		return c != nil && c.Reason == klaxonv1alpha1.ReasonPolicyNotFound, err
	})
	// Two more reconciles, woken by edits that change nothing for paging.
	for _, v := range []string{"1", "2"} {
		patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"example.com/touch":"`+v+`"}}}`))
		if err := k8s.Patch(ctx, inc, patch); err != nil {
			t.Fatal(err)
		}
	}
	count := func(ctx context.Context) (int32, error) {
		evs, err := incidentEvents(ctx, inc)
		var n int32
		for _, e := range evs {
			if e.Reason == klaxonv1alpha1.ReasonPolicyNotFound {
				if e.Type != corev1.EventTypeNormal {
					return 0, errors.New("a waiting Event must be Normal, got " + e.Type)
				}
				// The recorder folds repeats into one object's series.
				n++
				if e.Series != nil {
					n += e.Series.Count - 1
				}
			}
		}
		return n, err
	}
	eventually(t, "a Normal PolicyNotFound Event", func(ctx context.Context) (bool, error) {
		n, err := count(ctx)
		return n >= 1, err
	})
	time.Sleep(2 * time.Second)
	if n, err := count(ctx); err != nil || n != 1 {
		t.Errorf("%d PolicyNotFound Events (%v), want exactly 1", n, err)
	}
}

// Paging that cannot go on is reported even when people were named by hand.
func TestBlockedPagingIsReportedWithRespondersNamedByHand(t *testing.T) {
	ns := newNamespace(t)
	inc := createIncident(t, k8s, ns, "named", withPolicy("missing"), func(i *klaxonv1alpha1.Incident) {
		i.Spec.Commander = "alice"
	})
	waitFor(t, inc, "Escalated=False PolicyNotFound", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionEscalated) == "False/PolicyNotFound" &&
			condition(i, klaxonv1alpha1.ConditionRespondersAssigned) == "True/Assigned"
	})
	eventually(t, "the PolicyNotFound Event", func(ctx context.Context) (bool, error) {
		evs, err := incidentEvents(ctx, inc)
		for _, e := range evs {
			if e.Reason == klaxonv1alpha1.ReasonPolicyNotFound {
				return true, err
			}
		}
		return false, err
	})
}

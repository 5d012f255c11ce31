package controller_test

import (
	"context"
	"sync/atomic"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/controller"
)

// countingRecorder counts Events instead of recording them.
type countingRecorder struct{ n atomic.Int32 }

func (r *countingRecorder) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {
	r.n.Add(1)
}

// writeCounter wraps the real client and counts every write it makes.
func writeCounter(c client.WithWatch, writes *atomic.Int32) client.Client {
	count := func() { writes.Add(1) }
	return interceptor.NewClient(c, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			count()
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			count()
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			count()
			return c.Patch(ctx, obj, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			count()
			return c.Delete(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			count()
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			count()
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	})
}

func TestReconcileOfUnchangedIncidentWritesNothing(t *testing.T) {
	ns := newNamespace(t)
	inc := createIncident(t, k8s, ns, "settled")
	mustSetState(t, k8s, inc, A)
	settled := waitForPhase(t, inc, A, 1)

	// A second reconciler on the real API server, with every write counted.
	base, err := client.NewWithWatch(cluster.OperatorConfig, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int32
	events := &countingRecorder{}
	r := controller.NewIncidentReconciler(writeCounter(base, &writes), events, controller.WithClock(fakeClock))
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(inc)}
	for range 2 {
		if _, err := r.Reconcile(context.Background(), req); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("reconciling an unchanged incident made %d writes, want 0", n)
	}
	if n := events.n.Load(); n != 0 {
		t.Errorf("reconciling an unchanged incident recorded %d events, want 0", n)
	}
	after := inc.DeepCopy()
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != settled.ResourceVersion {
		t.Errorf("resourceVersion moved from %s to %s", settled.ResourceVersion, after.ResourceVersion)
	}
}

// A deleted incident that holds the silence finalizer runs only its
// deletion phases: with no silence to expire, one reconcile removes the
// finalizer and writes nothing else, neither the status the live phases
// would compute nor the generation the deletion bumped.
func TestDeletionReleasesTheFinalizerInOneWrite(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	// This test counts the writes of one reconcile; the shared operator
	// must not release the finalizer first.
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := startOperator(); err != nil {
			t.Fatal(err)
		}
	})
	inc := createIncident(t, k8s, ns, "deleted", func(i *klaxonv1alpha1.Incident) {
		i.Finalizers = []string{controller.SilenceFinalizer}
	})
	if err := k8s.Delete(ctx, inc); err != nil {
		t.Fatal(err)
	}

	base, err := client.NewWithWatch(cluster.OperatorConfig, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int32
	events := &countingRecorder{}
	r := controller.NewIncidentReconciler(writeCounter(base, &writes), events, controller.WithClock(fakeClock))
	res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(inc)})
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if !res.IsZero() {
		t.Errorf("result %+v, want none: nothing is left to wait for", res)
	}
	if n := writes.Load(); n != 1 {
		t.Errorf("reconciling a deleted incident made %d writes, want 1 (the finalizer)", n)
	}
	if n := events.n.Load(); n != 0 {
		t.Errorf("reconciling a deleted incident without a silence recorded %d events, want 0", n)
	}
	err = k8s.Get(ctx, client.ObjectKeyFromObject(inc), &klaxonv1alpha1.Incident{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("after the reconcile: %v, want the incident gone", err)
	}
}

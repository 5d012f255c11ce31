package controller_test

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/controller"
	"github.com/klaxon-dev/klaxon/internal/operator"
)

const retention = 24 * time.Hour

// closedIncident creates an incident, closes it, and waits until the shared
// operator stored closedAt, from which retention is measured.
func closedIncident(t *testing.T, ns, name string) *klaxonv1alpha1.Incident {
	t.Helper()
	inc := createIncident(t, k8s, ns, name)
	mustSetState(t, k8s, inc, klaxonv1alpha1.StateClosed)
	eventually(t, name+" closed", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), inc)
		return inc.Status.Phase == klaxonv1alpha1.StateClosed && inc.Status.ClosedAt != nil, err
	})
	return inc
}

// operatorClient is an uncached client with the operator's rights, so the
// tests also prove the shipped RBAC lets it delete incidents.
func operatorClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(cluster.OperatorConfig, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func reconcileRetention(t *testing.T, r *controller.RetentionReconciler, inc *klaxonv1alpha1.Incident) ctrl.Result {
	t.Helper()
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(inc)})
	if err != nil {
		t.Fatalf("reconciling the retention of %s: %v", inc.Name, err)
	}
	return res
}

func exists(t *testing.T, inc *klaxonv1alpha1.Incident) bool {
	t.Helper()
	err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), &klaxonv1alpha1.Incident{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// A closed incident is kept until closedAt plus the retention, with a
// requeue for exactly the time left, and deleted at that moment; an open
// incident is never deleted.
func TestRetentionDeletesClosedIncidentsAtTheDeadline(t *testing.T) {
	ns := newNamespace(t)
	closed := closedIncident(t, ns, "closed")
	open := createIncident(t, k8s, ns, "open")
	r := controller.NewRetentionReconciler(operatorClient(t), retention, controller.WithClock(fakeClock))
	deadline := closed.Status.ClosedAt.Add(retention)

	if res, want := reconcileRetention(t, r, closed), deadline.Sub(fakeClock.Now()); res.RequeueAfter != want {
		t.Errorf("just closed: RequeueAfter = %v, want %v", res.RequeueAfter, want)
	}
	fakeClock.SetTime(deadline.Add(-time.Second))
	if res := reconcileRetention(t, r, closed); res.RequeueAfter != time.Second {
		t.Errorf("a second before the deadline: RequeueAfter = %v, want 1s", res.RequeueAfter)
	}
	if !exists(t, closed) {
		t.Fatal("deleted before its deadline")
	}

	fakeClock.SetTime(deadline)
	if res := reconcileRetention(t, r, closed); res != (ctrl.Result{}) {
		t.Errorf("at the deadline: result %+v, want none", res)
	}
	if exists(t, closed) {
		t.Error("still there at its deadline")
	}
	// Reconciling what is gone is not an error.
	if res := reconcileRetention(t, r, closed); res != (ctrl.Result{}) {
		t.Errorf("after deletion: result %+v, want none", res)
	}

	// Open for longer than the retention, and still kept, with no requeue:
	// closing it is what wakes the reconciler.
	fakeClock.Step(retention)
	if res := reconcileRetention(t, r, open); res != (ctrl.Result{}) {
		t.Errorf("open incident: result %+v, want none", res)
	}
	if !exists(t, open) {
		t.Error("an open incident was deleted")
	}
}

// The delete names the version that was judged: an incident that changed
// after it was read is not deleted on the strength of the old read.
func TestRetentionDoesNotDeleteAChangedIncident(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	inc := closedIncident(t, ns, "changed")
	fakeClock.SetTime(inc.Status.ClosedAt.Add(retention))

	// Someone edits the incident between the reconciler's read and its
	// delete.
	base, err := client.NewWithWatch(cluster.OperatorConfig, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	changing := interceptor.NewClient(base, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"example.com/touched":"yes"}}}`))
			return k8s.Patch(ctx, obj.DeepCopyObject().(client.Object), patch)
		},
	})
	if res := reconcileRetention(t, controller.NewRetentionReconciler(changing, retention, controller.WithClock(fakeClock)), inc); res != (ctrl.Result{}) {
		t.Errorf("after a conflict: result %+v, want none (the watch brings the change)", res)
	}
	if !exists(t, inc) {
		t.Fatal("deleted although it changed after it was read")
	}

	// Judged afresh, it is deleted.
	reconcileRetention(t, controller.NewRetentionReconciler(operatorClient(t), retention, controller.WithClock(fakeClock)), inc)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), inc); !apierrors.IsNotFound(err) {
		t.Errorf("reading the incident after a fresh reconcile: %v, want NotFound", err)
	}
}

// addCounter counts the runnables, controllers among them, that are added to
// a manager.
type addCounter struct {
	manager.Manager
	added int
}

func (m *addCounter) Add(r manager.Runnable) error {
	m.added++
	return m.Manager.Add(r)
}

// registered counts what controller.SetupWithManager adds to a new manager,
// which is never started.
func registered(t *testing.T, opts ...controller.Option) int {
	t.Helper()
	mgr, err := ctrl.NewManager(cluster.OperatorConfig, ctrl.Options{
		Scheme:                 operator.Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	counter := &addCounter{Manager: mgr}
	if err := controller.SetupWithManager(counter, opts...); err != nil {
		t.Fatal(err)
	}
	return counter.added
}

// Retention 0 (the default) registers nothing; any other retention adds
// exactly one controller.
func TestRetentionZeroRegistersNothing(t *testing.T) {
	base := registered(t)
	if off := registered(t, controller.WithClosedIncidentRetention(0)); off != base {
		t.Errorf("retention 0 added %d runnables, want %d as without the option", off, base)
	}
	if on := registered(t, controller.WithClosedIncidentRetention(retention)); on != base+1 {
		t.Errorf("retention %v added %d runnables, want %d: the retention controller on top", retention, on, base+1)
	}
}

// A negative retention is refused rather than read as off.
func TestRetentionNegativeIsRefused(t *testing.T) {
	if _, err := operator.New(cluster.OperatorConfig, operator.Options{
		MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: "0", Restartable: true, ClosedIncidentRetention: -time.Hour,
	}); err == nil {
		t.Error("operator.New accepted a negative retention")
	}
}

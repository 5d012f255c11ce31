package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/klaxon-dev/klaxon/internal/conditions"
	"github.com/klaxon-dev/klaxon/internal/egress"
)

// object is what a Klaxon reconciler reconciles: one of Klaxon's kinds.
type object interface {
	client.Object
	conditions.Object
	GetStatus() any
	SetObservedGeneration(generation int64)
}

// scope is what the phases of one reconcile share.
type scope[T object] struct {
	obj T
	now time.Time
	// events are recorded once the status that records what they announce
	// is stored, so a failed write never announces a page twice.
	events []pendingEvent
	// problem is what keeps a phase from doing its work, for the phases
	// after it to report (see problem).
	problem *problem
	// stored run once the status is stored, like events: for what must
	// happen exactly once per stored change, such as counting a page.
	stored []func()
}

// afterStore runs f once the status this reconcile computed is stored.
func (s *scope[T]) afterStore(f func()) {
	s.stored = append(s.stored, f)
}

type pendingEvent struct{ eventType, reason, action, note string }

func (s *scope[T]) record(eventType, reason, action, note string) {
	s.events = append(s.events, pendingEvent{eventType, reason, action, note})
}

// phase is one ordered step of a reconcile: it changes the object's status
// in memory, records the Events that announce it, and says when to look
// again.
type phase[T object] func(context.Context, *scope[T]) (ctrl.Result, error)

// kindPhases are the phases that reconcile one kind: those of a live
// object and, for a kind that holds a finalizer, those of its deletion.
type kindPhases[T object] struct {
	live []phase[T]
	// finalizer is what the object holds until the deletion phases are done.
	finalizer string
	deletion  []phase[T]
}

// phases are the phases of a live object, in order.
func phases[T object](live ...phase[T]) kindPhases[T] {
	return kindPhases[T]{live: live}
}

// onDelete adds the phases that run instead of the live ones once the
// object is being deleted while it holds finalizer, as Cluster API's
// reconcileDelete: they release what the finalizer guards, and when every
// one is done (none failed or asked to be run again) the finalizer is
// removed and the API server lets the object go.
func (k kindPhases[T]) onDelete(finalizer string, deletion ...phase[T]) kindPhases[T] {
	k.finalizer, k.deletion = finalizer, deletion
	return k
}

// reconciler holds what every Klaxon reconciler needs.
type reconciler struct {
	client   client.Client
	recorder events.EventRecorder
	clock    clock.PassiveClock
	// egress decides where channels and Alertmanager calls connect.
	egress *egress.Policy
	// relay, set for incidents only, reads what the receiver has just
	// written from the API server while the cache may miss it.
	relay *Relay
	// live reads from the API server, for relay.
	live client.Reader
	// overwritten remembers, by object UID, the resourceVersion each status
	// write of this reconciler replaced, until the cache has the write:
	// the reconcile its watch event brings forgets it. Only for a kind
	// whose every change is reconciled (no predicate drops a status
	// write's event), since a reconcile behind its own write does nothing
	// and leaves the next look to that event: the incidents.
	overwritten *sync.Map
}

func newReconciler(c client.Client, recorder events.EventRecorder, opts []Option) reconciler {
	o := buildOptions(opts)
	return reconciler{client: c, recorder: recorder, clock: o.clock, egress: o.egress}
}

// behindOwnWrite reports whether obj is the version this reconciler's last
// status write replaced: the cache has not yet seen that write, and its
// watch event brings the object back. Reconciling the old version would
// only conflict (a wasted write, and in a storm many) or, without the
// lock, undo the write.
func (r *reconciler) behindOwnWrite(obj client.Object) bool {
	if r.overwritten == nil {
		return false
	}
	rv, ok := r.overwritten.Load(obj.GetUID())
	if ok && rv == obj.GetResourceVersion() {
		return true
	}
	if ok {
		r.overwritten.Delete(obj.GetUID())
	}
	return false
}

// runPhases is the shape of every Klaxon reconcile: get the object, run the
// phases in order, and in a deferred block patch status once, only when it
// changed, even when a phase failed (so a persistent failure shows as a
// condition), then record the Events the stored status announces.
// observedGeneration moves only when every phase succeeded. The result is
// the earliest requeue any phase asked for.
//
// An object being deleted while it holds the kind's finalizer runs the
// deletion phases instead, and loses the finalizer once they are done. One
// being deleted without it (another finalizer keeps it) has nothing of
// Klaxon's to release and is reconciled as a live one until it goes.
func runPhases[T object](ctx context.Context, r *reconciler, req ctrl.Request, obj T, k kindPhases[T]) (result ctrl.Result, reterr error) {
	if err := r.relay.get(ctx, r.client, r.live, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if r.behindOwnWrite(obj) {
		return ctrl.Result{}, nil
	}
	original := obj.DeepCopyObject().(T)
	s := &scope[T]{obj: obj, now: r.clock.Now()}
	deleting := k.finalizer != "" && obj.GetDeletionTimestamp() != nil && controllerutil.ContainsFinalizer(obj, k.finalizer)
	run := k.live
	if deleting {
		run = k.deletion
	}

	defer func() {
		// Deletion bumps the generation; recording that would cost a
		// status write on an object about to go.
		if reterr == nil && !deleting {
			obj.SetObservedGeneration(obj.GetGeneration())
		}
		written, err := patchStatusIfChanged(ctx, r.client, original, obj)
		if written && r.overwritten != nil {
			r.overwritten.Store(obj.GetUID(), original.GetResourceVersion())
		}
		if err != nil {
			r.relay.APIFailed(err)
			if apierrors.IsConflict(err) && reterr == nil {
				// Another writer changed the object since it was read, and
				// nothing was announced: the watch brings the new version,
				// or, while it is behind, the API server.
				r.relay.behind(req.NamespacedName)
				result = ctrl.Result{RequeueAfter: time.Second}
				return
			}
			reterr = kerrors.NewAggregate([]error{reterr, err})
			return
		}
		for _, e := range s.events {
			recordEvent(r.recorder, obj, e.eventType, e.reason, e.action, e.note)
		}
		for _, f := range s.stored {
			f()
		}
		if deleting && reterr == nil && result.RequeueAfter == 0 {
			// The status is stored first: the object may be gone the
			// moment its last finalizer is.
			if err := setFinalizer(ctx, r.client, obj, k.finalizer, false); err != nil && !apierrors.IsNotFound(err) {
				reterr = err
			}
		}
	}()

	for _, p := range run {
		res, err := p(ctx, s)
		if err != nil {
			return ctrl.Result{}, err
		}
		result = lowestRequeue(result, res)
	}
	return result, nil
}

// patchStatusIfChanged patches obj's status subresource when it differs
// from original's, with optimistic locking: status is computed from the
// version read, so a newer version must be reconciled afresh.
func patchStatusIfChanged(ctx context.Context, c client.Client, original, obj object) (written bool, err error) {
	if equality.Semantic.DeepEqual(original.GetStatus(), obj.GetStatus()) {
		return false, nil
	}
	patch := client.MergeFromWithOptions(original, client.MergeFromWithOptimisticLock{})
	if err := c.Status().Patch(ctx, obj, patch); err != nil {
		return false, fmt.Errorf("patching status of %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	return true, nil
}

// lowestRequeue merges two results, keeping the earliest non-zero requeue.
func lowestRequeue(a, b ctrl.Result) ctrl.Result {
	switch {
	case a.RequeueAfter == 0:
		return b
	case b.RequeueAfter == 0 || a.RequeueAfter < b.RequeueAfter:
		return a
	default:
		return b
	}
}

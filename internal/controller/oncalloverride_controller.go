package controller

import (
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// OnCallOverrideReconciler keeps each override's Ready condition: whether
// its schedule exists and can use it, and whether it has ended. Who is on
// call is the schedule reconciler's to say.
type OnCallOverrideReconciler struct {
	reconciler
}

// NewOnCallOverrideReconciler returns an OnCallOverrideReconciler.
func NewOnCallOverrideReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *OnCallOverrideReconciler {
	return &OnCallOverrideReconciler{newReconciler(c, recorder, opts)}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=oncalloverrides,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=oncalloverrides/status,verbs=patch

// Reconcile sets Ready and requeues when the override starts or ends.
func (r *OnCallOverrideReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.OnCallOverride{}, phases(r.reconcileReady))
}

// reconcileReady sets Ready: False while the schedule is missing or
// invalid, for a replace of someone the schedule never names, and once the
// override has ended; True otherwise, saying whether it applies now.
func (r *OnCallOverrideReconciler) reconcileReady(ctx context.Context, s *scope[*klaxonv1alpha1.OnCallOverride]) (ctrl.Result, error) {
	spec := &s.obj.Spec
	const action = "Validate"
	name := spec.ScheduleRef.Name
	sched := &klaxonv1alpha1.OnCallSchedule{}
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: s.obj.Namespace, Name: name}, sched); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading OnCallSchedule %s: %w", name, err)
		}
		// The watch on schedules wakes the override when it appears.
		return report(ctx, s, klaxonv1alpha1.ConditionReady, waitingFor(klaxonv1alpha1.ReasonScheduleNotFound,
			fmt.Sprintf("OnCallSchedule %s not found in namespace %s; the override applies once it exists", name, s.obj.Namespace), 0),
			"", "", action), nil
	}
	compiled, err := oncall.Compile(&sched.Spec)
	if err != nil {
		// The schedule's own Ready tells the whole of what is wrong; the
		// watch on schedules wakes the override once it is fixed.
		return report(ctx, s, klaxonv1alpha1.ConditionReady, waitingFor(klaxonv1alpha1.ReasonScheduleNotReady,
			fmt.Sprintf("OnCallSchedule %s is not valid (%s); the override applies once it is fixed", name, bounded.Runes(err.Error(), 256)), 0),
			"", "", action), nil
	}
	overrides, err := overridesOf(ctx, r.client, s.obj.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	if slices.Contains(oncall.LeftOut(name, overrides), s.obj.Name) {
		return report(ctx, s, klaxonv1alpha1.ConditionReady, stalledBy(klaxonv1alpha1.ReasonTooManyOverrides,
			fmt.Sprintf("OnCallSchedule %s has more than %d OnCallOverrides and this one ends before those it takes: delete ended or unneeded ones",
				name, oncall.MaxOverrides)), "", "", action), nil
	}
	// Someone another override adds, or brings in by replace, can be
	// replaced in turn: At applies the overrides in order.
	if rep := spec.Replace; rep != nil && !slices.Contains(compiled.WithOverrides(name, overrides).People(), rep.User) {
		return report(ctx, s, klaxonv1alpha1.ConditionReady, stalledBy(klaxonv1alpha1.ReasonUnknownUser,
			fmt.Sprintf("replace.user %s is nobody OnCallSchedule %s or its overrides can put on call, so the override would never apply: name someone of its layers",
				bounded.Runes(rep.User, 64), name)), "", "", action), nil
	}
	start, end := spec.Start.Time, spec.End.Time
	switch {
	case !s.now.Before(end):
		msg := fmt.Sprintf("The override ended at %s; it no longer changes who is on call", end.UTC().Format(time.RFC3339))
		if !s.obj.CreationTimestamp.Time.Before(end) {
			// Written for a time already past: a mistake worth a Warning.
			return report(ctx, s, klaxonv1alpha1.ConditionReady, stalledBy(klaxonv1alpha1.ReasonEnded,
				msg+": its interval was over when it was created; give a start and end to come"), "", "", action), nil
		}
		// An override running its course is no fault; nothing wakes it again.
		return report(ctx, s, klaxonv1alpha1.ConditionReady, waitingFor(klaxonv1alpha1.ReasonEnded, msg, 0), "", "", action), nil
	case s.now.Before(start):
		report(ctx, s, klaxonv1alpha1.ConditionReady, nil, klaxonv1alpha1.ReasonScheduled,
			fmt.Sprintf("The override applies to OnCallSchedule %s from %s", name, start.UTC().Format(time.RFC3339)), action)
		return ctrl.Result{RequeueAfter: start.Sub(s.now)}, nil
	default:
		report(ctx, s, klaxonv1alpha1.ConditionReady, nil, klaxonv1alpha1.ReasonInForce,
			fmt.Sprintf("The override applies to OnCallSchedule %s until %s", name, end.UTC().Format(time.RFC3339)), action)
		return ctrl.Result{RequeueAfter: end.Sub(s.now)}, nil
	}
}

// SetupWithManager registers the reconciler; a schedule that appears,
// changes its spec or goes wakes the overrides that name it.
func (r *OnCallOverrideReconciler) SetupWithManager(mgr ctrl.Manager) error {
	c := mgr.GetClient()
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.OnCallOverride{}).
		// An override reads its schedule's spec, never its status: the
		// schedule's status writes, one per override change in a flood of
		// them, would wake every override of it each time.
		Watches(&klaxonv1alpha1.OnCallSchedule{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
			return overridesNaming(ctx, c, obj.GetNamespace(), obj.GetName())
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// Only a new, changed or deleted override moves the others' room;
		// their status writes do not.
		Watches(&klaxonv1alpha1.OnCallOverride{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
			return overridesCrowded(ctx, c, obj)
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("oncalloverride").
		Complete(r)
}

// overridesNaming lists the overrides of a namespace that name a schedule.
func overridesNaming(ctx context.Context, c client.Client, namespace, schedule string) []reconcile.Request {
	overrides, err := overridesOf(ctx, c, namespace)
	if err != nil {
		log.FromContext(ctx).Error(err, "Listing the overrides of a schedule", "onCallSchedule", klog.KRef(namespace, schedule))
		return nil
	}
	var reqs []reconcile.Request
	for i := range overrides {
		if o := &overrides[i]; o.Spec.ScheduleRef.Name == schedule {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: namespace, Name: o.Name}})
		}
	}
	return reqs
}

// overridesCrowded wakes, when an override of a schedule comes, changes or
// goes, the overrides of that schedule whose room may have changed with
// it: those the schedule leaves out now, and those Ready=False
// TooManyOverrides, which may have room again. Others are not woken, so
// that creating many overrides stays linear.
func overridesCrowded(ctx context.Context, c client.Client, obj client.Object) []reconcile.Request {
	o, ok := obj.(*klaxonv1alpha1.OnCallOverride)
	if !ok {
		return nil
	}
	overrides, err := overridesOf(ctx, c, o.Namespace)
	if err != nil {
		log.FromContext(ctx).Error(err, "Listing the overrides of a schedule", "onCallSchedule", klog.KRef(o.Namespace, o.Spec.ScheduleRef.Name))
		return nil
	}
	leftOut := map[string]bool{}
	for _, name := range oncall.LeftOut(o.Spec.ScheduleRef.Name, overrides) {
		leftOut[name] = true
	}
	var reqs []reconcile.Request
	for i := range overrides {
		other := &overrides[i]
		if other.Name == o.Name || other.Spec.ScheduleRef.Name != o.Spec.ScheduleRef.Name {
			continue
		}
		ready := meta.FindStatusCondition(other.Status.Conditions, klaxonv1alpha1.ConditionReady)
		if leftOut[other.Name] || (ready != nil && ready.Reason == klaxonv1alpha1.ReasonTooManyOverrides) {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.Namespace, Name: other.Name}})
		}
	}
	return reqs
}

// DefaultOverrideRetention is how long an OnCallOverride is kept after its
// end unless the operator is told otherwise (--override-retention): long
// enough to look back on last month's covers.
const DefaultOverrideRetention = 30 * 24 * time.Hour

// WithOverrideRetention deletes OnCallOverrides retention after their end;
// 0 (the default of a reconciler built without it) keeps them.
func WithOverrideRetention(retention time.Duration) Option {
	return func(o *options) { o.overrideRetention = retention }
}

// OverrideRetentionReconciler deletes OnCallOverrides that ended longer
// ago than the retention, so that covers do not pile up for ever. Like
// RetentionReconciler it never writes status and records no Event: its
// only act ends the object, and the deletion is logged.
type OverrideRetentionReconciler struct {
	reconciler
	retention time.Duration
}

// NewOverrideRetentionReconciler returns an OverrideRetentionReconciler
// that deletes overrides retention after their end.
func NewOverrideRetentionReconciler(c client.Client, retention time.Duration, opts ...Option) *OverrideRetentionReconciler {
	return &OverrideRetentionReconciler{reconciler: newReconciler(c, nil, opts), retention: retention}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=oncalloverrides,verbs=get;list;watch;delete

// Reconcile deletes the override once it ended retention ago, and
// otherwise asks to look again at that moment.
func (r *OverrideRetentionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	o := &klaxonv1alpha1.OnCallOverride{}
	if err := r.client.Get(ctx, req.NamespacedName, o); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !o.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	deadline := o.Spec.End.Add(r.retention)
	if wait := deadline.Sub(r.clock.Now()); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	// The preconditions delete exactly the version judged here: one whose
	// end was moved since is judged afresh when the watch brings it.
	uid, resourceVersion := o.UID, o.ResourceVersion
	err := r.client.Delete(ctx, o, client.Preconditions{UID: &uid, ResourceVersion: &resourceVersion})
	switch {
	case apierrors.IsNotFound(err):
		return ctrl.Result{}, nil
	case apierrors.IsConflict(err):
		log.FromContext(ctx).V(1).Info("Ended override changed since it was read; judging it again", "onCallOverride", klog.KObj(o))
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("deleting on-call override %s/%s past its retention: %w", o.Namespace, o.Name, err)
	}
	log.FromContext(ctx).Info("Deleted an ended on-call override past its retention", "onCallOverride", klog.KObj(o),
		"end", o.Spec.End.UTC().Format(time.RFC3339), "retention", r.retention.String())
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler. It runs on the leader only,
// like every reconciler.
func (r *OverrideRetentionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.OnCallOverride{}).
		Named("oncalloverride-retention").
		Complete(r)
}

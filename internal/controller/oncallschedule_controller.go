package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// OnCallScheduleReconciler keeps each schedule's status.onCall current: it
// computes who is on call now and requeues at the next handoff, or where its
// look-ahead stopped when it found none.
type OnCallScheduleReconciler struct {
	client   client.Client
	recorder events.EventRecorder
	clock    clock.PassiveClock
}

// NewOnCallScheduleReconciler returns an OnCallScheduleReconciler.
func NewOnCallScheduleReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *OnCallScheduleReconciler {
	o := buildOptions(opts)
	return &OnCallScheduleReconciler{client: c, recorder: recorder, clock: o.clock}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=oncallschedules,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=oncallschedules/status,verbs=get;update;patch

// Reconcile computes who is on call now and when that changes next.
func (r *OnCallScheduleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sched := &klaxonv1alpha1.OnCallSchedule{}
	if err := r.client.Get(ctx, req.NamespacedName, sched); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	original := sched.DeepCopy()
	now := r.clock.Now()
	st := &sched.Status
	st.ObservedGeneration = sched.Generation

	var (
		rd      readiness
		result  ctrl.Result
		handoff bool
	)
	compiled, err := oncall.Compile(&sched.Spec)
	if err != nil {
		// An invalid spec stays invalid until someone edits it: report it
		// and wait for the edit, with no retry loop.
		reason := klaxonv1alpha1.ReasonInvalidSchedule
		if errors.Is(err, oncall.ErrUnknownTimeZone) {
			reason = klaxonv1alpha1.ReasonInvalidTimeZone
		}
		st.OnCall, st.NextHandoffAt = nil, nil
		rd = readiness{reason: reason, message: err.Error(), stalled: true}
	} else {
		onCall := compiled.At(now)
		handoff = !slices.Equal(st.OnCall, onCall)
		st.OnCall, st.NextHandoffAt = onCall, nil
		next, until := compiled.NextHandoff(now)
		if !next.IsZero() {
			st.NextHandoffAt = &metav1.Time{Time: ceilSecond(next)}
		}
		// until is the handoff when there is one. Otherwise it is where the
		// look-ahead stopped, at its horizon or short of it on a dense
		// schedule: come back then to look further, or a schedule whose
		// handoff lies beyond would never be woken for it.
		result.RequeueAfter = min(ceilSecond(until).Sub(now), oncall.Horizon)
		rd = readiness{ready: true, reason: klaxonv1alpha1.ReasonValid, message: onCallMessage(onCall)}
	}
	wrote, err := reportReadiness(ctx, r.client, r.recorder, now, original, sched, &st.Conditions, &original.Status, &sched.Status, rd)
	if err != nil {
		return requeueOnConflict(err)
	}
	if wrote && handoff {
		log.FromContext(ctx).Info("On-call changed", "onCall", st.OnCall)
		recordEvent(r.recorder, sched, corev1.EventTypeNormal, "Handoff", "Handoff", onCallMessage(st.OnCall))
	}
	return result, nil
}

func onCallMessage(onCall []string) string {
	if len(onCall) == 0 {
		return "Nobody is on call"
	}
	return fmt.Sprintf("On call: %s", strings.Join(onCall, ", "))
}

// SetupWithManager registers the reconciler.
func (r *OnCallScheduleReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.OnCallSchedule{}).
		Named("oncallschedule").
		Complete(r)
}

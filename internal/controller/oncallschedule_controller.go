package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
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
// computes who is on call now and requeues at the next handoff.
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

	compiled, err := oncall.Compile(&sched.Spec)
	if err != nil {
		// An invalid spec stays invalid until someone edits it: report it
		// and wait for the edit, with no retry loop.
		reason := klaxonv1alpha1.ReasonInvalidSchedule
		if errors.Is(err, oncall.ErrUnknownTimeZone) {
			reason = klaxonv1alpha1.ReasonInvalidTimeZone
		}
		wasReady := !meta.IsStatusConditionFalse(st.Conditions, klaxonv1alpha1.ConditionReady)
		st.OnCall, st.NextHandoffAt = nil, nil
		setReady(&st.Conditions, sched.Generation, false, reason, err.Error(), now)
		if _, perr := patchStatusIfChanged(ctx, r.client, original, sched, original.Status, sched.Status); perr != nil {
			return ctrl.Result{}, perr
		}
		if wasReady {
			r.recorder.Eventf(sched, nil, "Warning", reason, "Validate", err.Error())
		}
		return ctrl.Result{}, nil
	}

	onCall := compiled.At(now)
	changed := !slices.Equal(st.OnCall, onCall)
	st.OnCall = onCall
	var result ctrl.Result
	st.NextHandoffAt = nil
	if handoff := compiled.NextHandoff(now); !handoff.IsZero() {
		next := ceilSecond(handoff)
		st.NextHandoffAt = &metav1.Time{Time: next}
		result.RequeueAfter = next.Sub(now)
	}
	setReady(&st.Conditions, sched.Generation, true, klaxonv1alpha1.ReasonValid, onCallMessage(onCall), now)
	if _, err := patchStatusIfChanged(ctx, r.client, original, sched, original.Status, sched.Status); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, err
	}
	if changed {
		log.FromContext(ctx).Info("On-call changed", "onCall", onCall)
		r.recorder.Eventf(sched, nil, "Normal", "Handoff", "Handoff", onCallMessage(onCall))
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

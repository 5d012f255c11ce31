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
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/apitime"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// OnCallScheduleReconciler keeps each schedule's status.onCall current: it
// computes who is on call now and requeues at the next handoff.
type OnCallScheduleReconciler struct {
	reconciler
}

// NewOnCallScheduleReconciler returns an OnCallScheduleReconciler.
func NewOnCallScheduleReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *OnCallScheduleReconciler {
	return &OnCallScheduleReconciler{newReconciler(c, recorder, opts)}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=oncallschedules,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=oncallschedules/status,verbs=patch

// Reconcile computes who is on call now and when that changes next.
func (r *OnCallScheduleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.OnCallSchedule{}, phases(r.reconcileOnCall))
}

// reconcileOnCall sets status.onCall, nextHandoffAt and Ready.
func (r *OnCallScheduleReconciler) reconcileOnCall(ctx context.Context, s *scope[*klaxonv1alpha1.OnCallSchedule]) (ctrl.Result, error) {
	st := &s.obj.Status
	compiled, err := oncall.Compile(&s.obj.Spec)
	if err != nil {
		// An invalid spec stays invalid until someone edits it.
		reason := klaxonv1alpha1.ReasonInvalidSchedule
		if errors.Is(err, oncall.ErrUnknownTimeZone) {
			reason = klaxonv1alpha1.ReasonInvalidTimeZone
		}
		st.OnCall, st.NextHandoffAt = nil, nil
		return report(ctx, s, klaxonv1alpha1.ConditionReady, stalledBy(reason, err.Error()), "", "", "Validate"), nil
	}
	onCall := compiled.At(s.now)
	if !slices.Equal(st.OnCall, onCall) {
		log.FromContext(ctx).Info("On-call changed", "onCall", onCall)
		s.record(corev1.EventTypeNormal, "Handoff", "Handoff", onCallMessage(onCall))
	}
	st.OnCall, st.NextHandoffAt = onCall, nil
	next, until := compiled.NextHandoff(s.now)
	if !next.IsZero() {
		st.NextHandoffAt = &metav1.Time{Time: apitime.CeilSecond(next)}
	}
	report(ctx, s, klaxonv1alpha1.ConditionReady, nil, klaxonv1alpha1.ReasonValid, onCallMessage(onCall), "Validate")
	// until is the handoff when there is one. Otherwise it is where the
	// look-ahead stopped, at its horizon or short of it on a dense schedule:
	// come back then to look further, or a schedule whose handoff lies
	// beyond would never be woken for it.
	return ctrl.Result{RequeueAfter: min(apitime.CeilSecond(until).Sub(s.now), oncall.Horizon)}, nil
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

package controller

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/conditions"
	"github.com/klaxon-dev/klaxon/internal/maintenance"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// MaintenanceWindowReconciler keeps each window's Active condition and next
// start and end current, requeueing at the next boundary. Whether a window
// holds an incident's paging is decided by the incident reconciler from the
// window's spec, not from this status; the status write at each boundary
// only wakes the incidents the window matches. It also keeps the
// Alertmanager silence that mirrors the window, when asked
// (maintenancewindow_silence.go). It never writes a window's spec, which
// people or GitOps own.
type MaintenanceWindowReconciler struct {
	reconciler
	// silencer calls the Alertmanagers of AlertRoutes.
	silencer *silencer
}

// NewMaintenanceWindowReconciler returns a MaintenanceWindowReconciler.
func NewMaintenanceWindowReconciler(c client.Client, recorder events.EventRecorder, opts ...Option) *MaintenanceWindowReconciler {
	return &MaintenanceWindowReconciler{reconciler: newReconciler(c, recorder, opts),
		silencer: &silencer{secrets: &channelLoader{secretReader: c}}}
}

// +kubebuilder:rbac:groups=klaxon.dev,resources=maintenancewindows,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=maintenancewindows/status,verbs=patch

// Reconcile checks the window, works out where it stands now and mirrors
// it in Alertmanager.
func (r *MaintenanceWindowReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return runPhases(ctx, &r.reconciler, req, &klaxonv1alpha1.MaintenanceWindow{},
		phases(r.reconcileWindow, r.reconcileSilence).onDelete(SilenceFinalizer, r.reconcileDeleteSilence))
}

// reconcileWindow sets Ready, Active, nextStart and nextEnd. A spec the
// API server could not check fully (an unknown time zone, a selector that
// does not parse) is stalled until it changes, and the window is inactive.
func (r *MaintenanceWindowReconciler) reconcileWindow(ctx context.Context, s *scope[*klaxonv1alpha1.MaintenanceWindow]) (ctrl.Result, error) {
	mw := s.obj
	w, err := maintenance.Compile(mw)
	if err != nil {
		reason := klaxonv1alpha1.ReasonInvalidSchedule
		switch {
		case errors.Is(err, oncall.ErrUnknownTimeZone):
			reason = klaxonv1alpha1.ReasonInvalidTimeZone
		case errors.Is(err, maintenance.ErrInvalidSelector):
			reason = klaxonv1alpha1.ReasonInvalidSelector
		}
		msg := bounded.Runes(err.Error()+"; the window holds no incident until it is fixed", bounded.ConditionMessage)
		result := report(ctx, s, klaxonv1alpha1.ConditionReady, stalledBy(reason, msg), "", "", "Validate")
		r.setActive(s, false, "The window is not valid")
		mw.Status.NextStart, mw.Status.NextEnd = nil, nil
		return result, nil
	}
	report(ctx, s, klaxonv1alpha1.ConditionReady, nil, klaxonv1alpha1.ReasonValid, "The window is valid", "Validate")

	st := w.At(s.now)
	if st.Active {
		msg := "In maintenance (" + string(w.Mode) + ")"
		if !st.NextEnd.IsZero() {
			msg += " until " + st.NextEnd.UTC().Format(time.RFC3339)
		}
		r.setActive(s, true, msg)
	} else {
		msg := "Not in maintenance"
		if !st.NextStart.IsZero() {
			msg += "; next from " + st.NextStart.UTC().Format(time.RFC3339)
		}
		r.setActive(s, false, msg)
	}
	mw.Status.NextStart, mw.Status.NextEnd = timeOrNil(st.NextStart), timeOrNil(st.NextEnd)

	var result ctrl.Result
	if next := st.Recheck(); !next.IsZero() {
		result.RequeueAfter = max(next.Sub(s.now), time.Millisecond)
	}
	return result, nil
}

// setActive sets Active, with an Event when the window starts or ends (not
// when a new window is first seen outside its time).
func (r *MaintenanceWindowReconciler) setActive(s *scope[*klaxonv1alpha1.MaintenanceWindow], active bool, msg string) {
	before := conditions.Find(s.obj, klaxonv1alpha1.ConditionActive)
	reason := klaxonv1alpha1.ReasonOutsideWindow
	if active {
		reason = klaxonv1alpha1.ReasonInWindow
	}
	conditions.Set(s.obj, klaxonv1alpha1.ConditionActive, active, reason, msg, s.now)
	if (before == nil && active) || (before != nil && before.Reason != reason) {
		s.record(corev1.EventTypeNormal, reason, "Maintain", msg)
	}
}

// timeOrNil is t for status, or nil for the zero time.
func timeOrNil(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	return &metav1.Time{Time: t}
}

// SetupWithManager registers the reconciler.
func (r *MaintenanceWindowReconciler) SetupWithManager(mgr ctrl.Manager) error {
	// Alertmanager auth Secrets are read uncached, like channel credentials.
	r.silencer = &silencer{secrets: &channelLoader{secretReader: mgr.GetAPIReader()}, egress: r.egress}
	return ctrl.NewControllerManagedBy(mgr).
		For(&klaxonv1alpha1.MaintenanceWindow{}).
		Named("maintenancewindow").
		Complete(r)
}

package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/maintenance"
	"github.com/klaxon-dev/klaxon/internal/silence"
)

// +kubebuilder:rbac:groups=klaxon.dev,resources=maintenancewindows,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=klaxon.dev,resources=alertroutes,verbs=get;list;watch

// reconcileSilence keeps the Alertmanager silence that mirrors the window
// (spec.alertmanagerSilence): one silence for the occurrence that applies
// now, or else the next one, created ahead so that Alertmanager shows it
// as pending. When an occurrence ends its silence lapses by itself and the
// reconcile at that boundary creates the next one. The silence is
// rewritten when the spec changes, and expired when the field is removed,
// the window becomes invalid or it is deleted (reconcileDeleteSilence). A
// silence expired by hand in Alertmanager is not made again for the same
// occurrence.
func (r *MaintenanceWindowReconciler) reconcileSilence(ctx context.Context, s *scope[*klaxonv1alpha1.MaintenanceWindow]) (ctrl.Result, error) {
	mw := s.obj
	if r.silencer == nil || mw.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	spec, cur := mw.Spec.AlertmanagerSilence, mw.Status.Silence
	var start, end time.Time
	ok := false
	if spec != nil {
		if w, err := maintenance.Compile(mw); err == nil {
			start, end, ok = w.Occurrence(s.now)
		}
	}
	if !ok {
		// Nothing to mirror: no mirror asked for, an invalid window, or no
		// occurrence ahead.
		if cur == nil {
			return ctrl.Result{}, nil
		}
		return r.dropSilence(ctx, s)
	}
	matchers, err := silence.ForSilence("spec.alertmanagerSilence.matchers", spec.Matchers)
	if err != nil {
		// Only a new spec helps; it wakes the window.
		r.windowSilenceFailed(s, err.Error())
		return ctrl.Result{}, nil
	}
	start, end = start.Truncate(time.Second), end.Truncate(time.Second)
	route := spec.AlertRouteRef.Name
	if cur != nil && cur.ID != "" && cur.Error == "" && cur.Generation == mw.Generation && cur.AlertRoute == route && mirrors(cur, start, end, s.now) {
		return ctrl.Result{}, nil
	}
	if cur != nil && cur.ID != "" && cur.AlertRoute != route && live(cur, s.now) {
		// The silence moves to another Alertmanager: the old one goes first.
		if res, done := r.expireWindowSilence(ctx, s); !done {
			return res, nil
		}
		cur = nil
	}

	api, p, err := r.silencer.forRoute(ctx, r.client, mw.Namespace, route)
	if err != nil {
		return ctrl.Result{}, err
	}
	if p != nil {
		r.windowSilenceFailed(s, "spec.alertmanagerSilence: "+p.message)
		return ctrl.Result{RequeueAfter: silenceRetry}, nil
	}
	// The finalizer comes first, so no silence outlives its window.
	if err = setFinalizer(ctx, r.client, mw, SilenceFinalizer, true); err != nil {
		return ctrl.Result{}, err
	}
	prefix := fmt.Sprintf("Klaxon maintenance window %s/%s ", mw.Namespace, mw.Name)
	id := ""
	if cur != nil && live(cur, s.now) {
		// Alertmanager updates it in place, or expires it and answers a
		// new ID.
		id = cur.ID
	} else {
		// A reconcile of a stale read must not make a second silence: one
		// already made for this occurrence is adopted, one for another
		// rewritten.
		var found string
		var endsAt time.Time
		found, endsAt, err = api.find(ctx, filterOf(matchers), prefix)
		if err != nil {
			r.windowSilenceFailed(s, err.Error())
			return ctrl.Result{RequeueAfter: silenceRetry}, nil
		}
		if found != "" && endsAt.Equal(end) && (cur == nil || cur.Generation == mw.Generation) {
			mw.Status.Silence = &klaxonv1alpha1.MaintenanceSilenceStatus{ID: found, AlertRoute: route,
				StartsAt: &metav1.Time{Time: start}, EndsAt: &metav1.Time{Time: end}, Generation: mw.Generation}
			return ctrl.Result{}, nil
		}
		id = found
	}
	comment := bounded.Runes(fmt.Sprintf("%s(%s): %s", prefix, mw.Spec.Mode, mw.Spec.Reason), 1000)
	newID, err := api.post(ctx, id, apiMatchers(matchers), start, end, comment)
	if err != nil {
		r.windowSilenceFailed(s, err.Error())
		return ctrl.Result{RequeueAfter: silenceRetry}, nil
	}
	mw.Status.Silence = &klaxonv1alpha1.MaintenanceSilenceStatus{ID: newID, AlertRoute: route,
		StartsAt: &metav1.Time{Time: start}, EndsAt: &metav1.Time{Time: end}, Generation: mw.Generation}
	s.record(corev1.EventTypeNormal, klaxonv1alpha1.EventSilenced, "Silence",
		fmt.Sprintf("Mirrored the window as Alertmanager silence %s from %s to %s", newID, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)))
	return ctrl.Result{}, nil
}

// filterOf renders matchers as a filter of Alertmanager's silence API.
func filterOf(ms labels.Matchers) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// mirrors reports whether the recorded silence covers [start, end): the
// same end, and the same start unless both have passed (Alertmanager
// starts a silence made late at once).
func mirrors(cur *klaxonv1alpha1.MaintenanceSilenceStatus, start, end time.Time, now time.Time) bool {
	if cur.StartsAt == nil || cur.EndsAt == nil || !cur.EndsAt.Time.Equal(end) {
		return false
	}
	return cur.StartsAt.Time.Equal(start) || (!start.After(now) && !cur.StartsAt.After(now))
}

// live reports whether the recorded silence has not ended yet.
func live(cur *klaxonv1alpha1.MaintenanceSilenceStatus, now time.Time) bool {
	return cur.ID != "" && cur.EndsAt != nil && now.Before(cur.EndsAt.Time)
}

// dropSilence expires the window's silence, if it has not ended, forgets
// it and releases the finalizer.
func (r *MaintenanceWindowReconciler) dropSilence(ctx context.Context, s *scope[*klaxonv1alpha1.MaintenanceWindow]) (ctrl.Result, error) {
	if res, done := r.expireWindowSilence(ctx, s); !done {
		return res, nil
	}
	s.obj.Status.Silence = nil
	return ctrl.Result{}, setFinalizer(ctx, r.client, s.obj, SilenceFinalizer, false)
}

// expireWindowSilence expires the recorded silence while it lasts. done is
// false when Alertmanager could not be told and the silence still holds:
// the error is shown and the result retries.
func (r *MaintenanceWindowReconciler) expireWindowSilence(ctx context.Context, s *scope[*klaxonv1alpha1.MaintenanceWindow]) (ctrl.Result, bool) {
	cur := s.obj.Status.Silence
	if cur == nil || !live(cur, s.now) {
		return ctrl.Result{}, true
	}
	if err := r.expireIn(ctx, s.obj.Namespace, cur); err != nil {
		r.windowSilenceFailed(s, err.Error())
		return ctrl.Result{RequeueAfter: min(silenceRetry, cur.EndsAt.Sub(s.now)+time.Second)}, false
	}
	s.record(corev1.EventTypeNormal, klaxonv1alpha1.EventSilenceExpired, "Silence",
		fmt.Sprintf("Expired Alertmanager silence %s, which mirrored the window", cur.ID))
	return ctrl.Result{}, true
}

// expireIn expires the silence in the Alertmanager of the AlertRoute that
// holds it.
func (r *MaintenanceWindowReconciler) expireIn(ctx context.Context, namespace string, cur *klaxonv1alpha1.MaintenanceSilenceStatus) error {
	api, p, err := r.silencer.forRoute(ctx, r.client, namespace, cur.AlertRoute)
	switch {
	case err != nil:
		return err
	case p != nil:
		return fmt.Errorf("cannot expire silence %s: %s", cur.ID, p.message)
	}
	return api.expire(ctx, cur.ID)
}

// windowSilenceFailed shows a failed call on the window, with a Warning
// Event when the error is new.
func (r *MaintenanceWindowReconciler) windowSilenceFailed(s *scope[*klaxonv1alpha1.MaintenanceWindow], msg string) {
	msg = bounded.Runes(msg, maxSilenceErrorRunes)
	if s.obj.Status.Silence == nil {
		s.obj.Status.Silence = &klaxonv1alpha1.MaintenanceSilenceStatus{}
	}
	if s.obj.Status.Silence.Error != msg {
		s.record(corev1.EventTypeWarning, klaxonv1alpha1.EventSilenceFailed, "Silence", msg)
	}
	s.obj.Status.Silence.Error = msg
}

// reconcileDeleteSilence expires the silence of a window being deleted
// while it holds SilenceFinalizer, which runPhases then removes. When
// Alertmanager cannot be reached it retries until the silence lapses by
// itself; when the AlertRoute is gone or names no Alertmanager it warns and
// lets go at once, since no retry can reach the silence.
func (r *MaintenanceWindowReconciler) reconcileDeleteSilence(ctx context.Context, s *scope[*klaxonv1alpha1.MaintenanceWindow]) (ctrl.Result, error) {
	mw := s.obj
	cur := mw.Status.Silence
	if r.silencer == nil || cur == nil || !live(cur, s.now) {
		return ctrl.Result{}, nil
	}
	api, p, err := r.silencer.forRoute(ctx, r.client, mw.Namespace, cur.AlertRoute)
	switch {
	case err != nil:
		return ctrl.Result{}, err
	case p != nil:
		s.record(corev1.EventTypeWarning, klaxonv1alpha1.EventSilenceFailed, "Silence",
			fmt.Sprintf("Cannot expire silence %s of the deleted window, which lasts until %s: %s",
				cur.ID, cur.EndsAt.UTC().Format(time.RFC3339), p.message))
		return ctrl.Result{}, nil
	}
	if err := api.expire(ctx, cur.ID); err != nil {
		log.FromContext(ctx).Info("Cannot expire the silence of a deleted maintenance window; retrying until it lapses", "error", err.Error())
		s.record(corev1.EventTypeWarning, klaxonv1alpha1.EventSilenceFailed, "Silence", err.Error())
		return ctrl.Result{RequeueAfter: min(silenceRetry, cur.EndsAt.Sub(s.now)+time.Second)}, nil
	}
	s.record(corev1.EventTypeNormal, klaxonv1alpha1.EventSilenceExpired, "Silence",
		fmt.Sprintf("Expired Alertmanager silence %s: the window is being deleted", cur.ID))
	return ctrl.Result{}, nil
}

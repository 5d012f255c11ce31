package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/apitime"
	"github.com/klaxon-dev/klaxon/internal/conditions"
	"github.com/klaxon-dev/klaxon/internal/lifecycle"
	"github.com/klaxon-dev/klaxon/internal/maintenance"
)

// +kubebuilder:rbac:groups=klaxon.dev,resources=maintenancewindows,verbs=get;list;watch

// holdForMaintenance decides, before escalation plans, whether maintenance
// keeps a Triggered incident from being paged now (maintenance.Applies),
// and records it in the Suppressed condition, which is the whole record:
//
//   - Suppress (the episode was triggered during a Suppress window): True
//     with reason MaintenanceSuppress, for good; this episode is never
//     paged, whatever the windows say later.
//   - Hold (a matching window applies now): True with reason
//     MaintenanceHold. Its lastTransitionTime is when the hold began:
//     when the windows opened, or the episode's trigger or last page if
//     later (maintenance.Verdict.Since), not when the reconciler saw it.
//   - When the hold ends, status.escalation.nextEscalationAt moves on by
//     the length of the hold: the escalation clock stops during
//     maintenance, so the level that was due d after the hold began is due
//     d after it ends. An incident held before its first page has no
//     escalation status: Plan pages level 0 at once, when the hold ends.
//
// held is true when escalation must not plan; the result then requeues at
// the end of the hold.
func (r *IncidentReconciler) holdForMaintenance(ctx context.Context, s *incidentScope) (held bool, result ctrl.Result, err error) {
	inc := s.obj
	st := &inc.Status
	cond := conditions.Find(inc, klaxonv1alpha1.ConditionSuppressed)
	if st.Phase != klaxonv1alpha1.StateTriggered || st.TriggeredAt == nil || inc.Spec.EscalationPolicyRef == nil {
		// Nothing to page: a hold has nothing left to hold. A suppression
		// stays, as the record of why the episode was not paged.
		if cond != nil && cond.Status == metav1.ConditionTrue && cond.Reason == klaxonv1alpha1.ReasonMaintenanceHold {
			conditions.Set(inc, klaxonv1alpha1.ConditionSuppressed, false, klaxonv1alpha1.ReasonMaintenanceEnded,
				"The incident is no longer Triggered; maintenance holds nothing", s.now)
		}
		return false, ctrl.Result{}, nil
	}
	if cond != nil && cond.Status == metav1.ConditionTrue &&
		cond.LastTransitionTime.Before(&metav1.Time{Time: st.TriggeredAt.Truncate(time.Second)}) {
		// Set before this episode began: an earlier episode's record.
		conditions.Set(inc, klaxonv1alpha1.ConditionSuppressed, false, klaxonv1alpha1.ReasonMaintenanceEnded,
			"A new episode began; no maintenance held it yet", s.now)
		cond = nil
	}
	current := cond != nil && cond.Status == metav1.ConditionTrue
	if current && cond.Reason == klaxonv1alpha1.ReasonMaintenanceSuppress {
		return true, ctrl.Result{}, nil
	}

	windows := &klaxonv1alpha1.MaintenanceWindowList{}
	if err := r.client.List(ctx, windows, client.InNamespace(inc.Namespace)); err != nil {
		return false, ctrl.Result{}, fmt.Errorf("listing maintenance windows: %w", err)
	}
	v, ok := maintenance.Applies(windows.Items, inc, s.now)
	if !ok {
		if current {
			r.resumeAfterMaintenance(ctx, s, cond.LastTransitionTime.Time)
		}
		return false, ctrl.Result{}, nil
	}
	if v.Mode == klaxonv1alpha1.MaintenanceSuppress {
		msg := fmt.Sprintf("Triggered during maintenance window %s (Suppress): this episode is not paged", v.Window)
		conditions.Set(inc, klaxonv1alpha1.ConditionSuppressed, true, klaxonv1alpha1.ReasonMaintenanceSuppress, msg, s.now)
		r.announceMaintenance(ctx, s, klaxonv1alpha1.TimelineSuppressed, msg)
		return true, ctrl.Result{}, nil
	}

	msg := fmt.Sprintf("Maintenance window %s holds paging", v.Window)
	if !v.Until.IsZero() {
		msg += " until " + v.Until.UTC().Format(time.RFC3339)
		result.RequeueAfter = max(v.Until.Sub(s.now), time.Millisecond)
	}
	if current {
		conditions.Set(inc, klaxonv1alpha1.ConditionSuppressed, true, klaxonv1alpha1.ReasonMaintenanceHold, msg, s.now)
	} else {
		// The transition time is when the hold began, not when it was
		// seen: a reconcile late by a restart still pauses escalation from
		// the window's start.
		began := s.now
		if !v.Since.IsZero() && v.Since.Before(began) {
			began = v.Since.Truncate(time.Second)
		}
		conditions.Set(inc, klaxonv1alpha1.ConditionSuppressed, true, klaxonv1alpha1.ReasonMaintenanceHold, msg, began)
		r.announceMaintenance(ctx, s, klaxonv1alpha1.TimelineHeld, msg)
	}
	return true, result, nil
}

// resumeAfterMaintenance ends a hold that began at since: the escalation
// due time moves on by the hold's length.
func (r *IncidentReconciler) resumeAfterMaintenance(ctx context.Context, s *incidentScope, since time.Time) {
	st := &s.obj.Status
	msg := "Maintenance ended; paging resumes"
	if esc := st.Escalation; esc != nil && esc.NextEscalationAt != nil && !esc.Exhausted {
		remaining := max(esc.NextEscalationAt.Sub(since), 0)
		due := apitime.CeilSecond(s.now.Add(remaining))
		esc.NextEscalationAt = &metav1.Time{Time: due}
		msg = fmt.Sprintf("Maintenance ended; the next level is due %s, as long after now as it was after the hold began",
			due.UTC().Format(time.RFC3339))
	}
	conditions.Set(s.obj, klaxonv1alpha1.ConditionSuppressed, false, klaxonv1alpha1.ReasonMaintenanceEnded, msg, s.now)
	r.announceMaintenance(ctx, s, klaxonv1alpha1.TimelineResumed, msg)
}

// announceMaintenance records a maintenance transition on the timeline, as
// an Event and in the log.
func (r *IncidentReconciler) announceMaintenance(ctx context.Context, s *incidentScope, what, msg string) {
	lifecycle.AppendTimeline(&s.obj.Status, klaxonv1alpha1.TimelineEntry{Time: metav1.NewTime(s.now), Type: what, Message: msg})
	s.record(corev1.EventTypeNormal, what, "Page", msg)
	log.FromContext(ctx).Info("Maintenance", "change", what, "message", msg)
}

// incidentsForWindow lists the open incidents of the window's namespace
// that it matches, and those that maintenance holds now (a window edited
// to match no more must let them go).
func (r *IncidentReconciler) incidentsForWindow(ctx context.Context, obj client.Object) []reconcile.Request {
	mw, ok := obj.(*klaxonv1alpha1.MaintenanceWindow)
	if !ok {
		return nil
	}
	list := &klaxonv1alpha1.IncidentList{}
	if err := r.client.List(ctx, list, client.InNamespace(mw.Namespace)); err != nil {
		log.FromContext(ctx).Error(err, "Listing the incidents of a maintenance window", "maintenanceWindow", klog.KObj(mw))
		return nil
	}
	w, _ := maintenance.Compile(mw) // nil when invalid: only the held ones
	var reqs []reconcile.Request
	for i := range list.Items {
		inc := &list.Items[i]
		if inc.Status.Phase != klaxonv1alpha1.StateTriggered {
			continue
		}
		cond := conditions.Find(inc, klaxonv1alpha1.ConditionSuppressed)
		held := cond != nil && cond.Status == metav1.ConditionTrue
		if held || (w != nil && w.Matches(inc)) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(inc)})
		}
	}
	return reqs
}

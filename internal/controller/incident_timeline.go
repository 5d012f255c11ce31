package controller

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/lifecycle"
)

// reconcileTimeline records in the timeline what status does not record by
// a lifecycle move or a page: each stakeholder update added to spec.updates
// (with its author and text), and each change in the number of firing and
// resolved alerts.
func (r *IncidentReconciler) reconcileTimeline(ctx context.Context, s *incidentScope) (ctrl.Result, error) {
	inc := s.obj
	st := &inc.Status
	updates := inc.Spec.Updates
	if int(st.RecordedUpdates) > len(updates) {
		st.RecordedUpdates = int32(len(updates)) //nolint:gosec // at most 256 by the CRD
	}
	for _, u := range updates[st.RecordedUpdates:] {
		lifecycle.AppendTimeline(st, klaxonv1alpha1.TimelineEntry{Time: u.Time, Type: klaxonv1alpha1.TimelineUpdate,
			Actor: u.Author, Message: "Stakeholder update: " + u.Message})
		r.tellStakeholders(ctx, s, klaxonv1alpha1.NotificationEventUpdate, st.RecordedUpdates)
		st.RecordedUpdates++
	}
	if a := st.Alerts; a != nil {
		counts := klaxonv1alpha1.AlertCounts{Firing: a.Firing, Resolved: a.Resolved}
		if st.RecordedAlerts == nil || *st.RecordedAlerts != counts {
			lifecycle.AppendTimeline(st, klaxonv1alpha1.TimelineEntry{Time: metav1.NewTime(s.now), Type: klaxonv1alpha1.TimelineAlerts,
				Actor: klaxonv1alpha1.ActorAlertmanager, Message: fmt.Sprintf("Alerts: %d firing, %d resolved", a.Firing, a.Resolved)})
			st.RecordedAlerts = &counts
		}
	}
	return ctrl.Result{}, nil
}

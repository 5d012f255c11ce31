package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/delivery"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// tellStakeholders plans news of an event to the stakeholders of the
// incident's policy, in the status write that records the event itself (a
// lifecycle move, or a stakeholder update entering the timeline). That
// write happens once per event, so each stakeholder hears of each event
// once; delivery then goes like a page's.
//
// The event is stored whether or not the policy can be read, so failing the
// reconcile would not bring the news back; a policy that cannot be read
// from the cache (which fails only while the operator stops) is reported
// with a Warning Event instead.
func (r *IncidentReconciler) tellStakeholders(ctx context.Context, s *incidentScope, event klaxonv1alpha1.NotificationEvent, update int32) {
	inc := s.obj
	ref := inc.Spec.EscalationPolicyRef
	if ref == nil {
		return
	}
	pol := &klaxonv1alpha1.EscalationPolicy{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: inc.Namespace, Name: ref.Name}, pol)
	switch {
	case apierrors.IsNotFound(err):
		// The paging phase reports the missing policy.
		return
	case err != nil:
		msg := fmt.Sprintf("Stakeholders were not told of %s: reading EscalationPolicy %s: %v", event, ref.Name, err)
		s.record(corev1.EventTypeWarning, klaxonv1alpha1.EventNotificationFailed, "Notify", msg)
		log.FromContext(ctx).Error(err, "Cannot tell stakeholders", "event", event, "escalationPolicy", ref.Name)
		return
	}
	news := delivery.News(pol.Spec.Stakeholders, inc.Status.Episode, event, update, s.now.Truncate(time.Second))
	if len(news) == 0 {
		return
	}
	var dropped []klaxonv1alpha1.Notification
	inc.Status.Notifications, dropped = delivery.Append(inc.Status.Notifications, news, inc.Status.Episode)
	r.reportDropped(s, dropped)
}

// eventOf is the news a lifecycle move makes, if any.
func eventOf(to klaxonv1alpha1.IncidentState) (klaxonv1alpha1.NotificationEvent, bool) {
	switch to {
	case klaxonv1alpha1.StateTriggered:
		return klaxonv1alpha1.NotificationEventTriggered, true
	case klaxonv1alpha1.StateResolved:
		return klaxonv1alpha1.NotificationEventResolved, true
	case klaxonv1alpha1.StateClosed:
		return klaxonv1alpha1.NotificationEventClosed, true
	}
	return "", false
}

// news is what a notification to stakeholders tells, from the incident as
// it is when sent.
func news(inc *klaxonv1alpha1.Incident, n *klaxonv1alpha1.Notification) *notify.StakeholderNews {
	out := &notify.StakeholderNews{Event: string(n.Event), Time: n.DueAt.Time}
	if n.Event == klaxonv1alpha1.NotificationEventUpdate && int(n.Update) < len(inc.Spec.Updates) {
		u := inc.Spec.Updates[n.Update]
		out.Author, out.Text, out.Time = u.Author, u.Message, u.Time.Time
	}
	if pm := inc.Spec.Postmortem; pm != nil {
		out.PostmortemURL = pm.URL
	}
	return out
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/conditions"
	"github.com/klaxon-dev/klaxon/internal/delivery"
	"github.com/klaxon-dev/klaxon/internal/escalation"
	"github.com/klaxon-dev/klaxon/internal/lifecycle"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// +kubebuilder:rbac:groups=klaxon.dev,resources=responders,verbs=get;list;watch
// +kubebuilder:rbac:groups=klaxon.dev,resources=notificationchannels,verbs=get;list;watch

// planDeliveries adds to status.notifications the deliveries of a page, in
// the same status write as the page itself, so a page is stored together
// with what it owes: a restart finds them Pending and sends them, and a
// page is never planned twice.
func (r *IncidentReconciler) planDeliveries(ctx context.Context, s *incidentScope, page *escalation.Page) error {
	inc := s.obj
	people := names(page.Assignments)
	responders, err := r.responderSpecs(ctx, inc.Namespace, people)
	if err != nil {
		return err
	}
	planned := delivery.Plan(delivery.Page{
		Episode: inc.Status.Episode, Level: page.Level, Round: page.Round, At: s.now.Truncate(time.Second),
		Severity: inc.Spec.Severity, People: people, Channels: page.Channels, Responders: responders,
	})
	var dropped []klaxonv1alpha1.Notification
	inc.Status.Notifications, dropped = delivery.Append(inc.Status.Notifications, planned, inc.Status.Episode)
	for i := range planned {
		if n := &planned[i]; delivery.Unreached(n) {
			s.record(corev1.EventTypeWarning, klaxonv1alpha1.EventNotificationFailed, "Notify", n.Error)
			lifecycle.AppendTimeline(&inc.Status, klaxonv1alpha1.TimelineEntry{Time: metav1.NewTime(s.now),
				Type: klaxonv1alpha1.TimelineNotificationFailed, Message: n.Error})
		}
	}
	r.reportDropped(s, dropped)
	return nil
}

// reportDropped warns of pending deliveries the cap of status.notifications
// dropped.
func (r *IncidentReconciler) reportDropped(s *incidentScope, dropped []klaxonv1alpha1.Notification) {
	if len(dropped) > 0 {
		s.record(corev1.EventTypeWarning, klaxonv1alpha1.EventNotificationFailed, "Notify", fmt.Sprintf(
			"Dropped %d pending deliveries, the first to %s: status keeps at most %d", len(dropped), delivery.Describe(&dropped[0]), delivery.MaxNotifications))
	}
}

// responderSpecs reads from the cache the Responders of the people that
// have one.
func (r *IncidentReconciler) responderSpecs(ctx context.Context, namespace string, people []string) (map[string]*klaxonv1alpha1.ResponderSpec, error) {
	responders := map[string]*klaxonv1alpha1.ResponderSpec{}
	for _, person := range people {
		// A user name that cannot be an object name has no Responder.
		if len(validation.IsDNS1123Subdomain(person)) > 0 {
			continue
		}
		resp := &klaxonv1alpha1.Responder{}
		err := r.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: person}, resp)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("reading Responder %s: %w", person, err)
		default:
			responders[person] = &resp.Spec
		}
	}
	return responders, nil
}

// reachAgain plans again the pages of the current episode that reached
// nobody, now that their people may have Responders (see delivery.Reach).
func (r *IncidentReconciler) reachAgain(ctx context.Context, s *incidentScope) error {
	st := &s.obj.Status
	var people []string
	for i := range st.Notifications {
		if n := &st.Notifications[i]; delivery.Unreached(n) && n.Episode == st.Episode {
			people = append(people, n.Responder)
		}
	}
	if len(people) == 0 {
		return nil
	}
	responders, err := r.responderSpecs(ctx, s.obj.Namespace, people)
	if err != nil {
		return err
	}
	if ns, changed := delivery.Reach(st.Notifications, st.Episode, s.obj.Spec.Severity, responders); changed {
		st.Notifications = ns
		log.FromContext(ctx).Info("Planned again the deliveries of people who now have Responders")
	}
	return nil
}

// incidentsForResponder lists the triggered incidents of the namespace
// whose current episode paged the person without reaching them.
func (r *IncidentReconciler) incidentsForResponder(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &klaxonv1alpha1.IncidentList{}
	if err := r.client.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		log.FromContext(ctx).Error(err, "Listing incidents for a Responder", "responder", klog.KObj(obj))
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		inc := &list.Items[i]
		if inc.Status.Phase != klaxonv1alpha1.StateTriggered {
			continue
		}
		for j := range inc.Status.Notifications {
			if n := &inc.Status.Notifications[j]; delivery.Unreached(n) && n.Responder == obj.GetName() && n.Episode == inc.Status.Episode {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(inc)})
				break
			}
		}
	}
	return reqs
}

// reconcileDelivery records the outcomes of finished sends, cancels what
// acknowledgement made pointless, reports NotificationFailed, and hands the
// due deliveries to the sender once the status that holds them is stored.
// The next due delivery is the requeue.
func (r *IncidentReconciler) reconcileDelivery(ctx context.Context, s *incidentScope) (ctrl.Result, error) {
	inc := s.obj
	st := &inc.Status
	if r.sender != nil {
		r.recordOutcomes(ctx, s)
	}
	if st.Phase == klaxonv1alpha1.StateTriggered {
		if err := r.reachAgain(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
	}
	if n := delivery.Cancel(st.Notifications, st.Episode, st.Phase == klaxonv1alpha1.StateTriggered); n > 0 {
		log.FromContext(ctx).Info("Cancelled deliveries no longer needed", "count", n, "phase", st.Phase)
	}
	if failed, reason, message, ok := delivery.Failures(st.Notifications, st.Episode); ok {
		// The Events are those of each failure, recorded where it happens.
		conditions.Set(inc, klaxonv1alpha1.ConditionNotificationFailed, failed, reason, message, s.now)
	} else {
		meta.RemoveStatusCondition(&st.Conditions, klaxonv1alpha1.ConditionNotificationFailed)
	}
	if r.sender == nil {
		return ctrl.Result{}, nil
	}

	var due []sendRequest
	var held time.Time
	for i := range st.Notifications {
		n := &st.Notifications[i]
		if n.Channel == "" || !delivery.Due(n, s.now) {
			continue
		}
		req := sendRequest{key: delivery.Key(n), attempts: n.Attempts, channel: n.Channel, message: r.message(ctx, inc, n, s.now)}
		if req.bundle = r.bundleRequest(ctx, inc, n); req.bundle != nil {
			// A page held for its contact's bundle goes when the window
			// frees, with the reconcile then. One that joins a bundle due
			// now may miss it, when another incident's reconcile sends it
			// first: it looks again a window later.
			until, alone := r.sender.admit(ctx, req.bundle, deliveryID(inc.UID, req.key))
			if !alone && !until.After(s.now) {
				until = s.now.Add(req.bundle.bundling.Window)
			}
			if !alone && (held.IsZero() || until.Before(held)) {
				held = until
			}
		}
		due = append(due, req)
	}
	if len(due) > 0 {
		ref := types.NamespacedName{Namespace: inc.Namespace, Name: inc.Name}
		uid := inc.UID
		s.afterStore(func() {
			for _, req := range due {
				r.sender.dispatch(ref, uid, req)
			}
		})
	}
	var result ctrl.Result
	if next := delivery.NextDue(st.Notifications, s.now); !next.IsZero() {
		result.RequeueAfter = max(next.Sub(s.now), time.Millisecond)
	}
	if !held.IsZero() {
		result = lowestRequeue(result, ctrl.Result{RequeueAfter: held.Sub(s.now)})
	}
	if len(due) > 0 && !r.sender.running() {
		// The sender starts with leadership, a moment after the controllers.
		result = lowestRequeue(result, ctrl.Result{RequeueAfter: time.Second})
	}
	return result, nil
}

// recordOutcomes applies the outcomes of the sends that finished since the
// last reconcile, with an Event and a timeline entry for each delivery sent
// or failed for good; the sender forgets them once this is stored.
func (r *IncidentReconciler) recordOutcomes(ctx context.Context, s *incidentScope) {
	inc := s.obj
	st := &inc.Status
	outcomes := r.sender.outcomes(inc.UID)
	if len(outcomes) == 0 {
		return
	}
	for i := range st.Notifications {
		n := &st.Notifications[i]
		key := delivery.Key(n)
		o, ok := outcomes[key]
		if !ok {
			continue
		}
		result := delivery.Apply(n, o)
		who := delivery.Describe(n)
		switch result {
		case delivery.Sent:
			// The timeline and the entry record it; an Event apiece would
			// add a write to every page in a storm. Failures keep theirs.
			msg := fmt.Sprintf("Notified %s via %s", who, n.Channel)
			if n.Bundle != "" {
				msg += " in bundle " + n.Bundle
			}
			lifecycle.AppendTimeline(st, klaxonv1alpha1.TimelineEntry{Time: metav1.NewTime(s.now), Type: klaxonv1alpha1.TimelineNotified, Message: msg})
		case delivery.Failed:
			msg := fmt.Sprintf("Could not notify %s via %s after %d attempts: %s", who, n.Channel, n.Attempts, n.Error)
			limit := (*limitError)(nil)
			limited := errors.As(o.Err, &limit)
			if limited {
				// The last try went nowhere: the cap refused it first.
				msg = fmt.Sprintf("Did not notify %s via %s: not sent, %s", who, n.Channel, limit.Error())
			}
			s.record(corev1.EventTypeWarning, klaxonv1alpha1.EventNotificationFailed, "Notify", msg)
			if limited {
				s.record(corev1.EventTypeWarning, klaxonv1alpha1.EventNotificationLimited, "Notify",
					fmt.Sprintf("Did not text or call %s via %s: %s", who, n.Channel, limit.Error()))
			}
			lifecycle.AppendTimeline(st, klaxonv1alpha1.TimelineEntry{Time: metav1.NewTime(s.now), Type: klaxonv1alpha1.TimelineNotificationFailed, Message: msg})
		case delivery.Retrying:
			log.FromContext(ctx).Info("Delivery failed; retrying", "to", who, "channel", n.Channel,
				"attempts", n.Attempts, "nextAttemptAt", n.NextAttemptAt.Time, "error", n.Error)
		}
	}
	uid := inc.UID
	s.afterStore(func() { r.sender.settle(uid, outcomes) })
}

// message is what a delivery tells: the incident, the page and its links.
func (r *IncidentReconciler) message(ctx context.Context, inc *klaxonv1alpha1.Incident, n *klaxonv1alpha1.Notification, now time.Time) notify.Message {
	st := &inc.Status
	m := notify.Message{
		Incident: messageIncident(inc),
		Page:     notify.Page{Level: n.Level, Round: n.Round, Responder: n.Responder},
		Address:  n.Address,
	}
	if n.Event != "" {
		m.Page = notify.Page{}
		m.Stakeholder = news(inc, n)
	}
	if n.Responder != "" {
		resp := &klaxonv1alpha1.Responder{}
		// From the cache; a Responder deleted since the page just has no
		// display name.
		if err := r.client.Get(ctx, client.ObjectKey{Namespace: inc.Namespace, Name: n.Responder}, resp); err == nil {
			m.Page.DisplayName = resp.Spec.DisplayName
			m.Kind = contactKind(&resp.Spec, n.Contact)
		}
		// The acknowledge page shows the incident too: it is the link to
		// open. Built at send time, so a late rule's link is fresh.
		if link, ok := r.ackLinks.link(r.publicURL, inc, n.Responder, now); ok {
			m.Page.AcknowledgeURL, m.Page.AcknowledgeToken, m.Page.AcknowledgeCode = link.URL, link.Token, link.Code
		}
	}
	for _, a := range episodeAssignments(st) {
		if a.Level == n.Level && a.Round == n.Round {
			m.Page.Paged = append(m.Page.Paged, a.Name)
		}
	}
	return m
}

// messageIncident is what a message says of the incident.
func messageIncident(inc *klaxonv1alpha1.Incident) notify.Incident {
	st := &inc.Status
	out := notify.Incident{
		Namespace: inc.Namespace, Name: inc.Name, UID: string(inc.UID), Title: inc.Spec.Title,
		Severity: string(inc.Spec.Severity), Service: inc.Spec.Service, Impact: inc.Spec.Impact,
		Phase: string(st.Phase), Episode: st.Episode,
	}
	if st.TriggeredAt != nil {
		out.TriggeredAt = st.TriggeredAt.Time
	}
	return out
}

// bundleRequest says how a page's contact is bundled; nil for a delivery
// that goes at once: news, a team channel, a SEV1, bundling off.
func (r *IncidentReconciler) bundleRequest(ctx context.Context, inc *klaxonv1alpha1.Incident, n *klaxonv1alpha1.Notification) *bundleRequest {
	if n.Event != "" || n.Responder == "" || inc.Spec.Severity == klaxonv1alpha1.SeverityCritical {
		return nil
	}
	// From the cache; a Responder or channel gone since the page bundles
	// as the other says, or by default.
	var spec *klaxonv1alpha1.ResponderSpec
	resp := &klaxonv1alpha1.Responder{}
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: inc.Namespace, Name: n.Responder}, resp); err == nil {
		spec = &resp.Spec
	}
	var channel *klaxonv1alpha1.NotificationChannelSpec
	ch := &klaxonv1alpha1.NotificationChannel{}
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: inc.Namespace, Name: n.Channel}, ch); err == nil {
		channel = &ch.Spec
	}
	b := delivery.BundlingOf(spec, n.Contact, channel)
	if !delivery.Bundleable(n, inc.Spec.Severity, b) {
		return nil
	}
	return newBundleRequest(inc.Namespace, n, b)
}

// contactKind is the kind of the responder's contact named name, "" when
// it has none or the contact is gone (texted, never called).
func contactKind(spec *klaxonv1alpha1.ResponderSpec, name string) string {
	for _, c := range spec.Contacts {
		if c.Name == name {
			return string(c.Kind)
		}
	}
	return ""
}

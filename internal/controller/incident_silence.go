package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/silence"
)

// defaultSilenceFor is the CRD's default of spec.alertmanager.silenceFor.
const defaultSilenceFor = time.Hour

// routeOf returns the AlertRoute that opened the incident, or nil when it
// did not come from one or the route is gone.
func (r *IncidentReconciler) routeOf(ctx context.Context, inc *klaxonv1alpha1.Incident) (*klaxonv1alpha1.AlertRoute, error) {
	if inc.Spec.Source == nil {
		return nil, nil
	}
	route := &klaxonv1alpha1.AlertRoute{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: inc.Namespace, Name: inc.Spec.Source.AlertRoute}, route)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading AlertRoute %s/%s: %w", inc.Namespace, inc.Spec.Source.AlertRoute, err)
	}
	return route, nil
}

func silenceFor(am *klaxonv1alpha1.AlertRouteAlertmanager) time.Duration {
	if am.SilenceFor == nil || am.SilenceFor.Duration <= 0 {
		return defaultSilenceFor
	}
	return am.SilenceFor.Duration
}

// reconcileSilence keeps an Alertmanager silence of the incident's group
// while the incident is Acknowledged and its route asks for it
// (spec.alertmanager.silenceOnAcknowledge), extends it while the alerts
// fire, polls for the alerts' end (silenced alerts send no resolved
// notification) and expires it once the incident leaves Acknowledged. The
// state is status.silence; deletion is reconcileDeleteSilence's.
func (r *IncidentReconciler) reconcileSilence(ctx context.Context, s *incidentScope) (ctrl.Result, error) {
	inc := s.obj
	if r.silencer == nil || inc.DeletionTimestamp != nil || (inc.Spec.Source == nil && inc.Status.Silence == nil) {
		return ctrl.Result{}, nil
	}
	route, err := r.routeOf(ctx, inc)
	if err != nil {
		return ctrl.Result{}, err
	}
	var am *klaxonv1alpha1.AlertRouteAlertmanager
	if route != nil {
		am = route.Spec.Alertmanager
	}
	if inc.Status.Phase == klaxonv1alpha1.StateAcknowledged && inc.Spec.Source != nil && am != nil && ptr.Deref(am.SilenceOnAcknowledge, false) {
		return r.keepSilence(ctx, s, route, am)
	}
	if inc.Status.Silence == nil {
		return ctrl.Result{}, nil
	}
	return r.endSilence(ctx, s, am)
}

// keepSilence creates, extends or polls the silence of an acknowledged
// incident.
func (r *IncidentReconciler) keepSilence(ctx context.Context, s *incidentScope, route *klaxonv1alpha1.AlertRoute,
	am *klaxonv1alpha1.AlertRouteAlertmanager) (ctrl.Result, error) {
	inc := s.obj
	cur := inc.Status.Silence
	matchers, err := silence.Matchers(inc.Spec.Source.GroupKey, alertmapping.StoredAlerts(inc))
	if err != nil {
		// New alerts (a webhook) wake the incident; nothing else helps.
		r.silenceFailed(s, err.Error())
		return ctrl.Result{}, nil
	}
	api, p, err := r.silencer.api(ctx, inc.Namespace, am)
	if err != nil {
		return ctrl.Result{}, err
	}
	if p != nil {
		r.silenceFailed(s, p.message)
		return ctrl.Result{RequeueAfter: max(p.retryAfter, silenceRetry)}, nil
	}
	every := silenceFor(am)
	if cur == nil || cur.ID == "" {
		// The finalizer comes first, so no silence outlives its incident.
		if err = r.setSilenceFinalizer(ctx, inc, true); err != nil {
			return ctrl.Result{}, err
		}
		comment := silence.Comment(inc.Namespace, inc.Name, inc.Status.AcknowledgedBy, inc.Spec.Title)
		var id string
		var endsAt time.Time
		id, endsAt, err = api.find(ctx, silence.Filter(matchers), silence.CommentPrefix(inc.Namespace, inc.Name))
		if err == nil && id != "" {
			inc.Status.Silence = &klaxonv1alpha1.SilenceStatus{ID: id, ExpiresAt: &metav1.Time{Time: endsAt.Truncate(time.Second)}}
			return ctrl.Result{RequeueAfter: silence.NextCheck(s.now, endsAt, every)}, nil
		}
		if err == nil {
			id, err = api.post(ctx, "", equalities(matchers), s.now, s.now.Add(every), comment)
		}
		if err != nil {
			r.silenceFailed(s, err.Error())
			return ctrl.Result{RequeueAfter: silenceRetry}, nil
		}
		inc.Status.Silence = &klaxonv1alpha1.SilenceStatus{ID: id, ExpiresAt: &metav1.Time{Time: s.now.Add(every).Truncate(time.Second)}}
		s.record(corev1.EventTypeNormal, klaxonv1alpha1.EventSilenced, "Silence",
			fmt.Sprintf("Silenced the alert group in Alertmanager for %s (silence %s, matchers %s)", every, id, strings.Join(silence.Filter(matchers), ", ")))
		return ctrl.Result{RequeueAfter: silence.NextCheck(s.now, inc.Status.Silence.ExpiresAt.Time, every)}, nil
	}
	expiresAt := s.now
	if cur.ExpiresAt != nil {
		expiresAt = cur.ExpiresAt.Time
	}
	firing, err := api.firing(ctx, matchers)
	if err != nil {
		r.silenceFailed(s, err.Error())
		return ctrl.Result{RequeueAfter: silenceRetry}, nil
	}
	cur.Error = ""
	if firing == 0 {
		// The alerts ended while silenced: Alertmanager sends no resolved
		// notification, so resolve here. Without autoResolve the silence
		// lapses.
		if route.Spec.AutoResolve == nil || *route.Spec.AutoResolve {
			s.record(corev1.EventTypeNormal, klaxonv1alpha1.EventAlertsGone, "Resolve",
				"Alertmanager holds none of the silenced group's alerts any more: resolving the incident")
			s.afterStore(func() { r.resolveSilenced(ctx, s.obj) })
		}
		return ctrl.Result{RequeueAfter: silence.PollEvery}, nil
	}
	if silence.DueForExtension(s.now, expiresAt, every) {
		comment := silence.Comment(inc.Namespace, inc.Name, inc.Status.AcknowledgedBy, inc.Spec.Title)
		start := s.now
		if s.now.Before(expiresAt) {
			// Updating a silence in place keeps its start.
			start = expiresAt.Add(-every)
		}
		id, err := api.post(ctx, cur.ID, equalities(matchers), start, s.now.Add(every), comment)
		if err != nil {
			r.silenceFailed(s, err.Error())
			return ctrl.Result{RequeueAfter: silenceRetry}, nil
		}
		cur.ID, cur.ExpiresAt = id, &metav1.Time{Time: s.now.Add(every).Truncate(time.Second)}
		expiresAt = cur.ExpiresAt.Time
	}
	return ctrl.Result{RequeueAfter: silence.NextCheck(s.now, expiresAt, every)}, nil
}

// resolveSilenced moves an incident that is still asked to be Acknowledged
// to Resolved, as Alertmanager would have with a resolved notification.
func (r *IncidentReconciler) resolveSilenced(ctx context.Context, inc *klaxonv1alpha1.Incident) {
	if inc.Spec.State != klaxonv1alpha1.StateAcknowledged {
		return
	}
	moved := inc.DeepCopy()
	moved.Spec.State = klaxonv1alpha1.StateResolved
	if moved.Annotations == nil {
		moved.Annotations = map[string]string{}
	}
	moved.Annotations[klaxonv1alpha1.ActorAnnotation] = klaxonv1alpha1.ActorAlertmanager
	if err := r.client.Patch(ctx, moved, client.MergeFromWithOptions(inc, client.MergeFromWithOptimisticLock{})); err != nil {
		// The next poll tries again.
		log.FromContext(ctx).Error(err, "Resolving the incident whose silenced alerts ended")
	}
}

// endSilence expires the silence of an incident that left Acknowledged (or
// whose route stopped asking for it), then drops the finalizer.
func (r *IncidentReconciler) endSilence(ctx context.Context, s *incidentScope, am *klaxonv1alpha1.AlertRouteAlertmanager) (ctrl.Result, error) {
	inc := s.obj
	cur := inc.Status.Silence
	if cur.ID != "" {
		if err := r.expireSilence(ctx, inc, am, s.now); err != nil {
			if cur.ExpiresAt != nil && s.now.Before(cur.ExpiresAt.Time) {
				r.silenceFailed(s, err.Error())
				return ctrl.Result{RequeueAfter: min(silenceRetry, cur.ExpiresAt.Sub(s.now)+time.Second)}, nil
			}
			// It has lapsed by itself.
		} else {
			s.record(corev1.EventTypeNormal, klaxonv1alpha1.EventSilenceExpired, "Silence",
				fmt.Sprintf("Expired Alertmanager silence %s: the incident is %s", cur.ID, inc.Status.Phase))
		}
	}
	inc.Status.Silence = nil
	return ctrl.Result{}, r.setSilenceFinalizer(ctx, inc, false)
}

// expireSilence expires the incident's silence in its route's Alertmanager.
func (r *IncidentReconciler) expireSilence(ctx context.Context, inc *klaxonv1alpha1.Incident, am *klaxonv1alpha1.AlertRouteAlertmanager, now time.Time) error {
	cur := inc.Status.Silence
	if cur == nil || cur.ID == "" || (cur.ExpiresAt != nil && !now.Before(cur.ExpiresAt.Time)) {
		return nil
	}
	if am == nil {
		return fmt.Errorf("cannot expire silence %s: the incident's AlertRoute no longer names an Alertmanager; the silence lapses by itself", cur.ID)
	}
	api, p, err := r.silencer.api(ctx, inc.Namespace, am)
	switch {
	case err != nil:
		return err
	case p != nil:
		return errors.New(p.message)
	}
	return api.expire(ctx, cur.ID)
}

// silenceFailed shows a failed call on the incident, with a Warning Event
// when the error is new.
func (r *IncidentReconciler) silenceFailed(s *incidentScope, msg string) {
	msg = bounded.Runes(msg, maxSilenceErrorRunes)
	if s.obj.Status.Silence == nil {
		s.obj.Status.Silence = &klaxonv1alpha1.SilenceStatus{}
	}
	if s.obj.Status.Silence.Error != msg {
		s.record(corev1.EventTypeWarning, klaxonv1alpha1.EventSilenceFailed, "Silence", msg)
	}
	s.obj.Status.Silence.Error = msg
}

// setSilenceFinalizer adds or removes SilenceFinalizer on an incident.
func (r *IncidentReconciler) setSilenceFinalizer(ctx context.Context, inc *klaxonv1alpha1.Incident, want bool) error {
	return setFinalizer(ctx, r.client, inc, SilenceFinalizer, want)
}

// reconcileDeleteSilence expires the silence of an incident being deleted
// while it holds SilenceFinalizer, which runPhases then removes. When
// Alertmanager cannot be reached it retries until the silence lapses by
// itself (at status.silence.expiresAt, at most silenceFor away), then lets
// the incident go anyway, so deletion never hangs for good.
func (r *IncidentReconciler) reconcileDeleteSilence(ctx context.Context, s *incidentScope) (ctrl.Result, error) {
	inc := s.obj
	if r.silencer == nil {
		return ctrl.Result{}, nil
	}
	route, err := r.routeOf(ctx, inc)
	if err != nil {
		return ctrl.Result{}, err
	}
	var am *klaxonv1alpha1.AlertRouteAlertmanager
	if route != nil {
		am = route.Spec.Alertmanager
	}
	if err := r.expireSilence(ctx, inc, am, s.now); err != nil {
		log.FromContext(ctx).Info("Cannot expire the silence of a deleted incident; retrying until it lapses", "error", err.Error())
		s.record(corev1.EventTypeWarning, klaxonv1alpha1.EventSilenceFailed, "Silence", err.Error())
		retry := silenceRetry
		if exp := inc.Status.Silence.ExpiresAt; exp != nil {
			retry = min(retry, exp.Sub(s.now)+time.Second)
		}
		return ctrl.Result{RequeueAfter: retry}, nil
	}
	if inc.Status.Silence != nil && inc.Status.Silence.ID != "" {
		s.record(corev1.EventTypeNormal, klaxonv1alpha1.EventSilenceExpired, "Silence",
			fmt.Sprintf("Expired Alertmanager silence %s: the incident is being deleted", inc.Status.Silence.ID))
	}
	return ctrl.Result{}, nil
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	amalert "github.com/prometheus/alertmanager/api/v2/client/alert"
	amsilence "github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/alertmanager/pkg/labels"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/silence"
)

// SilenceFinalizer keeps an incident whose Alertmanager silence Klaxon
// created until the silence is expired (or has lapsed by itself).
const SilenceFinalizer = "klaxon.dev/silence"

const (
	// defaultSilenceFor is the CRD's default of spec.alertmanager.silenceFor.
	defaultSilenceFor = time.Hour
	// silenceRetry is when a failed call to Alertmanager is tried again.
	silenceRetry = 30 * time.Second
	// maxSilenceErrorRunes bounds status.silence.error.
	maxSilenceErrorRunes = 500
)

// silencer calls the Alertmanagers that AlertRoutes name. Only the incident
// reconciler, which runs on the leader, uses it.
type silencer struct {
	// secrets reads the optional auth Secret, uncached, with the label rule
	// of channel credentials.
	secrets *channelLoader
	// httpClient makes the calls; nil is http.DefaultClient.
	httpClient *http.Client
}

// alertmanagerAPI is one route's Alertmanager.
type alertmanagerAPI struct {
	api *amclient.AlertmanagerAPI
}

// api builds the client of a route's Alertmanager. A problem (the auth
// Secret is missing or not marked) is returned as such.
func (sl *silencer) api(ctx context.Context, namespace string, am *klaxonv1alpha1.AlertRouteAlertmanager) (*alertmanagerAPI, *problem, error) {
	u, err := url.Parse(am.URL)
	if err != nil || u.Host == "" {
		// The CRD's pattern makes this unreachable; a retry cannot help.
		return nil, &problem{message: fmt.Sprintf("spec.alertmanager.url %q is not a URL", am.URL), stalled: true}, nil //nolint:nilerr // reported as a problem
	}
	hc := sl.httpClient
	if hc == nil {
		hc = http.DefaultClient
	}
	tr := httptransport.NewWithClient(u.Host, path.Join("/", u.Path, amclient.DefaultBasePath), []string{u.Scheme}, hc)
	if ref := am.AuthSecretRef; ref != nil {
		token, p, err := sl.secrets.secretValue(ctx, namespace, "spec.alertmanager.authSecretRef", *ref, true)
		if p != nil || err != nil {
			return nil, p, err
		}
		tr.DefaultAuthentication = httptransport.BearerToken(string(token))
	}
	return &alertmanagerAPI{api: amclient.New(tr, strfmt.Default)}, nil, nil
}

// forRoute builds the client of the Alertmanager that the AlertRoute
// routeName of namespace names in spec.alertmanager. A missing route, or
// one without spec.alertmanager, is a problem that a retry may cure.
func (sl *silencer) forRoute(ctx context.Context, c client.Reader, namespace, routeName string) (*alertmanagerAPI, *problem, error) {
	route := &klaxonv1alpha1.AlertRoute{}
	err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: routeName}, route)
	switch {
	case apierrors.IsNotFound(err):
		return nil, &problem{message: fmt.Sprintf("AlertRoute %q does not exist", routeName), retryAfter: silenceRetry}, nil
	case err != nil:
		return nil, nil, fmt.Errorf("reading AlertRoute %s/%s: %w", namespace, routeName, err)
	case route.Spec.Alertmanager == nil:
		return nil, &problem{message: fmt.Sprintf("AlertRoute %q has no spec.alertmanager to say which Alertmanager to silence", routeName), retryAfter: silenceRetry}, nil
	}
	return sl.api(ctx, namespace, route.Spec.Alertmanager)
}

// post creates (id empty) or updates a silence and returns its ID, which
// Alertmanager may change. A silence Alertmanager no longer knows (it lost
// its state, or dropped the silence long expired) is created afresh.
func (a *alertmanagerAPI) post(ctx context.Context, id string, matchers models.Matchers, start, end time.Time, comment string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, silence.CallTimeout)
	defer cancel()
	startsAt, endsAt := strfmt.DateTime(start), strfmt.DateTime(end)
	params := amsilence.NewPostSilencesParamsWithContext(ctx).WithTimeout(silence.CallTimeout).WithSilence(&models.PostableSilence{
		ID: id,
		Silence: models.Silence{
			Matchers: matchers, StartsAt: &startsAt, EndsAt: &endsAt,
			CreatedBy: ptr.To(silence.CreatedBy), Comment: ptr.To(comment),
		},
	})
	ok, err := a.api.Silence.PostSilences(params)
	var notFound *amsilence.PostSilencesNotFound
	if id != "" && errors.As(err, &notFound) {
		params.Silence.ID = ""
		ok, err = a.api.Silence.PostSilences(params)
	}
	if err != nil {
		return "", amError("creating the silence", err)
	}
	if ok.Payload == nil || ok.Payload.SilenceID == "" {
		return "", errors.New("creating the silence: Alertmanager answered without a silence ID")
	}
	return ok.Payload.SilenceID, nil
}

// apiMatchers are parsed Alertmanager matchers in the API's terms.
func apiMatchers(ms labels.Matchers) models.Matchers {
	out := make(models.Matchers, len(ms))
	for i, m := range ms {
		regex := m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp
		equal := m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp
		out[i] = &models.Matcher{Name: ptr.To(m.Name), Value: ptr.To(m.Value), IsRegex: ptr.To(regex), IsEqual: ptr.To(equal)}
	}
	return out
}

// find returns an active or pending silence of Klaxon's that the filter
// (matchers in Alertmanager's syntax) selects and whose comment begins
// with prefix, so a reconcile that read a stale object adopts the silence
// an earlier one created instead of creating a second.
func (a *alertmanagerAPI) find(ctx context.Context, filter []string, prefix string) (id string, endsAt time.Time, err error) {
	ctx, cancel := context.WithTimeout(ctx, silence.CallTimeout)
	defer cancel()
	ok, err := a.api.Silence.GetSilences(amsilence.NewGetSilencesParamsWithContext(ctx).WithTimeout(silence.CallTimeout).WithFilter(filter))
	if err != nil {
		return "", time.Time{}, amError("listing silences", err)
	}
	for _, sil := range ok.Payload {
		if sil == nil || sil.ID == nil || sil.Status == nil || sil.Status.State == nil || *sil.Status.State == models.SilenceStatusStateExpired ||
			sil.CreatedBy == nil || *sil.CreatedBy != silence.CreatedBy || sil.Comment == nil || !strings.HasPrefix(*sil.Comment, prefix) ||
			sil.EndsAt == nil {
			continue
		}
		return *sil.ID, time.Time(*sil.EndsAt), nil
	}
	return "", time.Time{}, nil
}

// expire expires a silence; one Alertmanager no longer knows, or that has
// expired already, is done.
func (a *alertmanagerAPI) expire(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, silence.CallTimeout)
	defer cancel()
	_, err := a.api.Silence.DeleteSilence(amsilence.NewDeleteSilenceParamsWithContext(ctx).WithTimeout(silence.CallTimeout).WithSilenceID(strfmt.UUID(id)))
	var notFound *amsilence.DeleteSilenceNotFound
	if err == nil || errors.As(err, &notFound) {
		return nil
	}
	var failed *amsilence.DeleteSilenceInternalServerError
	if errors.As(err, &failed) && strings.Contains(failed.Payload, "already expired") {
		return nil
	}
	return amError("expiring the silence", err)
}

// firing counts the alerts Alertmanager holds that match the matchers and
// have not resolved, silenced or not.
func (a *alertmanagerAPI) firing(ctx context.Context, ms []silence.Matcher) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, silence.CallTimeout)
	defer cancel()
	params := amalert.NewGetAlertsParamsWithContext(ctx).WithTimeout(silence.CallTimeout).WithFilter(silence.Filter(ms)).
		WithActive(ptr.To(true)).WithSilenced(ptr.To(true)).WithInhibited(ptr.To(true)).WithUnprocessed(ptr.To(true))
	ok, err := a.api.Alert.GetAlerts(params)
	if err != nil {
		return 0, amError("listing the group's alerts", err)
	}
	return len(ok.Payload), nil
}

// amError words a failed call, with Alertmanager's own message when it
// answered with one.
func amError(what string, err error) error {
	var withPayload interface{ GetPayload() string }
	if errors.As(err, &withPayload) && withPayload.GetPayload() != "" {
		return fmt.Errorf("%s: Alertmanager refused: %s", what, strings.TrimSpace(withPayload.GetPayload()))
	}
	return fmt.Errorf("%s: %w", what, err)
}

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
// state is status.silence; deletion is finalizeSilence's.
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
			id, err = api.post(ctx, "", apiMatchers(silence.LabelMatchers(matchers)), s.now, s.now.Add(every), comment)
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
		id, err := api.post(ctx, cur.ID, apiMatchers(silence.LabelMatchers(matchers)), start, s.now.Add(every), comment)
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

// setFinalizer adds or removes a finalizer with a patch of a copy, so the
// status the phases computed is kept; obj takes the new resourceVersion for
// the status patch.
func setFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string, want bool) error {
	if controllerutil.ContainsFinalizer(obj, finalizer) == want {
		return nil
	}
	patched := obj.DeepCopyObject().(client.Object)
	if want {
		controllerutil.AddFinalizer(patched, finalizer)
	} else {
		controllerutil.RemoveFinalizer(patched, finalizer)
	}
	if err := c.Patch(ctx, patched, client.MergeFromWithOptions(obj, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("updating the finalizers of %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	obj.SetFinalizers(patched.GetFinalizers())
	obj.SetResourceVersion(patched.GetResourceVersion())
	return nil
}

// finalizeSilence handles an incident being deleted while Klaxon holds its
// silence: it expires the silence and removes SilenceFinalizer. When
// Alertmanager cannot be reached it retries until the silence lapses by
// itself (at status.silence.expiresAt, at most silenceFor away), then
// removes the finalizer anyway, so deletion never hangs for good. done is
// false when the incident is not being deleted with the finalizer.
func (r *IncidentReconciler) finalizeSilence(ctx context.Context, req ctrl.Request) (done bool, result ctrl.Result, err error) {
	inc := &klaxonv1alpha1.Incident{}
	if err := r.client.Get(ctx, req.NamespacedName, inc); err != nil {
		// runPhases reads it again and reports what is wrong.
		return false, ctrl.Result{}, nil //nolint:nilerr // runPhases handles the read
	}
	if inc.DeletionTimestamp == nil || !controllerutil.ContainsFinalizer(inc, SilenceFinalizer) {
		return false, ctrl.Result{}, nil
	}
	now := r.clock.Now()
	if r.silencer != nil {
		route, err := r.routeOf(ctx, inc)
		if err != nil {
			return true, ctrl.Result{}, err
		}
		var am *klaxonv1alpha1.AlertRouteAlertmanager
		if route != nil {
			am = route.Spec.Alertmanager
		}
		if err := r.expireSilence(ctx, inc, am, now); err != nil {
			log.FromContext(ctx).Info("Cannot expire the silence of a deleted incident; retrying until it lapses", "error", err.Error())
			recordEvent(r.recorder, inc, corev1.EventTypeWarning, klaxonv1alpha1.EventSilenceFailed, "Silence", err.Error())
			retry := silenceRetry
			if exp := inc.Status.Silence.ExpiresAt; exp != nil {
				retry = min(retry, exp.Sub(now)+time.Second)
			}
			return true, ctrl.Result{RequeueAfter: retry}, nil
		}
		if inc.Status.Silence != nil && inc.Status.Silence.ID != "" {
			recordEvent(r.recorder, inc, corev1.EventTypeNormal, klaxonv1alpha1.EventSilenceExpired, "Silence",
				fmt.Sprintf("Expired Alertmanager silence %s: the incident is being deleted", inc.Status.Silence.ID))
		}
	}
	if err := r.setSilenceFinalizer(ctx, inc, false); err != nil && !apierrors.IsNotFound(err) {
		return true, ctrl.Result{}, err
	}
	return true, ctrl.Result{}, nil
}

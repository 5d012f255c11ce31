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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/silence"
)

// Shared by the silences of incidents (incident_silence.go) and of
// maintenance windows (maintenancewindow_silence.go).
const (
	// silenceRetry is when a failed call to Alertmanager is tried again.
	silenceRetry = 30 * time.Second
	// maxSilenceErrorRunes bounds status.silence.error.
	maxSilenceErrorRunes = 500
)

// silencer calls the Alertmanagers that AlertRoutes name. Only reconcilers,
// which run on the leader, use it.
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

// equalities are an incident group's matchers in the API's terms.
func equalities(ms []silence.Matcher) models.Matchers {
	out := make(models.Matchers, len(ms))
	for i, m := range ms {
		out[i] = &models.Matcher{Name: ptr.To(m.Name), Value: ptr.To(m.Value), IsRegex: ptr.To(false), IsEqual: ptr.To(true)}
	}
	return out
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

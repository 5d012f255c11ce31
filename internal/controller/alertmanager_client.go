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

	"github.com/go-openapi/runtime"
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
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
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
	// httpClient makes the calls; nil is a client that connects only where
	// egress allows and follows no redirect.
	httpClient *http.Client
	// egress decides where the calls connect; nil applies the built-in
	// refusals only.
	egress *egress.Policy
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
		// The URL is the namespace's choice: connect only where the policy
		// allows, and let no redirect choose again.
		hc = &http.Client{
			Transport:     notify.GuardedTransport(sl.egress),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
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

// amError words a failed call by the HTTP status Alertmanager answered,
// or the connection's failure in Klaxon's words. What the other end said
// is for the log only (notify.LogDetail): the URL is the namespace's
// choice, and its answer could be anything the operator reaches.
func amError(what string, err error) error {
	detail := bounded.Bytes(err.Error(), maxSilenceErrorRunes)
	var withPayload interface{ GetPayload() string }
	if errors.As(err, &withPayload) {
		detail = bounded.Bytes(strings.TrimSpace(withPayload.GetPayload()), maxSilenceErrorRunes)
	}
	var withCode interface{ Code() int }
	var apiErr *runtime.APIError
	switch {
	case errors.As(err, &apiErr):
		return notify.Quiet(fmt.Sprintf("%s: Alertmanager answered HTTP %d", what, apiErr.Code), detail, err)
	case errors.As(err, &withCode):
		return notify.Quiet(fmt.Sprintf("%s: Alertmanager refused with HTTP %d", what, withCode.Code()), detail, err)
	case errors.As(err, &withPayload):
		return notify.Quiet(what+": Alertmanager refused", detail, err)
	}
	var (
		refused *egress.RefusedError
		connect *egress.ConnectError
	)
	switch {
	case errors.As(err, &refused):
		return notify.Quiet(fmt.Sprintf("%s: %s", what, refused.Error()), detail, err)
	case errors.As(err, &connect):
		return notify.Quiet(fmt.Sprintf("%s: %s", what, connect.Error()), detail, err)
	case errors.Is(err, context.DeadlineExceeded):
		return notify.Quiet(what+": Alertmanager did not answer in time", detail, err)
	}
	return notify.Quiet(what+": the call to Alertmanager failed", detail, err)
}

package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/metrics"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// grafanaRouteFixture creates the token Secret (routeFixture's) and an
// AlertRoute "grafana" taking the Grafana fixtures' groups: severity
// critical is SEV1, the default title template.
func grafanaRouteFixture(t *testing.T, ns string) {
	t.Helper()
	routeFixture(t, ns)
	createRoute(t, ns, "grafana", klaxonv1alpha1.AlertRouteSpec{
		Matchers: []string{`team="blue"`},
		Severity: klaxonv1alpha1.AlertSeverityMapping{
			Label: "severity",
			Map:   map[string]klaxonv1alpha1.Severity{"critical": klaxonv1alpha1.SeverityCritical},
		},
	})
}

// grafanaPayload reads a fixture of the pure package, written from
// Grafana's documentation of its webhook notifier.
func grafanaPayload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "alertmapping", "testdata", "grafana", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editPayload returns body with edit applied to its decoded JSON.
func editPayload(t *testing.T, body []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Credential styles of Grafana's webhook contact point.
var (
	withBearer = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	// authorization_scheme and authorization_credentials: any scheme.
	withScheme = func(r *http.Request) { r.Header.Set("Authorization", "Token "+token) }
	// username and password: the token is the password.
	withBasic = func(r *http.Request) { r.SetBasicAuth("grafana", token) }
)

// deliverGrafana sends body as Grafana does, with the credentials auth sets.
func deliverGrafana(t *testing.T, base, method, path string, auth func(*http.Request), body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Grafana")
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// countIncidentWrites counts the writes of Incidents a client makes; a
// refused token may still record the refusal on its route.
func countIncidentWrites(c client.Client, n *atomic.Int32) client.Client {
	count := func(obj client.Object) {
		if _, ok := obj.(*klaxonv1alpha1.Incident); ok {
			n.Add(1)
		}
	}
	return interceptor.NewClient(withWatch{c}, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			count(obj)
			return c.Create(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			count(obj)
			return c.Patch(ctx, obj, p, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			count(obj)
			return c.Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			count(obj)
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	})
}

func grafanaIncidents(t *testing.T, ns string) []klaxonv1alpha1.Incident {
	t.Helper()
	return routeIncidents(t, ns, "grafana")
}

// Grafana's group opens an incident (bearer token), an update moves its
// alerts (another scheme), and the resolved group resolves it (basic auth):
// each credential style Grafana's contact point has.
func TestGrafanaWebhookOpensUpdatesAndResolves(t *testing.T) {
	ns := newNamespace(t)
	grafanaRouteFixture(t, ns)
	srv := newReceiver(t, nil)
	path := "/alertmanager/" + ns + "/grafana"

	if code, msg := deliverGrafana(t, srv.URL, http.MethodPost, path, withBearer, grafanaPayload(t, "firing-group.json")); code != http.StatusOK || !strings.Contains(msg, "incident grafana-") {
		t.Fatalf("firing group: %d %q", code, msg)
	}
	incs := grafanaIncidents(t, ns)
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	inc := incs[0]
	if inc.Spec.Title != "High memory usage: [FIRING:2] High memory usage Infrastructure (critical blue)" ||
		inc.Spec.Severity != klaxonv1alpha1.SeverityCritical {
		t.Errorf("incident title %q, severity %s", inc.Spec.Title, inc.Spec.Severity)
	}
	if src := inc.Spec.Source; src == nil || src.Intake != klaxonv1alpha1.IntakeGrafana || src.ExternalURL != "https://play.grafana.org/" {
		t.Errorf("source %+v, want Grafana's", inc.Spec.Source)
	}
	if inc.Annotations[klaxonv1alpha1.ActorAnnotation] != klaxonv1alpha1.ActorAlertmanager {
		t.Errorf("actor %q, want alertmanager", inc.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
	if !strings.Contains(inc.Spec.Description, "The system has high memory usage\n\nDashboard: https://play.grafana.org/d/mem0ry/hosts?orgId=1\nPanel: ") {
		t.Errorf("description %q, want the rule's description and the group's links", inc.Spec.Description)
	}
	if a := alertmapping.OpeningAlerts(&inc); a == nil || a.Firing != 2 || len(a.Items) != 2 {
		t.Errorf("opening alerts %+v, want the two firing zones", a)
	}

	// The eu-1 zone recovers: the alerts are updated.
	update := editPayload(t, grafanaPayload(t, "firing-group.json"), func(m map[string]any) {
		a := m["alerts"].([]any)[1].(map[string]any)
		a["status"], a["endsAt"] = "resolved", "2021-10-12T10:30:00+02:00"
	})
	if code, msg := deliverGrafana(t, srv.URL, http.MethodPost, path, withScheme, update); code != http.StatusOK {
		t.Fatalf("update: %d %q", code, msg)
	}
	eventually(t, "status.alerts to show one firing, one resolved", func(ctx context.Context) (bool, error) {
		got := &klaxonv1alpha1.Incident{}
		err := k8s.Get(ctx, client.ObjectKeyFromObject(&inc), got)
		a := got.Status.Alerts
		return a != nil && a.Firing == 1 && a.Resolved == 1, err
	})

	if code, msg := deliverGrafana(t, srv.URL, http.MethodPost, path, withBasic, grafanaPayload(t, "resolved-group.json")); code != http.StatusOK {
		t.Fatalf("resolved group: %d %q", code, msg)
	}
	if incs := grafanaIncidents(t, ns); len(incs) != 1 || incs[0].Spec.State != klaxonv1alpha1.StateResolved {
		t.Fatalf("after the resolved group: %d incidents, want 1 resolved", len(incs))
	}

	// Counted under the grafana intake, and shown on the route.
	if got := testutil.ToFloat64(metrics.ReceiverRequests.WithLabelValues(ns, "grafana", "grafana", "200")); got != 3 {
		t.Errorf("klaxon_receiver_requests_total{intake=grafana,code=200} = %v, want 3", got)
	}
	ar := &klaxonv1alpha1.AlertRoute{}
	eventually(t, "the route's status.intakes", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "grafana"}, ar)
		return err == nil && len(ar.Status.Intakes) > 0 && ar.Status.Intakes[0].LastIncident != "", err
	})
	if len(ar.Status.Intakes) != 1 || ar.Status.Intakes[0].Name != klaxonv1alpha1.IntakeGrafana || ar.Status.Intakes[0].LastIncident != inc.Name {
		t.Errorf("route status.intakes = %+v, want grafana's, naming %s", ar.Status.Intakes, inc.Name)
	}
}

// Grafana's DatasourceNoData and DatasourceError alerts, sent in state
// alerting as Grafana-managed alerting sends them, open incidents that say
// so, and a truncated group counts the alerts Grafana left out.
func TestGrafanaStatesAndTruncation(t *testing.T) {
	ns := newNamespace(t)
	grafanaRouteFixture(t, ns)
	srv := newReceiver(t, nil)
	path := "/alertmanager/" + ns + "/grafana"
	for fixture, title := range map[string]string{
		"no-data.json":         "DatasourceNoData: No data: Checkout p99 latency above 2s",
		"error.json":           "DatasourceError: Evaluation error: Checkout p99 latency above 2s",
		"truncated-group.json": "High memory usage: [FIRING:2] High memory usage Infrastructure (critical blue)",
	} {
		if code, msg := deliverGrafana(t, srv.URL, http.MethodPost, path, withBearer, grafanaPayload(t, fixture)); code != http.StatusOK {
			t.Fatalf("%s: %d %q", fixture, code, msg)
		}
		found := false
		for _, inc := range grafanaIncidents(t, ns) {
			if inc.Spec.Title != title {
				continue
			}
			found = true
			a := alertmapping.OpeningAlerts(&inc)
			if fixture == "truncated-group.json" && (a == nil || a.Truncated != 3) {
				t.Errorf("%s: opening alerts %+v, want 3 truncated", fixture, a)
			}
			if fixture == "no-data.json" && !strings.HasPrefix(inc.Spec.Description, `Grafana reports no data for the alert rule "Checkout latency" (DatasourceNoData)`) {
				t.Errorf("%s: description %q", fixture, inc.Spec.Description)
			}
			if want := `(DatasourceError): its query or data source failed. Data source: grafanacloud-prom. Error: [sse.dataQueryError] failed to execute query [A]`; fixture == "error.json" &&
				!strings.Contains(inc.Spec.Description, want) {
				t.Errorf("%s: description %q does not contain %q", fixture, inc.Spec.Description, want)
			}
		}
		if !found {
			t.Errorf("%s: no incident titled %q", fixture, title)
		}
	}
}

// A wrong password is refused like a wrong bearer token, and opens nothing.
func TestGrafanaWrongPasswordWritesNothing(t *testing.T) {
	ns := newNamespace(t)
	grafanaRouteFixture(t, ns)
	var writes atomic.Int32
	srv := newReceiver(t, countIncidentWrites(mgr.GetClient(), &writes))
	path := "/alertmanager/" + ns + "/grafana"
	code, msg := deliverGrafana(t, srv.URL, http.MethodPost, path, func(r *http.Request) { r.SetBasicAuth("grafana", "guess") }, grafanaPayload(t, "firing-group.json"))
	if want := "the bearer token is not valid for " + path + ": check the URL and http_config.authorization.credentials in Alertmanager's webhook config"; code != http.StatusUnauthorized || strings.TrimSpace(msg) != want {
		t.Errorf("wrong password: %d %q, want 401 %q", code, msg, want)
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("a wrong password made %d writes through the receiver's client", n)
	}
	if incs := grafanaIncidents(t, ns); len(incs) != 0 {
		t.Errorf("a wrong password opened %d incidents", len(incs))
	}
}

// Hostile and broken Grafana requests: each gets its exact answer, and none
// writes anything.
func TestGrafanaHostileInput(t *testing.T) {
	ns := newNamespace(t)
	grafanaRouteFixture(t, ns)
	var writes atomic.Int32
	srv := newReceiver(t, countIncidentWrites(mgr.GetClient(), &writes), func(o *receiver.Options) { o.MaxBodyBytes = 64 << 10 })
	path := "/alertmanager/" + ns + "/grafana"
	valid := grafanaPayload(t, "firing-group.json")
	edit := func(f func(m map[string]any)) []byte { return editPayload(t, valid, f) }
	firstAlert := func(m map[string]any) map[string]any { return m["alerts"].([]any)[0].(map[string]any) }

	unauthorized := "the bearer token is not valid for " + path + ": check the URL and http_config.authorization.credentials in Alertmanager's webhook config"
	missing := "missing bearer token: set http_config.authorization.credentials in Alertmanager's webhook config"
	cases := map[string]struct {
		method string
		auth   func(*http.Request)
		body   []byte
		code   int
		answer string
	}{
		"malformed JSON": {http.MethodPost, withBearer, []byte(`{"version":"1",`), http.StatusBadRequest,
			"the request body is not valid JSON (at byte 15): unexpected end of JSON input"},
		"version 3": {http.MethodPost, withBearer, edit(func(m map[string]any) { m["version"] = "3" }), http.StatusBadRequest,
			`the payload has version "3": Klaxon accepts Alertmanager webhook payload version "4" and Grafana's version "1"`},
		"unknown state": {http.MethodPost, withBearer, edit(func(m map[string]any) { m["state"] = "paused" }), http.StatusBadRequest,
			`the payload has state "paused": want "alerting", "ok", "no_data" or "error"`},
		"state ok while firing": {http.MethodPost, withBearer, edit(func(m map[string]any) { m["state"] = "ok" }), http.StatusBadRequest,
			`the payload's state is "ok" but its status is "firing": a group in state ok is resolved`},
		"resolved group with a firing alert": {http.MethodPost, withBearer, edit(func(m map[string]any) { m["status"], m["state"] = "resolved", "ok" }), http.StatusBadRequest,
			`the payload's status is resolved but alerts[0] (fingerprint "c6eadffa33fcdf37") is firing: a group is resolved only when all its alerts are`},
		"no groupKey": {http.MethodPost, withBearer, edit(func(m map[string]any) { delete(m, "groupKey") }), http.StatusBadRequest,
			"the payload has no groupKey: Klaxon needs it to tell alert groups apart"},
		"10,000-character groupKey": {http.MethodPost, withBearer, edit(func(m map[string]any) { m["groupKey"] = strings.Repeat("k", 10000) }), http.StatusBadRequest,
			"the payload's groupKey is 10000 characters long; Klaxon accepts at most 4096"},
		"labels not strings": {http.MethodPost, withBearer, edit(func(m map[string]any) { firstAlert(m)["labels"] = map[string]any{"zone": 1} }), http.StatusBadRequest,
			"the request body is not a Grafana webhook payload: json: cannot unmarshal number into Go struct field grafanaAlert.alerts.labels of type string"},
		"body over the limit": {http.MethodPost, withBearer, edit(func(m map[string]any) { m["message"] = strings.Repeat("m", 70<<10) }), http.StatusRequestEntityTooLarge,
			"the request body is larger than 65536 bytes: lower max_alerts in Alertmanager's webhook config"},
		"no credentials":       {http.MethodPost, nil, valid, http.StatusUnauthorized, missing},
		"wrong password":       {http.MethodPost, func(r *http.Request) { r.SetBasicAuth("grafana", "guess") }, valid, http.StatusUnauthorized, unauthorized},
		"token as user name":   {http.MethodPost, func(r *http.Request) { r.SetBasicAuth(token, "") }, valid, http.StatusUnauthorized, missing},
		"scheme without token": {http.MethodPost, func(r *http.Request) { r.Header.Set("Authorization", "Bearer") }, valid, http.StatusUnauthorized, missing},
		"token without scheme": {http.MethodPost, func(r *http.Request) { r.Header.Set("Authorization", token) }, valid, http.StatusUnauthorized, missing},
		"PUT":                  {http.MethodPut, withBearer, valid, http.StatusMethodNotAllowed, "method PUT is not allowed: Alertmanager webhooks are POSTed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, msg := deliverGrafana(t, srv.URL, tc.method, path, tc.auth, tc.body)
			if code != tc.code || strings.TrimSpace(msg) != tc.answer {
				t.Errorf("answer %d %q, want %d %q", code, msg, tc.code, tc.answer)
			}
		})
	}
	if incs := grafanaIncidents(t, ns); len(incs) != 0 {
		t.Errorf("hostile requests opened %d incidents", len(incs))
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("hostile requests made %d writes", n)
	}
}

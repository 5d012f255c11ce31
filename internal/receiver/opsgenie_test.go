package receiver_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// opsgenieRouteFixture creates the token Secret and an AlertRoute
// "payments" that reads Opsgenie's priorities from the label priority.
func opsgenieRouteFixture(t *testing.T, ns string) *klaxonv1alpha1.AlertRoute {
	t.Helper()
	tokenSecretFixture(t, ns)
	return createRoute(t, ns, "payments", klaxonv1alpha1.AlertRouteSpec{
		Severity: klaxonv1alpha1.AlertSeverityMapping{Label: "priority", Map: map[string]klaxonv1alpha1.Severity{
			"P1": klaxonv1alpha1.SeverityCritical, "P2": klaxonv1alpha1.SeverityHigh, "P3": klaxonv1alpha1.SeverityModerate,
			"P4": klaxonv1alpha1.SeverityLow, "P5": klaxonv1alpha1.SeverityLow}},
	})
}

// opsgenieAnswer is an answer of the Opsgenie intake: a 202's result or an
// error's message and errors, with took and requestId.
type opsgenieAnswer struct {
	code      int
	requestID string            // the X-Request-ID header
	Result    string            `json:"result"`
	Message   string            `json:"message"`
	Errors    map[string]string `json:"errors"`
	Took      *float64          `json:"took"`
	RequestID string            `json:"requestId"`
}

// opsgenieCall sends an Alert API request; key "" sends no Authorization.
func opsgenieCall(t *testing.T, base, method, path, key, body string) opsgenieAnswer {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "GenieKey "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	a := opsgenieAnswer{code: resp.StatusCode, requestID: resp.Header.Get("X-Request-ID")}
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("%s %s: answer %d %q is not JSON: %v", method, path, resp.StatusCode, raw, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if a.Took == nil || a.RequestID == "" || a.RequestID != a.requestID {
		t.Errorf("%s %s: answer %s lacks took, or its requestId differs from X-Request-ID %q", method, path, raw, a.requestID)
	}
	return a
}

// accepted checks Opsgenie's 202.
func accepted(t *testing.T, a opsgenieAnswer) {
	t.Helper()
	if a.code != http.StatusAccepted || a.Result != "Request will be processed" {
		t.Fatalf("answer %d %+v, want Opsgenie's 202", a.code, a)
	}
}

func onlyOpsgenieIncident(t *testing.T, ns, what string, done func(*klaxonv1alpha1.Incident) bool) klaxonv1alpha1.Incident {
	t.Helper()
	var inc klaxonv1alpha1.Incident
	eventually(t, what, func(ctx context.Context) (bool, error) {
		incs := groupIncidents(t, ns)
		if len(incs) != 1 {
			return false, nil
		}
		inc = incs[0]
		return done(&inc), nil
	})
	return inc
}

// cacheShows waits until the operator's cache shows the incident as the API
// server does, as it does between a sender's repeats.
func cacheShows(t *testing.T, inc *klaxonv1alpha1.Incident) {
	t.Helper()
	eventually(t, "the cache to catch up", func(ctx context.Context) (bool, error) {
		live, cached := &klaxonv1alpha1.Incident{}, &klaxonv1alpha1.Incident{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), live); err != nil {
			return false, err
		}
		err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(inc), cached)
		return err == nil && cached.ResourceVersion == live.ResourceVersion, nil
	})
}

func TestOpsgenieAlertLifecycle(t *testing.T) {
	ns := newNamespace(t)
	opsgenieRouteFixture(t, ns)
	var writes atomic.Int32
	srv := newReceiver(t, countWrites(mgr.GetClient(), &writes))
	base := "/opsgenie/" + ns + "/payments/v2/alerts"
	create := `{"message":"Checkout database is down","alias":"db down/eu","priority":"P1","description":"Primary refuses connections",
		"details":{"team":"payments","region":"eu-west-1"},"tags":["database"],"entity":"checkout-db","source":"probe","responders":[{"name":"payments","type":"team"}]}`

	accepted(t, opsgenieCall(t, srv.URL, http.MethodPost, base, token, create))
	inc := onlyOpsgenieIncident(t, ns, "the incident", func(inc *klaxonv1alpha1.Incident) bool { return inc.Status.Alerts != nil })
	if inc.Spec.Severity != klaxonv1alpha1.SeverityCritical || inc.Spec.Title != "Checkout database is down" {
		t.Errorf("incident spec = severity %s, title %q", inc.Spec.Severity, inc.Spec.Title)
	}
	if inc.Spec.Source == nil || inc.Spec.Source.Intake != klaxonv1alpha1.IntakeOpsgenie || inc.Spec.Source.GroupKey != "opsgenie:db down/eu" {
		t.Errorf("source = %+v, want the opsgenie intake and the alias's group", inc.Spec.Source)
	}
	wantLabels := map[string]string{"alertname": "Checkout database is down", "priority": "P1", "team": "payments", "region": "eu-west-1",
		"tags": "database", "entity": "checkout-db", "source": "probe"}
	if got := inc.Status.Alerts.Items[0].Labels; !maps.Equal(got, wantLabels) {
		t.Errorf("stored labels = %v, want %v", got, wantLabels)
	}

	// An unchanged repeat writes nothing, and is still answered 202.
	cacheShows(t, &inc)
	writes.Store(0)
	for range 3 {
		accepted(t, opsgenieCall(t, srv.URL, http.MethodPost, base, token, create))
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("three unchanged creates made %d writes, want 0", n)
	}

	// Alertmanager's update_alerts sends the message and description after
	// every create: the same as the create's, they say nothing new.
	alertPath := base + "/db%20down%2Feu"
	accepted(t, opsgenieCall(t, srv.URL, http.MethodPut, alertPath+"/message?identifierType=alias", token, `{"message":"Checkout database is down"}`))
	accepted(t, opsgenieCall(t, srv.URL, http.MethodPut, alertPath+"/description?identifierType=alias", token, `{"description":"Primary refuses connections"}`))
	if n := writes.Load(); n != 0 {
		t.Errorf("updates repeating the create made %d writes, want 0", n)
	}

	// A message update is noted once: its repeat writes nothing. The
	// alias is addressed escaped, and by id, Opsgenie's default, which
	// Klaxon reads as the alias.
	accepted(t, opsgenieCall(t, srv.URL, http.MethodPut, alertPath+"/message?identifierType=alias", token, `{"message":"Both database replicas are down"}`))
	inc = onlyOpsgenieIncident(t, ns, "the message update noted", func(inc *klaxonv1alpha1.Incident) bool {
		last := lastTimelineEntry(inc, klaxonv1alpha1.TimelineNote)
		return last != nil && last.Message == "Message changed to: Both database replicas are down" && last.Actor == "opsgenie:payments"
	})
	cacheShows(t, &inc)
	writes.Store(0)
	accepted(t, opsgenieCall(t, srv.URL, http.MethodPut, alertPath+"/message", token, `{"message":"Both database replicas are down"}`))
	if n := writes.Load(); n != 0 {
		t.Errorf("a repeated message update made %d writes, want 0", n)
	}

	// Acknowledged by the sender, with its note.
	accepted(t, opsgenieCall(t, srv.URL, http.MethodPost, alertPath+"/acknowledge?identifierType=alias", token,
		`{"user":"Monitoring Script","source":"AWS Lambda","note":"Action executed via Alert API"}`))
	inc = onlyOpsgenieIncident(t, ns, "the incident acknowledged", func(inc *klaxonv1alpha1.Incident) bool {
		last := lastTimelineEntry(inc, klaxonv1alpha1.TimelineNote)
		return inc.Spec.State == klaxonv1alpha1.StateAcknowledged && last != nil && last.Message == "Monitoring Script: Action executed via Alert API"
	})
	if actor := inc.Annotations[klaxonv1alpha1.ActorAnnotation]; actor != "opsgenie:payments" {
		t.Errorf("actor = %q, want opsgenie:payments", actor)
	}

	accepted(t, opsgenieCall(t, srv.URL, http.MethodPost, alertPath+"/notes?identifierType=alias", token, `{"note":"Failover started"}`))
	onlyOpsgenieIncident(t, ns, "the note", func(inc *klaxonv1alpha1.Incident) bool {
		last := lastTimelineEntry(inc, klaxonv1alpha1.TimelineNote)
		return last != nil && last.Message == "Failover started"
	})

	// Closed: resolved, keeping the labels that fired.
	accepted(t, opsgenieCall(t, srv.URL, http.MethodPost, alertPath+"/close?identifierType=alias", token, `{"source":""}`))
	inc = onlyOpsgenieIncident(t, ns, "the incident resolved", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Spec.State == klaxonv1alpha1.StateResolved && inc.Status.Alerts != nil && inc.Status.Alerts.Resolved == 1
	})
	if got := inc.Status.Alerts.Items[0].Labels; !maps.Equal(got, wantLabels) {
		t.Errorf("stored labels after the close = %v, want %v", got, wantLabels)
	}
	if inc.Annotations[klaxonv1alpha1.ActorAnnotation] != "opsgenie:payments" {
		t.Errorf("actor = %q, want opsgenie:payments", inc.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
}

// Actions on an alias without incident are accepted and change nothing,
// as Opsgenie accepts them and reports later that the alert does not
// exist.
func TestOpsgenieUnknownAliasChangesNothing(t *testing.T) {
	ns := newNamespace(t)
	opsgenieRouteFixture(t, ns)
	var writes atomic.Int32
	srv := newReceiver(t, countWrites(mgr.GetClient(), &writes))
	base := "/opsgenie/" + ns + "/payments/v2/alerts/nothing-here"
	for _, action := range []string{"close", "acknowledge", "notes"} {
		accepted(t, opsgenieCall(t, srv.URL, http.MethodPost, base+"/"+action+"?identifierType=alias", token, `{"note":"n"}`))
	}
	accepted(t, opsgenieCall(t, srv.URL, http.MethodPut, base+"/description", token, `{"description":"d"}`))
	if incs := groupIncidents(t, ns); len(incs) != 0 {
		t.Errorf("%d incidents, want none", len(incs))
	}
	// The route records that the intake was heard from (behind the
	// answers; a second attempt when the cache's copy of the route was
	// behind), and nothing else is written.
	eventually(t, "the route's status.intakes", func(ctx context.Context) (bool, error) {
		ar := &klaxonv1alpha1.AlertRoute{}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, ar)
		return err == nil && len(ar.Status.Intakes) == 1, err
	})
	if n := writes.Load(); n > 2 {
		t.Errorf("%d writes, want at most the route's status.intakes, retried once", n)
	}
}

// lastTimelineEntry is the incident's latest timeline entry of a type, or
// nil.
func lastTimelineEntry(inc *klaxonv1alpha1.Incident, entryType string) *klaxonv1alpha1.TimelineEntry {
	for i := len(inc.Status.Timeline) - 1; i >= 0; i-- {
		if inc.Status.Timeline[i].Type == entryType {
			return &inc.Status.Timeline[i]
		}
	}
	return nil
}

package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/intake/pagerduty"
	"github.com/klaxon-dev/klaxon/internal/metrics"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// pagerDutyRouteFixture creates the token Secret and an AlertRoute
// "payments" without matchers, mapping PagerDuty's severities, with the
// default title template.
func pagerDutyRouteFixture(t *testing.T, ns string) *klaxonv1alpha1.AlertRoute {
	t.Helper()
	tokenSecretFixture(t, ns)
	return createRoute(t, ns, "payments", klaxonv1alpha1.AlertRouteSpec{
		Severity: klaxonv1alpha1.AlertSeverityMapping{Map: map[string]klaxonv1alpha1.Severity{
			"critical": klaxonv1alpha1.SeverityCritical, "error": klaxonv1alpha1.SeverityHigh,
			"warning": klaxonv1alpha1.SeverityModerate, "info": klaxonv1alpha1.SeverityLow,
		}},
	})
}

// pagerDutyReceiver serves a receiver whose Incident writes are counted.
func pagerDutyReceiver(t *testing.T, writes *atomic.Int32) string {
	t.Helper()
	return newReceiver(t, countIncidentWrites(mgr.GetClient(), writes), func(o *receiver.Options) { o.GroupIndexed = true }).URL
}

// postPagerDuty posts body to path and decodes PagerDuty's answer.
func postPagerDuty(t *testing.T, base, method, path string, body []byte) (int, pagerduty.Response) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	var r pagerduty.Response
	if err := json.Unmarshal(raw, &r); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %q (%s) is not PagerDuty's JSON: %v", resp.StatusCode, raw, resp.Header.Get("Content-Type"), err)
	}
	return resp.StatusCode, r
}

// triggerEvent is PagerDuty's documented example trigger, with the
// fixture's token.
func triggerEvent(routingKey string) []byte {
	return []byte(`{
  "payload": {
    "summary": "DISK at 99% on machine prod-datapipe03.example.com",
    "timestamp": "2015-07-17T08:42:58.315+0000",
    "severity": "critical",
    "source": "prod-datapipe03.example.com",
    "component": "mysql",
    "group": "prod-datapipe",
    "class": "disk",
    "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75}
  },
  "routing_key": "` + routingKey + `",
  "dedup_key": "srv01/mysql",
  "event_action": "trigger",
  "client": "Sample Monitoring Service",
  "client_url": "https://monitoring.service.com",
  "links": [{"href": "http://pagerduty.example.com", "text": "An example link."}]
}`)
}

func actionEvent(action, dedupKey string) []byte {
	return []byte(`{"routing_key":"` + token + `","event_action":"` + action + `","dedup_key":"` + dedupKey + `"}`)
}

// waitForCache waits until the operator's cache shows the incident in
// the state wanted, as it would between a sender's events.
func waitForOnlyIncident(t *testing.T, ns string, cond func(*klaxonv1alpha1.Incident) bool) {
	t.Helper()
	eventually(t, "the cache to see the incident", func(ctx context.Context) (bool, error) {
		list := &klaxonv1alpha1.IncidentList{}
		err := mgr.GetClient().List(ctx, list, client.InNamespace(ns))
		return err == nil && len(list.Items) == 1 && cond(&list.Items[0]), err
	})
}

func TestPagerDutyEventsMoveTheIncident(t *testing.T) {
	ns := newNamespace(t)
	pagerDutyRouteFixture(t, ns)
	var writes atomic.Int32
	base := pagerDutyReceiver(t, &writes)
	path := "/pagerduty/" + ns + "/payments/v2/enqueue"
	accepted := pagerduty.Accepted("srv01/mysql")

	code, r := postPagerDuty(t, base, http.MethodPost, path, triggerEvent(token))
	if code != http.StatusAccepted || !equalResponse(r, accepted) {
		t.Fatalf("trigger: %d %+v, want 202 %+v", code, r, accepted)
	}
	incs := groupIncidents(t, ns)
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	inc := incs[0]
	if inc.Spec.Title != "DISK at 99% on machine prod-datapipe03.example.com" || inc.Spec.Severity != klaxonv1alpha1.SeverityCritical ||
		inc.Spec.Source == nil || inc.Spec.Source.Intake != klaxonv1alpha1.IntakePagerDuty || inc.Spec.Source.GroupKey != "pagerduty:srv01/mysql" ||
		inc.Spec.Source.ExternalURL != "https://monitoring.service.com" {
		t.Errorf("incident spec %+v source %+v", inc.Spec, inc.Spec.Source)
	}
	if !strings.Contains(inc.Spec.Description, "Source: prod-datapipe03.example.com\nComponent: mysql") {
		t.Errorf("description %q", inc.Spec.Description)
	}
	firedLabels := map[string]string{"alertname": "DISK at 99% on machine prod-datapipe03.example.com", "dedup_key": "srv01/mysql",
		"source": "prod-datapipe03.example.com", "component": "mysql", "group": "prod-datapipe", "class": "disk", "severity": "critical"}
	// Until the operator stores them in status, the incident holds the
	// alerts it was opened with.
	if a := alertmapping.StoredAlerts(&inc); a == nil || a.Firing != 1 || len(a.Items) != 1 || !maps.Equal(a.Items[0].Labels, firedLabels) {
		t.Fatalf("alerts %+v, want one firing with labels %v", alertmapping.StoredAlerts(&inc), firedLabels)
	}

	// A repeat of the unchanged trigger writes nothing.
	waitForOnlyIncident(t, ns, func(inc *klaxonv1alpha1.Incident) bool { return inc.Status.Alerts != nil })
	before := writes.Load()
	if code, r := postPagerDuty(t, base, http.MethodPost, path, triggerEvent(token)); code != http.StatusAccepted || !equalResponse(r, accepted) {
		t.Fatalf("repeat: %d %+v", code, r)
	}
	if n := writes.Load() - before; n != 0 {
		t.Errorf("the repeated trigger made %d incident writes, want none", n)
	}

	// Acknowledge moves it as a person would, as pagerduty:payments.
	if code, r := postPagerDuty(t, base, http.MethodPost, path, actionEvent("acknowledge", "srv01/mysql")); code != http.StatusAccepted || !equalResponse(r, accepted) {
		t.Fatalf("acknowledge: %d %+v", code, r)
	}
	inc = groupIncidents(t, ns)[0]
	if inc.Spec.State != klaxonv1alpha1.StateAcknowledged || inc.Annotations[klaxonv1alpha1.ActorAnnotation] != "pagerduty:payments" {
		t.Errorf("after acknowledge: state %s actor %q", inc.Spec.State, inc.Annotations[klaxonv1alpha1.ActorAnnotation])
	}

	waitForOnlyIncident(t, ns, func(inc *klaxonv1alpha1.Incident) bool { return inc.Spec.State == klaxonv1alpha1.StateAcknowledged })
	if code, r := postPagerDuty(t, base, http.MethodPost, path, actionEvent("resolve", "srv01/mysql")); code != http.StatusAccepted || !equalResponse(r, accepted) {
		t.Fatalf("resolve: %d %+v", code, r)
	}
	inc = groupIncidents(t, ns)[0]
	if inc.Spec.State != klaxonv1alpha1.StateResolved || inc.Annotations[klaxonv1alpha1.ActorAnnotation] != "pagerduty:payments" ||
		inc.Status.Alerts == nil || inc.Status.Alerts.Resolved != 1 || len(inc.Status.Alerts.Items) != 1 {
		t.Fatalf("after resolve: state %s actor %q alerts %+v", inc.Spec.State, inc.Annotations[klaxonv1alpha1.ActorAnnotation], inc.Status.Alerts)
	}
	// The bare resolve names only the dedup_key; the resolved alert keeps
	// the labels it fired with.
	if got := inc.Status.Alerts.Items[0].Labels; !maps.Equal(got, firedLabels) {
		t.Errorf("labels after the resolve %v, want the trigger's %v", got, firedLabels)
	}

	// The route shows which intake reached it.
	eventually(t, "status.intakes to name pagerduty", func(ctx context.Context) (bool, error) {
		ar := &klaxonv1alpha1.AlertRoute{}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, ar)
		for _, in := range ar.Status.Intakes {
			if in.Name == klaxonv1alpha1.IntakePagerDuty && in.LastIncident == inc.Name {
				return true, err
			}
		}
		return false, err
	})
}

// A trigger without a dedup_key gets a new one, returned, and a new
// incident each time, as PagerDuty does.
func TestPagerDutyTriggerWithoutDedupKey(t *testing.T) {
	ns := newNamespace(t)
	pagerDutyRouteFixture(t, ns)
	var writes atomic.Int32
	base := pagerDutyReceiver(t, &writes)
	body := []byte(`{"routing_key":"` + token + `","event_action":"trigger","payload":{"summary":"Ping failed","source":"probe-1","severity":"warning"}}`)
	keys := map[string]bool{}
	for range 2 {
		code, r := postPagerDuty(t, base, http.MethodPost, "/pagerduty/"+ns+"/payments/v2/enqueue", body)
		if code != http.StatusAccepted || r.Status != "success" || len(r.DedupKey) != 32 {
			t.Fatalf("answer %d %+v, want 202 with a generated dedup_key", code, r)
		}
		keys[r.DedupKey] = true
	}
	incs := groupIncidents(t, ns)
	if len(keys) != 2 || len(incs) != 2 {
		t.Fatalf("keys %v, %d incidents: want two of each", keys, len(incs))
	}
	for _, inc := range incs {
		if inc.Spec.Severity != klaxonv1alpha1.SeverityModerate || !keys[strings.TrimPrefix(inc.Spec.Source.GroupKey, "pagerduty:")] {
			t.Errorf("incident %s: severity %s group %q", inc.Name, inc.Spec.Severity, inc.Spec.Source.GroupKey)
		}
	}
}

func TestPagerDutyChangeEvents(t *testing.T) {
	ns := newNamespace(t)
	pagerDutyRouteFixture(t, ns)
	var writes atomic.Int32
	base := pagerDutyReceiver(t, &writes)
	change := []byte(`{"routing_key":"` + token + `","payload":{"summary":"Build Success: Increase snapshot create timeout to 30 seconds",
		"timestamp":"2015-07-17T08:42:58.315+0000","source":"prod-build-agent-i-0b148d1040d565540","custom_details":{"build_state":"passed"}},
		"links":[{"href":"https://buildpipeline.com/pagerduty/deployment/builds/220","text":"View in Build Pipeline"}]}`)
	changePath := "/pagerduty/" + ns + "/payments/v2/change/enqueue"

	// No open incident: accepted and counted.
	counted := testutil.ToFloat64(metrics.ReceiverChangeEvents.WithLabelValues(ns, "payments"))
	code, r := postPagerDuty(t, base, http.MethodPost, changePath, change)
	if code != http.StatusAccepted || !equalResponse(r, pagerduty.ChangeAccepted()) {
		t.Fatalf("change event: %d %+v", code, r)
	}
	if got := testutil.ToFloat64(metrics.ReceiverChangeEvents.WithLabelValues(ns, "payments")) - counted; got != 1 {
		t.Errorf("change events counted: %v, want 1", got)
	}
	if writes.Load() != 0 {
		t.Errorf("a change event without incidents made %d incident writes", writes.Load())
	}

	// An open incident: noted on its timeline.
	if code, r := postPagerDuty(t, base, http.MethodPost, "/pagerduty/"+ns+"/payments/v2/enqueue", triggerEvent(token)); code != http.StatusAccepted {
		t.Fatalf("trigger: %d %+v", code, r)
	}
	waitForOnlyIncident(t, ns, func(inc *klaxonv1alpha1.Incident) bool { return inc.Status.Alerts != nil })
	if code, r := postPagerDuty(t, base, http.MethodPost, changePath, change); code != http.StatusAccepted || !equalResponse(r, pagerduty.ChangeAccepted()) {
		t.Fatalf("change event: %d %+v", code, r)
	}
	inc := groupIncidents(t, ns)[0]
	var note *klaxonv1alpha1.TimelineEntry
	for i := range inc.Status.Timeline {
		if e := &inc.Status.Timeline[i]; e.Type == klaxonv1alpha1.TimelineNote {
			note = e
		}
	}
	want := "Change: Build Success: Increase snapshot create timeout to 30 seconds\nSource: prod-build-agent-i-0b148d1040d565540"
	if note == nil || note.Actor != "pagerduty:payments" || !strings.HasPrefix(note.Message, want) {
		t.Errorf("note %+v, want one by pagerduty:payments starting %q", note, want)
	}
}

func TestPagerDutyPathsAndMethods(t *testing.T) {
	ns := newNamespace(t)
	pagerDutyRouteFixture(t, ns)
	var writes atomic.Int32
	base := pagerDutyReceiver(t, &writes)
	if code, r := postPagerDuty(t, base, http.MethodGet, "/pagerduty/"+ns+"/payments/v2/enqueue", nil); code != http.StatusMethodNotAllowed || r.Status != "Method Not Allowed" {
		t.Errorf("GET: %d %+v, want 405", code, r)
	}
	if code, r := postPagerDuty(t, base, http.MethodPost, "/pagerduty/"+ns+"/payments/v2/alerts", triggerEvent(token)); code != http.StatusNotFound || r.Status != "Not Found" {
		t.Errorf("unknown path: %d %+v, want 404", code, r)
	}
	if writes.Load() != 0 {
		t.Errorf("%d incident writes, want none", writes.Load())
	}
}

func equalResponse(got, want pagerduty.Response) bool {
	return bytes.Equal(got.Body(), want.Body())
}

// Failures a sender should retry keep PagerDuty's retry codes: a busy
// receiver is 429, a route that cannot check tokens 503, each with
// PagerDuty's error body.
func TestPagerDutyRetryableAnswers(t *testing.T) {
	ns := newNamespace(t)
	pagerDutyRouteFixture(t, ns)
	var writes atomic.Int32
	base := pagerDutyReceiver(t, &writes)

	// Lookups of unknown routes read the API server at most 5 at once and
	// 2 a second after (liveReadBurst, liveReadsPerSecond): within that
	// budget a wrong key for an unknown route is a wrong key (400), and
	// past it the receiver is busy (429), whichever route is named. Only
	// the budget refilled while the requests ran may allow one more 400.
	const burst, perSecond, requests = 5, 2, 10
	start := time.Now()
	codes := make([]int, 0, requests)
	for i := range requests {
		code, r := postPagerDuty(t, base, http.MethodPost, "/pagerduty/"+ns+"/unknown-"+strconv.Itoa(i)+"/v2/enqueue", triggerEvent("guess"))
		switch code {
		case http.StatusTooManyRequests:
			if r.Status != "Too Many Requests" || r.Message == "" || len(r.Errors) != 0 {
				t.Errorf("answer %d: 429 %+v, want PagerDuty's Too Many Requests", i, r)
			}
		case http.StatusBadRequest:
			if r.Status != "invalid event" || len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "the routing_key is not valid") {
				t.Errorf("answer %d: 400 %+v, want the wrong routing_key", i, r)
			}
		default:
			t.Fatalf("answer %d: %d %+v, want 400 or 429", i, code, r)
		}
		codes = append(codes, code)
	}
	refilled := int(time.Since(start).Seconds() * perSecond)
	wrongKeys := 0
	for _, code := range codes {
		if code == http.StatusBadRequest {
			wrongKeys++
		}
	}
	if codes[0] != http.StatusBadRequest || wrongKeys > burst+refilled {
		t.Errorf("answers %v: want a wrong key first, and at most %d wrong keys before the receiver is busy", codes, burst+refilled)
	}
	if first429 := slices.Index(codes, http.StatusTooManyRequests); first429 < 0 || first429 > burst+refilled {
		t.Errorf("answers %v: the receiver was not busy past the burst of %d lookups", codes, burst)
	}

	// A route whose token Secret does not exist cannot authenticate anyone.
	ar := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "no-secret", Namespace: ns},
		Spec:       klaxonv1alpha1.AlertRouteSpec{TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "missing", Key: "token"}},
	}
	if err := k8s.Create(context.Background(), ar); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache to see the route", func(ctx context.Context) (bool, error) {
		return mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(ar), &klaxonv1alpha1.AlertRoute{}) == nil, nil
	})
	code, r := postPagerDuty(t, base, http.MethodPost, "/pagerduty/"+ns+"/no-secret/v2/enqueue", triggerEvent(token))
	if code != http.StatusServiceUnavailable || r.Status != "Service Unavailable" || !strings.Contains(r.Message, "cannot check tokens yet") {
		t.Errorf("answer %d %+v, want 503 saying the route cannot check tokens", code, r)
	}
	if writes.Load() != 0 {
		t.Errorf("%d incident writes, want none", writes.Load())
	}
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
)

const alertsGuide = "docs/alerts-in.md"

// pagerDutyRoute creates a Ready route that maps PagerDuty's severities,
// with the default title template, in a new namespace.
func pagerDutyRoute(t *testing.T) *klaxonv1alpha1.AlertRoute {
	t.Helper()
	ns := routeNamespace(t, token)
	route := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "payments-critical", Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			Severity: klaxonv1alpha1.AlertSeverityMapping{Map: map[string]klaxonv1alpha1.Severity{
				"critical": klaxonv1alpha1.SeverityCritical, "error": klaxonv1alpha1.SeverityHigh,
				"warning": klaxonv1alpha1.SeverityModerate, "info": klaxonv1alpha1.SeverityLow,
			}},
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "alertmanager-token", Key: "token"},
		},
	}
	createReadyRoute(t, route)
	return route
}

// guideText is a snippet of the guide with its example URL and token made
// this test's.
func guideText(t *testing.T, name string, route *klaxonv1alpha1.AlertRoute) string {
	t.Helper()
	text := docsnippet.Block(t, alertsGuide, name)
	for example, real := range map[string]string{
		"http://klaxon-receiver.klaxon-system:9095": receiverURL,
		"/pagerduty/default/payments-critical/":     "/pagerduty/" + route.Namespace + "/" + route.Name + "/",
		"change-me":                                 token,
	} {
		text = strings.ReplaceAll(text, example, real)
	}
	return text
}

func TestPagerDutyFromAlertmanager(t *testing.T) {
	route := pagerDutyRoute(t)
	am, _ := runAlertmanagerWith(t, "[alertname, team]", "1h", guideText(t, "pagerduty-alertmanager", route))

	start := time.Now().Add(-time.Minute)
	am.send(t, checkoutAlert("checkout-1", start, time.Time{}))
	inc := onlyIncident(t, route.Namespace, "an incident from Alertmanager's PagerDuty notifier", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateTriggered && inc.Status.Alerts != nil && inc.Status.Alerts.Firing == 1
	})
	if inc.Spec.Source == nil || inc.Spec.Source.Intake != klaxonv1alpha1.IntakePagerDuty {
		t.Errorf("source %+v, want the pagerduty intake", inc.Spec.Source)
	}
	// Alertmanager's default PagerDuty summary, and severity critical
	// through the route's map.
	if !strings.HasPrefix(inc.Spec.Title, "[FIRING:1] CheckoutLatency") || inc.Spec.Severity != klaxonv1alpha1.SeverityCritical {
		t.Errorf("title %q severity %s", inc.Spec.Title, inc.Spec.Severity)
	}

	am.send(t, checkoutAlert("checkout-1", start, time.Now().Add(-time.Second)))
	inc = onlyIncident(t, route.Namespace, "the incident to resolve", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateResolved
	})
	if last := lastEntry(&inc, klaxonv1alpha1.TimelineResolved); last == nil || last.Actor != "pagerduty:"+route.Name {
		t.Errorf("resolution entry %+v, want one by pagerduty:%s", last, route.Name)
	}
}

// postEvent posts a guide's example event and returns the answer.
func postEvent(t *testing.T, route *klaxonv1alpha1.AlertRoute, snippet string) (int, map[string]any) {
	t.Helper()
	url := receiverURL + "/pagerduty/" + route.Namespace + "/" + route.Name + "/v2/enqueue"
	resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(guideText(t, snippet, route))))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("answer %d %q is not JSON: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, body
}

func TestPagerDutyGenericSender(t *testing.T) {
	route := pagerDutyRoute(t)
	accepted := map[string]any{"status": "success", "message": "Event processed", "dedup_key": "srv01/mysql"}
	post := func(snippet string) {
		t.Helper()
		code, body := postEvent(t, route, snippet)
		if code != http.StatusAccepted || !equalJSON(body, accepted) {
			t.Fatalf("%s: answer %d %v, want 202 %v", snippet, code, body, accepted)
		}
	}

	post("pagerduty-trigger")
	inc := onlyIncident(t, route.Namespace, "an incident from the trigger", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateTriggered && inc.Status.Alerts != nil && inc.Status.Alerts.Firing == 1
	})
	if inc.Spec.Title != "DISK at 99% on machine prod-datapipe03.example.com" || inc.Spec.Severity != klaxonv1alpha1.SeverityCritical ||
		inc.Spec.Source.ExternalURL != "https://monitoring.service.com" || !strings.Contains(inc.Spec.Description, `Details: {"free space":"1%"`) {
		t.Errorf("incident spec %+v", inc.Spec)
	}

	// A repeat of the unchanged trigger writes nothing, once the operator
	// has settled the new incident.
	var settled string
	eventually(t, "the incident to settle", 30*time.Second, func(ctx context.Context) (bool, error) {
		before := inc.ResourceVersion
		time.Sleep(2 * time.Second)
		err := k8s.Get(ctx, client.ObjectKeyFromObject(&inc), &inc)
		settled = inc.ResourceVersion
		return err == nil && before == settled, err
	})
	post("pagerduty-trigger")
	time.Sleep(2 * time.Second)
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(&inc), &inc); err != nil {
		t.Fatal(err)
	}
	if inc.ResourceVersion != settled {
		t.Errorf("a repeated trigger wrote the incident: resourceVersion %s, was %s", inc.ResourceVersion, settled)
	}

	post("pagerduty-acknowledge")
	inc = onlyIncident(t, route.Namespace, "the incident to be acknowledged", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateAcknowledged
	})
	if actor := inc.Annotations[klaxonv1alpha1.ActorAnnotation]; actor != "pagerduty:"+route.Name {
		t.Errorf("actor %q, want pagerduty:%s", actor, route.Name)
	}

	post("pagerduty-resolve")
	inc = onlyIncident(t, route.Namespace, "the incident to resolve", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateResolved
	})
	if last := lastEntry(&inc, klaxonv1alpha1.TimelineResolved); last == nil || last.Actor != "pagerduty:"+route.Name {
		t.Errorf("resolution entry %+v, want one by pagerduty:%s", last, route.Name)
	}
	// The guide's resolve names only the dedup_key: the resolved alert
	// keeps what the trigger said.
	if a := inc.Status.Alerts; a == nil || len(a.Items) != 1 || a.Items[0].Status != "resolved" ||
		a.Items[0].Labels["alertname"] != "DISK at 99% on machine prod-datapipe03.example.com" || a.Items[0].Labels["class"] != "disk" {
		t.Errorf("alerts after the resolve %+v, want the trigger's labels", a)
	}
}

func equalJSON(got, want map[string]any) bool {
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return bytes.Equal(a, b)
}

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
)

// opsgenieGuide rewrites a configuration example of the guide's Opsgenie
// section for this run: the receiver's address, the test namespace and
// the route's token.
func opsgenieGuide(t *testing.T, snippet, ns string) string {
	t.Helper()
	return strings.NewReplacer(
		"http://klaxon-receiver.klaxon-system:9095", receiverURL,
		"/opsgenie/default/", "/opsgenie/"+ns+"/",
		"change-me", token,
	).Replace(docsnippet.Block(t, alertsGuide, snippet))
}

// createOpsgenieRoute creates the guide's route in ns and waits until it is
// Ready. The guide's escalation policy is left out: these tests look at
// incidents, not pages.
func createOpsgenieRoute(t *testing.T, ns string) *klaxonv1alpha1.AlertRoute {
	t.Helper()
	route := &klaxonv1alpha1.AlertRoute{}
	if err := yaml.UnmarshalStrict([]byte(docsnippet.Block(t, alertsGuide, "opsgenie-route")), route); err != nil {
		t.Fatalf("the guide's route: %v", err)
	}
	route.Namespace = ns
	route.Spec.EscalationPolicyRef = nil
	createReadyRoute(t, route)
	return route
}

func TestOpsgenieAlertmanagerNotifier(t *testing.T) {
	ns := routeNamespace(t, token)
	route := createOpsgenieRoute(t, ns)
	am, _ := runAlertmanagerWith(t, "[alertname, team]", "1h", opsgenieGuide(t, "opsgenie-alertmanager", ns))

	start := time.Now().Add(-time.Minute)
	am.send(t, checkoutAlert("checkout-1", start, time.Time{}))
	inc := onlyIncident(t, ns, "an incident for the group", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateTriggered && inc.Status.Alerts != nil && inc.Status.Alerts.Firing == 1
	})
	// The guide's priority template makes a critical alert P1, and the
	// route's map P1 SEV1; the title is the alertname detail and the
	// message (the summary).
	if inc.Spec.Severity != klaxonv1alpha1.SeverityCritical || inc.Spec.Title != "CheckoutLatency: p99 above 2s" {
		t.Errorf("incident spec = severity %s, title %q", inc.Spec.Severity, inc.Spec.Title)
	}
	if inc.Spec.Source == nil || inc.Spec.Source.Intake != klaxonv1alpha1.IntakeOpsgenie {
		t.Errorf("source = %+v, want the opsgenie intake", inc.Spec.Source)
	}
	if got := inc.Status.Alerts.Items[0].Labels; got["severity"] != "critical" || got["priority"] != "P1" || got["pod"] != "checkout-1" {
		t.Errorf("stored labels = %v, want Alertmanager's labels and the priority", got)
	}

	am.send(t, checkoutAlert("checkout-1", start, time.Now().Add(-time.Second)))
	inc = onlyIncident(t, ns, "the incident to be resolved", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateResolved
	})
	if last := lastEntry(&inc, klaxonv1alpha1.TimelineResolved); last == nil || last.Actor != "opsgenie:"+route.Name {
		t.Errorf("resolution entry = %+v, want one by opsgenie:%s", last, route.Name)
	}
	// update_alerts sent the message (and an empty description) after the
	// create, before the close: the create's message, nothing to note.
	if last := lastEntry(&inc, klaxonv1alpha1.TimelineNote); last != nil && strings.HasPrefix(last.Message, "Message changed to:") {
		t.Errorf("note %q: the message update repeated the create's message", last.Message)
	}
	// The close names only the alias: the resolved alert keeps its labels.
	if a := inc.Status.Alerts; a == nil || len(a.Items) != 1 || a.Items[0].Labels["pod"] != "checkout-1" || a.Items[0].Labels["priority"] != "P1" {
		t.Errorf("stored alerts after the close = %+v, want the create's labels", a)
	}
}

func TestOpsgenieGenericSender(t *testing.T) {
	ns := routeNamespace(t, token)
	route := createOpsgenieRoute(t, ns)
	create := curlOf(t, opsgenieGuide(t, "opsgenie-create", ns))

	postOpsgenie(t, create)
	inc := onlyIncident(t, ns, "an incident for the alias", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateTriggered && inc.Status.Alerts != nil
	})
	if inc.Spec.Severity != klaxonv1alpha1.SeverityCritical || inc.Spec.Title != "Checkout database is down" {
		t.Errorf("incident spec = severity %s, title %q", inc.Spec.Severity, inc.Spec.Title)
	}
	if got := inc.Status.Alerts.Items[0].Labels; got["service"] != "checkout" || got["entity"] != "checkout-db" || got["tags"] != "database,checkout" {
		t.Errorf("stored labels = %v, want the details, entity and tags", got)
	}

	// A repeat of the unchanged create writes nothing. The incident is
	// first left to settle, as the operator records its opening.
	inc = settledIncident(t, client.ObjectKeyFromObject(&inc))
	postOpsgenie(t, create)
	time.Sleep(2 * time.Second)
	var after klaxonv1alpha1.Incident
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(&inc), &after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != inc.ResourceVersion {
		t.Errorf("a repeated create wrote the incident: resourceVersion %s, then %s", inc.ResourceVersion, after.ResourceVersion)
	}

	postOpsgenie(t, curlOf(t, opsgenieGuide(t, "opsgenie-acknowledge", ns)))
	inc = onlyIncident(t, ns, "the incident to be acknowledged", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateAcknowledged
	})
	if actor := inc.Annotations[klaxonv1alpha1.ActorAnnotation]; actor != "opsgenie:"+route.Name {
		t.Errorf("actor = %q, want opsgenie:%s", actor, route.Name)
	}
	onlyIncident(t, ns, "the acknowledgement's note on the timeline", func(inc *klaxonv1alpha1.Incident) bool {
		last := lastEntry(inc, klaxonv1alpha1.TimelineNote)
		return last != nil && last.Message == "uptime-probe: Failover started" && last.Actor == "opsgenie:"+route.Name
	})

	postOpsgenie(t, curlOf(t, opsgenieGuide(t, "opsgenie-close", ns)))
	inc = onlyIncident(t, ns, "the incident to be resolved", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateResolved
	})
	if last := lastEntry(&inc, klaxonv1alpha1.TimelineResolved); last == nil || last.Actor != "opsgenie:"+route.Name {
		t.Errorf("resolution entry = %+v, want one by opsgenie:%s", last, route.Name)
	}
}

// settledIncident waits until the incident's resourceVersion has not
// changed for two seconds, and returns it.
func settledIncident(t *testing.T, key client.ObjectKey) klaxonv1alpha1.Incident {
	t.Helper()
	var inc klaxonv1alpha1.Incident
	version, since := "", time.Now()
	eventually(t, "the incident to settle", 30*time.Second, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, key, &inc); err != nil {
			return false, err
		}
		if inc.ResourceVersion != version {
			version, since = inc.ResourceVersion, time.Now()
		}
		return time.Since(since) >= 2*time.Second, nil
	})
	return inc
}

// curlRequest is a request of the guide, as its curl command line makes it.
type curlRequest struct {
	method, url, body string
	header            http.Header
}

var (
	curlMethod = regexp.MustCompile(`-X (\w+) '?(http[^' ]+)'?`)
	curlHeader = regexp.MustCompile(`-H '([^:']+): ([^']*)'`)
	curlData   = regexp.MustCompile(`-d '([^']*)'`)
)

// curlOf reads a curl command line of the guide: -X, the URL, -H and -d.
func curlOf(t *testing.T, line string) curlRequest {
	t.Helper()
	line = strings.ReplaceAll(line, "\\\n", " ")
	m := curlMethod.FindStringSubmatch(line)
	d := curlData.FindStringSubmatch(line)
	if m == nil || d == nil {
		t.Fatalf("no method, URL and body in %q", line)
	}
	req := curlRequest{method: m[1], url: m[2], body: d[1], header: http.Header{}}
	for _, h := range curlHeader.FindAllStringSubmatch(line, -1) {
		req.header.Add(h[1], h[2])
	}
	return req
}

// postOpsgenie sends the request and checks Opsgenie's 202 answer.
func postOpsgenie(t *testing.T, c curlRequest) {
	t.Helper()
	req, err := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = c.header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	var answer struct {
		Result    string  `json:"result"`
		Took      float64 `json:"took"`
		RequestID string  `json:"requestId"`
	}
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(body, &answer) != nil ||
		answer.Result != "Request will be processed" || answer.RequestID == "" {
		t.Fatalf("%s %s: %s %s, want Opsgenie's 202", c.method, c.url, resp.Status, body)
	}
}

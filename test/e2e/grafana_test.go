package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// grafanaWebhook is a webhook receiver of a Grafana contact point, as
// Grafana's file provisioning writes it (apiVersion 1, contactPoints).
type grafanaWebhook struct {
	URL                      string `json:"url"`
	HTTPMethod               string `json:"httpMethod"`
	Username                 string `json:"username"`
	Password                 string `json:"password"`
	AuthorizationScheme      string `json:"authorization_scheme"`
	AuthorizationCredentials string `json:"authorization_credentials"`
}

// grafanaContactPoint reads the guide's contact point snippet, with its
// placeholders (the receiver's address, namespace default, token change-me)
// made this test's, and returns its webhook settings.
func grafanaContactPoint(t *testing.T, snippet, ns string) grafanaWebhook {
	t.Helper()
	text := strings.NewReplacer(
		"http://klaxon-receiver.klaxon-system:9095", receiverURL,
		"/alertmanager/default/", "/alertmanager/"+ns+"/",
		"change-me", token,
	).Replace(docsnippet.Block(t, "docs/alerts-in.md", snippet))
	var file struct {
		APIVersion    int `json:"apiVersion"`
		ContactPoints []struct {
			Receivers []struct {
				Type     string         `json:"type"`
				Settings grafanaWebhook `json:"settings"`
			} `json:"receivers"`
		} `json:"contactPoints"`
	}
	if err := yaml.Unmarshal([]byte(text), &file); err != nil {
		t.Fatalf("snippet %s: %v", snippet, err)
	}
	if file.APIVersion != 1 || len(file.ContactPoints) != 1 || len(file.ContactPoints[0].Receivers) != 1 ||
		file.ContactPoints[0].Receivers[0].Type != "webhook" {
		t.Fatalf("snippet %s is not one contact point with one webhook receiver: %+v", snippet, file)
	}
	return file.ContactPoints[0].Receivers[0].Settings
}

// send delivers a payload as Grafana's webhook sender does: the configured
// method (POST by default), basic auth when a user name or password is set,
// the Authorization header when scheme and credentials are.
func (w grafanaWebhook) send(t *testing.T, body []byte) {
	t.Helper()
	method := w.HTTPMethod
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, w.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Grafana")
	if w.Username != "" || w.Password != "" {
		req.SetBasicAuth(w.Username, w.Password)
	}
	if w.AuthorizationScheme != "" && w.AuthorizationCredentials != "" {
		req.Header.Set("Authorization", w.AuthorizationScheme+" "+w.AuthorizationCredentials)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("delivering to %s: %v", w.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("delivering to %s: %s %s", w.URL, resp.Status, answer)
	}
}

// grafanaPayload reads a payload of Grafana's webhook from the pure
// package's fixtures (written from Grafana's documentation).
func grafanaPayload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(proc.RepoRoot(), "internal", "alertmapping", "testdata", "grafana", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Grafana's webhook contact point, configured as the guide shows it (both
// credential styles), opens an incident for a firing group and resolves it
// when the group resolves; a DatasourceError alert opens one that says the
// rule could not be evaluated.
func TestGrafanaContactPointOpensAndResolvesIncident(t *testing.T) {
	ns := routeNamespace(t, token)
	route := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "payments-critical", Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			Matchers: []string{`severity=~"critical|page"`},
			Severity: klaxonv1alpha1.AlertSeverityMapping{
				Label:   "severity",
				Map:     map[string]klaxonv1alpha1.Severity{"critical": klaxonv1alpha1.SeverityCritical},
				Default: klaxonv1alpha1.SeverityModerate,
			},
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "alertmanager-token", Key: "token"},
		},
	}
	createReadyRoute(t, route)
	bearer := grafanaContactPoint(t, "grafana-contact-point", ns)
	basic := grafanaContactPoint(t, "grafana-contact-point-basic-auth", ns)
	if bearer.AuthorizationCredentials != token || basic.Password != token {
		t.Fatalf("the guide's contact points carry no token: %+v, %+v", bearer, basic)
	}
	want := fmt.Sprintf("%s/alertmanager/%s/%s", receiverURL, ns, route.Name)
	if bearer.URL != want || basic.URL != want {
		t.Fatalf("the guide's contact points post to %s and %s, want %s", bearer.URL, basic.URL, want)
	}

	incidents := func(ctx context.Context) ([]klaxonv1alpha1.Incident, error) {
		list := &klaxonv1alpha1.IncidentList{}
		err := k8s.List(ctx, list, client.InNamespace(ns))
		return list.Items, err
	}
	var inc klaxonv1alpha1.Incident
	bearer.send(t, grafanaPayload(t, "firing-group.json"))
	eventually(t, "one triggered incident for the group", 30*time.Second, func(ctx context.Context) (bool, error) {
		items, err := incidents(ctx)
		if err != nil || len(items) != 1 {
			return false, err
		}
		inc = items[0]
		return inc.Status.Phase == klaxonv1alpha1.StateTriggered && inc.Status.Alerts != nil && inc.Status.Alerts.Firing == 2, nil
	})
	if inc.Spec.Severity != klaxonv1alpha1.SeverityCritical ||
		inc.Spec.Title != "High memory usage: [FIRING:2] High memory usage Infrastructure (critical blue)" {
		t.Errorf("incident spec = severity %s, title %q", inc.Spec.Severity, inc.Spec.Title)
	}
	if src := inc.Spec.Source; src == nil || src.Intake != klaxonv1alpha1.IntakeGrafana || src.ExternalURL != "https://play.grafana.org/" {
		t.Errorf("source = %+v, want Grafana's", src)
	}
	if !strings.Contains(inc.Spec.Description, "Dashboard: https://play.grafana.org/d/mem0ry/hosts?orgId=1") {
		t.Errorf("description %q has no dashboard link", inc.Spec.Description)
	}

	basic.send(t, grafanaPayload(t, "resolved-group.json"))
	eventually(t, "the incident to be resolved", 30*time.Second, func(ctx context.Context) (bool, error) {
		items, err := incidents(ctx)
		if err != nil || len(items) != 1 {
			return false, err
		}
		inc = items[0]
		return inc.Status.Phase == klaxonv1alpha1.StateResolved, nil
	})
	if last := lastEntry(&inc, klaxonv1alpha1.TimelineResolved); last == nil || last.Actor != klaxonv1alpha1.ActorAlertmanager {
		t.Errorf("resolution entry = %+v, want one by alertmanager", last)
	}

	// The rule's data source fails: Grafana sends a DatasourceError alert
	// in state alerting, its own group, which opens an incident saying so.
	bearer.send(t, grafanaPayload(t, "error.json"))
	const errorTitle = "DatasourceError: Evaluation error: Checkout p99 latency above 2s"
	eventually(t, "an incident for the DatasourceError group", 30*time.Second, func(ctx context.Context) (bool, error) {
		items, err := incidents(ctx)
		for _, item := range items {
			if item.Spec.Title == errorTitle {
				inc = item
				return true, err
			}
		}
		return false, err
	})
	if want := `Grafana could not evaluate the alert rule "Checkout latency" (DatasourceError): its query or data source failed. Data source: grafanacloud-prom. ` +
		`Error: [sse.dataQueryError] failed to execute query [A]`; !strings.HasPrefix(inc.Spec.Description, want) || inc.Spec.Severity != klaxonv1alpha1.SeverityCritical {
		t.Errorf("DatasourceError incident: severity %s, description %q, want SEV1 starting %q", inc.Spec.Severity, inc.Spec.Description, want)
	}
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

const token = "e2e-token"

// alertmanager is a running Alertmanager whose only receiver is Klaxon's
// webhook for one route.
type alertmanager struct {
	url string
}

// startAlertmanager runs a real Alertmanager that sends every group to
// Klaxon's webhook for namespace/route, grouped by alertname and team, with
// repeats an hour apart.
func startAlertmanager(t *testing.T, namespace, route string) *alertmanager {
	t.Helper()
	am, _ := runAlertmanager(t, namespace, route, "[alertname, team]", "1h")
	return am
}

// runAlertmanager runs a real Alertmanager with one route to Klaxon's
// webhook for namespace/route, grouping by groupBy and repeating a firing
// group every repeatInterval. stop kills it; t.Cleanup does too.
func runAlertmanager(t *testing.T, namespace, route, groupBy, repeatInterval string) (am *alertmanager, stop func()) {
	t.Helper()
	return runAlertmanagerWith(t, groupBy, repeatInterval, fmt.Sprintf(`
receivers:
- name: klaxon
  webhook_configs:
  - url: %s/alertmanager/%s/%s
    send_resolved: true
    http_config:
      authorization:
        credentials: %s
`, receiverURL, namespace, route, token))
}

// runAlertmanagerWith runs a real Alertmanager whose one route sends every
// group, grouped by groupBy and repeated every repeatInterval, to the
// receiver "klaxon" of receivers, a receivers: block (a guide's example).
func runAlertmanagerWith(t *testing.T, groupBy, repeatInterval, receivers string) (am *alertmanager, stop func()) {
	t.Helper()
	config := fmt.Sprintf(`
route:
  receiver: klaxon
  group_by: %s
  group_wait: 1s
  group_interval: 1s
  repeat_interval: %s
`, groupBy, repeatInterval) + receivers
	p, err := proc.StartAlertmanager(context.Background(), proc.AlertmanagerOptions{
		Binary: alertmanagerBin, Dir: t.TempDir(), Config: config, Log: os.Stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &alertmanager{url: p.URL}, p.Stop
}

// postableAlert is an alert as Alertmanager's API v2 takes it.
type postableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt,omitempty"`
	EndsAt      time.Time         `json:"endsAt,omitzero"`
}

// send posts alerts to Alertmanager, as Prometheus does.
func (am *alertmanager) send(t *testing.T, alerts ...postableAlert) {
	t.Helper()
	body, _ := json.Marshal(alerts)
	resp, err := http.Post(am.url+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("posting alerts: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting alerts: %s", resp.Status)
	}
}

func checkoutAlert(pod string, startsAt, endsAt time.Time) postableAlert {
	return postableAlert{
		Labels:      map[string]string{"alertname": "CheckoutLatency", "team": "payments", "severity": "critical", "pod": pod},
		Annotations: map[string]string{"summary": "p99 above 2s"},
		StartsAt:    startsAt,
		EndsAt:      endsAt,
	}
}

// routeNamespace makes a namespace whose Secrets the operator may read,
// holding the receiver token Secret alertmanager-token (key token) with
// value.
func routeNamespace(t *testing.T, value string) string {
	t.Helper()
	ctx := context.Background()
	ns, err := cluster.NewNamespace(ctx, "e2e-")
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "alertmanager-token", Namespace: ns, Labels: map[string]string{receiver.TokenSecretLabel: "true"}},
		StringData: map[string]string{"token": value},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	return ns
}

// createReadyRoute creates an AlertRoute and waits until it is Ready.
func createReadyRoute(t *testing.T, route *klaxonv1alpha1.AlertRoute) {
	t.Helper()
	if err := k8s.Create(context.Background(), route); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the route to be Ready", 30*time.Second, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route)
		return meta.IsStatusConditionTrue(route.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
}

func TestAlertmanagerOpensResolvesAndReopensIncident(t *testing.T) {
	// Made as `kubectl create secret --from-file` makes it: with the file's
	// trailing newline, which Alertmanager does not send.
	ns := routeNamespace(t, token+"\n")
	route := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "payments-critical", Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			Matchers:       []string{`severity=~"critical|page"`},
			Severity:       klaxonv1alpha1.AlertSeverityMapping{Map: map[string]klaxonv1alpha1.Severity{"critical": klaxonv1alpha1.SeverityCritical}},
			TitleTemplate:  `{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`,
			ReopenWindow:   &metav1.Duration{Duration: 30 * time.Minute},
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "alertmanager-token", Key: "token"},
		},
	}
	createReadyRoute(t, route)

	am := startAlertmanager(t, ns, route.Name)
	incidents := func(ctx context.Context) ([]klaxonv1alpha1.Incident, error) {
		list := &klaxonv1alpha1.IncidentList{}
		err := k8s.List(ctx, list, client.InNamespace(ns))
		return list.Items, err
	}

	// Two pods fire: one group, one incident.
	start := time.Now().Add(-time.Minute)
	am.send(t, checkoutAlert("checkout-1", start, time.Time{}), checkoutAlert("checkout-2", start, time.Time{}))
	var inc klaxonv1alpha1.Incident
	eventually(t, "one incident for the group", 30*time.Second, func(ctx context.Context) (bool, error) {
		items, err := incidents(ctx)
		if err != nil || len(items) != 1 {
			return false, err
		}
		inc = items[0]
		return inc.Status.Phase == klaxonv1alpha1.StateTriggered && inc.Status.Alerts != nil && inc.Status.Alerts.Firing == 2, nil
	})
	if inc.Spec.Severity != klaxonv1alpha1.SeverityCritical || inc.Spec.Title != "CheckoutLatency: p99 above 2s" {
		t.Errorf("incident spec = severity %s, title %q", inc.Spec.Severity, inc.Spec.Title)
	}
	if inc.Spec.Source == nil || inc.Spec.Source.ExternalURL != am.url {
		t.Errorf("source = %+v, want this Alertmanager's URL", inc.Spec.Source)
	}

	// Both resolve: the incident is resolved, by alertmanager.
	end := time.Now().Add(-time.Second)
	am.send(t, checkoutAlert("checkout-1", start, end), checkoutAlert("checkout-2", start, end))
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

	// It fires again within the reopen window: the same incident reopens.
	am.send(t, checkoutAlert("checkout-1", time.Now(), time.Time{}))
	eventually(t, "the incident to reopen", 30*time.Second, func(ctx context.Context) (bool, error) {
		items, err := incidents(ctx)
		if err != nil || len(items) != 1 {
			return false, err
		}
		inc = items[0]
		// The receiver stores the alerts; the operator's next reconcile
		// records them in the timeline, checked below.
		last := lastEntry(&inc, klaxonv1alpha1.TimelineAlerts)
		return inc.Status.Phase == klaxonv1alpha1.StateTriggered && inc.Status.Episode == 2 &&
			inc.Status.Alerts != nil && inc.Status.Alerts.Firing == 1 && last != nil && last.Message == "Alerts: 1 firing, 0 resolved", nil
	})
	if last := lastEntry(&inc, klaxonv1alpha1.TimelineReopened); last == nil || last.Actor != klaxonv1alpha1.ActorAlertmanager ||
		!last.Time.Equal(inc.Status.TriggeredAt) {
		t.Errorf("reopen entry = %+v, want the episode's reopen by alertmanager", last)
	}
	// The timeline also shows the alerts coming and going.
	if last := lastEntry(&inc, klaxonv1alpha1.TimelineAlerts); last == nil || last.Message != "Alerts: 1 firing, 0 resolved" {
		t.Errorf("last alerts entry = %+v, want one firing", last)
	}
}

// lastEntry is the incident's latest timeline entry of a type, or nil.
func lastEntry(inc *klaxonv1alpha1.Incident, entryType string) *klaxonv1alpha1.TimelineEntry {
	for i := len(inc.Status.Timeline) - 1; i >= 0; i-- {
		if inc.Status.Timeline[i].Type == entryType {
			return &inc.Status.Timeline[i]
		}
	}
	return nil
}

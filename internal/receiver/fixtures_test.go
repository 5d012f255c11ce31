package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

const token = "s3cret-token"

// routeFixture creates the token Secret and an AlertRoute "payments" that
// maps severity critical to SEV1.
func routeFixture(t *testing.T, ns string) *klaxonv1alpha1.AlertRoute {
	t.Helper()
	tokenSecretFixture(t, ns)
	return createRoute(t, ns, "payments", klaxonv1alpha1.AlertRouteSpec{
		Matchers: []string{`team="payments"`},
		Severity: klaxonv1alpha1.AlertSeverityMapping{
			Map: map[string]klaxonv1alpha1.Severity{"critical": klaxonv1alpha1.SeverityCritical},
		},
		TitleTemplate: `{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`,
	})
}

// tokenSecretFixture lets the operator read the namespace's token Secrets
// and creates the Secret "alertmanager-token" holding token under "token".
func tokenSecretFixture(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "alertmanager-token", Namespace: ns, Labels: map[string]string{receiver.TokenSecretLabel: "true"}},
		StringData: map[string]string{"token": token},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
}

// createRoute creates the AlertRoute ns/name with spec, reading its token
// from tokenSecretFixture's Secret, and waits until the operator's cache,
// which the receiver reads routes through, has it. (Secrets are read from
// the API server.)
func createRoute(t *testing.T, ns, name string, spec klaxonv1alpha1.AlertRouteSpec) *klaxonv1alpha1.AlertRoute {
	t.Helper()
	spec.TokenSecretRef = klaxonv1alpha1.SecretKeyReference{Name: "alertmanager-token", Key: "token"}
	ar := &klaxonv1alpha1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := k8s.Create(context.Background(), ar); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache to see the route", func(ctx context.Context) (bool, error) {
		return mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(ar), &klaxonv1alpha1.AlertRoute{}) == nil, nil
	})
	return ar
}

// newReceiver serves a receiver on a loopback port, reading through the
// operator's cache and writing through c (the operator's client by default).
func newReceiver(t *testing.T, c client.Client, opts ...func(*receiver.Options)) *httptest.Server {
	t.Helper()
	o := receiver.Options{Egress: suite.LoopbackPolicy()}
	if c == nil {
		// The operator's cache indexes incidents by group.
		c, o.GroupIndexed = mgr.GetClient(), true
	}
	for _, f := range opts {
		f(&o)
	}
	srv := httptest.NewServer(receiver.New(c, mgr.GetAPIReader(), o, ctrl.Log.WithName("receiver")).Handler())
	t.Cleanup(srv.Close)
	return srv
}

// firing builds a version 4 payload of the CheckoutLatency group.
func firing(status string, alerts ...template.Alert) []byte {
	msg := webhook.Message{
		Version:  "4",
		GroupKey: `{}/{team="payments"}:{alertname="CheckoutLatency"}`,
		Data: &template.Data{
			Receiver:          "klaxon",
			Status:            status,
			Alerts:            alerts,
			GroupLabels:       template.KV{"alertname": "CheckoutLatency"},
			CommonLabels:      template.KV{"alertname": "CheckoutLatency", "severity": "critical", "team": "payments"},
			CommonAnnotations: template.KV{"summary": "p99 above 2s"},
			ExternalURL:       "http://alertmanager.example:9093",
		},
	}
	b, _ := json.Marshal(msg)
	return b
}

func alert(fingerprint, status string) template.Alert {
	a := template.Alert{
		Status:      status,
		Fingerprint: fingerprint,
		Labels:      template.KV{"alertname": "CheckoutLatency", "severity": "critical", "team": "payments", "pod": fingerprint},
		StartsAt:    time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
	}
	if status == "resolved" {
		a.EndsAt = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	}
	return a
}

// post sends body to the receiver at base with the bearer token bearer ("" for none).
func post(t *testing.T, base, method, path, bearer string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// groupIncidents lists the incidents the route "payments" opened, from the
// API server.
func groupIncidents(t *testing.T, ns string) []klaxonv1alpha1.Incident {
	t.Helper()
	return routeIncidents(t, ns, "payments")
}

// routeIncidents lists the incidents the route opened, from the API server.
func routeIncidents(t *testing.T, ns, route string) []klaxonv1alpha1.Incident {
	t.Helper()
	list := &klaxonv1alpha1.IncidentList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns),
		client.MatchingLabels{klaxonv1alpha1.LabelAlertRoute: route}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

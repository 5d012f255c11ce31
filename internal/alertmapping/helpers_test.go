package alertmapping

import (
	"github.com/prometheus/alertmanager/template"

	"encoding/json"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const testGroupKey = `{}/{team="payments"}:{alertname="CheckoutLatency"}`

// firingAlert is a firing alert as Alertmanager sends it: with the expected
// end Prometheus gave it, which is not a resolution.
func firingAlert(fp string, startsAt time.Time) Alert {
	return Alert{
		Status:      StatusFiring,
		Labels:      KV{"alertname": "CheckoutLatency", "severity": "critical", "team": "payments", "pod": "checkout-" + fp},
		Annotations: KV{"summary": "p99 above 2s"},
		StartsAt:    startsAt,
		EndsAt:      startsAt.Add(4 * time.Minute),
		Fingerprint: fp,
	}
}

func resolvedAlert(fp string, startsAt, endsAt time.Time) Alert {
	a := firingAlert(fp, startsAt)
	a.Status = StatusResolved
	a.EndsAt = endsAt
	return a
}

// message builds a payload whose group status follows its alerts, as
// Alertmanager computes it.
func message(alerts ...Alert) *Message {
	status := StatusResolved
	for _, a := range alerts {
		if a.Status == StatusFiring {
			status = StatusFiring
		}
	}
	return &Message{
		Data: &template.Data{
			Receiver:          "klaxon",
			Status:            status,
			Alerts:            alerts,
			GroupLabels:       KV{"alertname": "CheckoutLatency"},
			CommonLabels:      KV{"alertname": "CheckoutLatency", "severity": "critical", "team": "payments"},
			CommonAnnotations: KV{"summary": "p99 above 2s"},
			ExternalURL:       "http://alertmanager:9093",
		},
		Version:  "4",
		GroupKey: testGroupKey,
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

func mustCompile(t testing.TB, spec klaxonv1alpha1.AlertRouteSpec) *Route {
	t.Helper()
	r, err := CompileRoute(spec)
	if err != nil {
		t.Fatalf("CompileRoute: %v", err)
	}
	return r
}

// paymentsSpec is the AlertRoute of DESIGN.md.
func paymentsSpec() klaxonv1alpha1.AlertRouteSpec {
	return klaxonv1alpha1.AlertRouteSpec{
		Matchers: []string{`severity=~"critical|page"`},
		Severity: klaxonv1alpha1.AlertSeverityMapping{
			Label: "severity",
			Map: map[string]klaxonv1alpha1.Severity{
				"critical": klaxonv1alpha1.SeverityCritical,
				"page":     klaxonv1alpha1.SeverityCritical,
				"warning":  klaxonv1alpha1.SeverityModerate,
			},
			Default: klaxonv1alpha1.SeverityModerate,
		},
		EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "payments"},
		TitleTemplate:       `{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`,
		ReopenWindow:        &metav1.Duration{Duration: 30 * time.Minute},
		TokenSecretRef:      klaxonv1alpha1.SecretKeyReference{Name: "alertmanager-token", Key: "token"},
	}
}

// storedIncident returns inc as the API server would hand it back: through JSON, so
// times are whole seconds in the local zone.
func storedIncident(t testing.TB, inc *klaxonv1alpha1.Incident) *klaxonv1alpha1.Incident {
	t.Helper()
	out := &klaxonv1alpha1.Incident{}
	if err := json.Unmarshal(mustJSON(t, inc), out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

func fingerprints(items []klaxonv1alpha1.AlertItem) []string {
	fps := make([]string, 0, len(items))
	for _, it := range items {
		fps = append(fps, it.Fingerprint)
	}
	return fps
}

func fp(i int) string { return fmt.Sprintf("%016x", i) }

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }

package alertmapping

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// FuzzParseWebhook feeds arbitrary bodies to the webhook path's parser,
// seeded with every Grafana fixture and the Alertmanager seeds: whatever
// the body, nothing panics, errors say something, a Grafana payload's
// description stays bounded, and the notification goes through summary,
// incident and decision as FuzzParseAndDecide checks them, a repeat writing
// nothing.
func FuzzParseWebhook(f *testing.F) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "grafana", "*.json"))
	if err != nil || len(fixtures) == 0 {
		f.Fatalf("no Grafana fixtures: %v", err)
	}
	for _, path := range fixtures {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Add([]byte(`{"version":"1","groupKey":"g","status":"firing","state":"no_data","alerts":[{"status":"firing","fingerprint":"f","values":null,"dashboardURL":"\n"}]}`))
	f.Add([]byte(`{"version":"1","groupKey":"g","status":"resolved","state":"ok","commonAnnotations":{"description":""},"alerts":[null]}`))
	// Grafana-managed alerting's DatasourceError alerts, named on the alerts only, the Error on one.
	f.Add([]byte(`{"version":"1","groupKey":"g","status":"firing","state":"alerting","commonLabels":{"rulename":"r\n"},"alerts":[{"status":"firing","fingerprint":"f","labels":{"alertname":"DatasourceError"}},{"status":"firing","fingerprint":"g","labels":{"alertname":"DatasourceError"},"annotations":{"Error":"x\ny"}}]}`))

	routes := []*Route{mustCompile(f, paymentsSpec()), mustCompile(f, klaxonv1alpha1.AlertRouteSpec{})}
	now := t0

	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := ParseWebhook(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if n.Message == nil || n.Data == nil || n.Kind != KindAlerts || n.Timeless {
			t.Fatalf("notification %+v", n)
		}
		switch n.Version {
		case GrafanaPayloadVersion:
			if n.Intake != IntakeGrafana {
				t.Fatalf("version 1 from intake %q", n.Intake)
			}
			if d := n.CommonAnnotations[descriptionAnnotation]; utf8.RuneCountInString(d) > maxDescriptionLength {
				t.Fatalf("description of %d characters", utf8.RuneCountInString(d))
			}
		case PayloadVersion:
			if n.Intake != IntakeAlertmanager {
				t.Fatalf("version 4 from intake %q", n.Intake)
			}
		default:
			t.Fatalf("accepted version %q", n.Version)
		}
		checkSummary(t, n.Message, Summarise(n.Message))
		for _, route := range routes {
			inc, err := NewIncident(route, "payments-critical", "payments", 1, n.Message)
			if err != nil {
				t.Fatalf("NewIncident: %v", err)
			}
			checkIncident(t, inc)
			checkDecideTwice(t, route, nil, n.Message, now)
			stored := storedIncident(t, incident(klaxonv1alpha1.StateTriggered, n.Message))
			stored.Name = IncidentName("payments-critical", n.GroupKey, 1)
			stored.Spec.Source.GroupKey = n.GroupKey
			checkDecideTwice(t, route, stored, n.Message, now)
		}
	})
}

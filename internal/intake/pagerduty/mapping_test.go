package pagerduty

import (
	"strings"
	"testing"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

func parsed(t *testing.T, body []byte) *Event {
	t.Helper()
	e, err := ParseEvent(body, fixedKey)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestNotificationOfTheDocumentedTrigger(t *testing.T) {
	n := parsed(t, fixture(t, "trigger.json")).Notification("priority")
	if n.Kind != alertmapping.KindAlerts || n.Intake != alertmapping.IntakePagerDuty || !n.Timeless {
		t.Fatalf("kind %v intake %q timeless %v", n.Kind, n.Intake, n.Timeless)
	}
	m := n.Message
	if m.Version != "4" || m.GroupKey != "pagerduty:srv01/mysql" || m.Status != "firing" || len(m.Alerts) != 1 {
		t.Fatalf("message %+v", m)
	}
	a := m.Alerts[0]
	if a.Fingerprint != alertmapping.FingerprintOf("srv01/mysql") || a.Status != "firing" || !a.StartsAt.IsZero() || !a.EndsAt.IsZero() {
		t.Errorf("alert %+v", a)
	}
	wantLabels := map[string]string{
		"alertname": "DISK at 99% on machine prod-datapipe03.example.com",
		"dedup_key": "srv01/mysql",
		"source":    "prod-datapipe03.example.com",
		"component": "mysql",
		"group":     "prod-datapipe",
		"class":     "disk",
		"priority":  "critical",
	}
	if !equalKV(m.CommonLabels, wantLabels) || !equalKV(a.Labels, wantLabels) {
		t.Errorf("labels\n%v\n%v\nwant %v", m.CommonLabels, a.Labels, wantLabels)
	}
	if !equalKV(m.GroupLabels, map[string]string{"alertname": "DISK at 99% on machine prod-datapipe03.example.com"}) {
		t.Errorf("group labels %v", m.GroupLabels)
	}
	wantAnnotations := map[string]string{
		"custom_details": `{"free space":"1%","ping time":"1500ms","load avg":0.75}`,
		"links":          `[{"href":"http://pagerduty.example.com","text":"An example link."}]`,
		"images":         `[{"src":"https://chart.googleapis.com/chart?chs=600x400\u0026chd=t:6,2,9,5,2,5,7,4,8,2,1\u0026cht=lc\u0026chds=a\u0026chxt=y\u0026chm=D,0033FF,0,0,5,1","href":"https://google.com","alt":"An example link with an image"}]`,
		"client":         "Sample Monitoring Service",
		"client_url":     "https://monitoring.service.com",
		"timestamp":      "2015-07-17T08:42:58.315+0000",
		"description": "Summary: DISK at 99% on machine prod-datapipe03.example.com\n" +
			"Source: prod-datapipe03.example.com\nComponent: mysql\nGroup: prod-datapipe\nClass: disk\nSeverity: critical\n" +
			"Client: Sample Monitoring Service https://monitoring.service.com\n" +
			`Details: {"free space":"1%","ping time":"1500ms","load avg":0.75}` + "\n" +
			"Link: An example link. http://pagerduty.example.com\n" +
			"Image: An example link with an image https://chart.googleapis.com/chart?chs=600x400&chd=t:6,2,9,5,2,5,7,4,8,2,1&cht=lc&chds=a&chxt=y&chm=D,0033FF,0,0,5,1",
	}
	if !equalKV(m.CommonAnnotations, wantAnnotations) || !equalKV(a.Annotations, wantAnnotations) {
		t.Errorf("annotations\n%q\nwant\n%q", m.CommonAnnotations, wantAnnotations)
	}
	if m.ExternalURL != "https://monitoring.service.com" {
		t.Errorf("externalURL %q", m.ExternalURL)
	}
}

func TestNotificationThroughTheRoute(t *testing.T) {
	route, err := alertmapping.CompileRoute(klaxonv1alpha1.AlertRouteSpec{Severity: klaxonv1alpha1.AlertSeverityMapping{
		Label: "severity",
		Map:   map[string]klaxonv1alpha1.Severity{"critical": "SEV1", "error": "SEV2", "warning": "SEV3", "info": "SEV4"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		file     string
		title    string
		severity klaxonv1alpha1.Severity
	}{
		"trigger":      {"trigger.json", "DISK at 99% on machine prod-datapipe03.example.com", "SEV1"},
		"info":         {"trigger-without-dedup-key.json", "Example alert on host1.example.com", "SEV4"},
		"alertmanager": {"alertmanager-trigger.json", "[FIRING:1] DiskFull (payments critical)", "SEV1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n := parsed(t, fixture(t, tc.file)).Notification("severity")
			inc, err := alertmapping.NewIncident(route, "payments", "payments", 1, n.Message)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Spec.Title != tc.title || inc.Spec.Severity != tc.severity {
				t.Errorf("title %q severity %s, want %q %s", inc.Spec.Title, inc.Spec.Severity, tc.title, tc.severity)
			}
			if !strings.HasPrefix(inc.Spec.Description, "Summary: ") {
				t.Errorf("description %q", inc.Spec.Description)
			}
			if d := alertmapping.Decide(route, nil, n.Message, time.Now()); d.Action != alertmapping.ActionCreate {
				t.Errorf("decision %+v, want a new incident", d)
			}
		})
	}
}

func TestNotificationOfResolveAndAcknowledge(t *testing.T) {
	n := parsed(t, fixture(t, "resolve.json")).Notification("severity")
	if n.Kind != alertmapping.KindAlerts || n.Status != "resolved" || n.GroupKey != "pagerduty:dedupkeyhere" ||
		len(n.Alerts) != 1 || n.Alerts[0].Status != "resolved" {
		t.Errorf("resolve: %+v", n.Message)
	}
	if !equalKV(n.CommonLabels, map[string]string{"dedup_key": "dedupkeyhere"}) {
		t.Errorf("resolve labels %v", n.CommonLabels)
	}
	n = parsed(t, fixture(t, "acknowledge.json")).Notification("severity")
	if n.Kind != alertmapping.KindAcknowledge || n.GroupKey != "pagerduty:dedupkeyhere" || len(n.Alerts) != 0 {
		t.Errorf("acknowledge: %+v", n)
	}
}

func TestNotificationBoundsWhatItKeeps(t *testing.T) {
	long := strings.Repeat("x", 60_000)
	body := `{"routing_key":"k","event_action":"trigger","dedup_key":"d","client":"` + long + `","client_url":"https://` + long + `",
		"payload":{"summary":"s\nsecond line","source":"` + long + `","severity":"error","class":"` + long + `","timestamp":"` + long + `",
		"custom_details":{"log":"` + long + `"}},
		"links":[` + strings.Repeat(`{"href":"https://`+strings.Repeat("l", 3000)+`","text":"t"},`, 40) + `{"href":"h"}]}`
	m := parsed(t, []byte(body)).Notification("severity").Message
	for k, v := range m.CommonLabels {
		if n := len([]rune(v)); n > maxLabelLength {
			t.Errorf("label %s is %d characters", k, n)
		}
	}
	if m.CommonLabels["alertname"] != "s second line" {
		t.Errorf("alertname %q, want the summary on one line", m.CommonLabels["alertname"])
	}
	limits := map[string]int{"description": maxDescriptionLength * 4, "custom_details": maxDetailsBytes, "links": maxListBytes,
		"client": maxFieldLength * 4, "timestamp": 64 * 4}
	for k, v := range m.CommonAnnotations {
		limit, ok := limits[k]
		if !ok {
			t.Errorf("unexpected annotation %s", k)
			continue
		}
		if len(v) > limit {
			t.Errorf("annotation %s is %d bytes, over %d", k, len(v), limit)
		}
	}
	if m.ExternalURL != "" {
		t.Errorf("an over-long client_url is kept: %d bytes", len(m.ExternalURL))
	}
}

func equalKV(kv alertmapping.KV, want map[string]string) bool {
	if len(kv) != len(want) {
		return false
	}
	for k, v := range want {
		if kv[k] != v {
			return false
		}
	}
	return true
}

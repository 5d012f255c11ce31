package alertmapping

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// grafanaFixture reads a payload of testdata/grafana (written from
// Grafana's documentation of the webhook notifier, see its README).
func grafanaFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "grafana", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkoutFailure is the Error annotation of error.json's DatasourceError
// alert.
const checkoutFailure = `[sse.dataQueryError] failed to execute query [A]: Post "http://prometheus:9090/api/v1/query_range": dial tcp 10.0.0.7:9090: connect: connection refused`

// noDataSilence is the silence link of no-data.json's alert: the rule's UID
// and the alert's labels but alertname and grafana_folder, as Grafana links.
const noDataSilence = "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3Dk8sl4t3ncy" +
	"&matcher=datasource_uid%3Dgrafanacloud-prom&matcher=rulename%3DCheckout+latency&matcher=severity%3Dcritical&matcher=team%3Dblue&orgId=1"

const (
	memoryDashboard = "https://play.grafana.org/d/mem0ry/hosts?orgId=1"
	memoryPanel     = "https://play.grafana.org/d/mem0ry/hosts?orgId=1&viewPanel=4"
	memoryImage     = "https://play.grafana.org/public/img/attachments/x8d0zuHvUQMvD1M1bU2f.png"
)

func TestParseGrafanaFixtures(t *testing.T) {
	// The route of the guide's example: the default title template, the
	// severity label mapped.
	route := mustCompile(t, klaxonv1alpha1.AlertRouteSpec{
		Severity: klaxonv1alpha1.AlertSeverityMapping{
			Label:   "severity",
			Map:     map[string]klaxonv1alpha1.Severity{"critical": klaxonv1alpha1.SeverityCritical},
			Default: klaxonv1alpha1.SeverityModerate,
		},
	})
	tests := map[string]struct {
		status          string
		firing, trunc   int
		title           string
		descriptionHas  []string
		descriptionLack []string
		// alert0 are annotations the first alert must have.
		alert0 map[string]string
		// common are common annotations the group must have; "" means absent.
		common map[string]string
	}{
		"firing-group.json": {
			status: StatusFiring, firing: 2,
			// The alerts' summaries differ, so Grafana's title is the summary.
			title:          "High memory usage: [FIRING:2] High memory usage Infrastructure (critical blue)",
			descriptionHas: []string{"The system has high memory usage\n\nDashboard: " + memoryDashboard + "\nPanel: " + memoryPanel},
			// The image and silence links are each alert's own.
			descriptionLack: []string{"Image:", "Silence:", "**Firing**", "Grafana reports no data", "Grafana could not evaluate"},
			alert0: map[string]string{
				"dashboardURL": memoryDashboard, "panelURL": memoryPanel, "imageURL": memoryImage,
				"silenceURL":  "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHigh+memory+usage&matcher=grafana_folder%3DInfrastructure&matcher=severity%3Dcritical&matcher=team%3Dblue&matcher=zone%3Dus-1&orgId=1",
				"values":      `{"B":44.23943737541908,"C":1}`,
				"valueString": "[ var='B' labels={zone=us-1} value=44.23943737541908 ], [ var='C' labels={zone=us-1} value=1 ]",
				"summary":     "This alert was triggered for zone us-1",
				"runbook_url": "https://myrunbook.com/runbook/1234",
			},
			common: map[string]string{
				"dashboardURL": memoryDashboard, "panelURL": memoryPanel, "imageURL": "", "silenceURL": "", "runbook_url": "https://myrunbook.com/runbook/1234",
				"summary": "[FIRING:2] High memory usage Infrastructure (critical blue)",
			},
		},
		"resolved-group.json": {
			status:         StatusResolved,
			title:          "High memory usage: [RESOLVED] High memory usage Infrastructure (critical blue)",
			descriptionHas: []string{"Dashboard: " + memoryDashboard},
			alert0:         map[string]string{"values": `{"B":12.5,"C":0}`},
			common:         map[string]string{"imageURL": ""},
		},
		// Grafana-managed alerting sends a rule without data as a firing
		// DatasourceNoData alert in state alerting.
		"no-data.json": {
			status: StatusFiring, firing: 1,
			title: "DatasourceNoData: No data: Checkout p99 latency above 2s",
			descriptionHas: []string{
				// No description annotation: Grafana's message is the text.
				`Grafana reports no data for the alert rule "Checkout latency" (DatasourceNoData): its query returned nothing, so its condition could not be checked. Data source: grafanacloud-prom.` +
					"\n\n**Firing**\n\nValue: [no value]\nLabels:\n - alertname = DatasourceNoData\n",
				// One alert: all its links are the group's.
				"Dashboard: https://play.grafana.org/d/ch3ck0ut/checkout?orgId=1\nPanel: https://play.grafana.org/d/ch3ck0ut/checkout?orgId=1&viewPanel=2\nSilence: " + noDataSilence,
			},
			alert0: map[string]string{"values": "", "valueString": "", "summary": "Checkout p99 latency above 2s"},
			common: map[string]string{"summary": "No data: Checkout p99 latency above 2s", "silenceURL": noDataSilence},
		},
		// A rule whose data source failed: a firing DatasourceError alert,
		// the failure in its Error annotation.
		"error.json": {
			status: StatusFiring, firing: 1,
			title: "DatasourceError: Evaluation error: Checkout p99 latency above 2s",
			descriptionHas: []string{`Grafana could not evaluate the alert rule "Checkout latency" (DatasourceError): its query or data source failed. Data source: grafanacloud-prom. ` +
				`Error: [sse.dataQueryError] failed to execute query [A]: Post "http://prometheus:9090/api/v1/query_range": dial tcp 10.0.0.7:9090: connect: connection refused` +
				"\n\n**Firing**\n"},
			alert0: map[string]string{"Error": checkoutFailure},
			common: map[string]string{"summary": "Evaluation error: Checkout p99 latency above 2s", "Error": checkoutFailure},
		},
		"truncated-group.json": {
			status: StatusFiring, firing: 2, trunc: 3,
			title: "High memory usage: [FIRING:2] High memory usage Infrastructure (critical blue)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n, err := ParseWebhook(grafanaFixture(t, name))
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if n.Intake != IntakeGrafana || n.Kind != KindAlerts || n.Timeless {
				t.Errorf("notification is intake %q, kind %d, timeless %v; want grafana alerts with their own times", n.Intake, n.Kind, n.Timeless)
			}
			msg := n.Message
			s := Summarise(msg)
			if msg.Status != tc.status || int(s.Firing) != tc.firing || int(s.Truncated) != tc.trunc {
				t.Errorf("status %s, %d firing, %d truncated; want %s, %d, %d", msg.Status, s.Firing, s.Truncated, tc.status, tc.firing, tc.trunc)
			}
			for _, a := range msg.Alerts {
				if a.StartsAt.IsZero() || a.Fingerprint == "" || (a.Status == StatusResolved) == a.EndsAt.IsZero() {
					t.Errorf("alert %s lost its times: %v to %v", a.Fingerprint, a.StartsAt, a.EndsAt)
				}
			}
			for k, want := range tc.alert0 {
				if got, ok := msg.Alerts[0].Annotations[k]; got != want || ok != (want != "") {
					t.Errorf("alerts[0] annotation %s = %q (present %v), want %q", k, got, ok, want)
				}
			}
			for k, want := range tc.common {
				if got, ok := msg.CommonAnnotations[k]; got != want || ok != (want != "") {
					t.Errorf("common annotation %s = %q (present %v), want %q", k, got, ok, want)
				}
			}

			inc, err := NewIncident(route, "grafana", "monitoring", 1, msg)
			if err != nil {
				t.Fatalf("NewIncident: %v", err)
			}
			if inc.Spec.Title != tc.title {
				t.Errorf("title %q, want %q", inc.Spec.Title, tc.title)
			}
			if inc.Spec.Severity != klaxonv1alpha1.SeverityCritical {
				t.Errorf("severity %s, want the route's mapping of severity=critical", inc.Spec.Severity)
			}
			if inc.Spec.Source.GroupKey != msg.GroupKey || inc.Spec.Source.ExternalURL != "https://play.grafana.org/" {
				t.Errorf("source %+v, want Grafana's group key and URL", inc.Spec.Source)
			}
			for _, want := range tc.descriptionHas {
				if !strings.Contains(inc.Spec.Description, want) {
					t.Errorf("description %q does not contain %q", inc.Spec.Description, want)
				}
			}
			for _, lack := range tc.descriptionLack {
				if strings.Contains(inc.Spec.Description, lack) {
					t.Errorf("description %q contains %q", inc.Spec.Description, lack)
				}
			}
		})
	}
}

// editGrafanaFixture is a fixture with edit applied to its decoded JSON.
func editGrafanaFixture(t *testing.T, name string, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(grafanaFixture(t, name), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A rule Grafana could not evaluate is told by the alertname Grafana-managed
// alerting gives it (the group's common one, or the one all alerts share),
// or by legacy alerting's state; its summary and opening sentence say so,
// and nothing else is marked.
func TestParseGrafanaNoDataAndError(t *testing.T) {
	alerts := func(m map[string]any) []any { return m["alerts"].([]any) }
	alert := func(m map[string]any, i int) map[string]any { return alerts(m)[i].(map[string]any) }
	// secondAlert appends a copy of the first alert, with its own
	// fingerprint and edit applied.
	secondAlert := func(m map[string]any, edit func(a map[string]any)) {
		b, _ := json.Marshal(alert(m, 0))
		var a map[string]any
		_ = json.Unmarshal(b, &a)
		a["fingerprint"] = "0f0f0f0f0f0f0f0f"
		edit(a)
		m["alerts"] = append(alerts(m), a)
	}
	const (
		noDataSentence = `Grafana reports no data for the alert rule "Checkout latency" (DatasourceNoData): its query returned nothing, so its condition could not be checked. Data source: grafanacloud-prom.`
		errorSentence  = `Grafana could not evaluate the alert rule "Checkout latency" (DatasourceError): its query or data source failed. Data source: grafanacloud-prom.`
		memoryTitle    = "[FIRING:2] High memory usage Infrastructure (critical blue)"
	)
	tests := map[string]struct {
		body []byte
		// summary is the common summary; sentence how the description
		// starts, "" for a description without one.
		summary, sentence string
	}{
		"DatasourceNoData alert": {
			body:    grafanaFixture(t, "no-data.json"),
			summary: "No data: Checkout p99 latency above 2s", sentence: noDataSentence + "\n\n**Firing**",
		},
		"DatasourceError alert with its Error": {
			body:    grafanaFixture(t, "error.json"),
			summary: "Evaluation error: Checkout p99 latency above 2s", sentence: errorSentence + " Error: " + checkoutFailure + "\n\n**Firing**",
		},
		"alertname on the alerts only": {
			body: editGrafanaFixture(t, "no-data.json", func(m map[string]any) {
				m["commonLabels"] = map[string]any{}
				secondAlert(m, func(a map[string]any) { a["labels"].(map[string]any)["zone"] = "eu-1" })
			}),
			summary:  "No data: Checkout p99 latency above 2s",
			sentence: "Grafana reports no data for this alert rule (DatasourceNoData): its query returned nothing, so its condition could not be checked.\n\n**Firing**",
		},
		"errors differing between alerts": {
			body: editGrafanaFixture(t, "error.json", func(m map[string]any) {
				delete(m["commonAnnotations"].(map[string]any), "Error")
				// The first alert's query recovered; the firing one's error
				// is the one told.
				a := alert(m, 0)
				a["status"], a["endsAt"] = "resolved", "2021-10-12T11:30:00+02:00"
				secondAlert(m, func(a map[string]any) {
					a["status"], a["endsAt"] = "firing", "0001-01-01T00:00:00Z"
					a["annotations"].(map[string]any)["Error"] = "context deadline\n exceeded"
				})
			}),
			summary:  "Evaluation error: Checkout p99 latency above 2s",
			sentence: errorSentence + " Error of the first failing alert: context deadline exceeded\n\n",
		},
		"legacy state no_data": {
			body:    editGrafanaFixture(t, "firing-group.json", func(m map[string]any) { m["state"] = "no_data" }),
			summary: "No data: " + memoryTitle,
			sentence: "Grafana reports no data for this alert rule (state no_data): its query returned nothing, so its condition could not be checked.\n\n" +
				"The system has high memory usage",
		},
		"legacy state error": {
			body:     editGrafanaFixture(t, "firing-group.json", func(m map[string]any) { m["state"] = "error" }),
			summary:  "Evaluation error: " + memoryTitle,
			sentence: "Grafana could not evaluate this alert rule (state error): its query or data source failed.\n\nThe system has high memory usage",
		},
		"legacy state wins over the alertname": {
			body:     editGrafanaFixture(t, "error.json", func(m map[string]any) { m["state"] = "no_data" }),
			summary:  "No data: Checkout p99 latency above 2s",
			sentence: `Grafana reports no data for the alert rule "Checkout latency" (state no_data): its query returned nothing, so its condition could not be checked. Data source: grafanacloud-prom.` + "\n\n",
		},
		"DatasourceError among other alerts": {
			body: editGrafanaFixture(t, "error.json", func(m map[string]any) {
				delete(m["commonLabels"].(map[string]any), "alertname")
				secondAlert(m, func(a map[string]any) { a["labels"].(map[string]any)["alertname"] = "Checkout latency" })
			}),
			summary: "Checkout p99 latency above 2s",
		},
		"resolved DatasourceNoData group": {
			body: editGrafanaFixture(t, "no-data.json", func(m map[string]any) {
				m["status"], m["state"] = "resolved", "ok"
				a := alert(m, 0)
				a["status"], a["endsAt"] = "resolved", "2021-10-12T11:30:00+02:00"
			}),
			summary: "Checkout p99 latency above 2s",
		},
		"a rule's own alert": {
			body:    grafanaFixture(t, "firing-group.json"),
			summary: memoryTitle,
		},
		"long rule name and error are bounded": {
			body: editGrafanaFixture(t, "error.json", func(m map[string]any) {
				m["commonLabels"].(map[string]any)["rulename"] = strings.Repeat("r", 1000)
				m["commonAnnotations"].(map[string]any)["Error"] = strings.Repeat("e", 5000)
			}),
			summary: "Evaluation error: Checkout p99 latency above 2s",
			sentence: `Grafana could not evaluate the alert rule "` + strings.Repeat("r", maxLabelInSentence-1) + `…" (DatasourceError): its query or data source failed. Data source: grafanacloud-prom. ` +
				"Error: " + strings.Repeat("e", maxValuesLength-1) + "…\n\n**Firing**",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n, err := ParseWebhook(tc.body)
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if got := n.CommonAnnotations[summaryAnnotation]; got != tc.summary {
				t.Errorf("summary %q, want %q", got, tc.summary)
			}
			desc := n.CommonAnnotations[descriptionAnnotation]
			if tc.sentence == "" {
				if strings.Contains(desc, "Grafana reports no data") || strings.Contains(desc, "Grafana could not evaluate") {
					t.Errorf("description %q says the rule could not be evaluated", desc)
				}
			} else if !strings.HasPrefix(desc, tc.sentence) {
				t.Errorf("description %q does not start %q", desc, tc.sentence)
			}
		})
	}
}

// The firing group opens an incident, its repeat changes nothing, and the
// resolved group resolves it: Grafana's alert times drive Decide as
// Alertmanager's do.
func TestGrafanaGroupLifecycle(t *testing.T) {
	route := mustCompile(t, paymentsSpec())
	firing, err := ParseWebhook(grafanaFixture(t, "firing-group.json"))
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := ParseWebhook(grafanaFixture(t, "resolved-group.json"))
	if err != nil {
		t.Fatal(err)
	}
	if firing.GroupKey != resolved.GroupKey {
		t.Fatalf("the fixtures are not one group: %q and %q", firing.GroupKey, resolved.GroupKey)
	}
	now := t0
	d := Decide(route, nil, firing.Message, now)
	if d.Action != ActionCreate {
		t.Fatalf("first firing notification: %s (%s), want Create", d.Action, d.Message)
	}
	inc, err := NewIncident(route, "payments-critical", "payments", d.Serial, firing.Message)
	if err != nil {
		t.Fatal(err)
	}
	d.ApplyStatus(inc)
	inc.Status.Phase = inc.Spec.State
	inc = storedIncident(t, inc)
	if again := Decide(route, inc, firing.Message, now); again.Action != ActionNothing {
		t.Errorf("repeat: %s (%s), want Nothing", again.Action, again.Message)
	}
	d = Decide(route, inc, resolved.Message, now)
	if d.Action != ActionResolve || d.State != klaxonv1alpha1.StateResolved {
		t.Errorf("resolved group: %s to %q (%s), want Resolve", d.Action, d.State, d.Message)
	}
}

func TestParseGrafanaRefuses(t *testing.T) {
	base := func(edit func(m map[string]any)) string {
		return string(editGrafanaFixture(t, "firing-group.json", edit))
	}
	firstAlert := func(m map[string]any) map[string]any { return m["alerts"].([]any)[0].(map[string]any) }
	tests := map[string]struct {
		body, wantErr string
	}{
		"malformed JSON":    {`{"version":"1",`, "not valid JSON"},
		"version 3":         {`{"version":"3","groupKey":"g","status":"firing"}`, `has version "3": Klaxon accepts Alertmanager webhook payload version "4" and Grafana's version "1"`},
		"no version":        {`{"groupKey":"g","status":"firing"}`, `has no version: Klaxon accepts Alertmanager webhook payload version "4" and Grafana's version "1"`},
		"title is a number": {`{"version":"1","groupKey":"g","status":"firing","title":7}`, "not a Grafana webhook payload"},
		"missing groupKey":  {base(func(m map[string]any) { delete(m, "groupKey") }), "has no groupKey"},
		"groupKey too long": {base(func(m map[string]any) { m["groupKey"] = strings.Repeat("k", 4097) }), "groupKey is 4097 characters long"},
		"unknown status":    {base(func(m map[string]any) { m["status"] = "pending" }), `has status "pending"`},
		"unknown state":     {base(func(m map[string]any) { m["state"] = "paused" }), `has state "paused": want "alerting", "ok", "no_data" or "error"`},
		"state ok, firing":  {base(func(m map[string]any) { m["state"] = "ok" }), `state is "ok" but its status is "firing"`},
		"state no_data resolved": {base(func(m map[string]any) {
			m["state"] = "no_data"
			m["status"] = "resolved"
			firstAlert(m)["status"] = "resolved"
			m["alerts"] = m["alerts"].([]any)[:1]
		}), `state is "no_data" but its status is "resolved"`},
		"resolved with a firing": {base(func(m map[string]any) { m["status"] = "resolved"; m["state"] = "ok" }), `status is resolved but alerts[0] (fingerprint "c6eadffa33fcdf37") is firing`},
		"alert status unknown":   {base(func(m map[string]any) { firstAlert(m)["status"] = "pending" }), `alerts[0] (fingerprint "c6eadffa33fcdf37") has status "pending"`},
		"bad alert time":         {base(func(m map[string]any) { firstAlert(m)["startsAt"] = "yesterday" }), "not a Grafana webhook payload"},
		"huge state is clipped":  {base(func(m map[string]any) { m["state"] = strings.Repeat("s", 1000) }), "…"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseWebhook([]byte(tc.body))
			if err == nil {
				t.Fatalf("ParseWebhook succeeded, want an error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
			if len(err.Error()) > 600 {
				t.Errorf("error is %d bytes long; errors go into HTTP answers and should stay short", len(err.Error()))
			}
		})
	}
}

// What the mapping adds is bounded, links too long to keep whole are left
// out, and what the rules say wins over Grafana's fields.
func TestParseGrafanaBoundsAndPrecedence(t *testing.T) {
	long := "https://grafana.example/d/" + strings.Repeat("x", maxLinkLength)
	body := `{"version":"1","groupKey":"g","status":"firing","state":"alerting",
		"title":"` + strings.Repeat("t", 5000) + `","message":"` + strings.Repeat("m", 20000) + `",
		"commonLabels":{"alertname":"A"},
		"alerts":[{"status":"firing","fingerprint":"f","startsAt":"2026-11-23T10:00:00Z",
			"annotations":{"dashboardURL":"https://rule.example/own"},
			"dashboardURL":"https://grafana.example/d/1","panelURL":"` + long + `","silenceURL":" https://grafana.example/s \n",
			"valueString":"` + strings.Repeat("v", 5000) + `","values":{"B":` + strings.Repeat("1", 3000) + `}}]}`
	n, err := ParseWebhook([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	a := n.Alerts[0].Annotations
	if a["dashboardURL"] != "https://rule.example/own" {
		t.Errorf("the rule's own dashboardURL annotation was replaced by %q", a["dashboardURL"])
	}
	if _, ok := a["panelURL"]; ok {
		t.Errorf("a link longer than %d characters was kept", maxLinkLength)
	}
	if a["silenceURL"] != "https://grafana.example/s" {
		t.Errorf("silenceURL %q, want it trimmed", a["silenceURL"])
	}
	for k, limit := range map[string]int{"valueString": maxValuesLength, "values": maxValuesLength} {
		if got := utf8.RuneCountInString(a[k]); got != limit || !strings.HasSuffix(a[k], "…") {
			t.Errorf("%s is %d characters, want cut to %d", k, got, limit)
		}
	}
	common := n.CommonAnnotations
	if got := utf8.RuneCountInString(common["summary"]); got != maxSummaryLength {
		t.Errorf("summary is %d characters, want cut to %d", got, maxSummaryLength)
	}
	desc := common["description"]
	if got := utf8.RuneCountInString(desc); got > maxDescriptionLength || !strings.HasSuffix(desc, "Silence: https://grafana.example/s") {
		t.Errorf("description is %d characters ending %q; want at most %d, its links kept", got, desc[max(0, len(desc)-60):], maxDescriptionLength)
	}
	// The dashboard link differs between the rule and Grafana: the
	// group's is Grafana's, the alert's the rule's.
	if common["dashboardURL"] != "https://grafana.example/d/1" {
		t.Errorf("common dashboardURL %q", common["dashboardURL"])
	}
}

// Version 4 still goes to the Alertmanager mapping, unchanged.
func TestParseWebhookVersions(t *testing.T) {
	n, err := ParseWebhook(mustJSON(t, message(firingAlert("a", t0))))
	if err != nil || n.Intake != IntakeAlertmanager || n.Kind != KindAlerts || n.CommonAnnotations["summary"] != "p99 above 2s" {
		t.Fatalf("version 4: %+v, %v", n, err)
	}
	if _, ok := n.Alerts[0].Annotations["dashboardURL"]; ok {
		t.Error("a version 4 payload got Grafana's annotations")
	}
	// Grafana's fields in a version 4 payload are ignored, as any unknown
	// field is.
	body := `{"version":"4","groupKey":"g","status":"firing","state":"weird","title":1,"alerts":[{"status":"firing","fingerprint":"f","values":"x","panelURL":2}]}`
	if n, err := ParseWebhook([]byte(body)); err != nil || n.Intake != IntakeAlertmanager || len(n.CommonAnnotations) != 0 {
		t.Errorf("version 4 with Grafana-like fields: %+v, %v", n, err)
	}
	for body, wantErr := range map[string]string{
		"":              "request body is empty",
		`[1]`:           "not an Alertmanager webhook payload",
		`{"version":1}`: "not an Alertmanager webhook payload",
	} {
		if _, err := ParseWebhook([]byte(body)); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseWebhook(%q) = %v, want an error containing %q", body, err, wantErr)
		}
	}
}

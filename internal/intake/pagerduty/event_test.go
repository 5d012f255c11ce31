package pagerduty

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixedKey() string { return "generated-key" }

func TestParseEventDocumentedExamples(t *testing.T) {
	tests := map[string]struct {
		file      string
		action    Action
		dedupKey  string
		generated bool
		severity  string
	}{
		"trigger":                   {file: "trigger.json", action: ActionTrigger, dedupKey: "srv01/mysql", severity: "critical"},
		"trigger without dedup_key": {file: "trigger-without-dedup-key.json", action: ActionTrigger, dedupKey: "generated-key", generated: true, severity: "info"},
		"acknowledge":               {file: "acknowledge.json", action: ActionAcknowledge, dedupKey: "dedupkeyhere"},
		"resolve":                   {file: "resolve.json", action: ActionResolve, dedupKey: "dedupkeyhere"},
		"alertmanager":              {file: "alertmanager-trigger.json", action: ActionTrigger, dedupKey: "4bc4e1d6d2e2b1a4f7a3a3c5c7f0d6e0b2a1c9d8e7f6a5b4c3d2e1f0a9b8c7d6", severity: "critical"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, err := ParseEvent(fixture(t, tc.file), fixedKey)
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if e.Action != tc.action || e.DedupKey != tc.dedupKey || e.GeneratedKey != tc.generated || e.Payload.Severity != tc.severity {
				t.Errorf("got action %q key %q generated %v severity %q, want %q %q %v %q",
					e.Action, e.DedupKey, e.GeneratedKey, e.Payload.Severity, tc.action, tc.dedupKey, tc.generated, tc.severity)
			}
		})
	}
}

func TestParseEventRefusals(t *testing.T) {
	tests := map[string]struct {
		body   string
		status string
		errors []string
	}{
		"empty body": {body: "  ", status: statusUnrecognized,
			errors: []string{"JSON parse error: the request body is empty"}},
		"malformed JSON": {body: `{"routing_key": "k",`, status: statusUnrecognized},
		"trailing data":  {body: `{"routing_key":"k","event_action":"resolve","dedup_key":"d"} x`, status: statusUnrecognized},
		"not an object": {body: `["trigger"]`, status: statusUnrecognized,
			errors: []string{"the event is a JSON array, not an object"}},
		"summary not a string": {body: `{"routing_key":"k","event_action":"trigger","payload":{"summary":5}}`, status: statusInvalid,
			errors: []string{"'payload.summary' is invalid (must be a string, got a JSON number)"}},
		"links not an array": {body: `{"routing_key":"k","event_action":"trigger","links":{}}`, status: statusInvalid,
			errors: []string{"'links' is invalid (must be an array, got a JSON object)"}},
		"nothing": {body: `{}`, status: statusInvalid,
			errors: []string{"'routing_key' is missing or blank", "'event_action' is missing or blank"}},
		"wrong event_action": {body: `{"routing_key":"k","event_action":"escalate","dedup_key":"d"}`, status: statusInvalid,
			errors: []string{`'event_action' is invalid (must be one of: trigger, acknowledge, resolve; got "escalate")`}},
		"resolve without dedup_key": {body: `{"routing_key":"k","event_action":"resolve"}`, status: statusInvalid,
			errors: []string{"'dedup_key' is missing or blank (acknowledge and resolve events name the alert they apply to)"}},
		"acknowledge with blank dedup_key": {body: `{"routing_key":"k","event_action":"acknowledge","dedup_key":"  "}`, status: statusInvalid,
			errors: []string{"'dedup_key' is missing or blank (acknowledge and resolve events name the alert they apply to)"}},
		"dedup_key too long": {body: `{"routing_key":"k","event_action":"resolve","dedup_key":"` + strings.Repeat("é", 256) + `"}`, status: statusInvalid,
			errors: []string{"Length of 'dedup_key' is too long (maximum is 255 characters)"}},
		"trigger without payload": {body: `{"routing_key":"k","event_action":"trigger"}`, status: statusInvalid,
			errors: []string{"'payload.summary' is missing or blank", "'payload.source' is missing or blank", "'payload.severity' is missing or blank"}},
		"summary too long": {body: `{"routing_key":"k","event_action":"trigger","payload":{"summary":"` + strings.Repeat("x", 1025) + `","source":"s","severity":"info"}}`, status: statusInvalid,
			errors: []string{"Length of 'payload.summary' is too long (maximum is 1024 characters)"}},
		"unknown severity": {body: `{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"SEV1"}}`, status: statusInvalid,
			errors: []string{`'payload.severity' is invalid (must be one of: critical, error, warning, info; got "SEV1")`}},
		"too large": {body: `{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"info","custom_details":{"x":"` + strings.Repeat("a", MaxEventBytes) + `"}}}`, status: statusInvalid},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, err := ParseEvent([]byte(tc.body), fixedKey)
			if err == nil {
				t.Fatalf("ParseEvent accepted the event: %+v", e)
			}
			r := err.Response
			if r.Status != tc.status || r.Message == "" || len(r.Errors) == 0 {
				t.Fatalf("answer %+v, want status %q with a message and errors", r, tc.status)
			}
			if tc.errors != nil && !slices.Equal(r.Errors, tc.errors) {
				t.Errorf("errors\n%q\nwant\n%q", r.Errors, tc.errors)
			}
		})
	}
}

func TestParseEventLeniency(t *testing.T) {
	// Severity in any case is PagerDuty's severity; links without an href
	// and images without a src are left out, as Alertmanager does before
	// it sends.
	e, err := ParseEvent([]byte(`{"routing_key":"k","event_action":"trigger","dedup_key":"d","payload":{"summary":"s","source":"h","severity":" Warning "},
		"links":[{"text":"no href"},{"href":"https://x"}],"images":[{"alt":"no src"}]}`), fixedKey)
	if err != nil {
		t.Fatal(err)
	}
	if e.Payload.Severity != "warning" {
		t.Errorf("severity %q, want warning", e.Payload.Severity)
	}
	if got := usableLinks(e.Links); len(got) != 1 || got[0].Href != "https://x" {
		t.Errorf("links %+v, want the one with an href", got)
	}
	if got := usableImages(e.Images); len(got) != 0 {
		t.Errorf("images %+v, want none", got)
	}

	// A resolve's payload is not checked; an unknown severity in it is
	// dropped rather than mapped.
	e, err = ParseEvent([]byte(`{"routing_key":"k","event_action":"resolve","dedup_key":"d","payload":{"severity":"SEV1"}}`), fixedKey)
	if err != nil {
		t.Fatal(err)
	}
	if e.Payload.Severity != "" {
		t.Errorf("severity %q, want none", e.Payload.Severity)
	}
}

func TestNewDedupKey(t *testing.T) {
	a, b := NewDedupKey(), NewDedupKey()
	if len(a) != 32 || a == b {
		t.Errorf("keys %q and %q: want two different 32-digit keys", a, b)
	}
}

func TestParseChangeEvent(t *testing.T) {
	c, err := ParseChangeEvent(fixture(t, "change.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notification()
	want := "Change: Build Success: Increase snapshot create timeout to 30 seconds\n" +
		"Source: prod-build-agent-i-0b148d1040d565540\n" +
		"At: 2015-07-17T08:42:58.315+0000\n" +
		`Details: {"build_state":"passed","build_number":"220","run_time":"1236s"}` + "\n" +
		"Link: View in Build Pipeline https://buildpipeline.com/pagerduty/deployment/builds/220"
	if n.Note != want {
		t.Errorf("note\n%s\nwant\n%s", n.Note, want)
	}

	refusals := map[string][]string{
		`{}`:                  {"'routing_key' is missing or blank", "'payload.summary' is missing or blank"},
		`{"routing_key":"k"}`: {"'payload.summary' is missing or blank"},
		`{"routing_key":"k","payload":{"summary":"` + strings.Repeat("x", 1025) + `"}}`: {"Length of 'payload.summary' is too long (maximum is 1024 characters)"},
	}
	for body, errs := range refusals {
		_, err := ParseChangeEvent([]byte(body))
		if err == nil || !slices.Equal(err.Response.Errors, errs) {
			t.Errorf("ParseChangeEvent(%.40s): %v, want errors %q", body, err, errs)
		}
	}
}

func TestResponseBodies(t *testing.T) {
	tests := map[string]struct {
		r    Response
		want string
	}{
		"accepted": {Accepted("srv01/HTTP"), `{"status":"success","message":"Event processed","dedup_key":"srv01/HTTP"}`},
		"change":   {ChangeAccepted(), `{"status":"success","message":"Event processed"}`},
		"invalid": {Invalid("Length of 'routing_key' is incorrect (should be 32 characters)"),
			`{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}`},
		"throttled": {Failure(429, "slow down"), `{"status":"Too Many Requests","message":"slow down"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := strings.TrimSpace(string(tc.r.Body())); got != tc.want {
				t.Errorf("body %s, want %s", got, tc.want)
			}
			var back Response
			if err := json.Unmarshal(tc.r.Body(), &back); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A routing_key pasted with surrounding whitespace is the key, as a
// Bearer or GenieKey credential is.
func TestRoutingKeyIsTrimmed(t *testing.T) {
	e, err := ParseEvent([]byte(`{"routing_key":" k3y\n","event_action":"resolve","dedup_key":"d"}`), fixedKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseChangeEvent([]byte(`{"routing_key":"\tk3y ","payload":{"summary":"deploy"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if e.RoutingKey != "k3y" || c.RoutingKey != "k3y" {
		t.Errorf("routing keys %q and %q, want k3y", e.RoutingKey, c.RoutingKey)
	}
}

package opsgenie

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/template"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

// The request bodies follow the examples of Opsgenie's Alert API page
// (https://docs.opsgenie.com/docs/alert-api) and what Alertmanager's
// opsgenie notifier sends (notify/opsgenie).
const docCreate = `{
  "message": "An example alert message",
  "alias": "Life is too short for no alias",
  "description": "Every alert needs a description",
  "responders": [{"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "type": "team"}, {"username": "trinity@opsgenie.com", "type": "user"}],
  "visibleTo": [{"name": "rocket_team", "type": "team"}],
  "actions": ["Restart", "AnExampleAction"],
  "tags": ["OverwriteQuietHours", "Critical"],
  "details": {"key1": "value1", "key2": "value2"},
  "entity": "An example entity",
  "priority": "P1"
}`

// alertmanagerCreate is what Alertmanager's notifier sends for a group
// (alias: the hash of its group key; details: its common labels).
const alertmanagerCreate = `{"alias":"6b3c0f0c5d","message":"Latency above 1s on checkout","description":"p99 latency","details":{"alertname":"HighLatency","service":"checkout","severity":"critical"},"source":"http://alertmanager:9093","priority":"P2"}`

func fired(alias string, labels, annotations template.KV) alertmapping.Notification {
	return alertmapping.SingleAlert(alertmapping.IntakeOpsgenie, alias, "firing", labels, annotations)
}

func groupOnly(alias string, kind alertmapping.NotificationKind, note string) alertmapping.Notification {
	return alertmapping.Notification{Message: &alertmapping.Message{Data: &template.Data{}, Version: "4", GroupKey: "opsgenie:" + alias},
		Intake: alertmapping.IntakeOpsgenie, Kind: kind, Note: note}
}

func TestParse(t *testing.T) {
	longText := strings.Repeat("é", 20000)
	manyDetails := map[string]string{}
	for i := range 100 {
		manyDetails[fmt.Sprintf("k%03d", i)] = "v"
	}
	manyDetailsJSON, _ := json.Marshal(map[string]any{"message": "m", "details": manyDetails})

	tests := map[string]struct {
		target   Target
		body     string
		severity string
		want     []alertmapping.Notification
		status   int
		field    string
	}{
		"Opsgenie's create example": {
			target: Target{Action: ActionCreate}, body: docCreate, severity: "severity",
			want: []alertmapping.Notification{fired("Life is too short for no alias",
				template.KV{"alertname": "An example alert message", "severity": "P1", "entity": "An example entity",
					"tags": "OverwriteQuietHours,Critical", "key1": "value1", "key2": "value2"},
				template.KV{"alias": "Life is too short for no alias", "description": "Every alert needs a description",
					"details": `{"key1":"value1","key2":"value2"}`})},
		},
		"Alertmanager's create: details are its labels, priority under the route's label": {
			target: Target{Action: ActionCreate}, body: alertmanagerCreate, severity: "level",
			want: []alertmapping.Notification{fired("6b3c0f0c5d",
				template.KV{"alertname": "HighLatency", "service": "checkout", "severity": "critical", "level": "P2", "source": "http://alertmanager:9093"},
				template.KV{"alias": "6b3c0f0c5d", "summary": "Latency above 1s on checkout", "description": "p99 latency",
					"details": `{"alertname":"HighLatency","service":"checkout","severity":"critical"}`})},
		},
		"priority overrides a detail of the same name": {
			target: Target{Action: ActionCreate}, body: `{"message":"m","alias":"a","details":{"severity":"critical"},"priority":"P4"}`, severity: "severity",
			want: []alertmapping.Notification{fired("a", template.KV{"alertname": "m", "severity": "P4"},
				template.KV{"alias": "a", "details": `{"severity":"critical"}`})},
		},
		"defaults: P3 under severity, the message as alias": {
			target: Target{Action: ActionCreate}, body: `{"message":"  Disk full on db-1  "}`, severity: "severity",
			want: []alertmapping.Notification{fired("Disk full on db-1", template.KV{"alertname": "Disk full on db-1", "severity": "P3"},
				template.KV{"alias": "Disk full on db-1"})},
		},
		"create's note, user and non-string details are kept": {
			target: Target{Action: ActionCreate}, body: `{"message":"m","alias":"a","note":"seen by CI","user":"ci","details":{"n":3,"o":{"x":true},"z":null," ":"blank"}}`, severity: "severity",
			want: []alertmapping.Notification{fired("a", template.KV{"alertname": "m", "severity": "P3", "n": "3", "o": `{"x":true}`},
				template.KV{"alias": "a", "note": "seen by CI", "user": "ci", "details": `{"n":"3","o":"{\"x\":true}"}`})},
		},
		"tags are bounded": {
			target: Target{Action: ActionCreate}, severity: "severity",
			body: `{"message":"m","alias":"a","tags":[" ",` + strings.Repeat(`"t",`, 25) + `"` + strings.Repeat("x", 60) + `"]}`,
			want: []alertmapping.Notification{fired("a", template.KV{"alertname": "m", "severity": "P3", "tags": strings.TrimSuffix(strings.Repeat("t,", 20), ",")},
				template.KV{"alias": "a"})},
		},
		"missing message":           {target: Target{Action: ActionCreate}, body: `{"alias":"a"}`, status: 422, field: "message"},
		"blank message":             {target: Target{Action: ActionCreate}, body: `{"message":" \n"}`, status: 422, field: "message"},
		"message not a string":      {target: Target{Action: ActionCreate}, body: `{"message":42}`, status: 422, field: "message"},
		"details not an object":     {target: Target{Action: ActionCreate}, body: `{"message":"m","details":"k=v"}`, status: 422, field: "details"},
		"body not an object":        {target: Target{Action: ActionCreate}, body: `["m"]`, status: 422, field: "body"},
		"unknown priority":          {target: Target{Action: ActionCreate}, body: `{"message":"m","priority":"critical"}`, status: 422, field: "priority"},
		"lower-case priority":       {target: Target{Action: ActionCreate}, body: `{"message":"m","priority":"p1"}`, status: 422, field: "priority"},
		"alias of 10,000":           {target: Target{Action: ActionCreate}, body: `{"message":"m","alias":"` + strings.Repeat("a", 10000) + `"}`, status: 422, field: "alias"},
		"malformed JSON":            {target: Target{Action: ActionCreate}, body: `{"message":`, status: 400},
		"empty create":              {target: Target{Action: ActionCreate}, body: " ", status: 400},
		"malformed action body":     {target: Target{Action: ActionClose, Alias: "a"}, body: `{`, status: 400},
		"note missing on notes":     {target: Target{Action: ActionAddNote, Alias: "a"}, body: `{"user":"u"}`, status: 422, field: "note"},
		"message missing on update": {target: Target{Action: ActionUpdateMessage, Alias: "a"}, body: `{}`, status: 422, field: "message"},
		"close": {
			target: Target{Action: ActionClose, Alias: "a"}, body: `{"source":""}`,
			want: []alertmapping.Notification{alertmapping.SingleAlert(alertmapping.IntakeOpsgenie, "a", "resolved", nil, template.KV{"alias": "a"})},
		},
		"close with an empty body": {
			target: Target{Action: ActionClose, Alias: "a"},
			want:   []alertmapping.Notification{alertmapping.SingleAlert(alertmapping.IntakeOpsgenie, "a", "resolved", nil, template.KV{"alias": "a"})},
		},
		"acknowledge with Opsgenie's example body: then a note": {
			target: Target{Action: ActionAcknowledge, Alias: "a"}, body: `{"user":"Monitoring Script","source":"AWS Lambda","note":"Action executed via Alert API"}`,
			want: []alertmapping.Notification{groupOnly("a", alertmapping.KindAcknowledge, ""),
				groupOnly("a", alertmapping.KindNote, "Monitoring Script: Action executed via Alert API")},
		},
		"notes": {
			target: Target{Action: ActionAddNote, Alias: "a"}, body: `{"note":"Restarted the primary"}`,
			want: []alertmapping.Notification{groupOnly("a", alertmapping.KindNote, "Restarted the primary")},
		},
		"message update": {
			target: Target{Action: ActionUpdateMessage, Alias: "a"}, body: `{"message":"Now 2 hosts"}`,
			want: []alertmapping.Notification{groupOnly("a", alertmapping.KindNote, "Message changed to: Now 2 hosts")},
		},
		"description update": {
			target: Target{Action: ActionUpdateDescription, Alias: "a"}, body: `{"description":"Both replicas"}`,
			want: []alertmapping.Notification{groupOnly("a", alertmapping.KindNote, "Description changed to: Both replicas")},
		},
		"empty description update asks nothing": {
			target: Target{Action: ActionUpdateDescription, Alias: "a"}, body: `{}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, e := Parse(tc.target, []byte(tc.body), tc.severity)
			if tc.status != 0 {
				if e == nil {
					t.Fatalf("Parse accepted the body: %+v", got)
				}
				if e.Status != tc.status || e.Message == "" {
					t.Fatalf("error = %+v, want status %d with a message", e, tc.status)
				}
				if _, ok := e.Errors[tc.field]; tc.field != "" && !ok {
					t.Fatalf("errors = %v, want one for %q", e.Errors, tc.field)
				}
				return
			}
			if e != nil {
				t.Fatalf("Parse: %+v", e)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("notifications (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("long texts are cut to Opsgenie's bounds", func(t *testing.T) {
		body, _ := json.Marshal(map[string]string{"message": longText, "alias": "a", "description": longText, "entity": longText, "source": longText})
		got, e := Parse(Target{Action: ActionCreate}, body, "severity")
		if e != nil {
			t.Fatal(e)
		}
		msg := got[0].Message
		for what, n := range map[string]int{
			"alertname": utf8.RuneCountInString(msg.CommonLabels["alertname"]), "description": utf8.RuneCountInString(msg.CommonAnnotations["description"]),
			"entity": utf8.RuneCountInString(msg.CommonLabels["entity"]), "source": utf8.RuneCountInString(msg.CommonLabels["source"]),
		} {
			if limit := map[string]int{"alertname": 130, "description": 15000, "entity": 256, "source": 100}[what]; n > limit || n == 0 {
				t.Errorf("%s has %d characters, want 1..%d", what, n, limit)
			}
		}
	})
	t.Run("details give at most 48 labels, and the JSON is bounded", func(t *testing.T) {
		got, e := Parse(Target{Action: ActionCreate}, manyDetailsJSON, "severity")
		if e != nil {
			t.Fatal(e)
		}
		msg := got[0].Message
		if n := len(msg.CommonLabels); n != maxDetailLabels+2 {
			t.Errorf("%d labels, want %d details + alertname + severity", n, maxDetailLabels)
		}
		if _, ok := msg.CommonLabels["k047"]; !ok {
			t.Errorf("labels %v miss the 48th detail in name order", msg.CommonLabels)
		}
		if _, ok := msg.CommonLabels["k048"]; ok {
			t.Errorf("labels %v keep a 49th detail", msg.CommonLabels)
		}
		if n := len(msg.CommonAnnotations["details"]); n > maxDetailsBytes {
			t.Errorf("details annotation has %d bytes", n)
		}
	})
}

// A create runs through the route's severity map and title template as an
// Alertmanager group does.
func TestCreateThroughRoute(t *testing.T) {
	route, err := alertmapping.CompileRoute(klaxonv1alpha1.AlertRouteSpec{Severity: klaxonv1alpha1.AlertSeverityMapping{
		Label: "priority",
		Map:   map[string]klaxonv1alpha1.Severity{"P1": "SEV1", "P2": "SEV2", "P3": "SEV3", "P4": "SEV4", "P5": "SEV4"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		body     string
		severity klaxonv1alpha1.Severity
		title    string
	}{
		"P1 generic":             {body: `{"message":"Checkout is down","priority":"P1"}`, severity: "SEV1", title: "Checkout is down"},
		"default P3":             {body: `{"message":"Slow queries"}`, severity: "SEV3", title: "Slow queries"},
		"P5":                     {body: `{"message":"Cert expires in 20 days","priority":"P5"}`, severity: "SEV4", title: "Cert expires in 20 days"},
		"Alertmanager's details": {body: alertmanagerCreate, severity: "SEV2", title: "HighLatency: Latency above 1s on checkout"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ns, e := Parse(Target{Action: ActionCreate}, []byte(tc.body), "priority")
			if e != nil {
				t.Fatal(e)
			}
			if got := route.Severity(ns[0].Message); got != tc.severity {
				t.Errorf("severity = %s, want %s", got, tc.severity)
			}
			title, err := route.Title(ns[0].Message)
			if err != nil || title != tc.title {
				t.Errorf("title = %q, %v; want %q", title, err, tc.title)
			}
		})
	}
}

// The group of a create is the group its close, acknowledge and notes
// name, by alias or by the message a create without alias was given.
func TestOneGroupPerAlias(t *testing.T) {
	created, e := Parse(Target{Action: ActionCreate}, []byte(`{"message":"Disk full on db-1"}`), "severity")
	if e != nil {
		t.Fatal(e)
	}
	target, e := ParseTarget("POST", "v2/alerts/Disk%20full%20on%20db-1/close", nil)
	if e != nil {
		t.Fatal(e)
	}
	closed, e := Parse(target, nil, "")
	if e != nil {
		t.Fatal(e)
	}
	if created[0].GroupKey != "opsgenie:Disk full on db-1" || closed[0].GroupKey != created[0].GroupKey {
		t.Fatalf("group keys %q and %q, want both opsgenie:Disk full on db-1", created[0].GroupKey, closed[0].GroupKey)
	}
	if created[0].Alerts[0].Fingerprint != closed[0].Alerts[0].Fingerprint {
		t.Fatalf("fingerprints differ: %q and %q", created[0].Alerts[0].Fingerprint, closed[0].Alerts[0].Fingerprint)
	}
}

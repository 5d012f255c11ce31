package opsgenie

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

var fuzzActions = []Action{ActionCreate, ActionClose, ActionAcknowledge, ActionAddNote, ActionUpdateMessage, ActionUpdateDescription}

// FuzzParse feeds arbitrary bodies for every action through Parse and on
// into what the receiver does with a notification: whatever the body,
// nothing panics, a refusal has a status Opsgenie answers with and a body
// in its shape, and an accepted body gives notifications of the alias's
// group whose every kept string is bounded.
func FuzzParse(f *testing.F) {
	for i := range fuzzActions {
		for _, body := range []string{docCreate, alertmanagerCreate, `{"source":""}`,
			`{"user":"Monitoring Script","source":"AWS Lambda","note":"Action executed via Alert API"}`,
			`{"message":"m","details":{"a":1,"b":null,"c":[1,2]},"tags":["x",""]}`, `{"message":"m","priority":"P9"}`,
			`{"note":"n"}`, `{"message":"new"}`, `{"description":"d"}`, `{`, `[]`, ``, `null`, `{"message":"\u0000\ud800"}`} {
			f.Add(uint8(i), "alias-1", body, "severity")
		}
	}
	route, err := alertmapping.CompileRoute(klaxonv1alpha1.AlertRouteSpec{Severity: klaxonv1alpha1.AlertSeverityMapping{
		Label: "severity", Map: map[string]klaxonv1alpha1.Severity{"P1": "SEV1", "P2": "SEV2"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, action uint8, alias, body, severityLabel string) {
		// The route's label name, which the CRD holds to 1 to 256
		// characters.
		if severityLabel == "" || utf8.RuneCountInString(severityLabel) > 256 {
			return
		}
		target := Target{Action: fuzzActions[int(action)%len(fuzzActions)], Alias: alias}
		if target.Action == ActionCreate {
			target.Alias = ""
		}
		ns, e := Parse(target, []byte(body), severityLabel)
		if e != nil {
			checkRefusal(t, e)
			return
		}
		if target.Action == ActionCreate && len(ns) != 1 {
			t.Fatalf("a create gave %d notifications", len(ns))
		}
		for _, n := range ns {
			if n.Intake != alertmapping.IntakeOpsgenie || !strings.HasPrefix(n.GroupKey, "opsgenie:") {
				t.Fatalf("notification of intake %q, group %q", n.Intake, n.GroupKey)
			}
			if target.Action != ActionCreate && n.GroupKey != "opsgenie:"+alias {
				t.Fatalf("group %q for alias %q", n.GroupKey, alias)
			}
			if n.Kind == alertmapping.KindNote && strings.TrimSpace(n.Note) == "" {
				t.Fatal("an empty note")
			}
			if n.Kind != alertmapping.KindAlerts {
				continue
			}
			if len(n.Alerts) != 1 || n.Alerts[0].Fingerprint != alertmapping.FingerprintOf(strings.TrimPrefix(n.GroupKey, "opsgenie:")) {
				t.Fatalf("alerts %+v of group %q", n.Alerts, n.GroupKey)
			}
			for name, v := range n.CommonLabels {
				if (name != severityLabel && utf8.RuneCountInString(name) > maxLabelNameLength) || utf8.RuneCountInString(v) > maxLabelValueLength {
					t.Fatalf("label %q=%q is over its bound", name, v)
				}
			}
			for name, v := range n.CommonAnnotations {
				if utf8.RuneCountInString(v) > maxNoteLength {
					t.Fatalf("annotation %q has %d characters", name, utf8.RuneCountInString(v))
				}
			}
			if alertmapping.ResolvesByKey(n) {
				// A close takes the labels its incident stored.
				stored := map[string]string{"alertname": alias, "priority": "P1"}
				alertmapping.RestoreLabels(n, &klaxonv1alpha1.AlertsSummary{Items: []klaxonv1alpha1.AlertItem{
					{Fingerprint: n.Alerts[0].Fingerprint, Status: "firing", Labels: stored}}})
				if n.Alerts[0].Labels["alertname"] != alias || n.CommonLabels["priority"] != "P1" || n.GroupLabels["alertname"] != alias {
					t.Fatalf("a close restored labels %v, common %v, group %v", n.Alerts[0].Labels, n.CommonLabels, n.GroupLabels)
				}
			}
			n.Message.Alerts[0].StartsAt = time.Unix(1, 0)
			_ = alertmapping.Summarise(n.Message)
			_ = route.Severity(n.Message)
			if title, _ := route.Title(n.Message); title == "" {
				t.Fatal("an empty title")
			}
		}
	})
}

// FuzzParseTarget feeds arbitrary methods, paths and queries through
// ParseTarget: nothing panics, a refusal is in Opsgenie's shape, and an
// accepted alert action names a bounded alias.
func FuzzParseTarget(f *testing.F) {
	for _, seed := range [][3]string{
		{"POST", "v2/alerts", ""}, {"POST", "v2/alerts/a/close", "identifierType=alias"},
		{"PUT", "v2/alerts/a%2Fb/message", "identifierType=alias"}, {"POST", "v2/alerts/1/close", "identifierType=tiny"},
		{"GET", "v2/alerts", ""}, {"POST", "v2/alerts/%ff/notes", ""}, {"POST", "v2/alerts//close", "identifierType=%zz"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, method, path, rawQuery string) {
		q, _ := url.ParseQuery(rawQuery)
		target, e := ParseTarget(method, path, q)
		if e != nil {
			checkRefusal(t, e)
			return
		}
		if target.Action == ActionCreate {
			return
		}
		if target.Alias == "" || utf8.RuneCountInString(target.Alias) > MaxAliasLength || !utf8.ValidString(target.Alias) {
			t.Fatalf("alias %q accepted", target.Alias)
		}
	})
}

func checkRefusal(t *testing.T, e *Error) {
	t.Helper()
	switch e.Status {
	case 400, 404, 405, 422:
	default:
		t.Fatalf("status %d", e.Status)
	}
	if e.Status == 422 && len(e.Errors) == 0 {
		t.Fatalf("a 422 names no field: %+v", e)
	}
	var body map[string]any
	if err := json.Unmarshal(e.Body("r", time.Millisecond), &body); err != nil || body["message"] == "" {
		t.Fatalf("error body %s: %v", e.Body("r", time.Millisecond), err)
	}
}

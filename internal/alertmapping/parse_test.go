package alertmapping

import (
	"strings"
	"testing"
)

func TestParseMessage(t *testing.T) {
	valid := `{"version":"4","groupKey":"{}:{alertname=\"X\"}","status":"firing","receiver":"klaxon",
		"alerts":[{"status":"firing","labels":{"alertname":"X"},"startsAt":"2026-11-23T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"abc"}],
		"groupLabels":{"alertname":"X"},"commonLabels":{"alertname":"X"},"commonAnnotations":{},"externalURL":"http://am:9093","truncatedAlerts":0}`

	tests := map[string]struct {
		body string
		// wantErr is a fragment of the error; empty means success.
		wantErr string
		check   func(t *testing.T, msg *Message)
	}{
		"valid firing": {
			body: valid,
			check: func(t *testing.T, msg *Message) {
				if msg.Status != StatusFiring || len(msg.Alerts) != 1 || msg.CommonLabels["alertname"] != "X" || msg.ExternalURL != "http://am:9093" {
					t.Errorf("decoded %+v", msg)
				}
			},
		},
		"valid resolved": {
			body: `{"version":"4","groupKey":"g","status":"resolved","alerts":[{"status":"resolved","fingerprint":"a","startsAt":"2026-11-23T10:00:00Z","endsAt":"2026-11-23T10:05:00Z"}]}`,
			check: func(t *testing.T, msg *Message) {
				if msg.Status != StatusResolved || msg.Alerts[0].EndsAt.IsZero() {
					t.Errorf("decoded %+v", msg)
				}
			},
		},
		"unknown and newer fields are ignored": {
			body: `{"version":"4","groupKey":"g","status":"firing","notification_reason":"new_alerts","routeLabels":{"team":"x"},"someday":{"nested":[1,2]},"alerts":[{"status":"firing","fingerprint":"a","silenceURL":"http://x"}]}`,
			check: func(t *testing.T, msg *Message) {
				if msg.GroupKey != "g" || len(msg.Alerts) != 1 || msg.Alerts[0].Fingerprint != "a" {
					t.Errorf("decoded %+v", msg)
				}
			},
		},
		"truncated alerts": {
			body: `{"version":"4","groupKey":"g","status":"firing","truncatedAlerts":7,"alerts":[{"status":"resolved","fingerprint":"a"}]}`,
			check: func(t *testing.T, msg *Message) {
				if msg.TruncatedAlerts != 7 {
					t.Errorf("truncatedAlerts = %d", msg.TruncatedAlerts)
				}
			},
		},
		"no alerts": {
			body: `{"version":"4","groupKey":"g","status":"resolved"}`,
		},
		"empty body":              {body: "  \n", wantErr: "request body is empty"},
		"malformed JSON":          {body: `{"version":"4",`, wantErr: "not valid JSON"},
		"trailing garbage":        {body: valid + `}`, wantErr: "not valid JSON"},
		"not an object":           {body: `[1,2]`, wantErr: "not an Alertmanager webhook payload"},
		"version is a number":     {body: `{"version":4,"groupKey":"g","status":"firing"}`, wantErr: "not an Alertmanager webhook payload"},
		"wrong version":           {body: `{"version":"3","groupKey":"g","status":"firing"}`, wantErr: `has version "3": Klaxon accepts Alertmanager webhook payload version "4" only`},
		"missing version":         {body: `{"groupKey":"g","status":"firing"}`, wantErr: "has no version"},
		"missing groupKey":        {body: `{"version":"4","status":"firing"}`, wantErr: "has no groupKey"},
		"groupKey too long":       {body: `{"version":"4","status":"firing","groupKey":"` + strings.Repeat("k", 4097) + `"}`, wantErr: "groupKey is 4097 characters long"},
		"missing status":          {body: `{"version":"4","groupKey":"g"}`, wantErr: `has status ""`},
		"unknown status":          {body: `{"version":"4","groupKey":"g","status":"pending"}`, wantErr: `has status "pending": want "firing" or "resolved"`},
		"alert with bad status":   {body: `{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing"},{"status":"suppressed","fingerprint":"f1"}]}`, wantErr: `alerts[1] (fingerprint "f1") has status "suppressed"`},
		"resolved group, firing":  {body: `{"version":"4","groupKey":"g","status":"resolved","alerts":[{"status":"firing","fingerprint":"f0"}]}`, wantErr: `status is resolved but alerts[0] (fingerprint "f0") is firing`},
		"null alert":              {body: `{"version":"4","groupKey":"g","status":"firing","alerts":[null]}`, wantErr: `alerts[0] (fingerprint "") has status ""`},
		"bad time":                {body: `{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","startsAt":"yesterday"}]}`, wantErr: "not an Alertmanager webhook payload"},
		"huge version is clipped": {body: `{"version":"` + strings.Repeat("9", 1000) + `","groupKey":"g","status":"firing"}`, wantErr: "…"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			msg, err := ParseMessage([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseMessage succeeded, want error containing %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tc.wantErr)
				}
				if len(err.Error()) > 600 {
					t.Errorf("error is %d bytes long; errors go into HTTP answers and should stay short", len(err.Error()))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			if tc.check != nil {
				tc.check(t, msg)
			}
		})
	}
}

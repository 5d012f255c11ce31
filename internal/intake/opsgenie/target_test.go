package opsgenie

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := map[string]struct {
		method, path, query string
		want                Target
		status              int
		allow               string
	}{
		"create":                       {method: http.MethodPost, path: "v2/alerts", want: Target{Action: ActionCreate}},
		"close by alias":               {method: http.MethodPost, path: "v2/alerts/db-down/close", query: "identifierType=alias", want: Target{Action: ActionClose, Alias: "db-down"}},
		"close by id, the default":     {method: http.MethodPost, path: "v2/alerts/db-down/close", want: Target{Action: ActionClose, Alias: "db-down"}},
		"acknowledge by id":            {method: http.MethodPost, path: "v2/alerts/db-down/acknowledge", query: "identifierType=id", want: Target{Action: ActionAcknowledge, Alias: "db-down"}},
		"notes":                        {method: http.MethodPost, path: "v2/alerts/db-down/notes", query: "identifierType=alias", want: Target{Action: ActionAddNote, Alias: "db-down"}},
		"message is PUT":               {method: http.MethodPut, path: "v2/alerts/db-down/message", query: "identifierType=alias", want: Target{Action: ActionUpdateMessage, Alias: "db-down"}},
		"message POSTed":               {method: http.MethodPost, path: "v2/alerts/db-down/message", want: Target{Action: ActionUpdateMessage, Alias: "db-down"}},
		"description is PUT":           {method: http.MethodPut, path: "v2/alerts/db-down/description", query: "identifierType=alias", want: Target{Action: ActionUpdateDescription, Alias: "db-down"}},
		"escaped identifier":           {method: http.MethodPost, path: "v2/alerts/disk%2Ffull%20on%20db/close", query: "identifierType=alias", want: Target{Action: ActionClose, Alias: "disk/full on db"}},
		"tiny ids are refused":         {method: http.MethodPost, path: "v2/alerts/1234/close", query: "identifierType=tiny", status: 422},
		"unknown identifierType":       {method: http.MethodPost, path: "v2/alerts/db-down/close", query: "identifierType=name", status: 422},
		"identifierType twice":         {method: http.MethodPost, path: "v2/alerts/db-down/close", query: "identifierType=alias&identifierType=id", status: 422},
		"identifier over 512":          {method: http.MethodPost, path: "v2/alerts/" + strings.Repeat("a", 513) + "/close", query: "identifierType=alias", status: 422},
		"identifier of 512":            {method: http.MethodPost, path: "v2/alerts/" + strings.Repeat("a", 512) + "/close", query: "identifierType=alias", want: Target{Action: ActionClose, Alias: strings.Repeat("a", 512)}},
		"identifier not UTF-8":         {method: http.MethodPost, path: "v2/alerts/%ff/close", query: "identifierType=alias", status: 422},
		"empty identifier":             {method: http.MethodPost, path: "v2/alerts//close", status: 404},
		"bad escape":                   {method: http.MethodPost, path: "v2/alerts/%zz/close", status: 404},
		"unknown action":               {method: http.MethodPost, path: "v2/alerts/db-down/snooze", status: 404},
		"v1":                           {method: http.MethodPost, path: "v1/json/alert", status: 404},
		"trailing segment":             {method: http.MethodPost, path: "v2/alerts/db-down/close/now", status: 404},
		"root":                         {method: http.MethodPost, path: "", status: 404},
		"GET alerts":                   {method: http.MethodGet, path: "v2/alerts", status: 405, allow: "POST"},
		"PUT close":                    {method: http.MethodPut, path: "v2/alerts/db-down/close", status: 405, allow: "POST"},
		"DELETE message":               {method: http.MethodDelete, path: "v2/alerts/db-down/message", status: 405, allow: "PUT, POST"},
		"method checked before the id": {method: http.MethodGet, path: "v2/alerts/db-down/close", query: "identifierType=tiny", status: 405, allow: "POST"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, e := ParseTarget(tc.method, tc.path, q)
			if tc.status != 0 {
				if e == nil {
					t.Fatalf("ParseTarget = %+v, want a %d", got, tc.status)
				}
				if e.Status != tc.status || e.Allow != tc.allow || e.Message == "" {
					t.Fatalf("error = %+v, want status %d, Allow %q and a message", e, tc.status, tc.allow)
				}
				if tc.status == 422 && len(e.Errors) == 0 {
					t.Fatalf("a 422 names no field: %+v", e)
				}
				return
			}
			if e != nil {
				t.Fatalf("ParseTarget: %+v", e)
			}
			if got != tc.want {
				t.Fatalf("ParseTarget = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestKey(t *testing.T) {
	tests := map[string]struct {
		header string
		want   string
		ok     bool
	}{
		"GenieKey":          {header: "GenieKey s3cret", want: "s3cret", ok: true},
		"scheme any case":   {header: "geniekey s3cret", want: "s3cret", ok: true},
		"spaces around key": {header: "GenieKey   s3cret  ", want: "s3cret", ok: true},
		"bearer":            {header: "Bearer s3cret"},
		"no key":            {header: "GenieKey "},
		"no scheme":         {header: "s3cret"},
		"missing":           {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := Key(tc.header)
			if ok != tc.ok || string(got) != tc.want {
				t.Fatalf("Key(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
			}
		})
	}
}

package receiver_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// Every hostile request is answered in Opsgenie's error shape with the
// status Opsgenie documents (https://docs.opsgenie.com/docs/response),
// and writes no incident.
func TestOpsgenieHostileInput(t *testing.T) {
	ns := newNamespace(t)
	opsgenieRouteFixture(t, ns)
	var writes atomic.Int32
	srv := newReceiver(t, countIncidentWrites(mgr.GetClient(), &writes), func(o *receiver.Options) { o.MaxBodyBytes = 64 << 10 })
	alerts := "/opsgenie/" + ns + "/payments/v2/alerts"
	valid := `{"message":"Checkout database is down","alias":"db-down","priority":"P1"}`

	// The alert the hostile requests name exists, so "nothing written"
	// means something: its incident, once the operator has stored its
	// alerts, is not written again.
	accepted(t, opsgenieCall(t, srv.URL, http.MethodPost, alerts, token, valid))
	existing := onlyOpsgenieIncident(t, ns, "the incident settled", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Alerts != nil && inc.Status.ObservedGeneration == inc.Generation
	})
	cacheShows(t, &existing)
	writes.Store(0)

	cases := map[string]struct {
		method, path, key, body string
		code                    int
		says                    string
		field                   string // named in errors, for a 422
	}{
		"malformed JSON":                     {http.MethodPost, alerts, token, `{"message":"Checkout`, http.StatusBadRequest, "not valid JSON", ""},
		"JSON of another shape":              {http.MethodPost, alerts, token, `["Checkout database is down"]`, http.StatusUnprocessableEntity, "not processable", "body"},
		"empty body":                         {http.MethodPost, alerts, token, ``, http.StatusBadRequest, "body is empty", ""},
		"missing message":                    {http.MethodPost, alerts, token, `{"alias":"db-down","priority":"P1"}`, http.StatusUnprocessableEntity, "not processable", "message"},
		"message of another type":            {http.MethodPost, alerts, token, `{"message":{"text":"down"}}`, http.StatusUnprocessableEntity, "not processable", "message"},
		"unknown priority":                   {http.MethodPost, alerts, token, `{"message":"m","priority":"critical"}`, http.StatusUnprocessableEntity, "not processable", "priority"},
		"alias of 10,000":                    {http.MethodPost, alerts, token, `{"message":"m","alias":"` + strings.Repeat("a", 10000) + `"}`, http.StatusUnprocessableEntity, "not processable", "alias"},
		"identifier of 10,000":               {http.MethodPost, alerts + "/" + strings.Repeat("a", 10000) + "/close?identifierType=alias", token, `{}`, http.StatusUnprocessableEntity, "not processable", "identifier"},
		"unknown identifierType":             {http.MethodPost, alerts + "/db-down/close?identifierType=name", token, `{}`, http.StatusUnprocessableEntity, `identifierType "name" is not valid`, "identifierType"},
		"tiny identifierType":                {http.MethodPost, alerts + "/db-down/acknowledge?identifierType=tiny", token, `{}`, http.StatusUnprocessableEntity, "no tiny ids", "identifierType"},
		"note without text":                  {http.MethodPost, alerts + "/db-down/notes?identifierType=alias", token, `{"note":""}`, http.StatusUnprocessableEntity, "not processable", "note"},
		"wrong GenieKey":                     {http.MethodPost, alerts, "guess", valid, http.StatusUnauthorized, "GenieKey is not valid for /opsgenie/" + ns + "/payments", ""},
		"missing Authorization":              {http.MethodPost, alerts, "", valid, http.StatusUnauthorized, "missing GenieKey", ""},
		"wrong GenieKey on close":            {http.MethodPost, alerts + "/db-down/close?identifierType=alias", "guess", `{}`, http.StatusUnauthorized, "GenieKey is not valid", ""},
		"missing key on acknowledge":         {http.MethodPost, alerts + "/db-down/acknowledge?identifierType=alias", "", `{}`, http.StatusUnauthorized, "missing GenieKey", ""},
		"wrong GenieKey on a message update": {http.MethodPut, alerts + "/db-down/message?identifierType=alias", "guess", `{"message":"changed"}`, http.StatusUnauthorized, "GenieKey is not valid", ""},
		"key for an unknown route":           {http.MethodPost, "/opsgenie/" + ns + "/nope/v2/alerts", "guess", valid, http.StatusUnauthorized, "GenieKey is not valid", ""},
		"unknown route":                      {http.MethodPost, "/opsgenie/" + ns + "/nope/v2/alerts", token, valid, http.StatusNotFound, "AlertRoute " + ns + "/nope not found", ""},
		"unknown endpoint":                   {http.MethodPost, alerts + "/db-down/snooze", token, `{}`, http.StatusNotFound, "no Alert API endpoint", ""},
		"the v1 API":                         {http.MethodPost, "/opsgenie/" + ns + "/payments/v1/json/alert", token, valid, http.StatusNotFound, "no Alert API endpoint", ""},
		"wrong method":                       {http.MethodGet, alerts, token, ``, http.StatusMethodNotAllowed, "method GET is not allowed", ""},
		"body over the limit":                {http.MethodPost, alerts, token, `{"message":"m","details":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`, http.StatusRequestEntityTooLarge, "larger than 65536 bytes", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := opsgenieCall(t, srv.URL, tc.method, tc.path, tc.key, tc.body)
			if a.code != tc.code || !strings.Contains(a.Message, tc.says) || a.Result != "" {
				t.Errorf("answer %d %+v, want %d saying %q", a.code, a, tc.code, tc.says)
			}
			if _, ok := a.Errors[tc.field]; tc.field != "" && !ok {
				t.Errorf("errors = %v, want one for %q", a.Errors, tc.field)
			}
			if tc.field == "" && a.Errors != nil {
				t.Errorf("errors = %v on a %d", a.Errors, a.code)
			}
		})
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("hostile requests made %d incident writes, want 0", n)
	}
	incs := groupIncidents(t, ns)
	if len(incs) != 1 || incs[0].Name != existing.Name || incs[0].ResourceVersion != existing.ResourceVersion {
		t.Errorf("incidents after the hostile requests: %d, want %s unchanged at resourceVersion %s", len(incs), existing.Name, existing.ResourceVersion)
	}
	// The same receiver still takes a valid request on the alert.
	accepted(t, opsgenieCall(t, srv.URL, http.MethodPost, alerts+"/db-down/close?identifierType=alias", token, `{}`))
	onlyOpsgenieIncident(t, ns, "the incident resolved", func(inc *klaxonv1alpha1.Incident) bool { return inc.Spec.State == klaxonv1alpha1.StateResolved })
}

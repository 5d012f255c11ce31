package receiver_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// Hostile or broken events are answered as PagerDuty answers them (400,
// its error body, every problem listed) and change nothing: the incident
// the route already has is not written.
func TestPagerDutyHostileInput(t *testing.T) {
	ns := newNamespace(t)
	pagerDutyRouteFixture(t, ns)
	var writes atomic.Int32
	base := pagerDutyReceiver(t, &writes)
	enqueue := "/pagerduty/" + ns + "/payments/v2/enqueue"
	if code, r := postPagerDuty(t, base, http.MethodPost, enqueue, triggerEvent(token)); code != http.StatusAccepted {
		t.Fatalf("trigger: %d %+v", code, r)
	}
	waitForOnlyIncident(t, ns, func(inc *klaxonv1alpha1.Incident) bool { return inc.Status.Alerts != nil })
	existing := groupIncidents(t, ns)[0]

	bigDetails := `{"routing_key":"` + token + `","event_action":"trigger","dedup_key":"big","payload":{"summary":"s","source":"h","severity":"info","custom_details":{"log":"` +
		strings.Repeat("x", 1<<20) + `"}}}`
	huge := `{"routing_key":"` + token + `","event_action":"trigger","payload":{"custom_details":"` + strings.Repeat("x", 5<<20) + `"}}`
	tests := map[string]struct {
		path   string
		body   string
		status string
		// errors are substrings of the answer's errors, in order.
		errors []string
	}{
		"malformed JSON": {enqueue, `{"routing_key":"` + token + `","event_action":"trigger",`, "Unrecognized object",
			[]string{"JSON parse error"}},
		"not an object": {enqueue, `"trigger"`, "Unrecognized object", []string{"not an object"}},
		"empty body":    {enqueue, ``, "Unrecognized object", []string{"the request body is empty"}},
		"wrong event_action": {enqueue, `{"routing_key":"` + token + `","event_action":"escalate","dedup_key":"srv01/mysql"}`, "invalid event",
			[]string{`'event_action' is invalid (must be one of: trigger, acknowledge, resolve; got "escalate")`}},
		"resolve without dedup_key": {enqueue, `{"routing_key":"` + token + `","event_action":"resolve"}`, "invalid event",
			[]string{"'dedup_key' is missing or blank"}},
		"acknowledge without dedup_key": {enqueue, `{"routing_key":"` + token + `","event_action":"acknowledge"}`, "invalid event",
			[]string{"'dedup_key' is missing or blank"}},
		"trigger without summary": {enqueue, `{"routing_key":"` + token + `","event_action":"trigger","dedup_key":"srv01/mysql","payload":{"source":"h","severity":"critical"}}`, "invalid event",
			[]string{"'payload.summary' is missing or blank"}},
		"dedup_key over 255 characters": {enqueue, `{"routing_key":"` + token + `","event_action":"resolve","dedup_key":"` + strings.Repeat("k", 256) + `"}`, "invalid event",
			[]string{"Length of 'dedup_key' is too long"}},
		"1 MB custom_details":            {enqueue, bigDetails, "invalid event", []string{"the limit is 524288 bytes (512 KB)"}},
		"body over the receiver's limit": {enqueue, huge, "invalid event", []string{"Event is over 4194304 bytes, the most the receiver reads"}},
		"wrong routing_key": {enqueue, string(triggerEvent("guess")), "invalid event",
			[]string{"the routing_key is not valid for /pagerduty/" + ns + "/payments"}},
		"wrong routing_key, route that does not exist": {"/pagerduty/" + ns + "/nope/v2/enqueue", string(triggerEvent("guess")), "invalid event",
			[]string{"the routing_key is not valid for /pagerduty/" + ns + "/nope"}},
		"the namespace's key, route that does not exist": {"/pagerduty/" + ns + "/nope/v2/enqueue", string(triggerEvent(token)), "invalid event",
			[]string{"AlertRoute " + ns + "/nope not found"}},
		"wrong routing_key on a change event": {"/pagerduty/" + ns + "/payments/v2/change/enqueue", `{"routing_key":"guess","payload":{"summary":"deploy"}}`, "invalid event",
			[]string{"the routing_key is not valid"}},
		"change event without summary": {"/pagerduty/" + ns + "/payments/v2/change/enqueue", `{"routing_key":"` + token + `","payload":{}}`, "invalid event",
			[]string{"'payload.summary' is missing or blank"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := writes.Load()
			code, r := postPagerDuty(t, base, http.MethodPost, tc.path, []byte(tc.body))
			if code != http.StatusBadRequest || r.Status != tc.status || r.Message == "" || len(r.Errors) != len(tc.errors) {
				t.Fatalf("answer %d %+v, want 400 %q with %d errors", code, r, tc.status, len(tc.errors))
			}
			for i, want := range tc.errors {
				if !strings.Contains(r.Errors[i], want) {
					t.Errorf("errors[%d] = %q, want it to say %q", i, r.Errors[i], want)
				}
			}
			if r.DedupKey != "" {
				t.Errorf("a refusal carries dedup_key %q", r.DedupKey)
			}
			if n := writes.Load() - before; n != 0 {
				t.Errorf("%d incident writes, want none", n)
			}
		})
	}
	// The wrong key gets the same answer whether the route exists or not.
	_, a := postPagerDuty(t, base, http.MethodPost, enqueue, triggerEvent("guess"))
	_, b := postPagerDuty(t, base, http.MethodPost, "/pagerduty/"+ns+"/nope/v2/enqueue", triggerEvent("guess"))
	if strings.ReplaceAll(a.Errors[0], "/payments", "/X") != strings.ReplaceAll(b.Errors[0], "/nope", "/X") {
		t.Errorf("a wrong key for an existing route (%q) and a missing one (%q) are told apart", a.Errors[0], b.Errors[0])
	}

	incs := groupIncidents(t, ns)
	if len(incs) != 1 || incs[0].Name != existing.Name || incs[0].Spec.State != existing.Spec.State ||
		incs[0].Status.Alerts == nil || incs[0].Status.Alerts.Firing != 1 {
		t.Errorf("incidents after the hostile events: %d, want the one incident unchanged", len(incs))
	}
}

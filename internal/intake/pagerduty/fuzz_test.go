package pagerduty

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

// addFixtures seeds a fuzz target with the documented events.
func addFixtures(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkRefusal: a refused event is answered in PagerDuty's error shape,
// with a bounded list of errors.
func checkRefusal(t *testing.T, err *EventError) {
	t.Helper()
	r := err.Response
	if (r.Status != statusInvalid && r.Status != statusUnrecognized) || r.Message == "" || len(r.Errors) == 0 || len(r.Errors) > 8 {
		t.Fatalf("refusal %+v", r)
	}
	for _, e := range r.Errors {
		if e == "" || len(e) > 1024 {
			t.Fatalf("error of %d bytes: %.100q", len(e), e)
		}
	}
	var back Response
	if jerr := json.Unmarshal(r.Body(), &back); jerr != nil || !reflect.DeepEqual(back, r) {
		t.Fatalf("body %s does not read back: %v", r.Body(), jerr)
	}
}

// FuzzParseEvent: whatever the body, parsing does not panic; a refused
// event gets PagerDuty's error shape; an accepted one maps onto a
// notification that Alertmanager's own parser accepts, whose every label is
// bounded, and that opens an incident the API server accepts.
func FuzzParseEvent(f *testing.F) {
	addFixtures(f)
	f.Add([]byte(`{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"critical","custom_details":"text"}}`))
	f.Add([]byte(`{"routing_key":"k","event_action":"resolve","dedup_key":"\u0000\ud800"}`))
	f.Add([]byte(`{"routing_key":"k","event_action":"trigger","dedup_key":"d","payload":{"summary":"s","source":"h","severity":"info"},"links":[{"href":1}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))

	route, err := alertmapping.CompileRoute(klaxonv1alpha1.AlertRouteSpec{Severity: klaxonv1alpha1.AlertSeverityMapping{
		Label: "severity", Map: map[string]klaxonv1alpha1.Severity{"critical": "SEV1", "error": "SEV2", "warning": "SEV3", "info": "SEV4"},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, perr := ParseEvent(body, NewDedupKey)
		if perr != nil {
			checkRefusal(t, perr)
			return
		}
		if e.DedupKey == "" || utf8.RuneCountInString(e.DedupKey) > MaxDedupKeyLength {
			t.Fatalf("dedup_key %q", e.DedupKey)
		}
		n := e.Notification("severity")
		if n.Intake != alertmapping.IntakePagerDuty || n.Message == nil || n.GroupKey != alertmapping.GroupKeyFor(alertmapping.IntakePagerDuty, e.DedupKey) {
			t.Fatalf("notification %+v", n)
		}
		if n.Kind == alertmapping.KindAcknowledge {
			return
		}
		msg := n.Message
		raw, err := json.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := alertmapping.ParseMessage(raw); err != nil {
			t.Fatalf("Alertmanager's parser refuses the mapped message: %v", err)
		}
		for k, v := range msg.CommonLabels {
			if limit := maxLabelLength; k != labelAlertname && utf8.RuneCountInString(v) > limit {
				t.Fatalf("label %s: %d characters", k, utf8.RuneCountInString(v))
			}
		}
		for k, v := range msg.CommonAnnotations {
			if len(v) > 4*maxDescriptionLength {
				t.Fatalf("annotation %s: %d bytes", k, len(v))
			}
		}
		alertmapping.SettleTimes(nil, msg, time.Now())
		d := alertmapping.Decide(route, nil, msg, time.Now())
		if e.Action == ActionTrigger && d.Action != alertmapping.ActionCreate {
			t.Fatalf("a trigger without an incident decides %s", d.Action)
		}
		if d.Action == alertmapping.ActionCreate {
			inc, err := alertmapping.NewIncident(route, "payments", "payments", 1, msg)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Spec.Title == "" || strings.ContainsAny(inc.Spec.Title, "\n\r") {
				t.Fatalf("title %q", inc.Spec.Title)
			}
		}
	})
}

// FuzzParseChangeEvent: whatever the body, parsing does not panic; a
// refused event gets PagerDuty's error shape; an accepted one leaves a
// note within the timeline's bound.
func FuzzParseChangeEvent(f *testing.F) {
	addFixtures(f)
	f.Add([]byte(`{"routing_key":"k","payload":{"summary":"deploy","custom_details":[1,2]},"links":[{"href":"h"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, perr := ParseChangeEvent(body)
		if perr != nil {
			checkRefusal(t, perr)
			return
		}
		n := c.Notification()
		if n.Kind != alertmapping.KindNote || !strings.HasPrefix(n.Note, "Change: ") {
			t.Fatalf("notification %+v", n)
		}
		entry := n.NoteEntry("payments", time.Now())
		if utf8.RuneCountInString(entry.Message) > 1024 {
			t.Fatalf("note of %d characters", utf8.RuneCountInString(entry.Message))
		}
	})
}

package alertmapping

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// FuzzParseAndDecide feeds arbitrary bodies through everything the receiver
// does with one: parse, summarise, build the incident, decide. Whatever the
// body, nothing panics, every object is one the API server accepts and
// whose name reads back as its group serial, a new incident takes the serial
// after the latest one's, and delivering the same notification again after
// its decision was applied writes nothing.
func FuzzParseAndDecide(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}

	specs := map[string]klaxonv1alpha1.AlertRouteSpec{
		"payments": paymentsSpec(),
		"defaults": {},
		"functions": {
			TitleTemplate: `{{ .Status | toUpper }} {{ .GroupLabels.Values | join "/" }} {{ range .Alerts.Firing }}{{ .Labels.instance }} {{ end }}{{ index .CommonAnnotations "summary" | title }}`,
			AutoResolve:   ptr.To(false),
			ReopenWindow:  &metav1.Duration{},
		},
	}
	routes := map[string]*Route{}
	for name, spec := range specs {
		routes[name] = mustCompile(f, spec)
	}
	routeNames := []string{"payments-critical", strings.Repeat("very-long-route.", 15) + "x"}
	now := t0.Add(time.Hour)

	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := ParseMessage(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		checkSummary(t, msg, Summarise(msg))

		for rname, route := range routes {
			for _, routeName := range routeNames {
				for _, serial := range []int32{1, 2, 1 << 30, MaxSerial} {
					inc, err := NewIncident(route, routeName, "payments", serial, msg)
					if err != nil {
						t.Fatalf("%s: NewIncident: %v", rname, err)
					}
					checkIncident(t, inc)
					// The name is the record of the serial.
					if got, ok := GroupSerial(inc, routeName, msg.GroupKey); !ok || got != serial {
						t.Fatalf("%s: incident %s reads back as serial %d (%v), want %d", rname, inc.Name, got, ok, serial)
					}
				}
			}

			// The group's first notification, then each kind of latest
			// incident the group can have.
			existing := []*klaxonv1alpha1.Incident{nil}
			for _, state := range []klaxonv1alpha1.IncidentState{
				klaxonv1alpha1.StateTriggered, klaxonv1alpha1.StateAcknowledged, klaxonv1alpha1.StateMitigated,
				klaxonv1alpha1.StateResolved, klaxonv1alpha1.StateClosed,
			} {
				for _, shown := range []*Message{nil, msg, message(resolvedAlert("x", t0, t0))} {
					existing = append(existing, incident(state, shown))
					if state == klaxonv1alpha1.StateResolved {
						// Within and past the reopen window.
						existing = append(existing,
							incident(state, shown, resolvedAgo(time.Minute)),
							incident(state, shown, resolvedAgo(time.Hour)))
					}
				}
			}
			for _, inc := range existing {
				if inc != nil {
					inc.Name = IncidentName("payments-critical", msg.GroupKey, 1)
					inc.Spec.Source.GroupKey = msg.GroupKey
					inc = storedIncident(t, inc)
				}
				checkDecideTwice(t, route, inc, msg, now)
			}
		}
	})
}

func checkSummary(t *testing.T, msg *Message, s klaxonv1alpha1.AlertsSummary) {
	t.Helper()
	if int(s.Firing)+int(s.Resolved) != len(msg.Alerts) {
		t.Fatalf("firing %d + resolved %d != %d alerts", s.Firing, s.Resolved, len(msg.Alerts))
	}
	// The items are the newest MaxAlertItems, cut to the byte budget: their
	// labels dropped oldest first, then the oldest items. So a list shorter
	// than the alerts counted is cut to its newest (judgeFiring).
	full := summarise(msg, math.MaxInt)
	if want := min(len(msg.Alerts), MaxAlertItems); len(full.Items) != want || len(s.Items) > want {
		t.Fatalf("%d items (%d uncut), want %d", len(s.Items), len(full.Items), want)
	}
	if b, err := json.Marshal(s.Items); err != nil || len(b) > maxItemsBytes {
		t.Fatalf("items are %d bytes, over %d (%v)", len(b), maxItemsBytes, err)
	}
	stripped := -1 // a newer item that lost its labels
	for i, it := range s.Items {
		kept := full.Items[i]
		if it.Fingerprint != kept.Fingerprint || it.Status != kept.Status || compareTimes(it.StartsAt, kept.StartsAt) != 0 {
			t.Fatalf("item %d is %s, want the newest alerts kept (%s)", i, it.Fingerprint, kept.Fingerprint)
		}
		switch {
		case len(it.Labels) == 0 && len(kept.Labels) != 0:
			stripped = i
		case !maps.Equal(it.Labels, kept.Labels):
			t.Fatalf("item %d has labels %v, want %v or none", i, it.Labels, kept.Labels)
		case len(it.Labels) != 0 && (stripped >= 0 || len(s.Items) < len(full.Items)):
			t.Fatalf("item %d kept its labels though newer item %d or older items were dropped", i, stripped)
		}
		for k, v := range it.Labels {
			if utf8.RuneCountInString(k) > maxLabelNameLength || utf8.RuneCountInString(v) > maxLabelValueLength {
				t.Fatalf("item %d has a label longer than %d/%d characters", i, maxLabelNameLength, maxLabelValueLength)
			}
		}
	}
	if msg.Status == StatusResolved && s.Firing != 0 {
		t.Fatalf("resolved group with %d firing alerts", s.Firing)
	}
	for i, it := range s.Items {
		if it.Status != StatusFiring && it.Status != StatusResolved {
			t.Fatalf("item %d has status %q", i, it.Status)
		}
		if it.Status == StatusFiring && it.EndsAt != nil {
			t.Fatalf("firing item %d has endsAt %v", i, it.EndsAt)
		}
		if utf8.RuneCountInString(it.Fingerprint) > maxFingerprintLength || len(it.Labels) > maxItemLabels {
			t.Fatalf("item %d out of bounds: %+v", i, it)
		}
		if i > 0 && compareItems(s.Items[i-1], it) > 0 {
			t.Fatalf("items %d and %d out of order", i-1, i)
		}
	}
}

func checkIncident(t *testing.T, inc *klaxonv1alpha1.Incident) {
	t.Helper()
	if errs := validation.IsDNS1123Subdomain(inc.Name); len(errs) != 0 {
		t.Fatalf("name %q: %v", inc.Name, errs)
	}
	if n := utf8.RuneCountInString(inc.Spec.Title); n < 1 || n > MaxTitleLength || strings.ContainsAny(inc.Spec.Title, "\n\r\t") || !utf8.ValidString(inc.Spec.Title) {
		t.Fatalf("title %q (%d characters)", inc.Spec.Title, n)
	}
	if utf8.RuneCountInString(inc.Spec.Description) > maxDescriptionLength {
		t.Fatalf("description has %d characters", utf8.RuneCountInString(inc.Spec.Description))
	}
	for k, v := range inc.Labels {
		if errs := validation.IsQualifiedName(k); len(errs) != 0 {
			t.Fatalf("label key %q: %v", k, errs)
		}
		if errs := validation.IsValidLabelValue(v); len(errs) != 0 {
			t.Fatalf("label %s=%q: %v", k, v, errs)
		}
	}
	src := inc.Spec.Source
	if src == nil || src.GroupKey == "" || utf8.RuneCountInString(src.GroupKey) > maxGroupKeyLength || utf8.RuneCountInString(src.ExternalURL) > maxExternalURLLength {
		t.Fatalf("source %+v", src)
	}
	if inc.Spec.State != klaxonv1alpha1.StateTriggered || inc.Annotations[klaxonv1alpha1.ActorAnnotation] != klaxonv1alpha1.ActorAlertmanager {
		t.Fatalf("state %s, actor %q", inc.Spec.State, inc.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
}

// checkDecideTwice decides, applies the decision as the receiver would, and
// decides again on the stored result: the repeat must write nothing.
func checkDecideTwice(t *testing.T, route *Route, existing *klaxonv1alpha1.Incident, msg *Message, now time.Time) {
	t.Helper()
	d := Decide(route, existing, msg, now)
	if d.Message == "" {
		t.Fatalf("decision %s has no message", d.Action)
	}
	var after *klaxonv1alpha1.Incident
	switch d.Action {
	case ActionNothing:
		if d.State != "" || d.Alerts != nil {
			t.Fatalf("Nothing with writes: %+v", d)
		}
		return
	case ActionCreate:
		if msg.Status != StatusFiring {
			t.Fatalf("create for a %s group", msg.Status)
		}
		// The serial after the latest incident's, as its name records it
		// (1 again after MaxSerial).
		if d.Alerts == nil || d.State != "" || d.Serial < 1 || (existing != nil && d.Serial != nextSerial(existing)) {
			t.Fatalf("bad create %+v", d)
		}
		inc, err := NewIncident(route, "payments-critical", "payments", d.Serial, msg)
		if err != nil {
			t.Fatalf("NewIncident: %v", err)
		}
		if existing != nil && inc.Name == existing.Name {
			t.Fatalf("new incident reuses name %s", inc.Name)
		}
		d.ApplyStatus(inc)
		after = inc
	case ActionResolve, ActionReopen, ActionUpdateAlerts:
		if existing == nil {
			t.Fatalf("%s without an incident", d.Action)
		}
		after = existing.DeepCopy()
		spec, status := d.ApplySpec(after), d.ApplyStatus(after)
		if !spec && !status {
			t.Fatalf("%s that changes nothing: %+v", d.Action, d)
		}
	default:
		t.Fatalf("unknown action %q", d.Action)
	}
	after = storedIncident(t, after)
	if again := Decide(route, after, msg, now); again.Action != ActionNothing {
		t.Fatalf("after %s (%s), the same notification gives %s (%s)", d.Action, d.Message, again.Action, again.Message)
	}
}

func fuzzSeeds(tb testing.TB) [][]byte {
	many := make([]Alert, 0, 60)
	for i := range 60 {
		many = append(many, firingAlert(fp(i), t0.Add(time.Duration(i%7)*time.Minute)))
	}
	truncated := message(many...)
	truncated.TruncatedAlerts = 40

	unicode := message(firingAlert("ü", t0))
	unicode.CommonLabels = KV{"alertname": "Плохо 🔥", "severity": "page\n", "service.name": "x"}
	unicode.CommonAnnotations = KV{"summary": strings.Repeat("long ", 100)}

	resolvedHidden := message(resolvedAlert("a", t0, t0.Add(time.Minute)))
	resolvedHidden.Status = StatusFiring
	resolvedHidden.TruncatedAlerts = 1

	seeds := [][]byte{
		mustJSON(tb, message(firingAlert("a", t0))),
		mustJSON(tb, message(firingAlert("a", t0), resolvedAlert("b", t0, t0.Add(time.Minute)))),
		mustJSON(tb, message(resolvedAlert("a", t0, t0.Add(time.Minute)))),
		mustJSON(tb, truncated),
		mustJSON(tb, unicode),
		mustJSON(tb, resolvedHidden),
		mustJSON(tb, message()),
		[]byte(`{"version":"4","groupKey":"g","status":"firing","notification_reason":"repeat","routeLabels":{"a":"b"},"extra":[1,{"x":null}],"alerts":[{"status":"firing","fingerprint":"f","startsAt":"2026-11-23T10:00:00.123456789+02:00","endsAt":"0001-01-01T00:00:00Z"}]}`),
		[]byte(`{"version":"4","groupKey":"` + strings.Repeat("k", 5000) + `","status":"firing"}`),
		[]byte(`{"version":"3","groupKey":"g","status":"firing"}`),
		[]byte(`{"version":4}`),
		[]byte(`{"version":"4","groupKey":"g","status":"resolved","alerts":[{"status":"firing"}]}`),
		[]byte(`{"version":"4","groupKey":"g","status":"firing","commonLabels":{"alertname":"` + strings.Repeat("\u0000", 10) + `"},"alerts":[null]}`),
		[]byte(`[]`),
		[]byte(`null`),
		[]byte(``),
		[]byte("\xff\xfe garbage"),
		[]byte(fmt.Sprintf(`{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","startsAt":"9999-12-31T23:59:59.999Z"},{"status":"resolved","startsAt":"0000-01-01T00:00:00Z","endsAt":"0000-01-01T00:00:01Z"}],"truncatedAlerts":%d}`, uint64(1)<<63)),
	}
	return seeds
}

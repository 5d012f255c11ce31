package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

// TestMessagesPerWindow posts single pages and bundles to the observer's
// webhook endpoint as Klaxon sends them, and checks what the storm rows
// read of them: who is named, and how many messages a contact got a window.
func TestMessagesPerWindow(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	clk := testingclock.NewFakeClock(start)
	o := newObserver(clk)
	post := func(after time.Duration, body string) {
		t.Helper()
		clk.SetTime(start.Add(after))
		w := httptest.NewRecorder()
		o.receivePage(w, httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body)))
		if w.Code != http.StatusNoContent {
			t.Fatalf("POST at %s: answered %d, want 204", after, w.Code)
		}
	}
	page := func(name string) string {
		return `{"version":"klaxon.dev/v1","kind":"Page","address":"alice@bench.example",` +
			`"incident":{"namespace":"storm","name":"` + name + `"},"page":{"level":0,"round":0,"responder":"alice"}}`
	}
	// A bundle lists fewer incidents than it holds when the payload's
	// bound cuts the list.
	bundle := `{"version":"klaxon.dev/v1","kind":"Bundle","address":"alice@bench.example","incident":{"namespace":"storm"},` +
		`"page":{"responder":"alice"},"bundle":{"id":"b1","count":3,"incidents":[` +
		`{"namespace":"storm","name":"d","level":0,"round":0},{"namespace":"storm","name":"e","level":0,"round":0}]}}`
	post(time.Second, page("a"))
	post(2*time.Second, page("b"))
	post(3*time.Second, page("c"))
	post(30*time.Second, bundle) // the first window's end falls in the second
	post(31*time.Second, `{"version":"klaxon.dev/v1","kind":"Page","address":"bob@bench.example",`+
		`"incident":{"namespace":"storm","name":"f"},"page":{"level":0,"round":0,"responder":"bob"}}`)

	for _, tc := range []struct {
		name    string
		contact string
		window  time.Duration
		to      time.Duration
		most    int
		all     int
		bundles bundleTally
	}{
		{name: "30s windows", contact: contactKey("storm", "alice@bench.example"), window: 30 * time.Second, to: time.Minute,
			most: 3, all: 4, bundles: bundleTally{messages: 1, incidents: 3}},
		{name: "one window of a minute", contact: contactKey("storm", "alice@bench.example"), window: time.Minute, to: time.Minute,
			most: 4, all: 4, bundles: bundleTally{messages: 1, incidents: 3}},
		{name: "until before the bundle", contact: contactKey("storm", "alice@bench.example"), window: time.Minute, to: 10 * time.Second,
			most: 3, all: 3, bundles: bundleTally{messages: 1, incidents: 3}},
		{name: "another contact", contact: contactKey("storm", "bob@bench.example"), window: 30 * time.Second, to: time.Minute,
			most: 1, all: 1},
		{name: "another namespace", contact: contactKey("other", "alice@bench.example"), window: 30 * time.Second, to: time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			most, all, bundles := o.messagesPerWindow(tc.contact, start, start.Add(tc.to), tc.window)
			if most != tc.most || all != tc.all || bundles != tc.bundles {
				t.Errorf("messagesPerWindow = %d most, %d in all, %+v; want %d, %d, %+v", most, all, bundles, tc.most, tc.all, tc.bundles)
			}
		})
	}
	for name, want := range map[string]time.Duration{"a": time.Second, "c": 3 * time.Second, "d": 30 * time.Second, "e": 30 * time.Second, "f": 31 * time.Second} {
		at, err := o.named.wait(t.Context(), "storm/"+name, 0)
		if err != nil || !at.Equal(start.Add(want)) {
			t.Errorf("storm/%s named at %v (%v), want %v", name, at, err, start.Add(want))
		}
	}
	// The third incident of the bundle was not listed, so no message named it.
	if _, err := o.named.wait(t.Context(), "storm/", 0); err == nil {
		t.Error("a bundle's payload named an incident without a name")
	}
}

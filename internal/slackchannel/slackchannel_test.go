package slackchannel

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestName(t *testing.T) {
	long := strings.Repeat("a", 100)
	for _, tc := range []struct {
		prefix, incident string
		attempt          int
		want             string
	}{
		{"inc", "checkout-latency", 1, "inc-checkout-latency"},
		{"inc", "checkout-latency", 2, "inc-checkout-latency-2"},
		{"war-room", "db.primary.down", 1, "war-room-db-primary-down"},
		{"inc", long, 1, "inc-" + strings.Repeat("a", 76)},
		{"inc", long, 10, "inc-" + strings.Repeat("a", 73) + "-10"},
		// A cut that ends in a hyphen does not leave it before the suffix.
		{"inc", strings.Repeat("a", 75) + "-b", 2, "inc-" + strings.Repeat("a", 74) + "-2"},
	} {
		got := Name(tc.prefix, tc.incident, tc.attempt)
		if got != tc.want || len(got) > 80 {
			t.Errorf("Name(%q, %q, %d) = %q, want %q", tc.prefix, tc.incident, tc.attempt, got, tc.want)
		}
	}
}

func TestNextName(t *testing.T) {
	for _, tc := range []struct {
		current, want string
		ok            bool
	}{
		{"inc-db", "inc-db-2", true},
		{"inc-db-2", "inc-db-3", true},
		{"inc-db-9", "inc-db-10", true},
		{"inc-db-10", "", false},
		{"someone-elses", "", false},
	} {
		got, ok := NextName("inc", "db", tc.current)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NextName(%q) = %q, %v, want %q, %v", tc.current, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTopic(t *testing.T) {
	inc := &klaxonv1alpha1.Incident{}
	inc.Spec.Severity = klaxonv1alpha1.SeverityHigh
	inc.Status.Phase = klaxonv1alpha1.StateAcknowledged
	if got, want := Topic(inc), "SEV2 · Acknowledged"; got != want {
		t.Errorf("Topic = %q, want %q", got, want)
	}
	inc.Status.Commander = "ada"
	if got, want := Topic(inc), "SEV2 · Acknowledged · Commander: ada"; got != want {
		t.Errorf("Topic = %q, want %q", got, want)
	}
	inc.Status.Commander = strings.Repeat("é", 300)
	if got := Topic(inc); len([]rune(got)) > 250 {
		t.Errorf("Topic has %d characters", len([]rune(got)))
	}
}

func TestPost(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 12, 7, 9, 12, 0, 0, time.UTC))
	entry := func(typ, actor, msg string) klaxonv1alpha1.TimelineEntry {
		return klaxonv1alpha1.TimelineEntry{Time: at, Type: typ, Actor: actor, Message: msg}
	}
	st := &klaxonv1alpha1.IncidentStatus{Timeline: []klaxonv1alpha1.TimelineEntry{
		entry("Triggered", "ada", "Declared"),
		entry("Paged", "", "Paged bob"),
		entry("Notified", "", "Sent to bob by mail"),
		entry("Acknowledged", "bob", ""),
	}}
	for _, tc := range []struct {
		name      string
		dropped   int32
		posted    int32
		want      string
		wantCount int32
	}{
		{"all", 0, 0, "09:12 UTC Triggered by ada: Declared\n09:12 UTC Paged: Paged bob\n09:12 UTC Acknowledged by bob", 4},
		{"the rest", 0, 2, "09:12 UTC Acknowledged by bob", 4},
		{"nothing new", 0, 4, "", 4},
		{"only deliveries skipped", 0, 2 + 0, "09:12 UTC Acknowledged by bob", 4},
		// Two entries were dropped from the front after one was posted:
		// the timeline's first entry is the third the incident had.
		{"after drops", 2, 3, "09:12 UTC Paged: Paged bob\n09:12 UTC Acknowledged by bob", 6},
		{"dropped unposted", 5, 1, "09:12 UTC Triggered by ada: Declared\n09:12 UTC Paged: Paged bob\n09:12 UTC Acknowledged by bob", 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := st.DeepCopy()
			s.TimelineDropped = tc.dropped
			got, n := Post(s, tc.posted)
			if got != tc.want || n != tc.wantCount {
				t.Errorf("Post = %q, %d; want %q, %d", got, n, tc.want, tc.wantCount)
			}
		})
	}

	// Only a delivery is new: nothing to post, but it counts as posted.
	only := &klaxonv1alpha1.IncidentStatus{Timeline: []klaxonv1alpha1.TimelineEntry{entry("Notified", "", "x")}}
	if got, n := Post(only, 0); got != "" || n != 1 {
		t.Errorf("Post of a delivery = %q, %d; want \"\", 1", got, n)
	}

	// Many entries go out a message at a time.
	many := &klaxonv1alpha1.IncidentStatus{}
	for range 50 {
		many.Timeline = append(many.Timeline, entry("Note", "", strings.Repeat("x", 500)))
	}
	var total int32
	for msgs := 0; total < 50; msgs++ {
		if msgs > 50 {
			t.Fatal("Post does not advance")
		}
		text, n := Post(many, total)
		if n <= total || len(text) > maxPostChars {
			t.Fatalf("Post advanced from %d to %d with %d bytes", total, n, len(text))
		}
		total = n
	}
}

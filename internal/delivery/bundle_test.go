package delivery_test

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/delivery"
)

func TestBundlingOf(t *testing.T) {
	window := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	rules := func(rs ...klaxonv1alpha1.NotificationRule) *klaxonv1alpha1.ResponderSpec {
		return &klaxonv1alpha1.ResponderSpec{Rules: rs}
	}
	for _, tc := range []struct {
		name    string
		spec    *klaxonv1alpha1.ResponderSpec
		channel *klaxonv1alpha1.NotificationChannelSpec
		want    delivery.Bundling
	}{
		{"defaults", rules(klaxonv1alpha1.NotificationRule{Contact: "mail"}), nil, delivery.Bundling{After: 3, Window: 30 * time.Second}},
		{"no responder, no channel", nil, nil, delivery.Bundling{After: 3, Window: 30 * time.Second}},
		{"the rule says", rules(klaxonv1alpha1.NotificationRule{Contact: "mail", BundleAfter: ptr.To[int32](5), BundleWindow: window(time.Minute)}),
			&klaxonv1alpha1.NotificationChannelSpec{BundleAfter: ptr.To[int32](1), BundleWindow: window(time.Hour)}, delivery.Bundling{After: 5, Window: time.Minute}},
		{"off on the rule", rules(klaxonv1alpha1.NotificationRule{Contact: "mail", BundleAfter: ptr.To[int32](0)}),
			&klaxonv1alpha1.NotificationChannelSpec{BundleAfter: ptr.To[int32](2)}, delivery.Bundling{After: 0, Window: 30 * time.Second}},
		{"the channel fills what the rule leaves", rules(klaxonv1alpha1.NotificationRule{Contact: "mail", BundleWindow: window(10 * time.Second)}),
			&klaxonv1alpha1.NotificationChannelSpec{BundleAfter: ptr.To[int32](2), BundleWindow: window(time.Hour)}, delivery.Bundling{After: 2, Window: 10 * time.Second}},
		{"another contact's rule does not count", rules(klaxonv1alpha1.NotificationRule{Contact: "sms", BundleAfter: ptr.To[int32](9)}, klaxonv1alpha1.NotificationRule{Contact: "mail"}),
			nil, delivery.Bundling{After: 3, Window: 30 * time.Second}},
		{"the first rule that sets it counts", rules(
			klaxonv1alpha1.NotificationRule{Contact: "mail"},
			klaxonv1alpha1.NotificationRule{Contact: "mail", BundleAfter: ptr.To[int32](7)},
			klaxonv1alpha1.NotificationRule{Contact: "mail", BundleAfter: ptr.To[int32](8), BundleWindow: window(time.Second)}),
			nil, delivery.Bundling{After: 7, Window: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := delivery.BundlingOf(tc.spec, "mail", tc.channel); got != tc.want {
				t.Errorf("BundlingOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestBundleable(t *testing.T) {
	on := delivery.Bundling{After: 3, Window: 30 * time.Second}
	page := klaxonv1alpha1.Notification{Responder: "alice", Contact: "mail", Channel: "mail"}
	for _, tc := range []struct {
		name     string
		n        klaxonv1alpha1.Notification
		severity klaxonv1alpha1.Severity
		b        delivery.Bundling
		want     bool
	}{
		{"a SEV2 page", page, klaxonv1alpha1.SeverityHigh, on, true},
		{"a SEV1 page goes at once", page, klaxonv1alpha1.SeverityCritical, on, false},
		{"bundling off", page, klaxonv1alpha1.SeverityHigh, delivery.Bundling{Window: time.Minute}, false},
		{"news to stakeholders", klaxonv1alpha1.Notification{Channel: "mail", Address: "s@example.com", Event: klaxonv1alpha1.NotificationEvent("Triggered")}, klaxonv1alpha1.SeverityHigh, on, false},
		{"a team channel", klaxonv1alpha1.Notification{Channel: "slack", Address: "#ops"}, klaxonv1alpha1.SeverityHigh, on, false},
		{"unreached", klaxonv1alpha1.Notification{Responder: "bob"}, klaxonv1alpha1.SeverityHigh, on, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := delivery.Bundleable(&tc.n, tc.severity, tc.b); got != tc.want {
				t.Errorf("Bundleable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWindowFree(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	b := delivery.Bundling{After: 3, Window: 30 * time.Second}
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	for _, tc := range []struct {
		name string
		sent []float64
		now  float64
		b    delivery.Bundling
		want float64
	}{
		{"nothing sent", nil, 0, b, 0},
		{"two of three", []float64{0, 1}, 2, b, 2},
		{"three: until the oldest leaves", []float64{0, 1, 2}, 3, b, 30},
		{"the oldest left", []float64{0, 1, 2}, 30, b, 30},
		{"four (one noted after a restart): two must leave", []float64{0, 1, 2, 3}, 4, b, 31},
		{"all left long ago", []float64{0, 1, 2}, 100, b, 100},
		{"off", []float64{0, 1, 2}, 3, delivery.Bundling{}, 3},
		{"one a window", []float64{5}, 6, delivery.Bundling{After: 1, Window: 10 * time.Second}, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w delivery.Window
			for i, s := range tc.sent {
				w.Note(fmt.Sprint(i), delivery.Message{At: at(s)})
			}
			if got := w.Free(at(tc.now), tc.b); !got.Equal(at(tc.want)) {
				t.Errorf("Free = %s, want %s", got.Sub(t0), at(tc.want).Sub(t0))
			}
		})
	}

	// What left the window is forgotten, and a forgotten message frees
	// its place at once.
	var w delivery.Window
	w.Note("a", delivery.Message{At: at(0)})
	w.Note("b", delivery.Message{At: at(20)})
	w.Note("c", delivery.Message{At: at(21)})
	if got := w.Free(at(40), b); !got.Equal(at(40)) || w.Len() != 2 {
		t.Errorf("Free after the oldest left = %s with %d held, want 40s with 2", got.Sub(t0), w.Len())
	}
	w.Note("d", delivery.Message{At: at(40)})
	if got := w.Free(at(41), b); !got.Equal(at(50)) {
		t.Errorf("Free with three = %s, want 50s", got.Sub(t0))
	}
	w.Forget("d")
	if got := w.Free(at(41), b); !got.Equal(at(41)) || w.Len() != 2 {
		t.Errorf("Free after a forgotten send = %s, want 41s", got.Sub(t0))
	}

	// After a bundle the next goes a whole window later, though the
	// singles before it left sooner; a storm gets one bundle a window.
	var storm delivery.Window
	for i, s := range []float64{0, 0.1, 0.2} {
		storm.Note(fmt.Sprint(i), delivery.Message{At: at(s)})
	}
	storm.Note("b1", delivery.Message{At: at(30), Bundle: true})
	for _, tc := range []struct{ now, want float64 }{{30, 60}, {30.15, 60}, {59, 60}, {60, 60}, {61, 61}} {
		if got := storm.Free(at(tc.now), b); !got.Equal(at(tc.want)) {
			t.Errorf("after a bundle at 30s, Free at %vs = %s, want %vs", tc.now, got.Sub(t0), tc.want)
		}
	}
}

func TestSentTo(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	sent := func(contact, bundle string, s int) klaxonv1alpha1.Notification {
		at := metav1.NewTime(t0.Add(time.Duration(s) * time.Second))
		return klaxonv1alpha1.Notification{Responder: "alice", Contact: contact, Channel: contact, Episode: 1,
			State: klaxonv1alpha1.NotificationSent, SentAt: &at, Bundle: bundle}
	}
	inc := func(uid string, ns ...klaxonv1alpha1.Notification) klaxonv1alpha1.Incident {
		i := klaxonv1alpha1.Incident{}
		i.UID = types.UID(uid)
		i.Status.Notifications = ns
		return i
	}
	pending := sent("mail", "", 5)
	pending.State, pending.SentAt = klaxonv1alpha1.NotificationPending, nil
	bob := sent("mail", "", 6)
	bob.Responder = "bob"
	news := sent("mail", "", 7)
	news.Event = klaxonv1alpha1.NotificationEvent("Triggered")
	sev1 := inc("u4", sent("mail", "", 3))
	sev1.Spec.Severity = klaxonv1alpha1.SeverityCritical
	got := delivery.SentTo([]klaxonv1alpha1.Incident{
		sev1,
		inc("u1", sent("mail", "", 1), sent("sms", "", 2), pending, bob, news),
		inc("u2", sent("mail", "b1", 10)),
		inc("u3", sent("mail", "b1", 10), sent("mail", "", -40)),
	}, "alice", "mail", t0.Add(-30*time.Second))
	want := map[string]delivery.Message{
		"u1/" + delivery.Key(&[]klaxonv1alpha1.Notification{sent("mail", "", 1)}[0]): {At: t0.Add(time.Second)},
		"b1": {At: t0.Add(10 * time.Second), Bundle: true},
	}
	if len(got) != len(want) {
		t.Fatalf("SentTo = %v, want %v", got, want)
	}
	for id, s := range want {
		if !got[id].At.Equal(s.At) || got[id].Bundle != s.Bundle {
			t.Errorf("SentTo[%s] = %+v, want %+v (all: %v)", id, got[id], s, got)
		}
	}
}

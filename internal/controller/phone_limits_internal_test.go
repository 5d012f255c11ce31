package controller

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/delivery"
)

func TestCountPhoneSends(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	since := now.Add(-phoneWindow)
	at := func(ago time.Duration) *metav1.Time { v := metav1.NewTime(now.Add(-ago)); return &v }
	sent := func(responder, channel string, level int32, ago time.Duration) klaxonv1alpha1.Notification {
		return klaxonv1alpha1.Notification{Responder: responder, Contact: "phone", Channel: channel, Level: level,
			Episode: 1, State: klaxonv1alpha1.NotificationSent, SentAt: at(ago)}
	}
	unanswered := sent("alice", "phone", 3, 5*time.Minute)
	unanswered.State = klaxonv1alpha1.NotificationFailed
	incidents := []klaxonv1alpha1.Incident{
		{ObjectMeta: metav1.ObjectMeta{UID: "one"}, Status: klaxonv1alpha1.IncidentStatus{Notifications: []klaxonv1alpha1.Notification{
			sent("alice", "phone", 0, 10*time.Minute),
			sent("alice", "phone", 1, 59*time.Minute),
			sent("alice", "phone", 2, 61*time.Minute), // before the hour
			sent("alice", "mail", 0, time.Minute),     // another channel
			sent("bob", "phone", 0, time.Minute),
			unanswered, // a call nobody answered was still made
			{Responder: "alice", Channel: "phone", Level: 4, State: klaxonv1alpha1.NotificationPending},
			{Responder: "alice", Channel: "phone", Level: 5, State: klaxonv1alpha1.NotificationFailed, Error: "refused"},
		}}},
		{ObjectMeta: metav1.ObjectMeta{UID: "two"}, Status: klaxonv1alpha1.IncidentStatus{Notifications: []klaxonv1alpha1.Notification{
			{Address: "+15005550001", Channel: "phone", Episode: 1, State: klaxonv1alpha1.NotificationSent, SentAt: at(0)},
		}}},
	}
	for name, tc := range map[string]struct {
		responder        string
		self             string
		mine             map[string]phoneSend
		all, toResponder int
	}{
		"persisted only":  {"alice", "", nil, 5, 3},
		"no responder":    {"", "", nil, 5, 0},
		"another person":  {"carol", "", nil, 5, 0},
		"sends under way": {"alice", "", map[string]phoneSend{"three/x": {responder: "alice", at: now}, "three/y": {responder: "bob", at: now}}, 7, 4},
		// A retry after a timeout does not count its own earlier attempt,
		// kept by this process or already recorded.
		"a retry, kept": {"alice", "three/x", map[string]phoneSend{"three/x": {responder: "alice", at: now}, "three/y": {responder: "bob", at: now}}, 6, 3},
		"a retry, recorded": {"alice", deliveryID("one", delivery.Key(&incidents[0].Status.Notifications[0])), map[string]phoneSend{
			deliveryID("one", delivery.Key(&incidents[0].Status.Notifications[0])): {responder: "alice", at: now.Add(-10 * time.Minute)},
		}, 4, 2},
		// A send this process made and whose entry the cache already shows
		// counts once.
		"stored and mine": {"alice", "", map[string]phoneSend{
			deliveryID("one", delivery.Key(&incidents[0].Status.Notifications[0])): {responder: "alice", at: now.Add(-10 * time.Minute)},
		}, 5, 3},
	} {
		t.Run(name, func(t *testing.T) {
			all, to := countPhoneSends(persistedPhoneSends(incidents, "phone", since, tc.self), tc.mine, tc.responder, tc.self)
			if all != tc.all || to != tc.toResponder {
				t.Errorf("counted %d in all and %d to %q; want %d and %d", all, to, tc.responder, tc.all, tc.toResponder)
			}
		})
	}
}

func TestPhoneLedgerForgetsOldSends(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	l := phoneLedger{sends: map[string]map[string]phoneSend{
		"ns/phone": {"a": {at: now.Add(-2 * time.Hour)}, "b": {at: now.Add(-time.Minute)}},
		"ns/old":   {"c": {at: now.Add(-2 * time.Hour)}},
	}}
	if got := l.recent("ns/phone", now.Add(-phoneWindow)); len(got) != 1 || got["b"].at.IsZero() {
		t.Errorf("recent sends %v, want b only", got)
	}
	l.sends["ns/other"] = map[string]phoneSend{"d": {at: now.Add(-30 * time.Minute)}}
	l.prune(now)
	if _, kept := l.sends["ns/old"]; kept {
		t.Error("a channel without recent sends is still kept")
	}
	if len(l.sends["ns/phone"]) != 1 || len(l.sends["ns/other"]) != 1 {
		t.Errorf("pruned recent sends: %v", l.sends)
	}
}

func TestPhoneLimitsDefaults(t *testing.T) {
	for name, tc := range map[string]struct {
		limits    *klaxonv1alpha1.PhoneLimits
		per, all  int
		describes string
	}{
		"unset":       {nil, 10, 100, "at most 10 an hour to a responder and 100 in all"},
		"empty":       {&klaxonv1alpha1.PhoneLimits{}, 10, 100, "at most 10 an hour"},
		"per person":  {&klaxonv1alpha1.PhoneLimits{PerResponderPerHour: ptr.To[int32](2)}, 2, 100, "at most 2 an hour to a responder and 100 in all"},
		"all and one": {&klaxonv1alpha1.PhoneLimits{PerResponderPerHour: ptr.To[int32](1), PerHour: ptr.To[int32](5)}, 1, 5, "and 5 in all"},
	} {
		t.Run(name, func(t *testing.T) {
			tw := &klaxonv1alpha1.TwilioChannel{From: "+15005550006", Limits: tc.limits}
			if per, all := phoneLimits(tw); per != tc.per || all != tc.all {
				t.Errorf("limits %d and %d, want %d and %d", per, all, tc.per, tc.all)
			}
			if d := describeTwilio(tw); !strings.Contains(d, tc.describes) || strings.Contains(d, tw.From) {
				t.Errorf("described as %q", d)
			}
		})
	}
}

package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// The API server rejects invalid schedules, policies and routes through the
// CRD schema and CEL rules, each with its message.
func TestInvalidObjectsAreRejected(t *testing.T) {
	ns := newNamespace(t)
	d := func(s string) *metav1.Duration {
		v, _ := time.ParseDuration(s)
		return &metav1.Duration{Duration: v}
	}
	layer := func(mutate func(*klaxonv1alpha1.ScheduleLayer)) *klaxonv1alpha1.OnCallSchedule {
		l := klaxonv1alpha1.ScheduleLayer{Name: "primary", Participants: []string{"alice"}, Start: "2026-11-02T09:00:00", Shift: *d("168h")}
		mutate(&l)
		return &klaxonv1alpha1.OnCallSchedule{Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: []klaxonv1alpha1.ScheduleLayer{l}}}
	}
	level := func(after *metav1.Duration, targets ...klaxonv1alpha1.EscalationTarget) klaxonv1alpha1.EscalationLevel {
		return klaxonv1alpha1.EscalationLevel{After: after, Targets: targets}
	}
	primary := klaxonv1alpha1.EscalationTarget{Schedule: "primary"}
	route := func(window string) *klaxonv1alpha1.AlertRoute {
		return &klaxonv1alpha1.AlertRoute{Spec: klaxonv1alpha1.AlertRouteSpec{
			ReopenWindow:   d(window),
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "t", Key: "token"},
		}}
	}
	cases := map[string]struct {
		obj  client.Object
		says string
	}{
		"schedule with Local time zone": {&klaxonv1alpha1.OnCallSchedule{Spec: klaxonv1alpha1.OnCallScheduleSpec{
			TimeZone: "Local", Layers: layer(func(*klaxonv1alpha1.ScheduleLayer) {}).Spec.Layers}}, "timeZone must be an IANA name"},
		"schedule with zero shift":      {layer(func(l *klaxonv1alpha1.ScheduleLayer) { l.Shift = metav1.Duration{} }), "shift must be a positive duration"},
		"schedule without participants": {layer(func(l *klaxonv1alpha1.ScheduleLayer) { l.Participants = nil }), "participants"},
		"schedule with a bad restriction": {layer(func(l *klaxonv1alpha1.ScheduleLayer) {
			l.Restrictions = []klaxonv1alpha1.TimeRestriction{{Days: []klaxonv1alpha1.Weekday{"Mon"}, From: "25:00", To: "18:00"}}
		}), "from"},
		"override ending before it starts": {&klaxonv1alpha1.OnCallSchedule{Spec: klaxonv1alpha1.OnCallScheduleSpec{
			TimeZone: "UTC", Layers: layer(func(*klaxonv1alpha1.ScheduleLayer) {}).Spec.Layers,
			Overrides: []klaxonv1alpha1.ScheduleOverride{{User: "dave",
				Start: metav1.NewTime(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)), End: metav1.NewTime(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))}},
		}}, "override end must be after its start"},
		"target with schedule and user": {&klaxonv1alpha1.EscalationPolicy{Spec: klaxonv1alpha1.EscalationPolicySpec{
			Levels: []klaxonv1alpha1.EscalationLevel{level(nil, klaxonv1alpha1.EscalationTarget{Schedule: "primary", User: "erin"})}}},
			"a target sets exactly one of schedule, user or channel"},
		"second level without after": {&klaxonv1alpha1.EscalationPolicy{Spec: klaxonv1alpha1.EscalationPolicySpec{
			Levels: []klaxonv1alpha1.EscalationLevel{level(nil, primary), level(nil, primary)}}},
			"every level after the first needs after"},
		"policy without levels": {&klaxonv1alpha1.EscalationPolicy{Spec: klaxonv1alpha1.EscalationPolicySpec{}}, "levels"},
		"single level repeating without after": {&klaxonv1alpha1.EscalationPolicy{Spec: klaxonv1alpha1.EscalationPolicySpec{
			Levels: []klaxonv1alpha1.EscalationLevel{level(nil, primary)}, Repeat: 2}},
			"a single-level policy that repeats needs levels[0].after"},
		"reopen window over 30 days": {route("1000h"), "reopenWindow must be at most 720h"},
		"route without token":        {&klaxonv1alpha1.AlertRoute{}, "tokenSecretRef"},
		"channel target without address": {&klaxonv1alpha1.EscalationPolicy{Spec: klaxonv1alpha1.EscalationPolicySpec{
			Levels: []klaxonv1alpha1.EscalationLevel{level(nil, klaxonv1alpha1.EscalationTarget{Channel: "team-slack"})}}},
			"address is required with channel"},
		"channel of two kinds": {&klaxonv1alpha1.NotificationChannel{Spec: klaxonv1alpha1.NotificationChannelSpec{
			Email:   &klaxonv1alpha1.EmailChannel{Smarthost: "smtp.example.com:587", From: "klaxon@example.com"},
			Webhook: &klaxonv1alpha1.WebhookChannel{URL: "https://example.com/hook"}}},
			"set exactly one of email, slack, webhook, alertmanager, twilio or ntfy"},
		"webhook channel with a relative url": {&klaxonv1alpha1.NotificationChannel{Spec: klaxonv1alpha1.NotificationChannelSpec{
			Webhook: &klaxonv1alpha1.WebhookChannel{URL: "/hook"}}}, "url must be an http or https URL"},
		"responder rule naming no contact": {&klaxonv1alpha1.Responder{Spec: klaxonv1alpha1.ResponderSpec{
			Contacts: []klaxonv1alpha1.Contact{{Name: "mail", Channel: "mail", Address: "alice@example.com"}},
			Rules:    []klaxonv1alpha1.NotificationRule{{Contact: "phone"}}}}, "every rule must name one of spec.contacts"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.obj.SetNamespace(ns)
			tc.obj.SetName(strings.ReplaceAll(name, " ", "-"))
			err := k8s.Create(context.Background(), tc.obj)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("got %v, want Invalid saying %q", err, tc.says)
			}
		})
	}

	// A negative reopen window cannot even be written through the typed
	// client's round trip; send it raw.
	raw := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "klaxon.dev/v1alpha1", "kind": "AlertRoute",
		"metadata": map[string]any{"name": "negative-window", "namespace": ns},
		"spec":     map[string]any{"reopenWindow": "-5m", "tokenSecretRef": map[string]any{"name": "t", "key": "token"}},
	}}
	if err := k8s.Create(context.Background(), raw); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "reopenWindow must be a duration of 0s or more") {
		t.Errorf("negative reopenWindow: got %v", err)
	}
}

package opsgenie

import (
	"maps"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

func TestRestoreLabels(t *testing.T) {
	fp := alertmapping.FingerprintOf("db-down")
	at := func(minute int) *metav1.Time {
		t := metav1.NewTime(time.Date(2026, 12, 1, 10, minute, 0, 0, time.UTC))
		return &t
	}
	tests := map[string]struct {
		stored *klaxonv1alpha1.AlertsSummary
		want   map[string]string
	}{
		"no incident": {want: map[string]string{}},
		"another alert only": {stored: &klaxonv1alpha1.AlertsSummary{Items: []klaxonv1alpha1.AlertItem{
			{Fingerprint: "0000000000000000", Labels: map[string]string{"alertname": "Other"}}}}, want: map[string]string{}},
		"the alert's labels": {stored: &klaxonv1alpha1.AlertsSummary{Items: []klaxonv1alpha1.AlertItem{
			{Fingerprint: fp, StartsAt: at(0), Labels: map[string]string{"alertname": "DB down", "priority": "P1"}}}},
			want: map[string]string{"alertname": "DB down", "priority": "P1"}},
		"the latest occurrence's": {stored: &klaxonv1alpha1.AlertsSummary{Items: []klaxonv1alpha1.AlertItem{
			{Fingerprint: fp, StartsAt: at(5), Labels: map[string]string{"alertname": "DB down", "priority": "P2"}},
			{Fingerprint: fp, StartsAt: at(0), Labels: map[string]string{"alertname": "DB down", "priority": "P1"}}}},
			want: map[string]string{"alertname": "DB down", "priority": "P2"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ns, e := Parse(Target{Action: ActionClose, Alias: "db-down"}, nil, "")
			if e != nil {
				t.Fatal(e)
			}
			n := ns[0]
			RestoreLabels(n, tc.stored)
			if !maps.Equal(n.Alerts[0].Labels, tc.want) || !maps.Equal(n.CommonLabels, tc.want) {
				t.Fatalf("labels %v, common %v; want %v", n.Alerts[0].Labels, n.CommonLabels, tc.want)
			}
			if name := tc.want["alertname"]; name != "" && n.GroupLabels["alertname"] != name {
				t.Fatalf("group labels %v, want the alertname", n.GroupLabels)
			}
		})
	}
}

func TestRepeatsNote(t *testing.T) {
	note := func(actor, msg string) klaxonv1alpha1.TimelineEntry {
		return klaxonv1alpha1.TimelineEntry{Type: klaxonv1alpha1.TimelineNote, Actor: actor, Message: msg}
	}
	const og = "opsgenie:payments"
	msgA, msgB := note(og, "Message changed to: A"), note(og, "Message changed to: B")
	descA := note(og, "Description changed to: A")
	tests := map[string]struct {
		timeline []klaxonv1alpha1.TimelineEntry
		entry    klaxonv1alpha1.TimelineEntry
		want     bool
	}{
		"first update":                     {entry: msgA},
		"same as the latest":               {timeline: []klaxonv1alpha1.TimelineEntry{msgA}, entry: msgA, want: true},
		"same, with other entries after":   {timeline: []klaxonv1alpha1.TimelineEntry{msgA, descA, note(og, "Failover started"), {Type: klaxonv1alpha1.TimelineAcknowledged, Actor: og}}, entry: msgA, want: true},
		"changed back":                     {timeline: []klaxonv1alpha1.TimelineEntry{msgA, msgB}, entry: msgA},
		"a description is not a message":   {timeline: []klaxonv1alpha1.TimelineEntry{descA}, entry: msgA},
		"another route's note":             {timeline: []klaxonv1alpha1.TimelineEntry{note("opsgenie:search", msgA.Message)}, entry: msgA},
		"a plain note is never a repeat":   {timeline: []klaxonv1alpha1.TimelineEntry{note(og, "Failover started")}, entry: note(og, "Failover started")},
		"a person's note of the same text": {timeline: []klaxonv1alpha1.TimelineEntry{note("alice", msgA.Message)}, entry: msgA},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := RepeatsNote(tc.timeline, tc.entry); got != tc.want {
				t.Fatalf("RepeatsNote = %v, want %v", got, tc.want)
			}
		})
	}
}

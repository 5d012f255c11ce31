package opsgenie

import (
	"strings"
	"testing"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

func TestRepeatsUpdate(t *testing.T) {
	note := func(actor, msg string) klaxonv1alpha1.TimelineEntry {
		return klaxonv1alpha1.TimelineEntry{Type: klaxonv1alpha1.TimelineNote, Actor: actor, Message: msg}
	}
	const og = "opsgenie:payments"
	msgA, msgB := note(og, "Message changed to: A"), note(og, "Message changed to: B")
	descA := note(og, "Description changed to: A")
	// created is the incident a create of alias db-down opened: its
	// alert's alertname, title and description are the create's.
	created := func(alertname, title, description string, timeline ...klaxonv1alpha1.TimelineEntry) *klaxonv1alpha1.Incident {
		return &klaxonv1alpha1.Incident{
			Spec: klaxonv1alpha1.IncidentSpec{Title: title, Description: description},
			Status: klaxonv1alpha1.IncidentStatus{Timeline: timeline, Alerts: &klaxonv1alpha1.AlertsSummary{Firing: 1, Items: []klaxonv1alpha1.AlertItem{
				{Fingerprint: alertmapping.FingerprintOf("db-down"), Status: "firing", Labels: map[string]string{"alertname": alertname}}}}},
		}
	}
	plain := created("Z", "Z", "")
	long := strings.Repeat("d", 9000)
	tests := map[string]struct {
		inc   *klaxonv1alpha1.Incident
		entry klaxonv1alpha1.TimelineEntry
		want  bool
	}{
		"no incident":                      {entry: msgA},
		"a changed message, first update":  {inc: plain, entry: msgA},
		"same as the latest":               {inc: created("Z", "Z", "", msgA), entry: msgA, want: true},
		"same, with other entries after":   {inc: created("Z", "Z", "", msgA, descA, note(og, "Failover started"), klaxonv1alpha1.TimelineEntry{Type: klaxonv1alpha1.TimelineAcknowledged, Actor: og}), entry: msgA, want: true},
		"changed back":                     {inc: created("A", "A", "", msgA, msgB), entry: msgA},
		"a description is not a message":   {inc: created("Z", "Z", "", descA), entry: msgA},
		"another route's note":             {inc: created("Z", "Z", "", note("opsgenie:search", msgA.Message)), entry: msgA},
		"a plain note is never a repeat":   {inc: created("Failover started", "Failover started", "Failover started", note(og, "Failover started")), entry: note(og, "Failover started")},
		"a person's note of the same text": {inc: created("Z", "Z", "", note("alice", msgA.Message)), entry: msgA},
		// Before any update note, the create's message and description,
		// as the incident keeps them.
		"the message the create gave as alertname":       {inc: created("A", "A", ""), entry: msgA, want: true},
		"the message the create gave as summary":         {inc: created("HighLatency", "HighLatency: A", ""), entry: msgA, want: true},
		"the description the create gave":                {inc: created("Z", "Z", "A"), entry: descA, want: true},
		"a changed description":                          {inc: created("Z", "Z", "B"), entry: descA},
		"the description, then a failed template note":   {inc: created("Z", "Z", "A\n\nThe title template failed"), entry: descA, want: true},
		"a long description the field cut":               {inc: created("Z", "Z", bounded.Runes(long, 8192)), entry: note(og, "Description changed to: "+long), want: true},
		"a description the incident does not have":       {inc: created("Z", "Z", ""), entry: descA},
		"a message that is another alert's alertname":    {inc: created("B", "B", ""), entry: msgA},
		"an earlier changed note wins over the create's": {inc: created("A", "A", "", msgB), entry: msgA},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := RepeatsUpdate(tc.inc, "db-down", tc.entry.Message, tc.entry); got != tc.want {
				t.Fatalf("RepeatsUpdate = %v, want %v", got, tc.want)
			}
		})
	}
}

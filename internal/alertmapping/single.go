package alertmapping

import (
	"maps"
	"strings"

	"github.com/prometheus/alertmanager/template"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// The senders that speak of one alert at a time (a PagerDuty event, an
// Opsgenie alert) name it by a key of their own; their notifications are
// built here, so every such intake maps onto Alertmanager's shape alike.

// SingleAlert is the notification of one alert that a sender names by key
// (a dedup_key, an alias), with status firing or resolved: a group of that
// one alert, keyed GroupKeyFor(intake, key), fingerprinted FingerprintOf(key),
// whose common labels and annotations are the alert's and whose group label
// is its alertname. The sender gives no times (Timeless).
func SingleAlert(intake Intake, key, status string, labels, annotations KV) Notification {
	if labels == nil {
		labels = KV{}
	}
	if annotations == nil {
		annotations = KV{}
	}
	return Notification{
		Message: &Message{
			Version:  PayloadVersion,
			GroupKey: GroupKeyFor(intake, key),
			Data: &template.Data{
				Receiver: string(intake),
				Status:   status,
				Alerts: template.Alerts{{
					Status:      status,
					Labels:      maps.Clone(labels),
					Annotations: maps.Clone(annotations),
					Fingerprint: FingerprintOf(key),
				}},
				GroupLabels:       groupLabelsOf(labels),
				CommonLabels:      labels,
				CommonAnnotations: annotations,
			},
		},
		Intake:   intake,
		Kind:     KindAlerts,
		Timeless: true,
	}
}

// AcknowledgeOf is a sender's acknowledgement of the alert it names by key.
func AcknowledgeOf(intake Intake, key string) Notification {
	return Notification{Message: keyOnly(intake, key), Intake: intake, Kind: KindAcknowledge}
}

// NoteOf is a sender's note on the alert it names by key.
func NoteOf(intake Intake, key, text string) Notification {
	return Notification{Message: keyOnly(intake, key), Intake: intake, Kind: KindNote, Note: text}
}

// keyOnly is a message that carries only the group key of a sender's key.
func keyOnly(intake Intake, key string) *Message {
	return &Message{Version: PayloadVersion, GroupKey: GroupKeyFor(intake, key), Data: &template.Data{}}
}

// ResolvesByKey reports whether n resolves one alert of a sender that
// names its alerts by key (a PagerDuty resolve, an Opsgenie close): such a
// resolve says which alert, not what it was, so RestoreLabels gives it the
// labels the incident stored.
func ResolvesByKey(n Notification) bool {
	return n.Kind == KindAlerts && n.Timeless && n.Message != nil && n.Data != nil &&
		n.Status == StatusResolved && len(n.Alerts) == 1
}

// RestoreLabels gives the alert of a resolve by key (ResolvesByKey) the
// labels the group's incident stored for it (stored: its alerts; nil when
// it has none), from the alert's latest occurrence. The resolved incident
// keeps showing what fired: a sender's resolve names only the key
// (PagerDuty ignores a resolve's payload, an Opsgenie close has none).
// An alert the incident never stored keeps the labels it came with.
func RestoreLabels(n Notification, stored *klaxonv1alpha1.AlertsSummary) {
	if !ResolvesByKey(n) || stored == nil {
		return
	}
	a := &n.Alerts[0]
	var found *klaxonv1alpha1.AlertItem
	for i := range stored.Items {
		it := &stored.Items[i]
		if it.Fingerprint == a.Fingerprint && (found == nil || laterStart(it, found)) {
			found = it
		}
	}
	if found == nil || len(found.Labels) == 0 {
		return
	}
	a.Labels = maps.Clone(found.Labels)
	n.CommonLabels = maps.Clone(found.Labels)
	n.GroupLabels = groupLabelsOf(found.Labels)
}

func laterStart(a, b *klaxonv1alpha1.AlertItem) bool {
	return a.StartsAt != nil && (b.StartsAt == nil || a.StartsAt.After(b.StartsAt.Time))
}

// groupLabelsOf is the group label of a single alert: its alertname, the
// label the default title reads.
func groupLabelsOf(labels KV) KV {
	if name, ok := labels[alertnameLabel]; ok {
		return KV{alertnameLabel: name}
	}
	return KV{}
}

// OneLine joins the lines of s with single spaces and trims it, for a
// label or a title.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

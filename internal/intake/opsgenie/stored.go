package opsgenie

import (
	"maps"
	"strings"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

// RestoreLabels gives the alert of a close the labels the group's incident
// stored for it (stored: its alerts; nil when it has none). A close names
// only the alias, and the resolved incident should keep showing what
// fired.
func RestoreLabels(n alertmapping.Notification, stored *klaxonv1alpha1.AlertsSummary) {
	if n.Message == nil || n.Data == nil || len(n.Alerts) != 1 || stored == nil {
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
	if found == nil || len(a.Labels) > 0 {
		return
	}
	labels := maps.Clone(found.Labels)
	if labels == nil {
		return
	}
	a.Labels = labels
	n.CommonLabels = a.Labels
	if name, ok := labels[labelAlertname]; ok {
		n.GroupLabels = map[string]string{labelAlertname: name}
	}
}

func laterStart(a, b *klaxonv1alpha1.AlertItem) bool {
	return a.StartsAt != nil && (b.StartsAt == nil || a.StartsAt.After(b.StartsAt.Time))
}

// RepeatsNote reports whether entry, the note of an update of the message
// or the description, says what the latest such note by the same actor on
// the timeline already says. Alertmanager's notifier (update_alerts) sends
// both updates after every create, so an unchanged message or description
// is noted once, not at every repeat.
func RepeatsNote(timeline []klaxonv1alpha1.TimelineEntry, entry klaxonv1alpha1.TimelineEntry) bool {
	prefix := ""
	for _, p := range []string{messageUpdateNotePrefix, descriptionNotePrefix} {
		if strings.HasPrefix(entry.Message, p) {
			prefix = p
		}
	}
	if prefix == "" {
		return false
	}
	for i := len(timeline) - 1; i >= 0; i-- {
		e := timeline[i]
		if e.Type == klaxonv1alpha1.TimelineNote && e.Actor == entry.Actor && strings.HasPrefix(e.Message, prefix) {
			return e.Message == entry.Message
		}
	}
	return false
}

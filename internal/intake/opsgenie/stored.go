package opsgenie

import (
	"strings"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// RepeatsUpdate reports whether an update of the message or the
// description of alias's alert says what the alert already says, so it
// is not noted again: note is the notification's text (Parse's) and
// entry its timeline entry on inc, the group's incident.
//
// Alertmanager's notifier (update_alerts) sends both updates after every
// create, so an unchanged message or description is noted once, at its
// change. The alert already says what the latest such note by the same
// actor on the timeline says or, before any, what the create said, as
// the incident keeps it: a message as the alert's alertname label (or,
// when the details named the alertname, in the title the template
// rendered from the summary), a description as spec.description.
func RepeatsUpdate(inc *klaxonv1alpha1.Incident, alias, note string, entry klaxonv1alpha1.TimelineEntry) bool {
	prefix := ""
	for _, p := range []string{messageUpdateNotePrefix, descriptionNotePrefix} {
		if strings.HasPrefix(entry.Message, p) && strings.HasPrefix(note, p) {
			prefix = p
		}
	}
	if prefix == "" || inc == nil {
		return false
	}
	for i := len(inc.Status.Timeline) - 1; i >= 0; i-- {
		e := inc.Status.Timeline[i]
		if e.Type == klaxonv1alpha1.TimelineNote && e.Actor == entry.Actor && strings.HasPrefix(e.Message, prefix) {
			return e.Message == entry.Message
		}
	}
	text := strings.TrimPrefix(note, prefix)
	if prefix == descriptionNotePrefix {
		return sameDescription(inc.Spec.Description, text)
	}
	return createdMessage(inc, alias, text)
}

// createdMessage reports whether message is what the create of alias's
// alert said, as inc keeps it.
func createdMessage(inc *klaxonv1alpha1.Incident, alias, message string) bool {
	if stored := alertmapping.StoredAlerts(inc); stored != nil {
		fp := alertmapping.FingerprintOf(alias)
		for _, it := range stored.Items {
			if it.Fingerprint == fp && it.Labels[labelAlertname] == message {
				return true
			}
		}
	}
	line := alertmapping.OneLine(message)
	return line != "" && strings.Contains(alertmapping.OneLine(inc.Spec.Title), line)
}

// sameDescription reports whether spec.description (stored) holds the
// description: as it is, cut to what the field keeps (ending in
// bounded.Marker), or followed by the receiver's note on a failed title
// template.
func sameDescription(stored, description string) bool {
	switch {
	case stored == "" || description == "":
		return false
	case stored == description || strings.HasPrefix(stored, description+"\n\n"):
		return true
	}
	cut, ok := strings.CutSuffix(stored, bounded.Marker)
	return ok && cut != "" && strings.HasPrefix(description, cut)
}

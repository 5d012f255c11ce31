package alertmapping

import (
	"encoding/json"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// maxOpeningAlertsBytes bounds the opening-alerts annotation, well within
// the API server's 256 KiB for all of an object's annotations.
const maxOpeningAlertsBytes = 64 << 10

// SetOpeningAlerts records summary on a new incident in the
// klaxon.dev/opening-alerts annotation, so the incident is created with its
// alerts and the reconciler's first status write stores them. It reports
// false, setting nothing, when the summary is too large for an annotation:
// the caller then writes status.alerts itself.
func SetOpeningAlerts(inc *klaxonv1alpha1.Incident, summary *klaxonv1alpha1.AlertsSummary) bool {
	if summary == nil {
		return false
	}
	data, err := json.Marshal(summary)
	if err != nil || len(data) > maxOpeningAlertsBytes {
		return false
	}
	if inc.Annotations == nil {
		inc.Annotations = map[string]string{}
	}
	inc.Annotations[klaxonv1alpha1.OpeningAlertsAnnotation] = string(data)
	return true
}

// OpeningAlerts is the summary an incident was opened with, or nil when it
// has none or the annotation does not parse (someone edited it: the next
// notification writes status.alerts afresh).
func OpeningAlerts(inc *klaxonv1alpha1.Incident) *klaxonv1alpha1.AlertsSummary {
	data, ok := inc.Annotations[klaxonv1alpha1.OpeningAlertsAnnotation]
	if !ok || len(data) > maxOpeningAlertsBytes {
		return nil
	}
	summary := &klaxonv1alpha1.AlertsSummary{}
	if err := json.Unmarshal([]byte(data), summary); err != nil || len(summary.Items) > MaxAlertItems {
		return nil
	}
	return summary
}

// StoredAlerts is what the incident knows of its group's alerts:
// status.alerts, or, until the reconciler has stored them there, the alerts
// it was opened with.
func StoredAlerts(inc *klaxonv1alpha1.Incident) *klaxonv1alpha1.AlertsSummary {
	if inc.Status.Alerts != nil {
		return inc.Status.Alerts
	}
	return OpeningAlerts(inc)
}

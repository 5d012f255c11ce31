package alertmapping

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Intake names the kind of sender a notification came from. Every intake
// turns what its sender says into a Notification in Alertmanager's shape,
// so one Decide, one title template and one severity mapping serve them all.
type Intake string

// The intakes, as recorded in an incident's spec.source.intake and the
// receiver's metrics.
const (
	IntakeAlertmanager Intake = Intake(klaxonv1alpha1.IntakeAlertmanager)
	IntakeGrafana      Intake = Intake(klaxonv1alpha1.IntakeGrafana)
	IntakePagerDuty    Intake = Intake(klaxonv1alpha1.IntakePagerDuty)
	IntakeOpsgenie     Intake = Intake(klaxonv1alpha1.IntakeOpsgenie)
)

// Intakes lists every intake, for metrics that must know them in advance.
var Intakes = []Intake{IntakeAlertmanager, IntakeGrafana, IntakePagerDuty, IntakeOpsgenie}

// NotificationKind is what a notification asks of its group's incident.
type NotificationKind int

const (
	// KindAlerts carries the group's alerts and status (firing or
	// resolved): it opens, updates, reopens or resolves the incident
	// through Decide.
	KindAlerts NotificationKind = iota
	// KindAcknowledge says the sender acknowledged the group (PagerDuty
	// event_action acknowledge, Opsgenie acknowledge). It moves a
	// triggered incident to Acknowledged, as a person would, through
	// DecideAcknowledge; Message carries only the GroupKey.
	KindAcknowledge
	// KindNote says the sender added text about the group (an Opsgenie note, a
	// new message or description). It is recorded on the timeline of the
	// group's open incident; Message carries only the GroupKey.
	KindNote
)

// Notification is what one sender said about one group, in Alertmanager's
// shape: the intake's parser maps its sender's fields onto Message (labels,
// annotations, one alert per event) and says which kind it is.
type Notification struct {
	// Message is the group in Alertmanager's webhook shape. Its GroupKey
	// identifies the group: Alertmanager's groupKey, or the intake's key
	// (GroupKeyFor) for the other senders.
	*Message
	// Intake is the sender.
	Intake Intake
	// Kind says what the notification asks.
	Kind NotificationKind
	// Note is the text of a KindNote, for the timeline.
	Note string
	// Timeless says the sender gives its alerts no times of their own: the
	// receiver settles their StartsAt and EndsAt against the stored
	// incident (SettleTimes), so a repeat of an unchanged event is a
	// repeat, and a trigger after a resolve is a new occurrence.
	Timeless bool
}

// GroupKeyFor is the group key of a sender's own key (a PagerDuty
// dedup_key, an Opsgenie alias): prefixed with the intake, so no sender's
// key can name another sender's group on the same route.
func GroupKeyFor(intake Intake, key string) string {
	return string(intake) + ":" + key
}

// FingerprintOf is a stable fingerprint for an alert a sender identifies by
// a key of its own (a dedup_key, an alias): 16 hex digits, as
// Alertmanager's fingerprints are.
func FingerprintOf(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// Actor is who an intake's moves are recorded as: "alertmanager" for
// Alertmanager and Grafana webhooks (they say only that alerts fired or
// resolved), "pagerduty:{route}" and "opsgenie:{route}" for the APIs whose
// callers also acknowledge.
func Actor(intake Intake, routeName string) string {
	switch intake {
	case IntakePagerDuty, IntakeOpsgenie:
		return string(intake) + ":" + routeName
	}
	return klaxonv1alpha1.ActorAlertmanager
}

// SettleTimes gives the alerts of a timeless notification the times the
// group's stored alerts (stored; nil when there is no incident) imply, in
// place:
//
//   - firing, stored firing: the stored start (a repeat);
//   - firing, stored resolved: now, and at least a second after the stored
//     end, so a trigger in the second of a resolve is a new occurrence, not
//     an older notification (times are compared at whole seconds);
//   - firing, not stored: now (a new occurrence);
//   - resolved, stored firing: the stored start, ending now;
//   - resolved, stored resolved: the stored start and end (a repeat);
//   - resolved, not stored: starting and ending now.
//
// Times are kept to whole seconds, as stored.
func SettleTimes(stored *klaxonv1alpha1.AlertsSummary, msg *Message, now time.Time) {
	if msg == nil || msg.Data == nil {
		return
	}
	now = now.UTC().Truncate(time.Second)
	known := map[string]klaxonv1alpha1.AlertItem{}
	if stored != nil {
		for _, it := range stored.Items {
			if k, ok := known[it.Fingerprint]; !ok || compareTimes(it.StartsAt, k.StartsAt) > 0 {
				known[it.Fingerprint] = it
			}
		}
	}
	for i := range msg.Alerts {
		a := &msg.Alerts[i]
		k, ok := known[a.Fingerprint]
		start, end := now, time.Time{}
		switch {
		case a.Status == StatusFiring && ok && k.Status == StatusFiring && k.StartsAt != nil:
			start = k.StartsAt.Time
		case a.Status == StatusFiring && ok && k.Status == StatusResolved && k.EndsAt != nil && !now.After(k.EndsAt.Time):
			start = k.EndsAt.Add(time.Second)
		case a.Status == StatusResolved && ok && k.StartsAt != nil:
			start, end = k.StartsAt.Time, now
			if k.Status == StatusResolved && k.EndsAt != nil {
				end = k.EndsAt.Time
			}
		case a.Status == StatusResolved:
			end = now
		}
		a.StartsAt, a.EndsAt = start, end
	}
}

// Stamp records the notification's sender on a new incident (NewIncident's):
// spec.source.intake, and the actor annotation for its opening.
func (n Notification) Stamp(inc *klaxonv1alpha1.Incident, routeName string) {
	if inc.Spec.Source != nil && n.Intake != "" {
		inc.Spec.Source.Intake = klaxonv1alpha1.IntakeName(n.Intake)
	}
	if inc.Annotations == nil {
		inc.Annotations = map[string]string{}
	}
	inc.Annotations[klaxonv1alpha1.ActorAnnotation] = Actor(n.Intake, routeName)
}

// maxNoteLength bounds a note's text on the timeline, well within the
// timeline's own bound of a message.
const maxNoteLength = 1024

// NoteEntry is the timeline entry of a KindNote notification on the group's
// incident.
func (n Notification) NoteEntry(routeName string, now time.Time) klaxonv1alpha1.TimelineEntry {
	return klaxonv1alpha1.TimelineEntry{
		Time:    metav1.NewTime(now.UTC().Truncate(time.Second)),
		Type:    klaxonv1alpha1.TimelineNote,
		Actor:   Actor(n.Intake, routeName),
		Message: bounded.Runes(cleanNote(n.Note), maxNoteLength),
	}
}

// cleanNote keeps a note printable: control characters other than newlines
// and tabs become spaces.
func cleanNote(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
}

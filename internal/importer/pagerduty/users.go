package pagerduty

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

const (
	// The bounds of a Responder.
	maxContacts    = 16
	maxRules       = 32
	maxAddress     = 512
	maxDisplayName = 253
	maxContactName = 63
	// maxRuleDelay is the longest a Responder rule may wait.
	maxRuleDelay = 24 * time.Hour
)

// channels are the NotificationChannel names of PagerDuty's contact
// method types.
var channels = map[string]string{
	"email_contact_method":             importer.ChannelEmail,
	"sms_contact_method":               importer.ChannelSMS,
	"phone_contact_method":             importer.ChannelVoice,
	"push_notification_contact_method": importer.ChannelPush,
}

// urgencySeverities are the severities of PagerDuty's urgencies: high
// urgency pages for Klaxon's SEV1 and SEV2, low for SEV3 and SEV4.
var urgencySeverities = map[string][]klaxonv1alpha1.Severity{
	"high": {klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.SeverityHigh},
	"low":  {klaxonv1alpha1.SeverityModerate, klaxonv1alpha1.SeverityLow},
}

// displayName is how a user is named: their name, else their email.
func displayName(u *user) string {
	for _, s := range []string{u.Name, u.Summary, u.Email} {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return "user " + u.ID
}

// mapUser maps a user, with contact methods and notification rules
// included, into a Responder.
func (m *mapper) mapUser(u *user) {
	e := importer.Entry{SourceKind: "user", SourceID: u.ID, SourceName: u.Name}
	if u.DeletedAt != nil {
		e.Outcome = importer.NotMapped
		e.Notes = append(e.Notes, fmt.Sprintf("deleted in PagerDuty at %s: no Responder written", importer.Clip(*u.DeletedAt, importer.MaxValue)))
		m.report(e)
		return
	}
	name, _ := m.names.Lookup(kindResponder, u.ID)
	if note := m.nameNotes[kindResponder+"/"+u.ID]; note != "" {
		e.Notes = append(e.Notes, note)
	}
	spec := klaxonv1alpha1.ResponderSpec{DisplayName: bounded.Runes(displayName(u), maxDisplayName)}
	approximated := false
	note := func(approx bool, format string, args ...any) {
		e.Notes = append(e.Notes, fmt.Sprintf(format, args...))
		approximated = approximated || approx
	}
	contactOf := map[string]string{} // contact method id: contact name
	taken := map[string]bool{}
	for i := range u.ContactMethods {
		cm := &u.ContactMethods[i]
		channel, ok := channels[cm.Type]
		switch {
		case strings.HasSuffix(cm.Type, "_reference"):
			note(true, "contact method %s came as a reference, without its address: read users with include[]=contact_methods", importer.Clip(cm.ID, importer.MaxValue))
			continue
		case !ok:
			note(true, "contact method %s of type %q has no Klaxon channel: left out; add it by hand if a channel can reach it", importer.Clip(cm.ID, importer.MaxValue), importer.Clip(cm.Type, importer.MaxValue))
			continue
		case strings.TrimSpace(cm.Address) == "":
			note(true, "contact method %s has no address: left out", importer.Clip(cm.ID, importer.MaxValue))
			continue
		case len(spec.Contacts) == maxContacts:
			note(true, "contact method %s: a Responder has at most %d contacts: left out", importer.Clip(cm.ID, importer.MaxValue), maxContacts)
			continue
		}
		address := cm.Address
		if (channel == importer.ChannelSMS || channel == importer.ChannelVoice) && cm.CountryCode > 0 && !strings.HasPrefix(address, "+") {
			address = "+" + strconv.Itoa(cm.CountryCode) + address
		}
		if len(address) > maxAddress || !importer.Printable(address) {
			note(true, "contact method %s: its address is longer than %d bytes or holds control characters: left out", importer.Clip(cm.ID, importer.MaxValue), maxAddress)
			continue
		}
		cname := contactName(channel, cm.Label, taken)
		contactOf[cm.ID] = cname
		spec.Contacts = append(spec.Contacts, klaxonv1alpha1.Contact{Name: cname, Channel: channel, Address: address, Kind: importer.PhoneKind(channel, address)})
		if channel == importer.ChannelPush {
			note(true, "contact %s: PagerDuty's push address is its app's device, which no Klaxon channel reaches: set the address the push channel delivers to by hand", cname)
		}
	}
	for i := range u.NotificationRules {
		r := &u.NotificationRules[i]
		cname, ok := contactOf[r.ContactMethod.ID]
		switch {
		case r.Type != "" && r.Type != "assignment_notification_rule":
			note(true, "notification rule %s of type %q: Klaxon's rules are for pages only: left out", importer.Clip(r.ID, importer.MaxValue), importer.Clip(r.Type, importer.MaxValue))
			continue
		case !ok:
			note(true, "notification rule %s uses contact method %s, which was not imported: left out", importer.Clip(r.ID, importer.MaxValue), importer.Clip(r.ContactMethod.ID, importer.MaxValue))
			continue
		case len(spec.Rules) == maxRules:
			note(true, "notification rule %s: a Responder has at most %d rules: left out", importer.Clip(r.ID, importer.MaxValue), maxRules)
			continue
		}
		rule := klaxonv1alpha1.NotificationRule{Contact: cname}
		switch sev, known := urgencySeverities[r.Urgency]; {
		case known:
			rule.Severities = sev
		case r.Urgency == "" || r.Urgency == "any":
		default:
			note(true, "notification rule %s has urgency %q, neither high nor low: applies to every severity", importer.Clip(r.ID, importer.MaxValue), importer.Clip(r.Urgency, importer.MaxValue))
		}
		// Minutes are compared before they become a duration, which a
		// huge number would overflow.
		switch minutes := r.StartDelayInMinutes; {
		case minutes < 0:
			note(true, "notification rule %s waits %d minutes: sends at once", importer.Clip(r.ID, importer.MaxValue), minutes)
		case int64(minutes) > int64(maxRuleDelay/time.Minute):
			note(true, "notification rule %s waits %dm; a Klaxon rule waits at most %s: waits %s", importer.Clip(r.ID, importer.MaxValue), minutes, maxRuleDelay, maxRuleDelay)
			rule.After = &metav1.Duration{Duration: maxRuleDelay}
		case minutes > 0:
			rule.After = &metav1.Duration{Duration: time.Duration(minutes) * time.Minute}
		}
		spec.Rules = append(spec.Rules, rule)
	}
	e.Outcome = importer.Mapped
	if approximated {
		e.Outcome = importer.Approximated
	}
	m.add(&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}, e)
}

// contactName names a contact after its channel and label, unique among
// the Responder's contacts.
func contactName(channel, label string, taken map[string]bool) string {
	base := channel
	if l := importer.Sanitize(label); l != "" && l != channel {
		base = channel + "-" + l
	}
	if len(base) > maxContactName-4 {
		base = strings.TrimRight(base[:maxContactName-4], "-")
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	taken[name] = true
	return name
}

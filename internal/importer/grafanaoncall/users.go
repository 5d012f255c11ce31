package grafanaoncall

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

// Limits of Klaxon's Responders, as the CRD states them.
const (
	maxContacts  = 16
	maxRules     = 32
	maxRuleAfter = 24 * time.Hour
	maxAddress   = 512
	// maxDisplayName is the CRD's bound of a Responder's displayName.
	maxDisplayName = 253
)

// The contact names of imported Responders.
const (
	contactEmail = "email"
	contactSlack = "slack"
)

// importUsers reads the users and their notification rules and maps them
// to Responders.
func (r *run) importUsers(ctx context.Context) error {
	users, err := list[user](ctx, r.src, "users", nil)
	if err != nil {
		return err
	}
	rules, err := list[notificationRule](ctx, r.src, "personal_notification_rules", nil)
	if err != nil {
		return err
	}
	byUser := map[string][]notificationRule{}
	for _, nr := range rules {
		byUser[nr.UserID] = append(byUser[nr.UserID], nr)
	}
	slices.SortStableFunc(users, func(a, b user) int { return cmp.Compare(a.ID, b.ID) })
	for i := range users {
		u := &users[i]
		if _, dup := r.people[u.ID]; dup {
			continue
		}
		name, note := r.namer.Name("Responder", u.ID, u.Username)
		spec, e := mapUser(u, byUser[u.ID])
		switch {
		case note != "":
			e.Notes = append(e.Notes, note)
		case name != u.Username:
			e.Notes = append(e.Notes, fmt.Sprintf("named %s: %s is no Kubernetes name; schedules and policies use %s", name, importer.Quote(u.Username), name))
		}
		obj := &klaxonv1alpha1.Responder{
			TypeMeta:   metav1.TypeMeta{APIVersion: klaxonv1alpha1.GroupVersion.String(), Kind: "Responder"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       spec,
		}
		r.add(obj, e)
		r.people[u.ID] = name
	}
	return nil
}

// mapUser maps a user and their notification rules to a Responder's spec
// and its report entry.
func mapUser(u *user, rules []notificationRule) (klaxonv1alpha1.ResponderSpec, importer.Entry) {
	e := importer.Entry{SourceKind: "user", SourceID: importer.Clip(u.ID, importer.MaxValue), SourceName: importer.Clip(u.Username, importer.MaxValue), Outcome: importer.Mapped}
	// The display name is cleaned as notes are: control characters and
	// invalid UTF-8 reach no field.
	spec := klaxonv1alpha1.ResponderSpec{DisplayName: displayName(u.Username)}
	if spec.DisplayName == "" {
		spec.DisplayName = displayName(u.Email)
	}
	if spec.DisplayName == "" {
		spec.DisplayName = displayName(u.ID)
	}
	if spec.DisplayName == "" {
		spec.DisplayName = "(no name)"
	}
	if usable(u.Email) {
		spec.Contacts = append(spec.Contacts, klaxonv1alpha1.Contact{Name: contactEmail, Channel: importer.ChannelEmail, Address: u.Email})
	}
	if ids := u.slackIDs(); len(ids) > 0 && usable(ids[0]) {
		spec.Contacts = append(spec.Contacts, klaxonv1alpha1.Contact{Name: contactSlack, Channel: importer.ChannelSlack, Address: ids[0]})
	}
	slices.SortStableFunc(rules, func(a, b notificationRule) int { return cmp.Compare(a.Position, b.Position) })
	var normal, important []notificationRule
	for _, nr := range rules {
		if nr.Important {
			important = append(important, nr)
		} else {
			normal = append(normal, nr)
		}
	}
	notes := &noteList{}
	var severities []klaxonv1alpha1.Severity
	if len(important) > 0 {
		severities = []klaxonv1alpha1.Severity{klaxonv1alpha1.SeverityHigh, klaxonv1alpha1.SeverityModerate, klaxonv1alpha1.SeverityLow}
		notes.approx("Grafana OnCall picks the important rules when an escalation step says so; Klaxon picks rules by the incident's severity: the important rules became SEV1 rules and the default rules SEV2 to SEV4 rules")
	}
	spec.Rules = append(spec.Rules, mapRules(normal, "default", severities, spec.Contacts, notes)...)
	if len(important) > 0 {
		spec.Rules = append(spec.Rules, mapRules(important, "important", []klaxonv1alpha1.Severity{klaxonv1alpha1.SeverityCritical}, spec.Contacts, notes)...)
	}
	if len(spec.Rules) > maxRules {
		notes.approx("it has %d rules; Klaxon takes %d: the later ones were left out", len(spec.Rules), maxRules)
		spec.Rules = spec.Rules[:maxRules]
	}
	if len(rules) == 0 {
		notes.note("it has no notification rules in Grafana OnCall: Klaxon pages it on no contact until rules are added")
	}
	e.Notes = notes.notes
	if notes.approximated {
		e.Outcome = importer.Approximated
	}
	return spec, e
}

// noteList gathers an entry's notes and whether any says it was
// approximated.
type noteList struct {
	notes        []string
	approximated bool
}

func (n *noteList) note(format string, args ...any) {
	n.notes = append(n.notes, fmt.Sprintf(format, args...))
}

func (n *noteList) approx(format string, args ...any) {
	n.approximated = true
	n.note(format, args...)
}

// mapRules maps one list of rules (default or important) in position
// order: each wait adds to the after of the notifications behind it.
func mapRules(rules []notificationRule, kind string, severities []klaxonv1alpha1.Severity, contacts []klaxonv1alpha1.Contact, notes *noteList) []klaxonv1alpha1.NotificationRule {
	var out []klaxonv1alpha1.NotificationRule
	var after time.Duration
	has := func(name string) bool {
		return slices.ContainsFunc(contacts, func(c klaxonv1alpha1.Contact) bool { return c.Name == name })
	}
	for i, nr := range rules {
		step := fmt.Sprintf("%s rule %d (%s after %s)", kind, i+1, importer.Clip(nr.Type, importer.MaxValue), after)
		contact := ""
		switch nr.Type {
		case "wait":
			if nr.Duration == nil || *nr.Duration < 0 {
				notes.approx("%s: a wait without a duration counts as none", step)
				continue
			}
			if *nr.Duration > int64(maxRuleAfter/time.Second) {
				notes.approx("%s: it waits %d s, more than Klaxon waits before a rule; it was taken as a wait of %s", step, *nr.Duration, maxRuleAfter)
			}
			after += time.Duration(min(*nr.Duration, int64(maxRuleAfter/time.Second))) * time.Second
			continue
		case "notify_by_email":
			contact = contactEmail
		case "notify_by_slack":
			contact = contactSlack
		case "notify_by_sms", "notify_by_phone_call":
			notes.approx("%s: the API does not expose phone numbers, so no phone contact was written: add one (channel %s or %s) and a rule by hand", step, importer.ChannelSMS, importer.ChannelVoice)
			continue
		case "notify_by_mobile_app", "notify_by_mobile_app_critical":
			notes.approx("%s: the Grafana OnCall app's devices are not Klaxon's: add a %s contact and a rule by hand", step, importer.ChannelPush)
			continue
		default:
			notes.approx("%s: Klaxon has no such contact: add one and a rule by hand", step)
			continue
		}
		if !has(contact) {
			notes.approx("%s: the user has no %s address in Grafana OnCall: left out", step, contact)
			continue
		}
		if after > maxRuleAfter {
			notes.approx("%s: Klaxon waits at most %s before a rule: it waits that long", step, maxRuleAfter)
			after = maxRuleAfter
		}
		rule := klaxonv1alpha1.NotificationRule{Contact: contact, Severities: slices.Clone(severities)}
		if after > 0 {
			rule.After = &metav1.Duration{Duration: after}
		}
		out = append(out, rule)
	}
	return out
}

// usable says whether an address from the source can be a contact's:
// present, printable, within the CRD's bound.
func usable(address string) bool {
	return address != "" && len(address) <= maxAddress && importer.Printable(address)
}

// displayName is a source value as a Responder's displayName: printable,
// within the CRD's bound.
func displayName(s string) string {
	return strings.TrimSpace(importer.Clip(s, maxDisplayName))
}

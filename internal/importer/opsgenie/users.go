package opsgenie

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

// Bounds of a Responder, as its CRD sets them.
const (
	maxContacts   = 16
	maxRules      = 32
	maxAddress    = 512
	maxDisplay    = 253
	maxRuleAfter  = 24 * time.Hour
	actionCreate  = "create-alert"
	kindResponder = "Responder"
)

// channels are the NotificationChannel names of Opsgenie's contact
// methods, and contactNames the contact names they get.
var (
	channels = map[string]string{
		"email":  importer.ChannelEmail,
		"sms":    importer.ChannelSMS,
		"voice":  importer.ChannelVoice,
		"mobile": importer.ChannelPush,
	}
	contactNames = map[string]string{"email": "email", "sms": "sms", "voice": "voice", "mobile": "push"}
)

// people are the imported users: their Responder names by Opsgenie id and
// username.
type people struct {
	byID       map[string]string
	byUsername map[string]string
}

// name returns the Responder name of a user recipient.
func (p *people) name(r recipient) (string, bool) {
	if n, ok := p.byID[r.ID]; ok && r.ID != "" {
		return n, true
	}
	for _, u := range []string{r.Username, r.Name} {
		if n, ok := p.byUsername[strings.ToLower(u)]; ok && u != "" {
			return n, true
		}
	}
	return "", false
}

// describe names a recipient in a note.
func describe(r recipient) string {
	for _, s := range []string{r.Name, r.Username, r.ID} {
		if s != "" {
			return r.Type + " " + importer.Quote(s)
		}
	}
	return r.Type
}

// importUsers reads the users, their contacts and notification rules, and
// adds a Responder for each.
func importUsers(ctx context.Context, src importer.Source, res *importer.Result, namer *importer.Namer) (*people, error) {
	users, err := readUsers(ctx, src)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(users, func(a, b user) int { return strings.Compare(a.ID, b.ID) })
	p := &people{byID: map[string]string{}, byUsername: map[string]string{}}
	for i, u := range users {
		entry := importer.Entry{SourceKind: "user", SourceID: importer.Clip(u.ID, importer.MaxValue), SourceName: importer.Clip(u.Username, importer.MaxValue)}
		if i > 0 && users[i-1].ID == u.ID {
			res.Report(duplicate(entry))
			continue
		}
		if !usableID(u.ID) {
			entry.Outcome = importer.NotMapped
			entry.Notes = []string{fmt.Sprintf("its id %s is no Opsgenie id: write its Responder by hand", importer.Quote(u.ID))}
			res.Report(entry)
			continue
		}
		contacts, err := readContacts(ctx, src, u.ID)
		if err != nil {
			return nil, err
		}
		summaries, err := readRuleList(ctx, src, u.ID)
		if err != nil {
			return nil, err
		}
		var rules []notificationRule
		var others []notificationRuleSummary
		for _, s := range summaries {
			if s.ActionType != actionCreate || !s.Enabled || !usableID(s.ID) {
				others = append(others, s)
				continue
			}
			rule, err := readRule(ctx, src, u.ID, s.ID)
			if err != nil {
				return nil, err
			}
			rules = append(rules, rule)
		}
		display := u.FullName
		if strings.TrimSpace(display) == "" {
			display = u.Username
		}
		name, nameNote := namer.Name(kindResponder, u.ID, display)
		p.byID[u.ID] = name
		if u.Username != "" {
			p.byUsername[strings.ToLower(u.Username)] = name
		}
		spec, n := mapResponder(u, contacts, rules, others)
		n.info("%s", nameNote)
		entry.Outcome = outcome(n)
		entry.Notes = n.list
		res.Add(&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}, entry)
	}
	return p, nil
}

func outcome(n notes) importer.Outcome {
	if n.approx {
		return importer.Approximated
	}
	return importer.Mapped
}

// opsgenieNumber is a phone number as Opsgenie keeps it, "49-15100000001".
var opsgenieNumber = regexp.MustCompile(`^\+?([0-9]{1,4})-([0-9]{1,15})$`)

// mapResponder maps a user's contacts and the steps of its notification
// rules for new alerts (in the rules' order: the first rule that matches
// an alert's priority applies) to a Responder spec.
func mapResponder(u user, contacts []contact, rules []notificationRule, others []notificationRuleSummary) (klaxonv1alpha1.ResponderSpec, notes) {
	var n notes
	display := u.FullName
	if strings.TrimSpace(display) == "" {
		display = u.Username
	}
	if strings.TrimSpace(display) == "" {
		display = u.ID
	}
	spec := klaxonv1alpha1.ResponderSpec{DisplayName: importer.Clip(display, maxDisplay)}
	if u.Blocked {
		n.lost("blocked in Opsgenie: Klaxon pages whoever a schedule or policy names; remove the Responder if the person left")
	}
	byAddress := map[string]string{} // method and address: contact name
	disabled := map[string]bool{}
	addContact := func(method, to string) (string, bool) {
		key := method + "\x00" + to
		if name, ok := byAddress[key]; ok {
			return name, true
		}
		channel, ok := channels[method]
		switch {
		case !ok:
			n.lost("contact %s by %s not mapped: Klaxon has no channel for that method", importer.Quote(to), importer.Quote(method))
			return "", false
		case strings.TrimSpace(to) == "" || len(to) > maxAddress || !importer.Printable(to):
			n.lost("contact by %s not mapped: its address is empty, longer than %d characters or holds control characters", method, maxAddress)
			return "", false
		case len(spec.Contacts) == maxContacts:
			n.lost("contact %s not mapped: a Responder has at most %d contacts", importer.Quote(to), maxContacts)
			return "", false
		}
		if method == "sms" || method == "voice" {
			// Opsgenie keeps numbers as country code, dash, number.
			if m := opsgenieNumber.FindStringSubmatch(to); m != nil {
				to = "+" + m[1] + m[2]
			} else if !strings.HasPrefix(to, "+") {
				n.lost("contact %s is no number in Opsgenie's form (country code, dash, number): check it is written as +<country code><number>", importer.Quote(to))
			}
		}
		name := contactNames[method]
		for i := 2; slices.ContainsFunc(spec.Contacts, func(c klaxonv1alpha1.Contact) bool { return c.Name == name }); i++ {
			name = contactNames[method] + "-" + strconv.Itoa(i)
		}
		spec.Contacts = append(spec.Contacts, klaxonv1alpha1.Contact{Name: name, Channel: channel, Address: to, Kind: importer.PhoneKind(channel, to)})
		if method == "mobile" {
			n.lost("contact %s is Opsgenie's app on the device %s, a label no push channel can deliver to: set its address to the person's push address by hand", name, importer.Quote(to))
		}
		byAddress[key] = name
		return name, true
	}
	for _, c := range contacts {
		name, ok := addContact(c.Method, c.To)
		if ok && c.Status != nil && !c.Status.Enabled {
			disabled[name] = true
			n.info("contact %s is disabled in Opsgenie: written, but no rule uses it", name)
		}
	}
	slices.SortStableFunc(rules, func(a, b notificationRule) int { return a.Order - b.Order })
	// covered are the priorities earlier rules take for sure; maybe those
	// that earlier rules take only for some alerts or at some times. The
	// rules after such a rule are kept for its priorities, so that the
	// person gets more notifications than in Opsgenie rather than fewer.
	var covered, maybe priorities
	for _, r := range rules {
		label := "rule " + importer.Quote(r.Name)
		if !r.Enabled {
			n.info("%s is disabled in Opsgenie: left out", label)
			continue
		}
		set, exact := criteriaSet(r.Criteria, label, &n)
		effective := set &^ covered
		if effective == 0 {
			n.info("%s never applies: earlier rules take every priority it matches", label)
			continue
		}
		if both := effective & maybe; both != 0 {
			n.lost("%s also applies to %s, for which Opsgenie uses an earlier rule instead when that one matches (by a condition Klaxon cannot read, or at its times): the person gets the notifications of both", label, both)
		}
		if exact && r.TimeRestriction == nil {
			covered |= set
		} else {
			maybe |= set
		}
		if effective.has(4) != effective.has(5) {
			n.lost("%s matches %s: Klaxon's SEV4 is both P4 and P5, so it applies to both", label, effective)
		}
		if r.Repeat != nil && r.Repeat.Enabled {
			n.lost("%s repeats every %d minutes until acknowledged: Klaxon sends each rule once", label, r.Repeat.LoopAfter)
		}
		if r.TimeRestriction != nil {
			n.lost("%s applies only at some times of the week: Klaxon's rules apply at all times", label)
		}
		sevs := effective.severities()
		for _, s := range r.Steps {
			if !s.Enabled {
				n.info("a step of %s is disabled in Opsgenie: left out", label)
				continue
			}
			name, ok := addContact(s.Contact.Method, s.Contact.To)
			if !ok {
				continue
			}
			if disabled[name] {
				continue
			}
			rule := klaxonv1alpha1.NotificationRule{Contact: name, Severities: sevs}
			if s.SendAfter != nil {
				after, err := s.SendAfter.duration()
				switch {
				case err != nil:
					n.lost("a step of %s waits %s: %v; written to send at once", label, importer.Quote(fmt.Sprint(s.SendAfter.TimeAmount, " ", s.SendAfter.TimeUnit)), err)
				case after > maxRuleAfter:
					n.lost("a step of %s waits %s: Klaxon waits at most %s", label, after, maxRuleAfter)
					rule.After = &metav1.Duration{Duration: maxRuleAfter}
				case after > 0:
					rule.After = &metav1.Duration{Duration: after}
				}
			}
			if slices.ContainsFunc(spec.Rules, func(o klaxonv1alpha1.NotificationRule) bool { return sameRule(o, rule) }) {
				continue
			}
			if len(spec.Rules) == maxRules {
				n.lost("a step of %s not mapped: a Responder has at most %d rules", label, maxRules)
				continue
			}
			spec.Rules = append(spec.Rules, rule)
		}
	}
	for _, s := range others {
		switch {
		case s.ActionType == actionCreate && !s.Enabled:
			n.info("rule %s is disabled in Opsgenie: left out", importer.Quote(s.Name))
		case s.ActionType == actionCreate:
			n.lost("rule %s has an id that is no Opsgenie id: not read", importer.Quote(s.Name))
		case !s.Enabled:
			n.info("rule %s (%s) is disabled in Opsgenie: left out", importer.Quote(s.Name), importer.Clip(s.ActionType, importer.MaxValue))
		default:
			n.lost("rule %s (%s) not mapped: Klaxon's rules say how a page reaches the person, and it tells nobody of other events", importer.Quote(s.Name), importer.Clip(s.ActionType, importer.MaxValue))
		}
	}
	return spec, n
}

func sameRule(a, b klaxonv1alpha1.NotificationRule) bool {
	var da, db time.Duration
	if a.After != nil {
		da = a.After.Duration
	}
	if b.After != nil {
		db = b.After.Duration
	}
	return a.Contact == b.Contact && da == db && slices.Equal(a.Severities, b.Severities)
}

// maxWait bounds a duration read from Opsgenie: longer ones are no waits a
// policy or rule can mean.
const maxWait = 30 * 24 * time.Hour

// duration is the time amount as a duration.
func (t timeAmount) duration() (time.Duration, error) {
	unit := time.Minute
	switch t.TimeUnit {
	case "", "minutes":
	case "hours":
		unit = time.Hour
	case "days":
		unit = 24 * time.Hour
	default:
		return 0, fmt.Errorf("the unit %s is none of minutes, hours, days", importer.Quote(t.TimeUnit))
	}
	if t.TimeAmount < 0 || t.TimeAmount > int64(maxWait/unit) {
		return 0, fmt.Errorf("not a wait from 0 to %s", maxWait)
	}
	return time.Duration(t.TimeAmount) * unit, nil
}

// Package delivery decides the deliveries of pages: which notifications a
// page adds (from the paged people's Responder rules and the level's team
// channels), when each is due, how an attempt's outcome changes it, when a
// failed attempt is retried, and what acknowledgement cancels. It has no
// Kubernetes client; the incident reconciler applies its decisions to
// status.notifications and sends.
package delivery

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/phone"
)

const (
	// MaxNotifications is how many entries status.notifications keeps.
	MaxNotifications = 100
	// MaxAttempts is how many sends a delivery gets before it fails for
	// good; with the backoff below the last is about 20 minutes after the
	// first.
	MaxAttempts = 8
	// firstBackoff doubles after each failed attempt, up to maxBackoff.
	firstBackoff = 15 * time.Second
	maxBackoff   = 5 * time.Minute
)

// Page is a page to deliver: a level of the policy paged in a round.
type Page struct {
	Episode, Level, Round int32
	// At is when the level was paged; rules' after counts from it.
	At time.Time
	// Severity is the incident's severity, which rules select on.
	Severity klaxonv1alpha1.Severity
	// People are the people paged, in order.
	People []string
	// Channels are the level's team channel targets.
	Channels []klaxonv1alpha1.EscalationTarget
	// Responders has the Responder spec of each paged person that has one.
	Responders map[string]*klaxonv1alpha1.ResponderSpec
}

// Plan returns the notifications a page adds, in order: for each person,
// one per rule of theirs that covers the severity (a contact at most once),
// or one Failed entry saying why they cannot be reached; then one per team
// channel.
func Plan(p Page) []klaxonv1alpha1.Notification {
	var out []klaxonv1alpha1.Notification
	base := klaxonv1alpha1.Notification{Episode: p.Episode, Level: p.Level, Round: p.Round,
		State: klaxonv1alpha1.NotificationPending, DueAt: metav1.NewTime(p.At)}
	for _, person := range p.People {
		n := base
		n.Responder = bounded.Runes(person, klaxonv1alpha1.MaxUserNameLength)
		spec := p.Responders[person]
		if spec == nil {
			out = append(out, unreachable(n, fmt.Sprintf("paged %s: no Responder named %s", person, person)))
			continue
		}
		contacts := map[string]klaxonv1alpha1.Contact{}
		for _, c := range spec.Contacts {
			contacts[c.Name] = c
		}
		used := map[string]bool{}
		for _, rule := range spec.Rules {
			if rule.Sends() != klaxonv1alpha1.RuleOnPage {
				continue // a shift notice's rule, not a page's
			}
			c, ok := contacts[rule.Contact]
			if !ok || used[c.Name] || (len(rule.Severities) > 0 && !slices.Contains(rule.Severities, p.Severity)) {
				continue
			}
			used[c.Name] = true
			d := n
			d.Contact, d.Channel, d.Address = c.Name, c.Channel, c.Address
			if rule.After != nil {
				d.DueAt = metav1.NewTime(p.At.Add(rule.After.Duration))
			}
			out = append(out, d)
		}
		if len(used) == 0 {
			out = append(out, unreachable(n, fmt.Sprintf("paged %s: no contact for %s", person, p.Severity)))
		}
	}
	seen := map[string]bool{}
	for _, t := range p.Channels {
		if seen[t.Channel+"\x00"+t.Address] {
			continue
		}
		seen[t.Channel+"\x00"+t.Address] = true
		n := base
		n.Channel, n.Address = t.Channel, t.Address
		out = append(out, n)
	}
	return out
}

func unreachable(n klaxonv1alpha1.Notification, why string) klaxonv1alpha1.Notification {
	n.State = klaxonv1alpha1.NotificationFailed
	n.Error = bounded.Runes(why, klaxonv1alpha1.MaxNotificationErrorLength)
	return n
}

// Unreached reports whether n records a paged person who could not be
// reached: no Responder, or no rule for the severity.
func Unreached(n *klaxonv1alpha1.Notification) bool {
	return n.State == klaxonv1alpha1.NotificationFailed && n.Channel == "" && n.Responder != ""
}

// Reach plans again, from the Responders now known, the pages of an
// episode that reached nobody, so a Responder created or fixed after the
// page (GitOps applies in no particular order) still gets it: at the page's
// time plus each rule's after, or at once when that has passed. It returns
// the notifications and whether they changed.
func Reach(ns []klaxonv1alpha1.Notification, episode int32, severity klaxonv1alpha1.Severity,
	responders map[string]*klaxonv1alpha1.ResponderSpec) ([]klaxonv1alpha1.Notification, bool) {
	var out, planned []klaxonv1alpha1.Notification
	changed := false
	for i := range ns {
		n := ns[i]
		spec := responders[n.Responder]
		if !Unreached(&n) || n.Episode != episode || spec == nil {
			out = append(out, n)
			continue
		}
		again := Plan(Page{Episode: n.Episode, Level: n.Level, Round: n.Round, At: n.DueAt.Time, Severity: severity,
			People: []string{n.Responder}, Responders: map[string]*klaxonv1alpha1.ResponderSpec{n.Responder: spec}})
		if len(again) == 1 && Unreached(&again[0]) {
			// Still nobody to reach, perhaps for another reason now.
			changed = changed || again[0].Error != n.Error
			out = append(out, again[0])
			continue
		}
		changed = true
		planned = append(planned, again...)
	}
	if !changed {
		return ns, false
	}
	out, _ = Append(out, planned, episode)
	return out, true
}

// Key identifies a notification within its incident: no two entries share
// one, and a page planned again after a failed write gets the same keys.
func Key(n *klaxonv1alpha1.Notification) string {
	if n.Event != "" {
		return fmt.Sprintf("%d/%s/%d/%s/%s", n.Episode, n.Event, n.Update, n.Channel, n.Address)
	}
	return fmt.Sprintf("%d/%d/%d/%s/%s/%s/%s", n.Episode, n.Level, n.Round, n.Responder, n.Contact, n.Channel, n.Address)
}

// News plans telling each stakeholder of an event of the episode (for an
// Update, of the spec.updates entry at index update), due at at, each
// (channel, address) once.
func News(stakeholders []klaxonv1alpha1.Stakeholder, episode int32, event klaxonv1alpha1.NotificationEvent, update int32, at time.Time) []klaxonv1alpha1.Notification {
	var out []klaxonv1alpha1.Notification
	seen := map[klaxonv1alpha1.Stakeholder]bool{}
	for _, st := range stakeholders {
		if seen[st] {
			continue
		}
		seen[st] = true
		n := klaxonv1alpha1.Notification{Event: event, Episode: episode, Channel: st.Channel, Address: st.Address,
			State: klaxonv1alpha1.NotificationPending, DueAt: metav1.NewTime(at)}
		if event == klaxonv1alpha1.NotificationEventUpdate {
			n.Update = update
		}
		out = append(out, n)
	}
	return out
}

// Append adds planned notifications to the existing ones, skipping any whose
// key is already there, and keeps at most MaxNotifications. Beyond the cap
// the oldest entry of the least use goes first: one of an earlier episode,
// then one sent or cancelled, then one failed (which may still be planned
// again, see Reach), and a pending one only when nothing else is left. It
// returns the pending entries it dropped, which the caller must report.
func Append(existing, planned []klaxonv1alpha1.Notification, episode int32) ([]klaxonv1alpha1.Notification, []klaxonv1alpha1.Notification) {
	have := map[string]bool{}
	for i := range existing {
		have[Key(&existing[i])] = true
	}
	out := slices.Clone(existing)
	for i := range planned {
		if !have[Key(&planned[i])] {
			out = append(out, planned[i])
		}
	}
	rank := func(n *klaxonv1alpha1.Notification) int {
		switch {
		case n.State == klaxonv1alpha1.NotificationPending:
			return 3
		case n.Episode != episode:
			return 0
		case n.State == klaxonv1alpha1.NotificationFailed:
			return 2
		}
		return 1
	}
	var dropped []klaxonv1alpha1.Notification
	for len(out) > MaxNotifications {
		victim := 0
		for i := range out {
			if rank(&out[i]) < rank(&out[victim]) {
				victim = i
			}
		}
		if out[victim].State == klaxonv1alpha1.NotificationPending {
			dropped = append(dropped, out[victim])
		}
		out = slices.Delete(out, victim, victim+1)
	}
	return out, dropped
}

// Due reports whether a notification should be sent at now.
func Due(n *klaxonv1alpha1.Notification, now time.Time) bool {
	return n.State == klaxonv1alpha1.NotificationPending && !now.Before(nextAt(n))
}

// nextAt is when a pending notification is next to be sent.
func nextAt(n *klaxonv1alpha1.Notification) time.Time {
	at := n.DueAt.Time
	if n.NextAttemptAt != nil && n.NextAttemptAt.After(at) {
		at = n.NextAttemptAt.Time
	}
	return at
}

// NextDue returns the earliest time a pending notification becomes due
// after now, or the zero time when none will.
func NextDue(ns []klaxonv1alpha1.Notification, now time.Time) time.Time {
	var next time.Time
	for i := range ns {
		n := &ns[i]
		if n.State != klaxonv1alpha1.NotificationPending {
			continue
		}
		if at := nextAt(n); at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

// Cancel marks Cancelled the pending pages that must not be sent any more:
// those of an earlier episode, and all of them once the incident is
// acknowledged or past it (open is false). News to stakeholders is never
// cancelled: they are told of every step. It returns how many.
func Cancel(ns []klaxonv1alpha1.Notification, episode int32, open bool) int {
	n := 0
	for i := range ns {
		if ns[i].State == klaxonv1alpha1.NotificationPending && ns[i].Event == "" && (!open || ns[i].Episode != episode) {
			ns[i].State = klaxonv1alpha1.NotificationCancelled
			ns[i].NextAttemptAt = nil
			n++
		}
	}
	return n
}

// Outcome is the result of one send.
type Outcome struct {
	// At is when the send finished.
	At time.Time
	// Ref is what the channel calls the message, when sent.
	Ref string
	// Bundle names the bundle the delivery went out in, if it did.
	Bundle string
	// Err is nil when the channel accepted the message.
	Err error
	// Permanent says retrying cannot help.
	Permanent bool
	// RetryAfter is the wait the channel asked for before a retry (a
	// rate-limited answer's Retry-After); the retry waits the longer of it
	// and the backoff.
	RetryAfter time.Duration
}

// Result is what applying an outcome did.
type Result int

// The results of Apply.
const (
	// Unchanged: the outcome did not apply (the entry is already final).
	Unchanged Result = iota
	// Sent: the notification was delivered.
	Sent
	// Retrying: the attempt failed; another is scheduled.
	Retrying
	// Failed: the notification failed for good.
	Failed
)

// Apply records an outcome on its notification. A Sent or Failed entry is
// final and does not change; a Cancelled one records a send that was
// already under way when it was cancelled, since it did reach someone.
func Apply(n *klaxonv1alpha1.Notification, o Outcome) Result {
	switch n.State {
	case klaxonv1alpha1.NotificationSent, klaxonv1alpha1.NotificationFailed:
		return Unchanged
	case klaxonv1alpha1.NotificationCancelled:
		if o.Err != nil {
			return Unchanged
		}
	}
	n.Attempts++
	at := metav1.NewTime(o.At.Truncate(time.Second))
	if o.Err == nil {
		n.State = klaxonv1alpha1.NotificationSent
		n.SentAt = &at
		n.NextAttemptAt = nil
		n.Error = ""
		n.MessageRef = bounded.Runes(o.Ref, klaxonv1alpha1.MaxNotificationRefLength)
		n.Bundle = o.Bundle
		return Sent
	}
	n.Error = bounded.Runes(o.Err.Error(), klaxonv1alpha1.MaxNotificationErrorLength)
	if o.Permanent || n.Attempts >= MaxAttempts {
		n.State = klaxonv1alpha1.NotificationFailed
		n.NextAttemptAt = nil
		return Failed
	}
	next := metav1.NewTime(at.Add(max(Backoff(n.Attempts), o.RetryAfter)))
	n.NextAttemptAt = &next
	return Retrying
}

// Backoff is the wait after the given number of failed attempts.
func Backoff(attempts int32) time.Duration {
	d := firstBackoff
	for i := int32(1); i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// Failures summarises the current episode's failed notifications for the
// NotificationFailed condition: whether any failed, the reason, and a
// message naming them. ok is false when the episode has no notifications,
// so the condition is left out.
func Failures(ns []klaxonv1alpha1.Notification, episode int32) (failed bool, reason, message string, ok bool) {
	var delivery, unreached []string
	for i := range ns {
		n := &ns[i]
		if n.Episode != episode {
			continue
		}
		ok = true
		if n.State != klaxonv1alpha1.NotificationFailed {
			continue
		}
		if n.Channel == "" {
			unreached = append(unreached, n.Error)
		} else {
			delivery = append(delivery, fmt.Sprintf("%s via %s: %s", Describe(n), n.Channel, n.Error))
		}
	}
	switch {
	case !ok:
		return false, "", "", false
	case len(delivery) > 0:
		return true, klaxonv1alpha1.ReasonDeliveryFailed, strings.Join(append(delivery, unreached...), "; "), true
	case len(unreached) > 0:
		return true, klaxonv1alpha1.ReasonNobodyReached, strings.Join(unreached, "; "), true
	}
	return false, klaxonv1alpha1.ReasonDelivered, "Every notification due so far was sent or is being tried", true
}

// Describe names a notification's recipient for messages: the responder
// and contact, or the team channel's address.
func Describe(n *klaxonv1alpha1.Notification) string {
	// A stakeholder's or a team's address may be a phone number, which
	// Events, conditions and logs never show in full.
	address := n.Address
	if phone.IsNumber(address) {
		address = phone.Mask(address)
	}
	if n.Event != "" {
		return fmt.Sprintf("%s (%s)", address, n.Event)
	}
	if n.Responder == "" {
		return address
	}
	if n.Contact == "" {
		return n.Responder
	}
	return n.Responder + " (" + n.Contact + ")"
}

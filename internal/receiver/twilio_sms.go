package receiver

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
	"github.com/klaxon-dev/klaxon/internal/phone"
)

// smsHelp answers every text that acknowledges nothing.
const smsHelp = "Reply with the code in the page, or ACK for the latest page to this number."

// Every help line is a billed text, and an auto-responder would answer
// it: a number gets it at most once per helpEvery through a channel, and
// an empty answer otherwise. maxHelpedNumbers bounds each channel's
// numbers; a full channel forgets its oldest.
const (
	helpEvery        = 10 * time.Minute
	maxHelpedNumbers = 4096
)

// maxReplyTitleChars bounds the title quoted in a reply, so that the
// responder's name fits in the reply after it.
const maxReplyTitleChars = 120

// sms answers a text sent to the channel's number. A reply acknowledges a
// page only when it comes from the number the page was sent to (Twilio
// signs the From it saw): the code, or "1" and "ack", only pick which of
// that number's pages it answers.
func (tc *twilioCallbacks) sms(ctx context.Context, c *twilioCallback) twilioAnswer {
	in, err := twilio.ParseIncomingSMS(c.form)
	if err != nil {
		return twilioText(http.StatusBadRequest, "Not an incoming text: "+err.Error(), err)
	}
	kind, code := twilio.ParseReply(in.Body, acklink.CodeDigits)
	if kind == twilio.ReplyOther {
		return tc.help(c, in.From, "")
	}
	if why := tc.notToChannel(ctx, c, in); why != "" {
		return tc.help(c, in.From, why)
	}
	list := &klaxonv1alpha1.IncidentList{}
	// Read only, and moveIncident reads the one it moves again: the
	// cache's objects need no copies.
	if err := tc.client.List(ctx, list, client.InNamespace(c.namespace), client.UnsafeDisableDeepCopy); err != nil {
		return twilioUnavailable(fmt.Errorf("listing the incidents of namespace %s: %w", c.namespace, err))
	}
	page, ok := repliedPage(list.Items, c.channel, in.From, kind, code, c.signer)
	if !ok {
		return tc.help(c, in.From, "no page to "+phone.Mask(in.From)+" matches the reply")
	}
	claims := acklink.Claims{Namespace: page.inc.Namespace, Name: page.inc.Name, UID: string(page.inc.UID),
		Episode: page.inc.Status.Episode, Responder: page.responder}
	ref := client.ObjectKey{Namespace: claims.Namespace, Name: claims.Name}
	if !tc.moveRequests.Allow() {
		// Twilio does not send a reply again: the responder is told, and
		// may send the same words again as a new message.
		return twilioAnswer{code: http.StatusOK, twiml: twilio.Reply("Klaxon is answering many requests right now. Nothing was changed; reply again in a minute."),
			incident: ref, responder: claims.Responder, outcome: "busy", transient: true}
	}
	inc, moved, failed, ok := tc.moveIncident(ctx, claims, c.from, klaxonv1alpha1.StateAcknowledged, awaitsAcknowledgement)
	a := twilioAnswer{code: http.StatusOK, incident: ref, responder: claims.Responder}
	switch {
	case !ok:
		a.cause = failed.cause
		a.outcome = "failed"
		// Not answered: the same text may come again.
		a.transient = failed.code == http.StatusTooManyRequests || failed.code >= http.StatusInternalServerError
		a.twiml = twilio.Reply(phoneFailure(failed))
	case !moved:
		a.outcome = "already moved on"
		a.twiml = twilio.Reply(alreadyMoved(inc) + " Nothing was changed.")
	default:
		a.outcome = "acknowledged"
		a.twiml = twilio.Reply(fmt.Sprintf("Acknowledged %s (%s/%s) as %s.",
			bounded.Runes(inc.Spec.Title, maxReplyTitleChars), inc.Namespace, inc.Name, claims.Responder))
	}
	return a
}

// help answers a text that acknowledges nothing with the help line, unless
// the number got it through the channel within helpEvery: then with an
// empty answer, which sends nothing. why, when not "", is logged.
func (tc *twilioCallbacks) help(c *twilioCallback, from, why string) twilioAnswer {
	now := tc.clock.Now()
	a := twiml(twilio.Reply(smsHelp))
	if !tc.helped.scope(now, c.namespace+"/"+c.channel).add(now, from, struct{}{}) {
		a = twiml(twilio.Reply(""))
		if why != "" {
			why += "; help sent lately"
		}
	}
	if why != "" {
		a.outcome, a.incident = why, client.ObjectKey{Namespace: c.namespace}
	}
	return a
}

// notToChannel says why a text was not sent to the channel's own number
// and account ("" when it was): Twilio signed it with the channel's auth
// token, but an account may hold numbers of other channels, whose pages
// this channel's number must not answer. The account SID is compared
// when the form carries it and the channel's can be read.
func (tc *twilioCallbacks) notToChannel(ctx context.Context, c *twilioCallback, in twilio.IncomingSMS) string {
	spec := c.ch.Spec.Twilio
	if in.To != spec.From {
		return "a text to " + phone.Mask(in.To) + ", not to the channel's number"
	}
	sid := c.form.Get("AccountSid")
	if sid == "" {
		return ""
	}
	ref := spec.AccountSIDSecretRef
	account, err := tc.channelSecret(ctx, client.ObjectKey{Namespace: c.namespace, Name: ref.Name}, ref.Key, false)
	if err == nil && subtle.ConstantTimeCompare(account, []byte(sid)) != 1 {
		return "a text to another Twilio account"
	}
	return ""
}

// smsPage is the page a reply answers: a notification of the incident's
// current episode, Sent (or, for a code, not yet recorded as sent).
type smsPage struct {
	inc       *klaxonv1alpha1.Incident
	responder string
}

// repliedPage picks the page a reply answers among the pages sent through
// the channel to the number from, of incidents awaiting acknowledgement:
// the one whose reply code is code, or for ReplyAcknowledge the latest.
func repliedPage(incs []klaxonv1alpha1.Incident, channel, from string, kind twilio.ReplyKind, code string, signer *acklink.Signer) (smsPage, bool) {
	var best smsPage
	var bestSent *klaxonv1alpha1.Notification
	for i := range incs {
		inc := &incs[i]
		if !awaitsAcknowledgement(inc) {
			continue
		}
		for j := range inc.Status.Notifications {
			n := &inc.Status.Notifications[j]
			if n.Channel != channel || n.Address != from || n.Responder == "" || n.Episode != inc.Status.Episode || n.Event != "" {
				continue
			}
			switch kind {
			case twilio.ReplyCode:
				// A text can be read before the operator has recorded it
				// (or before this replica's cache shows that): a code,
				// which only that text carries, answers its page whether
				// or not it is recorded as sent yet.
				if n.State != klaxonv1alpha1.NotificationSent && n.State != klaxonv1alpha1.NotificationPending {
					continue
				}
				want := signer.Code(acklink.Claims{Namespace: inc.Namespace, Name: inc.Name, UID: string(inc.UID),
					Episode: inc.Status.Episode, Responder: n.Responder})
				if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
					return smsPage{inc: inc, responder: n.Responder}, true
				}
			case twilio.ReplyAcknowledge:
				if n.State != klaxonv1alpha1.NotificationSent {
					continue
				}
				if bestSent == nil || sentAfter(n, bestSent) {
					best, bestSent = smsPage{inc: inc, responder: n.Responder}, n
				}
			}
		}
	}
	return best, bestSent != nil
}

// sentAfter reports whether a was sent after b; an entry without sentAt
// counts as the oldest.
func sentAfter(a, b *klaxonv1alpha1.Notification) bool {
	switch {
	case a.SentAt == nil:
		return false
	case b.SentAt == nil:
		return true
	}
	return a.SentAt.After(b.SentAt.Time)
}

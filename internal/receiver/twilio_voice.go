package receiver

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
)

// A call reads the page at most maxVoiceReadings times when nobody presses
// a key; repeatParam counts the readings in the voice URL the call is
// redirected to.
const (
	maxVoiceReadings = 3
	repeatParam      = "r"
)

// maxNotificationErrorChars is the CRD's bound of a notification's error.
const maxNotificationErrorChars = 512

// The keys a call offers.
const (
	keyAcknowledge = "1"
	keyEscalate    = "2"
)

// callPage is the page a call's callbacks are about: its verified token
// and claims.
type callPage struct {
	token  string
	claims acklink.Claims
	event  twilio.CallEvent
}

// callPage reads the call's form and the page token Klaxon put in the
// call's URLs. ok is false, with the answer, when either is unusable.
func (tc *twilioCallbacks) callPage(c *twilioCallback) (callPage, twilioAnswer, bool) {
	ev, err := twilio.ParseCallEvent(c.form)
	if err != nil {
		return callPage{}, twilioText(http.StatusBadRequest, "Not a call callback: "+err.Error(), err), false
	}
	token := c.query.Get(twilio.TokenParam)
	claims, err := c.signer.Verify(token, tc.clock.Now())
	if err == nil && claims.Namespace != c.namespace {
		err = fmt.Errorf("the page token is for namespace %s, the channel's is %s", claims.Namespace, c.namespace)
	}
	if err != nil {
		// Twilio signed the URL, so the token is what Klaxon gave it: it
		// expired, or the key changed since.
		a := twiml(twilio.SayAndHangUp("This page can no longer be answered by phone. Goodbye."))
		a.cause, a.outcome = err, "page token refused"
		return callPage{}, a, false
	}
	return callPage{token: token, claims: claims, event: ev}, twilioAnswer{}, true
}

// voice answers the TwiML request of a call Klaxon placed: it reads the
// page and offers the keys, while the incident awaits acknowledgement.
func (tc *twilioCallbacks) voice(ctx context.Context, c *twilioCallback) twilioAnswer {
	p, a, ok := tc.callPage(c)
	if !ok {
		return a
	}
	readings, err := strconv.Atoi(c.query.Get(repeatParam))
	if c.query.Get(repeatParam) == "" {
		readings, err = 0, nil
	}
	if err != nil || readings >= maxVoiceReadings {
		return tc.said(p, twilio.SayAndHangUp("Nobody pressed a key. Goodbye."), "no key pressed")
	}
	inc, failed, ok := tc.claimedIncident(ctx, p.claims, c.from, tc.client)
	if !ok {
		return tc.said(p, twilio.SayAndHangUp(phoneFailure(failed)+" Goodbye."), "page no longer valid")
	}
	if !awaitsAcknowledgement(inc) {
		return tc.said(p, twilio.SayAndHangUp(alreadyMoved(inc)+" Goodbye."), "already moved on")
	}
	return tc.said(p, tc.prompt(c, p, inc, "", readings+1), "read the page")
}

// prompt reads say, or the page, and waits for a key; without one the call
// comes back to voice for reading number next.
func (tc *twilioCallbacks) prompt(c *twilioCallback, p callPage, inc *klaxonv1alpha1.Incident, say string, next int) []byte {
	if say == "" {
		say = twilio.VoiceScript(voiceMessage(inc, p.claims))
	}
	gather := twilio.CallbackURL(tc.opts.PublicURL, c.namespace, c.channel, twilio.PathGather, p.token)
	again := twilio.CallbackURL(tc.opts.PublicURL, c.namespace, c.channel, twilio.PathVoice, p.token) + "&" + repeatParam + "=" + strconv.Itoa(next)
	return twilio.Gather(say, gather, again)
}

// voiceMessage is the message a call reads.
func voiceMessage(inc *klaxonv1alpha1.Incident, c acklink.Claims) *notify.Message {
	return &notify.Message{
		Incident: notify.Incident{Namespace: inc.Namespace, Name: inc.Name, UID: string(inc.UID), Title: inc.Spec.Title,
			Severity: string(inc.Spec.Severity), Service: inc.Spec.Service, Impact: inc.Spec.Impact,
			Phase: string(inc.Status.Phase), Episode: inc.Status.Episode},
		Page: notify.Page{Responder: c.Responder},
		Kind: string(klaxonv1alpha1.ContactKindVoice),
	}
}

// said is a TwiML answer about the call's page, logged with outcome.
func (tc *twilioCallbacks) said(p callPage, body []byte, outcome string) twilioAnswer {
	a := twiml(body)
	a.incident = client.ObjectKey{Namespace: p.claims.Namespace, Name: p.claims.Name}
	a.responder, a.outcome = p.claims.Responder, outcome
	return a
}

// gather acts on the key pressed during the call: 1 acknowledges as the
// page's responder, 2 pages the next level now, anything else reads the
// page again.
func (tc *twilioCallbacks) gather(ctx context.Context, c *twilioCallback) twilioAnswer {
	p, a, ok := tc.callPage(c)
	if !ok {
		return a
	}
	switch p.event.Digits {
	case keyAcknowledge:
		return tc.acknowledgeByCall(ctx, c, p)
	case keyEscalate:
		return tc.escalateByCall(ctx, c, p)
	}
	inc, failed, ok := tc.claimedIncident(ctx, p.claims, c.from, tc.client)
	if !ok {
		return tc.said(p, twilio.SayAndHangUp(phoneFailure(failed)+" Goodbye."), "page no longer valid")
	}
	return tc.said(p, tc.prompt(c, p, inc, "", 1), "read the page again")
}

func (tc *twilioCallbacks) acknowledgeByCall(ctx context.Context, c *twilioCallback, p callPage) twilioAnswer {
	if !tc.moveRequests.Allow() {
		return tc.said(p, twilio.Gather("Klaxon is answering many requests right now. Press 1 again to acknowledge.",
			twilio.CallbackURL(tc.opts.PublicURL, c.namespace, c.channel, twilio.PathGather, p.token), ""), "busy")
	}
	inc, moved, failed, ok := tc.moveIncident(ctx, p.claims, c.from, klaxonv1alpha1.StateAcknowledged, awaitsAcknowledgement)
	switch {
	case !ok:
		a := tc.said(p, twilio.SayAndHangUp(phoneFailure(failed)+" Goodbye."), "failed to acknowledge")
		a.cause = failed.cause
		return a
	case !moved:
		return tc.said(p, twilio.SayAndHangUp(alreadyMoved(inc)+" Nothing was changed. Goodbye."), "already moved on")
	}
	return tc.said(p, twilio.SayAndHangUp("Acknowledged. The incident is yours."), "acknowledged")
}

// escalateByCall makes the next level due now, if the escalation still
// stands at the level this call paged: a key pressed on an older call must
// not skip a level someone else is being paged at. The reconciler pages
// the level and records it.
func (tc *twilioCallbacks) escalateByCall(ctx context.Context, c *twilioCallback, p callPage) twilioAnswer {
	if !tc.moveRequests.Allow() {
		return tc.said(p, twilio.Gather("Klaxon is answering many requests right now. Press 2 again to page the next level.",
			twilio.CallbackURL(tc.opts.PublicURL, c.namespace, c.channel, twilio.PathGather, p.token), ""), "busy")
	}
	var reader client.Reader = tc.client
	for range 2 {
		inc, failed, ok := tc.claimedIncident(ctx, p.claims, c.from, reader)
		if !ok {
			return tc.said(p, twilio.SayAndHangUp(phoneFailure(failed)+" Goodbye."), "page no longer valid")
		}
		if !awaitsAcknowledgement(inc) {
			return tc.said(p, twilio.SayAndHangUp(alreadyMoved(inc)+" Nothing was changed. Goodbye."), "already moved on")
		}
		why, found := escalationStands(inc, c.channel, p.event.CallSID)
		if !found && reader != tc.apiReader {
			// The cache may not show the call's record yet.
			reader = tc.apiReader
			continue
		}
		if why != "" {
			return tc.said(p, twilio.SayAndHangUp(why+" Nothing was changed. Goodbye."), "escalation refused")
		}
		now := metav1.NewTime(tc.clock.Now())
		if at := inc.Status.Escalation.NextEscalationAt; at != nil && !at.After(now.Time) {
			return tc.said(p, twilio.SayAndHangUp("The next level is paged now."), "next level already due")
		}
		patched := inc.DeepCopy()
		patched.Status.Escalation.NextEscalationAt = &now
		err := tc.client.Status().Patch(ctx, patched, client.MergeFromWithOptions(inc, client.MergeFromWithOptimisticLock{}))
		switch {
		case err == nil:
			return tc.said(p, twilio.SayAndHangUp("The next level is paged now."), "escalated")
		case apierrors.IsConflict(err):
			reader = tc.apiReader
		case apierrors.IsNotFound(err):
			return tc.said(p, twilio.SayAndHangUp("This incident no longer exists. Goodbye."), "incident gone")
		default:
			a := tc.said(p, twilio.SayAndHangUp("Klaxon could not reach the Kubernetes API server. Nothing was changed. Goodbye."), "failed to escalate")
			a.cause = fmt.Errorf("escalating incident %s/%s: %w", inc.Namespace, inc.Name, err)
			return a
		}
	}
	a := tc.said(p, twilio.SayAndHangUp("The incident kept changing. Nothing was changed. Goodbye."), "failed to escalate")
	a.cause = fmt.Errorf("incident %s/%s kept changing while it was escalated", p.claims.Namespace, p.claims.Name)
	return a
}

// escalationStands says why the call's page cannot make the next level
// due ("" when it can), and whether the incident records the call.
func escalationStands(inc *klaxonv1alpha1.Incident, channel, callSID string) (why string, found bool) {
	n := callNotification(inc, channel, callSID)
	if n == nil {
		return "This call is not recorded on the incident.", false
	}
	esc := inc.Status.Escalation
	switch {
	case esc != nil && esc.Level != n.Level:
		return "The next level was paged already.", true
	case esc == nil || esc.Exhausted:
		return "Every level was paged already.", true
	}
	return "", true
}

// callNotification is the incident's record of the call in its current
// episode, or nil.
func callNotification(inc *klaxonv1alpha1.Incident, channel, callSID string) *klaxonv1alpha1.Notification {
	for i := range inc.Status.Notifications {
		n := &inc.Status.Notifications[i]
		if n.MessageRef == callSID && n.Channel == channel && n.Episode == inc.Status.Episode {
			return n
		}
	}
	return nil
}

// callStatus records how a call ended: a call nobody answered, or one
// that ended without an acknowledgement, is a failed delivery, so that the
// responder's next rule, or the next level, takes over at its time.
// Twilio only needs to hear that the callback arrived: every outcome that
// is not a failure to reach the API server answers an empty TwiML.
func (tc *twilioCallbacks) callStatus(ctx context.Context, c *twilioCallback) twilioAnswer {
	p, a, ok := tc.callPage(c)
	if !ok {
		if a.code == http.StatusOK {
			a.twiml = twilio.Reply("")
		}
		return a
	}
	empty := func(outcome string) twilioAnswer { return tc.said(p, twilio.Reply(""), outcome) }
	ended, unanswered := twilio.Ended(p.event.Status)
	if !ended {
		return empty("call not ended")
	}
	if !tc.moveRequests.Allow() {
		return twilioAnswer{code: http.StatusServiceUnavailable, text: "Klaxon is busy; retry later", retryAfter: twilioRetrySecond}
	}
	var reader client.Reader = tc.client
	for range 2 {
		inc, failed, ok := tc.claimedIncident(ctx, p.claims, c.from, reader)
		switch {
		case !ok && failed.code >= http.StatusInternalServerError:
			return twilioUnavailable(failed.cause)
		case !ok:
			return empty("page no longer valid")
		case !unanswered && !awaitsAcknowledgement(inc):
			return empty("the call ended after the incident moved on")
		}
		n := callNotification(inc, c.channel, p.event.CallSID)
		if n == nil && reader != tc.apiReader {
			reader = tc.apiReader
			continue
		}
		if n == nil || n.State != klaxonv1alpha1.NotificationSent {
			return empty("no sent call to record")
		}
		patched := inc.DeepCopy()
		pn := callNotification(patched, c.channel, p.event.CallSID)
		pn.State = klaxonv1alpha1.NotificationFailed
		pn.Error = bounded.Runes(fmt.Sprintf("the call ended %s: nobody acknowledged", p.event.Status), maxNotificationErrorChars)
		err := tc.client.Status().Patch(ctx, patched, client.MergeFromWithOptions(inc, client.MergeFromWithOptimisticLock{}))
		switch {
		case err == nil:
			return empty("recorded the call as failed: " + p.event.Status)
		case apierrors.IsConflict(err):
			reader = tc.apiReader
		case apierrors.IsNotFound(err):
			return empty("incident gone")
		default:
			return twilioUnavailable(fmt.Errorf("recording the call of incident %s/%s as failed: %w", inc.Namespace, inc.Name, err))
		}
	}
	return twilioUnavailable(fmt.Errorf("incident %s/%s kept changing while its call was recorded", p.claims.Namespace, p.claims.Name))
}

package receiver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/delivery"
	"github.com/klaxon-dev/klaxon/internal/lifecycle"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
)

// A call reads the page at most maxVoiceReadings times when nobody presses
// a key; readingParam counts the readings in the voice URL the call is
// redirected to. Every URL a call is sent to carries the next step in
// stepParam, so that each request of the call is a distinct request (a
// replayed one is refused), and a call that keeps coming back ends after
// maxCallSteps. A key pressed at a moment Klaxon cannot act on it comes
// back in digitsParam.
const (
	maxVoiceReadings = 3
	readingParam     = "r"
	stepParam        = "s"
	digitsParam      = "d"
	maxCallSteps     = 30
	// callRetrySeconds is how long a call waits before it comes back.
	callRetrySeconds = 2
)

// The keys a call offers.
const (
	keyAcknowledge = "1"
	keyEscalate    = "2"
)

// A call's status may overtake the sender's record of the call: it is
// looked for again, every statusRecheckWait, for up to statusRecheckFor.
const (
	statusRecheckWait = time.Second
	statusRecheckFor  = 5 * time.Second
)

// callPage is the page a call's callbacks are about: its verified token
// and claims, and the step of the call the request is.
type callPage struct {
	token  string
	claims acklink.Claims
	event  twilio.CallEvent
	step   int
}

// callPage reads the call's form and the page token Klaxon put in the
// call's URLs. ok is false, with the answer, when either is unusable.
func (tc *twilioCallbacks) callPage(c *twilioCallback) (callPage, twilioAnswer, bool) {
	ev, err := twilio.ParseCallEvent(c.form)
	if err == nil && ev.Digits == "" {
		// A key that came back after a pause.
		ev.Digits = c.query.Get(digitsParam)
		if len(ev.Digits) > 1 {
			err = fmt.Errorf("%w: %s is longer than one key", twilio.ErrForm, digitsParam)
		}
	}
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
	return callPage{token: token, claims: claims, event: ev, step: stepOf(c.query)}, twilioAnswer{}, true
}

// stepOf is the step counter of a call's URL: 0 for the first request.
func stepOf(q url.Values) int {
	n, err := strconv.Atoi(q.Get(stepParam))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// callAgain answers a call's request that could not be served now (a
// busy limit, the API server out of reach): the call waits, then comes
// back to the same step with its counter bumped. A 5xx would end the
// call: Twilio says an application error occurred and hangs up.
func (tc *twilioCallbacks) callAgain(r *http.Request, form url.Values, a twilioAnswer) twilioAnswer {
	q := r.URL.Query()
	step := stepOf(q) + 1
	retry := twilioAnswer{code: http.StatusOK, cause: a.cause, transient: true,
		incident: a.incident, responder: a.responder, outcome: "asked to call back: " + a.outcome}
	if step >= maxCallSteps {
		retry.twiml = twilio.SayAndHangUp("Klaxon cannot answer right now. Nothing was changed. Goodbye.")
		retry.outcome = "gave up: " + a.outcome
		return retry
	}
	q.Set(stepParam, strconv.Itoa(step))
	if d := form.Get("Digits"); d != "" && len(d) <= 1 && q.Get(digitsParam) == "" {
		q.Set(digitsParam, d)
	}
	target := strings.TrimRight(tc.opts.PublicURL, "/") + r.URL.Path + "?" + q.Encode()
	retry.twiml = twilio.PauseAndRedirect(callRetrySeconds, target)
	return retry
}

// busyCall is the answer to a call's request when the move limit is
// spent: the call comes back (callAgain).
func busyCall(p callPage) twilioAnswer {
	return twilioAnswer{code: http.StatusServiceUnavailable, transient: true, text: "Klaxon is busy",
		incident: client.ObjectKey{Namespace: p.claims.Namespace, Name: p.claims.Name}, responder: p.claims.Responder, outcome: "busy"}
}

// failedCall answers a call whose incident could not be read or moved: a
// transient failure comes back, any other ends the call.
func (tc *twilioCallbacks) failedCall(p callPage, failed ackAnswer, outcome, suffix string) twilioAnswer {
	if failed.code == http.StatusTooManyRequests || failed.code >= http.StatusInternalServerError {
		a := busyCall(p)
		a.cause, a.outcome = failed.cause, outcome
		return a
	}
	a := tc.said(p, twilio.SayAndHangUp(phoneFailure(failed)+suffix+" Goodbye."), outcome)
	a.cause = failed.cause
	return a
}

// voice answers the TwiML request of a call Klaxon placed: it reads the
// page and offers the keys, while the incident awaits acknowledgement.
func (tc *twilioCallbacks) voice(ctx context.Context, c *twilioCallback) twilioAnswer {
	p, a, ok := tc.callPage(c)
	if !ok {
		return a
	}
	readings, err := strconv.Atoi(c.query.Get(readingParam))
	if c.query.Get(readingParam) == "" {
		readings, err = 0, nil
	}
	if err != nil || readings >= maxVoiceReadings || p.step >= maxCallSteps {
		return tc.said(p, twilio.SayAndHangUp("Nobody pressed a key. Goodbye."), "no key pressed")
	}
	inc, failed, ok := tc.claimedIncident(ctx, p.claims, c.from, tc.client)
	if !ok {
		return tc.failedCall(p, failed, "page no longer valid", "")
	}
	if !awaitsAcknowledgement(inc) {
		return tc.said(p, twilio.SayAndHangUp(alreadyMoved(inc)+" Goodbye."), "already moved on")
	}
	return tc.said(p, tc.prompt(c, p, twilio.VoiceScript(voiceMessage(inc, p.claims)), readings+1), "read the page")
}

// prompt reads say and waits for a key; without one the call comes back
// to voice for reading number reading. Both URLs carry the next step.
func (tc *twilioCallbacks) prompt(c *twilioCallback, p callPage, say string, reading int) []byte {
	next := "&" + stepParam + "=" + strconv.Itoa(p.step+1)
	gather := twilio.CallbackURL(tc.opts.PublicURL, c.namespace, c.channel, twilio.PathGather, p.token) + next
	again := twilio.CallbackURL(tc.opts.PublicURL, c.namespace, c.channel, twilio.PathVoice, p.token) +
		"&" + readingParam + "=" + strconv.Itoa(reading) + next
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
	if p.step >= maxCallSteps {
		return tc.said(p, twilio.SayAndHangUp("Goodbye."), "too many steps")
	}
	switch p.event.Digits {
	case keyAcknowledge:
		return tc.acknowledgeByCall(ctx, c, p)
	case keyEscalate:
		return tc.escalateByCall(ctx, c, p)
	}
	inc, failed, ok := tc.claimedIncident(ctx, p.claims, c.from, tc.client)
	if !ok {
		return tc.failedCall(p, failed, "page no longer valid", "")
	}
	return tc.said(p, tc.prompt(c, p, twilio.VoiceScript(voiceMessage(inc, p.claims)), 1), "read the page again")
}

func (tc *twilioCallbacks) acknowledgeByCall(ctx context.Context, c *twilioCallback, p callPage) twilioAnswer {
	if !tc.moveRequests.Allow() {
		return busyCall(p)
	}
	inc, moved, failed, ok := tc.moveIncident(ctx, p.claims, c.from, klaxonv1alpha1.StateAcknowledged, awaitsAcknowledgement)
	switch {
	case !ok:
		return tc.failedCall(p, failed, "failed to acknowledge", "")
	case !moved:
		return tc.said(p, twilio.SayAndHangUp(alreadyMoved(inc)+" Nothing was changed. Goodbye."), "already moved on")
	}
	return tc.said(p, twilio.SayAndHangUp("Acknowledged. The incident is yours."), "acknowledged")
}

// escalateByCall makes the next level due now, if the escalation still
// stands at the level and round this call paged: a key pressed on an older
// call must not skip a level someone else is being paged at. The
// reconciler pages the level and records it.
func (tc *twilioCallbacks) escalateByCall(ctx context.Context, c *twilioCallback, p callPage) twilioAnswer {
	if !tc.moveRequests.Allow() {
		return busyCall(p)
	}
	var reader client.Reader = tc.client
	for range 2 {
		inc, failed, ok := tc.claimedIncident(ctx, p.claims, c.from, reader)
		if !ok {
			return tc.failedCall(p, failed, "page no longer valid", "")
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
			a := busyCall(p)
			a.outcome, a.cause = "failed to escalate", fmt.Errorf("escalating incident %s/%s: %w", inc.Namespace, inc.Name, err)
			return a
		}
	}
	a := busyCall(p)
	a.outcome, a.cause = "failed to escalate", fmt.Errorf("incident %s/%s kept changing while it was escalated", p.claims.Namespace, p.claims.Name)
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
	case esc != nil && (esc.Level != n.Level || esc.Round != n.Round):
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

// callStatus records how a call ended: a call that ended while the
// incident still awaits acknowledgement (nobody answered, or nobody
// pressed 1) is a failed delivery, so that the responder's next rule, or
// the next level, takes over at its time. Twilio only needs to hear that
// the callback arrived: every outcome but a failure to reach the API
// server answers an empty TwiML.
func (tc *twilioCallbacks) callStatus(ctx context.Context, c *twilioCallback) twilioAnswer {
	p, a, ok := tc.callPage(c)
	if !ok {
		if a.code == http.StatusOK {
			a.twiml = twilio.Reply("")
		}
		return a
	}
	empty := func(outcome string) twilioAnswer { return tc.said(p, twilio.Reply(""), outcome) }
	// later answers 200 without keeping the replay key: Twilio does not
	// send a status again, but a retry of its own may get through.
	later := func(outcome string, cause error) twilioAnswer {
		a := empty(outcome)
		a.transient, a.cause = true, cause
		return a
	}
	if ended, _ := twilio.Ended(p.event.Status); !ended {
		return empty("call not ended")
	}
	var reader client.Reader = tc.client
	rechecks, waited, conflicts := int(statusRecheckFor/statusRecheckWait), false, 0
	for {
		inc, failed, ok := tc.claimedIncident(ctx, p.claims, c.from, reader)
		switch {
		case !ok && failed.code == http.StatusTooManyRequests:
			// A limit of reads: worth one wait.
			if waited || !sleep(ctx, statusRecheckWait) {
				return later("busy", failed.cause)
			}
			waited = true
			continue
		case !ok && failed.code >= http.StatusInternalServerError:
			return twilioUnavailable(failed.cause)
		case !ok:
			return empty("page no longer valid")
		case !awaitsAcknowledgement(inc):
			return empty("the incident no longer awaits acknowledgement")
		}
		n := callNotification(inc, c.channel, p.event.CallSID)
		if n == nil && reader != tc.apiReader {
			reader = tc.apiReader
			continue
		}
		if n == nil {
			// The sender records the call just after Twilio accepted it;
			// a call that failed at once may report first.
			if pendingCall(inc, c.channel, p.claims.Responder) && rechecks > 0 && sleep(ctx, statusRecheckWait) {
				rechecks--
				continue
			}
			return empty("no call to record")
		}
		if n.State != klaxonv1alpha1.NotificationSent {
			return empty("no sent call to record")
		}
		if !tc.moveRequests.Allow() {
			if waited || !sleep(ctx, statusRecheckWait) {
				return later("busy", nil)
			}
			waited = true
			continue
		}
		// Recorded as the reconciler records a failed delivery: the
		// entry, a timeline entry in the same write, then an Event.
		patched := inc.DeepCopy()
		pn := callNotification(patched, c.channel, p.event.CallSID)
		pn.State = klaxonv1alpha1.NotificationFailed
		pn.Error = bounded.Runes(unansweredCall(p.event.Status), klaxonv1alpha1.MaxNotificationErrorLength)
		msg := fmt.Sprintf("Could not notify %s via %s: %s", delivery.Describe(pn), pn.Channel, pn.Error)
		lifecycle.AppendTimeline(&patched.Status, klaxonv1alpha1.TimelineEntry{Time: metav1.NewTime(tc.clock.Now()),
			Type: klaxonv1alpha1.TimelineNotificationFailed, Message: msg})
		err := tc.client.Status().Patch(ctx, patched, client.MergeFromWithOptions(inc, client.MergeFromWithOptimisticLock{}))
		switch {
		case err == nil:
			tc.recordEvent(patched, corev1.EventTypeWarning, klaxonv1alpha1.EventNotificationFailed, "Notify", msg)
			return empty("recorded the call as failed: " + p.event.Status)
		case apierrors.IsConflict(err) && conflicts < 1:
			conflicts++
			reader = tc.apiReader
		case apierrors.IsConflict(err):
			return twilioUnavailable(fmt.Errorf("incident %s/%s kept changing while its call was recorded", p.claims.Namespace, p.claims.Name))
		case apierrors.IsNotFound(err):
			return empty("incident gone")
		default:
			return twilioUnavailable(fmt.Errorf("recording the call of incident %s/%s as failed: %w", inc.Namespace, inc.Name, err))
		}
	}
}

// unansweredCall is the error of a call that ended, by its final status,
// while the incident still awaited acknowledgement.
func unansweredCall(status string) string {
	switch status {
	case twilio.CallCompleted:
		return "the call was answered but nobody acknowledged (voicemail?)"
	case twilio.CallNoAnswer:
		return "the call ended no-answer: nobody answered"
	case twilio.CallBusy:
		return "the call ended busy: the line was busy"
	case twilio.CallFailed:
		return "the call ended failed: it could not be connected"
	case twilio.CallCanceled:
		return "the call ended canceled: it was canceled before anyone answered"
	}
	return "the call ended " + status + ": nobody acknowledged"
}

// pendingCall reports whether a page of the responder through the channel
// in the incident's episode is still Pending: a call on its way to being
// recorded as Sent.
func pendingCall(inc *klaxonv1alpha1.Incident, channel, responder string) bool {
	for i := range inc.Status.Notifications {
		n := &inc.Status.Notifications[i]
		if n.Channel == channel && n.Responder == responder && n.Episode == inc.Status.Episode &&
			n.State == klaxonv1alpha1.NotificationPending {
			return true
		}
	}
	return false
}

// sleep waits for d, or reports false if ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

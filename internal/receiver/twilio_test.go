package receiver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/controller"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

const (
	twilioAuthToken = "12345678901234567890123456789012"
	twilioPublicURL = "https://klaxon.example.com"
	twilioFrom      = "+15005550006"
	adaPhone        = "+15005550001"
	strangerPhone   = "+15005550999"
)

// twilioFixture creates the twilio NotificationChannel phones, its Secret,
// and the webhook channel hook, and waits for the cache to show them.
func twilioFixture(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	objs := []client.Object{
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "twilio", Namespace: ns, Labels: map[string]string{klaxonv1alpha1.LabelChannelSecret: "true"}},
			StringData: map[string]string{"account-sid": "AC00000000000000000000000000000001", "auth-token": twilioAuthToken + "\n"},
		},
		twilioChannel(ns, "phones", "twilio", twilioFrom),
		&klaxonv1alpha1.NotificationChannel{
			ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: ns},
			Spec:       klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{URL: "https://hooks.example.com/klaxon"}},
		},
	}
	for _, o := range objs {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the cache to see the channels", func(ctx context.Context) (bool, error) {
		for _, name := range []string{"phones", "hook"} {
			if err := mgr.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &klaxonv1alpha1.NotificationChannel{}); err != nil {
				return false, client.IgnoreNotFound(err)
			}
		}
		return true, nil
	})
}

// phoneCase is the start of most tests of the callbacks: a namespace with
// the twilio channel, a receiver writing through c (see phoneReceiver),
// and a triggered incident.
func phoneCase(t *testing.T, c client.Client) (ns, base string, inc *klaxonv1alpha1.Incident) {
	t.Helper()
	ns = newNamespace(t)
	twilioFixture(t, ns)
	base = phoneReceiver(t, c)
	return ns, base, triggeredIncident(t, ns, "checkout-down", "Checkout down")
}

// twilioChannel is a twilio NotificationChannel texting and calling from
// the number from, with the credentials of the Secret secret.
func twilioChannel(ns, name, secret, from string) *klaxonv1alpha1.NotificationChannel {
	return &klaxonv1alpha1.NotificationChannel{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.NotificationChannelSpec{Twilio: &klaxonv1alpha1.TwilioChannel{
			AccountSIDSecretRef: klaxonv1alpha1.SecretKeyReference{Name: secret, Key: "account-sid"},
			AuthTokenSecretRef:  klaxonv1alpha1.SecretKeyReference{Name: secret, Key: "auth-token"},
			From:                from,
		}},
	}
}

// phoneReceiver serves a receiver whose public URL is twilioPublicURL,
// with the tests' acknowledge key, writing through c (the operator's
// client when nil).
func phoneReceiver(t *testing.T, c client.Client) string {
	t.Helper()
	keys := &acklink.Keyring{}
	keys.Set(slackSealer(t))
	return newReceiver(t, c, func(o *receiver.Options) {
		o.AckKeys, o.PublicURL, o.Events = keys, twilioPublicURL+"/", mgr.GetEventRecorder(controller.EventSource)
	}).URL
}

// twilioAnswer is the receiver's answer to a callback.
type twilioAnswer struct {
	code        int
	body        string
	contentType string
}

// postTwilio posts form to the channel's callback path (with its query),
// signed as Twilio signs it with token over the public URL.
func postTwilio(t *testing.T, base, ns, channel, pathAndQuery string, form url.Values, token string) twilioAnswer {
	t.Helper()
	uri := "/twilio/" + ns + "/" + channel + "/" + pathAndQuery
	return postSigned(t, base+uri, form, twilio.Signature(token, twilioPublicURL+uri, form))
}

func postSigned(t *testing.T, target string, form url.Values, signature string) twilioAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	if signature != "" {
		req.Header.Set(twilio.SignatureHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return twilioAnswer{code: resp.StatusCode, body: string(body), contentType: resp.Header.Get("Content-Type")}
}

// incomingSMS is the form of a text to the channel's number, as Twilio
// posts it to the messaging webhook.
func incomingSMS(from, body string, n int) url.Values {
	return url.Values{
		"MessageSid": {fmt.Sprintf("SM%032x", n)}, "SmsSid": {fmt.Sprintf("SM%032x", n)},
		"AccountSid": {"AC00000000000000000000000000000001"}, "MessagingServiceSid": {""},
		"From": {from}, "To": {twilioFrom}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
		"SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}, "FromCountry": {"US"}, "ToCountry": {"US"},
	}
}

// callEvent is the form of a call callback, as Twilio posts it.
func callEvent(callSID, status, digits string) url.Values {
	v := url.Values{
		"CallSid": {callSID}, "AccountSid": {"AC00000000000000000000000000000001"},
		"From": {twilioFrom}, "To": {adaPhone}, "CallStatus": {status}, "Direction": {"outbound-api"},
		"ApiVersion": {"2010-04-01"}, "Caller": {twilioFrom}, "Called": {adaPhone},
	}
	if digits != "" {
		v.Set("Digits", digits)
		v.Set("FinishedOnKey", "")
	}
	if status == twilio.CallCompleted || status == twilio.CallNoAnswer {
		v.Set("CallDuration", "0")
	}
	return v
}

func callSID(n int) string { return fmt.Sprintf("CA%032x", n) }

// sentPage is a Sent page of the incident's current episode through
// phones.
func sentPage(inc *klaxonv1alpha1.Incident, responder, address, ref string, level int32, sentAt time.Time) klaxonv1alpha1.Notification {
	at := metav1.NewTime(sentAt)
	return klaxonv1alpha1.Notification{Responder: responder, Contact: "phone", Channel: "phones", Address: address,
		Episode: inc.Status.Episode, Level: level, State: klaxonv1alpha1.NotificationSent,
		DueAt: at, Attempts: 1, SentAt: &at, MessageRef: ref}
}

// recordPages adds the pages to the incident's status, as the sender
// records them, and waits for the cache to show them.
func recordPages(t *testing.T, inc *klaxonv1alpha1.Incident, pages ...klaxonv1alpha1.Notification) *klaxonv1alpha1.Incident {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
			return err
		}
		got.Status.Notifications = append(got.Status.Notifications, pages...)
		return k8s.Status().Update(context.Background(), got)
	})
	if err != nil {
		t.Fatal(err)
	}
	waitForCache(t, inc.Namespace, inc.Name, "the cache to show the pages of "+inc.Name, func(c *klaxonv1alpha1.Incident) bool {
		for _, p := range pages {
			if !hasPage(c, p.MessageRef) {
				return false
			}
		}
		return true
	})
	return got
}

func hasPage(inc *klaxonv1alpha1.Incident, ref string) bool {
	for _, n := range inc.Status.Notifications {
		if n.MessageRef == ref {
			return true
		}
	}
	return false
}

// notification is the incident's page with messageRef ref, as stored.
func notification(t *testing.T, inc *klaxonv1alpha1.Incident, ref string) klaxonv1alpha1.Notification {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
		t.Fatal(err)
	}
	for _, n := range got.Status.Notifications {
		if n.MessageRef == ref {
			return n
		}
	}
	t.Fatalf("incident %s has no page %s", inc.Name, ref)
	return klaxonv1alpha1.Notification{}
}

func wantTwiML(t *testing.T, what string, a twilioAnswer, contains ...string) {
	t.Helper()
	if a.code != http.StatusOK || a.contentType != twilio.TwiMLContentType {
		t.Fatalf("%s: answered %d (%s): %s", what, a.code, a.contentType, a.body)
	}
	for _, c := range contains {
		if !strings.Contains(a.body, c) {
			t.Errorf("%s: the answer lacks %q: %s", what, c, a.body)
		}
	}
}

func codeOf(inc *klaxonv1alpha1.Incident, responder string) string {
	return sealer.Code(acklink.Claims{Namespace: inc.Namespace, Name: inc.Name, UID: string(inc.UID), Episode: inc.Status.Episode, Responder: responder})
}

func TestTwilioReplyAcknowledges(t *testing.T) {
	ns := newNamespace(t)
	twilioFixture(t, ns)
	base := phoneReceiver(t, nil)
	now := time.Now()
	first := triggeredIncident(t, ns, "checkout-down", "Checkout down")
	second := triggeredIncident(t, ns, "db-slow", "Database slow")
	third := triggeredIncident(t, ns, "queue-stuck", "Queue stuck")
	recordPages(t, first, sentPage(first, "ada", adaPhone, "SM1", 0, now.Add(-3*time.Minute)))
	recordPages(t, second, sentPage(second, "ada", adaPhone, "SM2", 0, now.Add(-2*time.Minute)))
	// The latest page to the number is to grace, who shares it.
	recordPages(t, third, sentPage(third, "grace", adaPhone, "SM3", 0, now.Add(-time.Minute)))

	// The code of the oldest page picks it, whatever came after.
	reply := incomingSMS(adaPhone, " "+codeOf(first, "ada")+" ", 1)
	a := postTwilio(t, base, ns, "phones", "sms", reply, twilioAuthToken)
	wantTwiML(t, "a reply with the code", a, "<Message>Acknowledged Checkout down ("+ns+"/checkout-down) as ada.</Message>")
	acked := waitForEpisode(t, first, klaxonv1alpha1.StateAcknowledged, 1)
	if acked.Status.AcknowledgedBy != "ada" || acked.Annotations[klaxonv1alpha1.ActorAnnotation] != "ada" {
		t.Errorf("acknowledgedBy %q, actor %q; want ada", acked.Status.AcknowledgedBy, acked.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
	// The same signed text again is a replay: refused, and nothing is
	// written again.
	rv := resourceVersion(t, acked)
	if again := postTwilio(t, base, ns, "phones", "sms", reply, twilioAuthToken); again.code != http.StatusForbidden || !strings.Contains(again.body, "already answered") {
		t.Errorf("a replayed reply answered %d: %s", again.code, again.body)
	}
	if got := resourceVersion(t, acked); got != rv {
		t.Errorf("a replayed reply changed the incident: resourceVersion %s, was %s", got, rv)
	}

	// ACK acknowledges the latest page to the number, as its responder.
	a = postTwilio(t, base, ns, "phones", "sms", incomingSMS(adaPhone, "Ack", 2), twilioAuthToken)
	wantTwiML(t, "ACK", a, "as grace.")
	if got := waitForEpisode(t, third, klaxonv1alpha1.StateAcknowledged, 1); got.Status.AcknowledgedBy != "grace" {
		t.Errorf("ACK: acknowledgedBy %q, want grace", got.Status.AcknowledgedBy)
	}
	// 1 then acknowledges the latest that still awaits acknowledgement.
	a = postTwilio(t, base, ns, "phones", "sms", incomingSMS(adaPhone, "1", 3), twilioAuthToken)
	wantTwiML(t, "1", a, "Acknowledged Database slow ("+ns+"/db-slow) as ada.")
	waitForEpisode(t, second, klaxonv1alpha1.StateAcknowledged, 1)

	// Nothing awaits now: the code of an acknowledged page gets the
	// help, the number's first: confirmations are not help lines.
	a = postTwilio(t, base, ns, "phones", "sms", incomingSMS(adaPhone, codeOf(first, "ada"), 4), twilioAuthToken)
	wantTwiML(t, "the code of an acknowledged page", a, "Reply with the code in the page")
}

func TestTwilioReplyChangesNothing(t *testing.T) {
	var writes atomic.Int32
	ns, base, inc := phoneCase(t, countWrites(mgr.GetClient(), &writes))
	inc = recordPages(t, inc, sentPage(inc, "ada", adaPhone, "SM1", 0, time.Now()))
	rv := resourceVersion(t, inc)
	code := codeOf(inc, "ada")
	wrongCode := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1_000_000)

	// The first text of a number gets the help line; the next ones,
	// within ten minutes, an empty answer.
	const help = "<Message>Reply with the code in the page, or ACK for the latest page to this number.</Message>"
	for _, c := range []struct {
		what string
		form url.Values
		want string
	}{
		{"a number no page went to", incomingSMS(strangerPhone, "ACK", 1), help},
		{"the code from another number", incomingSMS(strangerPhone, code, 2), "<Response></Response>"},
		{"a wrong code", incomingSMS(adaPhone, wrongCode, 3), help},
		{"a question", incomingSMS(adaPhone, "what is this?", 4), "<Response></Response>"},
		{"an empty text", incomingSMS(adaPhone, "", 5), "<Response></Response>"},
	} {
		a := postTwilio(t, base, ns, "phones", "sms", c.form, twilioAuthToken)
		wantTwiML(t, c.what, a, c.want)
	}

	// Requests that are not Twilio's own change nothing.
	reply := incomingSMS(adaPhone, code, 6)
	uri := "/twilio/" + ns + "/phones/sms"
	goodSig := twilio.Signature(twilioAuthToken, twilioPublicURL+uri, reply)
	altered := incomingSMS(adaPhone, "ACK", 6)
	for what, a := range map[string]twilioAnswer{
		"another token":      postTwilio(t, base, ns, "phones", "sms", reply, "not-the-auth-token"),
		"an altered body":    postSigned(t, base+uri, altered, goodSig),
		"an altered number":  postSigned(t, base+uri, incomingSMS(strangerPhone, code, 6), goodSig),
		"an added parameter": postSigned(t, base+uri+"?x=1", reply, goodSig),
		"another URL":        postSigned(t, base+uri, reply, twilio.Signature(twilioAuthToken, "https://elsewhere.example.com"+uri, reply)),
		"no signature":       postSigned(t, base+uri, reply, ""),
	} {
		if a.code != http.StatusForbidden || !strings.Contains(a.body, "signature does not verify") {
			t.Errorf("%s: answered %d: %s", what, a.code, a.body)
		}
	}
	// A channel that is not a twilio channel, or none, is not found; a
	// GET is not a callback.
	if a := postTwilio(t, base, ns, "hook", "sms", reply, twilioAuthToken); a.code != http.StatusNotFound {
		t.Errorf("a webhook channel answered %d: %s", a.code, a.body)
	}
	if a := postTwilio(t, base, ns, "nope", "sms", reply, twilioAuthToken); a.code != http.StatusNotFound {
		t.Errorf("a channel that does not exist answered %d: %s", a.code, a.body)
	}
	if a := postTwilio(t, base, ns, "phones", "fax", reply, twilioAuthToken); a.code != http.StatusNotFound {
		t.Errorf("an unknown callback answered %d: %s", a.code, a.body)
	}
	if code, _, _ := fetch(t, http.MethodGet, base+uri); code != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d, want 405", code)
	}
	big := incomingSMS(adaPhone, strings.Repeat("x", twilio.MaxFormBytes), 7)
	if a := postTwilio(t, base, ns, "phones", "sms", big, twilioAuthToken); a.code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over the bound answered %d", a.code)
	}
	if got := resourceVersion(t, inc); got != rv {
		t.Errorf("replies that acknowledge nothing changed the incident: resourceVersion %s, was %s", got, rv)
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("replies that acknowledge nothing made %d writes", n)
	}

	// A receiver without a public URL serves no callbacks: none can be
	// signed for a URL it does not know.
	keys := &acklink.Keyring{}
	keys.Set(slackSealer(t))
	bare := newReceiver(t, nil, func(o *receiver.Options) { o.AckKeys = keys }).URL
	if a := postTwilio(t, bare, ns, "phones", "sms", reply, twilioAuthToken); a.code != http.StatusNotFound {
		t.Errorf("without a public URL: answered %d: %s", a.code, a.body)
	}
}

// A help line is a billed text: a number gets it once per ten minutes
// through a channel, whatever it sends, and still acknowledges its pages.
func TestTwilioHelpOncePerNumber(t *testing.T) {
	ns, _, inc := phoneCase(t, nil)
	inc = recordPages(t, inc, sentPage(inc, "ada", adaPhone, "SM1", 0, time.Now()))
	clk := testingclock.NewFakePassiveClock(time.Now())
	keys := &acklink.Keyring{}
	keys.Set(slackSealer(t))
	base := newReceiver(t, nil, func(o *receiver.Options) { o.AckKeys, o.PublicURL, o.Clock = keys, twilioPublicURL+"/", clk }).URL
	const help = "<Message>Reply with the code in the page"
	text := func(what, from, body string, n int, want string) {
		t.Helper()
		a := postTwilio(t, base, ns, "phones", "sms", incomingSMS(from, body, n), twilioAuthToken)
		wantTwiML(t, what, a, want)
		if want == "<Response></Response>" && strings.Contains(a.body, "<Message>") {
			t.Errorf("%s: answered with a text: %s", what, a.body)
		}
	}
	text("a stranger's first text", strangerPhone, "hello", 1, help)
	// An auto-responder answering the help line gets nothing back.
	for i := 2; i < 6; i++ {
		text("a stranger's next text", strangerPhone, "Thanks for your message!", i, "<Response></Response>")
	}
	text("ada's first text", adaPhone, "what?", 6, help)
	text("ada's next text", adaPhone, "who is this?", 7, "<Response></Response>")
	// Ten minutes on, the stranger gets the help line again, once.
	clk.SetTime(clk.Now().Add(10 * time.Minute))
	text("a stranger's text ten minutes on", strangerPhone, "hello?", 8, help)
	text("a stranger's next text ten minutes on", strangerPhone, "hello??", 9, "<Response></Response>")
	// The limit is of help lines only: ada's code still acknowledges.
	text("ada's code", adaPhone, codeOf(inc, "ada"), 10, "as ada.")
	waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// callToken is the page token Klaxon puts in a call's URLs.
func callToken(inc *klaxonv1alpha1.Incident, responder string) string {
	return sealer.Sign(claimsFor(inc, responder))
}

func TestTwilioCallAcknowledgedByKey(t *testing.T) {
	ns := newNamespace(t)
	twilioFixture(t, ns)
	base := phoneReceiver(t, nil)
	inc := triggeredIncident(t, ns, "checkout-down", "Checkout down & out <now>")
	sid := callSID(1)
	inc = recordPages(t, inc, sentPage(inc, "ada", adaPhone, sid, 0, time.Now()))
	token := callToken(inc, "ada")
	q := "?t=" + url.QueryEscape(token)

	// Answered, the call reads the page and offers the keys.
	a := postTwilio(t, base, ns, "phones", "voice"+q, callEvent(sid, "in-progress", ""), twilioAuthToken)
	wantTwiML(t, "the call's TwiML", a, "Checkout down out now", "Press 1 to acknowledge", "Press 2 to page the next level now",
		`numDigits="1"`, `action="`+twilioPublicURL+"/twilio/"+ns+"/phones/voice/gather?t="+token+`&amp;s=1"`,
		"<Redirect method=\"POST\">"+twilioPublicURL+"/twilio/"+ns+"/phones/voice?t="+token+"&amp;r=1&amp;s=1</Redirect>")
	// Without a key, the call comes back and reads it again, then gives up.
	wantTwiML(t, "the second reading", postTwilio(t, base, ns, "phones", "voice"+q+"&r=1&s=1", callEvent(sid, "in-progress", ""), twilioAuthToken),
		"Press 1 to acknowledge", "r=2&amp;s=2</Redirect>", "gather?t="+token+"&amp;s=2")
	// The same request again is a replay.
	if again := postTwilio(t, base, ns, "phones", "voice"+q+"&r=1&s=1", callEvent(sid, "in-progress", ""), twilioAuthToken); again.code != http.StatusForbidden {
		t.Errorf("a replayed TwiML request answered %d: %s", again.code, again.body)
	}
	a = postTwilio(t, base, ns, "phones", "voice"+q+"&r=3&s=3", callEvent(sid, "in-progress", ""), twilioAuthToken)
	wantTwiML(t, "after three readings", a, "Goodbye", "<Hangup>")
	if strings.Contains(a.body, "<Gather") {
		t.Errorf("after three readings the call still waits for a key: %s", a.body)
	}
	// Another key reads the page again.
	wantTwiML(t, "key 7", postTwilio(t, base, ns, "phones", "voice/gather"+q+"&s=3", callEvent(sid, "in-progress", "7"), twilioAuthToken),
		"<Gather", "Press 1 to acknowledge", "r=1&amp;s=4</Redirect>")
	// A page token of another namespace's incident is refused, even signed.
	other := triggeredIncident(t, newNamespace(t), "elsewhere", "Elsewhere")
	a = postTwilio(t, base, ns, "phones", "voice/gather?t="+url.QueryEscape(callToken(other, "ada")), callEvent(sid, "in-progress", "1"), twilioAuthToken)
	wantTwiML(t, "another namespace's token", a, "can no longer be answered", "<Hangup>")

	// 1 acknowledges as the page's responder.
	a = postTwilio(t, base, ns, "phones", "voice/gather"+q+"&s=4", callEvent(sid, "in-progress", "1"), twilioAuthToken)
	wantTwiML(t, "key 1", a, "<Say>Acknowledged. The incident is yours.</Say><Hangup></Hangup>")
	acked := waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1)
	if acked.Status.AcknowledgedBy != "ada" || acked.Annotations[klaxonv1alpha1.ActorAnnotation] != "ada" {
		t.Errorf("acknowledgedBy %q, actor %q; want ada", acked.Status.AcknowledgedBy, acked.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
	if got := waitForEpisode(t, other, klaxonv1alpha1.StateTriggered, 1); got.Status.AcknowledgedBy != "" {
		t.Errorf("the other namespace's incident was acknowledged by %s", got.Status.AcknowledgedBy)
	}
	// A call answered later says who acknowledged, and hangs up.
	a = postTwilio(t, base, ns, "phones", "voice"+q, callEvent(callSID(2), "in-progress", ""), twilioAuthToken)
	wantTwiML(t, "a call after the acknowledgement", a, "acknowledged by ada", "<Hangup>")

	// The call completed after the acknowledgement: its page stays Sent.
	rv := resourceVersion(t, acked)
	wantTwiML(t, "completed", postTwilio(t, base, ns, "phones", "voice/status"+q, callEvent(sid, twilio.CallCompleted, ""), twilioAuthToken), "<Response></Response>")
	if n := notification(t, inc, sid); n.State != klaxonv1alpha1.NotificationSent {
		t.Errorf("a call completed after the acknowledgement left its page %s: %s", n.State, n.Error)
	}
	// Nor does one that was not answered: the incident was acknowledged
	// meanwhile.
	wantTwiML(t, "no-answer", postTwilio(t, base, ns, "phones", "voice/status"+q, callEvent(sid, twilio.CallNoAnswer, ""), twilioAuthToken), "<Response></Response>")
	if n := notification(t, inc, sid); n.State != klaxonv1alpha1.NotificationSent {
		t.Errorf("a call unanswered after the acknowledgement left its page %s: %s", n.State, n.Error)
	}
	if got := resourceVersion(t, acked); got != rv {
		t.Errorf("a call ended after the acknowledgement changed the incident: resourceVersion %s, was %s", got, rv)
	}
}

func TestTwilioCallNobodyAnswered(t *testing.T) {
	var writes atomic.Int32
	ns, base, inc := phoneCase(t, countWrites(mgr.GetClient(), &writes))
	unanswered, busy, completed, failed, canceled, untouched := callSID(1), callSID(2), callSID(3), callSID(4), callSID(5), callSID(6)
	var pages []klaxonv1alpha1.Notification
	for _, sid := range []string{unanswered, busy, completed, failed, canceled, untouched} {
		pages = append(pages, sentPage(inc, "ada", adaPhone, sid, 0, time.Now()))
	}
	inc = recordPages(t, inc, pages...)
	q := "voice/status?t=" + url.QueryEscape(callToken(inc, "ada"))

	// A status before the end records nothing.
	wantTwiML(t, "ringing", postTwilio(t, base, ns, "phones", q, callEvent(unanswered, "ringing", ""), twilioAuthToken), "<Response></Response>")
	if n := writes.Load(); n != 0 {
		t.Errorf("a ringing call made %d writes", n)
	}
	for _, c := range []struct{ sid, status, why string }{
		{unanswered, twilio.CallNoAnswer, "the call ended no-answer: nobody answered"},
		{busy, twilio.CallBusy, "the call ended busy: the line was busy"},
		{completed, twilio.CallCompleted, "the call was answered but nobody acknowledged (voicemail?)"},
		{failed, twilio.CallFailed, "the call ended failed: it could not be connected"},
		{canceled, twilio.CallCanceled, "the call ended canceled: it was canceled before anyone answered"},
	} {
		wantTwiML(t, c.status, postTwilio(t, base, ns, "phones", q, callEvent(c.sid, c.status, ""), twilioAuthToken), "<Response></Response>")
		n := notification(t, inc, c.sid)
		if n.State != klaxonv1alpha1.NotificationFailed || n.Error != c.why {
			t.Errorf("%s: the page is %s with error %q, want %q", c.status, n.State, n.Error, c.why)
		}
		if n.SentAt == nil || n.MessageRef != c.sid {
			t.Errorf("%s: the page lost its record: %+v", c.status, n)
		}
		// Like every failed delivery: a timeline entry and a Warning
		// Event naming the responder, the channel and the error.
		msg := "Could not notify ada (phone) via phones: " + c.why
		if !hasTimeline(t, inc, klaxonv1alpha1.TimelineNotificationFailed, msg) {
			t.Errorf("%s: no timeline entry %q", c.status, msg)
		}
		waitForEvent(t, inc, corev1.EventTypeWarning, klaxonv1alpha1.EventNotificationFailed, msg)
	}
	// The same status again is a replay: refused, with no write.
	rv, before := resourceVersion(t, inc), writes.Load()
	if a := postTwilio(t, base, ns, "phones", q, callEvent(unanswered, twilio.CallNoAnswer, ""), twilioAuthToken); a.code != http.StatusForbidden {
		t.Errorf("a replayed status answered %d: %s", a.code, a.body)
	}
	if n := writes.Load(); n != before {
		t.Errorf("a replayed status made %d writes", n-before)
	}
	// A forged status of a page still Sent changes nothing.
	if a := postTwilio(t, base, ns, "phones", q, callEvent(untouched, twilio.CallNoAnswer, ""), "not-the-auth-token"); a.code != http.StatusForbidden {
		t.Errorf("a forged status answered %d: %s", a.code, a.body)
	}
	if n := notification(t, inc, untouched); n.State != klaxonv1alpha1.NotificationSent {
		t.Errorf("a forged status turned its page %s: %s", n.State, n.Error)
	}
	if got := resourceVersion(t, inc); got != rv {
		t.Errorf("a replayed or forged status changed the incident: resourceVersion %s, was %s", got, rv)
	}
}

// hasTimeline reports whether the stored incident's timeline holds an
// entry of type typ with message msg.
func hasTimeline(t *testing.T, inc *klaxonv1alpha1.Incident, typ, msg string) bool {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
		t.Fatal(err)
	}
	for _, e := range got.Status.Timeline {
		if e.Type == typ && e.Message == msg {
			return true
		}
	}
	return false
}

// waitForEvent waits for an Event about the incident with the type,
// reason and note.
func waitForEvent(t *testing.T, inc *klaxonv1alpha1.Incident, typ, reason, note string) {
	t.Helper()
	eventually(t, "a "+reason+" Event saying "+note, func(ctx context.Context) (bool, error) {
		list := &eventsv1.EventList{}
		if err := k8s.List(ctx, list, client.InNamespace(inc.Namespace)); err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.Regarding.UID == inc.UID && e.Type == typ && e.Reason == reason && e.Note == note {
				return true, nil
			}
		}
		return false, nil
	})
}

// escalationFixture creates a policy paging ada at level 0 and bob 30
// minutes later at level 1, and an incident it escalates.
func escalationFixture(t *testing.T, ns string) *klaxonv1alpha1.Incident {
	t.Helper()
	ctx := context.Background()
	pol := &klaxonv1alpha1.EscalationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "payments", Namespace: ns},
		Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
			{Targets: []klaxonv1alpha1.EscalationTarget{{User: "ada"}}},
			{After: &metav1.Duration{Duration: 30 * time.Minute}, Targets: []klaxonv1alpha1.EscalationTarget{{User: "bob"}}},
		}},
	}
	if err := k8s.Create(ctx, pol); err != nil {
		t.Fatal(err)
	}
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{Name: "checkout-down", Namespace: ns},
		Spec: klaxonv1alpha1.IncidentSpec{Title: "Checkout down", Severity: klaxonv1alpha1.SeverityCritical,
			EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "payments"}},
	}
	if err := k8s.Create(ctx, inc); err != nil {
		t.Fatal(err)
	}
	inc = waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 1)
	waitForCache(t, ns, inc.Name, "level 0 to be paged", func(c *klaxonv1alpha1.Incident) bool {
		return c.Status.Escalation != nil && c.Status.Escalation.NextEscalationAt != nil && len(c.Status.Assignments) == 1
	})
	return inc
}

func TestTwilioCallEscalates(t *testing.T) {
	ns := newNamespace(t)
	twilioFixture(t, ns)
	base := phoneReceiver(t, nil)
	inc := escalationFixture(t, ns)
	first, later := callSID(1), callSID(2)
	inc = recordPages(t, inc, sentPage(inc, "ada", adaPhone, first, 0, time.Now()), sentPage(inc, "ada", adaPhone, later, 0, time.Now()))
	q := "voice/gather?t=" + url.QueryEscape(callToken(inc, "ada"))
	// A call the incident does not record cannot escalate it.
	a := postTwilio(t, base, ns, "phones", q, callEvent(callSID(9), "in-progress", "2"), twilioAuthToken)
	wantTwiML(t, "an unrecorded call", a, "not recorded", "Nothing was changed")

	// 2 makes the next level due now; the operator pages it.
	a = postTwilio(t, base, ns, "phones", q, callEvent(first, "in-progress", "2"), twilioAuthToken)
	wantTwiML(t, "key 2", a, "<Say>The next level is paged now.</Say><Hangup>")
	var escalated *klaxonv1alpha1.Incident
	eventually(t, "level 1 to be paged", func(ctx context.Context) (bool, error) {
		got := &klaxonv1alpha1.Incident{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
			return false, err
		}
		escalated = got
		return got.Status.Escalation != nil && got.Status.Escalation.Level == 1 && len(got.Status.Assignments) == 2, nil
	})
	if who := escalated.Status.Assignments[1].Name; who != "bob" {
		t.Errorf("level 1 paged %s, want bob", who)
	}
	if escalated.Status.Phase != klaxonv1alpha1.StateTriggered {
		t.Errorf("escalating changed the phase to %s", escalated.Status.Phase)
	}
	waitForCache(t, ns, inc.Name, "the cache to show level 1", func(c *klaxonv1alpha1.Incident) bool {
		return c.Status.Escalation != nil && c.Status.Escalation.Level == 1
	})

	// 2 on another call of level 0 now skips nothing.
	next := escalated.Status.Escalation.NextEscalationAt
	a = postTwilio(t, base, ns, "phones", q, callEvent(later, "in-progress", "2"), twilioAuthToken)
	wantTwiML(t, "key 2 on a stale level", a, "The next level was paged already. Nothing was changed.")
	got := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Escalation.Level != 1 || !got.Status.Escalation.NextEscalationAt.Equal(next) {
		t.Errorf("a stale key 2 changed the escalation: %+v, nextEscalationAt was %v", got.Status.Escalation, next)
	}
}

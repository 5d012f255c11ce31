package receiver_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
)

func TestTwilioReplayedTextChangesNothing(t *testing.T) {
	var writes atomic.Int32
	ns, base, first := phoneCase(t, countWrites(mgr.GetClient(), &writes))
	recordPages(t, first, sentPage(first, "ada", adaPhone, "SM1", 0, time.Now()))
	ack := incomingSMS(adaPhone, "ACK", 1)
	wantTwiML(t, "ACK", postTwilio(t, base, ns, "phones", "sms", ack, twilioAuthToken), "as ada.")
	waitForEpisode(t, first, klaxonv1alpha1.StateAcknowledged, 1)

	// A later page to the same number: the captured ACK, sent again,
	// would acknowledge it.
	second := triggeredIncident(t, ns, "db-slow", "Database slow")
	second = recordPages(t, second, sentPage(second, "ada", adaPhone, "SM2", 0, time.Now()))
	before := writes.Load()
	a := postTwilio(t, base, ns, "phones", "sms", ack, twilioAuthToken)
	if a.code != http.StatusForbidden || !strings.Contains(a.body, "already answered") {
		t.Errorf("a replayed text answered %d: %s", a.code, a.body)
	}
	if n := writes.Load(); n != before {
		t.Errorf("a replayed text made %d writes", n-before)
	}
	if got := waitForEpisode(t, second, klaxonv1alpha1.StateTriggered, 1); got.Spec.State != klaxonv1alpha1.StateTriggered {
		t.Errorf("a replayed text moved the later incident to %s", got.Spec.State)
	}
	// A new message with the same words is Twilio's, and acknowledges.
	wantTwiML(t, "a new ACK", postTwilio(t, base, ns, "phones", "sms", incomingSMS(adaPhone, "ACK", 2), twilioAuthToken), "Database slow")
	waitForEpisode(t, second, klaxonv1alpha1.StateAcknowledged, 1)
}

// failingOnce fails the first Get of an Incident and the first Patch with
// the API server's 503, as an overloaded API server answers.
func failingOnce(gets, patches *atomic.Int32) client.Client {
	unavailable := apierrors.NewServiceUnavailable("overloaded")
	return interceptor.NewClient(withWatch{mgr.GetClient()}, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*klaxonv1alpha1.Incident); ok && gets.Add(1) == 1 {
				return unavailable
			}
			return c.Get(ctx, key, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if patches.Add(1) == 1 {
				return unavailable
			}
			return c.Patch(ctx, obj, p, opts...)
		},
	})
}

var redirectPattern = regexp.MustCompile(`<Pause length="2"></Pause><Redirect method="POST">([^<]+)</Redirect>`)

// comeBack is the path and query a Pause and Redirect answer sends the
// call to.
func comeBack(t *testing.T, what string, a twilioAnswer) string {
	t.Helper()
	wantTwiML(t, what, a)
	m := redirectPattern.FindStringSubmatch(a.body)
	if m == nil {
		t.Fatalf("%s: not a pause and redirect: %s", what, a.body)
	}
	target := strings.ReplaceAll(m[1], "&amp;", "&")
	if !strings.HasPrefix(target, twilioPublicURL+"/twilio/") {
		t.Fatalf("%s: redirected to %s", what, target)
	}
	return strings.TrimPrefix(target, twilioPublicURL)
}

func TestTwilioCallComesBackAfterATransientFailure(t *testing.T) {
	var gets, patches atomic.Int32
	ns, base, inc := phoneCase(t, failingOnce(&gets, &patches))
	sid := callSID(1)
	inc = recordPages(t, inc, sentPage(inc, "ada", adaPhone, sid, 0, time.Now()))
	token := url.QueryEscape(callToken(inc, "ada"))
	post := func(uri string, form url.Values) twilioAnswer {
		t.Helper()
		path := strings.TrimPrefix(uri, "/twilio/"+ns+"/phones/")
		return postTwilio(t, base, ns, "phones", path, form, twilioAuthToken)
	}

	// The API server fails the call's first read: the call waits and
	// comes back, at a new step, instead of ending.
	again := comeBack(t, "the call's TwiML", post("/twilio/"+ns+"/phones/voice?t="+token, callEvent(sid, "in-progress", "")))
	if !strings.Contains(again, "/phones/voice?") || !strings.Contains(again, "s=1") {
		t.Errorf("the call comes back to %s", again)
	}
	wantTwiML(t, "the call, back", post(again, callEvent(sid, "in-progress", "")), "Press 1 to acknowledge")

	// The first press of 1 meets a failing API server: the key comes
	// back with the call, at a URL of its own, and acknowledges.
	press := "/twilio/" + ns + "/phones/voice/gather?t=" + token + "&s=1"
	again = comeBack(t, "key 1", post(press, callEvent(sid, "in-progress", "1")))
	if !strings.Contains(again, "d=1") || !strings.Contains(again, "s=2") {
		t.Errorf("key 1 comes back to %s", again)
	}
	if got := waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 1); got.Status.AcknowledgedBy != "" {
		t.Fatalf("a failed press acknowledged: %s", got.Status.AcknowledgedBy)
	}
	// Twilio's redirect carries no Digits: the key is in the URL.
	wantTwiML(t, "key 1, back", post(again, callEvent(sid, "in-progress", "")), "Acknowledged. The incident is yours.")
	if got := waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1); got.Status.AcknowledgedBy != "ada" {
		t.Errorf("acknowledgedBy %q, want ada", got.Status.AcknowledgedBy)
	}
	if a := post(again, callEvent(sid, "in-progress", "")); a.code != http.StatusForbidden {
		t.Errorf("the redirect replayed answered %d: %s", a.code, a.body)
	}
}

func TestTwilioEarlierEpisodeChangesNothing(t *testing.T) {
	var writes atomic.Int32
	ns, base, inc := phoneCase(t, countWrites(mgr.GetClient(), &writes))
	sid := callSID(1)
	inc = recordPages(t, inc, sentPage(inc, "ada", adaPhone, sid, 0, time.Now()))
	oldCode, oldToken := codeOf(inc, "ada"), url.QueryEscape(callToken(inc, "ada"))
	setState(t, inc, klaxonv1alpha1.StateResolved)
	waitForEpisode(t, inc, klaxonv1alpha1.StateResolved, 1)
	setState(t, inc, klaxonv1alpha1.StateTriggered)
	reopened := waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 2)
	// The reopened incident pages ada again, by another call.
	reopened = recordPages(t, reopened, sentPage(reopened, "ada", adaPhone, callSID(2), 0, time.Now()))

	wantTwiML(t, "the code of episode 1", postTwilio(t, base, ns, "phones", "sms", incomingSMS(adaPhone, oldCode, 1), twilioAuthToken),
		"Reply with the code in the page")
	wantTwiML(t, "key 1 on a call of episode 1", postTwilio(t, base, ns, "phones", "voice/gather?t="+oldToken, callEvent(sid, "in-progress", "1"), twilioAuthToken),
		"This page can no longer be answered", "<Hangup>")
	wantTwiML(t, "the status of a call of episode 1", postTwilio(t, base, ns, "phones", "voice/status?t="+oldToken, callEvent(callSID(2), twilio.CallNoAnswer, ""), twilioAuthToken),
		"<Response></Response>")
	if n := writes.Load(); n != 0 {
		t.Errorf("answers of episode 1 made %d writes", n)
	}
	if n := notification(t, reopened, callSID(2)); n.State != klaxonv1alpha1.NotificationSent {
		t.Errorf("a status of episode 1 turned the page of episode 2 %s", n.State)
	}
}

func TestTwilioTextToAnotherNumberOrChannel(t *testing.T) {
	ns := newNamespace(t)
	twilioFixture(t, ns)
	// A second channel of the namespace, on the same account.
	if err := k8s.Create(context.Background(), twilioChannel(ns, "phones-eu", "twilio", "+15005550007")); err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int32
	base := phoneReceiver(t, countWrites(mgr.GetClient(), &writes))
	inc := triggeredIncident(t, ns, "checkout-down", "Checkout down")
	page := sentPage(inc, "ada", adaPhone, "SM1", 0, time.Now())
	page.Channel = "phones-eu"
	inc = recordPages(t, inc, page)

	// The reply reaches the first channel: its pages are not this one.
	wantTwiML(t, "a reply to another channel's page", postTwilio(t, base, ns, "phones", "sms", incomingSMS(adaPhone, codeOf(inc, "ada"), 1), twilioAuthToken),
		"Reply with the code in the page")
	// A text to another number, signed with the same account's token.
	toOther := incomingSMS(adaPhone, "ACK", 2)
	toOther.Set("To", "+15005550008")
	wantTwiML(t, "a text to another number", postTwilio(t, base, ns, "phones-eu", "sms", toOther, twilioAuthToken), "Reply with the code in the page")
	// A text of another account.
	otherAccount := incomingSMS(adaPhone, "ACK", 3)
	otherAccount.Set("To", "+15005550007")
	otherAccount.Set("AccountSid", "AC00000000000000000000000000000002")
	// The help line went to ada through each channel already: this text
	// gets an empty answer.
	wantTwiML(t, "a text of another account", postTwilio(t, base, ns, "phones-eu", "sms", otherAccount, twilioAuthToken), "<Response></Response>")
	if n := writes.Load(); n != 0 {
		t.Errorf("texts not to the page's channel made %d writes", n)
	}
	// The same text to the page's channel's number acknowledges.
	toPage := incomingSMS(adaPhone, "ACK", 4)
	toPage.Set("To", "+15005550007")
	wantTwiML(t, "a text to the page's channel", postTwilio(t, base, ns, "phones-eu", "sms", toPage, twilioAuthToken), "as ada.")
	waitForEpisode(t, inc, klaxonv1alpha1.StateAcknowledged, 1)
}

func TestTwilioUnusableAuthTokenIsRefused(t *testing.T) {
	ns := newNamespace(t)
	twilioFixture(t, ns)
	ctx := context.Background()
	unmarked := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "unmarked", Namespace: ns},
		StringData: map[string]string{"auth-token": twilioAuthToken}}
	if err := k8s.Create(ctx, unmarked); err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"missing": "nope", "unmarked": "unmarked"} {
		if err := k8s.Create(ctx, twilioChannel(ns, name, secret, twilioFrom)); err != nil {
			t.Fatal(err)
		}
	}
	waitForChannel(t, ns, "missing")
	waitForChannel(t, ns, "unmarked")
	base := phoneReceiver(t, nil)
	for _, name := range []string{"missing", "unmarked"} {
		a := postTwilio(t, base, ns, name, "sms", incomingSMS(adaPhone, "ACK", 1), twilioAuthToken)
		if a.code != http.StatusForbidden || !strings.Contains(a.body, "signature does not verify") {
			t.Errorf("a channel whose auth token is %s answered %d: %s", name, a.code, a.body)
		}
	}
}

func waitForChannel(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, "the cache to see channel "+name, func(ctx context.Context) (bool, error) {
		err := mgr.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &klaxonv1alpha1.NotificationChannel{})
		return err == nil, client.IgnoreNotFound(err)
	})
}

func TestTwilioCallEscalatesOnlyItsRound(t *testing.T) {
	ns := newNamespace(t)
	twilioFixture(t, ns)
	base := phoneReceiver(t, nil)
	ctx := context.Background()
	pol := &klaxonv1alpha1.EscalationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "payments", Namespace: ns},
		Spec: klaxonv1alpha1.EscalationPolicySpec{Repeat: 1, Levels: []klaxonv1alpha1.EscalationLevel{
			{Targets: []klaxonv1alpha1.EscalationTarget{{User: "ada"}}},
			{After: &metav1.Duration{Duration: 30 * time.Minute}, Targets: []klaxonv1alpha1.EscalationTarget{{User: "bob"}}},
		}},
	}
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{Name: "checkout-down", Namespace: ns},
		Spec: klaxonv1alpha1.IncidentSpec{Title: "Checkout down", Severity: klaxonv1alpha1.SeverityCritical,
			EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "payments"}},
	}
	for _, o := range []client.Object{pol, inc} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	inc = waitForEpisode(t, inc, klaxonv1alpha1.StateTriggered, 1)
	at := func(level, round int32) func(*klaxonv1alpha1.Incident) bool {
		return func(c *klaxonv1alpha1.Incident) bool {
			e := c.Status.Escalation
			return e != nil && e.Level == level && e.Round == round && e.NextEscalationAt != nil
		}
	}
	waitForCache(t, ns, inc.Name, "level 0 of round 0", at(0, 0))
	adaFirst, adaLater, bobCall := callSID(1), callSID(2), callSID(3)
	inc = recordPages(t, inc, sentPage(inc, "ada", adaPhone, adaFirst, 0, time.Now()), sentPage(inc, "ada", adaPhone, adaLater, 0, time.Now()))
	adaKeys := "voice/gather?t=" + url.QueryEscape(callToken(inc, "ada"))
	wantTwiML(t, "key 2 at level 0", postTwilio(t, base, ns, "phones", adaKeys, callEvent(adaFirst, "in-progress", "2"), twilioAuthToken), "The next level is paged now.")
	waitForCache(t, ns, inc.Name, "level 1 of round 0", at(1, 0))
	bobPage := sentPage(inc, "bob", "+15005550002", bobCall, 1, time.Now())
	inc = recordPages(t, inc, bobPage)
	wantTwiML(t, "key 2 at level 1", postTwilio(t, base, ns, "phones", "voice/gather?t="+url.QueryEscape(callToken(inc, "bob")), callEvent(bobCall, "in-progress", "2"), twilioAuthToken),
		"The next level is paged now.")
	waitForCache(t, ns, inc.Name, "level 0 of round 1", at(0, 1))

	// Ada's other call of round 0 stands at level 0 too, but a round ago.
	got := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
		t.Fatal(err)
	}
	next := got.Status.Escalation.NextEscalationAt
	wantTwiML(t, "key 2 of an earlier round", postTwilio(t, base, ns, "phones", adaKeys, callEvent(adaLater, "in-progress", "2"), twilioAuthToken),
		"The next level was paged already. Nothing was changed.")
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
		t.Fatal(err)
	}
	if e := got.Status.Escalation; e.Level != 0 || e.Round != 1 || !e.NextEscalationAt.Equal(next) {
		t.Errorf("a key 2 of an earlier round changed the escalation: %+v, nextEscalationAt was %v", e, next)
	}
}

func TestTwilioCallStatusWaitsForTheCallsRecord(t *testing.T) {
	ns, base, inc := phoneCase(t, nil)
	sid := callSID(1)
	// The sender asked Twilio for the call and has not recorded it yet.
	pending := sentPage(inc, "ada", adaPhone, "", 0, time.Now())
	pending.State, pending.SentAt = klaxonv1alpha1.NotificationPending, nil
	// Due later, so that the operator leaves it to this test.
	pending.DueAt = metav1.NewTime(time.Now().Add(time.Hour))
	inc = recordPages(t, inc, pending)
	recorded := make(chan error, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		got := &klaxonv1alpha1.Incident{}
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got)
		if err == nil {
			sent := metav1.Now()
			got.Status.Notifications[0].State, got.Status.Notifications[0].SentAt = klaxonv1alpha1.NotificationSent, &sent
			got.Status.Notifications[0].MessageRef, got.Status.Notifications[0].Error = sid, ""
			err = k8s.Status().Update(context.Background(), got)
		}
		recorded <- err
	}()
	// A call that failed at once reports before the sender's record.
	q := "voice/status?t=" + url.QueryEscape(callToken(inc, "ada"))
	wantTwiML(t, "failed", postTwilio(t, base, ns, "phones", q, callEvent(sid, twilio.CallFailed, ""), twilioAuthToken), "<Response></Response>")
	if err := <-recorded; err != nil {
		t.Fatal(err)
	}
	if n := notification(t, inc, sid); n.State != klaxonv1alpha1.NotificationFailed || n.Error != "the call ended failed: it could not be connected" {
		t.Errorf("the call's page is %s with error %q", n.State, n.Error)
	}
}

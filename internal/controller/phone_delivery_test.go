package controller_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
	"github.com/klaxon-dev/klaxon/internal/test/twiliotest"
)

// editStatus applies edit to the incident's stored status, as another
// writer (the receiver) would: with optimistic locking, again on conflict.
func editStatus(t *testing.T, inc *klaxonv1alpha1.Incident, edit func(*klaxonv1alpha1.IncidentStatus)) {
	t.Helper()
	eventually(t, "writing the status of "+inc.Name, func(ctx context.Context) (bool, error) {
		cur := &klaxonv1alpha1.Incident{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), cur); err != nil {
			return false, err
		}
		base := cur.DeepCopy()
		edit(&cur.Status)
		err := k8s.Status().Patch(ctx, cur, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	})
}

// sentBefore is a text through channel to responder, recorded sent ago.
func sentBefore(channel, responder string, round int32, ago time.Duration) klaxonv1alpha1.Notification {
	at := metav1.NewTime(fakeClock.Now().Add(-ago).Truncate(time.Second))
	return klaxonv1alpha1.Notification{Responder: responder, Contact: "text", Channel: channel, Address: "+15005550001",
		Episode: 1, Round: round, State: klaxonv1alpha1.NotificationSent, DueAt: at, SentAt: &at, Attempts: 1,
		MessageRef: "SM0123456789abcdef0123456789abcdef"}
}

// history creates an incident that pages nobody and records on it the
// texts already sent through the namespace's phone channel.
func history(t *testing.T, ns string, sent ...klaxonv1alpha1.Notification) {
	t.Helper()
	earlier := createIncident(t, k8s, ns, "earlier")
	waitForPhase(t, earlier, T, 1)
	editStatus(t, earlier, func(st *klaxonv1alpha1.IncidentStatus) { st.Notifications = append(st.Notifications, sent...) })
}

// limited waits for the page of inc to be refused by a cap, with the
// limit's words in status, the timeline and a NotificationLimited Warning,
// and for the mail rule five minutes later to go all the same.
func limited(t *testing.T, inc *klaxonv1alpha1.Incident, mail *hook, api *twiliotest.Server, says string) {
	t.Helper()
	got := waitForNotifications(t, inc, "alice/text:Failed/1,alice/mail:Pending/0")
	if n := got.Status.Notifications[0]; n.Error != says || n.SentAt != nil || n.MessageRef != "" {
		t.Errorf("the refused text: %+v, want the error %q", n, says)
	}
	if c := condition(got, klaxonv1alpha1.ConditionNotificationFailed); c != "True/DeliveryFailed" {
		t.Errorf("NotificationFailed = %s", c)
	}
	if !timelineHas(got, klaxonv1alpha1.TimelineNotificationFailed, "Did not notify alice (text) via phone: not sent, "+says) {
		t.Errorf("no timeline entry says the page was not sent: %q: %+v", says, got.Status.Timeline)
	}
	eventually(t, "a NotificationLimited Warning", func(context.Context) (bool, error) {
		return warnings(t, inc, klaxonv1alpha1.EventNotificationLimited) == 1, nil
	})
	if n := twilioSends(api); n != 0 {
		t.Errorf("%d texts or calls sent over the cap", n)
	}
	fakeClock.Step(5 * time.Minute)
	nudge(t, got)
	waitForNotifications(t, inc, "alice/text:Failed/1,alice/mail:Sent/1")
	if reqs := mail.requests(); len(reqs) != 1 || field(reqs[0].payload, "incident.name") != inc.Name {
		t.Errorf("mail requests: %+v", reqs)
	}
}

// capFixture is a namespace with a twilio channel "phone" with limits, a
// webhook channel "mail", and alice, who is texted at once and mailed
// five minutes later.
func capFixture(t *testing.T, limits *klaxonv1alpha1.PhoneLimits) (string, *twiliotest.Server, *hook) {
	t.Helper()
	ns := newNamespace(t)
	api := newTwilioAPI(t)
	mail := newHook(t, nil)
	phone := twilioChannel(t, ns, "phone", api, limits)
	hookChannel(t, ns, "mail", mail.URL)
	channelReady(t, phone, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "")
	phoneResponder(t, ns, "alice", map[string]time.Duration{"mail": 5 * time.Minute},
		klaxonv1alpha1.Contact{Name: "text", Channel: "phone", Address: "+15005550001", Kind: klaxonv1alpha1.ContactKindSMS},
		klaxonv1alpha1.Contact{Name: "mail", Channel: "mail", Address: "alice@example.com"})
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	return ns, api, mail
}

// The hourly caps count what status.notifications records as sent in the
// last hour: a text over a cap is not sent and fails for good, saying
// which cap, with a NotificationLimited Warning; the person's next rule
// still goes at its time.
func TestPhoneCaps(t *testing.T) {
	publicOperator(t)

	t.Run("per responder", func(t *testing.T) {
		ns, api, mail := capFixture(t, &klaxonv1alpha1.PhoneLimits{PerResponderPerHour: ptr.To[int32](2)})
		// Two texts to alice this hour, one to bob, one to her before it.
		history(t, ns, sentBefore("phone", "alice", 0, 50*time.Minute), sentBefore("phone", "alice", 1, 10*time.Minute),
			sentBefore("phone", "bob", 0, 10*time.Minute), sentBefore("phone", "alice", 2, 61*time.Minute))
		inc := createIncident(t, k8s, ns, "third", withPolicy("direct"))
		limited(t, inc, mail, api, "over the channel's limit of 2 texts and calls an hour to alice")
	})

	t.Run("per channel", func(t *testing.T) {
		ns, api, mail := capFixture(t, &klaxonv1alpha1.PhoneLimits{PerHour: ptr.To[int32](2)})
		// One text each to bob and carol this hour; none to alice.
		history(t, ns, sentBefore("phone", "bob", 0, 30*time.Minute), sentBefore("phone", "carol", 0, 20*time.Minute),
			sentBefore("other", "alice", 0, 5*time.Minute))
		inc := createIncident(t, k8s, ns, "third", withPolicy("direct"))
		limited(t, inc, mail, api, "over the channel's limit of 2 texts and calls an hour")
	})

	t.Run("under the channel's cap", func(t *testing.T) {
		ns, api, _ := capFixture(t, &klaxonv1alpha1.PhoneLimits{PerHour: ptr.To[int32](3)})
		// Two texts this hour, one before it and one of another channel:
		// the third of the hour goes out.
		history(t, ns, sentBefore("phone", "bob", 0, 30*time.Minute), sentBefore("phone", "carol", 0, 20*time.Minute),
			sentBefore("phone", "bob", 1, 61*time.Minute), sentBefore("other", "alice", 0, 5*time.Minute))
		inc := createIncident(t, k8s, ns, "third", withPolicy("direct"))
		waitForNotifications(t, inc, "alice/text:Sent/1,alice/mail:Pending/0")
		if n := twilioSends(api); n != 1 {
			t.Errorf("%d texts or calls sent, want 1", n)
		}
		if n := warnings(t, inc, klaxonv1alpha1.EventNotificationLimited); n != 0 {
			t.Errorf("%d NotificationLimited Warnings", n)
		}
	})
}

// A delivery the receiver turns from Sent to Failed (a call nobody
// answered) is reported by NotificationFailed and never sent again, and the
// person's next rule goes at its time.
func TestDeliveryFailedAfterSendingIsNotResent(t *testing.T) {
	ns := newNamespace(t)
	call, later := newHook(t, nil), newHook(t, nil)
	hookChannel(t, ns, "call", call.URL)
	hookChannel(t, ns, "later", later.URL)
	responder(t, ns, "alice", map[string]time.Duration{"later": 5 * time.Minute}, "call", "later")
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "unanswered", withPolicy("direct"))
	got := waitForNotifications(t, inc, "alice/call:Sent/1,alice/later:Pending/0")
	sentAt := got.Status.Notifications[0].SentAt

	const why = "the call ended no-answer: nobody acknowledged"
	editStatus(t, inc, func(st *klaxonv1alpha1.IncidentStatus) {
		n := &st.Notifications[0]
		n.State, n.Error, n.MessageRef = klaxonv1alpha1.NotificationFailed, why, "CA0123456789abcdef0123456789abcdef"
	})
	eventually(t, "NotificationFailed to report the unanswered call", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got)
		return condition(got, klaxonv1alpha1.ConditionNotificationFailed) == "True/DeliveryFailed", err
	})
	if c := conditionMessage(got, klaxonv1alpha1.ConditionNotificationFailed); !strings.Contains(c, "alice (call) via call: "+why) {
		t.Errorf("NotificationFailed says %q", c)
	}
	for range 3 {
		nudge(t, got)
	}
	time.Sleep(time.Second)
	if n := len(call.requests()); n != 1 {
		t.Errorf("the failed call was sent %d times, want once", n)
	}

	fakeClock.Step(5 * time.Minute)
	nudge(t, got)
	got = waitForNotifications(t, inc, "alice/call:Failed/1,alice/later:Sent/1")
	if n := got.Status.Notifications[0]; n.Error != why || n.SentAt == nil || !n.SentAt.Equal(sentAt) {
		t.Errorf("the failed call's entry changed: %+v", n)
	}
	if n := len(call.requests()); n != 1 {
		t.Errorf("the failed call was sent %d times, want once", n)
	}
}

// A page to a voice contact is a call whose script URL carries the page's
// token, and to an sms contact a text carrying its reply code; each records
// Twilio's SID. A cap of 2 an hour refuses the third and fourth.
func TestTwilioPagesCarryTokenAndCode(t *testing.T) {
	api := newTwilioAPI(t)
	publicURL := publicOperator(t)
	ns := newNamespace(t)
	phone := twilioChannel(t, ns, "phone", api, &klaxonv1alpha1.PhoneLimits{PerResponderPerHour: ptr.To[int32](2)})
	channelReady(t, phone, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "")
	phoneResponder(t, ns, "alice", nil,
		klaxonv1alpha1.Contact{Name: "call", Channel: "phone", Address: "+15005550001", Kind: klaxonv1alpha1.ContactKindVoice},
		klaxonv1alpha1.Contact{Name: "text", Channel: "phone", Address: "+15005550002", Kind: klaxonv1alpha1.ContactKindSMS})
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "first", withPolicy("direct"))
	got := waitForNotifications(t, inc, "alice/call:Sent/1,alice/text:Sent/1")

	calls, texts := api.Calls(), api.Messages()
	if len(calls) != 1 || len(texts) != 1 {
		t.Fatalf("%d calls and %d texts, want one each", len(calls), len(texts))
	}
	call, text := calls[0], texts[0]
	want := acklink.Claims{Namespace: ns, Name: "first", UID: string(got.UID), Episode: 1, Responder: "alice"}
	signer := ackSigner(t)

	if call.To != "+15005550001" || call.From != twilioNumber {
		t.Errorf("the call: %+v", call)
	}
	script, err := url.Parse(call.URL)
	if err != nil || !strings.HasPrefix(call.URL, twilio.CallbackURL(publicURL, ns, "phone", twilio.PathVoice, "")+"?") {
		t.Fatalf("the call's Url %q", call.URL)
	}
	token := script.Query().Get(twilio.TokenParam)
	c, err := signer.Verify(token, fakeClock.Now())
	c.Expires = time.Time{}
	if err != nil || c != want {
		t.Errorf("the call's token holds %+v, %v; want %+v", c, err, want)
	}
	if cb := call.StatusCallback; cb != twilio.CallbackURL(publicURL, ns, "phone", twilio.PathStatus, token) {
		t.Errorf("the call's StatusCallback %q", cb)
	}
	if text.To != "+15005550002" || !strings.Contains(text.Body, signer.Code(want)) {
		t.Errorf("the text %+v does not carry the code %s", text, signer.Code(want))
	}
	refs := map[string]string{}
	for _, n := range got.Status.Notifications {
		refs[n.Contact] = n.MessageRef
	}
	if refs["call"] != call.SID || refs["text"] != text.SID {
		t.Errorf("message refs %v, want the call's %s and the text's %s", refs, call.SID, text.SID)
	}

	// The cap counts the two sent, whether or not the cache shows them yet.
	second := createIncident(t, k8s, ns, "second", withPolicy("direct"))
	got = waitForNotifications(t, second, "alice/call:Failed/1,alice/text:Failed/1")
	for _, n := range got.Status.Notifications {
		if n.Error != "over the channel's limit of 2 texts and calls an hour to alice" {
			t.Errorf("%s: %q", n.Contact, n.Error)
		}
	}
	eventually(t, "two NotificationLimited Warnings", func(context.Context) (bool, error) {
		return warnings(t, second, klaxonv1alpha1.EventNotificationLimited) == 2, nil
	})
	if n := twilioSends(api); n != 2 {
		t.Errorf("%d texts and calls, want 2", n)
	}
}

// A twilio contact without a kind is texted, never called.
func TestTwilioContactWithoutKindIsTexted(t *testing.T) {
	publicOperator(t)
	ns := newNamespace(t)
	api := newTwilioAPI(t)
	phone := twilioChannel(t, ns, "phone", api, nil)
	channelReady(t, phone, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "")
	phoneResponder(t, ns, "alice", nil, klaxonv1alpha1.Contact{Name: "text", Channel: "phone", Address: "+15005550001"})
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "unkind", withPolicy("direct"))
	waitForNotifications(t, inc, "alice/text:Sent/1")
	if texts, calls := len(api.Messages()), len(api.Calls()); texts != 1 || calls != 0 {
		t.Errorf("%d texts and %d calls, want 1 text", texts, calls)
	}
}

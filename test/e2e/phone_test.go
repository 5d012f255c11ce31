package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
	"github.com/klaxon-dev/klaxon/internal/test/ntfytest"
	"github.com/klaxon-dev/klaxon/internal/test/twiliotest"
)

const reachingGuide = "docs/reaching-people.md"

// replyCode is the code a text asks to reply with.
var replyCode = regexp.MustCompile(`Reply (\d{6})`)

// alicePhone is the number the guide's Responder gives alice.
const alicePhone = "+4915112345678"

// phoneTeam is a namespace holding the guide's channels and Responder,
// pointed at stand-ins of Twilio and ntfy.
type phoneTeam struct {
	ns     string
	twilio *twiliotest.Server
	ntfy   *ntfytest.Server
}

// newPhoneTeam applies the guide's phone-channels example to a new
// namespace, with Twilio's and ntfy's URLs and credentials those of local
// stand-ins.
func newPhoneTeam(t *testing.T) *phoneTeam {
	t.Helper()
	ctx := context.Background()
	ns, err := cluster.NewNamespace(ctx, "e2e-phone-")
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	tw := twiliotest.Start(t, twiliotest.Options{
		Number:     "+15005550006",
		SMSWebhook: twilio.CallbackURL(receiverURL, ns, "phone", twilio.PathSMS, ""),
	})
	nt := ntfytest.Start(t, ntfytest.Options{Token: "tk_0123456789abcdefghijklmnopqrs"})
	text := strings.NewReplacer(
		"https://api.twilio.com", tw.URL,
		"https://ntfy.sh", nt.URL,
		"AC0123456789abcdef0123456789abcdef", tw.AccountSID,
		"auth-token: 0123456789abcdef0123456789abcdef", "auth-token: "+tw.AuthToken,
	).Replace(docsnippet.Block(t, reachingGuide, "phone-channels"))
	for _, doc := range strings.Split(text, "\n---\n") {
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatal(err)
		}
		var obj client.Object
		switch meta.Kind {
		case "Secret":
			obj = &corev1.Secret{}
		case "NotificationChannel":
			obj = &klaxonv1alpha1.NotificationChannel{}
		case "Responder":
			obj = &klaxonv1alpha1.Responder{}
		default:
			t.Fatalf("the guide's phone-channels example holds a %q", meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("the guide's phone-channels example: %v\n%s", err, doc)
		}
		obj.SetNamespace(ns)
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("applying the guide's %s %s: %v", meta.Kind, obj.GetName(), err)
		}
	}
	for _, name := range []string{"phone", "push"} {
		eventually(t, "channel "+name+" to be Ready", 30*time.Second, func(ctx context.Context) (bool, error) {
			ch := &klaxonv1alpha1.NotificationChannel{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ch); err != nil {
				return false, err
			}
			return ready(ch.Status.Conditions), nil
		})
	}
	return &phoneTeam{ns: ns, twilio: tw, ntfy: nt}
}

func ready(conds []metav1.Condition) bool {
	for _, c := range conds {
		if c.Type == "Ready" {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// page opens an incident of severity that pages person at once.
func (pt *phoneTeam) page(t *testing.T, name, person string, severity klaxonv1alpha1.Severity) {
	t.Helper()
	ctx := context.Background()
	pol := &klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "page-" + person, Namespace: pt.ns},
		Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
			{Targets: []klaxonv1alpha1.EscalationTarget{{User: person}}}}}}
	if err := k8s.Create(ctx, pol); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	inc := &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: pt.ns},
		Spec: klaxonv1alpha1.IncidentSpec{Title: "Checkout " + name, Severity: severity, Service: "checkout",
			EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: pol.Name}}}
	if err := k8s.Create(ctx, inc); err != nil {
		t.Fatal(err)
	}
}

func (pt *phoneTeam) incident(t *testing.T, name string) *klaxonv1alpha1.Incident {
	t.Helper()
	inc := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: pt.ns, Name: name}, inc); err != nil {
		t.Fatal(err)
	}
	return inc
}

// textTo waits for a text to number whose body names the incident.
func (pt *phoneTeam) textTo(t *testing.T, number, incident string) twiliotest.Message {
	t.Helper()
	var got twiliotest.Message
	eventually(t, "a text to "+number+" about "+incident, 30*time.Second, func(context.Context) (bool, error) {
		for _, m := range pt.twilio.Messages() {
			if m.To == number && strings.Contains(m.Body, pt.ns+"/"+incident) {
				got = m
				return true, nil
			}
		}
		return false, nil
	})
	return got
}

// callTo waits for a call to number about the incident (its Url carries
// the page's token, which names it).
func (pt *phoneTeam) callTo(t *testing.T, number string, after time.Time) twiliotest.Call {
	t.Helper()
	var got twiliotest.Call
	eventually(t, "a call to "+number, 30*time.Second, func(context.Context) (bool, error) {
		for _, c := range pt.twilio.Calls() {
			if c.To == number && !c.Time.Before(after) {
				got = c
				return true, nil
			}
		}
		return false, nil
	})
	return got
}

func (pt *phoneTeam) waitPhase(t *testing.T, name string, phase klaxonv1alpha1.IncidentState) *klaxonv1alpha1.Incident {
	t.Helper()
	var inc *klaxonv1alpha1.Incident
	eventually(t, name+" to be "+string(phase), 30*time.Second, func(ctx context.Context) (bool, error) {
		inc = &klaxonv1alpha1.Incident{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: pt.ns, Name: name}, inc); err != nil {
			return false, err
		}
		return inc.Status.Phase == phase, nil
	})
	return inc
}

// notification returns the incident's entry for the responder's contact.
func notification(inc *klaxonv1alpha1.Incident, responder, contact string) *klaxonv1alpha1.Notification {
	for i := range inc.Status.Notifications {
		if n := &inc.Status.Notifications[i]; n.Responder == responder && n.Contact == contact {
			return n
		}
	}
	return nil
}

// TestPhonePageAcknowledgedByReply pages alice as the reaching-people guide
// sets her up: a push with an Acknowledge button and a text with a code
// arrive at once; a reply from another number and a forged reply change
// nothing; her reply with the code acknowledges as her.
func TestPhonePageAcknowledgedByReply(t *testing.T) {
	pt := newPhoneTeam(t)
	pt.page(t, "db-down", "alice", klaxonv1alpha1.SeverityCritical)
	sms := pt.textTo(t, alicePhone, "db-down")
	m := replyCode.FindStringSubmatch(sms.Body)
	if m == nil || twilio.Segments(sms.Body) > 2 || !strings.Contains(sms.Body, "/ack/") {
		t.Fatalf("the text (%d segments) has no reply code or acknowledge link:\n%s", twilio.Segments(sms.Body), sms.Body)
	}
	code := m[1]

	var push ntfytest.Message
	eventually(t, "a push to alice's topic", 30*time.Second, func(context.Context) (bool, error) {
		for _, p := range pt.ntfy.Messages() {
			if p.Topic == "alice-pages-5f2k9" {
				push = p
				return true, nil
			}
		}
		return false, nil
	})
	if push.Priority != 5 || !strings.Contains(push.Title, "Checkout db-down") || !strings.Contains(push.Click, "/ack/") ||
		len(push.Actions) != 1 || push.Actions[0].Label != "Acknowledge" || push.Actions[0].Action != "http" {
		t.Errorf("the push of a SEV1 page: %+v", push)
	}

	// A person reads the text a moment after it arrived, by when the
	// operator has recorded it.
	eventually(t, "the text to be recorded as sent", 30*time.Second, func(context.Context) (bool, error) {
		n := notification(pt.incident(t, "db-down"), "alice", "text")
		return n != nil && n.State == klaxonv1alpha1.NotificationSent, nil
	})
	before := pt.incident(t, "db-down")
	// A number no page went to: help, nothing changed.
	twiml, status := pt.twilio.Text("+4915199999999", code)
	if status != http.StatusOK || !strings.Contains(twiml, "Reply with the code") {
		t.Errorf("a reply from a stranger: %d %s", status, twiml)
	}
	// A reply signed with another token: refused.
	form := url.Values{"From": {alicePhone}, "To": {"+15005550006"}, "Body": {code},
		"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "AccountSid": {pt.twilio.AccountSID}}
	if _, forged := pt.twilio.Post(twilio.CallbackURL(receiverURL, pt.ns, "phone", twilio.PathSMS, ""), form, "not-the-token"); forged != http.StatusForbidden {
		t.Errorf("a forged reply answered %d, want 403", forged)
	}
	// The operator records its sends meanwhile; what a reply could change
	// is the phase and who acknowledged.
	if after := pt.incident(t, "db-down"); after.Status.Phase != klaxonv1alpha1.StateTriggered || after.Status.AcknowledgedBy != "" ||
		after.Spec.State != before.Spec.State {
		t.Errorf("the incident moved: phase %s, acknowledged by %q", after.Status.Phase, after.Status.AcknowledgedBy)
	}

	twiml, status = pt.twilio.Text(alicePhone, "ack "+code)
	if status != http.StatusOK || !strings.Contains(twiml, "Acknowledged") {
		t.Errorf("alice's reply: %d %s", status, twiml)
	}
	inc := pt.waitPhase(t, "db-down", klaxonv1alpha1.StateAcknowledged)
	if inc.Status.AcknowledgedBy != "alice" {
		t.Errorf("acknowledged by %q, want alice", inc.Status.AcknowledgedBy)
	}
	n := notification(inc, "alice", "text")
	if n == nil || n.State != klaxonv1alpha1.NotificationSent || n.MessageRef != sms.SID {
		t.Errorf("the text's entry: %+v, want Sent with messageRef %s", n, sms.SID)
	}
	// Her call rule (after 2m, SEV1) is cancelled by the acknowledgement.
	if n := notification(inc, "alice", "call"); n == nil || n.State != klaxonv1alpha1.NotificationCancelled {
		t.Errorf("the call's entry: %+v, want Cancelled", n)
	}
}

// TestPushAcknowledged presses the push's Acknowledge button as the ntfy
// app does: a bare POST of the acknowledge link.
func TestPushAcknowledged(t *testing.T) {
	pt := newPhoneTeam(t)
	pt.page(t, "queue-stuck", "alice", klaxonv1alpha1.SeverityHigh)
	i := -1
	eventually(t, "a push about queue-stuck", 30*time.Second, func(context.Context) (bool, error) {
		for j, p := range pt.ntfy.Messages() {
			if strings.Contains(p.Title, "queue-stuck") {
				i = j
				return true, nil
			}
		}
		return false, nil
	})
	if p := pt.ntfy.Messages()[i]; p.Priority != 4 {
		t.Errorf("a SEV2 push has priority %d, want 4", p.Priority)
	}
	status, body := pt.ntfy.Press(i, "Acknowledge")
	if status != http.StatusOK || !strings.Contains(body, "Acknowledged by alice") {
		t.Errorf("pressing Acknowledge: %d %q", status, body)
	}
	if inc := pt.waitPhase(t, "queue-stuck", klaxonv1alpha1.StateAcknowledged); inc.Status.AcknowledgedBy != "alice" {
		t.Errorf("acknowledged by %q, want alice", inc.Status.AcknowledgedBy)
	}
	if status, body = pt.ntfy.Press(i, "Acknowledge"); status != http.StatusOK || !strings.Contains(body, "lready") {
		t.Errorf("pressing it again: %d %q", status, body)
	}
}

// callResponder makes a Responder called first and texted after, on the
// guide's phone channel.
func (pt *phoneTeam) callResponder(t *testing.T, name, number string, textAfter time.Duration) {
	t.Helper()
	resp := &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: pt.ns},
		Spec: klaxonv1alpha1.ResponderSpec{
			Contacts: []klaxonv1alpha1.Contact{
				{Name: "call", Channel: "phone", Kind: klaxonv1alpha1.ContactKindVoice, Address: number},
				{Name: "text", Channel: "phone", Kind: klaxonv1alpha1.ContactKindSMS, Address: number},
			},
			Rules: []klaxonv1alpha1.NotificationRule{{Contact: "call"}, {Contact: "text", After: &metav1.Duration{Duration: textAfter}}},
		}}
	if err := k8s.Create(context.Background(), resp); err != nil {
		t.Fatal(err)
	}
}

// TestCallUnansweredThenText calls bob, who does not answer: the call's
// entry fails, and his next rule's text goes at its time.
func TestCallUnansweredThenText(t *testing.T) {
	pt := newPhoneTeam(t)
	const bobPhone = "+4915100000002"
	pt.callResponder(t, "bob", bobPhone, 8*time.Second)
	start := time.Now().Add(-time.Second)
	pt.page(t, "disk-full", "bob", klaxonv1alpha1.SeverityCritical)
	call := pt.callTo(t, bobPhone, start)
	if !strings.Contains(call.URL, "/twilio/"+pt.ns+"/phone/voice?t=") || !strings.Contains(call.StatusCallback, "/voice/status?t=") {
		t.Errorf("the call's URLs: %q, %q", call.URL, call.StatusCallback)
	}
	if _, status := pt.twilio.End(call.SID, twilio.CallNoAnswer); status != http.StatusOK {
		t.Fatalf("the status callback answered %d", status)
	}
	eventually(t, "the call's entry to be Failed", 30*time.Second, func(ctx context.Context) (bool, error) {
		n := notification(pt.incident(t, "disk-full"), "bob", "call")
		return n != nil && n.State == klaxonv1alpha1.NotificationFailed && strings.Contains(n.Error, "no-answer"), nil
	})
	sms := pt.textTo(t, bobPhone, "disk-full")
	inc := pt.incident(t, "disk-full")
	call1, text := notification(inc, "bob", "call"), notification(inc, "bob", "text")
	if text == nil || call1 == nil || text.DueAt.Sub(call1.DueAt.Time) != 8*time.Second || sms.Time.Before(text.DueAt.Time) {
		t.Errorf("the text went at %s; its entry: %+v, the call's: %+v (the text is due 8s after the page)", sms.Time, text, call1)
	}
	if inc.Status.Phase != klaxonv1alpha1.StateTriggered {
		t.Errorf("phase %s, want Triggered", inc.Status.Phase)
	}
	if c := findCondition(inc.Status.Conditions, "NotificationFailed"); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("NotificationFailed: %+v", c)
	}
}

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// TestCallAcknowledgedByKeypress calls carol: the call reads the incident,
// another key reads it again, pressing 1 acknowledges as her, and the call
// completed after that stays a sent page.
func TestCallAcknowledgedByKeypress(t *testing.T) {
	pt := newPhoneTeam(t)
	const carolPhone = "+4915100000003"
	pt.callResponder(t, "carol", carolPhone, time.Hour)
	start := time.Now()
	pt.page(t, "api-slow", "carol", klaxonv1alpha1.SeverityCritical)
	call := pt.callTo(t, carolPhone, start)
	twiml, status := pt.twilio.Answer(call.SID)
	said := strings.Join(pt.twilio.LastTwiML(call.SID).Say, " ")
	if status != http.StatusOK || !strings.Contains(said, "Checkout api-slow") || !strings.Contains(said, "Press 1") ||
		pt.twilio.LastTwiML(call.SID).Gather == nil {
		t.Fatalf("the call's TwiML (%d):\n%s", status, twiml)
	}
	// Another key reads it again.
	if _, status := pt.twilio.Press(call.SID, "7"); status != http.StatusOK || pt.twilio.LastTwiML(call.SID).Gather == nil {
		t.Errorf("pressing 7: %d, TwiML %+v", status, pt.twilio.LastTwiML(call.SID))
	}
	if _, status := pt.twilio.Press(call.SID, "1"); status != http.StatusOK {
		t.Fatalf("pressing 1 answered %d", status)
	}
	if said := strings.Join(pt.twilio.LastTwiML(call.SID).Say, " "); !strings.Contains(said, "Acknowledged") || !pt.twilio.LastTwiML(call.SID).Hangup {
		t.Errorf("after pressing 1 the call says %q", said)
	}
	inc := pt.waitPhase(t, "api-slow", klaxonv1alpha1.StateAcknowledged)
	if inc.Status.AcknowledgedBy != "carol" {
		t.Errorf("acknowledged by %q, want carol", inc.Status.AcknowledgedBy)
	}
	if _, status := pt.twilio.End(call.SID, twilio.CallCompleted); status != http.StatusOK {
		t.Errorf("the status callback answered %d", status)
	}
	time.Sleep(time.Second)
	if n := notification(pt.incident(t, "api-slow"), "carol", "call"); n == nil || n.State != klaxonv1alpha1.NotificationSent || n.MessageRef != call.SID {
		t.Errorf("the call's entry after an acknowledged, completed call: %+v", n)
	}
}

// TestPhoneLimits caps texts to one responder an hour: the page over the
// cap is not sent, its entry fails with the cap, and a Warning Event says so.
func TestPhoneLimits(t *testing.T) {
	pt := newPhoneTeam(t)
	ctx := context.Background()
	ch := &klaxonv1alpha1.NotificationChannel{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: pt.ns, Name: "phone"}, ch); err != nil {
		t.Fatal(err)
	}
	one := int32(1)
	ch.Spec.Twilio.Limits = &klaxonv1alpha1.PhoneLimits{PerResponderPerHour: &one}
	if err := k8s.Update(ctx, ch); err != nil {
		t.Fatal(err)
	}
	const davePhone = "+4915100000004"
	resp := &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "dave", Namespace: pt.ns},
		Spec: klaxonv1alpha1.ResponderSpec{
			Contacts: []klaxonv1alpha1.Contact{{Name: "text", Channel: "phone", Kind: klaxonv1alpha1.ContactKindSMS, Address: davePhone}},
			Rules:    []klaxonv1alpha1.NotificationRule{{Contact: "text"}}}}
	if err := k8s.Create(ctx, resp); err != nil {
		t.Fatal(err)
	}
	// The channel's new limit must be loaded before the pages.
	eventually(t, "the channel to observe its new limit", 30*time.Second, func(ctx context.Context) (bool, error) {
		got := &klaxonv1alpha1.NotificationChannel{}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: pt.ns, Name: "phone"}, got)
		return err == nil && got.Status.ObservedGeneration == got.Generation, err
	})
	pt.page(t, "first", "dave", klaxonv1alpha1.SeverityHigh)
	pt.textTo(t, davePhone, "first")
	pt.page(t, "second", "dave", klaxonv1alpha1.SeverityHigh)
	var n *klaxonv1alpha1.Notification
	eventually(t, "the second page's text to fail on the limit", 30*time.Second, func(ctx context.Context) (bool, error) {
		n = notification(pt.incident(t, "second"), "dave", "text")
		return n != nil && n.State == klaxonv1alpha1.NotificationFailed, nil
	})
	if !strings.Contains(n.Error, "limit") {
		t.Errorf("the entry's error %q does not name the limit", n.Error)
	}
	for _, m := range pt.twilio.Messages() {
		if strings.Contains(m.Body, pt.ns+"/second") {
			t.Errorf("the text over the limit was sent: %q", m.Body)
		}
	}
	eventually(t, "a NotificationLimited Warning Event", 30*time.Second, func(ctx context.Context) (bool, error) {
		events := &eventsv1.EventList{}
		if err := k8s.List(ctx, events, client.InNamespace(pt.ns)); err != nil {
			return false, err
		}
		for _, e := range events.Items {
			if e.Reason == "NotificationLimited" && e.Type == corev1.EventTypeWarning && e.Regarding.Name == "second" {
				return true, nil
			}
		}
		return false, nil
	})
}

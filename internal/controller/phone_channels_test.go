package controller_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// Without a public URL a twilio channel cannot work (Twilio calls back the
// receiver there), and its contacts wait for it; an ntfy channel needs
// none. A twilio contact whose address is no E.164 number is refused on
// the Responder, and a kind on another channel is noted; neither message
// holds the number.
func TestPhoneChannelsWithoutPublicURL(t *testing.T) {
	ns := newNamespace(t)
	api := newTwilioAPI(t)
	phone := twilioChannel(t, ns, "phone", api, nil)
	channelReady(t, phone, metav1.ConditionFalse, klaxonv1alpha1.ReasonInvalidChannel, "needs the operator's --public-url")

	push := createChannel(t, ns, "push", klaxonv1alpha1.NotificationChannelSpec{Ntfy: &klaxonv1alpha1.NtfyChannel{URL: "https://ntfy.example.com/"}})
	channelReady(t, push, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "Pushes to ntfy at ntfy.example.com")
	channelSecret(t, ns, "ntfy-token", false, map[string]string{"token": "tk_0123"})
	locked := createChannel(t, ns, "locked", klaxonv1alpha1.NotificationChannelSpec{Ntfy: &klaxonv1alpha1.NtfyChannel{
		URL: "https://ntfy.example.com", TokenSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: "ntfy-token", Key: "token"}}})
	channelReady(t, locked, metav1.ConditionFalse, klaxonv1alpha1.ReasonSecretNotMarked, "spec.ntfy.tokenSecretRef")

	waiting := phoneResponder(t, ns, "alice", nil,
		klaxonv1alpha1.Contact{Name: "phone", Channel: "phone", Address: "+4917655550101", Kind: klaxonv1alpha1.ContactKindVoice})
	responderReady(t, waiting, metav1.ConditionFalse, klaxonv1alpha1.ReasonChannelNotReady, "phone (contact phone: InvalidChannel)")

	// The CRD checks the number only when the contact says its kind, on
	// any channel.
	local := phoneResponder(t, ns, "bob", nil,
		klaxonv1alpha1.Contact{Name: "push", Channel: "push", Address: "bob-pager"},
		klaxonv1alpha1.Contact{Name: "text", Channel: "phone", Address: "0176 5555 0102"})
	responderReady(t, local, metav1.ConditionFalse, klaxonv1alpha1.ReasonInvalidContact,
		"contact text: its address +…02 is not a phone number in E.164 form, such as +4915112345678, which channel phone texts and calls")

	hook := createChannel(t, ns, "hook", klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{
		URL: "https://hooks.example.com/klaxon"}})
	channelReady(t, hook, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "")
	noted := phoneResponder(t, ns, "carol", nil,
		klaxonv1alpha1.Contact{Name: "hook", Channel: "hook", Address: "+4915112345679", Kind: klaxonv1alpha1.ContactKindSMS})
	responderReady(t, noted, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid,
		"1 contact, 1 rule, every channel Ready; contact hook: kind sms is ignored, channel hook is not a twilio channel")

	// An ntfy contact's topic is checked before anything is sent, and not
	// quoted: on a public server a topic is as good as a password.
	pushed := phoneResponder(t, ns, "dave", nil,
		klaxonv1alpha1.Contact{Name: "pager", Channel: "push", Address: "dave/pager"})
	responderReady(t, pushed, metav1.ConditionFalse, klaxonv1alpha1.ReasonInvalidContact,
		"contact pager: its address is not an ntfy topic (1 to 64 letters, digits, - or _), which channel push pushes to")
	if c := meta.FindStatusCondition(pushed.Status.Conditions, klaxonv1alpha1.ConditionReady); strings.Contains(c.Message, "dave/pager") {
		t.Errorf("Ready quotes the topic: %q", c.Message)
	}

	for _, r := range []*klaxonv1alpha1.Responder{waiting, local} {
		c := meta.FindStatusCondition(r.Status.Conditions, klaxonv1alpha1.ConditionReady)
		for _, number := range []string{"+4917655550101", "0176 5555 0102", "55550101", "5555 0102"} {
			if strings.Contains(c.Message, number) {
				t.Errorf("%s: Ready says the number: %q", r.Name, c.Message)
			}
		}
	}
	var notes []string
	eventually(t, "the InvalidContact Event", func(ctx context.Context) (bool, error) {
		var found bool
		var err error
		notes, found, err = namespaceEventNotes(ctx, ns, klaxonv1alpha1.ReasonInvalidContact)
		return found, err
	})
	for _, note := range notes {
		if strings.Contains(note, "55550101") || strings.Contains(note, "5555 0102") {
			t.Errorf("an Event says a number: %q", note)
		}
	}
}

// With a public URL a twilio channel is Ready once its Secrets are marked;
// its Ready message names its own number masked.
func TestTwilioChannelWithPublicURL(t *testing.T) {
	publicOperator(t)
	ns := newNamespace(t)
	api := newTwilioAPI(t)
	phone := twilioChannel(t, ns, "phone", api, &klaxonv1alpha1.PhoneLimits{PerHour: ptr.To[int32](30)})
	channelReady(t, phone, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid,
		"Texts and calls through Twilio from +…06 at "+strings.TrimPrefix(api.URL, "http://")+", at most 10 an hour to a responder and 30 in all")

	channelSecret(t, ns, "stolen", false, map[string]string{"sid": api.AccountSID, "token": api.AuthToken})
	unmarked := createChannel(t, ns, "unmarked", klaxonv1alpha1.NotificationChannelSpec{Twilio: &klaxonv1alpha1.TwilioChannel{
		AccountSIDSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "phone-twilio", Key: "sid"},
		AuthTokenSecretRef:  klaxonv1alpha1.SecretKeyReference{Name: "stolen", Key: "token"},
		From:                "+15005550006",
	}})
	channelReady(t, unmarked, metav1.ConditionFalse, klaxonv1alpha1.ReasonSecretNotMarked, "spec.twilio.authTokenSecretRef: Secret stolen lacks the label")
	missing := createChannel(t, ns, "missing", klaxonv1alpha1.NotificationChannelSpec{Twilio: &klaxonv1alpha1.TwilioChannel{
		AccountSIDSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "absent", Key: "sid"},
		AuthTokenSecretRef:  klaxonv1alpha1.SecretKeyReference{Name: "phone-twilio", Key: "token"},
		From:                "+15005550006",
	}})
	channelReady(t, missing, metav1.ConditionFalse, klaxonv1alpha1.ReasonSecretNotFound, "spec.twilio.accountSIDSecretRef: Secret absent not found")

	alice := phoneResponder(t, ns, "alice", nil,
		klaxonv1alpha1.Contact{Name: "call", Channel: "phone", Address: "+4915112345678", Kind: klaxonv1alpha1.ContactKindVoice},
		klaxonv1alpha1.Contact{Name: "text", Channel: "phone", Address: "+4915112345678"})
	responderReady(t, alice, metav1.ConditionTrue, klaxonv1alpha1.ReasonValid, "2 contacts, 2 rules, every channel Ready")
}

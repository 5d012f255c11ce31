package controller_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// twilioSpec is a valid twilio channel, changed by mutate.
func twilioSpec(mutate func(*klaxonv1alpha1.TwilioChannel)) klaxonv1alpha1.NotificationChannelSpec {
	tw := &klaxonv1alpha1.TwilioChannel{
		AccountSIDSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "twilio", Key: "sid"},
		AuthTokenSecretRef:  klaxonv1alpha1.SecretKeyReference{Name: "twilio", Key: "token"},
		From:                "+15005550006",
	}
	if mutate != nil {
		mutate(tw)
	}
	return klaxonv1alpha1.NotificationChannelSpec{Twilio: tw}
}

// The API server holds phone channels and contacts to their rules, each
// with its message; valid ones are admitted.
func TestPhoneObjectsAreValidated(t *testing.T) {
	ns := newNamespace(t)
	channel := func(spec klaxonv1alpha1.NotificationChannelSpec) client.Object {
		return &klaxonv1alpha1.NotificationChannel{Spec: spec}
	}
	contact := func(c klaxonv1alpha1.Contact) client.Object {
		return &klaxonv1alpha1.Responder{Spec: klaxonv1alpha1.ResponderSpec{Contacts: []klaxonv1alpha1.Contact{c}}}
	}
	ntfy := &klaxonv1alpha1.NtfyChannel{URL: "https://ntfy.example.com"}
	limits := func(perResponder, perHour *int32) klaxonv1alpha1.NotificationChannelSpec {
		return twilioSpec(func(tw *klaxonv1alpha1.TwilioChannel) {
			tw.Limits = &klaxonv1alpha1.PhoneLimits{PerResponderPerHour: perResponder, PerHour: perHour}
		})
	}
	invalid := map[string]struct {
		obj  client.Object
		says string
	}{
		"twilio and ntfy": {channel(func() klaxonv1alpha1.NotificationChannelSpec {
			s := twilioSpec(nil)
			s.Ntfy = ntfy
			return s
		}()), "set exactly one of email, slack, webhook, alertmanager, twilio or ntfy"},
		"ntfy and webhook": {channel(klaxonv1alpha1.NotificationChannelSpec{Ntfy: ntfy,
			Webhook: &klaxonv1alpha1.WebhookChannel{URL: "https://example.com/hook"}}), "set exactly one of"},
		"twilio from without plus": {channel(twilioSpec(func(tw *klaxonv1alpha1.TwilioChannel) { tw.From = "15005550006" })), "spec.twilio.from"},
		"twilio from with spaces":  {channel(twilioSpec(func(tw *klaxonv1alpha1.TwilioChannel) { tw.From = "+1 500 555 0006" })), "spec.twilio.from"},
		"twilio baseURL not http": {channel(twilioSpec(func(tw *klaxonv1alpha1.TwilioChannel) { tw.BaseURL = "ftp://api.example.com" })),
			"baseURL must be an http or https URL"},
		"limit per responder zero":      {channel(limits(ptr.To[int32](0), nil)), "spec.twilio.limits.perResponderPerHour"},
		"limit per responder over 1000": {channel(limits(ptr.To[int32](1001), nil)), "spec.twilio.limits.perResponderPerHour"},
		"limit per hour zero":           {channel(limits(nil, ptr.To[int32](0))), "spec.twilio.limits.perHour"},
		"limit per hour over 100000":    {channel(limits(nil, ptr.To[int32](100001))), "spec.twilio.limits.perHour"},
		"ntfy url relative":             {channel(klaxonv1alpha1.NotificationChannelSpec{Ntfy: &klaxonv1alpha1.NtfyChannel{URL: "/ntfy/alerts"}}), "url must be an http or https URL"},
		"sms contact with a local number": {contact(klaxonv1alpha1.Contact{Name: "phone", Channel: "phone", Address: "015112345678", Kind: klaxonv1alpha1.ContactKindSMS}),
			"a contact of kind sms or voice has a phone number in E.164 form as its address"},
		"sms contact with 16 digits": {contact(klaxonv1alpha1.Contact{Name: "phone", Channel: "phone", Address: "+4915112345678901", Kind: klaxonv1alpha1.ContactKindSMS}),
			"a contact of kind sms or voice has a phone number in E.164 form as its address"},
		"sms contact with a leading 0": {contact(klaxonv1alpha1.Contact{Name: "phone", Channel: "phone", Address: "+04915112345678", Kind: klaxonv1alpha1.ContactKindSMS}),
			"a contact of kind sms or voice has a phone number in E.164 form as its address"},
		"voice contact with a mail address": {contact(klaxonv1alpha1.Contact{Name: "phone", Channel: "phone", Address: "alice@example.com", Kind: klaxonv1alpha1.ContactKindVoice}),
			"a contact of kind sms or voice has a phone number in E.164 form as its address"},
	}
	for name, tc := range invalid {
		t.Run(name, func(t *testing.T) {
			tc.obj.SetNamespace(ns)
			tc.obj.SetName(strings.ReplaceAll(name, " ", "-"))
			err := k8s.Create(context.Background(), tc.obj)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("got %v, want Invalid saying %q", err, tc.says)
			}
		})
	}

	// A kind outside the enum cannot be written through the typed client
	// without going around its type; send it raw.
	raw := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "klaxon.dev/v1alpha1", "kind": "Responder",
		"metadata": map[string]any{"name": "fax", "namespace": ns},
		"spec": map[string]any{"contacts": []any{map[string]any{
			"name": "phone", "channel": "phone", "address": "+4915112345678", "kind": "fax"}}},
	}}
	if err := k8s.Create(context.Background(), raw); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `supported values: "sms", "voice"`) {
		t.Errorf("kind fax: got %v", err)
	}

	valid := map[string]client.Object{
		"twilio-defaults": channel(twilioSpec(nil)),
		"twilio-limits":   channel(limits(ptr.To[int32](1000), ptr.To[int32](100000))),
		"twilio-base": channel(twilioSpec(func(tw *klaxonv1alpha1.TwilioChannel) {
			tw.BaseURL = "https://api.example.com"
			tw.From = "+4915112345"
		})),
		"ntfy": channel(klaxonv1alpha1.NotificationChannelSpec{Ntfy: &klaxonv1alpha1.NtfyChannel{URL: "http://ntfy.example.com:8080",
			TokenSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: "ntfy", Key: "token"}}}),
		"voice":          contact(klaxonv1alpha1.Contact{Name: "phone", Channel: "phone", Address: "+4915112345678", Kind: klaxonv1alpha1.ContactKindVoice}),
		"fifteen-digits": contact(klaxonv1alpha1.Contact{Name: "phone", Channel: "phone", Address: "+491511234567890", Kind: klaxonv1alpha1.ContactKindSMS}),
		"no-kind":        contact(klaxonv1alpha1.Contact{Name: "phone", Channel: "phone", Address: "0151 1234 5678"}),
	}
	for name, obj := range valid {
		obj.SetNamespace(ns)
		obj.SetName(name)
		if err := k8s.Create(context.Background(), obj); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

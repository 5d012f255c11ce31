package controller

import (
	"context"
	"fmt"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/notify/ntfy"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
	"github.com/klaxon-dev/klaxon/internal/phone"
)

// The hourly caps of a twilio channel without spec.twilio.limits.
const (
	defaultPhonePerResponderPerHour = 10
	defaultPhonePerHour             = 100
)

// loadTwilio builds a twilio channel's sender. Without a public URL it
// cannot work: a call's TwiML, its keypresses and its outcome, and every
// reply, come back to the receiver there.
func (l *channelLoader) loadTwilio(ctx context.Context, namespace, name string, tw *klaxonv1alpha1.TwilioChannel) (notify.Sender, *problem, error) {
	if l.publicURL == "" {
		return nil, stalledBy(klaxonv1alpha1.ReasonInvalidChannel,
			"A twilio channel needs the operator's --public-url: Twilio fetches each call's script, reports its outcome and delivers replies there"), nil
	}
	sid, p, err := l.secretValue(ctx, namespace, "spec.twilio.accountSIDSecretRef", tw.AccountSIDSecretRef, true)
	if p != nil || err != nil {
		return nil, p, err
	}
	token, p, err := l.secretValue(ctx, namespace, "spec.twilio.authTokenSecretRef", tw.AuthTokenSecretRef, true)
	if p != nil || err != nil {
		return nil, p, err
	}
	return built(twilio.New(twilio.Config{
		BaseURL: tw.BaseURL, AccountSID: string(sid), AuthToken: string(token), From: tw.From,
		PublicURL: l.publicURL, Namespace: namespace, Channel: name, Egress: l.egress,
	}))
}

func (l *channelLoader) loadNtfy(ctx context.Context, namespace string, nf *klaxonv1alpha1.NtfyChannel) (notify.Sender, *problem, error) {
	cfg := ntfy.Config{URL: nf.URL, Egress: l.egress}
	if ref := nf.TokenSecretRef; ref != nil {
		token, p, err := l.secretValue(ctx, namespace, "spec.ntfy.tokenSecretRef", *ref, true)
		if p != nil || err != nil {
			return nil, p, err
		}
		cfg.Token = string(token)
	}
	return built(ntfy.New(cfg))
}

// describeTwilio says how a twilio channel sends. Its own number is shown
// masked like any other: it is the same kind of string.
func describeTwilio(tw *klaxonv1alpha1.TwilioChannel) string {
	s := "Texts and calls through Twilio from " + phone.Mask(tw.From)
	if tw.BaseURL != "" && tw.BaseURL != twilio.DefaultBaseURL {
		s += " at " + hostOf(tw.BaseURL)
	}
	per, all := phoneLimits(tw)
	return fmt.Sprintf("%s, at most %d an hour to a responder and %d in all", s, per, all)
}

// phoneLimits are a twilio channel's caps: per responder, and in all.
func phoneLimits(tw *klaxonv1alpha1.TwilioChannel) (perResponder, all int) {
	perResponder, all = defaultPhonePerResponderPerHour, defaultPhonePerHour
	if lim := tw.Limits; lim != nil {
		if lim.PerResponderPerHour != nil {
			perResponder = int(*lim.PerResponderPerHour)
		}
		if lim.PerHour != nil {
			all = int(*lim.PerHour)
		}
	}
	return perResponder, all
}

package twilio_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
	"github.com/klaxon-dev/klaxon/internal/test/twiliotest"
)

const bundleURL = publicURL + "/ack-all/eyJiIjoiYjEifQ.c2lnbmF0dXJlLW9mLTQzLWNoYXJhY3RlcnMtaW4tYmFzZTY0dXJs"

func bundle(kind string, n int) *notify.Message {
	b := &notify.Bundle{ID: "b1", AcknowledgeURL: bundleURL}
	for i := range n {
		sev := "SEV3"
		if i == 1 {
			sev = "SEV2"
		}
		b.Incidents = append(b.Incidents, notify.BundledIncident{Namespace: "payments", Name: fmt.Sprintf("inc-%d", i),
			Title: fmt.Sprintf("Queue %d backs up", i), Severity: sev})
	}
	return &notify.Message{Incident: notify.Incident{Namespace: "payments"}, Page: notify.Page{Responder: "alice"},
		Bundle: b, Address: responder, Kind: kind}
}

func TestSMSTextOfABundle(t *testing.T) {
	for name, tc := range map[string]struct {
		m    *notify.Message
		want string
	}{
		"many": {bundle("", 47), "[SEV2] 47 incidents for alice: Queue 0 backs up\n+46 more\nOpen " + bundleURL + " to acknowledge all"},
		"one":  {bundle("", 1), "[SEV3] 1 incident for alice: Queue 0 backs up\nOpen " + bundleURL + " to acknowledge all"},
		"a long title is cut, the link kept": {func() *notify.Message {
			m := bundle("", 47)
			m.Bundle.Incidents[0].Title = strings.Repeat("Queue backs up ", 30)
			return m
		}(), ""},
	} {
		t.Run(name, func(t *testing.T) {
			got := twilio.SMSText(tc.m)
			if tc.want != "" && got != tc.want {
				t.Errorf("SMSText:\n got %q\nwant %q", got, tc.want)
			}
			if n := twilio.Segments(got); n > twilio.MaxSMSSegments {
				t.Errorf("%d segments:\n%s", n, got)
			}
			if !strings.Contains(got, bundleURL) || strings.Contains(got, "Reply") {
				t.Errorf("a bundle's text must carry its link and ask for no reply code:\n%s", got)
			}
		})
	}
}

func TestSendBundleText(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Options{Number: number})
	if _, err := newSender(t, srv).Send(ctx(t), bundle(twilio.KindSMS, 47)); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Body, "[SEV2] 47 incidents for alice") {
		t.Fatalf("texts %+v, want the bundle's", msgs)
	}
}

// A bundle's call reads its count and first titles, inline, and hangs up:
// no key acknowledges all, and no callback carries one incident's token.
func TestSendBundleCall(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Options{Number: number})
	m := bundle(twilio.KindVoice, 47)
	m.Bundle.Incidents[2].Title = "<Redirect>https://evil.example</Redirect> & more"
	if _, err := newSender(t, srv).Send(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 1 || len(srv.Messages()) != 0 {
		t.Fatalf("%d calls and %d texts, want one call", len(calls), len(srv.Messages()))
	}
	c := calls[0]
	if c.URL != "" || c.StatusCallback != "" || c.Timeout != twilio.RingSeconds {
		t.Errorf("call %+v: want inline TwiML, no callbacks", c)
	}
	if want := string(twilio.SayAndHangUp(twilio.BundleVoiceScript(m))); c.TwiML != want {
		t.Errorf("TwiML\n%s\nwant\n%s", c.TwiML, want)
	}
	for _, s := range []string{"This is Klaxon with 47 incidents, the worst of severity SEV2.", "1: Queue 0 backs up.",
		"3: Redirecthttps://evil.example/Redirect more.", "And 44 more.", "<Hangup></Hangup>"} {
		if !strings.Contains(c.TwiML, s) {
			t.Errorf("TwiML lacks %q:\n%s", s, c.TwiML)
		}
	}
	if strings.Contains(c.TwiML, "<Redirect>") || len(c.TwiML) > 4000 {
		t.Errorf("TwiML of %d characters, or with a title's markup:\n%s", len(c.TwiML), c.TwiML)
	}
}

func TestBundleVoiceScriptIsBounded(t *testing.T) {
	m := bundle(twilio.KindVoice, 500)
	for i := range m.Bundle.Incidents {
		m.Bundle.Incidents[i].Title = strings.Repeat("'", 500)
	}
	if got := string(twilio.SayAndHangUp(twilio.BundleVoiceScript(m))); len([]rune(got)) > 4000 {
		t.Errorf("TwiML of %d characters, beyond Twilio's 4,000", len([]rune(got)))
	}
}

package twilio_test

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
	"github.com/klaxon-dev/klaxon/internal/test/twiliotest"
)

// notice is alice's word before her shift, as a message of the kind given.
// It keeps a page's incident and acknowledge token, which a notice never
// carries, so that the notice is seen to win over them.
func notice(kind string) *notify.Message {
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	m := message(kind)
	m.Notice = &notify.ShiftNotice{Kind: notify.NoticeShiftStart, Namespace: "payments", Schedule: "payments-primary",
		Responder: "alice", Start: start, End: start.Add(24 * time.Hour), Text: "Takes over from: bob\nHands over to: carol"}
	return m
}

func TestSMSTextOfANotice(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*notify.ShiftNotice)
		want   string
		// keep is what must survive the cuts.
		keep string
	}{
		"start": {func(*notify.ShiftNotice) {},
			"On call from Mon 7 Dec 08:00 UTC: payments-primary\nTakes over from: bob\nHands over to: carol", ""},
		"change": {func(n *notify.ShiftNotice) {
			n.Kind, n.Text = notify.NoticeShiftChange, "Was: Mon 7 Dec 08:00 UTC to Tue 8 Dec 08:00 UTC\r\nNow: none"
		}, "Your on-call shifts changed: payments-primary\nWas: Mon 7 Dec 08:00 UTC to Tue 8 Dec 08:00 UTC\nNow: none", ""},
		"hostile": {func(n *notify.ShiftNotice) {
			n.Schedule, n.Text = "primary\u202e\x00", "Takes over from: bob\u200d\x1b[31m"
		}, "On call from Mon 7 Dec 08:00 UTC: primary\nTakes over from: bob [31m", ""},
		"a long text is cut, the subject kept": {func(n *notify.ShiftNotice) {
			n.Text = strings.Repeat("Hands over to: carol\n", 100)
		}, "", "On call from Mon 7 Dec 08:00 UTC: payments-primary\nHands over to: carol\n"},
		"a text beyond GSM-7 is cut to fewer characters": {func(n *notify.ShiftNotice) {
			n.Text = strings.Repeat("Übergabe an: 李雷\n", 40)
		}, "", "On call from Mon 7 Dec 08:00 UTC: payments-primary\nÜbergabe an: 李雷"},
		"a long schedule is cut": {func(n *notify.ShiftNotice) {
			n.Schedule = strings.Repeat("s", 2000)
		}, "", "On call from Mon 7 Dec 08:00 UTC: sss"},
	} {
		t.Run(name, func(t *testing.T) {
			m := notice(twilio.KindSMS)
			tc.mutate(m.Notice)
			got := twilio.SMSText(m)
			if tc.want != "" && got != tc.want {
				t.Errorf("SMSText:\n got %q\nwant %q", got, tc.want)
			}
			if !strings.HasPrefix(got, tc.keep) {
				t.Errorf("SMSText %q does not start with %q", got, tc.keep)
			}
			if n := twilio.Segments(got); n > twilio.MaxSMSSegments {
				t.Errorf("%d segments:\n%s", n, got)
			}
			for _, s := range []string{"Reply", "ACK", "/ack/", "inc-1", "\u202e", "\x1b", "\x00"} {
				if strings.Contains(got, s) {
					t.Errorf("a notice's text holds %q:\n%s", s, got)
				}
			}
		})
	}
}

func TestSendNoticeText(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Options{Number: number})
	if _, err := newSender(t, srv).Send(ctx(t), notice(twilio.KindSMS)); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || len(srv.Calls()) != 0 || !strings.HasPrefix(msgs[0].Body, "On call from Mon 7 Dec 08:00 UTC: payments-primary\n") {
		t.Fatalf("texts %+v, want the notice's", msgs)
	}
}

// A notice's call says its subject, inline, and hangs up: no key does
// anything, and no callback could record the call on an incident.
func TestSendNoticeCall(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Options{Number: number})
	m := notice(twilio.KindVoice)
	m.Notice.Schedule = "<Redirect>https://evil.example</Redirect> & more"
	// Without the receiver's URL a page cannot be called; a notice needs it not.
	if _, err := newSender(t, srv, func(c *twilio.Config) { c.PublicURL = "" }).Send(ctx(t), m); err != nil {
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
	if want := string(twilio.SayAndHangUp(twilio.NoticeVoiceScript(m))); c.TwiML != want {
		t.Errorf("TwiML\n%s\nwant\n%s", c.TwiML, want)
	}
	for _, s := range []string{"This is Klaxon. On call from Mon 7 Dec 08:00 UTC: Redirecthttps://evil.example/Redirect more.",
		"<Hangup></Hangup>"} {
		if !strings.Contains(c.TwiML, s) {
			t.Errorf("TwiML lacks %q:\n%s", s, c.TwiML)
		}
	}
	for _, s := range []string{"<Redirect>", "<Gather", "Press", "acknowledge"} {
		if strings.Contains(c.TwiML, s) {
			t.Errorf("TwiML holds %q:\n%s", s, c.TwiML)
		}
	}
}

func TestNoticeVoiceScriptIsBounded(t *testing.T) {
	m := notice(twilio.KindVoice)
	m.Notice.Schedule = strings.Repeat("'&", 5000)
	if got := string(twilio.SayAndHangUp(twilio.NoticeVoiceScript(m))); len([]rune(got)) > 4000 {
		t.Errorf("TwiML of %d characters, beyond Twilio's 4,000", len([]rune(got)))
	}
}

// FuzzNoticeSMSText checks that any notice's text fits MaxSMSSegments and
// keeps its start: the subject's first words.
func FuzzNoticeSMSText(f *testing.F) {
	f.Add("payments-primary", "Takes over from: bob\nHands over to: carol")
	f.Add(strings.Repeat("李", 300), strings.Repeat("Übergabe\r\n", 300))
	f.Fuzz(func(t *testing.T, schedule, text string) {
		m := notice(twilio.KindSMS)
		m.Notice.Schedule, m.Notice.Text = schedule, text
		got := twilio.SMSText(m)
		if n := twilio.Segments(got); n > twilio.MaxSMSSegments {
			t.Errorf("%d segments:\n%s", n, got)
		}
		if !strings.HasPrefix(got, "On call from") || strings.Contains(got, "\r") {
			t.Errorf("SMSText %q", got)
		}
	})
}

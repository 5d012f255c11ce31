package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
	"github.com/klaxon-dev/klaxon/internal/test/twiliotest"
)

// loopback lets the sender reach the stand-in, which listens on loopback.
var loopback = egress.New(egress.Config{Allow: []egress.Rule{
	{Prefix: netip.MustParsePrefix("127.0.0.0/8")}, {Prefix: netip.MustParsePrefix("::1/128")},
}})

const (
	number    = "+15005550006"
	responder = "+4915112345678"
	publicURL = "https://klaxon.example.com"
	ackToken  = "eyJucyI6InBheW1lbnRzIn0.c2lnbmF0dXJl"
)

func newSender(t *testing.T, srv *twiliotest.Server, mutate ...func(*twilio.Config)) *twilio.Sender {
	t.Helper()
	c := twilio.Config{
		BaseURL: srv.URL, AccountSID: srv.AccountSID, AuthToken: srv.AuthToken, From: number,
		PublicURL: publicURL, Namespace: "payments", Channel: "phones", Egress: loopback,
	}
	for _, m := range mutate {
		m(&c)
	}
	s, err := twilio.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func message(kind string) *notify.Message {
	return &notify.Message{
		Incident: notify.Incident{Namespace: "payments", Name: "inc-1", Title: "Payments API down", Severity: "SEV1"},
		Page: notify.Page{
			Level: 1, Round: 1, Responder: "alice",
			AcknowledgeURL:   publicURL + "/ack/" + ackToken,
			AcknowledgeToken: ackToken,
			AcknowledgeCode:  "123456",
		},
		Address: responder,
		Kind:    kind,
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSendText(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Options{Number: number})
	for _, kind := range []string{"", twilio.KindSMS} {
		ref, err := newSender(t, srv).Send(ctx(t), message(kind))
		if err != nil {
			t.Fatalf("kind %q: %v", kind, err)
		}
		msgs := srv.Messages()
		got := msgs[len(msgs)-1]
		if ref != got.SID || !strings.HasPrefix(ref, "SM") || len(ref) != 34 {
			t.Errorf("kind %q: ref %q, the server made %q", kind, ref, got.SID)
		}
		if got.To != responder || got.From != number {
			t.Errorf("kind %q: sent %+v", kind, got)
		}
		for _, part := range []string{"[SEV1] Payments API down", "Reply 123456 or ACK", publicURL + "/ack/" + ackToken} {
			if !strings.Contains(got.Body, part) {
				t.Errorf("kind %q: the text lacks %q:\n%s", kind, part, got.Body)
			}
		}
		if n := twilio.Segments(got.Body); n > twilio.MaxSMSSegments {
			t.Errorf("kind %q: the text takes %d segments:\n%s", kind, n, got.Body)
		}
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d calls, want none", n)
	}
}

func TestSendCall(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Options{Number: number})
	ref, err := newSender(t, srv).Send(ctx(t), message(twilio.KindVoice))
	if err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 1 || len(srv.Messages()) != 0 {
		t.Fatalf("%d calls and %d texts, want one call", len(calls), len(srv.Messages()))
	}
	c := calls[0]
	if ref != c.SID || !strings.HasPrefix(ref, "CA") {
		t.Errorf("ref %q, the server made %q", ref, c.SID)
	}
	want := twiliotest.Call{
		SID: c.SID, To: responder, From: number,
		URL:            publicURL + "/twilio/payments/phones/voice?t=" + url.QueryEscape(ackToken),
		Method:         http.MethodPost,
		StatusCallback: publicURL + "/twilio/payments/phones/voice/status?t=" + url.QueryEscape(ackToken),
		StatusMethod:   http.MethodPost,
		Timeout:        twilio.RingSeconds,
		Time:           c.Time,
	}
	if c != want {
		t.Errorf("call\n%+v\nwant\n%+v", c, want)
	}
}

func TestSendCallNeedsAPublicURLAndAToken(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Options{})
	noURL := newSender(t, srv, func(c *twilio.Config) { c.PublicURL = "" })
	if _, err := noURL.Send(ctx(t), message(twilio.KindVoice)); !notify.IsPermanent(err) || !strings.Contains(err.Error(), "public URL") {
		t.Errorf("without a public URL: %v, want a permanent error naming it", err)
	}
	m := message(twilio.KindVoice)
	m.Page.AcknowledgeToken = ""
	// The key may load later, and the retry's message carries a token.
	if _, err := newSender(t, srv).Send(ctx(t), m); err == nil || notify.IsPermanent(err) || !strings.Contains(err.Error(), "acknowledge") {
		t.Errorf("without a token: %v, want an error worth retrying", err)
	}
	if _, err := noURL.Send(ctx(t), m); !notify.IsPermanent(err) || !strings.Contains(err.Error(), "public URL") {
		t.Errorf("without a public URL nor a token: %v, want a permanent error naming the URL", err)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d calls were made", n)
	}
}

func TestSendRefusals(t *testing.T) {
	for name, c := range map[string]struct {
		setup     func(*twiliotest.Server, *twilio.Config, *notify.Message)
		permanent bool
		says      string
	}{
		"an invalid number": {
			setup:     func(_ *twiliotest.Server, _ *twilio.Config, m *notify.Message) { m.Address = "+1" },
			permanent: true, says: "E.164",
		},
		"an unsubscribed recipient": {
			setup:     func(s *twiliotest.Server, _ *twilio.Config, _ *notify.Message) { s.Unsubscribe(responder) },
			permanent: true, says: "error 21610: the number has replied STOP",
		},
		"a wrong token": {
			setup:     func(_ *twiliotest.Server, c *twilio.Config, _ *notify.Message) { c.AuthToken = "wrong" },
			permanent: true, says: "HTTP 401, error 20003",
		},
		"another account": {
			setup: func(_ *twiliotest.Server, c *twilio.Config, _ *notify.Message) {
				c.AccountSID = "AC" + strings.Repeat("0", 32)
			},
			permanent: true, says: "HTTP 401, error 20003",
		},
		"another from number": {
			setup:     func(_ *twiliotest.Server, c *twilio.Config, _ *notify.Message) { c.From = "+15005550001" },
			permanent: true, says: "error 21606",
		},
		"a rate limit": {
			setup: func(s *twiliotest.Server, _ *twilio.Config, _ *notify.Message) {
				s.FailNext(http.StatusTooManyRequests)
			},
			permanent: false, says: "HTTP 429, error 20429",
		},
		"a server error": {
			setup: func(s *twiliotest.Server, _ *twilio.Config, _ *notify.Message) {
				s.FailNext(http.StatusServiceUnavailable)
			},
			permanent: false, says: "HTTP 503",
		},
	} {
		srv := twiliotest.Start(t, twiliotest.Options{Number: number})
		cfg := twilio.Config{BaseURL: srv.URL, AccountSID: srv.AccountSID, AuthToken: srv.AuthToken, From: number, Egress: loopback}
		m := message("")
		c.setup(srv, &cfg, m)
		s, err := twilio.New(cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = s.Send(ctx(t), m)
		if err == nil {
			t.Errorf("%s: sent", name)
			continue
		}
		if notify.IsPermanent(err) != c.permanent {
			t.Errorf("%s: permanent = %v, want %v (%v)", name, notify.IsPermanent(err), c.permanent, err)
		}
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %q does not say %q", name, err, c.says)
		}
		if strings.Contains(err.Error(), srv.AuthToken) || strings.Contains(err.Error(), responder) {
			t.Errorf("%s: the error quotes a secret or the number: %v", name, err)
		}
		if len(srv.Messages()) != 0 {
			t.Errorf("%s: a text was recorded", name)
		}
	}
}

// TestSendInvalidNumberIsPermanent goes past the sender's own check: the
// number is E.164 but Twilio refuses it, and quotes it.
func TestSendInvalidNumberIsPermanent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"code": 21211, "message": "The 'To' number +4915112345678 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`))
	}))
	defer srv.Close()
	s, err := twilio.New(twilio.Config{BaseURL: srv.URL, AccountSID: "AC" + strings.Repeat("a", 32), AuthToken: "t", From: number, Egress: loopback})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(ctx(t), message(""))
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "error 21211: the number is not a valid phone number") || strings.Contains(err.Error(), "The 'To'") {
		t.Errorf("Send = %v", err)
	}
	if strings.Contains(err.Error(), "15112345678") || strings.Contains(notify.LogDetail(err), "15112345678") {
		t.Errorf("the number is in the error: %v; %s", err, notify.LogDetail(err))
	}
}

func TestSendRetriesThenSucceeds(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Options{})
	srv.FailNext(http.StatusTooManyRequests)
	s := newSender(t, srv)
	if _, err := s.Send(ctx(t), message("")); err == nil || notify.IsPermanent(err) {
		t.Fatalf("first Send = %v, want a retryable error", err)
	}
	ref, err := s.Send(ctx(t), message(""))
	if err != nil || len(srv.Messages()) != 1 || srv.Messages()[0].SID != ref {
		t.Fatalf("second Send = %q, %v; messages %+v", ref, err, srv.Messages())
	}
}

func TestSendChecksTheAnswer(t *testing.T) {
	for name, answer := range map[string]string{
		"no JSON":   `ok`,
		"no SID":    `{"status":"queued"}`,
		"a bad SID": `{"sid":"SM1","status":"queued"}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(answer))
		}))
		s, err := twilio.New(twilio.Config{BaseURL: srv.URL, AccountSID: "AC" + strings.Repeat("a", 32), AuthToken: "t", From: number, Egress: loopback})
		if err != nil {
			t.Fatal(err)
		}
		if ref, err := s.Send(ctx(t), message("")); err == nil || ref != "" || !notify.IsPermanent(err) {
			t.Errorf("%s: Send = %q, %v; want a permanent error: a retry could text twice", name, ref, err)
		}
		srv.Close()
	}
}

func TestSendGoesThroughTheEgressGuard(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Options{})
	s := newSender(t, srv, func(c *twilio.Config) { c.Egress = nil })
	_, err := s.Send(ctx(t), message(""))
	if !notify.IsPermanent(err) || len(srv.Messages()) != 0 {
		t.Errorf("Send to loopback without an allowance = %v; %d texts", err, len(srv.Messages()))
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	good := twilio.Config{AccountSID: "AC" + strings.Repeat("a", 32), AuthToken: "s3cr3t-token", From: number}
	if _, err := twilio.New(good); err != nil {
		t.Fatalf("New(good) = %v", err)
	}
	for name, mutate := range map[string]func(*twilio.Config){
		"no SID":            func(c *twilio.Config) { c.AccountSID = "" },
		"a bad SID":         func(c *twilio.Config) { c.AccountSID = "AC123" },
		"no token":          func(c *twilio.Config) { c.AuthToken = "" },
		"a token with a LF": func(c *twilio.Config) { c.AuthToken = "s3cr3t-token\n" },
		"no from":           func(c *twilio.Config) { c.From = "" },
		"a national from":   func(c *twilio.Config) { c.From = "015112345678" },
		"a relative base":   func(c *twilio.Config) { c.BaseURL = "api.twilio.com" },
		"an ftp base":       func(c *twilio.Config) { c.BaseURL = "ftp://api.twilio.com" },
		"a base with creds": func(c *twilio.Config) { c.BaseURL = "https://u:s3cr3t-token@api.twilio.com" },
	} {
		c := good
		mutate(&c)
		_, err := twilio.New(c)
		if err == nil {
			t.Errorf("%s: New accepted it", name)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t-token") {
			t.Errorf("%s: the error quotes the token: %v", name, err)
		}
	}
}

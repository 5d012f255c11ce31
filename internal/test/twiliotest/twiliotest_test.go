package twiliotest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
	"github.com/klaxon-dev/klaxon/internal/test/twiliotest"
)

var loopback = egress.New(egress.Config{Allow: []egress.Rule{
	{Prefix: netip.MustParsePrefix("127.0.0.0/8")}, {Prefix: netip.MustParsePrefix("::1/128")},
}})

// callback is a request the fake receiver took.
type callback struct {
	Path     string
	Form     url.Values
	Verified bool
}

// receiver stands in for Klaxon's receiver: it verifies each callback's
// signature as Klaxon does, over its public URL and the request URI, and
// answers the TwiML of the contract.
type receiver struct {
	URL   string
	token string
	mu    sync.Mutex
	got   []callback
}

func startReceiver(t *testing.T, token string) *receiver {
	r := &receiver{token: token}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		form, err := twilio.ParseForm(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ok := twilio.Verify(r.token, r.URL+req.URL.RequestURI(), form, req.Header.Get(twilio.SignatureHeader))
		r.mu.Lock()
		r.got = append(r.got, callback{req.URL.Path, form, ok})
		r.mu.Unlock()
		if !ok {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", twilio.TwiMLContentType)
		tok := req.URL.Query().Get(twilio.TokenParam)
		switch {
		case strings.HasSuffix(req.URL.Path, "/sms"):
			_, _ = w.Write(twilio.Reply("got " + form.Get("Body")))
		case strings.HasSuffix(req.URL.Path, "/voice/gather"):
			_, _ = w.Write(twilio.SayAndHangUp("pressed " + form.Get("Digits")))
		case strings.HasSuffix(req.URL.Path, "/voice/status"):
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(req.URL.Path, "/voice"):
			_, _ = w.Write(twilio.Gather("hello", "voice/gather?t="+url.QueryEscape(tok), // relative, as TwiML may be
				twilio.CallbackURL(r.URL, "payments", "phones", twilio.PathVoice, tok)))
		}
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *receiver) last(t *testing.T) callback {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("the receiver got no callback")
	}
	return r.got[len(r.got)-1]
}

func TestTextIsSignedAsTwilioDoes(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	recv := startReceiver(t, token)
	srv := twiliotest.Start(t, twiliotest.Options{AuthToken: token, Number: "+15005550006",
		SMSWebhook: twilio.CallbackURL(recv.URL, "payments", "phones", twilio.PathSMS, "")})
	body, status := srv.Text("+4915112345678", "ACK 123456")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	tw, err := twiliotest.ParseTwiML(body)
	if err != nil || tw.Message != "got ACK 123456" {
		t.Errorf("reply %+v, %v", tw, err)
	}
	cb := recv.last(t)
	if !cb.Verified || cb.Path != "/twilio/payments/phones/sms" {
		t.Errorf("callback %+v", cb)
	}
	for k, want := range map[string]string{
		"From": "+4915112345678", "To": "+15005550006", "Body": "ACK 123456", "AccountSid": srv.AccountSID,
		"SmsStatus": "received", "ApiVersion": "2010-04-01", "NumMedia": "0",
	} {
		if got := cb.Form.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if sms, err := twilio.ParseIncomingSMS(cb.Form); err != nil || !strings.HasPrefix(sms.MessageSID, "SM") {
		t.Errorf("ParseIncomingSMS = %+v, %v", sms, err)
	}
}

func TestForgedCallbackIsRefused(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	recv := startReceiver(t, token)
	srv := twiliotest.Start(t, twiliotest.Options{AuthToken: token})
	u := twilio.CallbackURL(recv.URL, "payments", "phones", twilio.PathSMS, "")
	form := url.Values{"From": {"+4915112345678"}, "Body": {"1"}}
	if _, status := srv.Post(u, form, "another token"); status != http.StatusForbidden {
		t.Errorf("a callback signed with another token: status %d, want 403", status)
	}
	if _, status := srv.Post(u, form, token); status != http.StatusOK {
		t.Errorf("a callback signed with the token: status %d, want 200", status)
	}
}

// TestCallFlow places a call with the sender, answers it, lets the
// <Gather> time out into its <Redirect>, presses 1 and ends it: every
// callback signed and carrying the call's parameters.
func TestCallFlow(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	recv := startReceiver(t, token)
	fake := testingclock.NewFakePassiveClock(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC))
	srv := twiliotest.Start(t, twiliotest.Options{AuthToken: token, Clock: fake})
	s, err := twilio.New(twilio.Config{BaseURL: srv.URL, AccountSID: srv.AccountSID, AuthToken: token,
		From: "+15005550006", PublicURL: recv.URL, Namespace: "payments", Channel: "phones", Egress: loopback})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	sid, err := s.Send(ctx, &notify.Message{
		Incident: notify.Incident{Namespace: "payments", Name: "inc-1", Title: "down", Severity: "SEV1"},
		Page:     notify.Page{Responder: "alice", AcknowledgeURL: "x", AcknowledgeToken: "tok.en", AcknowledgeCode: "123456"},
		Address:  "+4915112345678", Kind: twilio.KindVoice,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := srv.Calls()[0]; !c.Time.Equal(fake.Now()) {
		t.Errorf("call stamped %v, want the clock's %v", c.Time, fake.Now())
	}

	if _, status := srv.Answer(sid); status != http.StatusOK {
		t.Fatalf("Answer: status %d", status)
	}
	tw := srv.LastTwiML(sid)
	if tw.Gather == nil || tw.Gather.NumDigits != "1" || tw.Say[0] != "hello" || tw.Redirect == "" {
		t.Fatalf("the answer's TwiML: %+v", tw)
	}
	answered := recv.last(t)
	if !answered.Verified || answered.Path != "/twilio/payments/phones/voice" || answered.Form.Get("CallStatus") != "in-progress" ||
		answered.Form.Get("CallSid") != sid || answered.Form.Get("Direction") != "outbound-api" {
		t.Errorf("the answer callback: %+v", answered)
	}

	if _, status := srv.Follow(sid); status != http.StatusOK || recv.last(t).Path != "/twilio/payments/phones/voice" {
		t.Errorf("Follow: status %d, callback %+v", status, recv.last(t))
	}

	body, status := srv.Press(sid, "1")
	pressed := recv.last(t)
	if status != http.StatusOK || !pressed.Verified || pressed.Path != "/twilio/payments/phones/voice/gather" ||
		pressed.Form.Get("Digits") != "1" || pressed.Form.Get("CallSid") != sid {
		t.Errorf("Press: status %d, callback %+v", status, pressed)
	}
	if tw, err := twiliotest.ParseTwiML(body); err != nil || !tw.Hangup || tw.Say[0] != "pressed 1" {
		t.Errorf("Press answered %+v, %v", tw, err)
	}
	if ev, err := twilio.ParseCallEvent(pressed.Form); err != nil || ev.Digits != "1" {
		t.Errorf("ParseCallEvent = %+v, %v", ev, err)
	}

	fake.SetTime(fake.Now().Add(42 * time.Second))
	if _, status := srv.End(sid, twilio.CallCompleted); status != http.StatusNoContent {
		t.Errorf("End: status %d", status)
	}
	ended := recv.last(t)
	if !ended.Verified || ended.Path != "/twilio/payments/phones/voice/status" || ended.Form.Get("CallStatus") != "completed" ||
		ended.Form.Get("CallDuration") != "43" || ended.Form.Get("SequenceNumber") != "0" {
		t.Errorf("the status callback: %+v", ended)
	}
	if got, _ := url.Parse(srv.Calls()[0].StatusCallback); got.Query().Get(twilio.TokenParam) != "tok.en" {
		t.Errorf("the status callback lost the token: %s", srv.Calls()[0].StatusCallback)
	}
}

func TestRESTErrorsAreTwilios(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Options{Number: "+15005550006"})
	post := func(path, sid, token string, form url.Values) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(sid, token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var v map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	msgs := "/2010-04-01/Accounts/" + srv.AccountSID + "/Messages.json"
	calls := "/2010-04-01/Accounts/" + srv.AccountSID + "/Calls.json"
	ok := url.Values{"To": {"+4915112345678"}, "From": {"+15005550006"}, "Body": {"hi"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	srv.Unsubscribe("+4915100000000")
	srv.Landline("+4930123456")
	call := func(k, v string) url.Values {
		f := with(k, v)
		f.Set("Url", "https://k.example/voice")
		return f
	}
	for name, c := range map[string]struct {
		path, sid, token string
		form             url.Values
		status, code     int
	}{
		"no auth":           {msgs, "", "", ok, 401, 20003},
		"a wrong token":     {msgs, srv.AccountSID, "x", ok, 401, 20003},
		"another acct":      {"/2010-04-01/Accounts/AC" + strings.Repeat("0", 32) + "/Messages.json", srv.AccountSID, srv.AuthToken, ok, 404, 20404},
		"no To":             {msgs, srv.AccountSID, srv.AuthToken, with("To", ""), 400, 21604},
		"a bad To":          {msgs, srv.AccountSID, srv.AuthToken, with("To", "12345"), 400, 21211},
		"no Body":           {msgs, srv.AccountSID, srv.AuthToken, with("Body", ""), 400, 21602},
		"unsubscribed":      {msgs, srv.AccountSID, srv.AuthToken, with("To", "+4915100000000"), 400, 21610},
		"another From":      {msgs, srv.AccountSID, srv.AuthToken, with("From", "+15005550001"), 400, 21606},
		"a call, no Url":    {calls, srv.AccountSID, srv.AuthToken, ok, 400, 21205},
		"a call, bad To":    {calls, srv.AccountSID, srv.AuthToken, with("To", "abc"), 400, 21211},
		"a landline":        {msgs, srv.AccountSID, srv.AuthToken, with("To", "+4930123456"), 400, 21614},
		"a zero Timeout":    {calls, srv.AccountSID, srv.AuthToken, call("Timeout", "0"), 400, 21208},
		"a word Timeout":    {calls, srv.AccountSID, srv.AuthToken, call("Timeout", "long"), 400, 21208},
		"a long Timeout":    {calls, srv.AccountSID, srv.AuthToken, call("Timeout", "900"), 201, 0},
		"a landline called": {calls, srv.AccountSID, srv.AuthToken, call("To", "+4930123456"), 201, 0},
		"a text":            {msgs, srv.AccountSID, srv.AuthToken, ok, 201, 0},
		"a call":            {calls, srv.AccountSID, srv.AuthToken, with("Url", "https://k.example/voice"), 201, 0},
	} {
		status, v := post(c.path, c.sid, c.token, c.form)
		if status != c.status {
			t.Errorf("%s: status %d, want %d (%v)", name, status, c.status, v)
			continue
		}
		if c.code != 0 {
			if code, _ := v["code"].(float64); int(code) != c.code || v["more_info"] == nil || v["message"] == "" {
				t.Errorf("%s: %v, want code %d", name, v, c.code)
			}
		} else if sid, _ := v["sid"].(string); len(sid) != 34 || v["status"] != "queued" {
			t.Errorf("%s: %v", name, v)
		}
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages recorded, want 1", n)
	}
	if n := len(srv.Calls()); n != 3 {
		t.Errorf("%d calls recorded, want 3", n)
	}
}

// errorRecorder is a testing.TB that records Errorf instead of failing.
type errorRecorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestTwiMLMustBeServedAsXML(t *testing.T) {
	for contentType, fails := range map[string]bool{
		"text/xml; charset=utf-8": false,
		"application/xml":         false,
		"text/html":               true,
		"":                        true,
	} {
		twiml := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Content-Type"] = []string{contentType}
			_, _ = w.Write(twilio.SayAndHangUp("hello"))
		}))
		rec := &errorRecorder{TB: t}
		srv := twiliotest.Start(rec, twiliotest.Options{Number: "+15005550006"})
		form := url.Values{"To": {"+4915112345678"}, "From": {"+15005550006"}, "Url": {twiml.URL + "/voice"}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/2010-04-01/Accounts/"+srv.AccountSID+"/Calls.json", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(srv.AccountSID, srv.AuthToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		calls := srv.Calls()
		if len(calls) != 1 {
			t.Fatalf("%q: %d calls", contentType, len(calls))
		}
		srv.Answer(calls[0].SID)
		if got := len(rec.errs) > 0; got != fails {
			t.Errorf("Content-Type %q: the test failed %v, want %v (%q)", contentType, got, fails, rec.errs)
		}
		twiml.Close()
	}
}

func TestParseTwiML(t *testing.T) {
	tw, err := twiliotest.ParseTwiML(string(twilio.Gather("read this", "https://k/g", "https://k/v")))
	if err != nil || tw.Gather == nil || tw.Gather.Action != "https://k/g" || tw.Redirect != "https://k/v" ||
		strings.Join(tw.Verbs, ",") != "Gather,Redirect" {
		t.Errorf("ParseTwiML(Gather) = %+v, %v", tw, err)
	}
	for name, doc := range map[string]string{
		"not XML":          "hello",
		"not a Response":   "<Foo/>",
		"an unknown verb":  "<Response><Shout>x</Shout></Response>",
		"a Dial in Gather": "<Response><Gather><Dial>+1</Dial></Gather></Response>",
	} {
		if _, err := twiliotest.ParseTwiML(doc); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestUnansweredCall(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	recv := startReceiver(t, token)
	srv := twiliotest.Start(t, twiliotest.Options{AuthToken: token})
	srv.SetSMSWebhook(twilio.CallbackURL(recv.URL, "payments", "phones", twilio.PathSMS, ""))
	s, err := twilio.New(twilio.Config{BaseURL: srv.URL, AccountSID: srv.AccountSID, AuthToken: token,
		From: "+15005550006", PublicURL: recv.URL, Namespace: "payments", Channel: "phones", Egress: loopback})
	if err != nil {
		t.Fatal(err)
	}
	sid, err := s.Send(t.Context(), &notify.Message{
		Page:    notify.Page{AcknowledgeToken: "tok.en"},
		Address: "+4915112345678", Kind: twilio.KindVoice,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, status := srv.End(sid, twilio.CallNoAnswer); status != http.StatusNoContent {
		t.Fatalf("End: status %d", status)
	}
	cb := recv.last(t)
	ev, err := twilio.ParseCallEvent(cb.Form)
	if err != nil || !cb.Verified || ev.CallSID != sid || cb.Form.Get("CallDuration") != "0" {
		t.Fatalf("the status callback %+v: %+v, %v", cb, ev, err)
	}
	if ended, unanswered := twilio.Ended(ev.Status); !ended || !unanswered {
		t.Errorf("Ended(%q) = %v, %v", ev.Status, ended, unanswered)
	}
	if _, status := srv.Text("+4915112345678", "1"); status != http.StatusOK {
		t.Errorf("Text after SetSMSWebhook: status %d", status)
	}
}

package twiliotest

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
)

// defaultNumber is the number texts come to when Options.Number is unset:
// Twilio's magic test number that accepts everything.
const defaultNumber = "+15005550006"

// Text sends the text body from the number from to the account's number,
// as Twilio posts it to the messaging webhook, and returns the answer:
// TwiML (see ParseTwiML) and its HTTP status.
func (s *Server) Text(from, body string) (twiml string, status int) {
	s.t.Helper()
	s.mu.Lock()
	webhook := s.smsWebhook
	s.mu.Unlock()
	if webhook == "" {
		s.t.Fatal("twiliotest: Text needs Options.SMSWebhook or SetSMSWebhook")
	}
	to := s.Number
	if to == "" {
		to = defaultNumber
	}
	sid := "SM" + randomHex(16)
	form := url.Values{
		"AccountSid":    {s.AccountSID},
		"ApiVersion":    {apiVersion},
		"Body":          {body},
		"From":          {from},
		"MessageSid":    {sid},
		"NumMedia":      {"0"},
		"NumSegments":   {strconv.Itoa(numSegments(body))},
		"SmsMessageSid": {sid},
		"SmsSid":        {sid},
		"SmsStatus":     {"received"},
		"To":            {to},
	}
	return s.Post(webhook, form, s.AuthToken)
}

// Answer answers the call: Twilio requests the call's Url with its status
// in-progress. The TwiML answered becomes the call's LastTwiML.
func (s *Server) Answer(callSID string) (twiml string, status int) {
	s.t.Helper()
	c := s.call(callSID)
	s.mu.Lock()
	for i := range s.calls {
		if s.calls[i].SID == callSID && s.calls[i].Answered.IsZero() {
			s.calls[i].Answered = s.clock.Now()
		}
	}
	s.mu.Unlock()
	return s.fetchTwiML(c, c.URL, c.Method, nil)
}

// Press sends the digits pressed to the action of the <Gather> of the
// call's LastTwiML.
func (s *Server) Press(callSID, digits string) (twiml string, status int) {
	s.t.Helper()
	c := s.call(callSID)
	g := s.LastTwiML(callSID).Gather
	if g == nil {
		s.t.Fatalf("twiliotest: the last TwiML of call %s has no <Gather>", callSID)
		return "", 0
	}
	action := g.Action
	if action == "" {
		action = s.lastURL(callSID)
	}
	return s.fetchTwiML(c, s.resolve(callSID, action), orPOST(g.Method), url.Values{"Digits": {digits}, "FinishedOnKey": {""}})
}

// Follow follows the <Redirect> of the call's LastTwiML, as Twilio does
// when a <Gather> ends without a key.
func (s *Server) Follow(callSID string) (twiml string, status int) {
	s.t.Helper()
	c := s.call(callSID)
	r := s.LastTwiML(callSID).Redirect
	if r == "" {
		s.t.Fatalf("twiliotest: the last TwiML of call %s has no <Redirect>", callSID)
		return "", 0
	}
	return s.fetchTwiML(c, s.resolve(callSID, r), orPOST(s.LastTwiML(callSID).RedirectMethod), nil)
}

// End ends the call with status (completed, no-answer, busy, failed or
// canceled) and posts it to the call's StatusCallback.
func (s *Server) End(callSID, callStatus string) (body string, status int) {
	s.t.Helper()
	c := s.call(callSID)
	if c.StatusCallback == "" {
		s.t.Fatalf("twiliotest: call %s has no StatusCallback", callSID)
		return "", 0
	}
	duration := 0
	if !c.Answered.IsZero() && callStatus == twilio.CallCompleted {
		duration = int(s.clock.Since(c.Answered).Seconds()) + 1
	}
	s.mu.Lock()
	s.sequence[callSID]++
	seq := s.sequence[callSID] - 1
	s.mu.Unlock()
	form := s.callParams(c, callStatus)
	form.Set("CallDuration", strconv.Itoa(duration))
	form.Set("Duration", strconv.Itoa((duration+59)/60))
	form.Set("Timestamp", s.clock.Now().UTC().Format(time.RFC1123Z))
	form.Set("CallbackSource", "call-progress-events")
	form.Set("SequenceNumber", strconv.Itoa(seq))
	body, status, _ = s.request(c.StatusMethod, c.StatusCallback, form, s.AuthToken)
	return body, status
}

// Post sends form to rawURL as Twilio does, signed with token, and returns
// the answer's body and status: for tests of forged or replayed callbacks.
func (s *Server) Post(rawURL string, form url.Values, token string) (body string, status int) {
	s.t.Helper()
	body, status, _ = s.request(http.MethodPost, rawURL, form, token)
	return body, status
}

// LastTwiML is the TwiML last answered for the call, parsed.
func (s *Server) LastTwiML(callSID string) TwiML {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.twiml[callSID]
}

// fetchTwiML requests the call's TwiML at rawURL, with the call's
// parameters and extra, and keeps what it parses as the call's LastTwiML.
func (s *Server) fetchTwiML(c Call, rawURL, method string, extra url.Values) (string, int) {
	s.t.Helper()
	form := s.callParams(c, "in-progress")
	for k, v := range extra {
		form[k] = v
	}
	body, status, contentType := s.request(method, rawURL, form, s.AuthToken)
	if status == http.StatusOK {
		// Twilio reads an answer as TwiML only when it says it is XML;
		// anything else fails the call (error 12300).
		if mt, _, _ := mime.ParseMediaType(contentType); mt != "text/xml" && mt != "application/xml" {
			s.t.Errorf("twiliotest: call %s: its TwiML URL answered Content-Type %q, not text/xml or application/xml", c.SID, contentType)
		}
		tw, err := ParseTwiML(body)
		if err != nil {
			s.t.Errorf("twiliotest: call %s: the answer of its TwiML URL is not TwiML: %v\n%s", c.SID, err, body)
		}
		tw.url = rawURL
		s.mu.Lock()
		s.twiml[c.SID] = tw
		s.mu.Unlock()
	}
	return body, status
}

// callParams are the parameters Twilio sends with every request about an
// outbound call.
func (s *Server) callParams(c Call, callStatus string) url.Values {
	return url.Values{
		"AccountSid": {s.AccountSID},
		"ApiVersion": {apiVersion},
		"CallSid":    {c.SID},
		"CallStatus": {callStatus},
		"Called":     {c.To},
		"Caller":     {c.From},
		"Direction":  {"outbound-api"},
		"From":       {c.From},
		"To":         {c.To},
	}
}

// request sends form to rawURL signed with token and returns the answer's
// body, status and Content-Type. With GET, Twilio puts the parameters in
// the query and signs the URL alone.
func (s *Server) request(method, rawURL string, form url.Values, token string) (body string, status int, contentType string) {
	s.t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodGet {
		u := rawURL
		if strings.Contains(u, "?") {
			u += "&" + form.Encode()
		} else {
			u += "?" + form.Encode()
		}
		req, err = http.NewRequest(http.MethodGet, u, nil)
		if err == nil {
			req.Header.Set(twilio.SignatureHeader, twilio.Signature(token, u, nil))
		}
	} else {
		req, err = http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(twilio.SignatureHeader, twilio.Signature(token, rawURL, form))
		}
	}
	if err != nil {
		s.t.Fatalf("twiliotest: a request to %s: %v", rawURL, err)
		return "", 0, ""
	}
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", randomHex(16))
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("twiliotest: %s %s: %v", method, rawURL, err)
		return "", 0, ""
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		s.t.Fatalf("twiliotest: reading the answer of %s: %v", rawURL, err)
	}
	return string(b), resp.StatusCode, resp.Header.Get("Content-Type")
}

func (s *Server) call(sid string) Call {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.SID == sid {
			return c
		}
	}
	s.t.Fatalf("twiliotest: no call %s was created", sid)
	return Call{}
}

// lastURL is the URL the call's LastTwiML came from.
func (s *Server) lastURL(callSID string) string {
	return s.LastTwiML(callSID).url
}

// resolve makes ref, as TwiML gives it, absolute against the URL of the
// call's LastTwiML, as Twilio resolves relative URLs.
func (s *Server) resolve(callSID, ref string) string {
	base, err := url.Parse(s.lastURL(callSID))
	if err != nil {
		return ref
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return base.ResolveReference(r).String()
}

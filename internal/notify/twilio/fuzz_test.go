package twilio

import (
	"testing"
	"unicode/utf8"
)

// FuzzInbound feeds any body to the parsers of Twilio's callbacks: they
// never panic, what they accept holds to their bounds, and replies are
// read the same way twice.
func FuzzInbound(f *testing.F) {
	for _, seed := range []string{
		"From=%2B4915112345678&To=%2B15005550006&Body=ack&MessageSid=SM0123456789abcdef0123456789abcdef",
		"CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=no-answer",
		"CallSid=CA0123456789abcdef0123456789abcdef&Digits=1",
		"Body=ack+123456&From=%2B1",
		"a=%zz&&&=",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := ParseForm(body)
		if err != nil {
			return
		}
		if sms, err := ParseIncomingSMS(v); err == nil {
			if !IsPhoneNumber(sms.From) {
				t.Fatalf("accepted From %q", sms.From)
			}
			kind, code := ParseReply(sms.Body, 6)
			if kind2, code2 := ParseReply(sms.Body, 6); kind2 != kind || code2 != code {
				t.Fatalf("ParseReply is not stable on %q", sms.Body)
			}
			if kind == ReplyCode && (len(code) != 6 || !utf8.ValidString(code)) {
				t.Fatalf("code %q", code)
			}
			_ = Reply(sms.Body)
		}
		if c, err := ParseCallEvent(v); err == nil {
			if len(c.CallSID) != 34 || len(c.Status) > 32 || len(c.Digits) > 32 {
				t.Fatalf("accepted %+v", c)
			}
		}
	})
}

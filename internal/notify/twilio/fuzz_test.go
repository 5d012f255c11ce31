package twilio

import (
	"html"
	"strings"
	"testing"
	"unicode"

	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/phone"
)

// FuzzInbound feeds any body to the parsers of Twilio's callbacks: they
// never panic, and what they accept holds to their bounds: a reply code
// is acklink.CodeDigits ASCII digits found in the body, and a reply
// acknowledges the latest page only when its words are 1 or ack.
func FuzzInbound(f *testing.F) {
	for _, seed := range []string{
		"From=%2B4915112345678&To=%2B15005550006&Body=ack&MessageSid=SM0123456789abcdef0123456789abcdef",
		"CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=no-answer",
		"CallSid=CA0123456789abcdef0123456789abcdef&Digits=1",
		"Body=ack+123456&From=%2B1",
		"a=%zz&&&=",
		"Body=ACK%2C+1&From=%2B4915112345678",
		"Body=1+042917&From=%2B4915112345678",
		"Body=%E2%80%AEack&From=%2B4915112345678",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := ParseForm(body)
		if err != nil {
			return
		}
		if sms, err := ParseIncomingSMS(v); err == nil {
			if !phone.IsNumber(sms.From) {
				t.Fatalf("accepted From %q", sms.From)
			}
			checkReply(t, sms.Body)
			if text := replyText(Reply(sms.Body)); Segments(text) > MaxSMSSegments {
				t.Fatalf("Reply(%q) takes %d segments", sms.Body, Segments(text))
			}
		}
		checkReply(t, string(body))
		if c, err := ParseCallEvent(v); err == nil {
			if len(c.CallSID) != 34 || len(c.Status) > 32 || len(c.Digits) > 32 {
				t.Fatalf("accepted %+v", c)
			}
		}
	})
}

// checkReply checks what ParseReply makes of body against what it may.
func checkReply(t *testing.T, body string) {
	t.Helper()
	kind, code := ParseReply(body, acklink.CodeDigits)
	// The words of the body, split at anything but a letter or digit.
	words := strings.FieldsFunc(strings.ToLower(body), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	ackWord := func(w string) bool { return w == "1" || w == "ack" }
	switch kind {
	case ReplyCode:
		if len(code) != acklink.CodeDigits || strings.Trim(code, "0123456789") != "" || !strings.Contains(body, code) {
			t.Fatalf("ParseReply(%q) accepted the code %q", body, code)
		}
		if w := words[len(words)-1]; w != code || len(words) > 2 || (len(words) == 2 && !ackWord(words[0])) {
			t.Fatalf("ParseReply(%q) found a code among other words %q", body, words)
		}
	case ReplyAcknowledge:
		if code != "" || len(words) == 0 || len(words) > 2 || !ackWord(words[0]) || !ackWord(words[len(words)-1]) {
			t.Fatalf("ParseReply(%q) acknowledges, words %q, code %q", body, words, code)
		}
	default:
		if code != "" {
			t.Fatalf("ParseReply(%q) = other with the code %q", body, code)
		}
	}
}

// replyText is the text of the <Message> of a Reply.
func replyText(twiml []byte) string {
	s := string(twiml)
	start, end := strings.Index(s, "<Message>"), strings.Index(s, "</Message>")
	if start < 0 || end < start {
		return ""
	}
	return html.UnescapeString(s[start+len("<Message>") : end])
}

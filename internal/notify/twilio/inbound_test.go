package twilio

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseReply(t *testing.T) {
	for _, c := range []struct {
		body string
		kind ReplyKind
		code string
	}{
		{"1", ReplyAcknowledge, ""},
		{" ACK ", ReplyAcknowledge, ""},
		{"Ack.", ReplyAcknowledge, ""},
		{"123456", ReplyCode, "123456"},
		{"ack 123456", ReplyCode, "123456"},
		{"ACK: 004211", ReplyCode, "004211"},
		{"12345", ReplyOther, ""},
		{"1234567", ReplyOther, ""},
		{"12a456", ReplyOther, ""},
		{"yes", ReplyOther, ""},
		{"ack now", ReplyOther, ""},
		{"", ReplyOther, ""},
		{"STOP", ReplyOther, ""},
		{"ack 123456 please", ReplyOther, ""},
	} {
		kind, code := ParseReply(c.body, 6)
		if kind != c.kind || code != c.code {
			t.Errorf("ParseReply(%q) = %v, %q; want %v, %q", c.body, kind, code, c.kind, c.code)
		}
	}
}

func TestParseForm(t *testing.T) {
	v, err := ParseForm([]byte("From=%2B4915112345678&Body=ack&MessageSid=SM" + strings.Repeat("a", 32)))
	if err != nil {
		t.Fatal(err)
	}
	sms, err := ParseIncomingSMS(v)
	if err != nil || sms.From != "+4915112345678" || sms.Body != "ack" {
		t.Fatalf("ParseIncomingSMS = %+v, %v", sms, err)
	}
	for name, body := range map[string]string{
		"too long":         strings.Repeat("a", MaxFormBytes+1),
		"too many":         strings.Repeat("a=1&", MaxFormParams),
		"a bad escape":     "From=%zz",
		"a number missing": "Body=ack&MessageSid=SM" + strings.Repeat("a", 32),
		"not E.164":        "From=4915112345678&Body=ack&MessageSid=SM" + strings.Repeat("a", 32),
		"a bad SID":        "From=%2B4915112345678&MessageSid=SM1",
		"no SID":           "From=%2B4915112345678&Body=ack",
	} {
		v, perr := ParseForm([]byte(body))
		if perr == nil {
			_, perr = ParseIncomingSMS(v)
		}
		if !errors.Is(perr, ErrForm) {
			t.Errorf("%s: the error %v is not ErrForm", name, perr)
		}
	}
	call, err := ParseCallEvent(url.Values{"CallSid": {"CA" + strings.Repeat("0", 32)}, "CallStatus": {"no-answer"}})
	if err != nil || call.Status != CallNoAnswer {
		t.Fatalf("ParseCallEvent = %+v, %v", call, err)
	}
	if _, err := ParseCallEvent(url.Values{"CallSid": {"CA1"}}); !errors.Is(err, ErrForm) {
		t.Errorf("a bad CallSid: the error %v is not ErrForm", err)
	}
}

func TestEnded(t *testing.T) {
	for status, want := range map[string][2]bool{
		"completed": {true, false}, "busy": {true, true}, "no-answer": {true, true},
		"failed": {true, true}, "canceled": {true, true}, "ringing": {false, false}, "in-progress": {false, false},
	} {
		if ended, unanswered := Ended(status); ended != want[0] || unanswered != want[1] {
			t.Errorf("Ended(%q) = %v, %v; want %v, %v", status, ended, unanswered, want[0], want[1])
		}
	}
}

func TestTwiMLEscapes(t *testing.T) {
	got := string(Gather(`Say </Say><Dial>+1</Dial> & more`, "https://k.example/a?t=x&n=1", "https://k.example/b"))
	if strings.Contains(got, "<Dial>") || !strings.Contains(got, "&lt;Dial&gt;") || !strings.Contains(got, "t=x&amp;n=1") {
		t.Errorf("Gather did not escape:\n%s", got)
	}
	if !strings.HasPrefix(got, "<?xml") || !strings.Contains(got, `<Gather input="dtmf" numDigits="1"`) || !strings.Contains(got, `<Redirect method="POST">https://k.example/b</Redirect>`) {
		t.Errorf("Gather:\n%s", got)
	}
	if got := string(Reply("")); !strings.HasSuffix(got, "<Response></Response>") {
		t.Errorf("Reply(\"\") = %s", got)
	}
	for long, want := range map[string]string{
		strings.Repeat("é", 1000):        strings.Repeat("é", 303) + "...",
		strings.Repeat("{", 1000):        strings.Repeat("{", 151) + "...", // two septets each, never split
		strings.Repeat("ж", 1000):        strings.Repeat("ж", 133) + "…",
		strings.Repeat("é", 200) + "🚨":   strings.Repeat("é", 200) + "...", // cutting the emoji returns to GSM-7
		"Reply 1 to acknowledge, 🚨 help": "Reply 1 to acknowledge, 🚨 help",
	} {
		answer := string(Reply(long))
		text := answer[strings.Index(answer, "<Message>")+len("<Message>") : strings.Index(answer, "</Message>")]
		if Segments(text) > MaxSMSSegments || text != want {
			t.Errorf("Reply(%d characters) kept %d characters in %d segments, want %q", utf8.RuneCountInString(long), utf8.RuneCountInString(text), Segments(text), want)
		}
	}
	if got := string(SayAndHangUp("bye")); !strings.Contains(got, "<Say>bye</Say><Hangup></Hangup>") {
		t.Errorf("SayAndHangUp = %s", got)
	}
}

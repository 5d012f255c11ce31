package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/klaxon-dev/klaxon/internal/phone"
)

// Bounds of a callback's form. Twilio's callbacks carry a few dozen
// parameters of short values; an SMS body is at most 1,600 characters.
const (
	// MaxFormBytes bounds the body of a callback.
	MaxFormBytes = 32 << 10
	// MaxFormParams bounds the parameters of a callback.
	MaxFormParams = 128
)

// ErrForm marks a callback body that is not a form Twilio sends.
var ErrForm = errors.New("not a Twilio callback form")

// ParseForm parses the application/x-www-form-urlencoded body of a
// callback, bounded: the values are what Verify signs.
func ParseForm(body []byte) (url.Values, error) {
	if len(body) > MaxFormBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrForm, MaxFormBytes)
	}
	if n := strings.Count(string(body), "&") + 1; n > MaxFormParams {
		return nil, fmt.Errorf("%w: %d parameters, more than %d", ErrForm, n, MaxFormParams)
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrForm, err)
	}
	return v, nil
}

// sidPattern is a Twilio SID: two letters naming the kind, then 32 hex
// digits.
var sidPattern = regexp.MustCompile(`^[A-Z]{2}[0-9a-fA-F]{32}$`)

// IncomingSMS is a text sent to the channel's number.
type IncomingSMS struct {
	From, To   string
	Body       string
	MessageSID string
}

// ParseIncomingSMS reads an incoming text's callback parameters: From,
// a phone number, and MessageSid, a Twilio SID, are required.
func ParseIncomingSMS(v url.Values) (IncomingSMS, error) {
	m := IncomingSMS{From: v.Get("From"), To: v.Get("To"), Body: v.Get("Body"), MessageSID: v.Get("MessageSid")}
	switch {
	case !phone.IsNumber(m.From):
		return IncomingSMS{}, fmt.Errorf("%w: From is not a phone number in E.164 form", ErrForm)
	case !sidPattern.MatchString(m.MessageSID):
		// Twilio names every message; the SID is what tells a text from
		// its replay.
		return IncomingSMS{}, fmt.Errorf("%w: MessageSid is not a Twilio SID", ErrForm)
	}
	return m, nil
}

// CallEvent is a callback about a call: its TwiML request, a <Gather>'s
// digits, or its status.
type CallEvent struct {
	CallSID string
	// Status is the call's status: queued, ringing, in-progress, completed,
	// busy, no-answer, failed or canceled.
	Status string
	// Digits are the keys pressed, for a <Gather>.
	Digits string
}

// Call statuses that end a call.
const (
	CallCompleted = "completed"
	CallBusy      = "busy"
	CallNoAnswer  = "no-answer"
	CallFailed    = "failed"
	CallCanceled  = "canceled"
)

// ParseCallEvent reads a call callback's parameters.
func ParseCallEvent(v url.Values) (CallEvent, error) {
	c := CallEvent{CallSID: v.Get("CallSid"), Status: v.Get("CallStatus"), Digits: v.Get("Digits")}
	switch {
	case !sidPattern.MatchString(c.CallSID):
		return CallEvent{}, fmt.Errorf("%w: CallSid is not a Twilio SID", ErrForm)
	case len(c.Status) > 32:
		return CallEvent{}, fmt.Errorf("%w: CallStatus is longer than 32 bytes", ErrForm)
	case len(c.Digits) > 32:
		return CallEvent{}, fmt.Errorf("%w: Digits is longer than 32 bytes", ErrForm)
	}
	return c, nil
}

// Ended reports whether a call status ends the call, and whether the call
// failed to reach the person: busy, no answer, failed or canceled.
// Completed means answered, by a person or by a machine such as voicemail:
// Twilio cannot tell them apart, so a completed call is a delivery only
// when the page was acknowledged during it.
func Ended(status string) (ended, unanswered bool) {
	switch status {
	case CallCompleted:
		return true, false
	case CallBusy, CallNoAnswer, CallFailed, CallCanceled:
		return true, true
	}
	return false, false
}

// ReplyKind is what a reply to a page asks.
type ReplyKind int

// What a reply asks.
const (
	// ReplyOther is anything else: it gets the help text.
	ReplyOther ReplyKind = iota
	// ReplyAcknowledge acknowledges the latest page to the number.
	ReplyAcknowledge
	// ReplyCode acknowledges the page whose code it carries.
	ReplyCode
)

// ParseReply reads the body of a reply: "1" or "ack" (in any case)
// acknowledges the latest page; a code of codeDigits digits, alone or after
// "ack", acknowledges its page. Surrounding spaces and punctuation do not
// matter.
func ParseReply(body string, codeDigits int) (ReplyKind, string) {
	words := strings.FieldsFunc(strings.ToLower(body), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r)
	})
	if len(words) == 2 && (words[0] == "ack" || words[0] == "1") {
		words = words[1:]
	}
	if len(words) != 1 {
		return ReplyOther, ""
	}
	w := words[0]
	switch {
	case w == "1" || w == "ack":
		return ReplyAcknowledge, ""
	case len(w) == codeDigits && strings.Trim(w, "0123456789") == "":
		return ReplyCode, w
	}
	return ReplyOther, ""
}

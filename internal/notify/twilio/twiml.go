package twilio

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"unicode/utf8"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// TwiMLContentType is the type of every TwiML answer.
const TwiMLContentType = "text/xml; charset=utf-8"

// Bounds of what TwiML answers say or text. Twilio reads <Say> text of up
// to 4,096 characters; a page is read in well under a minute.
const (
	// MaxSayChars bounds the text of one <Say>.
	MaxSayChars = 1000
	// MaxReplyChars bounds the text of one <Message> reply: two GSM-7
	// segments at most, and fewer characters where Reply must cut it to
	// MaxSMSSegments.
	MaxReplyChars = 2 * gsmPart
)

// GatherDigitsTimeout is how long, in seconds, a call waits for a key.
const GatherDigitsTimeout = 8

// Gather is the TwiML that reads say and waits for one key, posted to
// action; without a key, the call goes on at redirect (to read it again,
// or to hang up).
func Gather(say, action, redirect string) []byte {
	return render(func(e *xml.Encoder) {
		start := xml.StartElement{Name: xml.Name{Local: "Gather"}, Attr: []xml.Attr{
			{Name: xml.Name{Local: "input"}, Value: "dtmf"},
			{Name: xml.Name{Local: "numDigits"}, Value: "1"},
			{Name: xml.Name{Local: "timeout"}, Value: strconv.Itoa(GatherDigitsTimeout)},
			{Name: xml.Name{Local: "action"}, Value: action},
			{Name: xml.Name{Local: "method"}, Value: "POST"},
		}}
		_ = e.EncodeToken(start)
		element(e, "Say", bounded.Runes(say, MaxSayChars))
		_ = e.EncodeToken(start.End())
		if redirect != "" {
			_ = e.EncodeElement(redirect, xml.StartElement{Name: xml.Name{Local: "Redirect"},
				Attr: []xml.Attr{{Name: xml.Name{Local: "method"}, Value: "POST"}}})
		}
	})
}

// SayAndHangUp is the TwiML that reads say and ends the call.
func SayAndHangUp(say string) []byte {
	return render(func(e *xml.Encoder) {
		element(e, "Say", bounded.Runes(say, MaxSayChars))
		_ = e.EncodeToken(xml.StartElement{Name: xml.Name{Local: "Hangup"}})
		_ = e.EncodeToken(xml.EndElement{Name: xml.Name{Local: "Hangup"}})
	})
}

// Reply is the TwiML that answers an incoming text with text, cut to
// MaxSMSSegments segments; an empty text answers nothing.
func Reply(text string) []byte {
	return render(func(e *xml.Encoder) {
		if text != "" {
			element(e, "Message", fitSegments(text))
		}
	})
}

// fitSegments cuts text to the longest start that, marked as cut, takes
// at most MaxSMSSegments segments.
func fitSegments(text string) string {
	fits := func(s string) bool { return Segments(s) <= MaxSMSSegments }
	if utf8.RuneCountInString(text) <= MaxReplyChars && fits(text) {
		return text
	}
	n := notify.LongestFit(0, min(utf8.RuneCountInString(text), MaxReplyChars), func(k int) bool { return fits(cutMarked(text, k)) })
	return cutMarked(text, n)
}

func element(e *xml.Encoder, name, text string) {
	_ = e.EncodeElement(text, xml.StartElement{Name: xml.Name{Local: name}})
}

// render wraps what body encodes in <Response>. Encoding strings into a
// buffer cannot fail; text is escaped by the encoder, so nothing a title
// holds can add an element.
func render(body func(*xml.Encoder)) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	e := xml.NewEncoder(&b)
	start := xml.StartElement{Name: xml.Name{Local: "Response"}}
	_ = e.EncodeToken(start)
	body(e)
	_ = e.EncodeToken(start.End())
	_ = e.Flush()
	return b.Bytes()
}

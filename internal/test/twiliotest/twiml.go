package twiliotest

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// TwiML is what a TwiML answer says, in the parts Klaxon uses.
type TwiML struct {
	// Say are the texts of every <Say>, in order, those in a <Gather>
	// included.
	Say []string
	// Gather is the <Gather>, if any.
	Gather *Gather
	// Redirect is the URL of the <Redirect>, if any, and its method.
	Redirect, RedirectMethod string
	// Hangup is whether the answer ends the call.
	Hangup bool
	// Message is the text of a <Message>, the reply to an incoming text.
	Message string
	// Verbs are the names of the verbs of <Response>, in order.
	Verbs []string

	// url is where the answer came from, to resolve relative URLs.
	url string
}

// Gather is a <Gather>: what it says, and where the keys go.
type Gather struct {
	Action, Method, Input string
	NumDigits, Timeout    string
	Say                   []string
}

// twimlDoc is the document as encoding/xml reads it.
type twimlDoc struct {
	XMLName xml.Name    `xml:"Response"`
	Verbs   []twimlVerb `xml:",any"`
}

type twimlVerb struct {
	XMLName xml.Name
	Attrs   []xml.Attr  `xml:",any,attr"`
	Text    string      `xml:",chardata"`
	Nested  []twimlVerb `xml:",any"`
}

func (v twimlVerb) attr(name string) string {
	for _, a := range v.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// ParseTwiML reads a TwiML answer. It fails on a document that is not
// <Response>, on a verb Twilio does not know in the places Klaxon uses, and
// on a <Say> or <Message> nested where Twilio would refuse it.
func ParseTwiML(doc string) (TwiML, error) {
	var d twimlDoc
	if err := xml.Unmarshal([]byte(doc), &d); err != nil {
		return TwiML{}, fmt.Errorf("parsing TwiML: %w", err)
	}
	var t TwiML
	for _, v := range d.Verbs {
		name := v.XMLName.Local
		t.Verbs = append(t.Verbs, name)
		switch name {
		case "Say":
			t.Say = append(t.Say, strings.TrimSpace(v.Text))
		case "Gather":
			if t.Gather != nil {
				return TwiML{}, errors.New("more than one <Gather>")
			}
			g := &Gather{Action: v.attr("action"), Method: v.attr("method"), Input: v.attr("input"),
				NumDigits: v.attr("numDigits"), Timeout: v.attr("timeout")}
			for _, n := range v.Nested {
				switch n.XMLName.Local {
				case "Say", "Play", "Pause":
					if n.XMLName.Local == "Say" {
						g.Say = append(g.Say, strings.TrimSpace(n.Text))
						t.Say = append(t.Say, strings.TrimSpace(n.Text))
					}
				default:
					return TwiML{}, fmt.Errorf("<%s> inside <Gather>", n.XMLName.Local)
				}
			}
			t.Gather = g
		case "Redirect":
			t.Redirect, t.RedirectMethod = strings.TrimSpace(v.Text), v.attr("method")
		case "Hangup":
			t.Hangup = true
		case "Message":
			t.Message = strings.TrimSpace(v.Text)
		case "Play", "Pause", "Reject", "Dial", "Record", "Enqueue", "Leave", "Connect", "Pay", "Prompt", "Refer", "Start", "Stop":
		default:
			return TwiML{}, fmt.Errorf("<%s> is not a TwiML verb", name)
		}
	}
	return t, nil
}

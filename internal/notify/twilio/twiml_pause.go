package twilio

import (
	"encoding/xml"
	"strconv"
)

// PauseAndRedirect is the TwiML that keeps a call waiting for seconds,
// then fetches its next TwiML from redirect: an answer for a moment when
// the next step cannot be served yet, which a 5xx would end the call on.
func PauseAndRedirect(seconds int, redirect string) []byte {
	return render(func(e *xml.Encoder) {
		_ = e.EncodeToken(xml.StartElement{Name: xml.Name{Local: "Pause"},
			Attr: []xml.Attr{{Name: xml.Name{Local: "length"}, Value: strconv.Itoa(seconds)}}})
		_ = e.EncodeToken(xml.EndElement{Name: xml.Name{Local: "Pause"}})
		_ = e.EncodeElement(redirect, xml.StartElement{Name: xml.Name{Local: "Redirect"},
			Attr: []xml.Attr{{Name: xml.Name{Local: "method"}, Value: "POST"}}})
	})
}

package twilio

import (
	"net/url"
	"strings"
)

// The callbacks Klaxon's receiver serves for a twilio channel, under the
// public URL: /twilio/{namespace}/{channel}/ and one of these.
const (
	// PathSMS takes texts sent to the channel's number: set it as the
	// number's messaging webhook (HTTP POST).
	PathSMS = "sms"
	// PathVoice answers a call Klaxon placed with the TwiML that reads the
	// page.
	PathVoice = "voice"
	// PathGather takes the key pressed during that call.
	PathGather = "voice/gather"
	// PathStatus takes the call's status when it ends.
	PathStatus = "voice/status"
)

// TokenParam is the query parameter of a call's callbacks that carries the
// page's signed acknowledge token.
const TokenParam = "t"

// CallbackURL is the URL of the receiver's callback path for the channel
// namespace/channel under publicURL, with the page's token when not empty.
// Twilio signs the URL as given, query included.
func CallbackURL(publicURL, namespace, channel, path, token string) string {
	u := strings.TrimRight(publicURL, "/") + "/twilio/" + url.PathEscape(namespace) + "/" + url.PathEscape(channel) + "/" + path
	if token != "" {
		u += "?" + TokenParam + "=" + url.QueryEscape(token)
	}
	return u
}

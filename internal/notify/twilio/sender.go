package twilio

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/phone"
)

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// apiVersion is the version of Twilio's REST API that texts and calls.
const apiVersion = "2010-04-01"

// RingSeconds is how long a call rings before Twilio gives up on it as
// unanswered: long enough to wake someone. Twilio adds about 5 seconds, and
// most voicemail picks up after 20 to 30 seconds of ringing; a call that
// reaches voicemail completes without an acknowledgement, which the
// receiver counts as a failed delivery, so a shorter ring only fails
// sooner, never wrongly.
const RingSeconds = 20

// KindVoice and KindSMS are the kinds of a contact of a twilio channel,
// as notify.Message.Kind carries them: the API's values.
const (
	KindVoice = string(klaxonv1alpha1.ContactKindVoice)
	KindSMS   = string(klaxonv1alpha1.ContactKindSMS)
)

// Config is what a Sender is built from.
type Config struct {
	// BaseURL is the REST API's base, DefaultBaseURL when empty.
	BaseURL string
	// AccountSID and AuthToken are the account's credentials, sent as
	// HTTP basic auth.
	AccountSID, AuthToken string
	// From is the channel's number, in E.164 form.
	From string
	// PublicURL is where Klaxon's receiver is reached; calls need it, for
	// Twilio fetches what a call says from there.
	PublicURL string
	// Namespace and Channel name the NotificationChannel, for the
	// callback URLs of calls.
	Namespace, Channel string
	// Egress decides where the sender connects.
	Egress *egress.Policy
	// HTTPClient replaces the guarded client, for tests.
	HTTPClient *http.Client
}

// Sender texts and calls through Twilio's REST API.
type Sender struct {
	endpoint  string // BaseURL/2010-04-01/Accounts/{AccountSid}/
	sid       string
	token     string
	from      string
	publicURL string
	namespace string
	channel   string
	client    *http.Client
}

var _ notify.Sender = (*Sender)(nil)

// New checks the settings and returns a Sender. Its errors are sentences
// about the settings that never quote a credential.
func New(c Config) (*Sender, error) {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := notify.CheckBaseURL("Twilio base", base)
	switch {
	case err != nil:
		return nil, err
	case c.AccountSID == "":
		return nil, errors.New("the Twilio account SID is empty")
	case !sidPattern.MatchString(c.AccountSID) || !strings.HasPrefix(c.AccountSID, "AC"):
		return nil, errors.New("the Twilio account SID is not one: AC and 32 hexadecimal digits")
	case c.AuthToken == "":
		return nil, errors.New("the Twilio auth token is empty")
	}
	if err := notify.CheckToken("Twilio auth", c.AuthToken); err != nil {
		return nil, err
	}
	if !phone.IsNumber(c.From) {
		return nil, errors.New("the Twilio from number is not a phone number in E.164 form (+ and up to 15 digits)")
	}
	client := c.HTTPClient
	if client == nil {
		client = notify.HTTPClient(c.Egress)
	}
	return &Sender{
		endpoint:  strings.TrimRight(u.String(), "/") + "/" + apiVersion + "/Accounts/" + c.AccountSID + "/",
		sid:       c.AccountSID,
		token:     c.AuthToken,
		from:      c.From,
		publicURL: c.PublicURL,
		namespace: c.Namespace,
		channel:   c.Channel,
		client:    client,
	}, nil
}

// Send calls m.Address when m.Kind is voice and texts it otherwise, and
// returns the call's or the message's SID. Twilio's refusals (4xx but 408
// and 429) are Permanent; rate limits, server errors and network failures
// are worth retrying.
func (s *Sender) Send(ctx context.Context, m *notify.Message) (string, error) {
	if !phone.IsNumber(m.Address) {
		return "", notify.Permanent(errors.New("the contact's address is not a phone number in E.164 form"))
	}
	to := phone.Mask(m.Address)
	if m.Kind == KindVoice {
		form, err := s.callForm(m)
		switch {
		case errors.Is(err, errNoToken):
			// The acknowledge key has not loaded yet: the retry's message
			// is built anew and carries a token once it has.
			return "", err
		case err != nil:
			return "", notify.Permanent(err)
		}
		ref, err := s.create(ctx, "Calls.json", form)
		if err != nil {
			return "", fmt.Errorf("calling %s: %w", to, err)
		}
		return ref, nil
	}
	form := url.Values{"To": {m.Address}, "From": {s.from}, "Body": {SMSText(m)}}
	ref, err := s.create(ctx, "Messages.json", form)
	if err != nil {
		return "", fmt.Errorf("texting %s: %w", to, err)
	}
	return ref, nil
}

// errNoToken is a call without an acknowledge token, which could not be
// answered: the acknowledge key is not loaded (yet).
var errNoToken = errors.New("a call needs acknowledge links: without a token the call could not be answered (the acknowledge key is not loaded)")

// callForm is the request creating a call: Twilio fetches what it says
// from the receiver when answered, and posts its final status there.
func (s *Sender) callForm(m *notify.Message) (url.Values, error) {
	if m.Stakeholder != nil {
		return nil, errors.New("news for stakeholders is texted, not called: use a contact of kind sms")
	}
	if m.Notice != nil {
		// A shift notice's call only reads, as a bundle's does: it is
		// about no incident, so no callback may record anything.
		return url.Values{
			"To":      {m.Address},
			"From":    {s.from},
			"Twiml":   {string(SayAndHangUp(NoticeVoiceScript(m)))},
			"Timeout": {strconv.Itoa(RingSeconds)},
		}, nil
	}
	if m.Bundle != nil {
		// A bundle's call only reads: its TwiML goes with the request, and
		// no callback has a token of one incident to record or answer.
		return url.Values{
			"To":      {m.Address},
			"From":    {s.from},
			"Twiml":   {string(SayAndHangUp(BundleVoiceScript(m)))},
			"Timeout": {strconv.Itoa(RingSeconds)},
		}, nil
	}
	if s.publicURL == "" || s.namespace == "" || s.channel == "" {
		return nil, errors.New("a call needs the receiver's public URL (--public-url): Twilio asks it what to say")
	}
	token := m.Page.AcknowledgeToken
	if token == "" {
		return nil, errNoToken
	}
	return url.Values{
		"To":                   {m.Address},
		"From":                 {s.from},
		"Url":                  {CallbackURL(s.publicURL, s.namespace, s.channel, PathVoice, token)},
		"Method":               {http.MethodPost},
		"StatusCallback":       {CallbackURL(s.publicURL, s.namespace, s.channel, PathStatus, token)},
		"StatusCallbackMethod": {http.MethodPost},
		"Timeout":              {strconv.Itoa(RingSeconds)},
	}, nil
}

// resource is the part of a Message or Call resource the sender reads.
type resource struct {
	SID    string `json:"sid"`
	Status string `json:"status"`
}

// apiError is Twilio's error answer.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// create posts form to the account's resource list and returns the SID of
// the resource created.
func (s *Sender) create(ctx context.Context, resourceList string, form url.Values) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, notify.SendTimeout)
	defer cancel()
	header := http.Header{
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"Accept":        {"application/json"},
		"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(s.sid+":"+s.token))},
	}
	status, body, err := notify.Post(ctx, s.client, s.endpoint+resourceList, header, []byte(form.Encode()))
	switch {
	case status == 0:
		return "", err
	case status != http.StatusCreated && status != http.StatusOK:
		return "", answerError(status, body)
	case err != nil:
		// Twilio took the request; whether it sent cannot be told, and
		// sending again may text twice: a retry is the lesser harm for a
		// page.
		return "", err
	}
	var r resource
	if err := json.Unmarshal(body, &r); err != nil || !sidPattern.MatchString(r.SID) {
		// Not Twilio's API; a retry could repeat what went out, and a 2xx
		// status makes it Permanent.
		return "", notify.AnswerError(fmt.Sprintf("Twilio answered HTTP %d without a resource SID", status),
			status, []byte(phone.MaskAll(string(body))))
	}
	return r.SID, nil
}

// answerError describes a refusal by Twilio's error code, in Klaxon's words
// for the codes a page meets; whatever the other end wrote (baseURL may be
// any server) is kept for the log only, numbers masked.
func answerError(status int, body []byte) error {
	msg := fmt.Sprintf("Twilio answered HTTP %d", status)
	var e apiError
	if json.Unmarshal(body, &e) == nil && e.Code > 0 && e.Code < 100000 {
		msg += fmt.Sprintf(", error %d", e.Code)
		if words, ok := errorWords[e.Code]; ok {
			msg += ": " + words
		}
	}
	return notify.AnswerError(msg, status, []byte(phone.MaskAll(string(body))))
}

// errorWords says what Twilio's error codes a page meets mean
// (https://www.twilio.com/docs/errors/<code>).
var errorWords = map[int]string{
	20003: "authentication failed: check the account SID and auth token",
	20404: "no such resource: check the account SID and baseURL",
	21211: "the number is not a valid phone number",
	21606: "the from number is not one of the account's numbers that can send texts",
	21608: "the number is not verified, as a trial account requires",
	21610: "the number has replied STOP: it takes no texts until it replies START",
	21614: "the number is not a mobile number and cannot take texts",
	21215: "the account may not call that country or number",
}

package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// DefaultSlackAPIURL is Slack's Web API.
const DefaultSlackAPIURL = "https://slack.com/api/"

// Slack's limits that the blocks must respect, in characters.
const (
	slackSectionChars = 3000
	slackContextChars = 3000
)

// SlackConfig configures a Slack app that posts with chat.postMessage.
type SlackConfig struct {
	// APIURL is the base of the Web API; empty means DefaultSlackAPIURL.
	APIURL string
	// Token is the app's bot token (xoxb-…), with the chat:write scope.
	Token string
	// Client sends the requests; nil means a client with a SendTimeout
	// timeout that does not follow redirects.
	Client *http.Client
}

type slack struct {
	endpoint string
	token    string
	client   *http.Client
}

// NewSlack returns a Sender that posts to the Slack channel or user ID of
// the message's address. Its errors are sentences fit for a condition
// message.
func NewSlack(c SlackConfig) (Sender, error) {
	api := c.APIURL
	if api == "" {
		api = DefaultSlackAPIURL
	}
	u, err := checkHTTPURL("Slack API", api)
	if err != nil {
		return nil, err
	}
	if c.Token == "" {
		return nil, errors.New("the Slack token is empty: set the app's bot token (xoxb-…)")
	}
	if err = checkToken("Slack", c.Token); err != nil {
		return nil, err
	}
	base := u.String()
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return &slack{endpoint: base + "chat.postMessage", token: c.Token, client: httpClient(c.Client)}, nil
}

// slackRequest is the body of chat.postMessage.
type slackRequest struct {
	Channel string `json:"channel"`
	// Text is the notification and the fallback for clients without
	// blocks.
	Text        string       `json:"text"`
	Blocks      []slackBlock `json:"blocks"`
	UnfurlLinks bool         `json:"unfurl_links"`
	UnfurlMedia bool         `json:"unfurl_media"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackResponse is the part of Slack's answer Klaxon reads.
type slackResponse struct {
	OK      bool   `json:"ok"`
	Error   string `json:"error"`
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// slackRetryable are the ok:false errors worth retrying: Slack's own
// trouble and rate limits. Every other error, known or not, is a refusal
// that retrying repeats (channel_not_found, not_in_channel, invalid_auth,
// account_inactive, token_revoked, is_archived, msg_too_long, no_text,
// user_not_found, invalid_arguments, …).
var slackRetryable = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
}

// maxRefBytes is the limit of a notification's ref in the Incident status.
const maxRefBytes = 256

// Send posts the message with chat.postMessage and returns "channel/ts".
func (s *slack) Send(ctx context.Context, m *Message) (string, error) {
	if m.Address == "" || strings.ContainsFunc(m.Address, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", Permanent(errors.New("the Slack address must be a channel or user ID, such as C0123456789, without spaces"))
	}
	body, err := encodeJSON(slackRequest{
		Channel: m.Address,
		Text:    slackEscape(Text(m)),
		Blocks:  slackBlocks(m),
	})
	if err != nil {
		return "", Permanent(fmt.Errorf("encoding the Slack message: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	header := http.Header{
		"Content-Type":  {"application/json; charset=utf-8"},
		"Authorization": {"Bearer " + s.token},
	}
	code, answer, err := postJSON(ctx, s.client, s.endpoint, header, body)
	if code == 0 {
		return "", fmt.Errorf("posting to the Slack API: %w", err)
	}
	if code < 200 || code > 299 {
		return "", statusError("the Slack API", code, answer)
	}
	if err != nil {
		return "", fmt.Errorf("the Slack API answered HTTP %d but the answer broke off: %w", code, err)
	}
	var r slackResponse
	if err = json.Unmarshal(answer, &r); err != nil {
		// Not Slack's JSON: a proxy or a portal in the way, most likely
		// for a while only.
		return "", fmt.Errorf("the Slack API answered HTTP %d with something other than its JSON: %q", code, snippet(answer))
	}
	if !r.OK {
		reason := bounded.Bytes(oneLine(r.Error), 100)
		if reason == "" {
			reason = "no reason given"
		}
		err = fmt.Errorf("the Slack API refused the message: %s", reason)
		if slackRetryable[r.Error] {
			return "", err
		}
		return "", Permanent(err)
	}
	if r.Channel == "" || r.TS == "" {
		return "", nil
	}
	ref := r.Channel + "/" + r.TS
	if len(ref) > maxRefBytes {
		// Not something Slack sends; a cut ref would point nowhere.
		return "", nil
	}
	return ref, nil
}

// slackBlocks lays the message out: a section with the facts and, when
// there is one, a context line with the acknowledge link.
func slackBlocks(m *Message) []slackBlock {
	inc, page := &m.Incident, &m.Page
	var b strings.Builder
	title := slackEscape(Subject(m))
	if inc.URL != "" {
		title = slackLink(inc.URL, title)
	}
	b.WriteString("*" + title + "*\n")
	field := func(name, value string) {
		if value != "" {
			b.WriteString("*" + name + ":* " + slackEscape(value) + "\n")
		}
	}
	field("Service", oneLine(inc.Service))
	field("Phase", phase(inc))
	field("Escalation", fmt.Sprintf("level %d, round %d", page.Level, page.Round))
	field("Responder", responder(page))
	field("Paged", paged(page))
	field("Impact", multiLine(inc.Impact))
	blocks := []slackBlock{{
		Type: "section",
		Text: &slackText{Type: "mrkdwn", Text: bounded.Runes(strings.TrimSuffix(b.String(), "\n"), slackSectionChars)},
	}}
	if page.AcknowledgeURL != "" {
		blocks = append(blocks, slackBlock{
			Type: "context",
			Elements: []slackText{{
				Type: "mrkdwn",
				Text: bounded.Runes(slackLink(page.AcknowledgeURL, "Acknowledge")+" to stop the escalation", slackContextChars),
			}},
		})
	}
	return blocks
}

// slackEscape escapes the three characters Slack's mrkdwn treats as markup
// for links and mentions, so a title cannot ping @channel or fake a link.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackLink is <url|label>. A "|" in the URL would end it early, so it is
// percent-encoded.
func slackLink(url, label string) string {
	url = strings.ReplaceAll(slackEscape(oneLine(url)), "|", "%7C")
	return "<" + url + "|" + label + ">"
}

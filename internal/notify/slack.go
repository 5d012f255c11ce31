package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/egress"
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
	// Egress decides where the client connects; nil applies the built-in
	// refusals only.
	Egress *egress.Policy
	// Namespace and ChannelName name the NotificationChannel this app
	// sends for. With both set, pages carry Acknowledge and Resolve
	// buttons whose presses Slack sends to Klaxon's /slack/interactions,
	// which finds the channel's signing secret by these names. Buttons are
	// left out of pages about incidents in another namespace.
	Namespace, ChannelName string
	// Seal makes a button's value tamper-proof (Klaxon signs it with its
	// own key), so that a press can only act on the incident and channel
	// the page named, whoever else holds the channel's signing secret.
	// Without it, or when it returns "", pages carry no buttons.
	Seal func(value []byte) string
}

// Slack talks to Slack's Web API as one app: it posts pages (Send) and
// edits or adds to them when someone presses their buttons.
type Slack struct {
	// base is the Web API's URL, ending in "/".
	base   string
	token  string
	client *http.Client
	// namespace and channel name the NotificationChannel, for buttons.
	namespace, channel string
	seal               func([]byte) string
}

// NewSlack returns a Sender that posts to the Slack channel or user ID of
// the message's address. Its errors are sentences fit for a condition
// message.
func NewSlack(c SlackConfig) (Sender, error) {
	s, err := NewSlackClient(c)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// NewSlackClient is NewSlack returning the *Slack, whose Update and
// PostEphemeral answer button presses.
func NewSlackClient(c SlackConfig) (*Slack, error) {
	api := c.APIURL
	if api == "" {
		api = DefaultSlackAPIURL
	}
	u, err := CheckHTTPURL("Slack API", api)
	if err != nil {
		return nil, err
	}
	if c.Token == "" {
		return nil, errors.New("the Slack token is empty: set the app's bot token (xoxb-…)")
	}
	if err = CheckToken("Slack", c.Token); err != nil {
		return nil, err
	}
	base := u.String()
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return &Slack{base: base, token: c.Token, client: httpClient(c.Client, c.Egress), namespace: c.Namespace, channel: c.ChannelName, seal: c.Seal}, nil
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
	Type    string     `json:"type"`
	BlockID string     `json:"block_id,omitempty"`
	Text    *slackText `json:"text,omitempty"`
	// Elements are slackTexts in a context block, slackButtons in an
	// actions block.
	Elements []any `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackButton struct {
	Type     string        `json:"type"`
	Text     slackText     `json:"text"`
	ActionID string        `json:"action_id"`
	Value    string        `json:"value"`
	Style    string        `json:"style,omitempty"`
	Confirm  *slackConfirm `json:"confirm,omitempty"`
}

// slackConfirm is the dialog Slack shows before a button acts.
type slackConfirm struct {
	Title   slackText `json:"title"`
	Text    slackText `json:"text"`
	Confirm slackText `json:"confirm"`
	Deny    slackText `json:"deny"`
}

// The block IDs of a page. Update keeps only the facts of the message it
// edits: the link and the buttons are spent.
const (
	slackFactsBlock   = "klaxon_facts"
	slackLinkBlock    = "klaxon_ack_link"
	slackActionsBlock = "klaxon_actions"
	slackOutcomeBlock = "klaxon_outcome"
)

// The action IDs of a page's buttons.
const (
	SlackActionAcknowledge = "klaxon_ack"
	SlackActionResolve     = "klaxon_resolve"
)

// maxSlackValueChars is Slack's limit of a button's value.
const maxSlackValueChars = 2000

// SlackButtonValue is what a page's buttons carry: the incident, in the
// episode paged, and the NotificationChannel (of the incident's namespace)
// that sent it, whose signing secret verifies the press.
type SlackButtonValue struct {
	Namespace string `json:"ns"`
	Channel   string `json:"ch"`
	Name      string `json:"n"`
	UID       string `json:"uid"`
	Episode   int32  `json:"ep"`
}

// SlackButtonPurpose is what Klaxon seals button values for (see
// acklink.Signer.Seal).
const SlackButtonPurpose = "slack-button"

// ParseSlackButtonValue reads a button's value once it is unsealed (see
// SlackConfig.Seal). It checks the form, not that the value is genuine.
func ParseSlackButtonValue(value string) (SlackButtonValue, error) {
	var v SlackButtonValue
	if len(value) > maxSlackValueChars {
		return v, errors.New("the button value is too long")
	}
	if err := json.Unmarshal([]byte(value), &v); err != nil {
		return v, errors.New("the button value is not Klaxon's")
	}
	if v.Namespace == "" || v.Channel == "" || v.Name == "" || v.UID == "" || v.Episode < 1 {
		return v, errors.New("the button value lacks a field")
	}
	return v, nil
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
func (s *Slack) Send(ctx context.Context, m *Message) (string, error) {
	if m.Address == "" || strings.ContainsFunc(m.Address, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", Permanent(errors.New("the Slack address must be a channel or user ID, such as C0123456789, without spaces"))
	}
	body, err := EncodeJSON(slackRequest{
		Channel: m.Address,
		Text:    slackEscape(Text(m)),
		Blocks:  s.blocks(m),
	})
	if err != nil {
		return "", Permanent(fmt.Errorf("encoding the Slack message: %w", err))
	}
	r, err := s.call(ctx, "chat.postMessage", body)
	if err != nil {
		return "", err
	}
	// The ref is stored in status, and the API URL is the channel author's
	// choice: keep only what has the shape of Slack's IDs, never other text
	// an endpoint answered.
	if !slackRefChannel.MatchString(r.Channel) || !slackRefTS.MatchString(r.TS) {
		return "", nil
	}
	ref := r.Channel + "/" + r.TS
	if len(ref) > maxRefBytes {
		// Not something Slack sends; a cut ref would point nowhere.
		return "", nil
	}
	return ref, nil
}

// slackRefChannel and slackRefTS are the shapes of a Slack conversation ID
// and message timestamp.
var (
	slackRefChannel = regexp.MustCompile(`^[A-Z0-9]{1,32}$`)
	slackRefTS      = regexp.MustCompile(`^[0-9]{1,20}\.[0-9]{1,10}$`)
)

// call posts body to the Web API method and returns Slack's ok answer. Its
// errors are marked Permanent unless retrying may help.
func (s *Slack) call(ctx context.Context, method string, body []byte) (*slackResponse, error) {
	r := &slackResponse{}
	if err := s.callInto(ctx, method, body, r); err != nil {
		return nil, err
	}
	return r, nil
}

// callInto is call decoding Slack's ok answer into out.
func (s *Slack) callInto(ctx context.Context, method string, body []byte, out any) error {
	return s.callAs(ctx, method, "application/json; charset=utf-8", body, out)
}

// callForm is callInto for the methods that read their arguments from a
// form only: Slack takes JSON bodies for write methods alone, and ignores
// the arguments of a JSON body sent to a read method such as
// users.conversations.
func (s *Slack) callForm(ctx context.Context, method string, args url.Values, out any) error {
	return s.callAs(ctx, method, "application/x-www-form-urlencoded", []byte(args.Encode()), out)
}

// callAs posts body of the content type to the Web API method and decodes
// Slack's ok answer into out.
func (s *Slack) callAs(ctx context.Context, method, contentType string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	header := http.Header{
		"Content-Type":  {contentType},
		"Authorization": {"Bearer " + s.token},
	}
	code, answer, answerHeader, err := post(ctx, s.client, s.base+method, header, body)
	if code == 0 {
		return fmt.Errorf("posting to the Slack API: %w", err)
	}
	if code < 200 || code > 299 {
		// Slack answers a rate-limited call 429 with the seconds to wait.
		return withRetryAfter(statusError("the Slack API", code, answer), answerHeader)
	}
	if err != nil {
		return fmt.Errorf("the Slack API answered HTTP %d but the answer broke off: %w", code, err)
	}
	var r struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	notJSON := func() error {
		// Not Slack's JSON: a proxy or a portal in the way, most likely
		// for a while only.
		return Quiet(fmt.Sprintf("the Slack API answered HTTP %d with something other than its JSON", code), "answer: "+snippet(answer), nil)
	}
	if err = json.Unmarshal(answer, &r); err != nil {
		return notJSON()
	}
	if !r.OK {
		reason := bounded.Bytes(OneLine(r.Error), 100)
		if !slackErrorCode(reason) {
			// Slack's reasons are codes such as channel_not_found; any
			// other text is not Slack's, and stays out of the status.
			reason = "no reason given"
		}
		err = &SlackError{Code: reason}
		if slackRetryable[r.Error] {
			return withRetryAfter(err, answerHeader)
		}
		return Permanent(err)
	}
	if err = json.Unmarshal(answer, out); err != nil {
		return notJSON()
	}
	return nil
}

// SlackError is Slack's refusal of a call: ok:false and its error code.
type SlackError struct {
	// Code is Slack's error code, such as name_taken; "no reason given"
	// when the answer's was not one.
	Code string
}

func (e *SlackError) Error() string { return "the Slack API refused the message: " + e.Code }

// SlackErrorCode is the code of Slack's refusal behind err, "" when err is
// not one.
func SlackErrorCode(err error) string {
	var e *SlackError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// slackUpdateRequest is the body of chat.update.
type slackUpdateRequest struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Text    string `json:"text"`
	// Blocks replace the message's; an empty list would keep them.
	Blocks []any `json:"blocks"`
}

// Update edits the page posted as ts in channel (chat.update) to say text,
// such as "Acknowledged by ada": it keeps the facts of original, the
// message's blocks as Slack sent them with a button press, and replaces
// the acknowledge link and the buttons with text. The errors are
// classified as Send's.
func (s *Slack) Update(ctx context.Context, channel, ts, text string, original []json.RawMessage) error {
	if !slackID(channel) || !slackID(ts) {
		return Permanent(errors.New("the Slack channel and message timestamp must be IDs without spaces"))
	}
	var blocks []any
	for _, raw := range original {
		var b struct {
			BlockID string `json:"block_id"`
		}
		if json.Unmarshal(raw, &b) == nil && b.BlockID == slackFactsBlock {
			blocks = append(blocks, raw)
		}
	}
	text = slackEscape(OneLine(text))
	blocks = append(blocks, slackBlock{
		Type:     "context",
		BlockID:  slackOutcomeBlock,
		Elements: []any{slackText{Type: "mrkdwn", Text: bounded.Runes(text, slackContextChars)}},
	})
	body, err := EncodeJSON(slackUpdateRequest{Channel: channel, TS: ts, Text: text, Blocks: blocks})
	if err != nil {
		return Permanent(fmt.Errorf("encoding the Slack update: %w", err))
	}
	_, err = s.call(ctx, "chat.update", body)
	return err
}

// slackEphemeralRequest is the body of chat.postEphemeral.
type slackEphemeralRequest struct {
	Channel string `json:"channel"`
	User    string `json:"user"`
	Text    string `json:"text"`
}

// PostEphemeral shows text to user only, in channel
// (chat.postEphemeral): why a button press changed nothing.
func (s *Slack) PostEphemeral(ctx context.Context, channel, user, text string) error {
	if !slackID(channel) || !slackID(user) {
		return Permanent(errors.New("the Slack channel and user must be IDs without spaces"))
	}
	body, err := EncodeJSON(slackEphemeralRequest{Channel: channel, User: user, Text: slackEscape(OneLine(text))})
	if err != nil {
		return Permanent(fmt.Errorf("encoding the Slack message: %w", err))
	}
	_, err = s.call(ctx, "chat.postEphemeral", body)
	return err
}

// slackUserGroupRequest is the body of usergroups.users.update.
type slackUserGroupRequest struct {
	UserGroup string `json:"usergroup"`
	// Users is a comma-separated list of user IDs, as Slack takes it.
	Users string `json:"users"`
}

// maxUserGroupUsers bounds the users of one update, as a schedule bounds
// who is on call.
const maxUserGroupUsers = 256

// UpdateUserGroup sets the members of the user group groupID to users
// (usergroups.users.update, with the usergroups:write scope). Slack refuses
// an empty list, and so does UpdateUserGroup, without calling. The errors
// are classified as Send's: ratelimited and Slack's own trouble are worth
// a retry, a refusal such as invalid_users or no_such_subteam is Permanent.
func (s *Slack) UpdateUserGroup(ctx context.Context, groupID string, users []string) error {
	if !slackRefChannel.MatchString(groupID) {
		return Permanent(errors.New("the Slack user group must be an ID, such as S0614TZR7"))
	}
	if len(users) == 0 {
		return Permanent(errors.New("a Slack user group cannot be emptied: Slack needs at least one user"))
	}
	if len(users) > maxUserGroupUsers {
		return Permanent(fmt.Errorf("a Slack user group is set to at most %d users", maxUserGroupUsers))
	}
	for _, u := range users {
		if !slackID(u) || strings.Contains(u, ",") {
			return Permanent(errors.New("the Slack users must be IDs, such as U0123456789, without spaces or commas"))
		}
	}
	body, err := EncodeJSON(slackUserGroupRequest{UserGroup: groupID, Users: strings.Join(users, ",")})
	if err != nil {
		return Permanent(fmt.Errorf("encoding the Slack user group update: %w", err))
	}
	_, err = s.call(ctx, "usergroups.users.update", body)
	return err
}

// slackID reports whether s can be a Slack ID or timestamp: not empty, at
// most 255 bytes, no spaces or control characters.
func slackID(s string) bool {
	return s != "" && len(s) <= 255 && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// blocks lays the message out: a section with the facts, when there is
// one a context line with the acknowledge link, and for a page through a
// named channel the Acknowledge and Resolve buttons.
func (s *Slack) blocks(m *Message) []slackBlock {
	blocks := slackBlocks(m)
	if v, ok := s.buttonValue(m); ok {
		blocks = append(blocks, slackBlock{
			Type:    "actions",
			BlockID: slackActionsBlock,
			Elements: []any{
				slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: "Acknowledge"},
					ActionID: SlackActionAcknowledge, Value: v, Style: "primary"},
				slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: "Resolve"},
					ActionID: SlackActionResolve, Value: v, Confirm: &slackConfirm{
						Title:   slackText{Type: "plain_text", Text: "Resolve the incident?"},
						Text:    slackText{Type: "plain_text", Text: "Paging stops and the incident is marked resolved."},
						Confirm: slackText{Type: "plain_text", Text: "Resolve"},
						Deny:    slackText{Type: "plain_text", Text: "Cancel"},
					}},
			},
		})
	}
	return blocks
}

// buttonValue is the value of the page's buttons; false when the message
// gets none: news to stakeholders, a bundle (its one link acknowledges all
// its incidents; a button names one), a shift notice (about no incident), a sender that does not know its
// channel, or an incident of another namespace than the channel's.
func (s *Slack) buttonValue(m *Message) (string, bool) {
	inc := &m.Incident
	if m.Stakeholder != nil || m.Bundle != nil || m.Notice != nil || s.seal == nil || s.channel == "" || s.namespace == "" || inc.Namespace != s.namespace ||
		inc.Name == "" || inc.UID == "" || inc.Episode < 1 {
		return "", false
	}
	v, err := EncodeJSON(SlackButtonValue{Namespace: inc.Namespace, Channel: s.channel, Name: inc.Name, UID: inc.UID, Episode: inc.Episode})
	if err != nil {
		return "", false
	}
	sealed := s.seal(v)
	if sealed == "" || len(sealed) > maxSlackValueChars {
		return "", false
	}
	return sealed, true
}

// slackBlocks lays the message out: a section with the facts and, when
// there is one, a context line with the acknowledge link.
func slackBlocks(m *Message) []slackBlock {
	if m.Notice != nil {
		return slackNoticeBlocks(m.Notice)
	}
	if m.Bundle != nil {
		return slackBundleBlocks(m)
	}
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
	field("Service", OneLine(inc.Service))
	field("Phase", phase(inc))
	if news := m.Stakeholder; news != nil {
		if text := multiLine(news.Text); text != "" {
			update := "Update"
			if author := OneLine(news.Author); author != "" {
				update += " from " + author
			}
			field(update, text)
		}
		field("Postmortem", OneLine(news.PostmortemURL))
	} else {
		field("Escalation", fmt.Sprintf("level %d, round %d", page.Level, page.Round))
		field("Responder", responder(page))
		field("Paged", paged(page))
	}
	field("Impact", multiLine(inc.Impact))
	return slackFactsAndLink(b.String(), page.AcknowledgeURL, "Acknowledge", " to stop the escalation")
}

// slackFactsAndLink is a section of facts and, when url is set, a context
// line with the link.
func slackFactsAndLink(facts, url, label, after string) []slackBlock {
	blocks := []slackBlock{{
		Type:    "section",
		BlockID: slackFactsBlock,
		Text:    &slackText{Type: "mrkdwn", Text: bounded.Runes(strings.TrimSuffix(facts, "\n"), slackSectionChars)},
	}}
	if url != "" {
		blocks = append(blocks, slackBlock{
			Type:     "context",
			BlockID:  slackLinkBlock,
			Elements: []any{slackText{Type: "mrkdwn", Text: bounded.Runes(slackLink(url, label)+after, slackContextChars)}},
		})
	}
	return blocks
}

// slackBundleBlocks lays a bundle out: a section listing its first
// incidents and the command that lists them all and, when there is one, a
// context line with the link that acknowledges them all.
func slackBundleBlocks(m *Message) []slackBlock {
	b := m.Bundle
	var t strings.Builder
	t.WriteString("*" + slackEscape(Subject(m)) + "*\n")
	for _, line := range BundleLines(b, MaxBundleTitles) {
		t.WriteString("• " + slackEscape(line) + "\n")
	}
	if more := len(b.Incidents) - MaxBundleTitles; more > 0 {
		fmt.Fprintf(&t, "…and %d more\n", more)
	}
	if ns := OneLine(m.Incident.Namespace); ns != "" {
		t.WriteString("List them: `kubectl klaxon status -n " + slackEscape(ns) + "`\n")
	}
	return slackFactsAndLink(t.String(), b.AcknowledgeURL, "Acknowledge all", " to stop the escalation of every incident listed")
}

// slackNoticeBlocks lays a shift notice out: one section with its subject,
// the shift, its text and the schedule. It has no link: there is nothing
// to acknowledge.
func slackNoticeBlocks(n *ShiftNotice) []slackBlock {
	var t strings.Builder
	t.WriteString("*" + slackEscape(noticeSubject(n)) + "*\n")
	if shift := noticeShift(n); shift != "" {
		t.WriteString("*Shift:* " + slackEscape(shift) + "\n")
	}
	if text := multiLine(n.Text); text != "" {
		t.WriteString(slackEscape(text) + "\n")
	}
	t.WriteString("*Schedule:* " + slackEscape(noticeSchedule(n)) + "\n")
	return slackFactsAndLink(t.String(), "", "", "")
}

// slackEscape escapes the three characters Slack's mrkdwn treats as markup
// for links and mentions, so a title cannot ping @channel or fake a link.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackLink is <url|label>. A "|" in the URL would end it early, so it is
// percent-encoded.
func slackLink(url, label string) string {
	url = strings.ReplaceAll(slackEscape(OneLine(url)), "|", "%7C")
	return "<" + url + "|" + label + ">"
}

// slackErrorCode reports whether s reads like one of Slack's error codes
// (invalid_auth, ratelimited): lower-case letters, digits and underscores.
func slackErrorCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

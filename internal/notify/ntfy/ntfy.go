// Package ntfy pushes pages to phones through an ntfy server, self-hosted
// or public: the title, a short text, tags, a priority from the severity
// (SEV1 has the max priority), a click URL and an Acknowledge button that
// posts the signed acknowledge link. It knows nothing of Kubernetes.
package ntfy

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
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// Bounds of a publication and of what is read of an answer.
const (
	// MaxMessageBytes keeps a message under ntfy's 4,096 bytes, beyond
	// which the server turns it into an attachment (refused where
	// attachments are off).
	MaxMessageBytes = 4000
	// MaxBodyBytes bounds the encoded JSON publication: ntfy reads at most
	// twice its message limit (8,192 bytes by default) of it and answers
	// 413 beyond. JSON escaping can double a title full of quotes.
	MaxBodyBytes = 8000
)

// Priorities of ntfy, from 1 (min) to 5 (max). Max alone does not ring
// through do-not-disturb: on Android the person enables "Override Do Not
// Disturb" for the max priority notification channel in the ntfy app.
const (
	PriorityDefault = 3
	PriorityHigh    = 4
	PriorityMax     = 5
)

// ActionLabel is the label of a page's acknowledge button, and
// BundleActionLabel that of a bundle's, which acknowledges every incident
// it names.
const (
	ActionLabel       = "Acknowledge"
	BundleActionLabel = "Acknowledge all"
)

// topicPattern is what ntfy accepts as a topic name.
var topicPattern = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// TopicRule says what a topic is, for messages refusing one.
const TopicRule = "1 to 64 letters, digits, - or _"

// IsTopic reports whether s is a topic ntfy accepts.
func IsTopic(s string) bool { return topicPattern.MatchString(s) }

// Config is what a Sender is built from.
type Config struct {
	// URL is the ntfy server's root URL, such as https://ntfy.sh.
	URL string
	// Token, when set, is an access token sent as a bearer token.
	Token string
	// Egress decides where the sender connects.
	Egress *egress.Policy
	// HTTPClient replaces the guarded client, for tests.
	HTTPClient *http.Client
}

// Sender publishes messages to an ntfy server; a message's address is the
// topic.
type Sender struct {
	endpoint string
	token    string
	client   *http.Client
}

var _ notify.Sender = (*Sender)(nil)

// New checks the settings and returns a Sender. Its errors are sentences
// about the settings that never quote the token.
func New(c Config) (*Sender, error) {
	u, err := notify.CheckBaseURL("ntfy", c.URL)
	if err != nil {
		return nil, err
	}
	if err := notify.CheckToken("ntfy", c.Token); err != nil {
		return nil, err
	}
	client := c.HTTPClient
	if client == nil {
		client = notify.HTTPClient(c.Egress)
	}
	// JSON is published to the server's root; a server behind a path
	// prefix has its root there.
	return &Sender{endpoint: strings.TrimRight(u.String(), "/") + "/", token: c.Token, client: client}, nil
}

// publication is ntfy's JSON publish body.
type publication struct {
	Topic    string   `json:"topic"`
	Title    string   `json:"title,omitempty"`
	Message  string   `json:"message"`
	Tags     []string `json:"tags,omitempty"`
	Priority int      `json:"priority"`
	Click    string   `json:"click,omitempty"`
	Actions  []action `json:"actions,omitempty"`
}

// action is an action button of a notification.
type action struct {
	Action string `json:"action"`
	Label  string `json:"label"`
	URL    string `json:"url"`
	Method string `json:"method,omitempty"`
	Clear  bool   `json:"clear,omitempty"`
}

// published is the part of ntfy's answer the sender reads.
type published struct {
	ID    string `json:"id"`
	Event string `json:"event"`
}

// apiError is ntfy's error answer.
type apiError struct {
	Code  int    `json:"code"`
	HTTP  int    `json:"http"`
	Error string `json:"error"`
	Link  string `json:"link"`
}

// idPattern bounds the message ID kept as the reference.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Send publishes m to the topic m.Address and returns ntfy's message ID.
// ntfy's refusals (4xx but 408 and 429) are Permanent; rate limits, server
// errors and network failures are worth retrying.
func (s *Sender) Send(ctx context.Context, m *notify.Message) (string, error) {
	if !IsTopic(m.Address) {
		return "", notify.Permanent(errors.New("the contact's address is not an ntfy topic: " + TopicRule))
	}
	body, err := encodeBounded(publicationOf(m))
	if err != nil {
		return "", notify.Permanent(fmt.Errorf("encoding the ntfy message: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, notify.SendTimeout)
	defer cancel()
	header := http.Header{"Content-Type": {"application/json"}}
	if s.token != "" {
		header.Set("Authorization", "Bearer "+s.token)
	}
	status, answer, err := notify.Post(ctx, s.client, s.endpoint, header, body)
	if status == 0 {
		return "", fmt.Errorf("publishing to ntfy: %w", err)
	}
	if status < 200 || status > 299 {
		return "", answerError(status, answer)
	}
	// A 2xx answer means published; the ID is kept when ntfy gave one.
	var p published
	if json.Unmarshal(answer, &p) == nil && idPattern.MatchString(p.ID) {
		return p.ID, nil
	}
	return "", nil
}

// publicationOf is what Send publishes for m.
func publicationOf(m *notify.Message) publication {
	inc := &m.Incident
	p := publication{
		Topic:    m.Address,
		Title:    notify.Subject(m),
		Message:  body(m),
		Priority: PriorityDefault,
	}
	if n := m.Notice; n != nil {
		// A shift notice informs and acknowledges nothing: the default
		// priority, its kind as a tag, no action and no link.
		if kind := strings.ToLower(tagLine(n.Kind)); kind != "" {
			p.Tags = append(p.Tags, kind)
		}
		return p
	}
	sev := m.Severity() // a bundle's is its worst incident's
	if tag := strings.ToLower(tagLine(sev)); tag != "" {
		p.Tags = append(p.Tags, tag)
	}
	if news := m.Stakeholder; news != nil {
		// News informs; it keeps the default priority.
		if ev := strings.ToLower(tagLine(news.Event)); ev != "" {
			p.Tags = append(p.Tags, ev)
		}
		p.Click = linkOrEmpty(inc.URL)
		return p
	}
	switch sev {
	case "SEV1":
		p.Priority = PriorityMax
		p.Tags = append(p.Tags, "rotating_light")
	case "SEV2":
		p.Priority = PriorityHigh
		p.Tags = append(p.Tags, "warning")
	}
	if ack := linkOrEmpty(m.AcknowledgeURL()); ack != "" {
		label := ActionLabel
		if m.Bundle != nil {
			label = BundleActionLabel
		}
		p.Click = ack
		p.Actions = []action{{Action: "http", Label: label, URL: ack, Method: http.MethodPost, Clear: true}}
	} else {
		p.Click = linkOrEmpty(inc.URL)
	}
	return p
}

// encodeBounded encodes p in at most MaxBodyBytes: it shortens the
// message, then the title, as little as it must. A link too long to fit
// even with both empty is dropped from the click and the button; the
// message still shows it, cut or whole.
func encodeBounded(p publication) ([]byte, error) {
	body, err := notify.EncodeJSON(p)
	if err != nil || len(body) <= MaxBodyBytes {
		return body, err
	}
	bare := p
	bare.Message, bare.Title = "", ""
	if b, err := notify.EncodeJSON(bare); err != nil {
		return nil, err
	} else if len(b) > MaxBodyBytes {
		p.Click, p.Actions = "", nil
	}
	message, title := p.Message, p.Title
	encodeWith := func(msg, ttl string) []byte {
		q := p
		q.Message, q.Title = msg, ttl
		b, _ := notify.EncodeJSON(q) // p encoded above; strings cannot fail
		return b
	}
	fits := func(msg, ttl string) bool { return len(encodeWith(msg, ttl)) <= MaxBodyBytes }
	if fits(message, title) {
		return encodeWith(message, title), nil
	}
	if fits("", title) {
		n := notify.LongestFit(0, len(message), func(n int) bool { return fits(bounded.Bytes(message, n), title) })
		return encodeWith(bounded.Bytes(message, n), title), nil
	}
	n := notify.LongestFit(0, len(title), func(n int) bool { return fits("", bounded.Bytes(title, n)) })
	return encodeWith("", bounded.Bytes(title, n)), nil
}

// body is the message's text without its subject, which is the title.
func body(m *notify.Message) string {
	text := strings.TrimPrefix(notify.Text(m), notify.Subject(m))
	return bounded.Bytes(strings.TrimSpace(text), MaxMessageBytes)
}

// tagLine keeps a tag to letters, digits, - and _.
func tagLine(s string) string {
	return bounded.Prefix(strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, s), 32)
}

// linkOrEmpty is u when it is an absolute http or https URL.
func linkOrEmpty(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || len(u) > 2048 {
		return ""
	}
	return u
}

// answerError describes a refusal by ntfy's error code, in Klaxon's words
// for the codes a push meets; whatever the other end wrote (url may be any
// server) is kept for the log only.
func answerError(status int, body []byte) error {
	msg := fmt.Sprintf("ntfy answered HTTP %d", status)
	var e apiError
	if json.Unmarshal(body, &e) == nil && e.Code > 0 && e.Code < 100000 {
		msg += fmt.Sprintf(", error %d", e.Code)
		if words, ok := errorWords[e.Code]; ok {
			msg += ": " + words
		}
	}
	return notify.AnswerError(msg, status, body)
}

// errorWords says what ntfy's error codes a push meets mean.
var errorWords = map[int]string{
	40101: "unauthorized: check the channel's token",
	40301: "forbidden: the token may not publish to this topic",
	41303: "the message is too large",
	42901: "too many requests",
}

// Package ntfytest stands in for an ntfy server in tests: it answers
// ntfy's publish API as documented (JSON to the root URL, or a body to
// /{topic} with X-Title, X-Priority, X-Tags, X-Click and X-Actions), with
// access tokens and ntfy's error JSON, records what was published, and
// presses a notification's action buttons as the ntfy app does.
package ntfytest

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/klaxon-dev/klaxon/internal/test/failqueue"
)

// Limits of ntfy's defaults: a message of at most MessageSizeLimit bytes
// (a longer body becomes an attachment, which this server, like one
// without an attachment cache, refuses), and a JSON publication of at most
// twice that.
const (
	MessageSizeLimit = 4096
	JSONBodyLimit    = 2 * MessageSizeLimit
	// maxBodyBytes bounds what the server reads of a request.
	maxBodyBytes = 1 << 20
)

// Options configure a Server.
type Options struct {
	// Token, when set, is the access token publishing requires (as a
	// bearer token, or as the password of basic auth).
	Token string
	// Clock stamps the messages; the real clock when nil.
	Clock clock.PassiveClock
}

// Action is an action button of a notification.
type Action struct {
	ID      string            `json:"id,omitempty"`
	Action  string            `json:"action"`
	Label   string            `json:"label"`
	URL     string            `json:"url,omitempty"`
	Method  string            `json:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	Clear   bool              `json:"clear,omitempty"`
}

// Message is a published notification.
type Message struct {
	ID       string   `json:"id"`
	Time     int64    `json:"time"`
	Expires  int64    `json:"expires,omitempty"`
	Event    string   `json:"event"`
	Topic    string   `json:"topic"`
	Title    string   `json:"title,omitempty"`
	Message  string   `json:"message"`
	Priority int      `json:"priority,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Click    string   `json:"click,omitempty"`
	Actions  []Action `json:"actions,omitempty"`
	// JSON is whether it was published as JSON rather than with headers.
	JSON bool `json:"-"`
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's root URL.
	URL string

	t      testing.TB
	token  string
	client *http.Client
	clock  clock.PassiveClock

	failNext failqueue.Queue
	mu       sync.Mutex
	messages []Message
}

// Start starts a server, stopped when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{t: t, token: o.Token, clock: o.Clock, client: &http.Client{Timeout: 10 * time.Second}}
	if s.clock == nil {
		s.clock = clock.RealClock{}
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Messages are the notifications published, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// FailNext makes the next publication answer status (429 or a 5xx) with
// ntfy's error JSON; calls queue up.
func (s *Server) FailNext(status int) {
	s.failNext.Push(status)
}

// Press performs the action labelled label of message i as the ntfy app
// does: an http action sends its method (POST by default), headers and
// body to its URL; a view action opens its URL (a GET). Redirects are
// followed, as the Android app's HTTP client (OkHttp) does by default. It
// returns the final answer's status and body.
func (s *Server) Press(i int, label string) (status int, body string) {
	s.t.Helper()
	msgs := s.Messages()
	if i < 0 || i >= len(msgs) {
		s.t.Fatalf("ntfytest: no message %d (%d published)", i, len(msgs))
		return 0, ""
	}
	var a *Action
	for j := range msgs[i].Actions {
		if msgs[i].Actions[j].Label == label {
			a = &msgs[i].Actions[j]
			break
		}
	}
	if a == nil {
		s.t.Fatalf("ntfytest: message %d has no action %q", i, label)
		return 0, ""
	}
	var req *http.Request
	var err error
	switch a.Action {
	case "http":
		method := a.Method
		if method == "" {
			method = http.MethodPost
		}
		var rd io.Reader
		if a.Body != "" {
			rd = strings.NewReader(a.Body)
		}
		req, err = http.NewRequest(method, a.URL, rd)
		if err == nil {
			for k, v := range a.Headers {
				req.Header.Set(k, v)
			}
		}
	case "view":
		req, err = http.NewRequest(http.MethodGet, a.URL, nil)
	default:
		s.t.Fatalf("ntfytest: a %s action is not pressed over HTTP", a.Action)
		return 0, ""
	}
	if err != nil {
		s.t.Fatalf("ntfytest: the action %q: %v", label, err)
		return 0, ""
	}
	req.Header.Set("User-Agent", "ntfy/1.0")
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("ntfytest: pressing %q: %v", label, err)
		return 0, ""
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	return resp.StatusCode, string(b)
}

// topicPattern is what ntfy accepts as a topic.
var topicPattern = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// The errors of ntfy's API the server answers.
var (
	errUnauthorized = apiError{40101, http.StatusUnauthorized, "unauthorized", "https://ntfy.sh/docs/publish/#authentication"}
	errForbidden    = apiError{40301, http.StatusForbidden, "forbidden", "https://ntfy.sh/docs/publish/#authentication"}
	errTopicInvalid = apiError{40009, http.StatusBadRequest, "invalid request: topic invalid", ""}
	errJSONInvalid  = apiError{40017, http.StatusBadRequest, "invalid request: request body must be message JSON", "https://ntfy.sh/docs/publish/#publish-as-json"}
	errPriority     = apiError{40007, http.StatusBadRequest, "invalid priority parameter", "https://ntfy.sh/docs/publish/#message-priority"}
	errAttachments  = apiError{40014, http.StatusBadRequest, "invalid request: attachments not allowed", "https://ntfy.sh/docs/config/#attachments"}
	errJSONTooLarge = apiError{41303, http.StatusRequestEntityTooLarge, "JSON body too large", ""}
	errActions      = apiError{40018, http.StatusBadRequest, "invalid request: actions invalid", "https://ntfy.sh/docs/publish/#action-buttons"}
	errNotFound     = apiError{40401, http.StatusNotFound, "page not found", ""}
	errTooMany      = apiError{42901, http.StatusTooManyRequests, "limit reached: too many requests", "https://ntfy.sh/docs/publish/#limitations"}
	errInternal     = apiError{50001, http.StatusInternalServerError, "internal server error", ""}
)

// apiError is ntfy's error JSON.
type apiError struct {
	Code  int    `json:"code"`
	HTTP  int    `json:"http"`
	Error string `json:"error"`
	Link  string `json:"link,omitempty"`
}

func (e apiError) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.HTTP)
	_ = json.NewEncoder(w).Encode(e)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		errNotFound.write(w)
		return
	}
	if e, ok := s.authorize(r); !ok {
		e.write(w)
		return
	}
	fail := s.failNext.Pop()
	switch {
	case fail == http.StatusTooManyRequests:
		errTooMany.write(w)
		return
	case fail != 0:
		e := errInternal
		e.HTTP = fail
		e.write(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		errJSONInvalid.write(w)
		return
	}
	var m Message
	var e *apiError
	if topic := strings.Trim(r.URL.Path, "/"); topic == "" {
		if len(body) > JSONBodyLimit {
			errJSONTooLarge.write(w)
			return
		}
		m, e = fromJSON(body)
	} else {
		m, e = fromHeaders(topic, r, body)
	}
	if e == nil && len(m.Message) > MessageSizeLimit {
		e = &errAttachments
	}
	if e != nil {
		e.write(w)
		return
	}
	now := s.clock.Now()
	m.ID, m.Time, m.Expires, m.Event = newID(), now.Unix(), now.Add(12*time.Hour).Unix(), "message"
	if m.Message == "" {
		m.Message = "triggered"
	}
	for i := range m.Actions {
		m.Actions[i].ID = newID()
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(m)
}

// authorize checks the access token: as a bearer token, or as the password
// of basic auth. A request without one is forbidden; a wrong one is
// unauthorized.
func (s *Server) authorize(r *http.Request) (apiError, bool) {
	if s.token == "" {
		return apiError{}, true
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		return errForbidden, false
	}
	if tok, ok := strings.CutPrefix(header, "Bearer "); ok && tok == s.token {
		return apiError{}, true
	}
	if _, pass, ok := r.BasicAuth(); ok && pass == s.token {
		return apiError{}, true
	}
	return errUnauthorized, false
}

// fromJSON reads a JSON publication.
func fromJSON(body []byte) (Message, *apiError) {
	var p struct {
		Topic    string          `json:"topic"`
		Title    string          `json:"title"`
		Message  string          `json:"message"`
		Tags     []string        `json:"tags"`
		Priority int             `json:"priority"`
		Click    string          `json:"click"`
		Actions  json.RawMessage `json:"actions"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return Message{}, &errJSONInvalid
	}
	if !topicPattern.MatchString(p.Topic) {
		return Message{}, &errTopicInvalid
	}
	if p.Priority < 0 || p.Priority > 5 {
		return Message{}, &errPriority
	}
	m := Message{Topic: p.Topic, Title: p.Title, Message: p.Message, Tags: p.Tags, Priority: p.Priority, Click: p.Click, JSON: true}
	if len(p.Actions) > 0 && string(p.Actions) != "null" {
		actions, err := parseActions(string(p.Actions))
		if err != nil {
			return Message{}, &errActions
		}
		m.Actions = actions
	}
	return m, nil
}

// fromHeaders reads a publication to /{topic}: the body is the message,
// the rest is in headers (X-Title, Title, t; X-Priority, Priority, prio,
// p; X-Tags, Tags, tag, ta; X-Click, Click; X-Actions, Actions, Action).
func fromHeaders(topic string, r *http.Request, body []byte) (Message, *apiError) {
	if !topicPattern.MatchString(topic) {
		return Message{}, &errTopicInvalid
	}
	m := Message{Topic: topic, Message: string(body)}
	m.Title = header(r, "X-Title", "Title", "t")
	m.Click = header(r, "X-Click", "Click")
	if p := header(r, "X-Priority", "Priority", "prio", "p"); p != "" {
		n, ok := priorities[strings.ToLower(p)]
		if !ok {
			return Message{}, &errPriority
		}
		m.Priority = n
	}
	if tags := header(r, "X-Tags", "Tags", "tag", "ta"); tags != "" {
		for _, t := range strings.Split(tags, ",") {
			if t = strings.TrimSpace(t); t != "" {
				m.Tags = append(m.Tags, t)
			}
		}
	}
	if a := header(r, "X-Actions", "Actions", "Action"); a != "" {
		actions, err := parseActions(a)
		if err != nil {
			return Message{}, &errActions
		}
		m.Actions = actions
	}
	return m, nil
}

// priorities are the names and numbers of ntfy's priorities.
var priorities = map[string]int{
	"1": 1, "min": 1, "2": 2, "low": 2, "3": 3, "default": 3,
	"4": 4, "high": 4, "5": 5, "max": 5, "urgent": 5,
}

func header(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := r.Header.Get(n); v != "" {
			return v
		}
	}
	return ""
}

func newID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Package slacktest is a local stand-in for Slack's Web API, for tests: it
// answers the methods Klaxon calls as Slack documents them (HTTP 200 with
// {"ok":true,...} or {"ok":false,"error":...}, HTTP 429 with Retry-After
// when rate limited), checks the bot token and the arguments, keeps the
// state those methods change, and records every call.
package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/clock"
)

// Token is the bot token the server takes unless Start is given another.
const Token = "xoxb-slacktest-token"

// BotUser is the user ID of the token's bot, as auth.test answers it: the
// creator of the channels it makes, and a member of them.
const BotUser = "UB0TKLAXON"

// Call is one request the server got.
type Call struct {
	// Method is the Web API method, such as chat.postMessage.
	Method string
	// Args are the arguments, from a form or a JSON body: strings as they
	// are, lists of strings joined with commas (as Slack's comma-separated
	// arguments), anything else as its JSON.
	Args map[string]string
	// ContentType is the request's media type.
	ContentType string
	// Answer is the error the server answered, "" for ok.
	Answer string
	// At is when the call came, by the real clock.
	At time.Time
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	// URL is the Web API's base, ending in "/", for a channel's apiURL.
	URL   string
	token string

	mu    sync.Mutex
	calls []Call
	// limited counts the calls still to be answered ratelimited.
	limited    int
	retryAfter time.Duration
	// failures are the errors the next calls of a method answer.
	failures map[string][]string
	groups   map[string][]string
	messages map[string]string // "channel/ts" → text
	channels map[string]*conversation
	next     int
	// held, when set, keeps the answers of conversations.create until it
	// is closed: the channel is made, the caller does not hear of it.
	held chan struct{}
	// now is the clock of channels' creation times.
	now func() time.Time
}

type conversation struct {
	name, topic string
	members     []string
	archived    bool
	created     int64
	creator     string
}

// Start starts a server that takes token (Token when empty) and stops it
// when the test ends.
func Start(t testing.TB, token string) *Server {
	t.Helper()
	if token == "" {
		token = Token
	}
	s := &Server{token: token, failures: map[string][]string{}, groups: map[string][]string{},
		messages: map[string]string{}, channels: map[string]*conversation{}, now: clock.RealClock{}.Now}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/api/"
	return s
}

// AddUserGroup makes a user group that usergroups.users.update can set.
func (s *Server) AddUserGroup(id string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = slices.Clone(users)
}

// UserGroup returns the members of a user group, and whether it exists.
func (s *Server) UserGroup(id string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	users, ok := s.groups[id]
	return slices.Clone(users), ok
}

// RateLimit answers the next n calls, of any method, with HTTP 429,
// Retry-After and the error ratelimited.
func (s *Server) RateLimit(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited, s.retryAfter = n, retryAfter
}

// Fail answers the next calls of method with these errors, one each, such
// as "internal_error" or "missing_scope".
func (s *Server) Fail(method string, errs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], errs...)
}

// SetClock makes now the clock of the times channels are created at, for
// a caller whose own clock is not the real one.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AddConversation makes a channel named name as someone else than the bot
// (creator) would, and returns its ID.
func (s *Server) AddConversation(name, creator string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := fmt.Sprintf("C%08d", s.next)
	s.channels[id] = &conversation{name: name, created: s.now().Unix(), creator: creator, members: []string{creator}}
	return id
}

// HoldCreates makes conversations.create make its channel but answer only
// once release is called: a caller that gives up or stops in between never
// hears of the channel. Refusals are answered at once.
func (s *Server) HoldCreates() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := make(chan struct{})
	s.held = held
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.held = nil
			s.mu.Unlock()
			close(held)
		})
	}
}

// Calls returns the calls of method, or of every method when it is "".
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Message returns the text of the message posted as ts in channel.
func (s *Server) Message(channel, ts string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	text, ok := s.messages[channel+"/"+ts]
	return text, ok
}

// formOnly are the methods served that take no JSON body: Slack takes
// JSON for write methods only.
var formOnly = map[string]bool{"auth.test": true, "users.conversations": true}

// maxBody bounds a request's body, as Slack does.
const maxBody = 1 << 20

var (
	userID  = regexp.MustCompile(`^[UW][A-Z0-9]+$`)
	channel = regexp.MustCompile(`^[CDG][A-Z0-9]+$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	call := Call{Method: method, At: clock.RealClock{}.Now()}
	args, token, ctype, err := readArgs(r)
	if formOnly[method] && ctype == "application/json" {
		// Slack reads a read method's arguments from a form only: those
		// of a JSON body are not seen.
		args = map[string]string{}
	}
	call.Args, call.ContentType = args, ctype

	s.mu.Lock()
	held := s.held
	defer func() {
		s.mu.Unlock()
		if method == "conversations.create" && call.Answer == "" && held != nil {
			<-held
		}
	}()
	answer := func(status int, body map[string]any) {
		if e, _ := body["error"].(string); e != "" {
			call.Answer = e
		}
		s.calls = append(s.calls, call)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	fail := func(e string) { answer(http.StatusOK, map[string]any{"ok": false, "error": e}) }
	switch {
	case s.limited > 0:
		s.limited--
		w.Header().Set("Retry-After", strconv.Itoa(int(s.retryAfter.Seconds())))
		answer(http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
		return
	case err != nil:
		fail(err.Error())
		return
	case token == "":
		fail("not_authed")
		return
	case token != s.token:
		fail("invalid_auth")
		return
	case len(s.failures[method]) > 0:
		e := s.failures[method][0]
		s.failures[method] = s.failures[method][1:]
		fail(e)
		return
	}
	body, e := s.handle(method, args)
	if e != "" {
		fail(e)
		return
	}
	body["ok"] = true
	answer(http.StatusOK, body)
}

// readArgs reads a form (urlencoded or multipart) or a JSON body, and the
// token, from the Authorization header or, in a form, the token argument.
func readArgs(r *http.Request) (args map[string]string, token, ctype string, err error) {
	ctype, _, _ = mime.ParseMediaType(r.Header.Get("Content-Type"))
	token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(raw) > maxBody {
		return nil, token, ctype, fmt.Errorf("request_timeout")
	}
	args = map[string]string{}
	switch ctype {
	case "application/json":
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			return nil, token, ctype, fmt.Errorf("invalid_json")
		}
		for k, v := range fields {
			var str string
			var list []string
			switch {
			case json.Unmarshal(v, &str) == nil:
				args[k] = str
			case json.Unmarshal(v, &list) == nil:
				args[k] = strings.Join(list, ",")
			default:
				args[k] = string(v)
			}
		}
	case "application/x-www-form-urlencoded", "":
		form, perr := url.ParseQuery(string(raw))
		if perr != nil {
			return nil, token, ctype, fmt.Errorf("invalid_form_data")
		}
		for k := range form {
			args[k] = form.Get(k)
		}
		if t := form.Get("token"); t != "" && token == "" {
			token = t
		}
	default:
		return nil, token, ctype, fmt.Errorf("invalid_form_data")
	}
	return args, token, ctype, nil
}

// handle answers a method whose call is authorised: the body's fields, or
// Slack's error.
func (s *Server) handle(method string, args map[string]string) (map[string]any, string) {
	switch method {
	case "usergroups.users.update":
		return s.updateUserGroup(args)
	case "chat.postMessage":
		return s.postMessage(args)
	case "chat.update":
		key := args["channel"] + "/" + args["ts"]
		if args["channel"] == "" {
			return nil, "channel_not_found"
		}
		if _, ok := s.messages[key]; !ok {
			return nil, "message_not_found"
		}
		if args["text"] == "" && args["blocks"] == "" {
			return nil, "no_text"
		}
		s.messages[key] = args["text"]
		return map[string]any{"channel": args["channel"], "ts": args["ts"], "text": args["text"]}, ""
	case "chat.postEphemeral":
		if !channel.MatchString(args["channel"]) {
			return nil, "channel_not_found"
		}
		if !userID.MatchString(args["user"]) {
			return nil, "user_not_in_channel"
		}
		return map[string]any{"message_ts": s.ts()}, ""
	case "auth.test":
		return map[string]any{"url": "https://klaxon-test.slack.com/", "team": "Klaxon test", "user": "klaxon",
			"team_id": "T0KLAXON", "user_id": BotUser, "bot_id": "B0KLAXON"}, ""
	case "users.conversations":
		return s.userConversations(args)
	case "conversations.create":
		return s.createConversation(args)
	case "conversations.invite", "conversations.setTopic", "conversations.archive":
		return s.changeConversation(method, args)
	}
	return nil, "unknown_method"
}

func (s *Server) updateUserGroup(args map[string]string) (map[string]any, string) {
	id := args["usergroup"]
	if id == "" {
		return nil, "invalid_arguments"
	}
	if _, ok := s.groups[id]; !ok {
		return nil, "no_such_subteam"
	}
	if args["users"] == "" {
		return nil, "no_users_provided"
	}
	users := strings.Split(args["users"], ",")
	for _, u := range users {
		if !userID.MatchString(u) {
			return nil, "invalid_users"
		}
	}
	slices.Sort(users)
	users = slices.Compact(users)
	s.groups[id] = users
	return map[string]any{"usergroup": map[string]any{"id": id, "users": users, "user_count": len(users)}}, ""
}

func (s *Server) postMessage(args map[string]string) (map[string]any, string) {
	ch := args["channel"]
	if ch == "" || (!channel.MatchString(ch) && !userID.MatchString(ch)) {
		return nil, "channel_not_found"
	}
	if c := s.channels[ch]; c != nil && c.archived {
		return nil, "is_archived"
	}
	if args["text"] == "" && args["blocks"] == "" {
		return nil, "no_text"
	}
	if len(args["text"]) > 40000 {
		return nil, "msg_too_long"
	}
	if userID.MatchString(ch) {
		ch = "D" + ch[1:] // a message to a user goes to the app's DM with them
	}
	ts := s.ts()
	s.messages[ch+"/"+ts] = args["text"]
	return map[string]any{"channel": ch, "ts": ts, "message": map[string]any{"type": "message", "text": args["text"], "ts": ts}}, ""
}

// conversationName is what conversations.create takes: at most 80
// lower-case letters, digits, hyphens and underscores.
var conversationName = regexp.MustCompile(`^[a-z0-9_-]{1,80}$`)

func (s *Server) createConversation(args map[string]string) (map[string]any, string) {
	name := args["name"]
	if !conversationName.MatchString(name) {
		return nil, "invalid_name_specials"
	}
	for _, c := range s.channels {
		if c.name == name {
			return nil, "name_taken"
		}
	}
	s.next++
	id := fmt.Sprintf("C%08d", s.next)
	c := &conversation{name: name, created: s.now().Unix(), creator: BotUser}
	s.channels[id] = c
	return map[string]any{"channel": c.object(id)}, ""
}

func (c *conversation) object(id string) map[string]any {
	return map[string]any{"id": id, "name": c.name, "is_channel": true, "created": c.created, "creator": c.creator,
		"is_archived": c.archived, "topic": map[string]any{"value": c.topic}}
}

// userConversations lists the channels the bot is in (those it made, and
// those it was invited to), in pages of limit (at most 1000), ID order,
// with Slack's cursor.
func (s *Server) userConversations(args map[string]string) (map[string]any, string) {
	limit := 100
	if v := args["limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, "invalid_limit"
		}
		limit = n
	}
	ids := make([]string, 0, len(s.channels))
	for id, c := range s.channels {
		in := c.creator == BotUser || slices.Contains(c.members, BotUser)
		if in && (!c.archived || args["exclude_archived"] != "true") {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	start := 0
	if cur := args["cursor"]; cur != "" {
		i, ok := strings.CutPrefix(cur, "next:")
		n, err := strconv.Atoi(i)
		if !ok || err != nil || n < 0 || n > len(ids) {
			return nil, "invalid_cursor"
		}
		start = n
	}
	end := min(start+limit, len(ids))
	list := make([]any, 0, end-start)
	for _, id := range ids[start:end] {
		list = append(list, s.channels[id].object(id))
	}
	next := ""
	if end < len(ids) {
		next = "next:" + strconv.Itoa(end)
	}
	return map[string]any{"channels": list, "response_metadata": map[string]any{"next_cursor": next}}, ""
}

func (s *Server) changeConversation(method string, args map[string]string) (map[string]any, string) {
	c := s.channels[args["channel"]]
	switch {
	case c == nil:
		return nil, "channel_not_found"
	case c.archived && method == "conversations.archive":
		return nil, "already_archived"
	case c.archived:
		return nil, "is_archived"
	}
	switch method {
	case "conversations.invite":
		if args["users"] == "" {
			return nil, "no_user"
		}
		for _, u := range strings.Split(args["users"], ",") {
			if !userID.MatchString(u) {
				return nil, "user_not_found"
			}
			if slices.Contains(c.members, u) {
				return nil, "already_in_channel"
			}
			c.members = append(c.members, u)
		}
	case "conversations.setTopic":
		if len(args["topic"]) > 250 {
			return nil, "too_long"
		}
		c.topic = args["topic"]
	case "conversations.archive":
		c.archived = true
		return map[string]any{}, ""
	}
	return map[string]any{"channel": c.object(args["channel"])}, ""
}

// Conversation returns a conversation made with conversations.create: its
// name, topic, members and whether it is archived.
func (s *Server) Conversation(id string) (name, topic string, members []string, archived, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil {
		return "", "", nil, false, false
	}
	return c.name, c.topic, slices.Clone(c.members), c.archived, true
}

// ts is a new message timestamp, in Slack's form.
func (s *Server) ts() string {
	s.next++
	return fmt.Sprintf("1700000000.%06d", s.next)
}

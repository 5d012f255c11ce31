// Package twiliotest stands in for Twilio in tests: a local server that
// answers the REST API's Messages and Calls resources as Twilio documents
// them (form-encoded requests, HTTP basic auth, 201 with the resource,
// Twilio's error JSON and codes), records what was sent, and then calls
// Klaxon back as Twilio would: an incoming text, a call answered, a key
// pressed, a call's final status, each signed with X-Twilio-Signature.
package twiliotest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/klaxon-dev/klaxon/internal/test/failqueue"

	"github.com/klaxon-dev/klaxon/internal/phone"
)

// apiVersion is the REST API's version the server serves.
const apiVersion = "2010-04-01"

// maxBodyChars is Twilio's limit of a text's body.
const maxBodyChars = 1600

// Options configure a Server.
type Options struct {
	// AccountSID and AuthToken are the account's credentials; empty ones
	// are made up (see Server.AccountSID and Server.AuthToken).
	AccountSID, AuthToken string
	// Number is the account's phone number; when set, texts and calls
	// from another number are refused as Twilio does. Texts to the
	// account come to this number (default +15005550006).
	Number string
	// SMSWebhook is the URL a text to the number is posted to: the
	// number's messaging webhook.
	SMSWebhook string
	// Clock stamps what is recorded and the callbacks; the real clock
	// when nil.
	Clock clock.PassiveClock
}

// Message is a text sent through the REST API.
type Message struct {
	SID, To, From, Body, StatusCallback string
	Time                                time.Time
}

// Call is a call created through the REST API.
type Call struct {
	SID, To, From                string
	URL, Method                  string
	StatusCallback, StatusMethod string
	// TwiML is what the call says when given inline (Twiml) instead of
	// a Url; Twilio then ignores any Url.
	TwiML string
	// Timeout is the ring time asked for, in seconds (Twilio's default 60).
	Timeout int
	Time    time.Time
	// Answered is when the call was answered (Answer), zero before.
	Answered time.Time
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to configure as a channel's baseURL.
	URL string
	// AccountSID, AuthToken and Number are the account's.
	AccountSID, AuthToken, Number string

	t      testing.TB
	client *http.Client
	clock  clock.PassiveClock

	failNext     failqueue.Queue
	mu           sync.Mutex
	smsWebhook   string
	messages     []Message
	calls        []Call
	unsubscribed map[string]bool
	landlines    map[string]bool
	twiml        map[string]TwiML // the last TwiML of each call
	sequence     map[string]int   // the status callbacks of each call
}

// Start starts a server, stopped when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{
		AccountSID:   o.AccountSID,
		AuthToken:    o.AuthToken,
		Number:       o.Number,
		t:            t,
		smsWebhook:   o.SMSWebhook,
		clock:        o.Clock,
		unsubscribed: map[string]bool{},
		landlines:    map[string]bool{},
		twiml:        map[string]TwiML{},
		sequence:     map[string]int{},
		client: &http.Client{
			Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	if s.clock == nil {
		s.clock = clock.RealClock{}
	}
	if s.AccountSID == "" {
		s.AccountSID = "AC" + randomHex(16)
	}
	if s.AuthToken == "" {
		s.AuthToken = randomHex(16)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /"+apiVersion+"/Accounts/{AccountSid}/Messages.json", s.authorized(s.createMessage))
	mux.HandleFunc("POST /"+apiVersion+"/Accounts/{AccountSid}/Calls.json", s.authorized(s.createCall))
	mux.HandleFunc("/", s.authorized(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SetSMSWebhook sets the URL texts to the number are posted to, for tests
// that learn it after the server started.
func (s *Server) SetSMSWebhook(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.smsWebhook = u
}

// Unsubscribe makes number one that replied STOP: texts to it are refused
// with error 21610.
func (s *Server) Unsubscribe(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unsubscribed[number] = true
}

// Landline makes number one that cannot receive texts: texts to it are
// refused with error 21614; calls ring as usual.
func (s *Server) Landline(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.landlines[number] = true
}

// FailNext makes the next REST request answer status (429 or a 5xx) with
// Twilio's error JSON; calls queue up.
func (s *Server) FailNext(status int) {
	s.failNext.Push(status)
}

// Messages are the texts sent, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Calls are the calls created, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// authorized checks HTTP basic auth and the account in the path, and
// answers a failure queued by FailNext, before next.
func (s *Server) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sid, token, ok := r.BasicAuth()
		if !ok || sid != s.AccountSID || token != s.AuthToken {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		if acct := r.PathValue("AccountSid"); acct != "" && acct != s.AccountSID {
			writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
			return
		}
		fail := s.failNext.Pop()
		switch {
		case fail == http.StatusTooManyRequests:
			writeError(w, fail, 20429, "Too Many Requests")
			return
		case fail != 0:
			writeError(w, fail, 20500, "An internal server error has occurred")
			return
		}
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, 20001, "Invalid request body")
			return
		}
		next(w, r)
	}
}

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	to, from, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
	s.mu.Lock()
	unsubscribed, landline := s.unsubscribed[to], s.landlines[to]
	s.mu.Unlock()
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
	case !phone.IsNumber(to):
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to))
	case from == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
	case s.Number != "" && from != s.Number:
		writeError(w, http.StatusBadRequest, 21606, fmt.Sprintf("The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", from))
	case body == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
	case len([]rune(body)) > maxBodyChars:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
	case landline:
		writeError(w, http.StatusBadRequest, 21614, "'To' number is not a valid mobile number")
	case unsubscribed:
		writeError(w, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
	default:
		m := Message{SID: "SM" + randomHex(16), To: to, From: from, Body: body, StatusCallback: r.PostForm.Get("StatusCallback"), Time: s.clock.Now()}
		s.mu.Lock()
		s.messages = append(s.messages, m)
		s.mu.Unlock()
		now := m.Time.UTC().Format(time.RFC1123Z)
		writeJSON(w, http.StatusCreated, map[string]any{
			"account_sid": s.AccountSID, "api_version": apiVersion, "body": body,
			"date_created": now, "date_updated": now, "date_sent": nil,
			"direction": "outbound-api", "error_code": nil, "error_message": nil,
			"from": from, "messaging_service_sid": nil, "num_media": "0",
			"num_segments": strconv.Itoa(numSegments(body)), "price": nil, "price_unit": "USD",
			"sid": m.SID, "status": "queued", "to": to,
			"subresource_uris": map[string]string{"media": s.resourceURI("Messages", m.SID) + "/Media.json"},
			"uri":              s.resourceURI("Messages", m.SID) + ".json",
		})
	}
}

func (s *Server) createCall(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	to, from := f.Get("To"), f.Get("From")
	timeout := 60
	if v := f.Get("Timeout"); v != "" {
		// Twilio documents any positive whole number as valid (ringing
		// at most 600 seconds).
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, 21208, "Invalid Timeout")
			return
		}
		timeout = n
	}
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21201, "No 'To' number is specified")
	case !phone.IsNumber(to):
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to))
	case from == "":
		writeError(w, http.StatusBadRequest, 21213, "No 'From' number is specified")
	case s.Number != "" && from != s.Number:
		writeError(w, http.StatusBadRequest, 21210, fmt.Sprintf("The source phone number provided, %s, is not yet verified for your account.", from))
	case f.Get("Twiml") == "" && !absoluteURL(f.Get("Url")):
		writeError(w, http.StatusBadRequest, 21205, "Url is not a valid URL: "+f.Get("Url"))
	case f.Get("StatusCallback") != "" && !absoluteURL(f.Get("StatusCallback")):
		writeError(w, http.StatusBadRequest, 21609, "StatusCallback is not a valid URL: "+f.Get("StatusCallback"))
	default:
		c := Call{
			SID: "CA" + randomHex(16), To: to, From: from,
			URL: f.Get("Url"), Method: orPOST(f.Get("Method")), TwiML: f.Get("Twiml"),
			StatusCallback: f.Get("StatusCallback"), StatusMethod: orPOST(f.Get("StatusCallbackMethod")),
			Timeout: timeout, Time: s.clock.Now(),
		}
		s.mu.Lock()
		s.calls = append(s.calls, c)
		s.mu.Unlock()
		now := c.Time.UTC().Format(time.RFC1123Z)
		writeJSON(w, http.StatusCreated, map[string]any{
			"account_sid": s.AccountSID, "annotation": nil, "answered_by": nil, "api_version": apiVersion,
			"caller_name": nil, "date_created": now, "date_updated": now, "direction": "outbound-api",
			"duration": nil, "end_time": nil, "forwarded_from": nil, "from": from, "from_formatted": from,
			"group_sid": nil, "parent_call_sid": nil, "phone_number_sid": nil, "price": nil, "price_unit": "USD",
			"queue_time": "0", "sid": c.SID, "start_time": nil, "status": "queued", "to": to, "to_formatted": to,
			"trunk_sid": nil,
			"subresource_uris": map[string]string{
				"notifications": s.resourceURI("Calls", c.SID) + "/Notifications.json",
				"recordings":    s.resourceURI("Calls", c.SID) + "/Recordings.json",
			},
			"uri": s.resourceURI("Calls", c.SID) + ".json",
		})
	}
}

func (s *Server) resourceURI(list, sid string) string {
	return "/" + apiVersion + "/Accounts/" + s.AccountSID + "/" + list + "/" + sid
}

// numSegments counts a text's segments as Twilio bills them, simply and
// independently of the sender's own count: printable ASCII but the
// backtick is GSM-7 (^{}[]~|\\ take two septets), 160 in one segment or
// 153 a part; anything else is UCS-2, 70 UTF-16 units or 67 a part. GSM-7's
// few letters beyond ASCII (é, ñ, £...) count as UCS-2 here, and a
// two-unit character is not kept whole within a part, so the count may
// differ from Twilio's for such texts; tests assert segments with their
// own expectations, not with this field.
func numSegments(text string) int {
	single, part, units := 160, 153, 0
	gsm := true
	for _, r := range text {
		if r == '`' || (r < 0x20 && r != '\n' && r != '\r') || r > 0x7e {
			gsm = false
			break
		}
	}
	if !gsm {
		single, part = 70, 67
	}
	for _, r := range text {
		switch {
		case gsm && strings.ContainsRune("^{}[]~|\\", r):
			units += 2
		case !gsm && r > 0xffff:
			units += 2
		default:
			units++
		}
	}
	if units <= single {
		return 1
	}
	return (units + part - 1) / part
}

// writeError answers Twilio's error JSON.
func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{
		"code":      code,
		"message":   message,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
		"status":    status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func orPOST(method string) string {
	if method == "" {
		return http.MethodPost
	}
	return method
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

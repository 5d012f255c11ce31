package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeSlack answers chat.postMessage like Slack's Web API: HTTP 200 with
// {"ok":true,...} or {"ok":false,"error":...}, unless status says
// otherwise. It checks the token as Slack would.
type fakeSlack struct {
	mu       sync.Mutex
	requests []recorded
	// status and answer override the answer when set.
	status int
	answer string
}

const testSlackToken = "xoxb-test-token"

func newFakeSlack(t *testing.T) (*fakeSlack, *httptest.Server) {
	t.Helper()
	f := &fakeSlack{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{method}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Channel string `json:"channel"`
		}
		raw, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, recorded{r.Method, r.URL.RequestURI(), r.Header.Clone(), raw})
		status, answer := f.status, f.answer
		f.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(answer))
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch {
		case answer != "":
			_, _ = w.Write([]byte(answer))
		case r.Header.Get("Authorization") != "Bearer "+testSlackToken:
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		case json.Unmarshal(raw, &body) != nil:
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_json"}`))
		case body.Channel != "C1":
			_, _ = w.Write([]byte(`{"ok":false,"error":"channel_not_found"}`))
		case r.PathValue("method") == "chat.postEphemeral":
			_, _ = w.Write([]byte(`{"ok":true,"message_ts":"1700000001.000200"}`))
		case r.PathValue("method") == "chat.postMessage" || r.PathValue("method") == "chat.update":
			_, _ = w.Write([]byte(`{"ok":true,"channel":"C1","ts":"1700000000.000100","message":{"text":"…"}}`))
		default:
			_, _ = w.Write([]byte(`{"ok":false,"error":"unknown_method"}`))
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeSlack) set(status int, answer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.answer = status, answer
}

// only returns the one request Slack got.
func (f *fakeSlack) only(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 1 {
		t.Fatalf("Slack got %d requests, want 1", len(f.requests))
	}
	return f.requests[0]
}

func (f *fakeSlack) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func newTestSlack(t *testing.T, srv *httptest.Server) Sender {
	t.Helper()
	s, err := NewSlack(SlackConfig{Egress: loopback, APIURL: srv.URL + "/api/", Token: testSlackToken})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSlackPostsMessage(t *testing.T) {
	f, srv := newFakeSlack(t)
	m := sample()
	m.Address = "C1"
	ref, err := newTestSlack(t, srv).Send(testContext(t), m)
	if err != nil {
		t.Fatal(err)
	}
	if ref != "C1/1700000000.000100" {
		t.Errorf("ref = %q, want C1/1700000000.000100", ref)
	}
	req := f.only(t)
	if req.Path != "/api/chat.postMessage" {
		t.Errorf("path = %q, want /api/chat.postMessage", req.Path)
	}
	for k, want := range map[string]string{
		"Authorization": "Bearer " + testSlackToken,
		"Content-Type":  "application/json; charset=utf-8",
		"User-Agent":    "klaxon",
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	var body map[string]any
	if err = json.Unmarshal(req.Body, &body); err != nil {
		t.Fatalf("body %s: %v", req.Body, err)
	}
	want := map[string]any{
		"channel":      "C1",
		"text":         strings.ReplaceAll(Text(m), "&", "&amp;"),
		"unfurl_links": false,
		"unfurl_media": false,
		"blocks": []any{
			map[string]any{"type": "section", "block_id": "klaxon_facts", "text": map[string]any{"type": "mrkdwn", "text": "" +
				"*<https://klaxon.example.com/incidents/payments/inc-abc|[SEV1] Payments API down (payments/inc-abc)>*\n" +
				"*Service:* payments-api\n" +
				"*Phase:* Triggered\n" +
				"*Escalation:* level 1, round 0\n" +
				"*Responder:* Alice Liddell (alice)\n" +
				"*Paged:* alice, bob\n" +
				"*Impact:* Card payments fail for every customer.\nRefunds are queued."}},
			map[string]any{"type": "context", "block_id": "klaxon_ack_link", "elements": []any{map[string]any{"type": "mrkdwn", "text": "" +
				"<https://klaxon.example.com/ack/payments/inc-abc?token=t1&amp;as=alice|Acknowledge> to stop the escalation"}}},
		},
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("chat.postMessage body (-want +got):\n%s", diff)
	}
}

func TestSlackEscapesMarkup(t *testing.T) {
	f, srv := newFakeSlack(t)
	m := sample()
	m.Address = "C1"
	m.Incident.Title = "<!channel> Payments & <https://evil.example|login>"
	m.Incident.URL, m.Page.AcknowledgeURL = "", "https://klaxon.example.com/ack?a=|b"
	if _, err := newTestSlack(t, srv).Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	body := string(f.only(t).Body)
	for _, s := range []string{
		`"text":"[SEV1] &lt;!channel&gt; Payments &amp; &lt;https://evil.example|login&gt; (payments/inc-abc)`,
		`"text":"*[SEV1] &lt;!channel&gt; Payments`,
		`<https://klaxon.example.com/ack?a=%7Cb|Acknowledge>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %s:\n%s", s, body)
		}
	}
	if strings.Contains(body, "<!channel>") {
		t.Errorf("body mentions @channel unescaped:\n%s", body)
	}
}

func TestSlackWithoutAcknowledgeLinkHasOneBlock(t *testing.T) {
	f, srv := newFakeSlack(t)
	m := sample()
	m.Address = "C1"
	m.Page.AcknowledgeURL = ""
	if _, err := newTestSlack(t, srv).Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	var body struct{ Blocks []map[string]any }
	if err := json.Unmarshal(f.only(t).Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Blocks) != 1 || body.Blocks[0]["type"] != "section" {
		t.Errorf("blocks = %v, want one section", body.Blocks)
	}
}

func TestSlackClassifiesAnswers(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		answer    string
		permanent bool
		inErr     string
		// notInErr is part of the answer that must stay out of the error.
		notInErr string
	}{
		{name: "channel_not_found", answer: `{"ok":false,"error":"channel_not_found"}`, permanent: true, inErr: "the Slack API refused the message: channel_not_found"},
		{name: "not_in_channel", answer: `{"ok":false,"error":"not_in_channel"}`, permanent: true},
		{name: "invalid_auth", answer: `{"ok":false,"error":"invalid_auth"}`, permanent: true},
		{name: "account_inactive", answer: `{"ok":false,"error":"account_inactive"}`, permanent: true},
		{name: "token_revoked", answer: `{"ok":false,"error":"token_revoked"}`, permanent: true},
		{name: "is_archived", answer: `{"ok":false,"error":"is_archived"}`, permanent: true},
		{name: "msg_too_long", answer: `{"ok":false,"error":"msg_too_long"}`, permanent: true},
		{name: "no_text", answer: `{"ok":false,"error":"no_text"}`, permanent: true},
		{name: "user_not_found", answer: `{"ok":false,"error":"user_not_found"}`, permanent: true},
		{name: "invalid_arguments", answer: `{"ok":false,"error":"invalid_arguments"}`, permanent: true},
		{name: "unknown error", answer: `{"ok":false,"error":"something_new"}`, permanent: true, inErr: "something_new"},
		{name: "no error given", answer: `{"ok":false}`, permanent: true, inErr: "no reason given"},
		{name: "ratelimited", answer: `{"ok":false,"error":"ratelimited"}`, inErr: "ratelimited"},
		{name: "internal_error", answer: `{"ok":false,"error":"internal_error"}`},
		{name: "fatal_error", answer: `{"ok":false,"error":"fatal_error"}`},
		{name: "service_unavailable", answer: `{"ok":false,"error":"service_unavailable"}`},
		{name: "HTTP 429", status: 429, answer: `{"ok":false,"error":"ratelimited"}`, inErr: "the Slack API answered HTTP 429 Too Many Requests"},
		{name: "HTTP 500", status: 500, inErr: "HTTP 500"},
		{name: "HTTP 503", status: 503, answer: "<html>down</html>", inErr: "HTTP 503 Service Unavailable", notInErr: "down"},
		{name: "HTTP 404", status: 404, permanent: true, inErr: "HTTP 404"},
		{name: "not JSON", status: 200, answer: "<html>captive portal</html>", inErr: "something other than its JSON", notInErr: "captive portal"},
		{name: "not a code", answer: `{"ok":false,"error":"db_password=hunter2"}`, permanent: true, inErr: "no reason given", notInErr: "hunter2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeSlack(t)
			f.set(tc.status, tc.answer)
			m := sample()
			m.Address = "C1"
			ref, err := newTestSlack(t, srv).Send(testContext(t), m)
			if err == nil {
				t.Fatalf("Send = %q, nil; want an error", ref)
			}
			if IsPermanent(err) != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, IsPermanent(err), tc.permanent)
			}
			if !strings.Contains(err.Error(), tc.inErr) {
				t.Errorf("error %q lacks %q", err, tc.inErr)
			}
			if tc.notInErr != "" && strings.Contains(err.Error(), tc.notInErr) {
				t.Errorf("error %q quotes the answer's %q", err, tc.notInErr)
			}
		})
	}
}

func TestSlackAgainstTheFakeAPI(t *testing.T) {
	_, srv := newFakeSlack(t)
	m := sample()
	m.Address = "C404"
	_, err := newTestSlack(t, srv).Send(testContext(t), m)
	if !IsPermanent(err) || !strings.Contains(err.Error(), "channel_not_found") {
		t.Errorf("unknown channel: Send = %v, want a permanent channel_not_found", err)
	}

	s, err := NewSlack(SlackConfig{Egress: loopback, APIURL: srv.URL + "/api", Token: "xoxb-wrong"})
	if err != nil {
		t.Fatal(err)
	}
	m.Address = "C1"
	_, err = s.Send(testContext(t), m)
	if !IsPermanent(err) || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("wrong token: Send = %v, want a permanent invalid_auth", err)
	}
}

// An endpoint that answers ok with other text in channel or ts has it
// dropped: the ref is stored in status, which view can read.
func TestSlackRefKeepsOnlySlackIDs(t *testing.T) {
	for name, answer := range map[string]string{
		"text in channel": `{"ok":true,"channel":"db_password=hunter2","ts":"1700000000.000100"}`,
		"text in ts":      `{"ok":true,"channel":"C1","ts":"AccessKeyId=AKIA"}`,
		"no ts":           `{"ok":true,"channel":"C1"}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(answer))
		}))
		m := sample()
		m.Address = "C1"
		ref, err := newTestSlack(t, srv).Send(testContext(t), m)
		srv.Close()
		if err != nil || ref != "" {
			t.Errorf("%s: Send = %q, %v; want no ref and no error", name, ref, err)
		}
	}
}

func TestSlackRefusesBadAddressWithoutSending(t *testing.T) {
	for _, addr := range []string{"", "C1 C2", "C1\n"} {
		f, srv := newFakeSlack(t)
		m := sample()
		m.Address = addr
		_, err := newTestSlack(t, srv).Send(testContext(t), m)
		if !IsPermanent(err) {
			t.Errorf("address %q: Send = %v, want a permanent error", addr, err)
		}
		if f.count() != 0 {
			t.Errorf("address %q: Slack got %d requests, want none", addr, f.count())
		}
	}
}

func TestNewSlackValidates(t *testing.T) {
	cases := map[string]struct {
		cfg          SlackConfig
		wantErr      string
		wantEndpoint string
	}{
		"default API":           {cfg: SlackConfig{Token: "xoxb-1"}, wantEndpoint: "https://slack.com/api/"},
		"API without slash":     {cfg: SlackConfig{APIURL: "http://slack.internal:8080/api", Token: "xoxb-1"}, wantEndpoint: "http://slack.internal:8080/api/"},
		"no token":              {cfg: SlackConfig{}, wantErr: "the Slack token is empty: set the app's bot token (xoxb-…)"},
		"token with line break": {cfg: SlackConfig{Token: "xoxb-1\n"}, wantErr: "the Slack token contains a line break or control character"},
		"relative API":          {cfg: SlackConfig{APIURL: "slack.com/api/", Token: "xoxb-1"}, wantErr: `the Slack API URL must use http or https, not ""`},
		"no host":               {cfg: SlackConfig{APIURL: "https:/api/", Token: "xoxb-1"}, wantErr: "the Slack API URL has no host: set an absolute http or https URL"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := NewSlack(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("NewSlack error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.(*Slack).base; got != tc.wantEndpoint {
				t.Errorf("endpoint = %q, want %q", got, tc.wantEndpoint)
			}
		})
	}
}

// newButtonSlack is a sender that knows it is NotificationChannel
// payments/team-slack, so its pages carry buttons.
func newButtonSlack(t *testing.T, srv *httptest.Server) *Slack {
	t.Helper()
	// The identity stands in for Klaxon's seal, which the receiver's tests
	// exercise with a real key.
	s, err := NewSlackClient(SlackConfig{Egress: loopback, APIURL: srv.URL + "/api/", Token: testSlackToken, Namespace: "payments", ChannelName: "team-slack",
		Seal: func(v []byte) string { return string(v) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSlackPageCarriesButtons(t *testing.T) {
	f, srv := newFakeSlack(t)
	m := sample()
	m.Address = "C1"
	if _, err := newButtonSlack(t, srv).Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Blocks []struct {
			Type     string `json:"type"`
			BlockID  string `json:"block_id"`
			Elements []struct {
				Type     string         `json:"type"`
				Text     any            `json:"text"`
				ActionID string         `json:"action_id"`
				Value    string         `json:"value"`
				Style    string         `json:"style"`
				Confirm  map[string]any `json:"confirm"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(f.only(t).Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Blocks) != 3 {
		t.Fatalf("got %d blocks, want facts, link and actions: %+v", len(body.Blocks), body.Blocks)
	}
	actions := body.Blocks[2]
	if actions.Type != "actions" || actions.BlockID != "klaxon_actions" || len(actions.Elements) != 2 {
		t.Fatalf("last block = %+v, want an actions block with two buttons", actions)
	}
	wantValue := `{"ns":"payments","ch":"team-slack","n":"inc-abc","uid":"6f1c2d3e-0000-4000-8000-000000000001","ep":1}`
	for i, want := range []struct{ actionID, label string }{{SlackActionAcknowledge, "Acknowledge"}, {SlackActionResolve, "Resolve"}} {
		b := actions.Elements[i]
		label, _ := b.Text.(map[string]any)
		if b.Type != "button" || b.ActionID != want.actionID || label["text"] != want.label || label["type"] != "plain_text" {
			t.Errorf("button %d = %+v, want %s (%s)", i, b, want.label, want.actionID)
		}
		if b.Value != wantValue {
			t.Errorf("button %d value = %s, want %s", i, b.Value, wantValue)
		}
		v, err := ParseSlackButtonValue(b.Value)
		if err != nil || v != (SlackButtonValue{Namespace: "payments", Channel: "team-slack", Name: "inc-abc", UID: "6f1c2d3e-0000-4000-8000-000000000001", Episode: 1}) {
			t.Errorf("ParseSlackButtonValue = %+v, %v", v, err)
		}
	}
	if actions.Elements[1].Confirm == nil {
		t.Error("the Resolve button asks for no confirmation")
	}
}

func TestSlackButtonsOnlyOnPagesOfTheChannelsNamespace(t *testing.T) {
	cases := map[string]func(*Message){
		"stakeholder news":   func(m *Message) { m.Stakeholder = &StakeholderNews{Event: EventResolved} },
		"another namespace":  func(m *Message) { m.Incident.Namespace = "shop" },
		"no UID":             func(m *Message) { m.Incident.UID = "" },
		"no episode":         func(m *Message) { m.Incident.Episode = 0 },
		"value over 2000 ch": func(m *Message) { m.Incident.Name = strings.Repeat("n", 2000) },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeSlack(t)
			m := sample()
			m.Address = "C1"
			edit(m)
			if _, err := newButtonSlack(t, srv).Send(testContext(t), m); err != nil {
				t.Fatal(err)
			}
			if body := string(f.only(t).Body); strings.Contains(body, `"actions"`) || strings.Contains(body, "klaxon_ack\"") {
				t.Errorf("the message carries buttons:\n%s", body)
			}
		})
	}
	// A sender that does not know its channel adds none either.
	f, srv := newFakeSlack(t)
	m := sample()
	m.Address = "C1"
	if _, err := newTestSlack(t, srv).Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	if body := string(f.only(t).Body); strings.Contains(body, `"actions"`) {
		t.Errorf("a sender without a channel name added buttons:\n%s", body)
	}
}

func TestParseSlackButtonValueRefuses(t *testing.T) {
	for _, v := range []string{"", "x", `{"ns":"a","ch":"b","n":"c","uid":"d"}`, `{"ns":"a","ch":"b","n":"c","ep":1}`, strings.Repeat("x", 2001)} {
		if _, err := ParseSlackButtonValue(v); err == nil {
			t.Errorf("ParseSlackButtonValue(%.40q) = nil error", v)
		}
	}
}

func TestSlackUpdateEditsThePage(t *testing.T) {
	f, srv := newFakeSlack(t)
	original := []json.RawMessage{
		json.RawMessage(`{"type":"section","block_id":"klaxon_facts","text":{"type":"mrkdwn","text":"*[SEV1] Payments down*"}}`),
		json.RawMessage(`{"type":"context","block_id":"klaxon_ack_link","elements":[{"type":"mrkdwn","text":"<https://x|Acknowledge>"}]}`),
		json.RawMessage(`{"type":"actions","block_id":"klaxon_actions","elements":[]}`),
	}
	if err := newButtonSlack(t, srv).Update(testContext(t), "C1", "1700000000.000100", "Acknowledged by <ada>", original); err != nil {
		t.Fatal(err)
	}
	req := f.only(t)
	if req.Path != "/api/chat.update" {
		t.Errorf("path = %q, want /api/chat.update", req.Path)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+testSlackToken {
		t.Errorf("Authorization = %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"channel": "C1",
		"ts":      "1700000000.000100",
		"text":    "Acknowledged by &lt;ada&gt;",
		"blocks": []any{
			map[string]any{"type": "section", "block_id": "klaxon_facts", "text": map[string]any{"type": "mrkdwn", "text": "*[SEV1] Payments down*"}},
			map[string]any{"type": "context", "block_id": "klaxon_outcome", "elements": []any{map[string]any{"type": "mrkdwn", "text": "Acknowledged by &lt;ada&gt;"}}},
		},
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("chat.update body (-want +got):\n%s", diff)
	}
}

func TestSlackUpdateClassifiesAnswers(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		answer    string
		permanent bool
	}{
		{name: "message_not_found", answer: `{"ok":false,"error":"message_not_found"}`, permanent: true},
		{name: "cant_update_message", answer: `{"ok":false,"error":"cant_update_message"}`, permanent: true},
		{name: "ratelimited", answer: `{"ok":false,"error":"ratelimited"}`},
		{name: "HTTP 503", status: 503, answer: "down"},
		{name: "HTTP 403", status: 403, permanent: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeSlack(t)
			f.set(tc.status, tc.answer)
			err := newButtonSlack(t, srv).Update(testContext(t), "C1", "1.2", "Resolved by ada", nil)
			if err == nil || IsPermanent(err) != tc.permanent {
				t.Errorf("Update = %v, want an error with IsPermanent %v", err, tc.permanent)
			}
		})
	}
	f, srv := newFakeSlack(t)
	for _, bad := range [][2]string{{"", "1.2"}, {"C1", ""}, {"C1 C2", "1.2"}} {
		if err := newButtonSlack(t, srv).Update(testContext(t), bad[0], bad[1], "x", nil); !IsPermanent(err) {
			t.Errorf("Update(%q, %q) = %v, want a permanent error", bad[0], bad[1], err)
		}
	}
	if f.count() != 0 {
		t.Errorf("Slack got %d requests for bad IDs", f.count())
	}
}

func TestSlackPostEphemeral(t *testing.T) {
	f, srv := newFakeSlack(t)
	if err := newButtonSlack(t, srv).PostEphemeral(testContext(t), "C1", "U024BE7LH", "You are not a responder of this incident."); err != nil {
		t.Fatal(err)
	}
	req := f.only(t)
	if req.Path != "/api/chat.postEphemeral" {
		t.Errorf("path = %q", req.Path)
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"channel": "C1", "user": "U024BE7LH", "text": "You are not a responder of this incident."}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("chat.postEphemeral body (-want +got):\n%s", diff)
	}
}

func TestSlackUpdateUserGroup(t *testing.T) {
	f, srv := newFakeSlack(t)
	f.set(0, `{"ok":true,"usergroup":{"id":"S0614TZR7","users":["U1","U2"]}}`)
	s := newTestSlack(t, srv).(*Slack)
	if err := s.UpdateUserGroup(testContext(t), "S0614TZR7", []string{"U1", "U2"}); err != nil {
		t.Fatal(err)
	}
	req := f.only(t)
	if req.Path != "/api/usergroups.users.update" || req.Header.Get("Authorization") != "Bearer "+testSlackToken {
		t.Errorf("path %q, Authorization %q", req.Path, req.Header.Get("Authorization"))
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"usergroup": "S0614TZR7", "users": "U1,U2"}, body); diff != "" {
		t.Errorf("usergroups.users.update body (-want +got):\n%s", diff)
	}
}

func TestSlackUpdateUserGroupClassifiesAnswers(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		answer    string
		permanent bool
		says      string
	}{
		{name: "invalid_users", answer: `{"ok":false,"error":"invalid_users"}`, permanent: true, says: "invalid_users"},
		{name: "no_such_subteam", answer: `{"ok":false,"error":"no_such_subteam"}`, permanent: true, says: "no_such_subteam"},
		{name: "missing_scope", answer: `{"ok":false,"error":"missing_scope"}`, permanent: true, says: "missing_scope"},
		{name: "ratelimited", answer: `{"ok":false,"error":"ratelimited"}`, says: "ratelimited"},
		{name: "HTTP 429", status: 429, answer: `{"ok":false,"error":"ratelimited"}`, says: "HTTP 429"},
		{name: "HTTP 503", status: 503, answer: "down", says: "HTTP 503"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeSlack(t)
			f.set(tc.status, tc.answer)
			err := newTestSlack(t, srv).(*Slack).UpdateUserGroup(testContext(t), "S1", []string{"U1"})
			if err == nil || IsPermanent(err) != tc.permanent || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("UpdateUserGroup = %v, want an error saying %q with IsPermanent %v", err, tc.says, tc.permanent)
			}
		})
	}
	f, srv := newFakeSlack(t)
	s := newTestSlack(t, srv).(*Slack)
	for _, bad := range []struct {
		group string
		users []string
	}{{"", []string{"U1"}}, {"s1", []string{"U1"}}, {"S1", nil}, {"S1", []string{"U1,U2"}}, {"S1", []string{"U 1"}}} {
		if err := s.UpdateUserGroup(testContext(t), bad.group, bad.users); !IsPermanent(err) {
			t.Errorf("UpdateUserGroup(%q, %q) = %v, want a permanent error", bad.group, bad.users, err)
		}
	}
	if f.count() != 0 {
		t.Errorf("Slack got %d requests for bad input", f.count())
	}
}

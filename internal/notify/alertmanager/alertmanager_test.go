package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	amnotify "github.com/prometheus/alertmanager/notify"
	amtemplate "github.com/prometheus/alertmanager/template"
	amtypes "github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"

	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/tmplbudget"
)

// testMessage is a page as the escalation engine would hand it over.
func testMessage() *notify.Message {
	triggered := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	return &notify.Message{
		Incident: notify.Incident{
			Namespace:   "payments",
			Name:        "db-down",
			UID:         "8f0c6f7e-1111-2222-3333-444455556666",
			Title:       "Primary database unreachable",
			Severity:    "SEV1",
			Service:     "postgres",
			Impact:      "Checkout fails for every customer.",
			Phase:       "Triggered",
			Episode:     1,
			URL:         "https://klaxon.example.com/incidents/payments/db-down",
			TriggeredAt: triggered,
		},
		Page: notify.Page{
			Level:          2,
			Round:          1,
			Responder:      "alice",
			DisplayName:    "Alice Example",
			Paged:          []string{"alice", "bob"},
			AcknowledgeURL: "https://klaxon.example.com/ack/abc",
		},
		Address: "19:team-channel@thread.tacv2",
		SentAt:  triggered.Add(time.Minute),
	}
}

func newTestSender(t *testing.T, block string) notify.Sender {
	t.Helper()
	s, err := New(Config{Receiver: []byte(block)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func trySend(t *testing.T, s notify.Sender, timeout time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	ref, err := s.Send(ctx, testMessage())
	if ref != "" {
		t.Errorf("Send returned the reference %q, want none", ref)
	}
	return err
}

// recorder is a server that keeps the requests it gets and answers with a
// status and a body.
type recorder struct {
	mu       sync.Mutex
	requests []recorded
	status   int
	body     string
}

type recorded struct {
	method, path, contentType string
	body                      []byte
}

func newRecorder(t *testing.T, status int, body string) (*recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{status: status, body: body}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.requests = append(rec.requests, recorded{r.Method, r.URL.Path, r.Header.Get("Content-Type"), b})
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.status)
		_, _ = io.WriteString(w, rec.body)
	}))
	t.Cleanup(srv.Close)
	return rec, srv
}

func (r *recorder) only(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) != 1 {
		t.Fatalf("the server got %d requests, want 1", len(r.requests))
	}
	return r.requests[0]
}

func TestMSTeamsV2(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusOK, "1")
	s := newTestSender(t, fmt.Sprintf("msteamsv2_configs:\n  - webhook_url: %s/workflows/abc\n", srv.URL))
	if err := trySend(t, s, 5*time.Second); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := rec.only(t)
	if req.method != http.MethodPost || req.path != "/workflows/abc" {
		t.Errorf("request %s %s, want POST /workflows/abc", req.method, req.path)
	}
	var card struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Body []struct {
					Text string `json:"text"`
				} `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(req.body, &card); err != nil {
		t.Fatalf("the body is not Teams JSON: %v\n%s", err, req.body)
	}
	if card.Type != "message" || len(card.Attachments) != 1 || len(card.Attachments[0].Content.Body) != 2 {
		t.Fatalf("unexpected card: %s", req.body)
	}
	title, text := card.Attachments[0].Content.Body[0].Text, card.Attachments[0].Content.Body[1].Text
	// The default title is Alertmanager's subject: status and group labels.
	if !strings.Contains(title, "FIRING:1") || !strings.Contains(title, "db-down") {
		t.Errorf("title %q lacks the status or the incident", title)
	}
	for _, want := range []string{
		"Primary database unreachable",
		"Checkout fails for every customer.",
		"Paged at level 2: Alice Example (alice, bob).",
		"https://klaxon.example.com/incidents/payments/db-down",
		"https://klaxon.example.com/ack/abc",
		"address = 19:team-channel@thread.tacv2",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

const telegramOK = `{"ok":true,"result":{"message_id":42,"date":1772600000,"chat":{"id":-1001234567890,"type":"supergroup","title":"On call"},"text":"x"}}`

func TestTelegram(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusOK, telegramOK)
	s := newTestSender(t, fmt.Sprintf(`
telegram_configs:
  - api_url: %s
    bot_token: 123456:secret-bot-token
    chat_id: -1001234567890
    message: '{{ range .Alerts }}{{ .Annotations.summary }} ({{ .Labels.severity }}){{ end }}'
`, srv.URL))
	if err := trySend(t, s, 5*time.Second); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := rec.only(t)
	if req.path != "/bot123456:secret-bot-token/sendMessage" {
		t.Errorf("request path %q, want the Bot API's sendMessage", req.path)
	}
	var params map[string]any
	if err := json.Unmarshal(req.body, &params); err != nil {
		t.Fatalf("the body is not JSON: %v\n%s", err, req.body)
	}
	if params["chat_id"] != "-1001234567890" {
		t.Errorf("chat_id %v, want -1001234567890", params["chat_id"])
	}
	if params["text"] != "Primary database unreachable (SEV1)" {
		t.Errorf("text %q, want the custom message", params["text"])
	}
}

// TestAlertmanagerPayload checks the alert a page becomes, through the
// webhook notifier, which posts the template data as it is.
func TestPayload(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusOK, "")
	for _, ext := range []string{"", "https://klaxon.example.com"} {
		rec.requests = nil
		s, err := New(Config{
			Receiver:    fmt.Appendf(nil, "name: whatever\nwebhook_configs:\n  - url: %s/hook\n", srv.URL),
			ExternalURL: ext,
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if err := trySend(t, s, 5*time.Second); err != nil {
			t.Fatalf("Send: %v", err)
		}
		var msg struct {
			amtemplate.Data
			GroupKey string `json:"groupKey"`
		}
		if err := json.Unmarshal(rec.only(t).body, &msg); err != nil {
			t.Fatal(err)
		}
		wantExt := ext
		if wantExt == "" {
			wantExt = placeholderURL
		}
		if msg.ExternalURL != wantExt || msg.Receiver != receiverName || msg.Status != "firing" {
			t.Errorf("externalURL %q receiver %q status %q", msg.ExternalURL, msg.Receiver, msg.Status)
		}
		wantKey := `{}/klaxon:{namespace="payments", incident="db-down", uid="8f0c6f7e-1111-2222-3333-444455556666", episode="1", level="2", round="1", responder="alice", address="19:team-channel@thread.tacv2"}`
		if msg.GroupKey != wantKey {
			t.Errorf("group key\n got %s\nwant %s", msg.GroupKey, wantKey)
		}
		if len(msg.Alerts) != 1 {
			t.Fatalf("%d alerts, want 1", len(msg.Alerts))
		}
		a := msg.Alerts[0]
		wantLabels := amtemplate.KV{
			"alertname": "KlaxonPage", "severity": "SEV1", "namespace": "payments", "incident": "db-down",
			"service": "postgres", "responder": "alice", "address": "19:team-channel@thread.tacv2", "level": "2",
		}
		if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) {
			t.Errorf("labels\n got %v\nwant %v", a.Labels, wantLabels)
		}
		wantDesc := "Checkout fails for every customer.\n\nPaged at level 2: Alice Example (alice, bob).\nIncident: https://klaxon.example.com/incidents/payments/db-down"
		if a.Annotations["summary"] != "Primary database unreachable" || a.Annotations["description"] != wantDesc ||
			a.Annotations["acknowledge_url"] != "https://klaxon.example.com/ack/abc" {
			t.Errorf("annotations %q", a.Annotations)
		}
		if !a.StartsAt.Equal(testMessage().Incident.TriggeredAt) || a.GeneratorURL != testMessage().Incident.URL {
			t.Errorf("startsAt %v generatorURL %q", a.StartsAt, a.GeneratorURL)
		}
		if fmt.Sprint(msg.GroupLabels) != "incident=db-down, namespace=payments" {
			t.Errorf("group labels %v", msg.GroupLabels)
		}
	}
}

func TestStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		block     string
		permanent bool
	}{
		{"msteamsv2 500", http.StatusInternalServerError, "try later", "msteamsv2_configs: [{webhook_url: '%s/x'}]", false},
		{"msteamsv2 429", http.StatusTooManyRequests, "slow down", "msteamsv2_configs: [{webhook_url: '%s/x'}]", true},
		{"msteamsv2 400", http.StatusBadRequest, "bad card", "msteamsv2_configs: [{webhook_url: '%s/x'}]", true},
		{"msteamsv2 404", http.StatusNotFound, "no such flow", "msteamsv2_configs: [{webhook_url: '%s/x'}]", true},
		{"webhook 503", http.StatusServiceUnavailable, "down", "webhook_configs: [{url: '%s/x'}]", false},
		// Alertmanager's Telegram notifier retries every failure.
		{"telegram 400", http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`,
			"telegram_configs: [{api_url: '%s', bot_token: 'x:y', chat_id: 1}]", false},
		{"telegram 500", http.StatusInternalServerError, `{"ok":false,"error_code":500,"description":"Internal"}`,
			"telegram_configs: [{api_url: '%s', bot_token: 'x:y', chat_id: 1}]", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newRecorder(t, tc.status, tc.body)
			err := trySend(t, newTestSender(t, fmt.Sprintf(tc.block, srv.URL)), 5*time.Second)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if notify.IsPermanent(err) != tc.permanent {
				t.Errorf("notify.IsPermanent = %v, want %v: %v", notify.IsPermanent(err), tc.permanent, err)
			}
			if !strings.Contains(err.Error(), strings.SplitN(tc.body, " ", 2)[0]) && !strings.Contains(err.Error(), fmt.Sprint(tc.status)) {
				t.Errorf("error %q says neither the status nor the body", err)
			}
		})
	}
}

// TestAlertmanagerErrorBounds: long answers are cut, secrets cut out, and a
// huge answer is not read whole.
func TestErrorBounds(t *testing.T) {
	t.Run("long body", func(t *testing.T) {
		_, srv := newRecorder(t, http.StatusBadRequest, strings.Repeat("error detail ", 1000))
		err := trySend(t, newTestSender(t, fmt.Sprintf("msteamsv2_configs: [{webhook_url: '%s/x'}]", srv.URL)), 5*time.Second)
		if err == nil || len(err.Error()) > maxErrorBytes || !strings.Contains(err.Error(), "error detail") {
			t.Errorf("error of %d bytes: %v", len(fmt.Sprint(err)), err)
		}
	})
	t.Run("huge body", func(t *testing.T) {
		huge := strings.Repeat("x", maxResponseBytes+1<<20)
		_, srv := newRecorder(t, http.StatusInternalServerError, huge)
		err := trySend(t, newTestSender(t, fmt.Sprintf("msteamsv2_configs: [{webhook_url: '%s/x'}]", srv.URL)), 5*time.Second)
		// Alertmanager keeps the body in the error only if it read it all.
		if err == nil || strings.Contains(err.Error(), "xxxxxxxx") || notify.IsPermanent(err) {
			t.Errorf("error: %v", err)
		}
	})
	t.Run("secret in URL", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close() // Nothing listens: the client's error quotes the URL.
		s := newTestSender(t, fmt.Sprintf("telegram_configs: [{api_url: 'http://%s', bot_token: '123:bot-token-secret', chat_id: 1}]\n"+
			"msteamsv2_configs: [{webhook_url: 'http://%s/workflows/sig=teams-secret-sig'}]", addr, addr))
		err = trySend(t, s, 5*time.Second)
		if err == nil {
			t.Fatal("Send succeeded")
		}
		if strings.Contains(err.Error(), "bot-token-secret") || strings.Contains(err.Error(), "teams-secret-sig") {
			t.Errorf("the error shows a secret: %v", err)
		}
		if !strings.Contains(err.Error(), "telegram[0]") || !strings.Contains(err.Error(), "msteamsv2[0]") {
			t.Errorf("the error does not name both integrations: %v", err)
		}
	})
}

func TestContextDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })

	// An SMTP server that accepts and never speaks: the email notifier
	// ignores its context once connected.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})

	s := newTestSender(t, fmt.Sprintf(`
msteamsv2_configs: [{webhook_url: '%s/x'}]
email_configs: [{to: a@example.com, from: k@example.com, smarthost: '%s', require_tls: false}]
`, srv.URL, l.Addr()))
	for i := range 2 {
		start := time.Now()
		err := trySend(t, s, 300*time.Millisecond)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("send %d took %v", i, took)
		}
		if err == nil || notify.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("send %d: want a retryable deadline error, got %v", i, err)
		}
	}
}

type panickyNotifier struct{}

func (panickyNotifier) Notify(context.Context, ...*amtypes.Alert) (bool, error) {
	panic("index out of range in a notifier")
}

type sendResolved bool

func (s sendResolved) SendResolved() bool { return bool(s) }

func TestPanics(t *testing.T) {
	// Edge configurations that Alertmanager accepts: none may crash.
	for _, block := range []string{
		"msteamsv2_configs: [{webhook_url: '<secret>'}]",
		"discord_configs: [{webhook_url: '<secret>'}]",
		"slack_configs: [{api_url: '<secret>'}]",
		"webhook_configs: [{url: '<secret>'}]",
		"mattermost_configs: [{webhook_url: '<secret>'}]",
		"msteamsv2_configs: [{webhook_url: 'http://127.0.0.1:1/', http_config: {}}]",
		"telegram_configs: [{api_url: 'http://127.0.0.1:1', bot_token: x, chat_id: 0, parse_mode: HTML, message: '{{ .CommonLabels.nope }}'}]",
		"webhook_configs: [{url: 'http://127.0.0.1:1/', timeout: 1ns}]",
		"msteamsv2_configs: [{webhook_url: 'http://127.0.0.1:1/', text: '{{ reReplaceAll \"(\" \"x\" .Status }}'}]",
	} {
		t.Run(block, func(t *testing.T) {
			s, err := New(Config{Receiver: []byte(block)})
			if err != nil {
				return
			}
			if err := trySend(t, s, 5*time.Second); err == nil {
				t.Error("Send succeeded")
			}
		})
	}

	// A notifier that panics, as a hostile configuration might make one.
	s := newTestSender(t, "webhook_configs: [{url: 'http://127.0.0.1:1/'}]").(*sender)
	s.integrations[0] = &integration{
		Integration: amnotify.NewIntegration(panickyNotifier{}, sendResolved(false), "webhook", 0, receiverName),
		busy:        make(chan struct{}, 1),
	}
	err := trySend(t, s, 5*time.Second)
	if err == nil || !notify.IsPermanent(err) || !strings.Contains(err.Error(), "the notifier panicked: index out of range in a notifier") {
		t.Fatalf("want a permanent error for the panic, got %v", err)
	}
	// The integration is usable again.
	if err := trySend(t, s, 5*time.Second); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("second send: %v", err)
	}
}

// TestAlertmanagerConcurrentSends runs under -race: Telegram's notifier
// sets its token on a shared client at every send.
func TestConcurrentSends(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusOK, telegramOK)
	s := newTestSender(t, fmt.Sprintf("telegram_configs: [{api_url: '%s', bot_token: 'x:y', chat_id: 1}]", srv.URL))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := trySend(t, s, 10*time.Second); err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
	wg.Wait()
	if n := len(rec.requests); n != 8 {
		t.Errorf("%d requests, want 8", n)
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, block, want string
	}{
		{"empty", "  \n", "the receiver block is empty"},
		{"invalid YAML", "telegram_configs: [{", "the receiver block is not valid YAML"},
		{"not a mapping", "- telegram_configs: []", "the receiver block is not a YAML mapping"},
		{"unknown field", "msteamsv2_configs:\n  - webhook_url: http://x.invalid/\n    colour: red\n", "line 3: field colour not found"},
		{"unknown integration", "carrier_pigeon_configs: [{}]", "field carrier_pigeon_configs not found"},
		{"Alertmanager's validation", "msteamsv2_configs: [{title: x}]", "the receiver block does not load: one of webhook_url or webhook_url_file must be configured"},
		{"wrong type", "telegram_configs: [{bot_token: x, chat_id: many}]", "cannot unmarshal"},
		{"no integration", "name: lonely\n", "the receiver block has no integration"},
		{"empty lists", "telegram_configs: []\nmsteamsv2_configs: []\n", "the receiver block has no integration"},
		{"too big", "name: x\n#" + strings.Repeat("y", MaxReceiverBytes), "more than the 65536 allowed"},

		{"bot_token_file", "telegram_configs: [{bot_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token, chat_id: 1}]",
			"telegram_configs[0].bot_token_file reads a file from the operator's disk"},
		{"webhook_url_file", "msteamsv2_configs: [{webhook_url_file: /etc/hostname}]", "msteamsv2_configs[0].webhook_url_file reads a file"},
		{"api_key_file", "opsgenie_configs: [{api_key_file: /etc/hostname}]", "opsgenie_configs[0].api_key_file reads a file"},
		{"routing_key_file", "pagerduty_configs: [{routing_key_file: /etc/hostname}]", "pagerduty_configs[0].routing_key_file reads a file"},
		{"auth_password_file", "email_configs: [{to: a@b.example, from: c@d.example, smarthost: 'mail.invalid:25', auth_username: u, auth_password_file: /etc/hostname}]",
			"email_configs[0].auth_password_file reads a file"},
		{"credentials_file", "webhook_configs: [{url: 'http://x.invalid/', http_config: {authorization: {credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token}}}]",
			"webhook_configs[0].http_config.authorization.credentials_file reads a file"},
		{"password_file", "discord_configs: [{webhook_url: 'http://x.invalid/', http_config: {basic_auth: {username: u, password_file: /etc/hostname}}}]",
			"discord_configs[0].http_config.basic_auth.password_file reads a file"},
		{"ca_file", "slack_configs: [{api_url: 'http://x.invalid/', http_config: {tls_config: {ca_file: /etc/ssl/ca.pem}}}]",
			"slack_configs[0].http_config.tls_config.ca_file reads a file"},
		{"cert and key files", "webex_configs: [{room_id: r, http_config: {authorization: {credentials: c}, tls_config: {cert_file: /c, key_file: /k}}}]",
			"webex_configs[0].http_config.tls_config.cert_file reads a file"},
		{"email tls ca_file", "email_configs: [{to: a@b.example, from: c@d.example, smarthost: 'mail.invalid:25', tls_config: {ca_file: /etc/ssl/ca.pem}}]",
			"email_configs[0].tls_config.ca_file reads a file"},
		{"oauth2 client_secret_file", "webhook_configs: [{url: 'http://x.invalid/', http_config: {oauth2: {client_id: i, client_secret_file: /s, token_url: 'http://t.invalid/'}}}]",
			"webhook_configs[0].http_config.oauth2.client_secret_file reads a file"},
		{"header files", "webhook_configs: [{url: 'http://x.invalid/', http_config: {http_headers: {X-Token: {files: [/var/run/secrets/kubernetes.io/serviceaccount/token]}}}}]",
			"webhook_configs[0].http_config.http_headers.X-Token.files reads a file"},
		{"sns without keys", "sns_configs: [{topic_arn: 'arn:aws:sns:us-east-1:1:t', sigv4: {region: us-east-1}}]",
			"the operator's own AWS credentials"},
		{"sns profile", "sns_configs: [{topic_arn: 'arn:aws:sns:us-east-1:1:t', sigv4: {region: us-east-1, profile: prod, access_key: a, secret_key: b}}]",
			"sns_configs[0].sigv4.profile reads the operator's AWS files"},

		{"range over a number", "telegram_configs: [{bot_token: x, chat_id: 1, message: '{{ range 1000000000 }}x{{ end }}'}]",
			`the template in telegram_configs[0].message is refused: it ranges over "1000000000"`},
		{"range over a time's number", "msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ range .Alerts }}{{ range .StartsAt.UnixNano }}{{ end }}{{ end }}'}]",
			`it ranges over ".StartsAt.UnixNano"`},
		{"range over a number in dot", "msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ range .Alerts }}{{ with .StartsAt.Year }}{{ range . }}x{{ end }}{{ end }}{{ end }}'}]",
			`it ranges over "."`},
		{"range over bytes", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ range .Alerts }}{{ range .StartsAt.AppendFormat nil "2006" }}{{ end }}{{ end }}'}]`,
			`it ranges over ".StartsAt.AppendFormat nil \"2006\""`},
		{"range over an assigned variable", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ $l := .Alerts }}{{ $l = 5 }}{{ range $l }}{{ end }}'}]`,
			`it ranges over "$l"`},
		{"recursive define", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ define "x" }}{{ template "x" . }}{{ template "x" . }}{{ end }}{{ template "x" . }}'}]`,
			"it defines templates"},
		{"redefined default", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ define "__subject" }}{{ template "__subject" . }}{{ end }}x'}]`,
			"it defines templates"},
		{"block", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ block "y" . }}y{{ end }}'}]`,
			"it defines templates"},
		{"self call", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ template "" . }}{{ template "" . }}'}]`,
			`it calls template "", which is not one of Alertmanager's default templates`},
		{"doubling by assignment", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ $a := "ab" }}{{ range .Alerts }}{{ $a = print $a $a }}{{ end }}{{ $a }}'}]`,
			"a variable may be assigned (=) only a literal or a field of the data"},
		{"doubling by declaration", "msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ $a := .CommonAnnotations.description }}" +
			strings.Repeat("{{ $a := print $a $a }}", 20) + "{{ $a }}'}]",
			"more than the 16.0 MiB allowed"},
		{"printf widths", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ printf "` + strings.Repeat("%0999999d", 40) + `" 1 }}'}]`,
			"has a width or precision over 64"},
		{"printf star width", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ range .CommonLabels }}{{ printf "%*d%*d" 999999 1 999999 1 }}{{ end }}'}]`,
			"takes a width or precision from an argument (*)"},
		{"printf widths in loops", "msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '" +
			strings.Repeat("{{ range $.CommonLabels }}", 3) + `{{ printf "` + strings.Repeat("%064d", 6) + `" 1 }}` + strings.Repeat("{{ end }}", 3) + "'}]",
			"more than the 16.0 MiB allowed"},
		{"printf variable format", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ printf .CommonAnnotations.summary }}'}]`,
			"printf with a format that is not a literal string"},
		{"nested reReplaceAll", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '` +
			strings.Repeat(`{{ reReplaceAll "(.)" "$1$1$1$1" (`, 1) + strings.Repeat(`reReplaceAll "(.)" "$1$1$1$1" (`, 5) +
			`.CommonAnnotations.description` + strings.Repeat(")", 6) + ` }}'}]`,
			"more than the 16.0 MiB allowed"},
		{"regexp from data", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ match .CommonLabels.service .Status }}'}]`,
			"match with a pattern that is not a literal string"},
		{"nested ranges", "msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '" +
			strings.Repeat("{{ range $.CommonLabels }}", 6) + "{{ . }}" + strings.Repeat("{{ end }}", 6) + "'}]",
			"more than the 16.0 MiB allowed"},
		{"call", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ call .Status }}'}]`,
			"it uses call, which is not allowed"},
		{"rerun: backslash", `pagerduty_configs: [{routing_key: k, details: {x: '["\x7b\x7b range 1000000000 \x7d\x7d"]'}}]`,
			"the value of pagerduty_configs[0].details.x is refused: it holds a backslash"},
		{"rerun: literal spelling a template", `jira_configs: [{api_url: 'http://j.invalid/', project: P, issue_type: Bug, fields: {customfield_1: '{"a": ["{{ print 1 }}"]}'}}]`,
			"jira_configs[0].fields.customfield_1 is refused: its output is run again as a template"},
		{"rerun: built braces", `pagerduty_configs: [{routing_key: k, details: {x: '{{ "{{" }} range 1000000000 {{ "}}" }}'}}]`,
			"its output is run again as a template"},
		{"rerun: brace in text", `pagerduty_configs: [{routing_key: k, details: {x: 'x{ {{ .CommonLabels.service }}'}}]`,
			"its output is run again as a template"},
		{"rerun: tag before a value", `pagerduty_configs: [{routing_key: k, details: {x: '[!!binary {{ .CommonLabels.service }}]'}}]`,
			"its output is run again as a template"},
		{"rerun: literal with a tag", `pagerduty_configs: [{routing_key: k, details: {x: '[!!binary e3sgcHJpbnQgMSB9fQ==]'}}]`,
			"details.x is refused: its output is run again as a template"},
		{"rerun: values side by side", `pagerduty_configs: [{routing_key: k, details: {x: '{{ .CommonLabels.service }}{{ .CommonAnnotations.summary }}'}}]`,
			"its output is run again as a template"},
		{"rerun: control structure", `pagerduty_configs: [{routing_key: k, details: {x: {z: ['{{ range .Alerts }}{{ end }}']}}}]`,
			"the value of pagerduty_configs[0].details.x.z[0] is refused"},
		{"default template with a wrong dot", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', title: '{{ template "__text_alert_list" .StartsAt }}'}]`,
			`in template "__text_alert_list": it ranges over "."`},
		{"the block's sum", "telegram_configs:\n" + strings.Repeat(
			"  - {bot_token: x, chat_id: 1, message: '{{ range stringSlice 1 2 3 4 5 6 7 8 9 }}{{ template \"email.default.html\" $ }}{{ end }}'}\n", 7),
			"with the block's other templates it could produce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Receiver: []byte(tc.block)})
			if err == nil {
				t.Fatal("New accepted the block")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n %q\nlacks\n %q", err, tc.want)
			}
			if len(err.Error()) > maxErrorBytes {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
}

// TestAlertmanagerRerunFields: what passes in PagerDuty details and Jira
// fields.
func TestRerunFields(t *testing.T) {
	_ = newTestSender(t, `
pagerduty_configs:
  - routing_key: k
    details:
      summary: '{{ .CommonAnnotations.summary }} on {{ .CommonLabels.service | toUpper }}'
      labels: '{{ .CommonLabels | toJson }}'
      nested: {list: ['{{ .Status }}', 2, true, 'plain: {x}']}
      yaml: '{a: [b, c]}'
jira_configs:
  - api_url: 'http://jira.invalid/'
    project: OPS
    issue_type: Bug
    fields:
      customfield_10000: '{{ $.CommonLabels.incident }}'
      components: [{name: '{{ .GroupLabels.namespace }}'}]
`)
}

// TestAlertmanagerPageCannotRunTemplates: Alertmanager's default PagerDuty
// details run the strings of their output as templates again; a page's
// text must stay text.
func TestPageCannotRunTemplates(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusAccepted, `{"status":"success","message":"Event processed"}`)
	s := newTestSender(t, fmt.Sprintf("pagerduty_configs: [{routing_key: k, url: '%s/v2/enqueue'}]", srv.URL))
	m := testMessage()
	m.Incident.Title = `{{ range 3 }}INJECTED{{ end }}{{{{ range 1000000000 }}{{ range 1000000000 }}{{ end }}{{ end }}`
	m.Incident.Impact = `["\x7b\x7b range 2 \x7d\x7dESCAPED\x7b\x7b end \x7d\x7d"]`
	m.Incident.Service = `{ {{range 1000000000}}{{end}}`
	// base64 of {{ range 4 }}BINARY{{ end }}
	m.Page.Responder = `[!!binary e3sgcmFuZ2UgNCB9fUJJTkFSWXt7IGVuZCB9fQ==]`
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.Send(ctx, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	body := string(rec.only(t).body)
	for _, ran := range []string{"INJECTEDINJECTED", "ESCAPEDESCAPED", "BINARY"} {
		if strings.Contains(body, ran) {
			t.Errorf("the page's text ran as a template: %s", body)
		}
	}
	if !strings.Contains(body, "{ { range 3 }}INJECTED{ { end }}") {
		t.Errorf("the title is not in the details, with its braces apart: %s", body)
	}
}

func TestDataValue(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                        "plain",
		"{{":                           "{ {",
		"{{{{{":                        "{ { { { {",
		`C:\temp\{{x}}`:                "C:⧵temp⧵{ {x}}",
		"Down! Again!! !tag [!x] a:!b": "Down! Again!ǃ ǃtag [ǃx] a:ǃb",
		strings.Repeat("é", 300):       strings.Repeat("é", 126) + "…",
	} {
		if got := dataValue(in, 255); got != want {
			t.Errorf("dataValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRefusalRedactsValues(t *testing.T) {
	_, err := New(Config{Receiver: []byte(
		"msteamsv2_configs: [{webhook_url: 'http://[::1/workflows/sig=super-secret-signature'}]")})
	if err == nil || strings.Contains(err.Error(), "super-secret-signature") {
		t.Errorf("error: %v", err)
	}
}

func TestExternalURL(t *testing.T) {
	for _, ext := range []string{"klaxon.example.com", "ftp://klaxon.example.com", "http://", "https://x/" + strings.Repeat("a", maxExternalURLBytes)} {
		_, err := New(Config{Receiver: []byte("webhook_configs: [{url: 'http://x.invalid/'}]"), ExternalURL: ext})
		if err == nil || !strings.Contains(err.Error(), "external URL") {
			t.Errorf("ExternalURL %q: %v", ext, err)
		}
	}
}

// TestAlertmanagerEveryIntegration: Alertmanager's default templates, for
// every integration, pass the template check.
func TestEveryIntegration(t *testing.T) {
	block, err := os.ReadFile("testdata/every-integration.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Receiver: block})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if n := len(s.(*sender).integrations); n != 18 {
		t.Errorf("%d integrations, want 18", n)
	}
}

// maxMessage has every field longer than pageAlert lets through.
func maxMessage() *notify.Message {
	long := func(c string) string { return strings.Repeat(c, 10000) }
	m := testMessage()
	m.Incident.Namespace, m.Incident.Name, m.Incident.Title = long("n"), long("i"), long("t")
	m.Incident.Severity, m.Incident.Service, m.Incident.Impact = long("s"), long("v"), long("x")
	m.Incident.URL, m.Page.AcknowledgeURL, m.Address = long("u"), long("a"), long("d")
	m.Page.Responder, m.Page.DisplayName = long("r"), long("p")
	m.Page.Paged = []string{long("p"), long("q")}
	m.Page.Level = -2147483648
	return m
}

// TestAlertmanagerDataBounds keeps pageAlert and the template check's
// bounds in step.
func TestDataBounds(t *testing.T) {
	tmpl, err := amtemplate.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExternalURL, err = externalURL("https://" + strings.Repeat("e", maxExternalURLBytes-len("https://")))
	if err != nil {
		t.Fatal(err)
	}
	m := maxMessage()
	alert := pageAlert(m, m.SentAt)
	data := tmpl.Data(receiverName, model.LabelSet{"namespace": alert.Labels["namespace"], "incident": alert.Labels["incident"]}, alert)
	if n := len(fmt.Sprint(data)); n > tmplbudget.DataBound {
		t.Errorf("the data prints as %d bytes, more than tmplbudget.DataBound", n)
	}
	if len(data.Alerts) > tmplbudget.StaticAlerts {
		t.Errorf("%d alerts", len(data.Alerts))
	}
	for _, kv := range []amtemplate.KV{data.GroupLabels, data.CommonLabels, data.CommonAnnotations, data.Alerts[0].Labels, data.Alerts[0].Annotations} {
		if len(kv) > tmplbudget.StaticPairs {
			t.Errorf("%d pairs, more than tmplbudget.StaticPairs", len(kv))
		}
		for k, v := range kv {
			if len(k) > tmplbudget.LeafBound || len(v) > tmplbudget.LeafBound {
				t.Errorf("%s is %d bytes, more than tmplbudget.LeafBound", k, len(v))
			}
		}
	}
	for _, s := range []string{data.ExternalURL, data.Alerts[0].GeneratorURL, data.Receiver, data.Status} {
		if len(s) > tmplbudget.LeafBound {
			t.Errorf("a string of %d bytes, more than tmplbudget.LeafBound", len(s))
		}
	}
	if key := groupKey(m); len(key) > 2048 {
		t.Errorf("the group key is %d bytes", len(key))
	}
}

// TestAlertmanagerTemplateBounds runs templates the check accepts over the
// largest data a page can make: their output stays within the bound.
func TestTemplateBounds(t *testing.T) {
	tmpl, err := amtemplate.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExternalURL, _ = externalURL("https://" + strings.Repeat("e", 2000))
	m := maxMessage()
	alert := pageAlert(m, m.SentAt)
	data := tmpl.Data(receiverName, model.LabelSet{"namespace": alert.Labels["namespace"], "incident": alert.Labels["incident"]}, alert)

	texts := []string{
		`{{ range .Alerts }}{{ .Annotations.summary }}: {{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}{{ end }}`,
		`{{ $x := .CommonLabels.severity }}{{ if eq $x "SEV1" }}!{{ else }}{{ $x }}{{ end }} {{ .CommonAnnotations.summary | toUpper }}`,
		`{{ range $i, $a := .Alerts.Firing }}{{ $i }} {{ $a.Labels.incident }} {{ $a.StartsAt.Format "2006-01-02 15:04" }}{{ end }}`,
		`{{ printf "%s (%s) %q %x" .CommonAnnotations.summary .CommonLabels.severity .CommonLabels.level .CommonLabels.incident }}`,
		`{{ reReplaceAll "(.)" "$1$1" .CommonLabels.incident }} {{ reReplaceAll "" "-" .CommonAnnotations.description }}`,
		`{{ join ", " (stringSlice .CommonLabels.namespace .CommonLabels.incident) }} {{ .CommonLabels.Values | join " / " }}`,
		`{{ (index .Alerts 0).Labels.severity }} {{ toJson . }} {{ . }} {{ html .CommonAnnotations.description }}`,
		`{{ range .CommonLabels }}{{ range $.Alerts }}{{ end }}{{ end }}{{ range stringSlice "a" "b" }}{{ range $.CommonLabels.Names }}{{ . }}{{ end }}{{ end }}`,
		`{{ $p := "" }}{{ range .Alerts }}{{ if .Labels.severity }}{{ $p = .Labels.severity }}{{ end }}{{ end }}{{ $p }}`,
		`{{ template "email.default.html" . }}{{ template "__text_alert_list" .Alerts.Firing }}`,
	}
	trees, err := defaultTrees()
	if err != nil {
		t.Fatal(err)
	}
	for name := range trees {
		texts = append(texts, fmt.Sprintf(`{{ template %q . }}`, name))
	}
	for i, text := range texts {
		b := &tmplbudget.Static{Defaults: trees}
		out, execErr := tmpl.ExecuteTextString(text, data)
		if err := b.Check(text); err != nil {
			// Some defaults expect another dot than the data: refusing them
			// is fine as long as they fail anyway.
			if i < len(texts)-len(trees) || execErr == nil {
				t.Errorf("%s: refused: %v", text, err)
			}
			continue
		}
		if execErr != nil {
			continue
		}
		if int64(len(out)) > b.Total() {
			t.Errorf("%s: output of %d bytes, more than the bound %d", text, len(out), b.Total())
		}
		if html, err := tmpl.ExecuteHTMLString(text, data); err == nil && int64(len(html)) > 6*b.Total() {
			t.Errorf("%s: HTML output of %d bytes, more than six times the bound %d", text, len(html), b.Total())
		}
	}
}

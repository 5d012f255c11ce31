package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	amnotify "github.com/prometheus/alertmanager/notify"
	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/klaxon-dev/klaxon/internal/notify"
)

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

// TestPayload checks the alert a page becomes, through the
// webhook notifier, which posts the template data as it is.
func TestPayload(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusOK, "")
	for _, ext := range []string{"", "https://klaxon.example.com"} {
		rec.requests = nil
		s, err := New(Config{
			Egress:      loopback,
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
			if !strings.Contains(err.Error(), fmt.Sprintf("HTTP %d", tc.status)) {
				t.Errorf("error %q does not say the status", err)
			}
			if strings.Contains(err.Error(), strings.SplitN(tc.body, " ", 2)[0]) {
				t.Errorf("error %q quotes the answer", err)
			}
			inLog := strings.SplitN(tc.body, " ", 2)[0]
			if strings.HasPrefix(tc.body, "{") {
				// The Telegram client keeps the description and the code.
				inLog = fmt.Sprintf("(%d)", tc.status)
			}
			if !strings.Contains(notify.LogDetail(err), inLog) {
				t.Errorf("log detail %q lacks the answer", notify.LogDetail(err))
			}
		})
	}
}

// TestErrorBounds: long answers stay out of the error and are cut in the
// log detail, secrets cut out, and a huge answer is not read whole.
func TestErrorBounds(t *testing.T) {
	t.Run("long body", func(t *testing.T) {
		_, srv := newRecorder(t, http.StatusBadRequest, strings.Repeat("error detail ", 1000))
		err := trySend(t, newTestSender(t, fmt.Sprintf("msteamsv2_configs: [{webhook_url: '%s/x'}]", srv.URL)), 5*time.Second)
		if err == nil || strings.Contains(err.Error(), "error detail") || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("error of %d bytes: %v; want the status alone", len(fmt.Sprint(err)), err)
		}
		if d := notify.LogDetail(err); len(d) > maxDetailBytes+100 || !strings.Contains(d, "error detail") {
			t.Errorf("log detail of %d bytes: %.100q…; want the answer's start", len(d), d)
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
		if detail := err.Error() + notify.LogDetail(err); strings.Contains(detail, "bot-token-secret") || strings.Contains(detail, "teams-secret-sig") {
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

	// A server that accepts and never speaks: the Telegram notifier does
	// not pass its context on.
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
telegram_configs: [{api_url: 'http://%s', bot_token: 'x:y', chat_id: 1}]
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
			s, err := New(Config{Egress: loopback, Receiver: []byte(block)})
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

// TestConcurrentSends runs under -race: Telegram's notifier
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

// TestPageCannotRunTemplates: Alertmanager's default PagerDuty
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

// A bundle is one alert that names the bundle and its count, summarised
// by the bundle's subject and listing its first incidents.
func TestBundleAlert(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusOK, "")
	s, err := New(Config{Egress: loopback, Receiver: fmt.Appendf(nil, "name: whatever\nwebhook_configs:\n  - url: %s/hook\n", srv.URL)})
	if err != nil {
		t.Fatal(err)
	}
	m := &notify.Message{
		Incident: notify.Incident{Namespace: "payments"},
		Page:     notify.Page{Responder: "alice"},
		Address:  "team",
		SentAt:   testMessage().SentAt,
		Bundle:   &notify.Bundle{ID: "b1", AcknowledgeURL: "https://klaxon.example.com/ack-all/abc"},
	}
	for i := range 7 {
		m.Bundle.Incidents = append(m.Bundle.Incidents, notify.BundledIncident{Namespace: "payments", Name: fmt.Sprintf("inc-%d", i),
			Title: fmt.Sprintf("{{ range 1000000000 }}Queue %d", i), Severity: "SEV2"})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	var msg struct {
		amtemplate.Data
		GroupKey string `json:"groupKey"`
	}
	if err := json.Unmarshal(rec.only(t).body, &msg); err != nil {
		t.Fatal(err)
	}
	if want := `{}/klaxon:{namespace="payments", bundle="b1", responder="alice", address="team"}`; msg.GroupKey != want {
		t.Errorf("group key\n got %s\nwant %s", msg.GroupKey, want)
	}
	if len(msg.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(msg.Alerts))
	}
	a := msg.Alerts[0]
	wantLabels := amtemplate.KV{"alertname": "KlaxonBundle", "severity": "SEV2", "namespace": "payments", "bundle": "b1",
		"incidents": "7", "responder": "alice", "address": "team"}
	if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("labels\n got %v\nwant %v", a.Labels, wantLabels)
	}
	wantDesc := "- [SEV2] { { range 1000000000 }}Queue 0 (payments/inc-0)\n- [SEV2] { { range 1000000000 }}Queue 1 (payments/inc-1)\n" +
		"- [SEV2] { { range 1000000000 }}Queue 2 (payments/inc-2)\n- [SEV2] { { range 1000000000 }}Queue 3 (payments/inc-3)\n" +
		"- [SEV2] { { range 1000000000 }}Queue 4 (payments/inc-4)\n…and 2 more\nList them: kubectl klaxon status -n payments"
	if a.Annotations["summary"] != "[SEV2] 7 incidents for alice: { { range 1000000000 }}Queue 0, +6 more" ||
		a.Annotations["description"] != wantDesc || a.Annotations["acknowledge_url"] != "https://klaxon.example.com/ack-all/abc" {
		t.Errorf("annotations %q", a.Annotations)
	}
	if fmt.Sprint(msg.GroupLabels) != "bundle=b1, namespace=payments" {
		t.Errorf("group labels %v", msg.GroupLabels)
	}
}

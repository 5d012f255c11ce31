package alertmanager

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	amtypes "github.com/prometheus/alertmanager/types"

	"github.com/klaxon-dev/klaxon/internal/notify"
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
	s, err := New(Config{Egress: loopback, Receiver: []byte(block)})
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

const telegramOK = `{"ok":true,"result":{"message_id":42,"date":1772600000,"chat":{"id":-1001234567890,"type":"supergroup","title":"On call"},"text":"x"}}`

type panickyNotifier struct{}

func (panickyNotifier) Notify(context.Context, ...*amtypes.Alert) (bool, error) {
	panic("index out of range in a notifier")
}

type sendResolved bool

func (s sendResolved) SendResolved() bool { return bool(s) }

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

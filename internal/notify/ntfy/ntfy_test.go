package ntfy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/test/ntfytest"
)

var loopback = egress.New(egress.Config{Allow: []egress.Rule{
	{Prefix: netip.MustParsePrefix("127.0.0.0/8")}, {Prefix: netip.MustParsePrefix("::1/128")},
}})

const ackURL = "https://klaxon.example.com/ack/eyJucyI6InBheW1lbnRzIn0.c2ln?x=1&y=2"

func page(severity string) *notify.Message {
	return &notify.Message{
		Incident: notify.Incident{Namespace: "payments", Name: "inc-1", Title: "Payments API down", Severity: severity,
			Service: "payments-api", Impact: "Checkout fails for everyone."},
		Page:    notify.Page{Level: 1, Round: 1, Responder: "alice", Paged: []string{"alice"}, AcknowledgeURL: ackURL},
		Address: "alice-pager_7",
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func newSender(t *testing.T, url, token string) *Sender {
	t.Helper()
	s, err := New(Config{URL: url, Token: token, Egress: loopback})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSendPublishesJSON(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{Token: "tk_secret"})
	ref, err := newSender(t, srv.URL, "tk_secret").Send(ctx(t), page("SEV1"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if ref != got.ID || ref == "" {
		t.Errorf("ref %q, the server's id %q", ref, got.ID)
	}
	want := ntfytest.Message{
		Event: "message", Topic: "alice-pager_7", Title: "[SEV1] Payments API down (payments/inc-1)",
		Priority: 5, Tags: []string{"sev1", "rotating_light"}, Click: ackURL, JSON: true,
		Actions: []ntfytest.Action{{Action: "http", Label: "Acknowledge", URL: ackURL, Method: "POST", Clear: true}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(ntfytest.Message{}, "ID", "Time", "Expires", "Message"),
		cmpopts.IgnoreFields(ntfytest.Action{}, "ID")); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
	for _, s := range []string{"Incident:    payments/inc-1", "Service:     payments-api", "Checkout fails for everyone.", "Acknowledge: " + ackURL} {
		if !strings.Contains(got.Message, s) {
			t.Errorf("the message lacks %q:\n%s", s, got.Message)
		}
	}
	if strings.HasPrefix(got.Message, "[SEV1]") {
		t.Errorf("the message repeats the title:\n%s", got.Message)
	}
}

func TestPriorityFromSeverity(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{})
	s := newSender(t, srv.URL, "")
	for i, c := range []struct {
		severity string
		priority int
		tags     []string
	}{
		{"SEV1", 5, []string{"sev1", "rotating_light"}},
		{"SEV2", 4, []string{"sev2", "warning"}},
		{"SEV3", 3, []string{"sev3"}},
		{"SEV4", 3, []string{"sev4"}},
		{"", 3, nil},
	} {
		if _, err := s.Send(ctx(t), page(c.severity)); err != nil {
			t.Fatal(err)
		}
		got := srv.Messages()[i]
		if got.Priority != c.priority || !cmp.Equal(got.Tags, c.tags) {
			t.Errorf("%q: priority %d, tags %v; want %d, %v", c.severity, got.Priority, got.Tags, c.priority, c.tags)
		}
	}
}

func TestNoLinkNoAction(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{})
	m := page("SEV1")
	m.Page.AcknowledgeURL = ""
	m.Incident.URL = "https://grafana.example.com/d/x"
	if _, err := newSender(t, srv.URL, "").Send(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()[0]
	if len(got.Actions) != 0 || got.Click != m.Incident.URL {
		t.Errorf("actions %v, click %q", got.Actions, got.Click)
	}
}

func TestStakeholderNews(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{})
	m := page("SEV1")
	m.Page = notify.Page{}
	m.Stakeholder = &notify.StakeholderNews{Event: notify.EventResolved, Author: "bob", Text: "Fixed by a rollback."}
	if _, err := newSender(t, srv.URL, "").Send(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()[0]
	if len(got.Actions) != 0 || got.Priority != 3 || !cmp.Equal(got.Tags, []string{"sev1", "resolved"}) ||
		got.Title != "[SEV1] Resolved: Payments API down (payments/inc-1)" || !strings.Contains(got.Message, "Fixed by a rollback.") {
		t.Errorf("news published as %+v", got)
	}
}

func TestTheActionAcknowledges(t *testing.T) {
	var method, body string
	acks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method = r.Method + " " + r.URL.RequestURI()
		b := make([]byte, 1)
		n, _ := r.Body.Read(b)
		body = string(b[:n])
		_, _ = w.Write([]byte("Acknowledged"))
	}))
	defer acks.Close()
	srv := ntfytest.Start(t, ntfytest.Options{})
	m := page("SEV2")
	m.Page.AcknowledgeURL = acks.URL + "/ack/tok.en"
	if _, err := newSender(t, srv.URL, "").Send(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	status, answer := srv.Press(0, ActionLabel)
	if status != http.StatusOK || answer != "Acknowledged" || method != "POST /ack/tok.en" || body != "" {
		t.Errorf("pressing: %d %q; the endpoint got %q with body %q", status, answer, method, body)
	}
}

func TestSendErrors(t *testing.T) {
	for name, c := range map[string]struct {
		token     string
		fail      int
		address   string
		permanent bool
		says      string
	}{
		"no token":         {token: "", permanent: true, says: "HTTP 403, error 40301: forbidden"},
		"a wrong token":    {token: "tk_wrong", permanent: true, says: "HTTP 401, error 40101: unauthorized"},
		"a rate limit":     {token: "tk_secret", fail: http.StatusTooManyRequests, says: "HTTP 429, error 42901"},
		"a server error":   {token: "tk_secret", fail: http.StatusBadGateway, says: "HTTP 502"},
		"a topic with /":   {token: "tk_secret", address: "a/b", permanent: true, says: "not an ntfy topic"},
		"an empty topic":   {token: "tk_secret", address: "", permanent: true, says: "not an ntfy topic"},
		"a too long topic": {token: "tk_secret", address: strings.Repeat("a", 65), permanent: true, says: "not an ntfy topic"},
	} {
		srv := ntfytest.Start(t, ntfytest.Options{Token: "tk_secret"})
		if c.fail != 0 {
			srv.FailNext(c.fail)
		}
		m := page("SEV1")
		if c.address != "" || strings.HasPrefix(name, "an empty") {
			m.Address = c.address
		}
		_, err := newSender(t, srv.URL, c.token).Send(ctx(t), m)
		if err == nil {
			t.Errorf("%s: sent", name)
			continue
		}
		if notify.IsPermanent(err) != c.permanent || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v (permanent %v), want %q (permanent %v)", name, err, notify.IsPermanent(err), c.says, c.permanent)
		}
		if strings.Contains(err.Error(), "tk_") {
			t.Errorf("%s: the error quotes the token: %v", name, err)
		}
		if len(srv.Messages()) != 0 {
			t.Errorf("%s: a message was recorded", name)
		}
	}
}

func TestSendThenRetrySucceeds(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{})
	srv.FailNext(http.StatusServiceUnavailable)
	s := newSender(t, srv.URL, "")
	if _, err := s.Send(ctx(t), page("SEV1")); err == nil || notify.IsPermanent(err) {
		t.Fatalf("first Send = %v, want a retryable error", err)
	}
	if ref, err := s.Send(ctx(t), page("SEV1")); err != nil || ref == "" {
		t.Fatalf("second Send = %q, %v", ref, err)
	}
}

func TestSendGoesThroughTheEgressGuard(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{})
	s, err := New(Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx(t), page("SEV1")); !notify.IsPermanent(err) || len(srv.Messages()) != 0 {
		t.Errorf("Send to loopback without an allowance = %v", err)
	}
}

func TestMessageIsBounded(t *testing.T) {
	m := page("SEV1")
	m.Incident.Impact = strings.Repeat("Ω", 10000)
	p := publicationOf(m)
	if len(p.Message) > MaxMessageBytes {
		t.Errorf("the message has %d bytes, more than %d", len(p.Message), MaxMessageBytes)
	}
	m.Page.AcknowledgeURL = "javascript:alert(1)"
	if p := publicationOf(m); p.Click != "" || len(p.Actions) != 0 {
		t.Errorf("a link that is not http(s) was kept: %+v", p)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for name, c := range map[string]Config{
		"no URL":           {},
		"a relative URL":   {URL: "ntfy.sh"},
		"a file URL":       {URL: "file:///etc/passwd"},
		"a URL with creds": {URL: "https://u:tk_secret@ntfy.sh"},
		"a token with LF":  {URL: "https://ntfy.sh", Token: "tk_secret\n"},
	} {
		_, err := New(c)
		if err == nil {
			t.Errorf("%s: New accepted it", name)
		} else if strings.Contains(err.Error(), "tk_secret") {
			t.Errorf("%s: the error quotes the token: %v", name, err)
		}
	}
	s, err := New(Config{URL: "https://ntfy.example.com/push/"})
	if err != nil || s.endpoint != "https://ntfy.example.com/push/" {
		t.Errorf("New with a path = %+v, %v", s, err)
	}
}

func TestSendBoundsWhatJSONEscapingInflates(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{})
	s := newSender(t, srv.URL, "")
	quotes := strings.Repeat(`"\`, 3000)
	m := page("SEV1")
	m.Incident.Title, m.Incident.Impact = quotes, quotes
	if _, err := s.Send(ctx(t), m); err != nil {
		t.Fatalf("a page full of quotes: %v", err)
	}
	// A link that alone cannot fit is dropped from the click and the
	// button; the page still goes out.
	m.Page.AcknowledgeURL = "https://klaxon.example.com/ack?x=" + strings.Repeat(`"`, 2000)
	if _, err := s.Send(ctx(t), m); err != nil {
		t.Fatalf("a page with a pathological link: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	if !strings.HasPrefix(msgs[0].Title, `[SEV1] "\"\`) || msgs[0].Click != ackURL || len(msgs[0].Actions) != 1 {
		t.Errorf("the first page lost its title start or its link: %q %q %v", start(msgs[0].Title), msgs[0].Click, msgs[0].Actions)
	}
	if msgs[1].Click != "" || len(msgs[1].Actions) != 0 || msgs[1].Message == "" {
		t.Errorf("the second page kept the link or lost its text: %q %v %q", msgs[1].Click, msgs[1].Actions, start(msgs[1].Message))
	}
	for _, p := range []publication{publicationOf(m), publicationOf(page("SEV2"))} {
		b, err := encodeBounded(p)
		if err != nil || len(b) > MaxBodyBytes {
			t.Errorf("encodeBounded: %d bytes, %v", len(b), err)
		}
	}
}

func start(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

func TestIsTopic(t *testing.T) {
	for topic, want := range map[string]bool{
		"alice-pager_7":         true,
		strings.Repeat("a", 64): true,
		strings.Repeat("a", 65): false,
		"":                      false,
		"a/b":                   false,
		"+4915112345679":        false,
		"alice pager":           false,
	} {
		if got := IsTopic(topic); got != want {
			t.Errorf("IsTopic(%q) = %v, want %v", topic, got, want)
		}
	}
}

func TestSendsABundle(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{})
	const allURL = "https://klaxon.example.com/ack-all/eyJi.c2ln"
	m := &notify.Message{
		Incident: notify.Incident{Namespace: "payments"},
		Page:     notify.Page{Responder: "alice"},
		Bundle: &notify.Bundle{ID: "b1", AcknowledgeURL: allURL, Incidents: []notify.BundledIncident{
			{Namespace: "payments", Name: "inc-1", Title: "Queue backs up", Severity: "SEV3"},
			{Namespace: "payments", Name: "inc-2", Title: "Payments API down", Severity: "SEV1"},
			{Namespace: "payments", Name: "inc-3", Title: "Disk full", Severity: "SEV2"},
		}},
		Address: "alice-pager_7",
	}
	if _, err := newSender(t, srv.URL, "").Send(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	got := msgs[0]
	// The priority is the worst incident's; the one action acknowledges all.
	want := ntfytest.Message{
		Event: "message", Topic: "alice-pager_7", Title: "[SEV1] 3 incidents for alice: Queue backs up, +2 more",
		Priority: 5, Tags: []string{"sev1", "rotating_light"}, Click: allURL, JSON: true,
		Actions: []ntfytest.Action{{Action: "http", Label: "Acknowledge all", URL: allURL, Method: "POST", Clear: true}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(ntfytest.Message{}, "ID", "Time", "Expires", "Message"),
		cmpopts.IgnoreFields(ntfytest.Action{}, "ID")); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
	for _, s := range []string{"- [SEV1] Payments API down (payments/inc-2)", "kubectl klaxon status -n payments", "Acknowledge all: " + allURL} {
		if !strings.Contains(got.Message, s) {
			t.Errorf("the message lacks %q:\n%s", s, got.Message)
		}
	}
}

// A shift notice is titled by its subject, says its text at the default
// priority, and offers no action: there is nothing to acknowledge.
func TestSendsAShiftNotice(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{})
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	// The page's fields a notice never carries: the notice wins over them.
	m := page("SEV1")
	m.Notice = &notify.ShiftNotice{Kind: notify.NoticeShiftStart, Namespace: "payments", Schedule: "payments-primary\u202e",
		Responder: "alice", Start: start, End: start.Add(24 * time.Hour), Text: "Takes over from: bob\r\nHands over to: carol\x1b[2J"}
	if _, err := newSender(t, srv.URL, "").Send(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	got := msgs[0]
	want := ntfytest.Message{
		Event: "message", Topic: "alice-pager_7", Title: "On call from Mon 7 Dec 08:00 UTC: payments-primary",
		Priority: 3, Tags: []string{"shiftstart"}, JSON: true,
		Message: "Shift:       Mon 7 Dec 08:00 UTC to Tue 8 Dec 08:00 UTC\nTakes over from: bob\nHands over to: carol [2J\n\nSchedule:    payments/payments-primary",
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(ntfytest.Message{}, "ID", "Time", "Expires")); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
}

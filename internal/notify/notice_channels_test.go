package notify

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
)

// sampleNotice is alice's word before her shift on payments-primary, in
// Berlin's zone.
func sampleNotice(t *testing.T) *Message {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	return &Message{
		Notice: &ShiftNotice{Kind: NoticeShiftStart, Namespace: "payments", Schedule: "payments-primary",
			Responder: "alice", DisplayName: "Alice Liddell", Start: start, End: start.Add(24 * time.Hour), Location: berlin,
			Text: "Takes over from: bob\nHands over to: carol"},
		Address: "alice@example.com",
		SentAt:  t0,
	}
}

// withPageFields gives a notice the incident and page of a page, which a
// notice never carries: the notice must still win over them.
func withPageFields(m *Message) *Message {
	page := sample()
	m.Incident, m.Page = page.Incident, page.Page
	return m
}

func TestNoticeSeverityAndAcknowledgeURLAreEmpty(t *testing.T) {
	m := withPageFields(sampleNotice(t))
	if m.Severity() != "" || m.AcknowledgeURL() != "" {
		t.Errorf("a notice has severity %q and acknowledge link %q", m.Severity(), m.AcknowledgeURL())
	}
}

func TestNoticePayload(t *testing.T) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(NewPayload(withPageFields(sampleNotice(t)))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "payload-notice.golden.json")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("notice payload differs from %s (-want +got):\n%s", path, diff)
	}
}

// The guide's example is a payload Klaxon posts: its every field is
// Payload's, and its subject the one its notice gets.
func TestNoticePayloadAsTheGuideShowsIt(t *testing.T) {
	var doc Payload
	dec := json.NewDecoder(strings.NewReader(docsnippet.Block(t, "docs/reaching-people.md", "payload-notice")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Notice == nil {
		t.Fatal("the guide's payload has no notice")
	}
	n := doc.Notice
	loc, err := time.LoadLocation(n.TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	m := &Message{Address: doc.Address, SentAt: doc.SentAt, Notice: &ShiftNotice{Kind: n.Kind, Namespace: n.Namespace,
		Schedule: n.Schedule, Responder: n.Responder, DisplayName: n.DisplayName, Start: n.Start, End: n.End, Location: loc, Text: n.Text}}
	if diff := cmp.Diff(NewPayload(m), doc); diff != "" {
		t.Errorf("the guide's payload (-posted +guide):\n%s", diff)
	}
}

// A change has no shift of its own: start and end are left out; a
// schedule without a zone shows times in UTC.
func TestNoticePayloadOfAChange(t *testing.T) {
	m := &Message{Notice: &ShiftNotice{Kind: NoticeShiftChange, Namespace: "payments", Schedule: "payments-primary",
		Responder: "alice", Text: "Was: Mon 7 Dec 09:00 UTC to Tue 8 Dec 09:00 UTC\nNow: none"}}
	got, err := json.Marshal(NewPayload(m))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"klaxon.dev/v1","kind":"ShiftNotice","notice":{"kind":"ShiftChange","namespace":"payments",` +
		`"schedule":"payments-primary","responder":"alice","timeZone":"UTC",` +
		`"text":"Was: Mon 7 Dec 09:00 UTC to Tue 8 Dec 09:00 UTC\nNow: none","subject":"Your on-call shifts changed: payments-primary"}}`
	if string(got) != want {
		t.Errorf("payload:\n got %s\nwant %s", got, want)
	}
}

func TestNoticePayloadIsBounded(t *testing.T) {
	m := sampleNotice(t)
	m.Notice.Text = strings.Repeat("é", MaxTextBytes)
	m.Notice.Schedule = strings.Repeat("s\n", 1000)
	p := NewPayload(m)
	if len(p.Notice.Text) > MaxTextBytes || len(p.Notice.Subject) > MaxSubjectBytes || strings.Contains(p.Notice.Subject, "\n") {
		t.Errorf("text of %d bytes, subject of %d bytes: %q", len(p.Notice.Text), len(p.Notice.Subject), p.Notice.Subject)
	}
}

func TestWebhookPostsANotice(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusNoContent, "")
	s, err := NewWebhook(WebhookConfig{Egress: loopback, URL: srv.URL + "/hooks"})
	if err != nil {
		t.Fatal(err)
	}
	m := sampleNotice(t)
	if _, err = s.Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	body := rec.only(t).Body
	var got Payload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err = dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(NewPayload(m), got); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	var raw map[string]json.RawMessage
	if err = json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"incident", "page", "stakeholder", "bundle"} {
		if _, ok := raw[k]; ok {
			t.Errorf("a notice's payload has %q: %s", k, body)
		}
	}
}

func TestSlackPostsANotice(t *testing.T) {
	f, srv := newFakeSlack(t)
	m := withPageFields(sampleNotice(t))
	m.Address = "C1"
	m.Notice.Text = "Takes over from: <!channel> & <https://evil.example|click>\nHands over to: carol\u202e"
	s, err := NewSlackClient(SlackConfig{Egress: loopback, APIURL: srv.URL + "/api/", Token: testSlackToken,
		Namespace: "payments", ChannelName: "slack", Seal: func([]byte) string { return "sealed" }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(f.only(t).Body, &body); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"type": "section", "block_id": "klaxon_facts", "text": map[string]any{"type": "mrkdwn", "text": "" +
			"*On call from Mon 7 Dec 09:00 CET: payments-primary*\n" +
			"*Shift:* Mon 7 Dec 09:00 CET to Tue 8 Dec 09:00 CET\n" +
			"Takes over from: &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;\n" +
			"Hands over to: carol\n" +
			"*Schedule:* payments/payments-primary"}},
	}
	// No link and no buttons: a notice is about no incident, and nothing
	// in it is acknowledged.
	if diff := cmp.Diff(want, body.Blocks); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
	if body.Text != slackEscape(Text(m)) || strings.Contains(body.Text, "inc-abc") {
		t.Errorf("fallback text %q, want the notice's", body.Text)
	}
}

func TestEmailSendsANotice(t *testing.T) {
	mp := mailpit.Start(t)
	s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP})
	m := sampleNotice(t)
	m.Notice.Schedule = "primary\r\nBcc: eve@example.com"
	if _, err := s.Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	got, headers := mp.Only(t)
	if got.Subject != "On call from Mon 7 Dec 09:00 CET: primary Bcc: eve@example.com" {
		t.Errorf("Subject = %q", got.Subject)
	}
	if _, ok := headers["Bcc"]; ok || len(got.To) != 1 {
		t.Errorf("the schedule's name added a header or a recipient: %v, to %v", headers, got.To)
	}
	text := strings.ReplaceAll(got.Text, "\r\n", "\n")
	for _, s := range []string{"Shift:       Mon 7 Dec 09:00 CET to Tue 8 Dec 09:00 CET\n", "Takes over from: bob\nHands over to: carol\n"} {
		if !strings.Contains(text, s) {
			t.Errorf("body lacks %q:\n%s", s, got.Text)
		}
	}
}

// FuzzNoticeText checks that any notice renders within bounds, as valid
// UTF-8, with a single-line subject, on every shape this package sends.
func FuzzNoticeText(f *testing.F) {
	f.Add("payments", "payments-primary", "Takes over from: bob\nHands over to: carol", "ShiftStart")
	f.Add("\xff\xfe", strings.Repeat("ä\r\n", 300), strings.Repeat("\u202e\n", 9000), "ShiftChange")
	f.Fuzz(func(t *testing.T, namespace, schedule, text, kind string) {
		m := &Message{Notice: &ShiftNotice{Kind: kind, Namespace: namespace, Schedule: schedule, Text: text,
			Start: t0, End: t0.Add(time.Hour)}}
		s, body := Subject(m), Text(m)
		if len(s) > MaxSubjectBytes || !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n") {
			t.Errorf("Subject = %q: longer than %d bytes, invalid UTF-8 or several lines", s, MaxSubjectBytes)
		}
		if len(body) > MaxTextBytes || !utf8.ValidString(body) || strings.Contains(body, "\r") {
			t.Errorf("Text of %d bytes: longer than %d, invalid UTF-8 or with a CR", len(body), MaxTextBytes)
		}
		if p := NewPayload(m); len(p.Notice.Text) > MaxTextBytes || p.Notice.Subject != s {
			t.Errorf("payload text of %d bytes, subject %q", len(p.Notice.Text), p.Notice.Subject)
		}
		blocks := slackBlocks(m)
		if len(blocks) != 1 || utf8.RuneCountInString(blocks[0].Text.Text) > slackSectionChars {
			t.Errorf("Slack blocks %+v", blocks)
		}
	})
}

package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
)

// sampleBundle is a bundle of n pages to alice, the second of them SEV2
// and the rest SEV3.
func sampleBundle(n int) *Message {
	b := &Bundle{ID: "b-alice-1", AcknowledgeURL: "https://klaxon.example.com/ack-all/tok.sig"}
	for i := range n {
		sev := "SEV3"
		if i == 1 {
			sev = "SEV2"
		}
		b.Incidents = append(b.Incidents, BundledIncident{Namespace: "payments", Name: fmt.Sprintf("inc-%d", i),
			UID: fmt.Sprintf("uid-%d", i), Title: fmt.Sprintf("Queue %d backs up", i), Severity: sev, Level: 0, Round: int32(i % 2)})
	}
	return &Message{
		Incident: Incident{Namespace: "payments"},
		Page:     Page{Responder: "alice", DisplayName: "Alice Liddell"},
		Bundle:   b,
		Address:  "alice@example.com",
		SentAt:   t0,
	}
}

func TestBundleSubject(t *testing.T) {
	cases := map[string]struct {
		edit func(*Message)
		want string
	}{
		"many": {func(*Message) {}, "[SEV2] 47 incidents for Alice Liddell: Queue 0 backs up, +46 more"},
		"one": {func(m *Message) { m.Bundle.Incidents = m.Bundle.Incidents[:1] },
			"[SEV3] 1 incident for Alice Liddell: Queue 0 backs up"},
		"none": {func(m *Message) { m.Bundle.Incidents = nil }, "0 incidents for Alice Liddell"},
		"no display name": {func(m *Message) { m.Page.DisplayName = "" },
			"[SEV2] 47 incidents for alice: Queue 0 backs up, +46 more"},
		"team channel": {func(m *Message) { m.Page = Page{} }, "[SEV2] 47 incidents: Queue 0 backs up, +46 more"},
		"SEV1 anywhere is the worst": {func(m *Message) { m.Bundle.Incidents[40].Severity = "SEV1" },
			"[SEV1] 47 incidents for Alice Liddell: Queue 0 backs up, +46 more"},
		"unknown severities rank after known ones": {func(m *Message) { m.Bundle.Incidents[0].Severity = "P0" },
			"[SEV2] 47 incidents for Alice Liddell: Queue 0 backs up, +46 more"},
		"a hostile title is one line": {func(m *Message) { m.Bundle.Incidents[0].Title = "Down\r\nBcc: eve@example.com\u202e" },
			"[SEV2] 47 incidents for Alice Liddell: Down Bcc: eve@example.com, +46 more"},
		"a long title is cut, never the count": {func(m *Message) { m.Bundle.Incidents[0].Title = strings.Repeat("x", 1000) },
			"[SEV2] 47 incidents for Alice Liddell: " + strings.Repeat("x", MaxSubjectBytes-len("[SEV2] 47 incidents for Alice Liddell: ")-len(", +46 more")-len("…")) + "…, +46 more"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := sampleBundle(47)
			tc.edit(m)
			got := Subject(m)
			if got != tc.want {
				t.Errorf("Subject:\n got %q\nwant %q", got, tc.want)
			}
			if len(got) > MaxSubjectBytes || !utf8.ValidString(got) {
				t.Errorf("Subject of %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
			}
		})
	}
}

func TestBundleText(t *testing.T) {
	want := "" +
		"[SEV2] 47 incidents for Alice Liddell: Queue 0 backs up, +46 more\n" +
		"\n" +
		"47 incidents for Alice Liddell (alice) in payments:\n" +
		"- [SEV3] Queue 0 backs up (payments/inc-0)\n" +
		"- [SEV2] Queue 1 backs up (payments/inc-1)\n" +
		"- [SEV3] Queue 2 backs up (payments/inc-2)\n" +
		"- [SEV3] Queue 3 backs up (payments/inc-3)\n" +
		"- [SEV3] Queue 4 backs up (payments/inc-4)\n" +
		"…and 42 more\n" +
		"\n" +
		"List them: kubectl klaxon status -n payments\n" +
		"Acknowledge all: https://klaxon.example.com/ack-all/tok.sig\n"
	if got := Text(sampleBundle(47)); got != want {
		t.Errorf("Text (-want +got):\n%s", cmp.Diff(want, got))
	}

	few := Text(sampleBundle(2))
	if strings.Contains(few, "…and") || !strings.Contains(few, "(payments/inc-1)") {
		t.Errorf("a bundle of two lists both and no more:\n%s", few)
	}
	noLink := sampleBundle(3)
	noLink.Bundle.AcknowledgeURL = ""
	if got := Text(noLink); strings.Contains(got, "Acknowledge all") {
		t.Errorf("a bundle without a link offers one:\n%s", got)
	}
}

func TestBundleTextIsBounded(t *testing.T) {
	m := sampleBundle(MaxPayloadBundleIncidents + 10)
	for i := range m.Bundle.Incidents {
		m.Bundle.Incidents[i].Title = strings.Repeat("é\n", 5000)
		m.Bundle.Incidents[i].Name = strings.Repeat("n", 253)
	}
	m.Page.DisplayName = strings.Repeat("\u202eA", 1000)
	text := Text(m)
	if len(text) > MaxTextBytes || !utf8.ValidString(text) {
		t.Fatalf("Text of %d bytes (limit %d), valid UTF-8 %v", len(text), MaxTextBytes, utf8.ValidString(text))
	}
	if !strings.Contains(text, "Acknowledge all: https://klaxon.example.com/ack-all/tok.sig") {
		t.Errorf("the link was cut off a bundle of long titles")
	}
	if strings.Contains(text, "\u202e") {
		t.Errorf("a bidi override reached the text")
	}
}

func TestBundlePayload(t *testing.T) {
	m := sampleBundle(2)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(NewPayload(m)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "payload-bundle.golden.json")
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
		t.Errorf("bundle payload differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestBundlePayloadCapsItsIncidents(t *testing.T) {
	for _, n := range []int{0, 1, MaxPayloadBundleIncidents, MaxPayloadBundleIncidents + 1, 2000} {
		p := NewPayload(sampleBundle(n))
		if p.Kind != PayloadKindBundle || p.Bundle == nil {
			t.Fatalf("%d incidents: kind %q, bundle %v", n, p.Kind, p.Bundle)
		}
		if p.Bundle.Count != n || len(p.Bundle.Incidents) != min(n, MaxPayloadBundleIncidents) {
			t.Errorf("%d incidents: count %d, listed %d", n, p.Bundle.Count, len(p.Bundle.Incidents))
		}
		if p.Incident != (PayloadIncident{Namespace: "payments"}) {
			t.Errorf("%d incidents: incident %+v, want the namespace only", n, p.Incident)
		}
	}
}

func TestWebhookPostsABundle(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusNoContent, "")
	s, err := NewWebhook(WebhookConfig{Egress: loopback, URL: srv.URL + "/hooks"})
	if err != nil {
		t.Fatal(err)
	}
	m := sampleBundle(47)
	if _, err = s.Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	var got Payload
	dec := json.NewDecoder(bytes.NewReader(rec.only(t).Body))
	dec.DisallowUnknownFields()
	if err = dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(NewPayload(m), got); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
}

func TestSlackPostsABundle(t *testing.T) {
	f, srv := newFakeSlack(t)
	m := sampleBundle(47)
	m.Address = "C1"
	m.Bundle.Incidents[2].Title = "<!channel> & <https://evil.example|click>"
	s, err := NewSlackClient(SlackConfig{Egress: loopback, APIURL: srv.URL + "/api/", Token: testSlackToken,
		Namespace: "payments", ChannelName: "slack", Seal: func([]byte) string { return "sealed" }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(f.only(t).Body, &body); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"type": "section", "block_id": "klaxon_facts", "text": map[string]any{"type": "mrkdwn", "text": "" +
			"*[SEV2] 47 incidents for Alice Liddell: Queue 0 backs up, +46 more*\n" +
			"• [SEV3] Queue 0 backs up (payments/inc-0)\n" +
			"• [SEV2] Queue 1 backs up (payments/inc-1)\n" +
			"• [SEV3] &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; (payments/inc-2)\n" +
			"• [SEV3] Queue 3 backs up (payments/inc-3)\n" +
			"• [SEV3] Queue 4 backs up (payments/inc-4)\n" +
			"…and 42 more\n" +
			"List them: `kubectl klaxon status -n payments`"}},
		{"type": "context", "block_id": "klaxon_ack_link", "elements": []any{map[string]any{"type": "mrkdwn",
			"text": "<https://klaxon.example.com/ack-all/tok.sig|Acknowledge all> to stop the escalation of every incident listed"}}},
	}
	// No buttons: they act on one incident, and the link acknowledges all.
	if diff := cmp.Diff(want, body.Blocks); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
}

func TestEmailSendsABundle(t *testing.T) {
	mp := mailpit.Start(t)
	s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP})
	m := sampleBundle(47)
	if _, err := s.Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	got, _ := mp.Only(t)
	if got.Subject != Subject(m) {
		t.Errorf("Subject = %q, want %q", got.Subject, Subject(m))
	}
	for _, s := range []string{"- [SEV2] Queue 1 backs up (payments/inc-1)", "…and 42 more",
		"kubectl klaxon status -n payments", "Acknowledge all: https://klaxon.example.com/ack-all/tok.sig"} {
		if !strings.Contains(got.Text, s) {
			t.Errorf("body lacks %q:\n%s", s, got.Text)
		}
	}
}

package notify

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// sample is a page about a SEV1 incident, with every field set.
func sample() *Message {
	return &Message{
		Incident: Incident{
			Namespace:   "payments",
			Name:        "inc-abc",
			UID:         "6f1c2d3e-0000-4000-8000-000000000001",
			Title:       "Payments API down",
			Severity:    "SEV1",
			Service:     "payments-api",
			Impact:      "Card payments fail for every customer.\nRefunds are queued.",
			Phase:       "Triggered",
			Episode:     1,
			URL:         "https://klaxon.example.com/incidents/payments/inc-abc",
			TriggeredAt: t0,
		},
		Page: Page{
			Level: 1, Round: 0,
			Responder:      "alice",
			DisplayName:    "Alice Liddell",
			Paged:          []string{"alice", "bob"},
			AcknowledgeURL: "https://klaxon.example.com/ack/payments/inc-abc?token=t1&as=alice",
		},
		Address: "alice@example.com",
		SentAt:  t0.Add(90*time.Second + 500*time.Millisecond),
	}
}

func TestSubject(t *testing.T) {
	cases := map[string]struct {
		edit func(*Message)
		want string
	}{
		"every field": {
			func(*Message) {},
			"[SEV1] Payments API down (payments/inc-abc)",
		},
		"no severity": {
			func(m *Message) { m.Incident.Severity = "" },
			"Payments API down (payments/inc-abc)",
		},
		"no title": {
			func(m *Message) { m.Incident.Title = "" },
			"[SEV1] Incident (payments/inc-abc)",
		},
		"line breaks and tabs cannot start a header": {
			func(m *Message) { m.Incident.Title = "Payments\r\nBcc: eve@example.com\t down" },
			"[SEV1] Payments Bcc: eve@example.com down (payments/inc-abc)",
		},
		"invalid UTF-8 is replaced": {
			func(m *Message) { m.Incident.Title = "Zahlungen \xff kaputt" },
			"[SEV1] Zahlungen \uFFFD kaputt (payments/inc-abc)",
		},
		"only a name": {
			func(m *Message) { m.Incident.Namespace = "" },
			"[SEV1] Payments API down (inc-abc)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := sample()
			tc.edit(m)
			if got := Subject(m); got != tc.want {
				t.Errorf("Subject:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestSubjectIsBounded(t *testing.T) {
	m := sample()
	m.Incident.Title = strings.Repeat("ü", 300) // 600 bytes
	got := Subject(m)
	if len(got) > MaxSubjectBytes {
		t.Errorf("len(Subject) = %d, want at most %d", len(got), MaxSubjectBytes)
	}
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "[SEV1] üü") {
		t.Errorf("Subject = %q, want a valid cut of the title ending in …", got)
	}
}

func TestText(t *testing.T) {
	want := `[SEV1] Payments API down (payments/inc-abc)

Incident:    payments/inc-abc
Severity:    SEV1
Service:     payments-api
Phase:       Triggered
Escalation:  level 1, round 0
Responder:   Alice Liddell (alice)
Paged:       alice, bob

Impact:
Card payments fail for every customer.
Refunds are queued.

Open:        https://klaxon.example.com/incidents/payments/inc-abc
Acknowledge: https://klaxon.example.com/ack/payments/inc-abc?token=t1&as=alice
`
	if got := Text(sample()); got != want {
		t.Errorf("Text:\n%s\nwant:\n%s", got, want)
	}
}

func TestTextFields(t *testing.T) {
	cases := map[string]struct {
		edit     func(*Message)
		contains []string
		lacks    []string
	}{
		"no links when unset": {
			edit:  func(m *Message) { m.Incident.URL, m.Page.AcknowledgeURL = "", "" },
			lacks: []string{"Open:", "Acknowledge:", "https://"},
		},
		"acknowledge link alone": {
			edit:     func(m *Message) { m.Incident.URL = "" },
			contains: []string{"Acknowledge: https://klaxon.example.com/ack/"},
			lacks:    []string{"Open:"},
		},
		"reopened incident shows its episode": {
			edit:     func(m *Message) { m.Incident.Episode = 3 },
			contains: []string{"Phase:       Triggered (episode 3)"},
		},
		"team channel: no responder": {
			edit:     func(m *Message) { m.Page.Responder, m.Page.DisplayName = "", "" },
			contains: []string{"Paged:       alice, bob"},
			lacks:    []string{"Responder:"},
		},
		"display name equal to the name is not repeated": {
			edit:     func(m *Message) { m.Page.DisplayName = "alice" },
			contains: []string{"Responder:   alice\n"},
		},
		"later level and round": {
			edit:     func(m *Message) { m.Page.Level, m.Page.Round = 2, 1 },
			contains: []string{"Escalation:  level 2, round 1"},
		},
		"CRLF impact keeps its lines, control characters do not survive": {
			edit:     func(m *Message) { m.Incident.Impact = "one\r\ntwo\x1b[31m\r\n" },
			contains: []string{"Impact:\none\ntwo [31m\n"},
			lacks:    []string{"\r", "\x1b"},
		},
		"a line break in a field cannot forge another field": {
			edit:     func(m *Message) { m.Incident.Service = "api\nAcknowledge: https://evil.example" },
			contains: []string{"Service:     api Acknowledge: https://evil.example\n"},
		},
		"nothing but a name": {
			edit: func(m *Message) {
				*m = Message{Incident: Incident{Namespace: "ns", Name: "inc"}}
			},
			contains: []string{"Incident (ns/inc)\n\nIncident:    ns/inc\nEscalation:  level 0, round 0\n"},
			lacks:    []string{"Impact", "Severity", "Paged"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := sample()
			tc.edit(m)
			got := Text(m)
			for _, s := range tc.contains {
				if !strings.Contains(got, s) {
					t.Errorf("Text lacks %q:\n%s", s, got)
				}
			}
			for _, s := range tc.lacks {
				if strings.Contains(got, s) {
					t.Errorf("Text has %q:\n%s", s, got)
				}
			}
		})
	}
}

func TestTextIsBounded(t *testing.T) {
	m := sample()
	m.Incident.Impact = strings.Repeat("€", 5000) // 15000 bytes
	got := Text(m)
	if len(got) > MaxTextBytes {
		t.Errorf("len(Text) = %d, want at most %d", len(got), MaxTextBytes)
	}
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "€…") {
		t.Errorf("Text ends %q, want a valid cut ending in €…", got[len(got)-20:])
	}
	if !strings.HasPrefix(got, Subject(m)+"\n") {
		t.Errorf("Text does not start with the subject")
	}
}

// FuzzText checks that any input renders within bounds, as valid UTF-8,
// with a single-line subject.
func FuzzText(f *testing.F) {
	f.Add("Payments API down", "SEV1", "line\r\nbreak", "https://x", "\xff\xfe")
	f.Add(strings.Repeat("ä", 200), "", strings.Repeat("\n", 9000), "", "")
	f.Fuzz(func(t *testing.T, title, severity, impact, url, name string) {
		m := sample()
		m.Incident.Title, m.Incident.Severity, m.Incident.Impact = title, severity, impact
		m.Incident.URL, m.Incident.Name = url, name
		m.Page.Paged = append(m.Page.Paged, name)
		s, text := Subject(m), Text(m)
		if len(s) > MaxSubjectBytes || !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n") {
			t.Errorf("Subject = %q: longer than %d bytes, invalid UTF-8 or several lines", s, MaxSubjectBytes)
		}
		if len(text) > MaxTextBytes || !utf8.ValidString(text) || strings.Contains(text, "\r") {
			t.Errorf("Text of %d bytes: longer than %d, invalid UTF-8 or with a CR", len(text), MaxTextBytes)
		}
	})
}

func TestOneLineDropsFormatCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"Payments \u202edown\u202c":                         "Payments down",
		"a\u200bb\ufeffc\u2066d\u2069":                      "abcd",
		"family \U0001F468\u200d\U0001F469\u200d\U0001F467": "family \U0001F468\u200d\U0001F469\u200d\U0001F467",
		"line\u2028break\u0085next":                         "line break next",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

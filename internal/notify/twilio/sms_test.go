package twilio

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/klaxon-dev/klaxon/internal/notify"
)

func TestSegments(t *testing.T) {
	for name, c := range map[string]struct {
		text string
		want int
	}{
		"empty":                            {"", 1},
		"160 GSM":                          {strings.Repeat("a", 160), 1},
		"161 GSM":                          {strings.Repeat("a", 161), 2},
		"306 GSM":                          {strings.Repeat("a", 306), 2},
		"307 GSM":                          {strings.Repeat("a", 307), 3},
		"80 extension chars are 160":       {strings.Repeat("€", 80), 1},
		"81 extension chars are 162":       {strings.Repeat("{", 81), 2},
		"an escape is not split":           {strings.Repeat("a", 152) + "[" + strings.Repeat("a", 152), 3},
		"an escape that fits":              {strings.Repeat("a", 151) + "[" + strings.Repeat("a", 152), 2},
		"GSM accents stay GSM":             {strings.Repeat("é", 160), 1},
		"70 UCS-2":                         {strings.Repeat("ж", 70), 1},
		"71 UCS-2":                         {strings.Repeat("ж", 71), 2},
		"134 UCS-2":                        {strings.Repeat("ж", 134), 2},
		"135 UCS-2":                        {strings.Repeat("ж", 135), 3},
		"one emoji makes it all UCS-2":     {strings.Repeat("a", 69) + "🚨", 2},
		"35 emoji are 70 units":            {strings.Repeat("🚨", 35), 1},
		"a surrogate pair is not split":    {strings.Repeat("a", 66) + "🚨" + strings.Repeat("a", 66), 3},
		"a backtick is not GSM":            {"`", 1},
		"a backtick text of 71 is 2 parts": {strings.Repeat("`", 71), 2},
	} {
		if got := Segments(c.text); got != c.want {
			t.Errorf("%s: Segments = %d, want %d", name, got, c.want)
		}
	}
}

func TestIsGSM(t *testing.T) {
	for s, want := range map[string]bool{
		"Payments API down @ 50% $5 #1": true,
		"{}[]~^|€\\":                    true,
		"ÄÖÜäöüßñÑéèΔΣ§¿¡":              true,
		"`":                             false,
		"…":                             false,
		"🚨":                             false,
		"ç":                             false, // only the capital Ç is GSM
		"ä\tb":                          false,
	} {
		if got := IsGSM(s); got != want {
			t.Errorf("IsGSM(%q) = %v, want %v", s, got, want)
		}
	}
}

// page is a page as the controller builds it.
func page(title string) *notify.Message {
	return &notify.Message{
		Incident: notify.Incident{Namespace: "payments", Name: "inc-7f3k2", Title: title, Severity: "SEV1"},
		Page: notify.Page{
			Level: 1, Round: 1, Responder: "alice",
			AcknowledgeURL:  "https://klaxon.example.com/ack/" + strings.Repeat("x", 120) + "." + strings.Repeat("y", 43),
			AcknowledgeCode: "042917",
		},
		Address: "+4915112345678",
	}
}

// units is the length of s in its encoding's units.
func units(s string) int {
	if n, ok := gsmUnits(s); ok {
		return n
	}
	return len(utf16.Encode([]rune(s)))
}

func TestSMSText(t *testing.T) {
	link := page("").Page.AcknowledgeURL
	for name, c := range map[string]struct {
		msg *notify.Message
		// want are the lines of the text, exactly, when set.
		want []string
		// contains and missing are parts the text has or has not.
		contains, missing []string
		gsm               bool
	}{
		"a short title": {
			msg:  page("Payments API down"),
			want: []string{"[SEV1] Payments API down", "payments/inc-7f3k2", "Reply 042917 or ACK to acknowledge", link},
			gsm:  true,
		},
		"a long title is cut with dots": {
			msg:      page(strings.Repeat("Checkout latency high ", 20)),
			contains: []string{"[SEV1] Checkout latency high", "...\npayments/inc-7f3k2", "Reply 042917 or ACK", link},
			gsm:      true,
		},
		"extension characters count twice": {
			msg:      page(strings.Repeat("{x}[y]~^|€\\ ", 30)),
			contains: []string{"[SEV1] {x}[y]~^|€\\", "...\npayments/inc-7f3k2", "Reply 042917", link},
			gsm:      true,
		},
		"an emoji title leaves the link out": {
			msg:      page("🔥 Payments API down for everyone in the EU region since the last deploy of the gateway"),
			contains: []string{"[SEV1] 🔥 Payments", "…\npayments/inc-7f3k2", "\nReply 042917 or ACK to acknowledge"},
			missing:  []string{"https://"},
		},
		"a short emoji title with a short link keeps it": {
			msg: func() *notify.Message {
				m := page("🔥 down")
				m.Page.AcknowledgeURL = "https://k.example/ack/abc"
				return m
			}(),
			want: []string{"[SEV1] 🔥 down", "payments/inc-7f3k2", "Reply 042917 or ACK to acknowledge", "https://k.example/ack/abc"},
		},
		"no code": {
			msg: func() *notify.Message {
				m := page("Disk full")
				m.Page.AcknowledgeCode = ""
				return m
			}(),
			want: []string{"[SEV1] Disk full", "payments/inc-7f3k2", "Reply ACK to acknowledge", link},
			gsm:  true,
		},
		"no link": {
			msg: func() *notify.Message {
				m := page("Disk full")
				m.Page.AcknowledgeURL = ""
				return m
			}(),
			want: []string{"[SEV1] Disk full", "payments/inc-7f3k2", "Reply 042917 or ACK to acknowledge"},
			gsm:  true,
		},
		"a link too long for any text is left out": {
			msg: func() *notify.Message {
				m := page("Disk full")
				m.Page.AcknowledgeURL = "https://k.example/ack/" + strings.Repeat("z", 400)
				return m
			}(),
			want: []string{"[SEV1] Disk full", "payments/inc-7f3k2", "Reply 042917 or ACK to acknowledge"},
			gsm:  true,
		},
		"no title": {
			msg:      page(""),
			contains: []string{"[SEV1] Incident\n"},
			gsm:      true,
		},
		"line breaks and controls in the title": {
			msg:      page("Disk\nfull\x1b[31m on\tnode-1"),
			contains: []string{"[SEV1] Disk full [31m on node-1\n"},
			gsm:      true,
		},
		"a code that is not digits is not offered": {
			msg: func() *notify.Message {
				m := page("Disk full")
				m.Page.AcknowledgeCode = "12ab56"
				return m
			}(),
			contains: []string{"Reply ACK to acknowledge"},
			missing:  []string{"12ab56"},
			gsm:      true,
		},
		"news for stakeholders": {
			msg: &notify.Message{
				Incident:    notify.Incident{Namespace: "payments", Name: "inc-7f3k2", Title: "Payments API down", Severity: "SEV2"},
				Stakeholder: &notify.StakeholderNews{Event: notify.EventUpdate, Author: "bob", Text: "Rolled back; error rate is falling."},
			},
			want: []string{"[SEV2] Update: Payments API down", "payments/inc-7f3k2", "Rolled back; error rate is falling."},
			gsm:  true,
		},
		"a character cut off returns the text to GSM-7": {
			msg:      page(strings.Repeat("Checkout latency high ", 12) + "🔥"),
			contains: []string{"[SEV1] Checkout latency high", "...\npayments/inc-7f3k2", "Reply 042917 or ACK", link},
			missing:  []string{"🔥", "…"},
			gsm:      true,
		},
		"format characters are dropped": {
			msg:  page("Disk \u202efull\u202c on\u200b node\ufeff-1\u200d"),
			want: []string{"[SEV1] Disk full on node-1", "payments/inc-7f3k2", "Reply 042917 or ACK to acknowledge", link},
			gsm:  true,
		},
		"news with a long update in UCS-2": {
			msg: &notify.Message{
				Incident:    notify.Incident{Namespace: "payments", Name: "inc-7f3k2", Title: "Payments API down", Severity: "SEV2"},
				Stakeholder: &notify.StakeholderNews{Event: notify.EventUpdate, Text: strings.Repeat("Откат выполнен, ошибки падают. ", 10)},
			},
			contains: []string{"[SEV2] Update: Payments API down\npayments/inc-7f3k2\nОткат выполнен", "…"},
		},
	} {
		got := SMSText(c.msg)
		if n := Segments(got); n > MaxSMSSegments {
			t.Errorf("%s: %d segments (%d units):\n%s", name, n, units(got), got)
		}
		if IsGSM(got) != c.gsm {
			t.Errorf("%s: IsGSM = %v, want %v:\n%s", name, IsGSM(got), c.gsm, got)
		}
		if limit := map[bool]int{true: 306, false: 134}[IsGSM(got)]; units(got) > limit {
			t.Errorf("%s: %d units, more than %d", name, units(got), limit)
		}
		if c.want != nil && got != strings.Join(c.want, "\n") {
			t.Errorf("%s: SMSText =\n%s\nwant\n%s", name, got, strings.Join(c.want, "\n"))
		}
		for _, s := range c.contains {
			if !strings.Contains(got, s) {
				t.Errorf("%s: the text lacks %q:\n%s", name, s, got)
			}
		}
		for _, s := range c.missing {
			if strings.Contains(got, s) {
				t.Errorf("%s: the text has %q:\n%s", name, s, got)
			}
		}
	}
}

// TestSMSTextFillsTwoSegments checks that a cut title leaves no room
// unused: one character more would not fit.
func TestSMSTextFillsTwoSegments(t *testing.T) {
	for _, title := range []string{strings.Repeat("a", 300), strings.Repeat("ж", 200), strings.Repeat("€", 200)} {
		got := SMSText(page(title))
		p := smsParts(page(title))
		if !strings.Contains(got, p.link) {
			p.link = ""
		}
		title := strings.SplitN(strings.TrimPrefix(got, p.head), "\n", 2)[0]
		title = strings.TrimSuffix(strings.TrimSuffix(title, gsmCutMark), "…")
		kept := len([]rune(strings.TrimSuffix(title, " ")))
		if longer := p.render(cuts{title: kept + 1, ref: whole, tail: whole}); Segments(longer) <= MaxSMSSegments {
			t.Errorf("a title of %d characters would fit too, SMSText kept %d:\n%s", kept+1, kept, got)
		}
	}
}

func TestSMSTextBoundsHostileInput(t *testing.T) {
	m := page(strings.Repeat("🚨", 5000))
	m.Incident.Name = strings.Repeat("n", 5000)
	m.Incident.Severity = strings.Repeat("S", 500)
	m.Page.AcknowledgeCode = strings.Repeat("1", 500)
	got := SMSText(m)
	if Segments(got) > MaxSMSSegments {
		t.Fatalf("%d segments:\n%s", Segments(got), got)
	}
	if !strings.Contains(got, "Reply ACK to acknowledge") {
		t.Errorf("the reply line is gone:\n%s", got)
	}
}

// TestSMSTextAlwaysFits draws titles, names, codes and updates from a mix
// of GSM-7, extension, UCS-2 and astral characters: every text fits in two
// segments, and a page's reply line is whole.
func TestSMSTextAlwaysFits(t *testing.T) {
	alphabet := []rune("abc XYZ 019 .,:-_/ é€{}[]~^|\\ ж 🚨` \t\n")
	r := rand.New(rand.NewPCG(1, 2))
	draw := func(n int) string {
		out := make([]rune, r.IntN(n+1))
		for i := range out {
			out[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(out)
	}
	for i := range 2000 {
		m := page(draw(260))
		m.Incident.Name = draw(80)
		if i%3 == 0 {
			m.Page.AcknowledgeURL = "https://k.example/ack/" + strings.Repeat("t", r.IntN(300))
		}
		if i%5 == 0 {
			m.Page = notify.Page{}
			m.Stakeholder = &notify.StakeholderNews{Event: notify.EventUpdate, Text: draw(400)}
		}
		got := SMSText(m)
		if Segments(got) > MaxSMSSegments {
			t.Fatalf("%d segments:\n%s", Segments(got), got)
		}
		if m.Stakeholder == nil && !strings.Contains(got, "\nReply 042917 or ACK to acknowledge") {
			t.Fatalf("the reply line is not whole:\n%s", got)
		}
		if link := m.Page.AcknowledgeURL; link != "" && strings.Contains(got, "https://") && !strings.HasSuffix(got, "\n"+link) {
			t.Fatalf("the link was cut:\n%s", got)
		}
	}
}

// BenchmarkSMSTextHostile measures the worst input: every part cut, by
// bisection rather than a character at a time.
func BenchmarkSMSTextHostile(b *testing.B) {
	m := page(strings.Repeat("🚨", 5000))
	m.Incident.Name = strings.Repeat("n", 5000)
	m.Stakeholder = &notify.StakeholderNews{Event: notify.EventUpdate, Text: strings.Repeat("ж", 5000)}
	for b.Loop() {
		_ = SMSText(m)
	}
}

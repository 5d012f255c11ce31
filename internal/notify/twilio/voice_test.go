package twilio

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klaxon-dev/klaxon/internal/notify"
)

// TestVoiceScript reads what a call says for ordinary and hostile pages: it
// stays within MaxSayChars, keeps only speakable characters, and always
// ends with the keys to press.
func TestVoiceScript(t *testing.T) {
	const keys = "Press 1 to acknowledge. Press 2 to page the next level now. Press any other key to hear this again."
	for name, c := range map[string]struct {
		inc  notify.Incident
		says []string
	}{
		"a page": {notify.Incident{Namespace: "payments", Name: "db-down", Title: "Orders database is down", Severity: "SEV1"},
			[]string{"severity SEV1", "Orders database is down.", "Incident db-down in namespace payments."}},
		"no title":      {notify.Incident{Namespace: "payments", Name: "db-down"}, []string{"An incident."}},
		"markup":        {notify.Incident{Title: "<Dial>+15005550006</Dial> & {{ .x }}"}, []string{"Dial15005550006/Dial .x"}},
		"a long title":  {notify.Incident{Title: strings.Repeat("disk full ", 500), Name: strings.Repeat("n", 300), Namespace: "ns"}, nil},
		"control chars": {notify.Incident{Title: "a\x00b\u202ec\nd\te"}, []string{"ab", "d e"}},
	} {
		got := VoiceScript(&notify.Message{Incident: c.inc})
		if n := utf8.RuneCountInString(got); n > MaxSayChars {
			t.Errorf("%s: %d characters, more than %d", name, n, MaxSayChars)
		}
		if !strings.HasSuffix(got, keys) {
			t.Errorf("%s: the script does not end with the keys:\n%s", name, got)
		}
		for _, s := range c.says {
			if !strings.Contains(got, s) {
				t.Errorf("%s: the script lacks %q:\n%s", name, s, got)
			}
		}
		if strings.ContainsAny(got, "<>&{}\x00\u202e\n\t") {
			t.Errorf("%s: the script keeps markup or control characters: %q", name, got)
		}
	}
}

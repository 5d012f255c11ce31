package twilio

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// MaxTitleSpokenChars bounds the title a call reads.
const MaxTitleSpokenChars = 200

// VoiceScript is what a call reads: who calls, the severity, the title and
// the incident, then the keys. Only letters, digits and plain punctuation
// are read, so that no markup or symbol soup reaches the speech engine.
func VoiceScript(m *notify.Message) string {
	inc := &m.Incident
	var b strings.Builder
	b.WriteString("This is Klaxon with a page")
	if sev := spoken(inc.Severity, 16); sev != "" {
		b.WriteString(", severity " + sev)
	}
	b.WriteString(". ")
	title := spoken(inc.Title, MaxTitleSpokenChars)
	if title == "" {
		title = "An incident"
	}
	b.WriteString(title + ". ")
	if inc.Name != "" {
		b.WriteString("Incident " + spoken(inc.Name, 63) + " in namespace " + spoken(inc.Namespace, 63) + ". ")
	}
	b.WriteString("Press 1 to acknowledge. Press 2 to page the next level now. Press any other key to hear this again.")
	return bounded.Runes(b.String(), MaxSayChars)
}

// spoken keeps letters, digits, spaces and plain punctuation of s, one
// line, at most n characters.
func spoken(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return r
		case strings.ContainsRune(" .,:;!?'-/()", r):
			return r
		case unicode.IsSpace(r) || r == '_':
			return ' '
		}
		return -1
	}, s)
	return bounded.Runes(strings.Join(strings.Fields(s), " "), n)
}

// MaxBundleSayChars bounds what a call of a bundle or a shift notice
// reads: its TwiML goes with the request creating the call, which Twilio
// takes up to 4,000 characters of, and escaping can make a character five.
const MaxBundleSayChars = 600

// BundleVoiceScript is what a call about a bundle reads: how many
// incidents, the worst severity and the first titles. No key acknowledges
// them all: the call reads, then hangs up, and the text or mail of the
// bundle carries the link.
func BundleVoiceScript(m *notify.Message) string {
	b := m.Bundle
	var s strings.Builder
	s.WriteString("This is Klaxon with " + strconv.Itoa(len(b.Incidents)) + " incidents")
	if len(b.Incidents) == 1 {
		s.Reset()
		s.WriteString("This is Klaxon with 1 incident")
	}
	if sev := spoken(m.Severity(), 16); sev != "" {
		s.WriteString(", the worst of severity " + sev)
	}
	s.WriteString(". ")
	for i, inc := range b.Incidents[:min(3, len(b.Incidents))] {
		if t := spoken(inc.Title, 120); t != "" {
			s.WriteString(strconv.Itoa(i+1) + ": " + t + ". ")
		}
	}
	if more := len(b.Incidents) - 3; more > 0 {
		s.WriteString("And " + strconv.Itoa(more) + " more. ")
	}
	s.WriteString("Acknowledge them with the link in your messages, or with kubectl klaxon. Goodbye.")
	return bounded.Runes(s.String(), MaxBundleSayChars)
}

// NoticeVoiceScript is what a call about a shift notice reads: its
// subject, then where the rest is. No key does anything: the call reads,
// then hangs up.
func NoticeVoiceScript(m *notify.Message) string {
	return bounded.Runes("This is Klaxon. "+spoken(notify.Subject(m), notify.MaxSubjectBytes)+
		". The details are in your messages. Goodbye.", MaxBundleSayChars)
}

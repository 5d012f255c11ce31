package notify

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Limits of the rendered message. The inputs are bounded by the CRDs, but
// the renderer does not rely on that: a subject is one header line, and a
// page should be read on a phone.
const (
	// MaxSubjectBytes bounds Subject.
	MaxSubjectBytes = 256
	// MaxTextBytes bounds Text.
	MaxTextBytes = 8 << 10
)

// Subject renders the one-line summary of a message, such as
// "[SEV1] Payments API down (payments/inc-abc)", or of a bundle, such as
// "[SEV2] 47 incidents for Alice: Payments API down, +46 more".
func Subject(m *Message) string {
	if m.Notice != nil {
		return noticeSubject(m.Notice)
	}
	if m.Bundle != nil {
		return bundleSubject(m)
	}
	inc := &m.Incident
	var b strings.Builder
	if inc.Severity != "" {
		b.WriteString("[" + OneLine(inc.Severity) + "] ")
	}
	if news := m.Stakeholder; news != nil && news.Event != "" {
		b.WriteString(OneLine(news.Event) + ": ")
	}
	title := OneLine(inc.Title)
	if title == "" {
		title = "Incident"
	}
	b.WriteString(title)
	if ref := incidentRef(inc); ref != "" {
		b.WriteString(" (" + ref + ")")
	}
	return bounded.Bytes(b.String(), MaxSubjectBytes)
}

// Text renders the message as plain text: the subject line (which carries
// the title), one line per fact the responder needs to decide what to do,
// the impact, then the links. A bundle's lists its first incidents, the
// command that lists them all and the link that acknowledges them all.
func Text(m *Message) string {
	if m.Notice != nil {
		return noticeText(m.Notice)
	}
	if m.Bundle != nil {
		return bundleText(m)
	}
	inc, page := &m.Incident, &m.Page
	var b strings.Builder
	b.WriteString(Subject(m))
	b.WriteString("\n\n")

	field := func(name, value string) {
		if value == "" {
			return
		}
		fmt.Fprintf(&b, "%-12s %s\n", name+":", value)
	}
	field("Incident", incidentRef(inc))
	field("Severity", OneLine(inc.Severity))
	field("Service", OneLine(inc.Service))
	field("Phase", phase(inc))
	if news := m.Stakeholder; news != nil {
		field("Postmortem", OneLine(news.PostmortemURL))
		if text := multiLine(news.Text); text != "" {
			b.WriteString("\nUpdate")
			if author := OneLine(news.Author); author != "" {
				b.WriteString(" from " + author)
			}
			b.WriteString(":\n" + text + "\n")
		}
	} else {
		field("Escalation", fmt.Sprintf("level %d, round %d", page.Level, page.Round))
		field("Responder", responder(page))
		field("Paged", paged(page))
	}
	if impact := multiLine(inc.Impact); impact != "" {
		// The impact is prose and may run over several lines: give it a
		// paragraph of its own rather than an aligned field.
		b.WriteString("\nImpact:\n")
		b.WriteString(impact)
		b.WriteString("\n")
	}
	if inc.URL != "" || page.AcknowledgeURL != "" {
		b.WriteString("\n")
		field("Open", OneLine(inc.URL))
		field("Acknowledge", OneLine(page.AcknowledgeURL))
	}
	return bounded.Bytes(b.String(), MaxTextBytes)
}

// incidentRef is "namespace/name", or whichever of the two is set.
func incidentRef(inc *Incident) string {
	ns, name := OneLine(inc.Namespace), OneLine(inc.Name)
	switch {
	case ns != "" && name != "":
		return ns + "/" + name
	case name != "":
		return name
	default:
		return ns
	}
}

// phase is the phase, with the episode once the incident was reopened.
func phase(inc *Incident) string {
	p := OneLine(inc.Phase)
	if p == "" || inc.Episode <= 1 {
		return p
	}
	return fmt.Sprintf("%s (episode %d)", p, inc.Episode)
}

// responder is "Display Name (name)", or whichever of the two is set.
func responder(page *Page) string {
	name, display := OneLine(page.Responder), OneLine(page.DisplayName)
	switch {
	case name != "" && display != "" && display != name:
		return display + " (" + name + ")"
	case name != "":
		return name
	default:
		return display
	}
}

// paged lists the people paged at this level.
func paged(page *Page) string {
	names := make([]string, 0, len(page.Paged))
	for _, p := range page.Paged {
		if p = OneLine(p); p != "" {
			names = append(names, p)
		}
	}
	return strings.Join(names, ", ")
}

// OneLine makes s safe for a single line: invalid UTF-8 becomes U+FFFD,
// every control character or line break a space, and runs of spaces one.
// Format characters (bidi overrides such as U+202E, zero-width marks) are
// dropped: they reorder or hide what a title shows in mail, chat and push.
// The zero-width joiner stays: it only joins emoji into one, and without
// it a family emoji falls apart into its people.
func OneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			return ' '
		case r == zeroWidthJoiner:
			return r
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// zeroWidthJoiner joins emoji into one sequence.
const zeroWidthJoiner = '\u200d'

// multiLine keeps the line breaks of s (as \n) and makes each line safe.
func multiLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = OneLine(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

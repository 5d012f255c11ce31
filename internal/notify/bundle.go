package notify

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// maxBundleTitleBytes bounds each title a bundle lists, so that the
// listed incidents and the acknowledge-all link fit in MaxTextBytes.
const maxBundleTitleBytes = 200

// Severity is the message's severity: the incident's, or for a bundle the
// worst among its incidents (SEV1 is the worst); a shift notice has none.
func (m *Message) Severity() string {
	if m.Notice != nil {
		return ""
	}
	if m.Bundle == nil {
		return m.Incident.Severity
	}
	return WorstSeverity(m.Bundle.Incidents)
}

// AcknowledgeURL is the link the message asks to open to acknowledge: the
// page's, or for a bundle the one that acknowledges all its incidents; a
// shift notice has nothing to acknowledge.
func (m *Message) AcknowledgeURL() string {
	if m.Notice != nil {
		return ""
	}
	if m.Bundle != nil {
		return m.Bundle.AcknowledgeURL
	}
	return m.Page.AcknowledgeURL
}

// WorstSeverity is the worst of the incidents' severities (SEV1 before
// SEV2 and so on); a severity of another form counts only when none has
// this one. Empty when no incident has one.
func WorstSeverity(incs []BundledIncident) string {
	worst, rank := "", 0
	for _, inc := range incs {
		r := severityRank(inc.Severity)
		if r > 0 && (rank == 0 || r < rank) {
			worst, rank = inc.Severity, r
		}
		if rank == 0 && worst == "" {
			worst = inc.Severity
		}
	}
	return OneLine(worst)
}

// severityRank is n for SEVn (1 to 9), 0 for anything else.
func severityRank(s string) int {
	if len(s) != 4 || !strings.HasPrefix(s, "SEV") || s[3] < '1' || s[3] > '9' {
		return 0
	}
	return int(s[3] - '0')
}

// bundleSubject is, for example, "[SEV2] 47 incidents for Alice: Payments
// API down, +46 more". The title is cut, never the count.
func bundleSubject(m *Message) string {
	b := m.Bundle
	var head strings.Builder
	if sev := m.Severity(); sev != "" {
		head.WriteString("[" + sev + "] ")
	}
	head.WriteString(incidentCount(len(b.Incidents)))
	if who := bundleResponder(&m.Page); who != "" {
		head.WriteString(" for " + who)
	}
	if len(b.Incidents) == 0 {
		return bounded.Bytes(head.String(), MaxSubjectBytes)
	}
	head.WriteString(": ")
	tail := ""
	if more := len(b.Incidents) - 1; more > 0 {
		tail = ", +" + strconv.Itoa(more) + " more"
	}
	title := OneLine(b.Incidents[0].Title)
	if title == "" {
		title = "Incident"
	}
	room := MaxSubjectBytes - head.Len() - len(tail)
	if room < len(bounded.Marker)+1 {
		return bounded.Bytes(head.String()+title+tail, MaxSubjectBytes)
	}
	return head.String() + bounded.Bytes(title, room) + tail
}

// bundleText lists the first MaxBundleTitles incidents, says how many
// more, how to list them all, and the acknowledge-all link.
func bundleText(m *Message) string {
	b := m.Bundle
	var t strings.Builder
	t.WriteString(bundleSubject(m))
	t.WriteString("\n\n")
	t.WriteString(incidentCount(len(b.Incidents)))
	if who := responder(&m.Page); who != "" {
		t.WriteString(" for " + who)
	}
	ns := OneLine(m.Incident.Namespace)
	if ns != "" {
		t.WriteString(" in " + ns)
	}
	t.WriteString(":\n")
	for _, line := range BundleLines(b, MaxBundleTitles) {
		t.WriteString("- " + line + "\n")
	}
	if more := len(b.Incidents) - MaxBundleTitles; more > 0 {
		fmt.Fprintf(&t, "…and %d more\n", more)
	}
	t.WriteString("\n")
	if ns != "" {
		t.WriteString("List them: kubectl klaxon status -n " + ns + "\n")
	}
	if ack := OneLine(b.AcknowledgeURL); ack != "" {
		t.WriteString("Acknowledge all: " + ack + "\n")
	}
	return bounded.Bytes(t.String(), MaxTextBytes)
}

// BundleLines are the first n incidents of the bundle, one line each:
// "[SEV2] title (namespace/name)", the title cut to a bound.
func BundleLines(b *Bundle, n int) []string {
	lines := make([]string, 0, min(n, len(b.Incidents)))
	for _, inc := range b.Incidents[:min(n, len(b.Incidents))] {
		var l strings.Builder
		if sev := OneLine(inc.Severity); sev != "" {
			l.WriteString("[" + bounded.Bytes(sev, 16) + "] ")
		}
		title := OneLine(inc.Title)
		if title == "" {
			title = "Incident"
		}
		l.WriteString(bounded.Bytes(title, maxBundleTitleBytes))
		if ref := incidentRef(&Incident{Namespace: inc.Namespace, Name: inc.Name}); ref != "" {
			l.WriteString(" (" + ref + ")")
		}
		lines = append(lines, l.String())
	}
	return lines
}

// incidentCount is "1 incident" or "N incidents".
func incidentCount(n int) string {
	if n == 1 {
		return "1 incident"
	}
	return strconv.Itoa(n) + " incidents"
}

// bundleResponder is the short name of whom a bundle is for: the display
// name, else the responder.
func bundleResponder(page *Page) string {
	if d := OneLine(page.DisplayName); d != "" {
		return bounded.Bytes(d, 64)
	}
	return bounded.Bytes(OneLine(page.Responder), 64)
}

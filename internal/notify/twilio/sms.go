package twilio

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// Segment sizes, in units of the text's encoding: GSM-7 septets (an
// extension character takes two) or UTF-16 code units. A text longer than
// one segment is split into parts that each lose room to a header.
const (
	gsmSingle = 160
	gsmPart   = 153
	ucsSingle = 70
	ucsPart   = 67
)

// MaxSMSSegments is how many segments SMSText fills at most: a page should
// arrive whole, and each segment is billed.
const MaxSMSSegments = 2

// minTitleRunes is how much of the title a text keeps before it gives up
// the acknowledge link: a page that says nothing of what broke is worse
// than one that must be acknowledged by reply.
const minTitleRunes = 12

// gsmBasic is the GSM 03.38 basic character set; gsmExtension are the
// characters of its extension table, sent as an escape and the character.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

// gsmWidth is the septets of each GSM-7 character: 1 in the basic set, 2
// in the extension table.
var gsmWidth = func() map[rune]int {
	w := map[rune]int{}
	for _, r := range gsmBasic {
		w[r] = 1
	}
	for _, r := range gsmExtension {
		w[r] = 2
	}
	return w
}()

// gsmUnits is the length of s in GSM-7 septets, and false when s holds a
// character GSM-7 cannot carry (the text is then sent as UCS-2).
func gsmUnits(s string) (int, bool) {
	n := 0
	for _, r := range s {
		w, ok := gsmWidth[r]
		if !ok {
			return 0, false
		}
		n += w
	}
	return n, true
}

// IsGSM reports whether every character of s is in the GSM-7 basic set or
// its extension table, so that a text of it is sent in GSM-7.
func IsGSM(s string) bool {
	_, ok := gsmUnits(s)
	return ok
}

// Segments is the number of segments Twilio bills for a text: one up to
// 160 GSM-7 septets (70 UTF-16 units when a character needs UCS-2), else
// parts of 153 (67), where a character that takes two units is never split
// across parts.
func Segments(text string) int {
	gsm := IsGSM(text)
	single, part := gsmSingle, gsmPart
	if !gsm {
		single, part = ucsSingle, ucsPart
	}
	width := func(r rune) int {
		if gsm {
			return gsmWidth[r]
		}
		return max(utf16.RuneLen(r), 1) // an invalid rune is sent as U+FFFD
	}
	total := 0
	for _, r := range text {
		total += width(r)
	}
	if total <= single {
		return 1
	}
	segments, used := 1, 0
	for _, r := range text {
		w := width(r)
		if used+w > part {
			segments++
			used = 0
		}
		used += w
	}
	return segments
}

// SMSText is the text of a page: the severity and title, the incident,
// how to acknowledge by reply, and the acknowledge link. It fits in
// MaxSMSSegments segments: the title is cut first, then the link is left
// out (a reply still acknowledges), and last the incident's name is cut;
// the reply code is never cut. News for stakeholders cuts its update
// before its title. A text with a character GSM-7 cannot carry is sent as
// UCS-2 and holds less than half as much; the encoding is that of the
// text produced, so cutting off such a character returns to GSM-7.
func SMSText(m *notify.Message) string {
	p := smsParts(m)
	c := cuts{title: whole, ref: whole, tail: whole}
	if p.fits(c) {
		return p.render(c)
	}
	if p.link != "" {
		if t, ok := p.cutTitle(minTitleRunes, c); ok {
			return p.render(t)
		}
		p.link = ""
	}
	// News gives up the end of its update before its title: what
	// happened is in the title.
	if n := len([]rune(p.tail)); p.news && !p.fits(c) {
		if c.tail = 1; p.fits(c) {
			c.tail = notify.LongestFit(1, n, func(k int) bool { return p.fits(cuts{title: whole, ref: whole, tail: k}) })
		} else {
			c.tail = 0
		}
	}
	if t, ok := p.cutTitle(0, c); ok {
		return p.render(t)
	}
	// Only an incident name far beyond what the CRD admits gets here.
	c.title = 0
	if c.ref = 0; p.fits(c) {
		c.ref = notify.LongestFit(0, len([]rune(p.ref)), func(k int) bool { return p.fits(cuts{title: 0, ref: k, tail: c.tail}) })
	}
	return p.render(c)
}

// whole, as a cut, keeps a part whole.
const whole = -1

// cuts are how many characters of each part a text keeps: whole, or a
// count, the cut marked. A tail cut to 0 is left out.
type cuts struct{ title, ref, tail int }

// smsText holds the parts of a text, one line each but the first.
type smsText struct {
	// head is "[SEV1] " and, for news, the event ("Resolved: ").
	head  string
	title string
	ref   string
	// tail is the reply line of a page, or the update of news.
	tail string
	// news is whether the tail may be cut before the title: the update
	// of news for stakeholders, or the text of a shift notice.
	news bool
	link string
}

func smsParts(m *notify.Message) *smsText {
	if m.Notice != nil {
		return noticeSMSParts(m.Notice)
	}
	if m.Bundle != nil {
		return bundleSMSParts(m)
	}
	inc := &m.Incident
	p := &smsText{title: smsLine(inc.Title, 300), ref: smsLine(incidentRef(inc), 400)}
	if sev := smsLine(inc.Severity, 16); sev != "" {
		p.head = "[" + sev + "] "
	}
	if p.title == "" {
		p.title = "Incident"
	}
	if news := m.Stakeholder; news != nil {
		p.news = true
		if ev := smsLine(news.Event, 16); ev != "" {
			p.head += ev + ": "
		}
		// News is told in full elsewhere; a text carries its first words.
		p.tail = smsLine(news.Text, 160)
		return p
	}
	code := m.Page.AcknowledgeCode
	if strings.Trim(code, "0123456789") != "" || len(code) > 12 {
		code = "" // not a code the receiver could match
	}
	if code != "" {
		p.tail = "Reply " + code + " or ACK to acknowledge"
	} else {
		p.tail = "Reply ACK to acknowledge"
	}
	if link := m.Page.AcknowledgeURL; link != "" && !strings.ContainsAny(link, " \r\n\t") && len(link) <= 1000 {
		p.link = link
	}
	return p
}

// bundleSMSParts are the parts of a bundle's text: "[SEV2] 47 incidents
// for alice: " and the first title, how many more, and the link that
// acknowledges them all. A reply code acknowledges one incident, so a
// bundle's text asks for none.
func bundleSMSParts(m *notify.Message) *smsText {
	b := m.Bundle
	p := &smsText{head: fmt.Sprintf("%d incidents", len(b.Incidents))}
	if len(b.Incidents) == 1 {
		p.head = "1 incident"
	}
	if sev := smsLine(m.Severity(), 16); sev != "" {
		p.head = "[" + sev + "] " + p.head
	}
	who := smsLine(m.Page.DisplayName, 32)
	if who == "" {
		who = smsLine(m.Page.Responder, 32)
	}
	if who != "" {
		p.head += " for " + who
	}
	p.head += ": "
	if len(b.Incidents) > 0 {
		p.title = smsLine(b.Incidents[0].Title, 300)
	}
	if p.title == "" {
		p.title = "Incident"
	}
	if more := len(b.Incidents) - 1; more > 0 {
		p.ref = fmt.Sprintf("+%d more", more)
	}
	if link := b.AcknowledgeURL; link != "" && !strings.ContainsAny(link, " \r\n\t") && len(link) <= 1000 {
		p.link = "Open " + link + " to acknowledge all"
	}
	return p
}

// noticeSMSParts are the parts of a shift notice's text: its subject, and
// its text's lines, each made safe, which give way first. It asks for no
// reply and carries no link: there is nothing to acknowledge.
func noticeSMSParts(n *notify.ShiftNotice) *smsText {
	text := strings.ReplaceAll(bounded.Bytes(n.Text, notify.MaxTextBytes), "\r\n", "\n")
	var lines []string
	runes := 0
	for l := range strings.SplitSeq(text, "\n") {
		if runes > maxNoticeTextRunes {
			break // the rest could not be sent
		}
		if l = smsLine(l, maxNoticeTextRunes); l != "" {
			lines = append(lines, l)
			runes += utf8.RuneCountInString(l) + 1
		}
	}
	return &smsText{
		title: smsLine(notify.Subject(&notify.Message{Notice: n}), 300),
		tail:  cutMarked(strings.Join(lines, "\n"), maxNoticeTextRunes),
		news:  true,
	}
}

// maxNoticeTextRunes bounds the notice's text before the fit cuts it to
// what is left: no text holds more characters than this.
const maxNoticeTextRunes = MaxSMSSegments * gsmPart

func (p *smsText) fits(c cuts) bool { return Segments(p.render(c)) <= MaxSMSSegments }

// render joins the parts, cut as c says. Cuts are marked "..." when the
// text is GSM-7 with it, and "…" otherwise: "…" is not in GSM-7, and one
// would make the whole text UCS-2.
func (p *smsText) render(c cuts) string {
	if s := p.join(c, gsmCutMark); IsGSM(s) {
		return s
	}
	return p.join(c, bounded.Marker)
}

// gsmCutMark marks a cut in a GSM-7 text.
const gsmCutMark = "..."

func (p *smsText) join(c cuts, mark string) string {
	var b strings.Builder
	b.WriteString(p.head)
	b.WriteString(cut(p.title, c.title, mark))
	if r := cut(p.ref, c.ref, mark); r != "" {
		b.WriteString("\n" + r)
	}
	if p.tail != "" && c.tail != 0 {
		b.WriteString("\n" + cut(p.tail, c.tail, mark))
	}
	if p.link != "" {
		b.WriteString("\n" + p.link)
	}
	return b.String()
}

// cutMarked is cut with the mark "..." when the result is GSM-7 with it,
// "…" otherwise.
func cutMarked(s string, keep int) string {
	if c := cut(s, keep, gsmCutMark); IsGSM(c) {
		return c
	}
	return cut(s, keep, bounded.Marker)
}

// cut keeps s whole, or its first keep characters and mark.
func cut(s string, keep int, mark string) string {
	if keep < 0 || keep >= utf8.RuneCountInString(s) {
		return s
	}
	return strings.TrimRight(bounded.Prefix(s, keep), " ") + mark
}

// cutTitle returns c with the longest title, whole or cut to at least
// minRunes characters, that fits. A longer title never takes fewer
// segments, so the longest is found by bisection.
func (p *smsText) cutTitle(minRunes int, c cuts) (cuts, bool) {
	if p.fits(c) {
		return c, true
	}
	n := utf8.RuneCountInString(p.title)
	at := func(k int) cuts { c.title = k; return c }
	if minRunes >= n || !p.fits(at(minRunes)) {
		return c, false
	}
	return at(notify.LongestFit(minRunes, n-1, func(k int) bool { return p.fits(at(k)) })), true
}

// smsLine makes s one line of at most n characters, without control or
// format characters (not even the zero-width joiner: a text is no place
// for emoji sequences, and each costs room); a cut ends in "..." when the
// line is GSM-7 with it, so that the mark alone does not make the text
// UCS-2.
func smsLine(s string, n int) string {
	s = strings.ReplaceAll(notify.OneLine(strings.ToValidUTF8(s, "?")), "\u200d", "")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if c := strings.TrimRight(bounded.Prefix(s, n-len(gsmCutMark)), " ") + gsmCutMark; IsGSM(c) {
		return c
	}
	return strings.TrimRight(bounded.Prefix(s, n-1), " ") + bounded.Marker
}

// incidentRef is "namespace/name", or whichever of the two is set.
func incidentRef(inc *notify.Incident) string {
	switch {
	case inc.Namespace != "" && inc.Name != "":
		return inc.Namespace + "/" + inc.Name
	case inc.Name != "":
		return inc.Name
	}
	return inc.Namespace
}

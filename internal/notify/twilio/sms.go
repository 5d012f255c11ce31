package twilio

import (
	"strings"
	"unicode/utf16"

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
	widths := make([]int, 0, len(text))
	total := 0
	for _, r := range text {
		w := 1
		switch {
		case gsm:
			w = gsmWidth[r]
		case !gsm:
			w = utf16.RuneLen(r)
			if w < 1 {
				w = 1 // an invalid rune is sent as U+FFFD
			}
		}
		widths = append(widths, w)
		total += w
	}
	if total <= single {
		return 1
	}
	segments, used := 1, 0
	for _, w := range widths {
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
// before its title. A text with a character GSM-7 cannot carry
// is sent as UCS-2 and holds less than half as much.
func SMSText(m *notify.Message) string {
	p := smsParts(m)
	fits := func(s string) bool { return Segments(s) <= MaxSMSSegments }
	if s := p.render(-1, -1); fits(s) {
		return s
	}
	if p.link != "" {
		if s, ok := p.cutTitle(minTitleRunes, fits); ok {
			return s
		}
		p.link = ""
	}
	// News gives up the end of its update before its title: what
	// happened is in the title.
	if p.news {
		for tail := []rune(p.tail); len(tail) > 0 && !fits(p.render(-1, -1)); {
			tail = tail[:len(tail)-1]
			p.tail = strings.TrimRight(string(tail), " ") + p.ellipsis
		}
		if !fits(p.render(-1, -1)) {
			p.tail = ""
		}
	}
	if s, ok := p.cutTitle(0, fits); ok {
		return s
	}
	// Only an incident name far beyond what the CRD admits gets here.
	for keep := len([]rune(p.ref)); keep >= 0; keep-- {
		if s := p.render(0, keep); fits(s) {
			return s
		}
	}
	return p.render(0, 0)
}

// smsText holds the parts of a text, one line each but the first.
type smsText struct {
	// head is "[SEV1] " and, for news, the event ("Resolved: ").
	head  string
	title string
	ref   string
	// tail is the reply line of a page, or the update of news.
	tail string
	// news is whether the text is news for stakeholders, whose tail may
	// be cut.
	news bool
	link string
	// ellipsis marks a cut: "…" is not in GSM-7, and one would make the
	// whole text UCS-2.
	ellipsis string
}

func smsParts(m *notify.Message) *smsText {
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
		if text := smsLine(news.Text, 160); text != "" {
			p.tail = text
		}
	} else {
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
	}
	p.ellipsis = bounded.Marker
	if IsGSM(p.head + p.title + p.ref + p.tail + p.link) {
		p.ellipsis = "..."
	}
	return p
}

// render joins the parts, with the title and the incident cut to the given
// number of characters (-1: whole).
func (p *smsText) render(title, ref int) string {
	var b strings.Builder
	b.WriteString(p.head)
	b.WriteString(p.cut(p.title, title))
	if r := p.cut(p.ref, ref); r != "" {
		b.WriteString("\n" + r)
	}
	if p.tail != "" {
		b.WriteString("\n" + p.tail)
	}
	if p.link != "" {
		b.WriteString("\n" + p.link)
	}
	return b.String()
}

func (p *smsText) cut(s string, keep int) string {
	r := []rune(s)
	if keep < 0 || keep >= len(r) {
		return s
	}
	return strings.TrimRight(string(r[:keep]), " ") + p.ellipsis
}

// cutTitle returns the text with the longest title, whole or cut to at
// least minRunes characters, that fits. A longer title never takes fewer
// segments, so the longest is found by bisection.
func (p *smsText) cutTitle(minRunes int, fits func(string) bool) (string, bool) {
	if s := p.render(-1, -1); fits(s) {
		return s, true
	}
	n := len([]rune(p.title))
	if minRunes >= n || !fits(p.render(minRunes, -1)) {
		return "", false
	}
	// fits(lo) and not fits(hi).
	lo, hi := minRunes, n
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fits(p.render(mid, -1)) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return p.render(lo, -1), true
}

// smsLine makes s one line of at most n characters, without control
// characters; a cut ends in "..." when the line is GSM-7, so that the mark
// alone does not make the text UCS-2.
func smsLine(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) <= n {
		return s
	}
	mark := bounded.Marker
	if IsGSM(s) {
		mark = "..."
	}
	return strings.TrimRight(bounded.Prefix(s, n-len([]rune(mark))), " ") + mark
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

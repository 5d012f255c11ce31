package calendar

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ProdID names Klaxon as the feed's maker.
const ProdID = "-//klaxon.dev//Klaxon//EN"

// maxLineOctets is RFC 5545's limit on a content line, CRLF excluded
// (section 3.1).
const maxLineOctets = 75

// Render returns the feed as an iCalendar object.
func Render(f Feed) []byte {
	var w writer
	w.line("BEGIN:VCALENDAR")
	w.line("VERSION:2.0")
	w.line("PRODID:" + ProdID)
	w.line("CALSCALE:GREGORIAN")
	w.line("METHOD:PUBLISH")
	w.line("X-WR-CALNAME:" + escape(f.Name))
	if len(f.Notes) > 0 {
		w.line("X-WR-CALDESC:" + escape(strings.Join(f.Notes, "\n")))
	}
	// Calendar clients poll at their own pace; these ask for a quarter of
	// an hour (RFC 7986 and the older Microsoft name).
	w.line("REFRESH-INTERVAL;VALUE=DURATION:PT15M")
	w.line("X-PUBLISHED-TTL:PT15M")
	stamp := utc(f.Stamp)
	for _, e := range f.Events {
		w.line("BEGIN:VEVENT")
		w.line("UID:" + escape(e.UID))
		w.line("DTSTAMP:" + stamp)
		w.line("DTSTART:" + utc(e.Start))
		w.line("DTEND:" + utc(e.End))
		w.line("SUMMARY:" + escape(e.Summary))
		w.line("DESCRIPTION:" + escape(e.Description))
		w.line("SEQUENCE:" + strconv.FormatInt(max(e.Sequence, 0), 10))
		w.line("TRANSP:OPAQUE")
		w.line("END:VEVENT")
	}
	w.line("END:VCALENDAR")
	return []byte(w.String())
}

// utc is a DATE-TIME in UTC (form #2 of RFC 5545 section 3.3.5).
func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// escape is RFC 5545's TEXT escaping (section 3.3.11); other control
// characters, which a content line may not hold, are dropped.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\', r == ';', r == ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20, r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// writer writes content lines, folded at maxLineOctets octets and ended
// with CRLF (section 3.1).
type writer struct {
	strings.Builder
}

func (w *writer) line(s string) {
	for limit := maxLineOctets; len(s) > limit; limit = maxLineOctets - 1 {
		// A fold never splits a UTF-8 sequence: back up to a rune's start.
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.WriteString(s[:cut])
		w.WriteString("\r\n ")
		s = s[cut:]
	}
	w.WriteString(s)
	w.WriteString("\r\n")
}

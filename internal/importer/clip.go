package importer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// MaxNote bounds a note of a report entry, and MaxValue a source value
// quoted in one, in characters.
const (
	MaxNote  = 400
	MaxValue = 120
)

// Clip makes a source value fit a note or a report line: control
// characters (tabs, newlines) become spaces, so the table holds, and it is
// cut to n characters with a marker.
func Clip(s string, n int) string {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, bounded.Prefix(s, n+1))
	return bounded.Runes(clean, n)
}

// Quote quotes a source value for a note, clipped to MaxValue.
func Quote(s string) string {
	return `"` + strings.ReplaceAll(Clip(s, MaxValue), `"`, `\"`) + `"`
}

// Printable says whether a source value can be written as it is (an
// address, a label value): valid UTF-8 without control characters, which
// YAML cannot carry and no channel can use.
func Printable(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

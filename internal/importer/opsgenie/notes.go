package opsgenie

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxNote bounds a value quoted from the source in a note or an error, so
// that a hostile name cannot flood the report; maxNotes bounds the notes
// of one entry.
const (
	maxNote  = 200
	maxNotes = 40
)

// bound cuts s to maxNote bytes, at a rune boundary.
func bound(s string) string {
	if len(s) <= maxNote {
		return s
	}
	cut := maxNote
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// q quotes a source value for a note.
func q(s string) string { return fmt.Sprintf("%q", bound(s)) }

// notes collects the notes of one entry and whether any of them says the
// mapping lost something.
type notes struct {
	list   []string
	approx bool
}

// lost adds a note that the mapping differs from the source.
func (n *notes) lost(format string, args ...any) {
	n.add(fmt.Sprintf(format, args...))
	n.approx = true
}

// info adds a note that changes nothing the mapping does.
func (n *notes) info(format string, args ...any) {
	if s := strings.TrimSpace(fmt.Sprintf(format, args...)); s != "" {
		n.add(s)
	}
}

func (n *notes) add(s string) {
	switch {
	case len(n.list) < maxNotes:
		n.list = append(n.list, s)
	case len(n.list) == maxNotes:
		n.list = append(n.list, "more notes left out: the source object has more than can be listed")
	}
}

package opsgenie

import (
	"fmt"
	"strings"
)

// maxNotes bounds the notes of one entry.
const maxNotes = 40

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

package grafanaoncall

import (
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// maxNotes bounds the notes of one entry, and maxListed the values one
// note lists: hostile input can make one entry gather thousands.
const (
	maxNotes  = 10
	maxListed = 10
)

// capNotes keeps an entry's first maxNotes notes and says how many more
// there were.
func capNotes(notes []string) []string {
	if len(notes) <= maxNotes+1 {
		return notes
	}
	return append(notes[:maxNotes:maxNotes], fmt.Sprintf("and %d more notes like these, left out of the report", len(notes)-maxNotes))
}

// quoteList quotes source values for a note, at most maxListed of them,
// then how many more there were.
func quoteList(values []string) string {
	var out []string
	for _, v := range values[:min(len(values), maxListed)] {
		out = append(out, importer.Quote(v))
	}
	s := strings.Join(out, ", ")
	if n := len(values) - maxListed; n > 0 {
		s += fmt.Sprintf(" and %d more", n)
	}
	return s
}

// missing gathers the distinct ids a source object names but the import
// did not read, for one note.
type missing struct {
	seen map[string]bool
	ids  []string
	n    int
}

func (m *missing) add(id string) {
	if m.seen[id] {
		return
	}
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	m.seen[id] = true
	m.n++
	if len(m.ids) < maxListed {
		m.ids = append(m.ids, id)
	}
}

// String lists the ids quoted, then how many more there were.
func (m missing) String() string {
	s := quoteList(m.ids)
	if more := m.n - len(m.ids); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// report reports a source object with nothing written for it.
func (r *run) report(e importer.Entry) {
	e.Notes = capNotes(e.Notes)
	r.res.Report(e)
}

// add adds an object written for a source object, with its entry.
func (r *run) add(obj client.Object, e importer.Entry) {
	e.Notes = capNotes(e.Notes)
	r.res.Add(obj, e)
}

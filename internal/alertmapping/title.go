package alertmapping

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// MaxTitleLength is the bound of spec.title on Incident, in characters.
const MaxTitleLength = 200

// maxRenderBytes stops a template that writes far more than a title can
// hold; what was written so far is kept and truncated like any long title.
const maxRenderBytes = 4 * 1024

var errRenderFull = errors.New("title template output reached its limit")

// Title renders the route's title template over the notification and makes
// it fit spec.title: one line, valid UTF-8, at most MaxTitleLength
// characters, never empty. The template sees a bounded view of the
// notification (see titleView) and runs within a budget (see
// compileTitleTemplate). When it fails at run time (CompileRoute checked its
// syntax and tried it on worst-case data, but data can still break it, e.g.
// an index past the end, or make it run past its budget) Title returns a
// fallback title together with the error, so an incident is still opened
// and the caller can warn about the template.
func (r *Route) Title(msg *Message) (string, error) {
	out, _, err := r.title.execute(msg)
	if err != nil {
		return fallbackTitle(msg), fmt.Errorf("rendering spec.titleTemplate: %w", err)
	}
	title := cleanTitle(out)
	if title == "" {
		title = fallbackTitle(msg)
	}
	return title, nil
}

// fallbackTitle names the group when the template gives nothing usable.
func fallbackTitle(msg *Message) string {
	if msg.Data == nil {
		msg = &Message{Data: &template.Data{}, GroupKey: msg.GroupKey}
	}
	if name := cleanTitle(msg.CommonLabels[alertnameLabel]); name != "" {
		return name
	}
	if len(msg.GroupLabels) > 0 {
		if t := cleanTitle("Alert group " + msg.GroupLabels.String()); t != "" {
			return t
		}
	}
	if t := cleanTitle("Alert group " + msg.GroupKey); t != "" {
		return t
	}
	return "Alert group"
}

// cleanTitle makes s a single line of printable text of at most
// MaxTitleLength characters: invalid UTF-8 and control characters go,
// whitespace runs become one space. It reads no further than the title
// needs, so a huge fallback value costs no more than a short one.
func cleanTitle(s string) string {
	var b strings.Builder
	space := false
	n := 0
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"): // invalid UTF-8
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case !unicode.IsPrint(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
			n++
		}
		b.WriteRune(r)
		// One rune past the limit is enough to know it must be cut.
		if n++; n > MaxTitleLength {
			break
		}
	}
	return bounded.Runes(b.String(), MaxTitleLength)
}

// limitedBuffer keeps the first maxRenderBytes written and then fails the
// write, which makes text/template stop executing.
type limitedBuffer struct {
	b strings.Builder
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	room := maxRenderBytes - l.b.Len()
	if len(p) > room {
		l.b.Write(p[:room])
		return room, errRenderFull
	}
	return l.b.Write(p)
}

// String returns what was kept; a rune split by the cut is dropped later by
// cleanTitle.
func (l *limitedBuffer) String() string { return l.b.String() }

package statuspage

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// AtomNamespace is the XML namespace of Atom 1.0 (RFC 4287).
const AtomNamespace = "http://www.w3.org/2005/Atom"

// Feed is an Atom 1.0 feed, as WriteAtom writes it.
type Feed struct {
	XMLName  xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID       string   `xml:"id"`
	Title    string   `xml:"title"`
	Subtitle string   `xml:"subtitle,omitempty"`
	Updated  string   `xml:"updated"`
	Links    []Link   `xml:"link"`
	Author   Person   `xml:"author"`
	Entries  []Entry  `xml:"entry"`
}

// Link is an Atom link.
type Link struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

// Person is an Atom person construct.
type Person struct {
	Name string `xml:"name"`
}

// Entry is one incident in the feed.
type Entry struct {
	ID        string `xml:"id"`
	Title     string `xml:"title"`
	Updated   string `xml:"updated"`
	Published string `xml:"published,omitempty"`
	Link      Link   `xml:"link"`
	Summary   Text   `xml:"summary"`
}

// Text is an Atom text construct.
type Text struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

// FeedOf is the view as an Atom feed: one entry per incident, open ones
// first. Links are paths on the receiver (/status/...), which readers
// resolve against the feed's own URL.
func FeedOf(v View) Feed {
	f := Feed{
		ID:       v.ID,
		Title:    v.Title,
		Subtitle: v.Description,
		Updated:  atomTime(v.Updated),
		Links: []Link{
			{Rel: "self", Type: "application/atom+xml", Href: v.FeedPath},
			{Rel: "alternate", Type: "text/html", Href: v.Path},
		},
		Author: Person{Name: v.Title},
	}
	for _, list := range [][]Item{v.Open, v.Resolved} {
		for _, it := range list {
			f.Entries = append(f.Entries, Entry{
				ID:        it.ID,
				Title:     fmt.Sprintf("[%s] %s: %s", it.Status, it.Severity, it.Title),
				Updated:   atomTime(it.Updated),
				Published: atomTime(it.Started),
				Link:      Link{Rel: "alternate", Type: "text/html", Href: v.Path + "#" + it.Anchor},
				Summary:   Text{Type: "text", Body: summary(it)},
			})
		}
	}
	return f
}

// WriteAtom writes the view as an Atom 1.0 feed.
func WriteAtom(w io.Writer, v View) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(FeedOf(v)); err != nil {
		return fmt.Errorf("encoding the Atom feed: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// summary says in plain text what the page says of the item.
func summary(it Item) string {
	var b strings.Builder
	b.WriteString(it.Status + ", " + it.Severity + ".")
	if it.Service != "" {
		b.WriteString(" Service: " + it.Service + ".")
	}
	if it.Impact != "" {
		b.WriteString(" Impact: " + it.Impact)
	}
	if it.Update != nil {
		b.WriteString("\nLatest update (" + it.Update.Time.Format("2 Jan 2006, 15:04 UTC") + "): " + it.Update.Text)
	}
	if it.Open() {
		b.WriteString("\nStarted " + it.Started.Format("2 Jan 2006, 15:04 UTC") + ".")
	} else {
		b.WriteString("\nResolved " + it.ResolvedAt.Format("2 Jan 2006, 15:04 UTC") + " after " + Human(it.Duration) + ".")
	}
	return b.String()
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

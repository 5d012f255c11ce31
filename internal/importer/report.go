package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// maxNotesShown bounds the notes the table shows of one entry.
const maxNotesShown = 20

// Report is the JSON form of an import's report (--report json).
type Report struct {
	Source  string          `json:"source"`
	Counts  map[Outcome]int `json:"counts"`
	Entries []Entry         `json:"entries"`
	// Verify is there when the import was verified.
	Verify []Verdict `json:"verify,omitempty"`
	// Cluster is there when the operator's schedules were compared too.
	Cluster []ClusterVerdict `json:"cluster,omitempty"`
}

// ClusterVerdict compares the source's on-call people now with a
// schedule's status.onCall in the cluster.
type ClusterVerdict struct {
	Schedule string    `json:"schedule"`
	At       time.Time `json:"at"`
	Source   []string  `json:"source"`
	Operator []string  `json:"operator"`
	Agree    bool      `json:"agree"`
}

// WriteReport prints r's entries as a table, or as JSON when asJSON, with
// the verdicts of a verify and of a comparison with the cluster if there
// are any.
func WriteReport(w io.Writer, r *Result, verdicts []Verdict, cluster []ClusterVerdict, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(Report{Source: r.Source, Counts: r.Count(), Entries: r.Entries, Verify: verdicts, Cluster: cluster})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "OUTCOME\tSOURCE\tKLAXON\tNOTES")
	for _, e := range r.Entries {
		source := Clip(e.SourceKind, MaxValue) + " " + quoteName(e.SourceName, e.SourceID)
		target := "-"
		if e.Name != "" {
			target = e.Kind + "/" + e.Name
		}
		notes := "-"
		if len(e.Notes) > 0 {
			notes = Clip(e.Notes[0], MaxNote)
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Outcome, source, target, notes)
		rest := e.Notes[min(1, len(e.Notes)):]
		for i, n := range rest {
			if i == maxNotesShown-1 && len(rest) > maxNotesShown {
				_, _ = fmt.Fprintf(tw, "\t\t\tand %d more notes (--report json lists them)\n", len(rest)-i)
				break
			}
			_, _ = fmt.Fprintf(tw, "\t\t\t%s\n", Clip(n, MaxNote))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	n := r.Count()
	if _, err := fmt.Fprintf(w, "\n%d mapped, %d approximated, %d not mapped.\n", n[Mapped], n[Approximated], n[NotMapped]); err != nil {
		return err
	}
	if err := writeVerdicts(w, verdicts); err != nil {
		return err
	}
	return writeClusterVerdicts(w, r.title(), cluster)
}

// writeClusterVerdicts prints, for each schedule, whom the source and the
// operator have on call now.
func writeClusterVerdicts(w io.Writer, title string, cluster []ClusterVerdict) error {
	if len(cluster) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "\nOn call at %s:\n", Stamp(cluster[0].At)); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintf(tw, "  SCHEDULE\t%s SAYS\tOPERATOR SAYS\t\n", strings.ToUpper(title))
	for _, c := range cluster {
		verdict := "agree"
		if !c.Agree {
			verdict = "DIFFER"
		}
		_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Schedule, people(c.Source), people(c.Operator), verdict)
	}
	return tw.Flush()
}

func quoteName(name, id string) string {
	if name == "" {
		return Clip(id, MaxValue)
	}
	return fmt.Sprintf("%s (%s)", Quote(name), Clip(id, MaxValue))
}

// writeVerdicts prints each schedule's verdict and its differing
// intervals.
func writeVerdicts(w io.Writer, verdicts []Verdict) error {
	if len(verdicts) == 0 {
		return nil
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	for _, v := range verdicts {
		if len(v.Differences) == 0 {
			if _, err := fmt.Fprintf(w, "Verified %s from %s to %s: Klaxon and %s agree.\n", v.Schedule, Stamp(v.Window.From), Stamp(v.Window.To), v.Source); err != nil {
				return err
			}
			continue
		}
		if _, err := fmt.Fprintf(w, "Verified %s from %s to %s: %s.\n", v.Schedule, Stamp(v.Window.From), Stamp(v.Window.To), Differ(len(v.Differences))); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		_, _ = fmt.Fprintf(tw, "  FROM\tTO\t%s SAYS\tKLAXON SAYS\n", strings.ToUpper(v.Source))
		for _, d := range v.Differences {
			_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", Stamp(d.Start), Stamp(d.End), people(d.Source), people(d.Klaxon))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Differ says how many intervals differ, as a sentence's end.
func Differ(n int) string {
	if n == 1 {
		return "1 interval differs"
	}
	return fmt.Sprintf("%d intervals differ", n)
}

// Stamp is an instant as the report writes it, "2026-12-07 09:00Z".
func Stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") }

func people(p []string) string {
	if len(p) == 0 {
		return "nobody"
	}
	return strings.Join(p, ", ")
}

package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/importer/grafanaoncall"
	"github.com/klaxon-dev/klaxon/internal/importer/opsgenie"
	"github.com/klaxon-dev/klaxon/internal/importer/pagerduty"
)

// importProviders are the tools import reads.
var importProviders = []importer.Provider{grafanaoncall.Provider, pagerduty.Provider, opsgenie.Provider}

// maxImportWeeks bounds how far ahead --verify compares.
const maxImportWeeks = 26

// importFlags are the import command's flags.
type importFlags struct {
	url, tokenFile, fromDir, saveDir, out, report, since string
	verify, cluster                                      bool
	weeks                                                int
}

func (c *command) importCommand() *cobra.Command {
	f := &importFlags{}
	cmd := &cobra.Command{
		Use:     "import SOURCE",
		GroupID: "setup",
		Short:   "Import schedules, escalation policies and people from Grafana OnCall, PagerDuty or Opsgenie",
		Long: `Read another tool's schedules, overrides, escalation policies, people and
alert sources through its public API (or from answers saved earlier) and
write them as Klaxon objects, one YAML file each, for review and git.

The report says of every object read whether it was mapped (Klaxon does
the same), approximated (what changed and why) or not mapped (why, and what
to do by hand). With --verify, it computes who the imported schedules put on
call, with the operator's own code, compares that with the tool's own final
schedule week by week and lists every interval that differs; it exits 1 if
any do. --verify --cluster also compares the tool with the operator's
status.onCall of the schedules applied in the namespace, now.

The token comes from --token-file or the tool's environment variable, never
from a flag's value.`,
		Example: `  PAGERDUTY_TOKEN=... kubectl klaxon import pagerduty --save-dir pd-answers --verify
  kubectl klaxon import pagerduty --from-dir pd-answers --out klaxon-import --report json
  kubectl klaxon import opsgenie --token-file ~/.opsgenie-key --verify --weeks 8
  kubectl klaxon import grafana-oncall --url https://oncall.example.com/api/v1 --token-file token
  kubectl apply -n payments -R -f klaxon-import/
  kubectl klaxon import pagerduty --from-dir pd-answers --verify --cluster -n payments`,
	}
	for _, p := range importProviders {
		sub := &cobra.Command{
			Use:   p.Name,
			Short: "Import from " + p.Title,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return c.runImport(cmd.Context(), p, f)
			},
		}
		flags := sub.Flags()
		if p.DefaultURL == "" {
			flags.StringVar(&f.url, "url", "", "The API's base URL, such as https://oncall.example.com/api/v1.")
		} else {
			flags.StringVar(&f.url, "url", "", "The API's base URL, if not "+p.DefaultURL+".")
		}
		flags.StringVar(&f.tokenFile, "token-file", "", "A file holding the API token; else $"+p.TokenEnv+".")
		flags.StringVar(&f.fromDir, "from-dir", "", "Read the answers saved by --save-dir instead of the API.")
		flags.StringVar(&f.saveDir, "save-dir", "", "Save the API's answers into this directory, for --from-dir.")
		flags.StringVar(&f.out, "out", "klaxon-import", "The directory to write the YAML into; an earlier import there is replaced.")
		flags.StringVar(&f.report, "report", "text", "How to print the report: text or json.")
		flags.BoolVar(&f.verify, "verify", false, "Compare who the imported schedules put on call with the tool's final schedule; exit 1 if any interval differs.")
		flags.IntVar(&f.weeks, "weeks", 4, fmt.Sprintf("How many weeks --verify compares, 1 to %d.", maxImportWeeks))
		flags.StringVar(&f.since, "since", "", "When the weeks read and compared start, RFC 3339; default now. With --from-dir, those the answers were saved for.")
		flags.BoolVar(&f.cluster, "cluster", false, "With --verify: also compare with the status.onCall of the schedules applied in the namespace.")
		cmd.AddCommand(sub)
	}
	return cmd
}

func (c *command) runImport(ctx context.Context, p importer.Provider, f *importFlags) error {
	if f.report != "text" && f.report != "json" {
		return fmt.Errorf("--report %q: give text or json", f.report)
	}
	if f.weeks < 1 || f.weeks > maxImportWeeks {
		return fmt.Errorf("--weeks %d: give 1 to %d", f.weeks, maxImportWeeks)
	}
	if f.cluster && !f.verify {
		return errors.New("--cluster goes with --verify")
	}
	if f.fromDir != "" && (f.saveDir != "" || f.url != "" || f.tokenFile != "" || f.since != "") {
		return errors.New("--from-dir reads saved answers, for the weeks they were saved for: leave out --save-dir, --url, --token-file and --since")
	}
	window, err := c.importWindow(f)
	if err != nil {
		return err
	}
	var src importer.Source
	if f.fromDir != "" {
		m, merr := importer.ReadManifest(f.fromDir)
		if merr != nil {
			return merr
		}
		if m.Source != p.Name {
			return fmt.Errorf("%s holds answers of %s, not of %s", f.fromDir, m.Source, p.Name)
		}
		// The saved answers were read for the saved window.
		window = m.Window
		src = importer.DirSource{Dir: f.fromDir}
	} else {
		if err = prepareSaveDir(f.saveDir, f.out); err != nil {
			return err
		}
		hs, herr := c.importHTTPSource(p, f)
		if herr != nil {
			return herr
		}
		src = hs
	}
	result, err := p.Import(ctx, src, importer.Options{Window: window})
	if err != nil {
		return fmt.Errorf("importing from %s: %w", p.Title, err)
	}
	if result.Title == "" {
		result.Title = p.Title
	}
	if f.saveDir != "" {
		if err = importer.WriteManifest(f.saveDir, importer.Manifest{Source: p.Name, SavedAt: c.Clock.Now().UTC(), Window: window}); err != nil {
			return err
		}
	}
	if err = importer.Write(f.out, result); err != nil {
		return err
	}
	var verdicts []importer.Verdict
	if f.verify {
		// Compare the weeks asked for, even when the answers cover more.
		if to := result.Window.From.Add(time.Duration(f.weeks) * 7 * 24 * time.Hour); to.Before(result.Window.To) {
			result.Window.To = to
		}
		if verdicts, err = importer.Verify(result); err != nil {
			return err
		}
	}
	var cluster []importer.ClusterVerdict
	if f.cluster {
		if cluster, err = c.verifyCluster(ctx, result); err != nil {
			return err
		}
	}
	if err = importer.WriteReport(c.Streams.Out, result, verdicts, cluster, f.report == "json"); err != nil {
		return err
	}
	if f.report == "text" {
		if _, err = fmt.Fprintf(c.Streams.Out, "Wrote %d objects into %s.\n", len(result.Objects), f.out); err != nil {
			return err
		}
	}
	return importFailure(p.Title, verdicts, cluster)
}

// importFailure is the error that makes a verify exit 1: intervals that
// differ, or schedules the operator has otherwise.
func importFailure(title string, verdicts []importer.Verdict, cluster []importer.ClusterVerdict) error {
	intervals, schedules := 0, 0
	for _, v := range verdicts {
		intervals += len(v.Differences)
	}
	for _, c := range cluster {
		if !c.Agree {
			schedules++
		}
	}
	var problems []string
	if intervals > 0 {
		problems = append(problems, fmt.Sprintf("%s between %s and the imported schedules", importer.Differ(intervals), title))
	}
	if schedules == 1 {
		problems = append(problems, fmt.Sprintf("the operator has other people on call than %s on 1 schedule", title))
	} else if schedules > 1 {
		problems = append(problems, fmt.Sprintf("the operator has other people on call than %s on %d schedules", title, schedules))
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}

// prepareSaveDir makes sure answers saved into dir cannot mix with an
// earlier save: its manifest goes first and comes back only when all
// answers are in. A dir inside the import's out would be deleted with it.
func prepareSaveDir(dir, out string) error {
	if dir == "" {
		return nil
	}
	absDir, err1 := filepath.Abs(dir)
	absOut, err2 := filepath.Abs(out)
	if err1 == nil && err2 == nil && (absDir == absOut || strings.HasPrefix(absDir, absOut+string(filepath.Separator))) {
		return fmt.Errorf("--save-dir %s is inside --out %s, which the import replaces: save the answers elsewhere", dir, out)
	}
	if err := os.Remove(filepath.Join(dir, importer.ManifestFile)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("removing the earlier answers' manifest: %w", err)
	}
	return nil
}

// importWindow is the window the final schedules are read for.
func (c *command) importWindow(f *importFlags) (importer.Window, error) {
	from := c.Clock.Now().UTC().Truncate(time.Minute)
	if f.since != "" {
		t, err := time.Parse(time.RFC3339, f.since)
		if err != nil {
			return importer.Window{}, fmt.Errorf("--since %q: give a time such as 2026-12-07T09:00:00Z", f.since)
		}
		from = t.UTC()
	}
	return importer.Window{From: from, To: from.Add(time.Duration(f.weeks) * 7 * 24 * time.Hour)}, nil
}

// importHTTPSource is the tool's API, with the token from a file or the
// environment.
func (c *command) importHTTPSource(p importer.Provider, f *importFlags) (*importer.HTTPSource, error) {
	raw := f.url
	if raw == "" {
		raw = p.DefaultURL
	}
	if raw == "" {
		return nil, fmt.Errorf("%s is self-hosted: give its API's base URL with --url", p.Title)
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("--url %q: give the API's base URL, such as https://oncall.example.com/api/v1", raw)
	}
	token := c.Getenv(p.TokenEnv)
	if f.tokenFile != "" {
		data, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("reading --token-file: %w", err)
		}
		token = strings.TrimSpace(string(data))
	}
	if token == "" {
		return nil, fmt.Errorf("no %s token: give a file holding it with --token-file, or set $%s", p.Title, p.TokenEnv)
	}
	return &importer.HTTPSource{Base: base, Token: token, Authorize: p.Authorize,
		Progress: c.Streams.ErrOut, Name: p.Name, SaveDir: f.saveDir}, nil
}

// verifyCluster compares the source with the status.onCall of the imported
// schedules in the namespace, now.
func (c *command) verifyCluster(ctx context.Context, r *importer.Result) ([]importer.ClusterVerdict, error) {
	k8s, err := c.clients.client()
	if err != nil {
		return nil, err
	}
	ns, err := c.clients.namespace()
	if err != nil {
		return nil, err
	}
	now := c.Clock.Now()
	if now.Before(r.Window.From) || !now.Before(r.Window.To) {
		return nil, fmt.Errorf("--cluster compares now, %s, which the source's final schedules (%s to %s) do not cover: import again",
			now.UTC().Format(time.RFC3339), r.Window.From.Format(time.RFC3339), r.Window.To.Format(time.RFC3339))
	}
	var out []importer.ClusterVerdict
	for _, final := range r.Finals {
		var s klaxonv1alpha1.OnCallSchedule
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: final.Schedule}, &s); err != nil {
			return nil, explain(err, "cannot read OnCallSchedule %s/%s (apply the import first): %s", ns, final.Schedule, apiMessage(err))
		}
		want := peopleAt(final.Intervals, now)
		got := slices.Clone(s.Status.OnCall)
		slices.Sort(got)
		out = append(out, importer.ClusterVerdict{Schedule: final.Schedule, At: now.UTC(), Source: want, Operator: got, Agree: slices.Equal(want, got)})
	}
	return out, nil
}

// peopleAt returns the sorted people the intervals put on call at t.
func peopleAt(intervals []importer.Interval, t time.Time) []string {
	var out []string
	for _, iv := range intervals {
		if !t.Before(iv.Start) && t.Before(iv.End) {
			out = append(out, iv.People...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

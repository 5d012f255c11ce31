package plugin

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func (c *command) reportCommand() *cobra.Command {
	var output, sinceFlag, by string
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:     "report [--since 30d] [--by severity|service]",
		GroupID: "read",
		Short:   "Report incident counts, MTTA, MTTR and response-target compliance",
		Long: `Report how incident response went over a window, from the incidents in the
cluster: how many were triggered, how many are still open, the time to
acknowledge (MTTA) and to resolve (MTTR) as median and 90th percentile, and
how often the acknowledge and resolve targets of the escalation policies
were met.

Each incident counts with its current episode (since its last reopen), and
the window selects incidents by when that episode was triggered. A target
met late counts as missed; a deadline still ahead counts as neither.
Incidents deleted by --closed-incident-retention are gone from the report;
Klaxon's Prometheus metrics keep the long-term figures.`,
		Example: `  kubectl klaxon report
  kubectl klaxon report --since 7d --by service -A
  kubectl klaxon report --since 90d -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			window, err := parseSince(sinceFlag)
			if err != nil {
				return err
			}
			if by != string(BySeverity) && by != string(ByService) {
				return fmt.Errorf("--by %q: group by severity or service", by)
			}
			return c.report(cmd, window, GroupBy(by), allNamespaces, output)
		},
	}
	cmd.Flags().StringVar(&sinceFlag, "since", "30d", "How far back to look: days (30d), weeks (2w) or a Go duration (36h); 0 for every incident.")
	cmd.Flags().StringVar(&by, "by", string(BySeverity), "Group by severity or service.")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "Report on every namespace's incidents.")
	_ = cmd.RegisterFlagCompletionFunc("by", cobra.FixedCompletions([]string{string(BySeverity), string(ByService)}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("since", cobra.FixedCompletions([]string{"7d", "30d", "90d"}, cobra.ShellCompDirectiveNoFileComp))
	addOutputFlag(cmd, &output, outputJSON, outputYAML)
	return cmd
}

// parseSince reads a window: whole days (30d) or weeks (2w), or a Go
// duration (36h, 90m).
func parseSince(s string) (time.Duration, error) {
	bad := fmt.Errorf("--since %q: give days (30d), weeks (2w) or a duration such as 36h", s)
	if s == "0" {
		return 0, nil
	}
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		count, err := strconv.Atoi(s[:n-1])
		if err != nil || count < 0 {
			return 0, bad
		}
		unit := 24 * time.Hour
		if s[n-1] == 'w' {
			unit *= 7
		}
		return time.Duration(count) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad
	}
	return d, nil
}

func (c *command) report(cmd *cobra.Command, window time.Duration, by GroupBy, allNamespaces bool, output string) error {
	list, ns, err := c.listIncidents(cmd.Context(), allNamespaces)
	if err != nil {
		return err
	}
	r := BuildReport(list.Items, c.Clock.Now(), window, by)
	if output != "" {
		return printData(c.Streams.Out, output, r)
	}
	where := "namespace " + ns
	if allNamespaces {
		where = "all namespaces"
	}
	from := "the beginning"
	if window > 0 {
		from = stamp(r.From.Time)
	}
	if _, err := fmt.Fprintf(c.Streams.Out, "Incidents triggered from %s to %s in %s, by %s\n\n", from, stamp(r.To.Time), where, by); err != nil {
		return err
	}
	if r.Total.Incidents == 0 {
		_, err := fmt.Fprintln(c.Streams.Out, "No incidents.")
		return err
	}
	w := newTable(c.Streams.Out)
	row(w, strings.ToUpper(string(by)), "INCIDENTS", "OPEN", "MTTA P50", "MTTA P90", "MTTR P50", "MTTR P90", "ACK TARGET MET", "RESOLVE TARGET MET")
	for _, g := range append(r.Groups, r.Total) {
		row(w, g.Key, strconv.Itoa(g.Incidents), strconv.Itoa(g.Open),
			statCell(g.TimeToAcknowledge.Median), statCell(g.TimeToAcknowledge.P90),
			statCell(g.TimeToResolve.Median), statCell(g.TimeToResolve.P90),
			complianceCell(g.AcknowledgeTarget), complianceCell(g.ResolveTarget))
	}
	return w.Flush()
}

// statCell prints a duration as kubectl's AGE column does, "-" when unset.
func statCell(d *metav1.Duration) string {
	if d == nil {
		return "-"
	}
	return humanDuration(d.Duration)
}

// complianceCell prints met of decided, with the share: "3/4 (75%)".
func complianceCell(c Compliance) string {
	pct, ok := c.Percent()
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%d/%d (%.0f%%)", c.Met, c.Met+c.Missed, pct)
}

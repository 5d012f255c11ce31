package plugin

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// StatusRow is one open incident as `status` shows it.
type StatusRow struct {
	Incident *klaxonv1alpha1.Incident
	Severity klaxonv1alpha1.Severity
	// Phase is the accepted phase, followed by the state asked for when the
	// operator has not caught up with it yet.
	Phase string
	// Since is when the current episode was triggered.
	Since time.Time
	// Who says who has the incident: commander, who acknowledged it, who
	// was paged.
	Who string
	// Missed are the response targets missed, by kind: acknowledge, update,
	// resolve, postmortem.
	Missed []string
}

// StatusRows returns the open (not Closed) incidents, most severe first and
// oldest first within a severity.
func StatusRows(incidents []klaxonv1alpha1.Incident, now time.Time) []StatusRow {
	var rows []StatusRow
	for i := range incidents {
		inc := &incidents[i]
		if inc.Status.Phase == klaxonv1alpha1.StateClosed || desiredState(inc) == klaxonv1alpha1.StateClosed {
			continue
		}
		rows = append(rows, StatusRow{
			Incident: inc,
			Severity: severityOf(inc),
			Phase:    phaseOf(inc),
			Since:    triggeredAt(inc),
			Who:      whoHas(inc),
			Missed:   missedTargets(inc, now),
		})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Severity != b.Severity {
			return severityRank(a.Severity) < severityRank(b.Severity)
		}
		if !a.Since.Equal(b.Since) {
			return a.Since.Before(b.Since)
		}
		if a.Incident.Namespace != b.Incident.Namespace {
			return a.Incident.Namespace < b.Incident.Namespace
		}
		return a.Incident.Name < b.Incident.Name
	})
	return rows
}

// severityOf is the incident's severity, SEV3 when unset as the CRD defaults.
func severityOf(inc *klaxonv1alpha1.Incident) klaxonv1alpha1.Severity {
	if inc.Spec.Severity == "" {
		return klaxonv1alpha1.SeverityModerate
	}
	return inc.Spec.Severity
}

func severityRank(s klaxonv1alpha1.Severity) int {
	if i := slices.Index(severities, string(s)); i >= 0 {
		return i
	}
	return len(severities)
}

func phaseOf(inc *klaxonv1alpha1.Incident) string {
	phase, want := inc.Status.Phase, desiredState(inc)
	switch {
	case phase == "":
		return string(want) + " (pending)"
	case phase != want:
		return string(phase) + " -> " + string(want)
	}
	return string(phase)
}

// triggeredAt is when the current episode began, or when the incident was
// created if the operator has not recorded that yet.
func triggeredAt(inc *klaxonv1alpha1.Incident) time.Time {
	if t := inc.Status.TriggeredAt; t != nil {
		return t.Time
	}
	return inc.CreationTimestamp.Time
}

func whoHas(inc *klaxonv1alpha1.Incident) string {
	var parts []string
	commander := inc.Spec.Commander
	if commander == "" {
		commander = inc.Status.Commander
	}
	if commander != "" {
		parts = append(parts, "commander "+commander)
	}
	if inc.Status.AcknowledgedBy != "" {
		parts = append(parts, "acked by "+inc.Status.AcknowledgedBy)
	}
	var paged []string
	for _, a := range inc.Status.Assignments {
		if !slices.Contains(paged, a.Name) {
			paged = append(paged, a.Name)
		}
	}
	if len(paged) > 0 {
		parts = append(parts, "paged "+strings.Join(paged, ", "))
	}
	if len(parts) == 0 {
		return "<nobody>"
	}
	return strings.Join(parts, "; ")
}

// missedTargets lists the response targets the incident has missed: those
// the operator reports missed (their conditions are True), and those whose
// deadline in status.responseTargets has passed undone, which the operator
// may not have reported yet.
func missedTargets(inc *klaxonv1alpha1.Incident, now time.Time) []string {
	st := &inc.Status
	rt := st.ResponseTargets
	if rt == nil {
		rt = &klaxonv1alpha1.ResponseTargetsStatus{}
	}
	passed := func(t *metav1.Time) bool { return t != nil && !now.Before(t.Time) }
	unresolved := st.ResolvedAt == nil && st.ClosedAt == nil
	unacknowledged := st.AcknowledgedAt == nil && st.MitigatedAt == nil && unresolved
	checks := []struct {
		kind      string
		condition string
		overdue   bool
	}{
		{"acknowledge", klaxonv1alpha1.ConditionAcknowledgeTargetMissed, passed(rt.AcknowledgeBy) && unacknowledged},
		{"update", klaxonv1alpha1.ConditionUpdateOverdue, passed(rt.NextUpdateBy) && unresolved},
		{"resolve", klaxonv1alpha1.ConditionResolveTargetMissed, passed(rt.ResolveBy) && unresolved},
		{"postmortem", klaxonv1alpha1.ConditionPostmortemOverdue, passed(rt.PostmortemBy) && inc.Spec.Postmortem == nil},
	}
	var missed []string
	for _, c := range checks {
		if c.overdue || apimeta.IsStatusConditionTrue(st.Conditions, c.condition) {
			missed = append(missed, c.kind)
		}
	}
	return missed
}

func (c *command) statusCommand() *cobra.Command {
	var output string
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:     "status",
		GroupID: "read",
		Short:   "Show the open incidents of every namespace, most severe and oldest first",
		Long: `Show the incidents that are not Closed, in every namespace (or in the one
named with -n), grouped by severity and oldest first: how long since each was
triggered, who has it (commander, who acknowledged it, who was paged) and
which response targets it missed (acknowledge, update, resolve, postmortem).

A target counts as missed when the operator reports it (its condition is
True) or when its deadline in status.responseTargets has passed undone.`,
		Example: `  kubectl klaxon status
  kubectl klaxon status -n payments
  kubectl klaxon status -o name`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all := !cmd.Flags().Changed("namespace") || (cmd.Flags().Changed("all-namespaces") && allNamespaces)
			return c.status(cmd, all, output)
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", true, "Show every namespace's incidents (the default unless -n is given).")
	addOutputFlag(cmd, &output, outputJSON, outputYAML, outputName)
	return cmd
}

func (c *command) status(cmd *cobra.Command, allNamespaces bool, output string) error {
	list, ns, err := c.listIncidents(cmd.Context(), allNamespaces)
	if err != nil {
		return err
	}
	now := c.Clock.Now()
	rows := StatusRows(list.Items, now)
	if output != "" {
		incidents := make([]*klaxonv1alpha1.Incident, 0, len(rows))
		for _, r := range rows {
			incidents = append(incidents, r.Incident)
		}
		return printObjects(c.Streams.Out, output, true, incidents...)
	}
	if len(rows) == 0 {
		where := "in any namespace"
		if !allNamespaces {
			where = "in namespace " + ns
		}
		_, err = fmt.Fprintf(c.Streams.Out, "No open incidents %s.\n", where)
		return err
	}
	w := newTable(c.Streams.Out)
	row(w, "SEVERITY", "NAMESPACE", "NAME", "PHASE", "TRIGGERED", "WHO", "MISSED TARGETS", "TITLE")
	count := map[klaxonv1alpha1.Severity]int{}
	missing := 0
	for _, r := range rows {
		missed := none
		if len(r.Missed) > 0 {
			missed = strings.Join(r.Missed, ", ")
			missing++
		}
		count[r.Severity]++
		row(w, string(r.Severity), r.Incident.Namespace, r.Incident.Name, r.Phase, age(now, r.Since)+" ago", r.Who, missed, oneLine(r.Incident.Spec.Title))
	}
	if err = w.Flush(); err != nil {
		return err
	}
	var bySeverity []string
	for _, s := range severities {
		if n := count[klaxonv1alpha1.Severity(s)]; n > 0 {
			bySeverity = append(bySeverity, fmt.Sprintf("%d %s", n, s))
		}
	}
	_, err = fmt.Fprintf(c.Streams.Out, "\n%d open (%s); %d missed a response target.\n", len(rows), strings.Join(bySeverity, ", "), missing)
	return err
}

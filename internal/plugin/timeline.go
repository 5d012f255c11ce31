package plugin

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func (c *command) timelineCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "timeline INCIDENT",
		GroupID: "read",
		Short:   "Show what happened to an incident, oldest first",
		Long: `Show the incident's timeline (status.timeline), oldest first: every
lifecycle move and who made it, every page and escalation, missed and met
response targets, stakeholder updates and changes in firing alerts.

The operator keeps the newest 100 entries; the plugin says how many older
ones were dropped. -o json|yaml prints the entries themselves.`,
		Example: "  kubectl klaxon timeline inc-x7k2p -n payments",
		Args:    oneArg("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.timeline(cmd, args[0], output)
		},
		ValidArgsFunction: c.completeIncidents(func(*klaxonv1alpha1.Incident) bool { return true }),
	}
	addOutputFlag(cmd, &output, outputJSON, outputYAML)
	return cmd
}

func (c *command) timeline(cmd *cobra.Command, name, output string) error {
	k8s, err := c.clients.client()
	if err != nil {
		return err
	}
	ns, err := c.clients.namespace()
	if err != nil {
		return err
	}
	inc := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(cmd.Context(), client.ObjectKey{Namespace: ns, Name: name}, inc); err != nil {
		return explainWriteError(err, fmt.Sprintf("read incident %s/%s", ns, name), ns, name)
	}
	entries := inc.Status.Timeline
	if output != "" {
		if entries == nil {
			entries = []klaxonv1alpha1.TimelineEntry{}
		}
		return printData(c.Streams.Out, output, entries)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintf(c.Streams.ErrOut, "Incident %s/%s has no timeline yet: the operator writes it once it has seen the incident. Is the Klaxon operator running?\n", ns, name)
		return err
	}
	now := c.Clock.Now()
	w := newTable(c.Streams.Out)
	row(w, "TIME", "AGE", "TYPE", "ACTOR", "MESSAGE")
	for _, e := range entries {
		row(w, stamp(e.Time.Time), age(now, e.Time.Time), e.Type, orNone(e.Actor), oneLine(e.Message))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if dropped := inc.Status.TimelineDropped; dropped > 0 {
		_, err := fmt.Fprintf(c.Streams.ErrOut, "%d older entries were dropped: the timeline keeps the newest %d.\n", dropped, len(entries))
		return err
	}
	return nil
}

package plugin

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
	"github.com/klaxon-dev/klaxon/internal/plugin/when"
)

func (c *command) oncallCommand() *cobra.Command {
	var output, at string
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:     "oncall [SCHEDULE]",
		GroupID: "read",
		Short:   "Show who is on call now, the next handoff and who is on call after it",
		Long: `Show who is on call now on each OnCallSchedule of the namespace (or on the one
named), when that changes next, and who is on call then.

"Now" and the handoff are the operator's (status.onCall and
status.nextHandoffAt); who comes next is worked out from the schedule's spec
and its OnCallOverrides at that handoff, with the same code the operator
runs. With --at, all of it is worked out so for that time: "now", an offset
such as +8h, an RFC 3339 time, or a wall-clock time in each schedule's zone.`,
		Example: `  kubectl klaxon oncall
  kubectl klaxon oncall payments-primary -n payments
  kubectl klaxon oncall --at "2026-12-24 20:00"
  kubectl klaxon oncall -A`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.oncall(cmd, args, allNamespaces, output, at)
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return c.completeNames(&klaxonv1alpha1.OnCallScheduleList{})(cmd, args, toComplete)
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "Show the schedules of every namespace.")
	cmd.Flags().StringVar(&at, "at", "", "Show who is on call at this time instead of now.")
	addOutputFlag(cmd, &output, outputJSON, outputYAML, outputName)
	return cmd
}

func (c *command) oncall(cmd *cobra.Command, args []string, allNamespaces bool, output, at string) error {
	k8s, err := c.clients.client()
	if err != nil {
		return err
	}
	ns, err := c.clients.namespace()
	if err != nil {
		return err
	}
	var schedules []*klaxonv1alpha1.OnCallSchedule
	if len(args) == 1 {
		s := &klaxonv1alpha1.OnCallSchedule{}
		if err := k8s.Get(cmd.Context(), client.ObjectKey{Namespace: ns, Name: args[0]}, s); err != nil {
			return explain(err, "cannot read OnCallSchedule %s/%s: %s", ns, args[0], apiMessage(err))
		}
		schedules = append(schedules, s)
	} else {
		var list klaxonv1alpha1.OnCallScheduleList
		opts := []client.ListOption{client.InNamespace(ns)}
		if allNamespaces {
			opts = nil
		}
		if err := k8s.List(cmd.Context(), &list, opts...); err != nil {
			return explain(err, "cannot list OnCallSchedules: %s", apiMessage(err))
		}
		for i := range list.Items {
			schedules = append(schedules, &list.Items[i])
		}
	}
	if output != "" {
		return printObjects(c.Streams.Out, output, len(args) == 0, schedules...)
	}
	if len(schedules) == 0 {
		where := fmt.Sprintf("in namespace %s", ns)
		if allNamespaces {
			where = "in any namespace"
		}
		_, err := fmt.Fprintf(c.Streams.ErrOut, "No OnCallSchedules found %s.\n", where)
		return err
	}
	now := c.Clock.Now()
	w := newTable(c.Streams.Out)
	header := []string{"NAME", "ON CALL", "NEXT HANDOFF", "NEXT ON CALL", "READY"}
	if allNamespaces {
		header = append([]string{"NAMESPACE"}, header...)
	}
	row(w, header...)
	overridesOf := map[string][]klaxonv1alpha1.OnCallOverride{} // by namespace
	for _, s := range schedules {
		overrides, listed := overridesOf[s.Namespace]
		if !listed {
			var list klaxonv1alpha1.OnCallOverrideList
			if listErr := k8s.List(cmd.Context(), &list, client.InNamespace(s.Namespace)); listErr != nil {
				return explain(listErr, "cannot list the OnCallOverrides of namespace %s: %s", s.Namespace, apiMessage(listErr))
			}
			overrides = list.Items
			overridesOf[s.Namespace] = overrides
		}
		var r []string
		if at != "" {
			var rowErr error
			if r, rowErr = onCallRowAt(s, overrides, now, at); rowErr != nil {
				return rowErr
			}
		} else {
			r = onCallRow(s, overrides, now)
		}
		if allNamespaces {
			r = append([]string{s.Namespace}, r...)
		}
		row(w, r...)
	}
	return w.Flush()
}

// onCallRow is one schedule's row: name, who is on call, the next handoff,
// who is on call after it, and whether the operator found it Ready.
func onCallRow(s *klaxonv1alpha1.OnCallSchedule, overrides []klaxonv1alpha1.OnCallOverride, now time.Time) []string {
	onCall := none
	if len(s.Status.OnCall) > 0 {
		onCall = strings.Join(s.Status.OnCall, ", ")
	}
	handoff, next := none, none
	if h := s.Status.NextHandoffAt; h != nil {
		handoff = fmt.Sprintf("%s (in %s)", stamp(h.Time), humanDuration(h.Sub(now)))
		if h.Time.Before(now) {
			handoff = fmt.Sprintf("%s (%s ago)", stamp(h.Time), humanDuration(now.Sub(h.Time)))
		}
		next = nextOnCall(s, overrides, h.Time)
	}
	return []string{s.Name, onCall, handoff, next, readyOf(s)}
}

// onCallRowAt is onCallRow worked out from the spec and the overrides for
// the time at, read in the schedule's zone.
func onCallRowAt(s *klaxonv1alpha1.OnCallSchedule, overrides []klaxonv1alpha1.OnCallOverride, now time.Time, at string) ([]string, error) {
	compiled, err := oncall.Compile(&s.Spec)
	if err != nil {
		return []string{s.Name, "<invalid schedule>", none, none, readyOf(s)}, nil //nolint:nilerr // The row says so; the other schedules still show.
	}
	t, err := when.Parse(at, now, now, compiled.Location())
	if err != nil {
		return nil, fmt.Errorf("--at: %w", err)
	}
	compiled = compiled.WithOverrides(s.Name, overrides)
	onCall, handoff, next := orNobody(compiled.At(t)), none, none
	if h, _ := compiled.NextHandoff(t); !h.IsZero() {
		handoff = fmt.Sprintf("%s (%s later)", stamp(h), humanDuration(h.Sub(t)))
		next = orNobody(compiled.At(h))
	}
	return []string{s.Name, onCall, handoff, next, readyOf(s)}, nil
}

func orNobody(people []string) string {
	if len(people) == 0 {
		return "<nobody>"
	}
	return strings.Join(people, ", ")
}

// readyOf is the schedule's Ready as the operator found it, with the
// reason when it is not True.
func readyOf(s *klaxonv1alpha1.OnCallSchedule) string {
	ready := "Unknown"
	if cond := apimeta.FindStatusCondition(s.Status.Conditions, klaxonv1alpha1.ConditionReady); cond != nil {
		ready = string(cond.Status)
		if cond.Status != "True" && cond.Reason != "" {
			ready += " (" + cond.Reason + ")"
		}
	}
	return ready
}

// nextOnCall is who the schedule's spec and overrides have on call at the
// handoff.
func nextOnCall(s *klaxonv1alpha1.OnCallSchedule, overrides []klaxonv1alpha1.OnCallOverride, at time.Time) string {
	compiled, err := oncall.Compile(&s.Spec)
	if err != nil {
		return "<invalid schedule>"
	}
	return orNobody(compiled.WithOverrides(s.Name, overrides).At(at))
}

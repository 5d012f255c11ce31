package plugin

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// maxWeeks bounds how far ahead shifts looks.
const maxWeeks = 26

func (c *command) shiftsCommand() *cobra.Command {
	var user string
	var weeks int
	cmd := &cobra.Command{
		Use:     "shifts [SCHEDULE] [--user NAME] [--weeks N]",
		GroupID: "oncall",
		Short:   "List who is on call when, from now for some weeks",
		Long: `List the shifts of each OnCallSchedule of the namespace (or of the one named)
from now for --weeks weeks: every interval in which the same people are on
call, overrides included, in the schedule's own time zone. With --user, only
the intervals in which that person is on call.`,
		Example: `  kubectl klaxon shifts
  kubectl klaxon shifts payments-primary --weeks 4
  kubectl klaxon shifts --user alice`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if weeks < 1 || weeks > maxWeeks {
				return fmt.Errorf("--weeks %d: give 1 to %d", weeks, maxWeeks)
			}
			return c.shifts(cmd, args, user, weeks)
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return c.completeNames(&klaxonv1alpha1.OnCallScheduleList{})(cmd, args, toComplete)
		},
	}
	// It shadows the kubeconfig's --user on this command: here a user is
	// a person of the schedule.
	cmd.Flags().StringVar(&user, "user", "", "Only the shifts of this person.")
	cmd.Flags().IntVar(&weeks, "weeks", 2, fmt.Sprintf("How many weeks ahead to look, 1 to %d.", maxWeeks))
	return cmd
}

// shift is an interval in which the same people are on call.
type shift = oncall.Shift

func (c *command) shifts(cmd *cobra.Command, args []string, user string, weeks int) error {
	ctx := cmd.Context()
	k8s, err := c.clients.client()
	if err != nil {
		return err
	}
	ns, err := c.clients.namespace()
	if err != nil {
		return err
	}
	var schedules []klaxonv1alpha1.OnCallSchedule
	if len(args) == 1 {
		s := klaxonv1alpha1.OnCallSchedule{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: args[0]}, &s); err != nil {
			return explain(err, "cannot read OnCallSchedule %s/%s: %s", ns, args[0], apiMessage(err))
		}
		schedules = append(schedules, s)
	} else {
		var list klaxonv1alpha1.OnCallScheduleList
		if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return explain(err, "cannot list OnCallSchedules: %s", apiMessage(err))
		}
		schedules = list.Items
	}
	if len(schedules) == 0 {
		_, err := fmt.Fprintf(c.Streams.ErrOut, "No OnCallSchedules found in namespace %s.\n", ns)
		return err
	}
	now := c.Clock.Now()
	end := now.Add(time.Duration(weeks) * 7 * 24 * time.Hour)
	w := newTable(c.Streams.Out)
	row(w, "SCHEDULE", "FROM", "TO", "ON CALL")
	for i := range schedules {
		l, err := compileLoaded(ctx, k8s, &schedules[i])
		if err != nil {
			return err
		}
		list, err := shiftsOf(l, now, end)
		if err != nil {
			return err
		}
		if user != "" {
			list = shiftsWith(list, user)
		}
		loc := l.base.Location()
		for _, s := range list {
			row(w, l.obj.Name, localStamp(s.From, loc), localStamp(s.To, loc), orNone(strings.Join(s.People, ", ")))
		}
	}
	return w.Flush()
}

// shiftsOf walks the handoffs of l in [from, to).
func shiftsOf(l *loadedSchedule, from, to time.Time) ([]shift, error) {
	out, err := shiftsIn(l.compiled, from, to)
	if err != nil {
		return nil, fmt.Errorf("who is on call on %s %w: ask for fewer --weeks", l.obj.Name, err)
	}
	return out, nil
}

// errTooManyHandoffs says a walk through an interval gave up.
var errTooManyHandoffs = fmt.Errorf("changes more than %d times", maxWalk)

// shiftsIn splits [from, to) at s's handoffs, within the commands' budget.
func shiftsIn(s *oncall.Schedule, from, to time.Time) ([]shift, error) {
	out, err := s.Shifts(from, to, maxWalk)
	if errors.Is(err, oncall.ErrTooManyHandoffs) {
		return nil, errTooManyHandoffs
	}
	return out, err
}

// shiftsWith keeps the shifts in which user is on call, joining those that
// follow each other.
func shiftsWith(all []shift, user string) []shift {
	var out []shift
	for _, s := range all {
		if !slices.Contains(s.People, user) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].To.Equal(s.From) {
			out[n-1].To = s.To
			out[n-1].People = []string{user}
			continue
		}
		out = append(out, shift{From: s.From, To: s.To, People: []string{user}})
	}
	return out
}

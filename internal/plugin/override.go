package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
	"github.com/klaxon-dev/klaxon/internal/plugin/when"
)

// maxWalk bounds the handoffs a command follows through an interval.
const maxWalk = 2000

// loadedSchedule is a schedule with its overrides, compiled.
type loadedSchedule struct {
	obj       *klaxonv1alpha1.OnCallSchedule
	overrides []klaxonv1alpha1.OnCallOverride
	// base is the schedule without its OnCallOverrides, compiled is with.
	base, compiled *oncall.Schedule
}

// loadSchedule reads a schedule and the overrides of its namespace and
// compiles them, as the operator does.
func loadSchedule(ctx context.Context, k8s client.Client, ns, name string) (*loadedSchedule, error) {
	s := &klaxonv1alpha1.OnCallSchedule{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		return nil, explain(err, "cannot read OnCallSchedule %s/%s: %s", ns, name, apiMessage(err))
	}
	return compileLoaded(ctx, k8s, s)
}

func compileLoaded(ctx context.Context, k8s client.Client, s *klaxonv1alpha1.OnCallSchedule) (*loadedSchedule, error) {
	base, err := oncall.Compile(&s.Spec)
	if err != nil {
		return nil, fmt.Errorf("OnCallSchedule %s/%s is not valid: %w", s.Namespace, s.Name, err)
	}
	var list klaxonv1alpha1.OnCallOverrideList
	if err := k8s.List(ctx, &list, client.InNamespace(s.Namespace)); err != nil {
		return nil, explain(err, "cannot list the OnCallOverrides of namespace %s: %s", s.Namespace, apiMessage(err))
	}
	return &loadedSchedule{obj: s, overrides: list.Items, base: base, compiled: base.WithOverrides(s.Name, list.Items)}, nil
}

// interval reads --from and --to in the schedule's zone; --to as an offset
// counts from --from.
func (c *command) interval(l *loadedSchedule, from, to string) (start, end time.Time, err error) {
	now := c.Clock.Now()
	loc := l.base.Location()
	if start, err = when.Parse(from, now, now, loc); err != nil {
		return start, end, fmt.Errorf("--from: %w", err)
	}
	if to == "" {
		return start, end, errors.New("--to is required: say when the override ends, such as --to +8h or --to 2026-12-27T09:00")
	}
	if end, err = when.Parse(to, now, start, loc); err != nil {
		return start, end, fmt.Errorf("--to: %w", err)
	}
	if !end.After(start) {
		return start, end, fmt.Errorf("--to %s is not after --from %s", stamp(end), stamp(start))
	}
	return start, end, nil
}

type overrideOptions struct {
	schedule, from, to string
	users              []string
	with               string
	output             string
}

func (c *command) overrideCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "override add|replace|remove --schedule NAME --from TIME --to TIME [--user NAME]",
		GroupID: "oncall",
		Short:   "Change who a schedule has on call for a while, with an OnCallOverride",
		Long: `Create an OnCallOverride: an object of its own, so that a cover needs no edit
of the schedule that git owns, and a GitOps tool does not revert it.

  add      puts --user (you, by default) on call beside whoever is
  replace  puts --with (you, by default) on call in place of --user
  remove   takes --user (you, by default) off call

Times are "now", an offset ("+2h", "+1d12h"; for --to, from --from), an
RFC 3339 time, or a wall-clock time in the schedule's zone
("2026-12-24T18:00"). "You" is who the API server says you are.`,
		Example: `  kubectl klaxon override add --schedule payments-primary --from now --to +4h --user dave
  kubectl klaxon override replace --schedule payments-primary --from 2026-12-24T18:00 --to 2026-12-27T09:00 --user alice --with dave
  kubectl klaxon override remove --schedule payments-primary --from +1h --to +3h`,
	}
	for _, verb := range []string{"add", "replace", "remove"} {
		cmd.AddCommand(c.overrideVerbCommand(verb))
	}
	return cmd
}

func (c *command) overrideVerbCommand(verb string) *cobra.Command {
	var o overrideOptions
	cmd := &cobra.Command{
		Use:   verb + " --schedule NAME --from TIME --to TIME",
		Short: map[string]string{"add": "Put someone on call beside whoever is", "replace": "Put someone on call in place of someone", "remove": "Take someone off call"}[verb],
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.override(cmd, verb, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.schedule, "schedule", "", "The OnCallSchedule to change.")
	f.StringVar(&o.from, "from", "now", "When the override starts.")
	f.StringVar(&o.to, "to", "", "When the override ends; an offset counts from --from.")
	userHelp := "The person to " + verb + "; you by default. Repeat it for several."
	if verb == "replace" {
		userHelp = "The person whose time on call is taken over."
		f.StringVar(&o.with, "with", "", "The person on call instead; you by default.")
	}
	// It shadows the kubeconfig's --user on this command: here a user is
	// a person of the schedule.
	f.StringSliceVar(&o.users, "user", nil, userHelp)
	_ = cmd.RegisterFlagCompletionFunc("schedule", c.completeNames(&klaxonv1alpha1.OnCallScheduleList{}))
	addOutputFlag(cmd, &o.output, outputName, outputJSON, outputYAML)
	return cmd
}

// overrideTarget is what every override command reads first: the client,
// the namespace, the schedule and the interval asked for.
type overrideTarget struct {
	k8s        client.Client
	ns         string
	l          *loadedSchedule
	start, end time.Time
}

// target reads o's schedule and interval; missing says what --schedule is
// for when it is not given.
func (c *command) target(ctx context.Context, o *overrideOptions, missing string) (overrideTarget, error) {
	var t overrideTarget
	if o.schedule == "" {
		return t, errors.New("--schedule is required: " + missing)
	}
	var err error
	if t.k8s, err = c.clients.client(); err != nil {
		return t, err
	}
	if t.ns, err = c.clients.namespace(); err != nil {
		return t, err
	}
	if t.l, err = loadSchedule(ctx, t.k8s, t.ns, o.schedule); err != nil {
		return t, err
	}
	t.start, t.end, err = c.interval(t.l, o.from, o.to)
	return t, err
}

func (c *command) override(cmd *cobra.Command, verb string, o *overrideOptions) error {
	ctx := cmd.Context()
	t, err := c.target(ctx, o, "name the OnCallSchedule to change")
	if err != nil {
		return err
	}
	k8s, l, start, end := t.k8s, t.l, t.start, t.end
	spec := klaxonv1alpha1.OnCallOverrideSpec{}
	switch verb {
	case "replace":
		if len(o.users) != 1 {
			return errors.New("replace takes one --user: the person whose time on call is taken over")
		}
		with := o.with
		if with == "" {
			if with, err = whoAmI(ctx, k8s); err != nil {
				return err
			}
		}
		if !slices.Contains(l.compiled.People(), o.users[0]) {
			return fmt.Errorf("%s is nobody OnCallSchedule %s names, so replacing them would change nothing; its people: %s",
				o.users[0], o.schedule, strings.Join(l.compiled.People(), ", "))
		}
		spec.Replace = &klaxonv1alpha1.OverrideReplacement{User: o.users[0], With: with}
	default:
		users := o.users
		if len(users) == 0 {
			me, err := whoAmI(ctx, k8s)
			if err != nil {
				return err
			}
			users = []string{me}
		}
		if verb == "add" {
			spec.Add = users
		} else {
			spec.Remove = users
		}
	}
	return c.createOverride(ctx, k8s, l, verb, "", spec, start, end, o.output)
}

// createOverride creates an override of l's schedule over [start, end),
// named name, or generated from the schedule's name and verb when name is
// "".
func (c *command) createOverride(ctx context.Context, k8s client.Client, l *loadedSchedule, verb, name string, spec klaxonv1alpha1.OnCallOverrideSpec,
	start, end time.Time, output string) error {
	spec.ScheduleRef = klaxonv1alpha1.LocalObjectReference{Name: l.obj.Name}
	spec.Start, spec.End = metav1.NewTime(start.Truncate(time.Second)), metav1.NewTime(end.Truncate(time.Second))
	o := &klaxonv1alpha1.OnCallOverride{
		ObjectMeta: metav1.ObjectMeta{Name: name, GenerateName: l.obj.Name + "-" + verb + "-", Namespace: l.obj.Namespace},
		Spec:       spec,
	}
	if err := k8s.Create(ctx, o); err != nil {
		return explain(err, "cannot create the override of OnCallSchedule %s/%s: %s", l.obj.Namespace, l.obj.Name, apiMessage(err))
	}
	if output != "" {
		return printObjects(c.Streams.Out, output, false, o)
	}
	loc := l.base.Location()
	_, err := fmt.Fprintf(c.Streams.Out, "oncalloverride.klaxon.dev/%s created: %s on %s from %s to %s\n",
		o.Name, oncall.Describe(&o.Spec), l.obj.Name, localStamp(start, loc), localStamp(end, loc))
	return err
}

// localStamp prints an instant on the schedule's wall clock.
func localStamp(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 2006-01-02 15:04 MST")
}

func (c *command) coverCommand() *cobra.Command {
	var o overrideOptions
	cmd := &cobra.Command{
		Use:     "cover --schedule NAME --from TIME --to TIME",
		GroupID: "oncall",
		Short:   "Take over whoever is on call for a while: replace each of them by you",
		Long: `Take over a schedule's on-call for a while: for each person the schedule has
on call between --from and --to (overrides included), create an
OnCallOverride that replaces them by you while they are on call, so that
someone who comes on call during the interval is covered from then.

Times are written as for 'kubectl klaxon override'.`,
		Example: `  kubectl klaxon cover --schedule payments-primary --from now --to +3h
  kubectl klaxon cover --schedule payments-primary --from "2026-12-24 18:00" --to "2026-12-27 09:00"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.cover(cmd, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.schedule, "schedule", "", "The OnCallSchedule whose on-call you take over.")
	f.StringVar(&o.from, "from", "now", "When your cover starts.")
	f.StringVar(&o.to, "to", "", "When your cover ends; an offset counts from --from.")
	_ = cmd.RegisterFlagCompletionFunc("schedule", c.completeNames(&klaxonv1alpha1.OnCallScheduleList{}))
	return cmd
}

func (c *command) cover(cmd *cobra.Command, o *overrideOptions) error {
	ctx := cmd.Context()
	t, err := c.target(ctx, o, "name the OnCallSchedule whose on-call you take over")
	if err != nil {
		return err
	}
	k8s, l, start, end := t.k8s, t.l, t.start, t.end
	me, err := whoAmI(ctx, k8s)
	if err != nil {
		return err
	}
	covers, err := coversOf(l.compiled, me, start, end)
	if err != nil {
		return fmt.Errorf("who is on call on %s %w before %s: choose a shorter interval", o.schedule, err, stamp(end))
	}
	if len(covers) == 0 {
		return fmt.Errorf("nobody but you is on call on %s from %s to %s: use 'kubectl klaxon override add' to put yourself on call",
			o.schedule, localStamp(start, l.base.Location()), localStamp(end, l.base.Location()))
	}
	for _, cv := range covers {
		spec := klaxonv1alpha1.OnCallOverrideSpec{Replace: &klaxonv1alpha1.OverrideReplacement{User: cv.user, With: me}}
		name, err := coverName(l, cv.from)
		if err != nil {
			return err
		}
		if err := c.createOverride(ctx, k8s, l, "cover", name, spec, cv.from, cv.to, ""); err != nil {
			return err
		}
	}
	return nil
}

// coverOf is one replace a cover creates: user by the one covering, in
// [from, to).
type coverOf struct {
	user     string
	from, to time.Time
}

// coversOf returns the replaces that put me on call in place of everyone
// s has on call in [start, end): one for each stretch a person is on call,
// split where they come and go, so that someone brought in later in the
// interval is covered from when they come. In the order of their start.
func coversOf(s *oncall.Schedule, me string, start, end time.Time) ([]coverOf, error) {
	shifts, err := shiftsIn(s, start, end)
	if err != nil {
		return nil, err
	}
	var out []coverOf
	open := map[string]int{} // person: index in out of their stretch
	for _, sh := range shifts {
		for _, p := range sh.People {
			if p == me {
				continue
			}
			if i, ok := open[p]; ok && out[i].to.Equal(sh.From) {
				out[i].to = sh.To
				continue
			}
			open[p] = len(out)
			out = append(out, coverOf{user: p, from: sh.From, to: sh.To})
		}
	}
	return out, nil
}

// coverName is the name of a cover starting at from, or "" for a
// generated one. OnCallOverrides that start together apply in name order,
// and a cover must apply after any that brings in the person it replaces:
// when one starting at from has a name that sorts at or after the
// generated names, the cover is named after it, extended, so that it
// sorts after it.
func coverName(l *loadedSchedule, from time.Time) (string, error) {
	prefix := l.obj.Name + "-cover-"
	last := ""
	for i := range l.overrides {
		o := &l.overrides[i]
		if o.Spec.ScheduleRef.Name == l.obj.Name && o.Spec.Start.Time.Equal(from.Truncate(time.Second)) && o.Name >= prefix && o.Name > last {
			last = o.Name
		}
	}
	if last == "" {
		return "", nil
	}
	name := last + "-cover"
	if len(name) > maxObjectName {
		return "", fmt.Errorf("OnCallOverride %s starts with the cover and its name is too long to sort a cover after it: "+
			"start the cover a second later, or shorten that override's name", last)
	}
	return name, nil
}

// maxObjectName is the longest name the API server takes.
const maxObjectName = 253

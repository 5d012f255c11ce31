package escalation

import (
	"errors"
	"fmt"
	"strings"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// ErrInvalidPolicy marks a policy spec that Plan cannot follow.
var ErrInvalidPolicy = errors.New("invalid escalation policy")

// Validate repeats the API server's checks of an EscalationPolicy spec, so
// that a policy stored before a schema change cannot make Plan misbehave.
// The error wraps ErrInvalidPolicy and names every offending field.
func Validate(spec *klaxonv1alpha1.EscalationPolicySpec) error {
	var problems []string
	add := func(path, format string, args ...any) {
		problems = append(problems, path+": "+fmt.Sprintf(format, args...))
	}
	if len(spec.Levels) == 0 {
		add("spec.levels", "at least one level is required")
	}
	if spec.Repeat < 0 {
		add("spec.repeat", "must not be negative, got %d", spec.Repeat)
	}
	for i := range spec.Levels {
		l := &spec.Levels[i]
		path := fmt.Sprintf("spec.levels[%d]", i)
		switch {
		case l.After != nil && l.After.Duration <= 0:
			add(path+".after", "must be a positive duration, got %s", l.After.Duration)
		case l.After == nil && i > 0:
			add(path+".after", "is required: how long to wait for an acknowledgement after the previous level was paged")
		}
		if len(l.Targets) == 0 {
			add(path+".targets", "at least one target is required")
		}
		for j, t := range l.Targets {
			set := 0
			for _, v := range []string{t.Schedule, t.User, t.Channel} {
				if v != "" {
					set++
				}
			}
			switch {
			case set != 1:
				add(fmt.Sprintf("%s.targets[%d]", path, j), "set exactly one of schedule, user or channel")
			case (t.Channel == "") != (t.Address == ""):
				add(fmt.Sprintf("%s.targets[%d].address", path, j), "is required with channel, and only with channel")
			}
		}
	}
	if len(spec.Levels) == 1 && spec.Repeat > 0 && spec.Levels[0].After == nil {
		add("spec.levels[0].after", "is required when a single-level policy repeats: how long to wait before paging it again")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidPolicy, strings.Join(problems, "; "))
	}
	return nil
}

// Schedules returns the OnCallSchedules a policy refers to, each once, in
// the order they are first paged; the policy's controller checks they exist.
func Schedules(spec *klaxonv1alpha1.EscalationPolicySpec) []string {
	var names []string
	seen := map[string]bool{}
	for _, l := range spec.Levels {
		for _, t := range l.Targets {
			if t.Schedule != "" && !seen[t.Schedule] {
				seen[t.Schedule] = true
				names = append(names, t.Schedule)
			}
		}
	}
	return names
}

// steps numbers the pages a policy makes: step s pages level s mod n in
// round s / n, for (repeat+1)*n steps in all.
type steps struct {
	spec *klaxonv1alpha1.EscalationPolicySpec
	n    int
}

func (st steps) total() int {
	return (int(st.spec.Repeat) + 1) * st.n
}

func (st steps) at(s int) (level, round int32) {
	return int32(s % st.n), int32(s / st.n)
}

func (st steps) index(level, round int32) int {
	return int(round)*st.n + int(level)
}

// delay is how long step s (s > 0) waits after step s-1 was paged. A level
// waits its own after. Level 0 of a repeat round waits its own after if set
// (it is ignored at trigger), otherwise level 1's after, so that by default
// the gap between rounds is the same as the first gap within one.
func (st steps) delay(s int) time.Duration {
	level, _ := st.at(s)
	if l := st.spec.Levels[level]; l.After != nil {
		return l.After.Duration
	}
	// Validate guarantees level 1 exists and has after here.
	return st.spec.Levels[1].After.Duration
}

package escalation

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		mutate func(*klaxonv1alpha1.EscalationPolicySpec)
		want   []string // problems named, in order; none for a valid policy
	}{
		"the standard policy is valid": {
			mutate: func(*klaxonv1alpha1.EscalationPolicySpec) {},
		},
		"a single level without repeat needs no after": {
			mutate: func(p *klaxonv1alpha1.EscalationPolicySpec) { p.Levels, p.Repeat = p.Levels[:1], 0 },
		},
		"no levels": {
			mutate: func(p *klaxonv1alpha1.EscalationPolicySpec) { p.Levels = nil },
			want:   []string{"spec.levels: at least one level is required"},
		},
		"a later level without after": {
			mutate: func(p *klaxonv1alpha1.EscalationPolicySpec) { p.Levels[2].After = nil },
			want:   []string{"spec.levels[2].after: is required"},
		},
		"a zero or negative after": {
			mutate: func(p *klaxonv1alpha1.EscalationPolicySpec) {
				p.Levels[0].After = after(0)
				p.Levels[1].After = after(-time.Minute)
			},
			want: []string{"spec.levels[0].after: must be a positive duration, got 0s", "spec.levels[1].after: must be a positive duration, got -1m0s"},
		},
		"a level without targets": {
			mutate: func(p *klaxonv1alpha1.EscalationPolicySpec) { p.Levels[1].Targets = nil },
			want:   []string{"spec.levels[1].targets: at least one target is required"},
		},
		"a target with both or neither of schedule and user": {
			mutate: func(p *klaxonv1alpha1.EscalationPolicySpec) {
				p.Levels[1].Targets = []klaxonv1alpha1.EscalationTarget{{Schedule: "primary", User: "erin"}, {}}
			},
			want: []string{"spec.levels[1].targets[0]: set exactly one of schedule, user or channel", "spec.levels[1].targets[1]: set exactly one of schedule, user or channel"},
		},
		"a channel target without an address, and an address without a channel": {
			mutate: func(p *klaxonv1alpha1.EscalationPolicySpec) {
				p.Levels[1].Targets = []klaxonv1alpha1.EscalationTarget{{Channel: "team-slack"}, {User: "erin", Address: "#x"}}
			},
			want: []string{"spec.levels[1].targets[0].address: is required with channel", "spec.levels[1].targets[1].address: is required with channel"},
		},
		"a repeating single level without after": {
			mutate: func(p *klaxonv1alpha1.EscalationPolicySpec) { p.Levels = p.Levels[:1] },
			want:   []string{"spec.levels[0].after: is required when a single-level policy repeats"},
		},
		"a negative repeat": {
			mutate: func(p *klaxonv1alpha1.EscalationPolicySpec) { p.Repeat = -1 },
			want:   []string{"spec.repeat: must not be negative"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := standard()
			tc.mutate(p)
			err := Validate(p)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate = %v, want an ErrInvalidPolicy", err)
			}
			problems := strings.Split(strings.TrimPrefix(err.Error(), ErrInvalidPolicy.Error()+": "), "; ")
			if len(problems) != len(tc.want) {
				t.Fatalf("Validate = %q, want %d problems %q", err, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(problems[i], w) {
					t.Errorf("problem %d = %q, want it to start with %q", i, problems[i], w)
				}
			}
		})
	}
}

func TestSchedules(t *testing.T) {
	p := standard()
	p.Levels = append(p.Levels, klaxonv1alpha1.EscalationLevel{
		After:   after(time.Minute),
		Targets: append(schedules("primary", "tertiary"), user("erin")),
	})
	if got, want := Schedules(p), []string{"primary", "secondary", "tertiary"}; !slices.Equal(got, want) {
		t.Errorf("Schedules = %q, want %q", got, want)
	}
}

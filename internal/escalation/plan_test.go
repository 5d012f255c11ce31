package escalation

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// trigger is when the episode of every case began.
var trigger = time.Date(2026, time.November, 23, 10, 0, 0, 0, time.UTC)

// at is trigger plus d, to write the cases in minutes after trigger.
func at(d time.Duration) time.Time { return trigger.Add(d) }

var errNotFound = errors.New(`oncallschedules.klaxon.dev "nope" not found`)

// resolve answers for the schedules the cases use.
func resolve(schedule string, _ time.Time) ([]string, error) {
	switch schedule {
	case "primary":
		return []string{"alice"}, nil
	case "secondary":
		return []string{"bob"}, nil
	case "both":
		return []string{"alice", "bob"}, nil
	case "empty":
		return nil, nil
	}
	return nil, errNotFound
}

// onCall resolves the policy's schedules with resolve, as the controller
// does before planning.
func onCall(p *klaxonv1alpha1.EscalationPolicySpec, resolve func(string, time.Time) ([]string, error)) OnCall {
	return ResolveSchedules(p, func(s string) ([]string, error) { return resolve(s, time.Time{}) })
}

func after(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func schedules(names ...string) []klaxonv1alpha1.EscalationTarget {
	var ts []klaxonv1alpha1.EscalationTarget
	for _, n := range names {
		ts = append(ts, klaxonv1alpha1.EscalationTarget{Schedule: n})
	}
	return ts
}

func user(name string) klaxonv1alpha1.EscalationTarget {
	return klaxonv1alpha1.EscalationTarget{User: name}
}

// standard pages primary at trigger, secondary and erin 10m later, boss 15m
// after that, and runs through twice (repeat 1). Round 1 restarts 10m after
// boss, the after of level 1, since level 0 sets none.
func standard() *klaxonv1alpha1.EscalationPolicySpec {
	return &klaxonv1alpha1.EscalationPolicySpec{
		Levels: []klaxonv1alpha1.EscalationLevel{
			{Targets: schedules("primary")},
			{After: after(10 * time.Minute), Targets: append(schedules("secondary"), user("erin"))},
			{After: after(15 * time.Minute), Targets: []klaxonv1alpha1.EscalationTarget{user("boss")}},
		},
		Repeat: 1,
	}
}

func escalation(level, round int32, next *time.Time) *klaxonv1alpha1.EscalationStatus {
	s := &klaxonv1alpha1.EscalationStatus{Level: level, Round: round}
	if next != nil {
		s.NextEscalationAt = &metav1.Time{Time: *next}
	}
	return s
}

func exhausted(level, round int32) *klaxonv1alpha1.EscalationStatus {
	return &klaxonv1alpha1.EscalationStatus{Level: level, Round: round, Exhausted: true}
}

func ptr(t time.Time) *time.Time { return &t }

func assigned(name string, level, round int32, schedule string, notified time.Time) klaxonv1alpha1.Assignment {
	return klaxonv1alpha1.Assignment{Name: name, Level: level, Round: round, Schedule: schedule, NotifiedAt: metav1.NewTime(notified)}
}

func page(level, round int32, as ...klaxonv1alpha1.Assignment) *Page {
	return &Page{Level: level, Round: round, Assignments: as}
}

func TestPlan(t *testing.T) {
	cases := map[string]struct {
		policy      *klaxonv1alpha1.EscalationPolicySpec
		status      *klaxonv1alpha1.EscalationStatus
		assignments []klaxonv1alpha1.Assignment
		now         time.Time
		wantPage    *Page
		wantStatus  *klaxonv1alpha1.EscalationStatus
		wantNext    time.Time
	}{
		"trigger pages level 0": {
			now:        at(0),
			wantPage:   page(0, 0, assigned("alice", 0, 0, "primary", at(0))),
			wantStatus: escalation(0, 0, ptr(at(10*time.Minute))),
			wantNext:   at(10 * time.Minute),
		},
		"before trigger (a skewed clock) nobody is paged yet": {
			now:        at(-time.Second),
			wantStatus: nil,
			wantNext:   at(0),
		},
		"a late first look pages level 0 and gives it its whole 10m": {
			now:        at(time.Hour),
			wantPage:   page(0, 0, assigned("alice", 0, 0, "primary", at(time.Hour))),
			wantStatus: escalation(0, 0, ptr(at(70*time.Minute))),
			wantNext:   at(70 * time.Minute),
		},
		"level 1 one nanosecond before it is due: nothing": {
			status:     escalation(0, 0, ptr(at(10*time.Minute))),
			now:        at(10*time.Minute - time.Nanosecond),
			wantStatus: escalation(0, 0, ptr(at(10*time.Minute))),
			wantNext:   at(10 * time.Minute),
		},
		"level 1 exactly when due pages its schedule and its user": {
			status: escalation(0, 0, ptr(at(10*time.Minute))),
			now:    at(10 * time.Minute),
			wantPage: page(1, 0,
				assigned("bob", 1, 0, "secondary", at(10*time.Minute)),
				assigned("erin", 1, 0, "", at(10*time.Minute))),
			wantStatus: escalation(1, 0, ptr(at(25*time.Minute))),
			wantNext:   at(25 * time.Minute),
		},
		"after the last level, round 1 is due level 1's after later": {
			status:     escalation(1, 0, ptr(at(25*time.Minute))),
			now:        at(25 * time.Minute),
			wantPage:   page(2, 0, assigned("boss", 2, 0, "", at(25*time.Minute))),
			wantStatus: escalation(2, 0, ptr(at(35*time.Minute))),
			wantNext:   at(35 * time.Minute),
		},
		"round 1 starts again at level 0": {
			status:     escalation(2, 0, ptr(at(35*time.Minute))),
			now:        at(35 * time.Minute),
			wantPage:   page(0, 1, assigned("alice", 0, 1, "primary", at(35*time.Minute))),
			wantStatus: escalation(0, 1, ptr(at(45*time.Minute))),
			wantNext:   at(45 * time.Minute),
		},
		"the last level of the last round exhausts escalation": {
			status:     escalation(1, 1, ptr(at(60*time.Minute))),
			now:        at(60 * time.Minute),
			wantPage:   page(2, 1, assigned("boss", 2, 1, "", at(60*time.Minute))),
			wantStatus: exhausted(2, 1),
		},
		"exhausted escalation pages nobody and asks for no requeue": {
			status:     exhausted(2, 1),
			now:        at(5 * time.Hour),
			wantStatus: exhausted(2, 1),
		},
		"without repeat, the last level exhausts at once": {
			policy: func() *klaxonv1alpha1.EscalationPolicySpec {
				p := standard()
				p.Repeat = 0
				return p
			}(),
			status:     escalation(1, 0, ptr(at(25*time.Minute))),
			now:        at(25 * time.Minute),
			wantPage:   page(2, 0, assigned("boss", 2, 0, "", at(25*time.Minute))),
			wantStatus: exhausted(2, 0),
		},
		"levels[0].after sets the gap between rounds": {
			policy: func() *klaxonv1alpha1.EscalationPolicySpec {
				p := standard()
				p.Levels[0].After = after(time.Hour)
				return p
			}(),
			status:     escalation(1, 0, ptr(at(25*time.Minute))),
			now:        at(25 * time.Minute),
			wantPage:   page(2, 0, assigned("boss", 2, 0, "", at(25*time.Minute))),
			wantStatus: escalation(2, 0, ptr(at(85*time.Minute))),
			wantNext:   at(85 * time.Minute),
		},
		"levels[0].after is not waited for at trigger": {
			policy: func() *klaxonv1alpha1.EscalationPolicySpec {
				p := standard()
				p.Levels[0].After = after(time.Hour)
				return p
			}(),
			now:        at(0),
			wantPage:   page(0, 0, assigned("alice", 0, 0, "primary", at(0))),
			wantStatus: escalation(0, 0, ptr(at(10*time.Minute))),
			wantNext:   at(10 * time.Minute),
		},
		"after downtime only the next step is paged, the one after waits its whole after": {
			status:     escalation(0, 0, ptr(at(10*time.Minute))),
			now:        at(3 * time.Hour),
			wantPage:   page(1, 0, assigned("bob", 1, 0, "secondary", at(3*time.Hour)), assigned("erin", 1, 0, "", at(3*time.Hour))),
			wantStatus: escalation(1, 0, ptr(at(3*time.Hour+15*time.Minute))),
			wantNext:   at(3*time.Hour + 15*time.Minute),
		},
		"a due time is rounded up to the whole second status keeps": {
			status:     escalation(0, 0, ptr(at(10*time.Minute))),
			now:        at(10*time.Minute + 400*time.Millisecond),
			wantPage:   page(1, 0, assigned("bob", 1, 0, "secondary", at(10*time.Minute)), assigned("erin", 1, 0, "", at(10*time.Minute))),
			wantStatus: escalation(1, 0, ptr(at(25*time.Minute+time.Second))),
			wantNext:   at(25*time.Minute + time.Second),
		},
		"a person reached through two targets is paged once": {
			policy: &klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: append(schedules("primary", "both"), user("bob"))},
			}},
			now:        at(0),
			wantPage:   page(0, 0, assigned("alice", 0, 0, "primary", at(0)), assigned("bob", 0, 0, "both", at(0))),
			wantStatus: exhausted(0, 0),
		},
		"a schedule with nobody on call still counts the level as paged": {
			policy: &klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: schedules("empty")},
				{After: after(5 * time.Minute), Targets: schedules("secondary")},
			}},
			now:        at(0),
			wantPage:   &Page{Level: 0, Round: 0, NobodyOnCall: []string{"empty"}},
			wantStatus: escalation(0, 0, ptr(at(5*time.Minute))),
			wantNext:   at(5 * time.Minute),
		},
		"status without nextEscalationAt falls back to the assignments": {
			status:      escalation(1, 0, nil),
			assignments: []klaxonv1alpha1.Assignment{assigned("alice", 0, 0, "primary", at(0)), assigned("bob", 1, 0, "secondary", at(10*time.Minute))},
			now:         at(24 * time.Minute),
			wantStatus:  escalation(1, 0, ptr(at(25*time.Minute))),
			wantNext:    at(25 * time.Minute),
		},
		"status without nextEscalationAt nor assignments pages the next step now": {
			status:     escalation(0, 0, nil),
			now:        at(2 * time.Minute),
			wantPage:   page(1, 0, assigned("bob", 1, 0, "secondary", at(2*time.Minute)), assigned("erin", 1, 0, "", at(2*time.Minute))),
			wantStatus: escalation(1, 0, ptr(at(17*time.Minute))),
			wantNext:   at(17 * time.Minute),
		},
		"lost status: the episode's assignments show level 0 was paged": {
			assignments: []klaxonv1alpha1.Assignment{assigned("alice", 0, 0, "primary", at(0))},
			now:         at(5 * time.Minute),
			wantStatus:  escalation(0, 0, ptr(at(10*time.Minute))),
			wantNext:    at(10 * time.Minute),
		},
		"status behind the assignments: the later page wins": {
			status:      escalation(0, 0, ptr(at(10*time.Minute))),
			assignments: []klaxonv1alpha1.Assignment{assigned("alice", 0, 0, "primary", at(0)), assigned("bob", 1, 0, "secondary", at(10*time.Minute))},
			now:         at(12 * time.Minute),
			wantStatus:  escalation(1, 0, ptr(at(25*time.Minute))),
			wantNext:    at(25 * time.Minute),
		},
		"assignments of an earlier episode are ignored after a reopen": {
			assignments: []klaxonv1alpha1.Assignment{assigned("alice", 0, 0, "primary", at(-2*time.Hour)), assigned("bob", 1, 0, "secondary", at(-110*time.Minute))},
			now:         at(0),
			wantPage:    page(0, 0, assigned("alice", 0, 0, "primary", at(0))),
			wantStatus:  escalation(0, 0, ptr(at(10*time.Minute))),
			wantNext:    at(10 * time.Minute),
		},
		"a policy that lost levels ends the recorded round": {
			policy: func() *klaxonv1alpha1.EscalationPolicySpec {
				p := standard()
				p.Levels = p.Levels[:2]
				return p
			}(),
			status:     escalation(2, 0, ptr(at(35*time.Minute))),
			now:        at(35 * time.Minute),
			wantPage:   page(0, 1, assigned("alice", 0, 1, "primary", at(35*time.Minute))),
			wantStatus: escalation(0, 1, ptr(at(45*time.Minute))),
			wantNext:   at(45 * time.Minute),
		},
		"a policy that lost rounds is exhausted without another page": {
			policy: func() *klaxonv1alpha1.EscalationPolicySpec {
				p := standard()
				p.Repeat = 0
				return p
			}(),
			status:     escalation(0, 1, ptr(at(45*time.Minute))),
			now:        at(45 * time.Minute),
			wantStatus: &klaxonv1alpha1.EscalationStatus{Level: 0, Round: 1, Exhausted: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			policy := tc.policy
			if policy == nil {
				policy = standard()
			}
			in := Input{Policy: policy, Status: tc.status, Assignments: tc.assignments, TriggeredAt: trigger, OnCall: onCall(policy, resolve), Now: tc.now}
			d, err := Plan(in)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if !equality.Semantic.DeepEqual(d.Page, tc.wantPage) {
				t.Errorf("Page = %s, want %s", show(d.Page), show(tc.wantPage))
			}
			if !equality.Semantic.DeepEqual(d.Status, tc.wantStatus) {
				t.Errorf("Status = %s, want %s", show(d.Status), show(tc.wantStatus))
			}
			if !d.NextAt.Equal(tc.wantNext) {
				t.Errorf("NextAt = %s, want %s", d.NextAt, tc.wantNext)
			}

			// Idempotence: planning again from what was decided, at the
			// same instant, pages nobody and changes nothing.
			in.Status = d.Status
			if d.Page != nil {
				in.Assignments = append(append([]klaxonv1alpha1.Assignment(nil), in.Assignments...), d.Page.Assignments...)
			}
			again, err := Plan(in)
			if err != nil {
				t.Fatalf("second Plan: %v", err)
			}
			if again.Page != nil {
				t.Errorf("second Plan at the same instant paged %s", show(again.Page))
			}
			if !equality.Semantic.DeepEqual(again.Status, d.Status) {
				t.Errorf("second Plan changed status from %s to %s", show(d.Status), show(again.Status))
			}
			if !again.NextAt.Equal(d.NextAt) {
				t.Errorf("second Plan NextAt = %s, want %s", again.NextAt, d.NextAt)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	cases := map[string]struct {
		policy    *klaxonv1alpha1.EscalationPolicySpec
		status    *klaxonv1alpha1.EscalationStatus
		trigger   time.Time
		now       time.Time
		check     func(t *testing.T, err error)
		wantInMsg string
	}{
		"a missing schedule names the schedule and the level": {
			policy: &klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: append([]klaxonv1alpha1.EscalationTarget{user("erin")}, schedules("nope")...)},
			}},
			trigger:   trigger,
			now:       at(0),
			wantInMsg: `level 0: who is on call on schedule "nope": ` + errNotFound.Error(),
			check: func(t *testing.T, err error) {
				var re *ResolveError
				if !errors.As(err, &re) || re.Schedule != "nope" || re.Level != 0 {
					t.Errorf("error %v is not a *ResolveError for schedule nope at level 0", err)
				}
				if !errors.Is(err, errNotFound) {
					t.Errorf("error %v does not wrap the resolver's error", err)
				}
			},
		},
		"a missing schedule at a later level pages nobody of that level": {
			policy: &klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: schedules("primary")},
				{After: after(time.Minute), Targets: schedules("secondary", "nope")},
			}},
			status:    escalation(0, 0, ptr(at(time.Minute))),
			trigger:   trigger,
			now:       at(time.Minute),
			wantInMsg: `level 1: who is on call on schedule "nope"`,
		},
		"an invalid policy": {
			policy: &klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: schedules("primary")},
				{Targets: schedules("secondary")},
			}},
			trigger:   trigger,
			now:       at(0),
			wantInMsg: "spec.levels[1].after: is required",
			check: func(t *testing.T, err error) {
				if !errors.Is(err, ErrInvalidPolicy) {
					t.Errorf("error %v does not wrap ErrInvalidPolicy", err)
				}
			},
		},
		"no triggeredAt": {
			policy:    standard(),
			now:       at(0),
			wantInMsg: "no triggeredAt",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := Plan(Input{Policy: tc.policy, Status: tc.status, TriggeredAt: tc.trigger, OnCall: onCall(tc.policy, resolve), Now: tc.now})
			if err == nil {
				t.Fatalf("Plan succeeded with %+v, want an error", d)
			}
			if d.Page != nil || d.Status != nil {
				t.Errorf("Plan returned a decision along with its error: %+v", d)
			}
			if !strings.Contains(err.Error(), tc.wantInMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantInMsg)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
}

func show(v any) string {
	switch x := v.(type) {
	case *Page:
		if x == nil {
			return "no page"
		}
		var who []string
		for _, a := range x.Assignments {
			who = append(who, fmt.Sprintf("%s(%s)@%s", a.Name, a.Schedule, a.NotifiedAt.UTC().Format(time.RFC3339)))
		}
		return fmt.Sprintf("level %d round %d %v nobody on %v", x.Level, x.Round, who, x.NobodyOnCall)
	case *klaxonv1alpha1.EscalationStatus:
		if x == nil {
			return "no status"
		}
		next := "-"
		if x.NextEscalationAt != nil {
			next = x.NextEscalationAt.UTC().Format(time.RFC3339Nano)
		}
		return fmt.Sprintf("{level %d round %d next %s exhausted %v}", x.Level, x.Round, next, x.Exhausted)
	}
	return fmt.Sprint(v)
}

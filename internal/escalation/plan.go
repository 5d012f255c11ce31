package escalation

import (
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/apitime"
)

// OnCall is who is on call now on each schedule a policy names, as the
// caller found out before planning (ResolveSchedules).
type OnCall map[string]OnCallAnswer

// OnCallAnswer is who is on call on one schedule, or why that is not known.
type OnCallAnswer struct {
	People []string
	Err    error
}

// ResolveSchedules asks lookup once about each schedule the policy names.
func ResolveSchedules(spec *klaxonv1alpha1.EscalationPolicySpec, lookup func(schedule string) ([]string, error)) OnCall {
	names := Schedules(spec)
	out := make(OnCall, len(names))
	for _, name := range names {
		people, err := lookup(name)
		out[name] = OnCallAnswer{People: people, Err: err}
	}
	return out
}

// Input is what Plan decides from. Everything but Now and OnCall comes
// from persisted objects.
type Input struct {
	// Policy is the incident's escalation policy.
	Policy *klaxonv1alpha1.EscalationPolicySpec
	// Status is the incident's status.escalation: nil until the current
	// episode pages someone. The caller clears it when an incident reopens.
	Status *klaxonv1alpha1.EscalationStatus
	// Assignments are the incident's status.assignments. They are the
	// fallback record of progress when Status is missing or has no
	// nextEscalationAt; entries notified before TriggeredAt belong to an
	// earlier episode and are ignored.
	Assignments []klaxonv1alpha1.Assignment
	// TriggeredAt is when the current episode began; level 0 is due then.
	TriggeredAt time.Time
	// OnCall says who is on call now on the policy's schedules.
	OnCall OnCall
	// Now is the time of the decision.
	Now time.Time
}

// Decision is what Plan decided.
type Decision struct {
	// Page is the step to page now, or nil when none is due.
	Page *Page
	// Status is the escalation status to persist, before acting on Page:
	// a fresh copy, equal to Input.Status when nothing changed, and nil only
	// while the episode has paged nobody.
	Status *klaxonv1alpha1.EscalationStatus
	// NextAt is when to call Plan again, or the zero time when escalation
	// is exhausted.
	NextAt time.Time
}

// Page is one step of escalation: a level paged in a round.
type Page struct {
	Level, Round int32
	// Assignments are the people paged, each once, in target order, to be
	// appended to the incident's status.assignments.
	Assignments []klaxonv1alpha1.Assignment
	// NobodyOnCall lists the schedules of the level that had nobody on call.
	NobodyOnCall []string
	// Channels are the team channels the level names, to be told of the
	// page; they are not people and cannot acknowledge.
	Channels []klaxonv1alpha1.EscalationTarget
}

// ResolveError says which schedule of which level could not be resolved; it
// wraps the OnCallAnswer's error, so errors.Is and apierrors.IsNotFound work.
type ResolveError struct {
	Level    int32
	Schedule string
	Err      error
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("level %d: who is on call on schedule %q: %v", e.Level, e.Schedule, e.Err)
}

func (e *ResolveError) Unwrap() error { return e.Err }

// Plan decides whom to page now, for an incident in phase Triggered (the
// caller stops calling it at acknowledgement).
//
// Level 0 is due at trigger; each later step is due the delay of its level
// after the previous step was actually paged, as recorded in
// status.nextEscalationAt. Plan pages at most one step per call, the one
// after the last recorded, and schedules the following one a full delay
// after now. So an operator that was down while steps fell due catches up
// one level at a time, giving each level its whole delay to acknowledge,
// and never pages a level twice nor skips one. Once the last level of the
// last round is paged, escalation is exhausted.
//
// When a schedule of the level to page could not be resolved, Plan returns
// a *ResolveError and pages nobody: a level is paged whole or not at all, so
// a retry after the schedule is fixed pages it exactly once.
func Plan(in Input) (Decision, error) {
	if err := Validate(in.Policy); err != nil {
		return Decision{}, err
	}
	if in.TriggeredAt.IsZero() {
		return Decision{}, errors.New("escalation: the episode has no triggeredAt")
	}
	if in.Status != nil && in.Status.Exhausted {
		return Decision{Status: in.Status.DeepCopy()}, nil
	}
	st := steps{spec: in.Policy, n: len(in.Policy.Levels)}
	last, due, recorded := progress(st, in)

	status := in.Status.DeepCopy()
	if !recorded && last >= 0 {
		// The assignments know of a later page than status: adopt it.
		status = &klaxonv1alpha1.EscalationStatus{}
		status.Level, status.Round = st.at(last)
	}
	next := last + 1
	if next >= st.total() {
		// The policy lost levels or rounds since the last page.
		status.Exhausted, status.NextEscalationAt = true, nil
		return Decision{Status: status}, nil
	}
	if in.Now.Before(due) {
		if status != nil {
			// Persist a due time the fallback produced, to make the record whole.
			status.NextEscalationAt = &metav1.Time{Time: due}
		}
		return Decision{Status: status, NextAt: due}, nil
	}

	level, round := st.at(next)
	page, err := pageLevel(in, level, round)
	if err != nil {
		return Decision{}, err
	}
	status = &klaxonv1alpha1.EscalationStatus{Level: level, Round: round}
	d := Decision{Page: page, Status: status}
	if next+1 < st.total() {
		d.NextAt = apitime.CeilSecond(in.Now.Add(st.delay(next + 1)))
		status.NextEscalationAt = &metav1.Time{Time: d.NextAt}
	} else {
		status.Exhausted = true
	}
	return d, nil
}

// progress returns the last step paged (-1 for none), when the next one is
// due, and whether that last step is the one status.escalation records.
// status.escalation is the record; the assignments of the episode stand in
// for whatever part of it is missing or behind. When neither says when the
// last step was paged, the next one is due at once rather than never.
func progress(st steps, in Input) (last int, due time.Time, recorded bool) {
	last = -1
	if s := in.Status; s != nil {
		level, round := max(s.Level, 0), max(s.Round, 0)
		if int(level) >= st.n {
			level = int32(st.n - 1) // the policy lost levels: that round is over
		}
		last, recorded = st.index(level, round), true
		if s.NextEscalationAt != nil {
			due = s.NextEscalationAt.Time
		}
	}
	paged, at := lastAssigned(st, in)
	if paged > last {
		last, due, recorded = paged, time.Time{}, false
	}
	switch {
	case !due.IsZero():
		return last, due, recorded
	case last < 0:
		return -1, in.TriggeredAt, recorded
	case paged == last && last+1 < st.total():
		return last, apitime.CeilSecond(at.Add(st.delay(last + 1))), recorded
	default:
		return last, in.Now, recorded
	}
}

// lastAssigned returns the latest step of the episode found in the
// assignments (-1 for none) and when it was paged.
func lastAssigned(st steps, in Input) (int, time.Time) {
	last, at := -1, time.Time{}
	episode := in.TriggeredAt.Truncate(time.Second) // as status stores it
	for _, a := range in.Assignments {
		if a.NotifiedAt.Time.Before(episode) || a.Level < 0 || int(a.Level) >= st.n || a.Round < 0 {
			continue
		}
		s := st.index(a.Level, a.Round)
		if s > last || (s == last && a.NotifiedAt.After(at)) {
			last, at = s, a.NotifiedAt.Time
		}
	}
	return last, at
}

// pageLevel resolves the targets of a level into assignments.
func pageLevel(in Input, level, round int32) (*Page, error) {
	page := &Page{Level: level, Round: round}
	notifiedAt := metav1.NewTime(in.Now.Truncate(time.Second))
	seen := map[string]bool{}
	assign := func(name, schedule string) {
		if seen[name] {
			return
		}
		seen[name] = true
		page.Assignments = append(page.Assignments, klaxonv1alpha1.Assignment{
			Name: name, Level: level, Round: round, Schedule: schedule, NotifiedAt: notifiedAt,
		})
	}
	for _, t := range in.Policy.Levels[level].Targets {
		if t.Channel != "" {
			page.Channels = append(page.Channels, t)
			continue
		}
		if t.User != "" {
			assign(t.User, "")
			continue
		}
		answer, ok := in.OnCall[t.Schedule]
		if !ok {
			answer.Err = errors.New("it was not resolved before planning")
		}
		if answer.Err != nil {
			return nil, &ResolveError{Level: level, Schedule: t.Schedule, Err: answer.Err}
		}
		people := answer.People
		if len(people) == 0 {
			page.NobodyOnCall = append(page.NobodyOnCall, t.Schedule)
		}
		for _, p := range people {
			assign(p, t.Schedule)
		}
	}
	return page, nil
}

package grafanaoncall

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

// Limits of Klaxon's escalation policies, as the CRD states them.
const (
	maxLevels  = 10
	maxTargets = 16
	// repeatTimes is how often Grafana OnCall's repeat_escalation step
	// runs a chain again.
	repeatTimes = 5
	// maxSteps bounds the steps of one chain an import reads through.
	maxSteps = 1000
	// maxWait bounds one wait step, so that waits add up without
	// overflow.
	maxWait = 24 * time.Hour
)

// importChains reads the escalation chains with their steps and maps them
// to EscalationPolicies.
func (r *run) importChains(ctx context.Context) error {
	chains, err := list[escalationChain](ctx, r.src, "escalation_chains", nil)
	if err != nil {
		return err
	}
	slices.SortStableFunc(chains, func(a, b escalationChain) int { return cmp.Compare(a.ID, b.ID) })
	seen := map[string]bool{}
	for _, c := range chains {
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		steps, err := list[escalationPolicy](ctx, r.src, "escalation_policies", url.Values{"escalation_chain_id": {c.ID}})
		if err != nil {
			return err
		}
		// An answer may hold steps of other chains (an API that ignores the
		// filter): only this chain's count.
		steps = slices.DeleteFunc(steps, func(s escalationPolicy) bool { return s.EscalationChainID != "" && s.EscalationChainID != c.ID })
		spec, e := r.mapChain(&c, steps)
		if e.Outcome == importer.NotMapped {
			r.report(e)
			continue
		}
		name, note := r.namer.Name("EscalationPolicy", c.ID, c.Name)
		if note != "" {
			e.Notes = append(e.Notes, note)
		}
		r.add(&klaxonv1alpha1.EscalationPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: klaxonv1alpha1.GroupVersion.String(), Kind: "EscalationPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       spec,
		}, e)
		r.chains[c.ID] = name
	}
	return nil
}

// level is a level being built: its wait and its targets.
type level struct {
	after   time.Duration
	targets []klaxonv1alpha1.EscalationTarget
}

// mapChain maps a chain's steps, in position order: notify steps with no
// wait between them page together, a wait becomes the next level's after.
func (r *run) mapChain(c *escalationChain, steps []escalationPolicy) (klaxonv1alpha1.EscalationPolicySpec, importer.Entry) {
	e := importer.Entry{SourceKind: "escalation_chain", SourceID: importer.Clip(c.ID, importer.MaxValue), SourceName: importer.Clip(c.Name, importer.MaxValue), Outcome: importer.Mapped}
	notes := &noteList{}
	var spec klaxonv1alpha1.EscalationPolicySpec
	if len(steps) > maxSteps {
		e.Outcome = importer.NotMapped
		e.Notes = []string{fmt.Sprintf("it has %d steps: write its policy by hand", len(steps))}
		return spec, e
	}
	slices.SortStableFunc(steps, func(a, b escalationPolicy) int { return cmp.Compare(a.Position, b.Position) })
	var levels []level
	var wait time.Duration
	open := false
	add := func(t klaxonv1alpha1.EscalationTarget) {
		if !open {
			levels = append(levels, level{after: wait})
			wait, open = 0, true
		}
		l := &levels[len(levels)-1]
		if !slices.Contains(l.targets, t) {
			l.targets = append(l.targets, t)
		}
	}
	stopped := false
	for i, s := range steps {
		if stopped {
			notes.approx("step %d (%s) comes after the chain ends: Grafana OnCall never runs it either", i+1, importer.Clip(s.Type, importer.MaxValue))
			continue
		}
		step := fmt.Sprintf("step %d (%s)", i+1, importer.Clip(s.Type, importer.MaxValue))
		if s.Important {
			notes.approx("%s: asks for the people's important notifications; Klaxon picks their rules by the incident's severity", step)
		}
		switch s.Type {
		case "wait":
			if s.Duration == nil || *s.Duration <= 0 {
				notes.approx("%s: a wait without a duration counts as none", step)
				continue
			}
			if *s.Duration > int64(maxWait/time.Second) {
				notes.approx("%s: it waits %d s, more than a day; it was taken as a wait of %s", step, *s.Duration, maxWait)
			}
			wait += time.Duration(min(*s.Duration, int64(maxWait/time.Second))) * time.Second
			open = false
		case "notify_persons":
			for _, id := range s.PersonsToNotify {
				r.addUser(add, notes, step, id)
			}
		case "notify_person_next_each_time":
			notes.approx("%s: Grafana OnCall pages one of its %d people, the next one for each alert group (round robin); Klaxon pages all of them at this level", step, len(s.PersonsNextEachTime))
			for _, id := range s.PersonsNextEachTime {
				r.addUser(add, notes, step, id)
			}
		case "notify_on_call_from_schedule":
			id := ""
			if s.NotifyOnCallSchedule != nil {
				id = *s.NotifyOnCallSchedule
			}
			if name, ok := r.schedules[id]; ok {
				add(klaxonv1alpha1.EscalationTarget{Schedule: name})
			} else {
				notes.approx("%s: schedule %s was not imported (see its entry): page its people by hand", step, importer.Quote(id))
			}
		case "repeat_escalation":
			spec.Repeat = repeatTimes
			stopped = true
		case "resolve":
			notes.approx("%s: resolves the alert group; Klaxon's escalations do not resolve: the chain ends here", step)
			stopped = true
		case "notify_user_group":
			notes.approx("%s: notifies Slack user group %s; Klaxon has no user groups: list its people, or add a channel target, by hand", step, deref(s.GroupToNotify))
		case "notify_team_members":
			notes.approx("%s: notifies a team's members; list them as user targets by hand", step)
		case "notify_whole_channel":
			notes.approx("%s: notifies the Slack channel; add a channel target by hand", step)
		case "trigger_webhook", "trigger_action":
			notes.approx("%s: triggers outgoing webhook %s; not imported: call it from a NotificationChannel or a stakeholder by hand", step, deref(s.ActionToTrigger))
		case "notify_if_time_from_to":
			notes.approx("%s: continues only from %s to %s; Klaxon's policies have no time condition, so the later steps always run: use a schedule with restrictions instead", step, deref(s.NotifyIfTimeFrom), deref(s.NotifyIfTimeTo))
		case "notify_if_num_alerts_in_window":
			notes.approx("%s: continues only past a number of alerts in a window; Klaxon has no such condition: the later steps always run", step)
		case "declare_incident":
			notes.approx("%s: declares a Grafana incident; left out: Klaxon's route opens an incident already", step)
		default:
			notes.approx("%s: Klaxon has no such step: left out", step)
		}
	}
	var out []klaxonv1alpha1.EscalationLevel
	carry := time.Duration(0)
	for _, l := range levels {
		if len(l.targets) == 0 {
			carry += l.after
			continue
		}
		if len(l.targets) > maxTargets {
			notes.approx("a level pages %d targets; Klaxon pages at most %d a level: the others were left out", len(l.targets), maxTargets)
			l.targets = l.targets[:maxTargets]
		}
		lv := klaxonv1alpha1.EscalationLevel{Targets: l.targets}
		if after := l.after + carry; len(out) > 0 {
			lv.After = &metav1.Duration{Duration: max(after, time.Minute)}
			if after <= 0 {
				notes.approx("level %d follows the one before without a wait; Klaxon waits at least a minute", len(out)+1)
			}
		} else if after > 0 {
			notes.approx("it waits %s before its first notification; Klaxon pages the first level at once", after)
		}
		carry = 0
		out = append(out, lv)
	}
	switch {
	case len(out) == 0:
		e.Outcome = importer.NotMapped
		notes.note("it pages nobody Klaxon can page: write its policy by hand")
		e.Notes = notes.notes
		return spec, e
	case len(out) > maxLevels:
		e.Outcome = importer.NotMapped
		notes.note("it has %d levels; Klaxon allows %d: merge levels by hand", len(out), maxLevels)
		e.Notes = notes.notes
		return spec, e
	}
	if spec.Repeat > 0 {
		// The wait after the last level is the pause before the chain runs
		// again.
		switch {
		case wait > 0:
			out[0].After = &metav1.Duration{Duration: wait}
		case len(out) == 1:
			out[0].After = &metav1.Duration{Duration: time.Minute}
			notes.approx("it repeats straight after its only level; Klaxon waits at least a minute before paging it again")
		default:
			notes.approx("it repeats straight after its last level; Klaxon waits the second level's after (%s) before the first is paged again", out[1].After.Duration)
		}
		notes.note("repeat_escalation runs it %d more times, as Grafana OnCall does", repeatTimes)
	}
	spec.Levels = out
	e.Notes = notes.notes
	if notes.approximated {
		e.Outcome = importer.Approximated
	}
	return spec, e
}

// addUser adds a person's target to the open level.
func (r *run) addUser(add func(klaxonv1alpha1.EscalationTarget), notes *noteList, step, id string) {
	name, ok := r.person(id)
	if !ok {
		notes.approx("%s: user %s is not among the users read: left out", step, importer.Quote(id))
		return
	}
	add(klaxonv1alpha1.EscalationTarget{User: name})
}

func deref(s *string) string {
	if s == nil {
		return "(none)"
	}
	return importer.Quote(*s)
}

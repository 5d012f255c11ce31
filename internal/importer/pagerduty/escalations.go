package pagerduty

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

const (
	// The bounds of an EscalationPolicy.
	maxLevels  = 10
	maxRepeat  = 10
	maxTargets = 16
	// maxDelay bounds the wait before a level: a month, far beyond any
	// real escalation, keeps the sum of ten waits in range.
	maxDelay = 30 * 24 * time.Hour
)

// mapPolicy maps an escalation policy: rule i becomes level i, and rule
// i's escalation_delay_in_minutes, the wait before the next rule, becomes
// level i+1's after; after the last rule PagerDuty loops to the first
// num_loops times, which is Klaxon's repeat with levels[0].after the last
// rule's delay.
func (m *mapper) mapPolicy(p *escalationPolicy) {
	e := importer.Entry{SourceKind: "escalation_policy", SourceID: p.ID, SourceName: p.Name}
	name, _ := m.names.Lookup(kindPolicy, p.ID)
	if note := m.nameNotes[kindPolicy+"/"+p.ID]; note != "" {
		e.Notes = append(e.Notes, note)
	}
	approximated := false
	note := func(approx bool, format string, args ...any) {
		e.Notes = append(e.Notes, fmt.Sprintf(format, args...))
		approximated = approximated || approx
	}
	rules := p.EscalationRules
	if len(rules) > maxLevels {
		note(true, "%d rules; a Klaxon policy has at most %d levels: rules %d to %d are left out, so escalation stops (or repeats) after rule %d",
			len(rules), maxLevels, maxLevels+1, len(rules), maxLevels)
		rules = rules[:maxLevels]
	}
	var spec klaxonv1alpha1.EscalationPolicySpec
	// wait is the time since the last level written was paged: the
	// delays of the rules since then, left-out rules included.
	var wait time.Duration
	// lead is the delay of the rules left out before the first level:
	// PagerDuty waits it before that level, Klaxon pages it at once, and
	// a loop waits it again before that level.
	var lead time.Duration
	for i := range rules {
		r := &rules[i]
		targets := m.targets(i+1, r, note)
		if s := r.strategy(); s == "round_robin" {
			note(true, "rule %d assigns round robin, one target after another; Klaxon pages all of the level's targets at once", i+1)
		}
		if len(targets) > 0 {
			level := klaxonv1alpha1.EscalationLevel{Targets: targets}
			if len(spec.Levels) > 0 {
				level.After = &metav1.Duration{Duration: wait}
			} else if wait > 0 {
				note(true, "rule %d is paged at once instead of after %s", i+1, span(wait))
				lead = wait
			}
			spec.Levels = append(spec.Levels, level)
			wait = 0
		} else {
			note(true, "rule %d has no target Klaxon can page: left out", i+1)
		}
		// Minutes are compared before they become a duration, which a
		// huge number would overflow.
		switch minutes := r.EscalationDelayInMinutes; {
		case minutes <= 0:
			note(true, "rule %d escalates after %d minutes; Klaxon waits at least a minute", i+1, minutes)
			wait += time.Minute
		case int64(minutes) > int64(maxDelay/time.Minute):
			note(true, "rule %d escalates after %d minutes; the import waits at most %s", i+1, minutes, maxDelay)
			wait += maxDelay
		default:
			wait += time.Duration(minutes) * time.Minute
		}
	}
	if len(spec.Levels) == 0 {
		e.Outcome = importer.NotMapped
		note(false, "no rule has a target Klaxon can page: write the policy by hand")
		m.report(e)
		return
	}
	switch {
	case p.NumLoops > maxRepeat:
		note(true, "num_loops %d: Klaxon repeats at most %d times", p.NumLoops, maxRepeat)
		spec.Repeat = maxRepeat
	case p.NumLoops > 0:
		spec.Repeat = int32(p.NumLoops)
	}
	if spec.Repeat > 0 {
		spec.Levels[0].After = &metav1.Duration{Duration: wait + lead}
	}
	e.Outcome = importer.Mapped
	if approximated {
		e.Outcome = importer.Approximated
	}
	m.add(&klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}, e)
}

// targets maps rule n's targets: users and schedules. PagerDuty's targets
// are users and schedules only, so a policy cannot refer to another one,
// and there is no loop to follow.
func (m *mapper) targets(n int, r *escalationRule, note func(bool, string, ...any)) []klaxonv1alpha1.EscalationTarget {
	var out []klaxonv1alpha1.EscalationTarget
	for _, t := range r.Targets {
		if len(out) == maxTargets {
			note(true, "rule %d has more than %d targets: the rest are left out", n, maxTargets)
			break
		}
		switch t.Type {
		case "user_reference", "user":
			if t.ID == "" {
				note(true, "rule %d names a user without an id: left out", n)
				continue
			}
			name := m.userName(t)
			if m.missing(t) {
				note(false, "rule %d pages user %s (%s), who is deactivated or deleted in PagerDuty: kept as %s, who has no Responder",
					n, importer.Quote(t.Summary), importer.Clip(t.ID, importer.MaxValue), name)
			}
			out = append(out, klaxonv1alpha1.EscalationTarget{User: name})
		case "schedule_reference", "schedule":
			name, ok := m.names.Lookup(kindSchedule, t.ID)
			if !ok || !m.schedules[t.ID] {
				note(true, "rule %d pages schedule %s (%s), which PagerDuty did not list: left out", n, importer.Quote(t.Summary), importer.Clip(t.ID, importer.MaxValue))
				continue
			}
			if m.result.Object(kindSchedule, name) == nil {
				note(true, "rule %d pages schedule %s, which was not mapped: create OnCallSchedule %s by hand", n, importer.Clip(t.ID, importer.MaxValue), name)
			}
			out = append(out, klaxonv1alpha1.EscalationTarget{Schedule: name})
		default:
			note(true, "rule %d targets %s %s (%s), which a Klaxon level cannot page: left out", n, importer.Clip(t.Type, importer.MaxValue), importer.Quote(t.Summary), importer.Clip(t.ID, importer.MaxValue))
		}
	}
	return out
}

// span writes a wait as people do: 30m, 1h30m, 2h.
func span(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "m0s")
	if s != d.String() {
		s += "m"
	}
	if t := strings.TrimSuffix(s, "h0m"); t != s {
		s = t + "h"
	}
	return s
}

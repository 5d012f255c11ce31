package opsgenie

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

// Bounds of an EscalationPolicy, as its CRD sets them.
const (
	maxLevels  = 10
	maxTargets = 16
	maxRepeat  = 10
)

// scheduleRef is a schedule as escalation rules name it: its Klaxon name
// when it was imported.
type scheduleRef struct {
	name     string
	imported bool
	label    string
}

// level is the rules of one delay.
type level struct {
	delay   time.Duration
	targets []klaxonv1alpha1.EscalationTarget
}

// mapEscalation maps an escalation's rules to levels. Opsgenie counts
// every rule's delay from the alert's creation and Klaxon each level's
// after from the previous level's page, so rules of one delay are one
// level and each after is the difference of two delays.
func mapEscalation(e escalation, schedules map[string]scheduleRef, p *people) (*klaxonv1alpha1.EscalationPolicySpec, notes, string) {
	var n notes
	if len(e.Rules) == 0 {
		return nil, n, "it has no rules"
	}
	var levels []level
	closedNoted := false
	for i, r := range e.Rules {
		label := fmt.Sprintf("rule %d", i+1)
		delay, err := r.Delay.duration()
		if err != nil {
			return nil, n, fmt.Sprintf("%s's delay: %v", label, err)
		}
		switch r.Condition {
		case "", "if-not-acked":
		case "if-not-closed":
			if !closedNoted {
				n.lost("its rules notify until the alert is closed (if-not-closed): Klaxon stops escalating at acknowledgement")
				closedNoted = true
			}
		default:
			n.lost("%s has the condition %s: taken as if-not-acked", label, importer.Quote(r.Condition))
		}
		target, ok := ruleTarget(r, label, schedules, p, &n)
		if !ok {
			continue
		}
		at := slices.IndexFunc(levels, func(l level) bool { return l.delay == delay })
		if at < 0 {
			levels = append(levels, level{delay: delay})
			at = len(levels) - 1
		}
		switch {
		case slices.Contains(levels[at].targets, target):
		case len(levels[at].targets) == maxTargets:
			n.lost("%s left out: a level pages at most %d targets", label, maxTargets)
		default:
			levels[at].targets = append(levels[at].targets, target)
		}
	}
	if len(levels) == 0 {
		return nil, n, "none of its rules could be mapped: " + importer.Clip(strings.Join(n.list, "; "), importer.MaxNote)
	}
	if len(levels) > maxLevels {
		return nil, n, fmt.Sprintf("its rules have %d different delays and a policy at most %d levels: merge rules by hand", len(levels), maxLevels)
	}
	slices.SortStableFunc(levels, func(a, b level) int { return int((a.delay - b.delay) / time.Second) })
	spec := &klaxonv1alpha1.EscalationPolicySpec{}
	if levels[0].delay > 0 {
		n.lost("its first rule waits %s after the alert is created: Klaxon pages the first level at once", levels[0].delay)
	}
	for i, l := range levels {
		kl := klaxonv1alpha1.EscalationLevel{Targets: l.targets}
		if i > 0 {
			kl.After = &metav1.Duration{Duration: l.delay - levels[i-1].delay}
		}
		spec.Levels = append(spec.Levels, kl)
	}
	mapRepeat(e.Repeat, spec, &n)
	return spec, n, ""
}

// ruleTarget is the target of one rule, or false with a note.
func ruleTarget(r escalationRule, label string, schedules map[string]scheduleRef, p *people, n *notes) (klaxonv1alpha1.EscalationTarget, bool) {
	switch r.Recipient.Type {
	case "user":
		name, ok := p.name(r.Recipient)
		if !ok {
			n.lost("%s left out: its recipient %s is none of the users read", label, describe(r.Recipient))
			return klaxonv1alpha1.EscalationTarget{}, false
		}
		return klaxonv1alpha1.EscalationTarget{User: name}, true
	case "schedule":
		ref, ok := schedules[r.Recipient.ID]
		if !ok {
			ref, ok = schedules["name:"+r.Recipient.Name]
		}
		switch {
		case !ok:
			n.lost("%s left out: its recipient %s is none of the schedules read", label, describe(r.Recipient))
			return klaxonv1alpha1.EscalationTarget{}, false
		case !ref.imported:
			n.lost("%s pages schedule %s, which was not imported: the policy waits for an OnCallSchedule %s, which you write by hand", label, ref.label, ref.name)
		}
		switch r.NotifyType {
		case "", "default":
		case "next", "previous":
			n.lost("%s pages the %s on-call of schedule %s: Klaxon pages who is on call now", label, r.NotifyType, ref.label)
		case "all":
			n.lost("%s pages every participant of schedule %s: Klaxon pages who is on call now", label, ref.label)
		default:
			n.lost("%s has the notifyType %s: Klaxon pages who is on call now", label, importer.Quote(r.NotifyType))
		}
		return klaxonv1alpha1.EscalationTarget{Schedule: ref.name}, true
	default:
		n.lost("%s left out: it notifies %s, and Klaxon pages schedules and people: page the team's schedule or people instead", label, describe(r.Recipient))
		return klaxonv1alpha1.EscalationTarget{}, false
	}
}

// mapRepeat maps Opsgenie's repeat: after waitInterval minutes past the
// last rule, the rules run again, count times. Klaxon's first level's
// after is that wait.
func mapRepeat(r *escalationRepeat, spec *klaxonv1alpha1.EscalationPolicySpec, n *notes) {
	if r == nil || r.WaitInterval == 0 {
		// A waitInterval of 0 is how Opsgenie turns repeating off.
		return
	}
	wait, err := timeAmount{TimeAmount: r.WaitInterval}.duration()
	if err != nil {
		n.lost("its repeat waits %d minutes: %v; left out", r.WaitInterval, err)
		return
	}
	count := r.Count
	if count < 1 {
		count = 1
	}
	if count > maxRepeat {
		n.lost("it repeats %d times: Klaxon repeats at most %d", count, maxRepeat)
		count = maxRepeat
	}
	spec.Repeat = int32(count)
	spec.Levels[0].After = &metav1.Duration{Duration: wait}
	if r.ResetRecipientStates {
		n.info("its repeat resets the recipients' states (resetRecipientStates): Klaxon's repeats follow an incident nobody acknowledged, so there is nothing to reset")
	}
	if r.CloseAlertAfterAll {
		n.lost("it closes the alert after the last repeat (closeAlertAfterAll): Klaxon leaves the incident open and says escalation is exhausted")
	}
}

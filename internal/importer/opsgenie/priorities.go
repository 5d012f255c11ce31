package opsgenie

import (
	"fmt"
	"strings"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

// priorities is a set of Opsgenie alert priorities, P1 (bit 1) to P5
// (bit 5).
type priorities uint8

const allPriorities priorities = 0b111110

func (p priorities) has(n int) bool { return p&(1<<n) != 0 }

func (p priorities) String() string {
	var out []string
	for i := 1; i <= 5; i++ {
		if p.has(i) {
			out = append(out, fmt.Sprintf("P%d", i))
		}
	}
	return strings.Join(out, ", ")
}

// severities are the Klaxon severities of p: P1 to P3 are SEV1 to SEV3,
// P4 and P5 are SEV4. All four are nil: a rule without severities applies
// to every one.
func (p priorities) severities() []klaxonv1alpha1.Severity {
	sevs := []klaxonv1alpha1.Severity{klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.SeverityHigh, klaxonv1alpha1.SeverityModerate}
	var out []klaxonv1alpha1.Severity
	for i, s := range sevs {
		if p.has(i + 1) {
			out = append(out, s)
		}
	}
	if p.has(4) || p.has(5) {
		out = append(out, klaxonv1alpha1.SeverityLow)
	}
	if len(out) == 4 {
		return nil
	}
	return out
}

// parsePriority reads "P1" to "P5".
func parsePriority(s string) (priorities, bool) {
	if len(s) == 2 && (s[0] == 'P' || s[0] == 'p') && s[1] >= '1' && s[1] <= '5' {
		return 1 << (s[1] - '0'), true
	}
	return 0, false
}

// criteriaSet returns the priorities a rule's criteria match, and whether
// that is exactly what they match. Conditions on anything but the
// priority cannot be told apart by Klaxon: they are taken to match every
// alert, with a note.
func criteriaSet(c *criteria, label string, n *notes) (priorities, bool) {
	if c == nil || c.Type == "" || c.Type == "match-all" {
		return allPriorities, true
	}
	var anyOf bool
	switch c.Type {
	case "match-any-condition":
		anyOf = true
	case "match-all-conditions":
	default:
		n.lost("%s has criteria of type %s: taken to match every alert", label, importer.Quote(c.Type))
		return allPriorities, false
	}
	var set priorities
	exact := true
	if !anyOf {
		set = allPriorities
	}
	for _, cond := range c.Conditions {
		match, ok := conditionSet(cond)
		switch {
		case ok:
		case cond.Field == "priority":
			n.lost("%s: the condition priority %s %s not mapped (only equals P1 to P5 maps to severities): taken to match every alert", label, importer.Clip(cond.Operation, importer.MaxValue), importer.Quote(cond.ExpectedValue))
			match, exact = allPriorities, false
		default:
			n.lost("%s: the condition on %s not mapped (Klaxon's rules choose by severity only): taken to match every alert", label, importer.Quote(cond.Field))
			match, exact = allPriorities, false
		}
		if anyOf {
			set |= match
		} else {
			set &= match
		}
	}
	return set, exact
}

// conditionSet returns the priorities an equality condition on the
// priority matches.
func conditionSet(c condition) (priorities, bool) {
	if c.Field != "priority" || c.Operation != "equals" {
		return 0, false
	}
	p, ok := parsePriority(c.ExpectedValue)
	if !ok {
		return 0, false
	}
	if c.Not {
		return allPriorities &^ p, true
	}
	return p, true
}

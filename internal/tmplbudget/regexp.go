package tmplbudget

import (
	"fmt"
	"regexp/syntax"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// RegexpCost is what a regular expression costs: Size, about the
// instructions of its compiled program, which matching is linear in; and
// Compile, the work of parsing and compiling it (see compileCost), which
// Alertmanager pays at every call of match and reReplaceAll.
type RegexpCost struct {
	Size, Compile int
}

// CheckRegexp measures the regular expression fn (match or reReplaceAll)
// is given: it refuses expressions that are long, whose compiled form is
// large (a{1000}{1000} is short) or costly to build (a few Unicode classes
// expand to thousands of ranges) with an error of kind ErrBudget, and
// invalid ones with a plain error.
func CheckRegexp(fn, pattern string) (RegexpCost, error) {
	if len(pattern) > MaxRegexpLength {
		return RegexpCost{}, overBudget("the regular expression of %s is %d bytes long; at most %d are allowed", fn, len(pattern), MaxRegexpLength)
	}
	parsed, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return RegexpCost{}, fmt.Errorf("the regular expression %q of %s is invalid: %w", bounded.Runes(pattern, 40), fn, err)
	}
	m := regexpMeasure(parsed)
	if m.insts > MaxRegexpSize {
		return RegexpCost{}, overBudget("the regular expression %q of %s is too complex (its repeats multiply to more than %d instructions); simplify it", bounded.Runes(pattern, 40), fn, MaxRegexpSize)
	}
	cost := RegexpCost{Size: m.insts, Compile: compileCost(len(pattern), m)}
	if cost.Compile > MaxRegexpCompile {
		return RegexpCost{}, overBudget("the regular expression %q of %s is too costly to compile (%d units, at most %d: its character classes, Unicode ones such as \\p{L} in particular, span %d ranges); use smaller classes or fewer repeats of them", bounded.Runes(pattern, 40), fn, cost.Compile, MaxRegexpCompile, m.ranges)
	}
	return cost, nil
}

// compileCost bounds the work of syntax.Parse and regexp.Compile on an
// expression of n bytes: a share for each instruction, and for each range
// of each character class the program holds (repeats copy them; anchored
// expressions copy them again for the one-pass matcher), and, for parsing,
// which merges and sorts classes as it reads them (an alternation of
// eighty \p{L} becomes one class, after eighty merges), the length times
// the largest class. Measured, a unit is at most about 30 ns and
// RegexpCompileBytes allocated (see TestRegexpCompileCost).
func compileCost(n int, m measure) int {
	return satInt(64*m.insts + 2*m.ranges + n*(1+m.maxClass))
}

func satInt(n int) int { return min(n, saturationInt) }

const saturationInt = 1 << 40

// measure is what regexpMeasure finds in a parsed expression: its
// instructions and class ranges as the compiled program holds them
// (repeats expanded), stopping past MaxRegexpSize instructions, and the
// ranges of its largest class.
type measure struct {
	insts, ranges, maxClass int
}

// regexpMeasure measures re as syntax.Compile expands repeats.
func regexpMeasure(re *syntax.Regexp) measure {
	switch re.Op {
	case syntax.OpLiteral:
		return measure{insts: max(len(re.Rune), 1)}
	case syntax.OpCharClass:
		r := len(re.Rune) / 2
		return measure{insts: 1, ranges: r, maxClass: r}
	case syntax.OpRepeat:
		sub := regexpMeasure(re.Sub[0])
		n := re.Max
		if n < 0 {
			n = re.Min + 1
		}
		if n > 0 && sub.insts > MaxRegexpSize/n {
			return measure{insts: MaxRegexpSize + 1, ranges: sub.ranges, maxClass: sub.maxClass}
		}
		return measure{insts: 1 + n*sub.insts, ranges: satInt(n * sub.ranges), maxClass: sub.maxClass}
	default:
	}
	m := measure{insts: 1}
	for _, sub := range re.Sub {
		s := regexpMeasure(sub)
		m.insts += s.insts
		m.ranges = satInt(m.ranges + s.ranges)
		m.maxClass = max(m.maxClass, s.maxClass)
		if m.insts > MaxRegexpSize {
			return m
		}
	}
	return m
}

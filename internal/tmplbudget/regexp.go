package tmplbudget

import (
	"fmt"
	"regexp/syntax"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// CheckRegexp measures the regular expression fn (match or reReplaceAll)
// is given: it refuses expressions that are long or whose compiled form is
// large (a{1000}{1000} is short) with an error of kind ErrBudget, and
// invalid ones with a plain error. size is about the instructions of the
// compiled program, which matching is linear in.
func CheckRegexp(fn, pattern string) (size int, err error) {
	if len(pattern) > MaxRegexpLength {
		return 0, overBudget("the regular expression of %s is %d bytes long; at most %d are allowed", fn, len(pattern), MaxRegexpLength)
	}
	parsed, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, fmt.Errorf("the regular expression %q of %s is invalid: %w", bounded.Runes(pattern, 40), fn, err)
	}
	size = regexpSize(parsed)
	if size > MaxRegexpSize {
		return 0, overBudget("the regular expression %q of %s is too complex (its repeats multiply to more than %d instructions); simplify it", bounded.Runes(pattern, 40), fn, MaxRegexpSize)
	}
	return size, nil
}

// regexpSize estimates the instructions of re's compiled program, as
// syntax.Compile expands repeats, stopping past MaxRegexpSize.
func regexpSize(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return max(len(re.Rune), 1)
	case syntax.OpRepeat:
		sub := regexpSize(re.Sub[0])
		n := re.Max
		if n < 0 {
			n = re.Min + 1
		}
		if n > 0 && sub > MaxRegexpSize/n {
			return MaxRegexpSize + 1
		}
		return 1 + n*sub
	default:
	}
	n := 1
	for _, sub := range re.Sub {
		n += regexpSize(sub)
		if n > MaxRegexpSize {
			return n
		}
	}
	return n
}

package tmplbudget

import (
	"errors"
	"fmt"
)

// Limits both modes apply to what a template writes as literals.
const (
	// MaxFormatWidth bounds a width or precision in a printf format, which
	// is otherwise a way to allocate any amount of padding (fmt accepts up
	// to a million per verb). Titles and notification texts are lines a
	// person reads: no column of them needs more than 64 characters of
	// padding, and a small cap keeps the static bound of a format close to
	// what it prints, so ordinary receiver templates keep their room.
	MaxFormatWidth = 64
	// MaxRegexpLength and MaxRegexpSize bound the regular expressions of
	// match and reReplaceAll: their length and their compiled size
	// (roughly, in instructions; nested repeats multiply it).
	MaxRegexpLength = 512
	MaxRegexpSize   = 1000
	// MaxRegexpCompile bounds the cost of compiling one of them (see
	// compileCost): about 4 ms and 4 MiB, room for a class such as
	// [\p{L}\p{N}] repeated up to about sixty times.
	MaxRegexpCompile = 1 << 17
	// MaxRegexpCalls bounds the calls of match and reReplaceAll in one
	// render (metered) or one receiver block (static, each call counted
	// once per iteration of the ranges around it): even a cached or cheap
	// expression has a fixed cost per call.
	MaxRegexpCalls = 256
	// RegexpCompileBytes is what the static check charges a call per unit
	// of compile cost, in the bytes its budgets count: about what
	// compiling allocates.
	RegexpCompileBytes = 32
)

// ErrBudget is the kind (errors.Is) of every error that refuses or stops a
// template for asking more than its budget.
var ErrBudget = errors.New("template exceeds its budget")

// budgetError is an error of kind ErrBudget with its own message.
type budgetError struct{ msg string }

func (e budgetError) Error() string        { return e.msg }
func (e budgetError) Is(target error) bool { return target == ErrBudget }

// overBudget returns an error of kind ErrBudget.
func overBudget(format string, args ...any) error {
	return budgetError{msg: fmt.Sprintf(format, args...)}
}

package tmplbudget

import (
	"errors"
	"strings"
	"testing"
)

// classPattern is one of the expressions the finding used: a few hundred
// bytes of Unicode classes, which parse merges into one class of about one
// instruction but which take milliseconds and megabytes to compile.
var classPattern = "(?i)" + strings.Repeat(`\p{L}|`, 80) + "x"

// findingBlock is the shape of the receiver block that passed the static
// check and kept a send busy for 22.8 s: a few kilobytes of match calls,
// each compiling the pattern again, inside two ranges over the labels.
func findingBlock() []string {
	call := `{{ match "` + strings.ReplaceAll(classPattern, `\`, `\\`) + `" "" }}`
	text := `{{ range .CommonLabels }}{{ range $.CommonLabels }}` + strings.Repeat(call, 3) + `{{ end }}{{ end }}`
	return []string{text, text, text, text}
}

// TestStaticRegexpCompileCost: the static check charges each call of
// match and reReplaceAll the cost of compiling its expression, which
// Alertmanager does at every call, so the finding's block is refused.
func TestStaticRegexpCompileCost(t *testing.T) {
	b := &Static{}
	var err error
	for _, text := range findingBlock() {
		if err = b.Check(text); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("the finding's block: %v with a total of %d, want an error of the budget", err, b.Total())
	}
}

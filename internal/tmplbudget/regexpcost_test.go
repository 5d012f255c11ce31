package tmplbudget

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
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

// TestRegexpCompileCost: compileCost bounds what compiling allocates, at
// RegexpCompileBytes a unit, for accepted expressions of every shape, and
// refuses the Unicode-class expressions of the finding.
func TestRegexpCompileCost(t *testing.T) {
	accepted := []string{
		`\p{L}`, `(?i)\p{L}`, `^\p{L}$`, `[\p{Greek}\p{Han}\p{L}\p{N}\p{P}\p{S}]`,
		`^[\p{L}\p{N}_.-]+$`, `(?i)^[\p{L}\p{N}]{1,64}$`, `^\PL{10}-\pN{1,20}$`,
		`a{999}`, `^(?:ab){300}$`, `^(?:[a-z]{1,9}\.){1,20}$`, `(?i)down|unreachable`,
		`^(\w+)\s*=\s*(.*)$`, `(?i)^` + strings.Repeat(`[a-z]`, 100) + `$`,
		`^(?:` + strings.Repeat(`\pL\pN|`, 20) + `x)$`,
	}
	for _, pattern := range accepted {
		cost, err := CheckRegexp("match", pattern)
		if err != nil {
			t.Errorf("CheckRegexp(%.30q) = %v", pattern, err)
			continue
		}
		if alloc := compileAlloc(pattern); alloc > uint64(RegexpCompileBytes*cost.Compile) {
			t.Errorf("compiling %.30q allocates %d bytes, more than its cost of %d units allows", pattern, alloc, cost.Compile)
		}
	}
	refused := []string{
		classPattern,
		`^(?:[\p{L}\p{N}]{30}){30}$`,
		strings.Repeat(`[\p{L}\p{N}]x|`, 36) + `x`,
		`^(?:` + strings.Repeat(`\pL\pN|`, 70) + `x)$`,
		strings.Repeat(`\pL`, 170),
		`^(?:\pL|\pN){499}$`,
	}
	for _, pattern := range refused {
		if _, err := CheckRegexp("match", pattern); !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "too costly to compile") {
			t.Errorf("CheckRegexp(%.30q) = %v, want it too costly to compile", pattern, err)
		}
	}
}

// compileAlloc is what compiling pattern allocates, the least of three
// tries (a background allocation may land in one).
func compileAlloc(pattern string) uint64 {
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		regexp.MustCompile(pattern)
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestStaticRegexpCalls: a block calls match and reReplaceAll at most
// MaxRegexpCalls times, each call counted once per iteration of the ranges
// around it, across the strings of the block.
func TestStaticRegexpCalls(t *testing.T) {
	loop := `{{ range .CommonLabels }}{{ range $.CommonLabels }}{{ match "a" . }}{{ end }}{{ end }}`
	b := &Static{}
	if err := b.Check(loop); err != nil {
		t.Fatalf("%d calls: %v", StaticPairs*StaticPairs, err)
	}
	if err := b.Check(`{{ reReplaceAll "a" "b" .Status }}`); !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "more than 256 times") {
		t.Errorf("call %d of the block: %v, want it refused", StaticPairs*StaticPairs+1, err)
	}
	if err := (&Static{}).Check(loop + `{{ match "b" .Status }}`); !errors.Is(err, ErrBudget) {
		t.Errorf("a string of %d calls: %v, want it refused", StaticPairs*StaticPairs+1, err)
	}
}

// TestRegexpCache: titles share compiled expressions across renders, and
// the cache stays within its bounds of count and compile cost.
func TestRegexpCache(t *testing.T) {
	first, err := compiled.get("match", `^[\p{L}\p{N}_.-]+$`)
	if err != nil {
		t.Fatal(err)
	}
	again, err := compiled.get("match", `^[\p{L}\p{N}_.-]+$`)
	if err != nil || again.re != first.re {
		t.Errorf("the second get compiled again (%v)", err)
	}
	var c regexpCache
	for i := range maxCachedRegexps + 10 {
		if _, err := c.get("match", fmt.Sprintf(`^\p{L}{%d}x{%d}$`, i%16+1, i)); err != nil {
			t.Fatal(err)
		}
		if n, cost := c.len(); n > maxCachedRegexps || cost > maxCachedCompile {
			t.Fatalf("the cache holds %d expressions of cost %d", n, cost)
		}
	}
	if _, err := c.get("match", classPattern); !errors.Is(err, ErrBudget) {
		t.Errorf("the cache compiled a pattern CheckRegexp refuses: %v", err)
	}
}

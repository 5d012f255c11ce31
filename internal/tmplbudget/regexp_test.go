package tmplbudget

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckRegexp(t *testing.T) {
	for pattern, tc := range map[string]struct {
		budget bool
		says   string
	}{
		"(?i)down|unreachable":         {},
		"a{900}":                       {},
		"a{1000}":                      {budget: true, says: "too complex"},
		"a{1000}b{1000}":               {budget: true, says: "too complex"},
		"(abcdefgh){150}":              {budget: true, says: "too complex"},
		strings.Repeat("a", 513):       {budget: true, says: "513 bytes long"},
		"(":                            {says: "is invalid"},
		`\p{Greek}+[^\x00-\x{10FFFF}]`: {},
	} {
		cost, err := CheckRegexp("match", pattern)
		switch {
		case tc.says == "" && (err != nil || cost.Size < 1 || cost.Size > MaxRegexpSize):
			t.Errorf("CheckRegexp(%.20q) = %d, %v", pattern, cost.Size, err)
		case tc.says != "" && (err == nil || errors.Is(err, ErrBudget) != tc.budget || !strings.Contains(err.Error(), tc.says)):
			t.Errorf("CheckRegexp(%.20q) = %v, want an error saying %q (budget %v)", pattern, err, tc.says, tc.budget)
		}
	}
}

package tmplbudget

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestMeterFuncs: every function of a metered template charges its work
// and refuses what would go past the budget.
func TestMeterFuncs(t *testing.T) {
	t.Run("every Alertmanager function has a budgeted version", func(t *testing.T) {
		funcs := NewMeter(nil).Funcs()
		for name := range meteredFuncs {
			if _, ok := funcs[name]; !ok {
				t.Errorf("%s has no budgeted version: it is unavailable in titles", name)
			}
		}
	})

	st := NewMeter(nil)
	funcs := st.Funcs()
	printf := funcs["printf"].(func(string, ...any) (string, error))
	join := funcs["join"].(func(string, []string) (string, error))
	replace := funcs["reReplaceAll"].(func(string, string, string) (string, error))
	match := funcs["match"].(func(string, string) (bool, error))
	toUpper := funcs["toUpper"].(func(string) (string, error))
	big := strings.Repeat("x", MaxString)
	cases := map[string]struct {
		call func() error
		says string
	}{
		"printf width":                   {func() error { _, err := printf("%65d", 1); return err }, "over 64"},
		"printf star":                    {func() error { _, err := printf("%-*d", 5, 1); return err }, "(*)"},
		"printf doubling past the limit": {func() error { _, err := printf("%s%s", big, big); return err }, "would print more than 4096 bytes"},
		"printf quoting past the limit":  {func() error { _, err := printf("%q", strings.Repeat("\x00", 2000)); return err }, "would return 8002 bytes"},
		"printf of a deep value":         {func() error { _, err := printf("%v", [][][][][][][][][][]int{{{{{{{{{{1}}}}}}}}}}); return err }, "prints as more than"},
		"join past the limit":            {func() error { _, err := join(big, []string{"a", "b"}); return err }, "join would return more than"},
		"argument too long":              {func() error { _, err := toUpper(big + "x"); return err }, "argument 1 of toUpper is 4097 bytes long"},
		"empty matches everywhere":       {func() error { _, err := replace("", "$0$0", big[:3000]); return err }, "would return more than"},
		"long expression":                {func() error { _, err := match(strings.Repeat("a", 513), "a"); return err }, "513 bytes long"},
		"complex expression":             {func() error { _, err := match("a{1000}b{1000}", "a"); return err }, "too complex"},
		"expression costly to compile":   {func() error { _, err := match(classPattern, ""); return err }, "too costly to compile"},
		"compile cost in all": {func() error {
			for i := range 5 {
				if _, err := match(fmt.Sprintf(`(?i)^[\p{L}\p{N}]{1,6%d}$`, i), ""); err != nil {
					return err
				}
			}
			return nil
		}, "compile cost of the regular expressions of one render past 524288 units"},
		"calls in all": {func() error {
			for range MaxRegexpCalls + 1 {
				if _, err := match("a", "a"); err != nil {
					return err
				}
			}
			return nil
		}, "more than 256 times in one render"},
		"matching work": {func() error {
			for range 1000 {
				if _, err := match("(x+x+)+y", big); err != nil {
					return err
				}
			}
			return nil
		}, "regular expression matching past its budget"},
		"many expressions": {func() error {
			for i := range MaxRegexps + 1 {
				if _, err := match(fmt.Sprintf("a%d", i), "a"); err != nil {
					return err
				}
			}
			return nil
		}, "more than 16 different regular expressions"},
		"bytes in all": {func() error {
			for range MaxFunctionText/len(big)/2 + 1 {
				if _, err := toUpper(big); err != nil {
					return err
				}
			}
			return nil
		}, "past 262144 bytes"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st.Reset()
			err := tc.call()
			if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error = %v, want one of the budget saying %q", err, tc.says)
			}
			if st.text > MaxFunctionText || st.regexpWork > MaxRegexpWork || st.regexpCalls > MaxRegexpCalls || st.regexpCompile > MaxRegexpCompileWork {
				t.Errorf("state %+v over budget", st)
			}
		})
	}
}

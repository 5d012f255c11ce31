package tmplbudget

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCheckFormat(t *testing.T) {
	for format, says := range map[string]string{
		"%s":                 "",
		"%64d":               "",
		"%-10.3f|%+q|%#x":    "",
		"%[1]s %[1]q":        "",
		"100%% and %064d":    "",
		"%":                  "",
		"%65d":               "width or precision over 64",
		"%.65f":              "width or precision over 64",
		"%0999999999d":       "width or precision over 64",
		"%[1]0999999d":       "width or precision over 64",
		"%*d":                "from an argument (*)",
		"%-*d":               "from an argument (*)",
		"%.*f":               "from an argument (*)",
		"%[2]*[1]d":          "from an argument (*)",
		"ok %s then %99999s": "width or precision over 64",
	} {
		err := CheckFormat(format)
		switch {
		case says == "" && err != nil:
			t.Errorf("CheckFormat(%q) = %v, want nil", format, err)
		case says != "" && (!errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), says)):
			t.Errorf("CheckFormat(%q) = %v, want an error of the budget saying %q", format, err, says)
		}
	}
}

// TestFormatBound runs fmt over formats CheckFormat accepts, with arguments
// as long as their bounds: what it prints stays within FormatBound.
func TestFormatBound(t *testing.T) {
	hostile := strings.Repeat("\x00\"\\é", 64)
	for _, tc := range []struct {
		format string
		args   []any
	}{
		{"%s", []any{"plain"}},
		{"%q", []any{hostile}},
		{"%x %X", []any{hostile, hostile}},
		{"%64s|%-64.64q", []any{"a", hostile}},
		{"%064d %64.64f", []any{-1 << 62, 1e300}},
		{"%v %v", []any{[]string{hostile, hostile}}},
		{"%s", []any{"a", "extra", hostile}},
		{"100%% %5% %[2]s %[1]s", []any{hostile, "b"}},
		{"%!", nil},
		{"%d", nil},
	} {
		sizes := make([]int64, 0, len(tc.args))
		for _, a := range tc.args {
			sizes = append(sizes, int64(len(fmt.Sprint(a))))
		}
		if err := CheckFormat(tc.format); err != nil {
			t.Fatalf("CheckFormat(%q): %v", tc.format, err)
		}
		out := fmt.Sprintf(tc.format, tc.args...)
		if bound := FormatBound(tc.format, sizes); int64(len(out)) > bound {
			t.Errorf("Sprintf(%q) printed %d bytes, more than the bound %d", tc.format, len(out), bound)
		}
	}
}

package tmplbudget

import (
	"errors"
	"strings"
	"testing"
)

// TestStatic: the static check applies the same printf and regexp policy
// as the meter, and bounds the rest by the data's types. Receiver blocks
// are tested against Alertmanager's real data in internal/notify/alertmanager.
func TestStatic(t *testing.T) {
	for text, says := range map[string]string{
		`{{ .CommonLabels.alertname }}: {{ range .Alerts }}{{ .Annotations.summary }}{{ end }}`: "",
		`{{ printf "%-64s|%.3s" .Status .ExternalURL }}`:                                        "",
		`{{ reReplaceAll "a+" "b" .Status }}`:                                                   "",
		`not a template {{`:                                                                     "",
		`{{ printf "%65s" .Status }}`:                                                           "width or precision over 64",
		`{{ printf "%*s" 9 .Status }}`:                                                          "from an argument (*)",
		`{{ match "a{1000}b{1000}" .Status }}`:                                                  "too complex",
		`{{ match "(" .Status }}`:                                                               "is invalid",
		`{{ range 10 }}{{ end }}`:                                                               `it ranges over "10"`,
		`{{ template "__subject" . }}`:                                                          "not one of Alertmanager's default templates",
		`{{ call .Status }}`:                                                                    "it uses call",
		// Sixteen million iterations that print nothing.
		`{{range .CommonLabels}}` + strings.Repeat(`{{range $.CommonLabels}}`, 5) + strings.Repeat(`{{end}}`, 6): "it could produce",
	} {
		b := &Static{}
		err := b.Check(text)
		switch {
		case says == "" && (err != nil || (strings.Contains(text, "}}") && b.Total() <= 0)):
			t.Errorf("Check(%q) = %v with a total of %d", text, err, b.Total())
		case says != "" && (err == nil || !strings.Contains(err.Error(), says)):
			t.Errorf("Check(%q) = %v, want an error saying %q", text, err, says)
		}
	}
	if err := (&Static{}).Check(`{{ printf "%65s" .Status }}`); !errors.Is(err, ErrBudget) {
		t.Errorf("a printf over the policy is not an error of the budget: %v", err)
	}
}

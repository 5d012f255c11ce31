package silence

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/alertmanager/pkg/labels"
)

// parseMatchers is Alertmanager's default matcher parser, as its routes
// and amtool use.
var parseMatchers = compat.FallbackMatchersParser(slog.New(slog.DiscardHandler))

// ParseMatchers parses matchers written in Alertmanager's syntax, such as
// alertname="Watchdog" or env=~"prod|staging", at path (spec.matchers);
// the error names the entry at fault.
func ParseMatchers(path string, written []string) (labels.Matchers, error) {
	var out labels.Matchers
	for i, m := range written {
		if strings.TrimSpace(m) == "" {
			return nil, fmt.Errorf("%s[%d] is empty: write a matcher such as alertname=\"Watchdog\" or remove the entry", path, i)
		}
		ms, err := parseMatchers(m, "klaxon")
		if err != nil {
			return nil, fmt.Errorf("%s[%d] %q is not a valid Alertmanager matcher: %w", path, i, m, err)
		}
		if len(ms) == 0 {
			return nil, fmt.Errorf("%s[%d] %q holds no matcher: write one such as alertname=\"Watchdog\" or remove the entry", path, i, m)
		}
		out = append(out, ms...)
	}
	return out, nil
}

// ErrSilencesAll is why matchers cannot make a silence: every one of them
// matches an alert without the label, so the silence would hold alerts
// that have nothing to do with it. Alertmanager refuses such silences.
var ErrSilencesAll = errors.New("every matcher matches an empty label value; at least one must not, or the silence would hold unrelated alerts")

// ForSilence parses the matchers of a silence Klaxon keeps for a
// maintenance window: ParseMatchers, and ErrSilencesAll when none of them
// needs its label.
func ForSilence(path string, written []string) (labels.Matchers, error) {
	ms, err := ParseMatchers(path, written)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if !m.Matches("") {
			return ms, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", path, ErrSilencesAll)
}

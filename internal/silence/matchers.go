package silence

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/alertmanager/pkg/labels"
)

// parseMatchers is Alertmanager's default matcher parser, as its routes
// and amtool use.
var parseMatchers = compat.FallbackMatchersParser(slog.New(slog.DiscardHandler))

// ParseMatchers parses matchers written in Alertmanager's syntax, such as
// alertname="Watchdog" or env=~"prod|staging", at path (spec.matchers);
// the error names the entry at fault. It refuses the matchers the parser
// takes but Alertmanager refuses in a silence (see silenceable).
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
		if err := silenceable(ms); err != nil {
			return nil, fmt.Errorf("%s[%d] %q %w", path, i, m, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

// silenceable refuses what the parser takes but Alertmanager refuses in a
// silence: a quoted empty label name, a name or value that is not UTF-8,
// and a regex that compiles only once anchored, such as x)|(y, which would
// match more than it says.
func silenceable(ms labels.Matchers) error {
	for _, m := range ms {
		if m.Name == "" {
			return errors.New("has an empty label name: name the label, such as alertname=\"Watchdog\"")
		}
		if !utf8.ValidString(m.Name) || !utf8.ValidString(m.Value) {
			return errors.New("is not valid UTF-8")
		}
		if m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp {
			if _, err := regexp.Compile(m.Value); err != nil {
				return fmt.Errorf("has a regular expression that does not compile on its own: %w", err)
			}
		}
	}
	return nil
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

package silence

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
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

// ErrNoEquality is why a maintenance window's matchers cannot make a
// silence: none of them is an equality with a value, so they name no
// alerts, only patterns, and alertname=~".+" would silence every alert in
// the Alertmanager.
var ErrNoEquality = errors.New(`no matcher is an equality with a value, such as service="search": a window must name what it silences, and regular expressions or negative matchers alone could silence every alert in the Alertmanager`)

// ForWindow builds the matchers of the silence that mirrors a maintenance
// window: the window's own (written, at path), which ForSilence accepts and
// of which one at least is an equality with a value, and the matchers of
// the AlertRoute whose Alertmanager holds the silence (route, the route's
// spec.matchers, at routePath), so that the silence never matches an alert
// the route would not take.
func ForWindow(path string, written []string, routePath string, route []string) (labels.Matchers, error) {
	own, err := ForSilence(path, written)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(own, func(m *labels.Matcher) bool { return m.Type == labels.MatchEqual && m.Value != "" }) {
		return nil, fmt.Errorf("%s: %w", path, ErrNoEquality)
	}
	theirs, err := ParseMatchers(routePath, route)
	if err != nil {
		return nil, err
	}
	if n := len(own) + len(theirs); n > maxMatchers {
		return nil, fmt.Errorf("%s with the %d matchers of %s makes %d matchers, more than the %d a silence may have", path, len(theirs), routePath, n, maxMatchers)
	}
	return append(own, theirs...), nil
}

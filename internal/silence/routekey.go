package silence

import (
	"fmt"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// routeMatchers parses the route part of a group key, such as
// {}/{team="payments"}/{severity=~"critical|page"}: the matchers of each
// route on the way from the root to the route that grouped the alerts,
// joined by slashes. An alert reaches a route only by matching all of them.
func routeMatchers(routeKey string) (labels.Matchers, error) {
	var out labels.Matchers
	for rest := routeKey; ; {
		set, tail, ok := cutMatcherSet(rest)
		if !ok {
			return nil, fmt.Errorf("cannot read the route matchers %q of the group key", clip(routeKey, 200))
		}
		if set != "{}" {
			ms, err := parseMatchers(set, "klaxon")
			if err != nil {
				return nil, fmt.Errorf("cannot read the route matchers %q of the group key: %w", clip(set, 200), err)
			}
			if err := silenceable(ms); err != nil {
				return nil, fmt.Errorf("the route matchers %q of the group key %w", clip(set, 200), err)
			}
			out = append(out, ms...)
		}
		if tail == "" {
			return out, nil
		}
		if tail[0] != '/' {
			return nil, fmt.Errorf("cannot read the route matchers %q of the group key", clip(routeKey, 200))
		}
		rest = tail[1:]
	}
}

// cutMatcherSet cuts the leading {...} off s; a brace inside a quoted
// value, where a backslash escapes a quote, does not end it.
func cutMatcherSet(s string) (set, rest string, ok bool) {
	if !strings.HasPrefix(s, "{") {
		return "", "", false
	}
	quoted, escaped := false, false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == '}':
			return s[:i+1], s[i+1:], true
		}
	}
	return "", "", false
}

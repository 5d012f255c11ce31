// Package when reads the times people write on kubectl klaxon's command
// line. It is pure, so that it is tested and fuzzed on its own.
package when

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// MaxOffset bounds a relative time: nobody plans cover decades ahead, and a
// larger one would overflow time.Duration.
const MaxOffset = 3650 * 24 * time.Hour

// Parse reads a time written on the command line: "now"; an RFC 3339
// time; an offset from base, such as "+2h", "+1d12h" or "-30m"; or a
// local wall-clock time in loc, the schedule's zone, such as
// "2026-12-24T18:00" or "2026-12-24 18:00".
func Parse(s string, now, base time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-"):
		d, err := parseOffset(s)
		if err != nil {
			return time.Time{}, err
		}
		return base.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := oncall.ParseLocal(s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: write now, an offset such as +2h or +1d, an RFC 3339 time such as 2026-12-24T18:00:00Z, or a local time in %s such as 2026-12-24T18:00", s, loc)
}

// parseOffset reads a signed duration that may start with whole days,
// such as "+1d12h", "-30m" or "+2d".
func parseOffset(s string) (time.Duration, error) {
	sign, rest := time.Duration(1), s[1:]
	if rest == "" {
		return 0, fmt.Errorf("%q is not an offset: write one such as +2h, +90m or +1d12h", s)
	}
	if s[0] == '-' {
		sign = -1
	}
	var d time.Duration
	if days, after, ok := strings.Cut(rest, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > int(MaxOffset/(24*time.Hour)) {
			return 0, fmt.Errorf("%q is not an offset: write whole days before d, such as +2d or +1d12h", s)
		}
		d, rest = time.Duration(n)*24*time.Hour, after
	}
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil || more < 0 || strings.HasPrefix(rest, "+") {
			return 0, fmt.Errorf("%q is not an offset: write one such as +2h, +90m or +1d12h", s)
		}
		d += more
	}
	if d > MaxOffset {
		return 0, errors.New("an offset is at most ten years")
	}
	return sign * d, nil
}

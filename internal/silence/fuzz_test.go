package silence

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// FuzzParseMatchers parses up to three arbitrary entries as a spec's
// matchers. Whatever they are, nothing panics and:
//   - the entries parse as a whole exactly when each parses on its own, to
//     the matchers of each in turn, and otherwise the error names the first
//     entry that does not;
//   - every matcher has a type Alertmanager knows, a label name it accepts
//     (non-empty UTF-8), a UTF-8 value and, if a regex, one that compiles
//     as written;
//   - every matcher written back in Alertmanager's syntax, as the
//     controller writes its silence filter, parses to the same matcher;
//   - ForSilence gives the same matchers, or the same error, except that
//     it refuses with ErrSilencesAll exactly when every matcher matches
//     the empty label value.
func FuzzParseMatchers(f *testing.F) {
	f.Add(`alertname="Watchdog"`, "", "", uint8(1))
	f.Add(`service="checkout"`, `env=~"prod|staging"`, `team!="search"`, uint8(3))
	f.Add(`{team="payments", alertname!="Watchdog"}`, `severity!~"info|debug"`, "", uint8(2))
	f.Add(`env=~".*"`, `team!="search"`, "", uint8(2))
	f.Add(`env=~".*"`, `team=~".+"`, "", uint8(2))
	f.Add(`service=="checkout"`, "", "", uint8(1))
	f.Add(`service="checkout"`, " ", "", uint8(2))
	f.Add(`{}`, "", "", uint8(1))
	f.Add(`""="x"`, "", "", uint8(1))
	f.Add(`"foo bar"="x"`, `"a\"b"!="\n"`, `a=~"\\d+"`, uint8(3))
	f.Add(`a=~"("`, "", "", uint8(1))
	f.Add(`a=b c`, `{a=b}`, "a=\"\xff\"", uint8(3))
	f.Add("", "", "", uint8(0))
	f.Fuzz(func(t *testing.T, first, second, third string, n uint8) {
		const path = "spec.matchers"
		written := []string{first, second, third}[:n%4]

		var want labels.Matchers
		firstBad := -1
		for i, w := range written {
			ms, err := ParseMatchers(path, []string{w})
			if err != nil {
				firstBad = i
				break
			}
			if len(ms) == 0 {
				t.Fatalf("entry %q parsed to no matchers and no error", w)
			}
			want = append(want, ms...)
		}

		got, err := ParseMatchers(path, written)
		if firstBad >= 0 {
			if err == nil {
				t.Fatalf("%q parsed, though entry %d does not on its own", written, firstBad)
			}
			if got != nil {
				t.Fatalf("matchers %v returned with error %v", got, err)
			}
			if prefix := fmt.Sprintf("%s[%d] ", path, firstBad); !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("error %q does not begin with %q", err, prefix)
			}
		} else {
			if err != nil {
				t.Fatalf("%q: %v, though each entry parses on its own", written, err)
			}
			if !sameMatchers(got, want) {
				t.Fatalf("%q parsed to %v, want each entry's matchers in turn %v", written, got, want)
			}
		}

		for _, m := range got {
			checkMatcher(t, m)
		}

		silenced, serr := ForSilence(path, written)
		switch {
		case err != nil:
			if serr == nil || serr.Error() != err.Error() {
				t.Fatalf("ForSilence: %v, want ParseMatchers' error %v", serr, err)
			}
		case everyMatchesEmpty(got):
			if !errors.Is(serr, ErrSilencesAll) || silenced != nil {
				t.Fatalf("ForSilence(%v) = %v, %v; want ErrSilencesAll", got, silenced, serr)
			}
		default:
			if serr != nil || !sameMatchers(silenced, got) {
				t.Fatalf("ForSilence(%v) = %v, %v; want the same matchers", got, silenced, serr)
			}
		}
	})
}

// checkMatcher fails unless m is a matcher Alertmanager accepts in a
// silence and reads back from its rendering.
func checkMatcher(t *testing.T, m *labels.Matcher) {
	t.Helper()
	if m == nil {
		t.Fatal("nil matcher")
	}
	switch m.Type {
	case labels.MatchEqual, labels.MatchNotEqual, labels.MatchRegexp, labels.MatchNotRegexp:
	default:
		t.Fatalf("matcher %q has unknown type %d", m.Name, m.Type)
	}
	if m.Name == "" || !utf8.ValidString(m.Name) {
		t.Fatalf("matcher %v has label name %q, which Alertmanager refuses", m, m.Name)
	}
	if !utf8.ValidString(m.Value) {
		t.Fatalf("matcher %v has value %q, which is not UTF-8", m, m.Value)
	}
	if m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp {
		// Alertmanager compiles a silence's regex as written, unanchored.
		if _, err := regexp.Compile(m.Value); err != nil {
			t.Fatalf("regex matcher %v does not compile: %v", m, err)
		}
	}
	// Matches panics on a regex matcher that was never compiled.
	m.Matches("")

	rendered := m.String()
	again, err := ParseMatchers("filter", []string{rendered})
	if err != nil {
		t.Fatalf("matcher %+v renders as %q, which does not parse: %v", *m, rendered, err)
	}
	if !sameMatchers(again, labels.Matchers{m}) {
		t.Fatalf("matcher %+v renders as %q, which parses to %v", *m, rendered, again)
	}
}

func everyMatchesEmpty(ms labels.Matchers) bool {
	for _, m := range ms {
		if !m.Matches("") {
			return false
		}
	}
	return true
}

// sameMatchers compares type, name and value: the compiled regex inside a
// matcher has no meaningful equality.
func sameMatchers(a, b labels.Matchers) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Name != b[i].Name || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

package bounded

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRunes(t *testing.T) {
	cases := map[string]struct {
		in   string
		n    int
		want string
	}{
		"short":         {"alice", 10, "alice"},
		"exact":         {"alice", 5, "alice"},
		"cut":           {"alice-and-bob", 6, "alice…"},
		"multibyte fit": {"äöüß", 4, "äöüß"},
		"multibyte cut": {"äöüßé", 4, "äöü…"},
		"one":           {"alice", 1, "…"},
		"zero":          {"alice", 0, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Runes(tc.in, tc.n)
			if got != tc.want {
				t.Errorf("Runes(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
			if utf8.RuneCountInString(got) > max(tc.n, 0) {
				t.Errorf("Runes(%q, %d) has %d runes", tc.in, tc.n, utf8.RuneCountInString(got))
			}
		})
	}
}

func TestBytes(t *testing.T) {
	cases := map[string]struct {
		in   string
		n    int
		want string
	}{
		"short":             {"alice", 10, "alice"},
		"exact":             {"alice", 5, "alice"},
		"empty":             {"", 0, ""},
		"cut":               {"alice-and-bob", 8, "alice…"},
		"keeps runes whole": {"aäöü", 6, "aä…"},
		"four-byte runes":   {"a🚨🚨", 7, "a…"},
		"four-byte fit":     {"a🚨🚨", 8, "a🚨…"},
		"marker only":       {"alice", 3, "…"},
		"too small":         {"alice", 2, ""},
		"one":               {"alice", 1, ""},
		"zero":              {"alice", 0, ""},
		"negative":          {"alice", -1, ""},
		"invalid UTF-8 cut": {"ab\xff\xfecd", 5, "ab…"},
		"two-byte runes":    {strings.Repeat("é", 300), 255, strings.Repeat("é", 126) + "…"},
		"a marker in s":     {"……………", 7, "……"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Bytes(tc.in, tc.n)
			if got != tc.want || len(got) > max(tc.n, 0) || (utf8.ValidString(tc.in) && !utf8.ValidString(got)) {
				t.Errorf("Bytes(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
	long := strings.Repeat("€", 2000)
	if got := Bytes(long, EventNote); len(got) > EventNote || !utf8.ValidString(got) || !strings.HasSuffix(got, Marker) {
		t.Errorf("Bytes of a long note: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func TestPrefix(t *testing.T) {
	for in, want := range map[string]string{"abc": "abc", "abcdef": "abcd", "äöüßé": "äöüß"} {
		if got := Prefix(in, 4); got != want {
			t.Errorf("Prefix(%q, 4) = %q, want %q", in, got, want)
		}
	}
}

package when

import (
	"testing"
	"time"
)

var whenNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	base := whenNow.Add(time.Hour)
	cases := map[string]string{
		"now":                       "2026-11-23T12:00:00Z",
		" now ":                     "2026-11-23T12:00:00Z",
		"+2h":                       "2026-11-23T15:00:00Z",
		"-30m":                      "2026-11-23T12:30:00Z",
		"+1d12h":                    "2026-11-25T01:00:00Z",
		"+2d":                       "2026-11-25T13:00:00Z",
		"2026-12-24T18:00:00Z":      "2026-12-24T18:00:00Z",
		"2026-12-24T18:00:00+01:00": "2026-12-24T17:00:00Z",
		"2026-12-24T18:00":          "2026-12-24T17:00:00Z",
		"2026-12-24 18:00":          "2026-12-24T17:00:00Z",
		// In the hour Berlin skips: read with the offset before the gap.
		"2026-03-29T02:30": "2026-03-29T01:30:00Z",
	}
	for in, want := range cases {
		got, err := Parse(in, whenNow, base, berlin)
		w, _ := time.Parse(time.RFC3339, want)
		if err != nil || !got.Equal(w) {
			t.Errorf("Parse(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "tomorrow", "+", "+x", "+-2h", "++2h", "+1.5d", "+3651d", "+99999999h", "2026-02-30T10:00", "18:00", "+2h-1h0m"} {
		if got, err := Parse(bad, whenNow, base, berlin); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", bad, got)
		}
	}
}

// FuzzParse: whatever is written, Parse answers a time or an error
// and never panics; an offset it accepts is within ten years of its base.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"now", "+2h", "-30m", "+1d12h", "2026-12-24T18:00:00Z", "2026-12-24T18:00", "2026-12-24 18:00:30", "+d", "-", "+9999999999d"} {
		f.Add(s)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s, whenNow, whenNow, berlin)
		if err != nil {
			return
		}
		if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
			if d := got.Sub(whenNow); d > MaxOffset || d < -MaxOffset {
				t.Fatalf("Parse(%q) = %s, %s from its base", s, got, d)
			}
		}
	})
}

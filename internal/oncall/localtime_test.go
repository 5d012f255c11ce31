package oncall

import (
	"testing"
	"time"
)

func TestInstant(t *testing.T) {
	cases := map[string]struct {
		zone              string
		year              int
		month             time.Month
		day, hour, minute int
		want              string
	}{
		"Berlin ordinary winter time":                       {"Europe/Berlin", 2026, time.January, 15, 9, 0, "2026-01-15T09:00:00+01:00"},
		"Berlin spring-forward gap reads as 03:30":          {"Europe/Berlin", 2026, time.March, 29, 2, 30, "2026-03-29T03:30:00+02:00"},
		"Berlin fall-back overlap takes the first":          {"Europe/Berlin", 2026, time.October, 25, 2, 30, "2026-10-25T02:30:00+02:00"},
		"New York spring-forward gap reads as 03:30":        {"America/New_York", 2026, time.March, 8, 2, 30, "2026-03-08T03:30:00-04:00"},
		"New York fall-back overlap takes the first":        {"America/New_York", 2026, time.November, 1, 1, 30, "2026-11-01T01:30:00-04:00"},
		"Sydney spring-forward gap (October)":               {"Australia/Sydney", 2026, time.October, 4, 2, 30, "2026-10-04T03:30:00+11:00"},
		"Sydney fall-back overlap (April)":                  {"Australia/Sydney", 2026, time.April, 5, 2, 30, "2026-04-05T02:30:00+11:00"},
		"Lord Howe half-hour gap":                           {"Australia/Lord_Howe", 2026, time.October, 4, 2, 15, "2026-10-04T02:45:00+11:00"},
		"Lord Howe half-hour overlap takes the first":       {"Australia/Lord_Howe", 2026, time.April, 5, 1, 45, "2026-04-05T01:45:00+11:00"},
		"overflowing day carries into March of a leap year": {"UTC", 2028, time.February, 30, 9, 0, "2028-03-01T09:00:00Z"},
		"leap day itself":                                   {"UTC", 2028, time.February, 29, 9, 0, "2028-02-29T09:00:00Z"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			loc, err := time.LoadLocation(tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			got := instant(loc, tc.year, tc.month, tc.day, tc.hour, tc.minute, 0)
			if want := instantOf(t, tc.want); !got.Equal(want) {
				t.Errorf("instant = %s, want %s", got, want)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	cases := map[string]struct {
		in    string
		want  clock
		valid bool
	}{
		"midnight":            {"00:00", 0, true},
		"last minute":         {"23:59", 23*60 + 59, true},
		"office hours":        {"09:30", 9*60 + 30, true},
		"24:00 is not a time": {"24:00", 0, false},
		"one-digit hour":      {"9:00", 0, false},
		"seconds":             {"09:00:00", 0, false},
		"minute 60":           {"09:60", 0, false},
		"empty":               {"", 0, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := parseClock(tc.in)
			if (err == nil) != tc.valid {
				t.Fatalf("parseClock(%q) error = %v, want valid=%v", tc.in, err, tc.valid)
			}
			if got != tc.want {
				t.Errorf("parseClock(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseLocal(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"2026-12-24T18:00":    "2026-12-24T18:00:00+01:00",
		"2026-12-24 18:00":    "2026-12-24T18:00:00+01:00",
		"2026-12-24T18:00:30": "2026-12-24T18:00:30+01:00",
		"2026-12-24 18:00:30": "2026-12-24T18:00:30+01:00",
		// In the spring-forward gap, and twice at fall back.
		"2026-03-29T02:30": "2026-03-29T03:30:00+02:00",
		"2026-10-25T02:30": "2026-10-25T02:30:00+02:00",
	}
	for in, want := range cases {
		got, err := ParseLocal(in, berlin)
		if err != nil || !got.Equal(mustInstant(t, want)) {
			t.Errorf("ParseLocal(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "18:00", "2026-12-24T18:00Z", "2026-02-30T10:00", "tomorrow"} {
		if _, err := ParseLocal(bad, berlin); err == nil {
			t.Errorf("ParseLocal(%q) succeeded, want an error", bad)
		}
	}
}

func mustInstant(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

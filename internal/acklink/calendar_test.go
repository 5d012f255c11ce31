package acklink

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func testCalendarClaims() CalendarClaims {
	return CalendarClaims{Namespace: "payments", Kind: CalendarResponder, Name: "ada"}
}

func TestCalendarRoundTrip(t *testing.T) {
	s := mustSigner(t, testKey)
	for name, c := range map[string]CalendarClaims{
		"a responder's": testCalendarClaims(),
		"a schedule's":  {Namespace: "payments", Kind: CalendarSchedule, Name: "payments-primary"},
		"longest claims": {Namespace: strings.Repeat("n", MaxNamespaceLength), Kind: CalendarSchedule,
			Name: strings.Repeat("s", MaxNameLength)},
	} {
		t.Run(name, func(t *testing.T) {
			token := s.SignCalendar(c)
			if len(token) > MaxTokenLength {
				t.Fatalf("token of %d bytes, longer than %d", len(token), MaxTokenLength)
			}
			got, err := s.VerifyCalendar(token)
			if err != nil {
				t.Fatal(err)
			}
			if got != c {
				t.Errorf("claims %+v, want %+v", got, c)
			}
		})
	}
}

func TestCalendarRefusals(t *testing.T) {
	s := mustSigner(t, testKey)
	good := s.SignCalendar(testCalendarClaims())
	payload, sig, _ := strings.Cut(good, ".")
	otherPayload, _, _ := strings.Cut(s.SignCalendar(CalendarClaims{Namespace: "payments", Kind: CalendarResponder, Name: "bob"}), ".")
	for name, tc := range map[string]struct {
		token string
		want  error
	}{
		"another key":            {mustSigner(t, []byte(strings.Repeat("k", MinKeyLength))).SignCalendar(testCalendarClaims()), ErrBadSignature},
		"an ack token":           {s.Sign(testClaims()), ErrBadSignature},
		"a bundle token":         {s.SignBundle(testBundleClaims()), ErrBadSignature},
		"another feed's payload": {otherPayload + "." + sig, ErrBadSignature},
		"no signature":           {payload, ErrMalformed},
		"empty":                  {"", ErrMalformed},
		"not base64url":          {payload + ".+/", ErrMalformed},
		"unknown kind":           {s.SignCalendar(CalendarClaims{Namespace: "payments", Kind: "incident", Name: "x"}), ErrMalformed},
		"too long":               {strings.Repeat("a", MaxTokenLength+1), ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.VerifyCalendar(tc.token); !errors.Is(err, tc.want) {
				t.Errorf("VerifyCalendar = %v, want %v", err, tc.want)
			}
		})
	}
	// Nor does a calendar token verify as any other.
	if _, err := s.Verify(good, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(calendar token) = %v, want ErrBadSignature", err)
	}
	if _, err := s.VerifyBundle(good, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VerifyBundle(calendar token) = %v, want ErrBadSignature", err)
	}
}

func TestCalendarURL(t *testing.T) {
	s := mustSigner(t, testKey)
	c := CalendarClaims{Namespace: "payments", Kind: CalendarSchedule, Name: "payments-primary"}
	got := s.CalendarURL("https://klaxon.example.com/", c)
	want := "https://klaxon.example.com/calendar/payments/schedule/payments-primary.ics?token=" + s.SignCalendar(c)
	if got != want {
		t.Errorf("CalendarURL = %q, want %q", got, want)
	}
	u, err := url.Parse(got)
	if err != nil || u.Query().Get("token") != s.SignCalendar(c) {
		t.Errorf("the token does not survive the query: %v", err)
	}
}

func TestCalendarKeyName(t *testing.T) {
	long := strings.Repeat("r", MaxNameLength)
	for name, tc := range map[string]struct{ kind, name, want string }{
		"short":    {CalendarResponder, "ada", "responder.ada"},
		"schedule": {CalendarSchedule, "payments-primary", "schedule.payments-primary"},
		"too long": {CalendarResponder, long, ""},
	} {
		got := CalendarKeyName(tc.kind, tc.name)
		if len(got) > MaxNameLength {
			t.Errorf("%s: %d bytes", name, len(got))
		}
		if name == "too long" {
			if !strings.HasPrefix(got, "responder.sha256-") || len(got) != len("responder.sha256-")+64 {
				t.Errorf("%s: %q", name, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}

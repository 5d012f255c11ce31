package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/notify"
)

func TestShiftNoticeSubjectAndText(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		name        string
		n           notify.ShiftNotice
		subject     string
		textContain []string
	}{
		{"start", notify.ShiftNotice{Kind: notify.NoticeShiftStart, Namespace: "payments", Schedule: "payments-primary",
			Start: start, End: start.Add(24 * time.Hour), Location: berlin, Text: "Takes over from: bob\nHands over to: carol"},
			"On call from Mon 7 Dec 09:00 CET: payments-primary",
			[]string{"Shift:       Mon 7 Dec 09:00 CET to Tue 8 Dec 09:00 CET\n", "Takes over from: bob\nHands over to: carol\n", "Schedule:    payments/payments-primary"}},
		{"change", notify.ShiftNotice{Kind: notify.NoticeShiftChange, Namespace: "payments", Schedule: "payments-primary",
			Text: "Was: Mon 7 Dec 09:00 CET to Tue 8 Dec 09:00 CET\nNow: none"},
			"Your on-call shifts changed: payments-primary",
			[]string{"Was: Mon 7 Dec 09:00 CET to Tue 8 Dec 09:00 CET\nNow: none\n"}},
		{"hostile", notify.ShiftNotice{Kind: notify.NoticeShiftChange, Schedule: "a\r\nBcc: x@example.com", Text: "x\u202e"},
			"Your on-call shifts changed: a Bcc: x@example.com", []string{"x\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := &notify.Message{Notice: &tc.n}
			if got := notify.Subject(m); got != tc.subject {
				t.Errorf("Subject = %q, want %q", got, tc.subject)
			}
			text := notify.Text(m)
			if !strings.HasPrefix(text, tc.subject+"\n\n") {
				t.Errorf("Text does not open with the subject:\n%s", text)
			}
			for _, want := range tc.textContain {
				if !strings.Contains(text, want) {
					t.Errorf("Text lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

package notify

import (
	"strings"
	"time"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// NoticeTimeLayout is how a notice shows a time: the day, the date, the
// local time and the zone's abbreviation, such as "Mon 7 Dec 09:00 CET".
const NoticeTimeLayout = "Mon 2 Jan 15:04 MST"

// noticeSubject is "On call from Mon 7 Dec 09:00 CET: payments-primary",
// or "Your on-call shifts changed: payments-primary".
func noticeSubject(n *ShiftNotice) string {
	schedule := OneLine(n.Schedule)
	var s string
	switch n.Kind {
	case NoticeShiftStart:
		s = "On call from " + NoticeTime(n.Start, n.Location) + ": " + schedule
	default:
		s = "Your on-call shifts changed: " + schedule
	}
	return bounded.Bytes(s, MaxSubjectBytes)
}

// noticeText is the subject, the shift or the change, and the schedule.
func noticeText(n *ShiftNotice) string {
	var b strings.Builder
	b.WriteString(noticeSubject(n))
	b.WriteString("\n\n")
	if n.Kind == NoticeShiftStart && !n.Start.IsZero() {
		b.WriteString("Shift:       " + NoticeTime(n.Start, n.Location) + " to " + NoticeTime(n.End, n.Location) + "\n")
	}
	if text := multiLine(n.Text); text != "" {
		b.WriteString(text + "\n")
	}
	b.WriteString("\nSchedule:    " + OneLine(n.Namespace) + "/" + OneLine(n.Schedule) + "\n")
	return bounded.Bytes(b.String(), MaxTextBytes)
}

// NoticeTime shows t in loc (UTC when nil) as NoticeTimeLayout does.
func NoticeTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(NoticeTimeLayout)
}

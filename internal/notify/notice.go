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

// noticeText is the subject, then noticeBody.
func noticeText(n *ShiftNotice) string {
	return bounded.Bytes(noticeSubject(n)+"\n\n"+noticeBody(n), MaxTextBytes)
}

// noticeBody is the shift or the change, and the schedule, one line each
// but the notice's text, which keeps its lines.
func noticeBody(n *ShiftNotice) string {
	var b strings.Builder
	if shift := noticeShift(n); shift != "" {
		b.WriteString("Shift:       " + shift + "\n")
	}
	if text := multiLine(n.Text); text != "" {
		b.WriteString(text + "\n")
	}
	b.WriteString("\nSchedule:    " + noticeSchedule(n) + "\n")
	return b.String()
}

// noticeShift is "Mon 7 Dec 09:00 CET to Tue 8 Dec 09:00 CET" for a
// shift's start; empty for a change, or a start without its time.
func noticeShift(n *ShiftNotice) string {
	if n.Kind != NoticeShiftStart || n.Start.IsZero() {
		return ""
	}
	return NoticeTime(n.Start, n.Location) + " to " + NoticeTime(n.End, n.Location)
}

// noticeSchedule is "namespace/schedule".
func noticeSchedule(n *ShiftNotice) string {
	return OneLine(n.Namespace) + "/" + OneLine(n.Schedule)
}

// NoticeTime shows t in loc (UTC when nil) as NoticeTimeLayout does.
func NoticeTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(NoticeTimeLayout)
}

package notice_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/notice"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/oncall"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
)

// The mails the schedule guide shows are the ones a Berlin rotation of
// bob, alice and carol makes: before alice's shift, and when an edit moves
// it a day later.
func TestGuideMails(t *testing.T) {
	compile := func(people ...string) *oncall.Schedule {
		s, err := oncall.Compile(&klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: []klaxonv1alpha1.ScheduleLayer{{
			Name: "daily", Participants: people, Start: "2026-12-06T09:00:00", Shift: metav1.Duration{Duration: 24 * time.Hour}}}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := compile("bob", "alice", "carol")
	now := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC) // 08:00 in Berlin, an hour before alice's shift
	shifts, _ := notice.Shifts(before, now)
	var alice *oncall.PersonShift
	for i := range shifts {
		if shifts[i].User == "alice" && shifts[i].Start.After(now) {
			alice = &shifts[i]
			break
		}
	}
	if alice == nil {
		t.Fatal("alice has no shift ahead")
	}
	start := &notify.Message{Notice: &notify.ShiftNotice{Kind: notify.NoticeShiftStart, Namespace: "payments", Schedule: "payments-primary",
		Start: alice.Start, End: alice.End, Location: before.Location(), Text: notice.StartMessage(*alice)}}
	if got, want := "Subject: "+notify.Text(start), docsnippet.Block(t, "docs/schedules-and-escalation.md", "shift-start-mail"); got != want {
		t.Errorf("the ShiftStart mail is\n%s\nthe guide shows\n%s", got, want)
	}

	// Two OnCallOverrides swap alice's shift with carol's the day after.
	oldShifts, oldUntil := notice.Shifts(before, now)
	old, _ := notice.Update(nil, "before", notice.Entries(oldShifts, now), oldUntil, now, false)
	day := func(d int) metav1.Time { return metav1.NewTime(time.Date(2026, 12, d, 8, 0, 0, 0, time.UTC)) }
	swap := func(name, user, with string, from int) klaxonv1alpha1.OnCallOverride {
		return klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: klaxonv1alpha1.OnCallOverrideSpec{
			ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: "payments-primary"},
			Replace:     &klaxonv1alpha1.OverrideReplacement{User: user, With: with}, Start: day(from), End: day(from + 1)}}
	}
	after := before.WithOverrides("payments-primary", []klaxonv1alpha1.OnCallOverride{
		swap("swap-1", "alice", "carol", 7), swap("swap-2", "carol", "alice", 8)})
	newShifts, newUntil := notice.Shifts(after, now)
	diff := notice.Diff(old, notice.Entries(newShifts, now), newUntil, now)
	c, ok := diff["alice"]
	if !ok {
		t.Fatalf("the edit changes nothing of alice's: %v", diff)
	}
	change := &notify.Message{Notice: &notify.ShiftNotice{Kind: notify.NoticeShiftChange, Namespace: "payments", Schedule: "payments-primary",
		Location: after.Location(), Text: notice.ChangeMessage(c, after.Location())}}
	if got, want := "Subject: "+notify.Text(change), docsnippet.Block(t, "docs/schedules-and-escalation.md", "shift-change-mail"); got != want {
		t.Errorf("the ShiftChange mail is\n%s\nthe guide shows\n%s", got, want)
	}
}

package notice_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/notice"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

var t0 = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)

func hours(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// rotation compiles a schedule of people taking turns of shift from 09:00
// on t0's day, in UTC.
func rotation(t *testing.T, shift time.Duration, people ...string) *oncall.Schedule {
	t.Helper()
	s, err := oncall.Compile(&klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{{
		Name: "rotation", Participants: people, Start: "2026-12-07T09:00:00", Shift: metav1.Duration{Duration: shift}}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func record(t *testing.T, s *oncall.Schedule, now time.Time) *klaxonv1alpha1.ShiftRecord {
	t.Helper()
	shifts, until := notice.Shifts(s, now)
	rec, _ := notice.Update(nil, "x", notice.Entries(shifts, now), until, now, false)
	return rec
}

func changes(m map[string]notice.Change) string {
	var out []string
	for _, user := range []string{"alice", "bob", "carol"} {
		c, ok := m[user]
		if !ok {
			continue
		}
		line := user + ":"
		for _, sp := range c.Was {
			line += fmt.Sprintf(" -%d+%d", int(sp.Start.Sub(t0).Hours()), int(sp.End.Sub(sp.Start).Hours()))
		}
		for _, sp := range c.Now {
			line += fmt.Sprintf(" +%d+%d", int(sp.Start.Sub(t0).Hours()), int(sp.End.Sub(sp.Start).Hours()))
		}
		out = append(out, line)
	}
	return strings.Join(out, " ")
}

// The diff compares old and new on the span both cover from now: time
// passing is no change; a swap changes the two swapped only; a first
// record changes nothing.
func TestDiff(t *testing.T) {
	day := 24 * time.Hour
	abc := rotation(t, 3*day, "alice", "bob", "carol")
	cases := map[string]struct {
		old  *klaxonv1alpha1.ShiftRecord
		s    *oncall.Schedule
		now  time.Time
		want string
	}{
		"no old record":       {nil, abc, t0, ""},
		"nothing edited":      {record(t, abc, t0), abc, t0, ""},
		"time passed":         {record(t, abc, t0), abc, hours(50), ""},
		"a day and more late": {record(t, abc, t0), abc, hours(24*13 + 5), ""},
		"alice and bob swap": {record(t, abc, t0), rotation(t, 3*day, "bob", "alice", "carol"), t0,
			// alice had 09:00 day 0 and day 9, bob day 3 and day 12 to
			// the window's end (day 14 06:00).
			"alice: -3+72 -219+72 +75+72 +291+45 bob: -75+72 -291+45 +3+72 +219+72"},
		"carol leaves, after the first shift": {record(t, abc, t0), rotation(t, 3*day, "alice", "bob"), hours(4),
			"alice: -219+72 +147+72 +291+45 bob: -291+45 +219+72 carol: -147+72"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			shifts, until := notice.Shifts(tc.s, tc.now)
			if got := changes(notice.Diff(tc.old, notice.Entries(shifts, tc.now), until, tc.now)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// The record holds at most MaxEntries shifts, its span cut where they
// stop; without a cut it spans the Window.
func TestShiftsAreBounded(t *testing.T) {
	shifts, until := notice.Shifts(rotation(t, time.Hour, "alice", "bob"), t0)
	if len(shifts) != notice.MaxEntries || !until.Equal(hours(3+notice.MaxEntries)) {
		t.Errorf("%d shifts until %v, want %d until %v", len(shifts), until, notice.MaxEntries, hours(3+notice.MaxEntries))
	}
	if last := shifts[len(shifts)-1]; last.End.After(until) {
		t.Errorf("the last shift ends %v, after the span", last.End)
	}
	shifts, until = notice.Shifts(rotation(t, 24*time.Hour, "alice", "bob"), t0)
	if len(shifts) != 14 || !until.Equal(t0.Add(notice.Window)) {
		t.Errorf("%d shifts until %v, want 14 until the window's end", len(shifts), until)
	}
}

// The revision grows with the inputs only; a record is rewritten when the
// inputs change, a change is found or it is a day old, and not otherwise.
func TestUpdate(t *testing.T) {
	old := &klaxonv1alpha1.ShiftRecord{Revision: 4, Inputs: "a", From: metav1.NewTime(t0), Until: metav1.NewTime(t0.Add(notice.Window))}
	cases := map[string]struct {
		inputs  string
		now     time.Time
		changed bool
		want    string
	}{
		"nothing new":      {"a", hours(23), false, "4 kept"},
		"inputs changed":   {"b", hours(1), false, "5 written"},
		"a change found":   {"a", hours(1), true, "4 written"},
		"a day old":        {"a", hours(24), false, "4 written"},
		"inputs, two days": {"c", hours(48), false, "5 written"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rec, written := notice.Update(old, tc.inputs, nil, tc.now.Add(notice.Window), tc.now, tc.changed)
			got := fmt.Sprintf("%d kept", rec.Revision)
			if written {
				got = fmt.Sprintf("%d written", rec.Revision)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	// A record that spanned nothing (no notice rule then) is written anew
	// once shifts are asked for, and the other way round.
	empty := &klaxonv1alpha1.ShiftRecord{Revision: 4, Inputs: "a", From: metav1.NewTime(t0), Until: metav1.NewTime(t0)}
	if _, written := notice.Update(empty, "a", nil, hours(1).Add(notice.Window), hours(1), false); !written {
		t.Errorf("a record that spanned nothing is kept when shifts are asked for")
	}
	if _, written := notice.Update(old, "a", nil, hours(1), hours(1), false); !written {
		t.Errorf("a record of shifts is kept when none are asked for")
	}
	if _, written := notice.Update(empty, "a", nil, hours(1), hours(1), false); written {
		t.Errorf("a record that spans nothing is written again while none are asked for")
	}
	if rec, _ := notice.Update(nil, "a", nil, hours(1), t0, false); rec.Revision != 1 {
		t.Errorf("a first record's revision is %d, want 1", rec.Revision)
	}
}

// Overrides of other schedules do not change the inputs; one of this
// schedule does.
func TestInputs(t *testing.T) {
	spec := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC"}
	o := func(schedule string) klaxonv1alpha1.OnCallOverride {
		return klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: "o-" + schedule},
			Spec: klaxonv1alpha1.OnCallOverrideSpec{ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: schedule},
				Start: metav1.NewTime(hours(1)), End: metav1.NewTime(hours(2)), Add: []string{"dave"}}}
	}
	base := notice.Inputs("s", spec, nil)
	if got := notice.Inputs("s", spec, []klaxonv1alpha1.OnCallOverride{o("other")}); got != base {
		t.Error("another schedule's override changed the inputs")
	}
	if got := notice.Inputs("s", spec, []klaxonv1alpha1.OnCallOverride{o("s")}); got == base || len(got) != 64 {
		t.Errorf("an override of the schedule: inputs %q", got)
	}
}

func responder(rules ...klaxonv1alpha1.NotificationRule) *klaxonv1alpha1.ResponderSpec {
	return &klaxonv1alpha1.ResponderSpec{
		Contacts: []klaxonv1alpha1.Contact{{Name: "mail", Channel: "mail", Address: "x@example.com"}, {Name: "sms", Channel: "sms", Address: "+1"}},
		Rules:    rules,
	}
}

func keys(ns []klaxonv1alpha1.ShiftNotice) string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Key+":"+string(n.State))
	}
	return strings.Join(out, ",")
}

// ShiftStart notices are planned inside each rule's before window, once;
// the next window's opening is when to look again. ShiftChange notices go
// to each changed person's ShiftChange contacts.
func TestPlanNotices(t *testing.T) {
	day := 24 * time.Hour
	s := rotation(t, day, "alice", "bob")
	start := func(user, contact string, h int) string {
		return fmt.Sprintf("ShiftStart/%s/%s/%d", user, contact, hours(h).Unix())
	}
	onStart := klaxonv1alpha1.NotificationRule{Contact: "mail", On: klaxonv1alpha1.RuleOnShiftStart}
	onStart2h := klaxonv1alpha1.NotificationRule{Contact: "sms", On: klaxonv1alpha1.RuleOnShiftStart, Before: &metav1.Duration{Duration: 2 * time.Hour}}
	onChange := klaxonv1alpha1.NotificationRule{Contact: "mail", On: klaxonv1alpha1.RuleOnShiftChange}
	sent := func(key string, kind klaxonv1alpha1.ShiftNoticeKind, startH int) klaxonv1alpha1.ShiftNotice {
		n := klaxonv1alpha1.ShiftNotice{Key: key, Kind: kind, User: "alice", Contact: "mail", State: klaxonv1alpha1.ShiftNoticeSent, PlannedAt: metav1.NewTime(hours(0))}
		if kind == klaxonv1alpha1.ShiftNoticeStart {
			st := metav1.NewTime(hours(startH))
			n.ShiftStart = &st
		}
		return n
	}
	cases := map[string]struct {
		now      time.Time
		rules    []klaxonv1alpha1.NotificationRule
		changes  map[string]notice.Change
		existing []klaxonv1alpha1.ShiftNotice
		want     string
		next     time.Time
	}{
		"before the window": {hours(1), []klaxonv1alpha1.NotificationRule{onStart}, nil, nil, "", hours(2)},
		"in the window":     {hours(2), []klaxonv1alpha1.NotificationRule{onStart}, nil, nil, start("alice", "mail", 3) + ":Pending", hours(50)},
		// A restart or a failover across the start: still told, late.
		"started within TooLate": {hours(3).Add(5 * time.Minute), []klaxonv1alpha1.NotificationRule{onStart}, nil, nil,
			start("alice", "mail", 3) + ":Pending", hours(50)},
		"started longer ago": {hours(3).Add(notice.TooLate), []klaxonv1alpha1.NotificationRule{onStart}, nil, nil, "", hours(50)},
		"two rules, their own windows": {hours(1), []klaxonv1alpha1.NotificationRule{onStart, onStart2h}, nil, nil,
			start("alice", "sms", 3) + ":Pending", hours(2)},
		"already planned": {hours(2), []klaxonv1alpha1.NotificationRule{onStart},
			nil, []klaxonv1alpha1.ShiftNotice{sent(start("alice", "mail", 3), klaxonv1alpha1.ShiftNoticeStart, 3)},
			start("alice", "mail", 3) + ":Sent", hours(50)},
		"a sent ShiftStart kept for a day": {hours(23), nil,
			nil, []klaxonv1alpha1.ShiftNotice{sent(start("alice", "mail", 3), klaxonv1alpha1.ShiftNoticeStart, 3)},
			start("alice", "mail", 3) + ":Sent", time.Time{}},
		"and then dropped": {hours(24), nil,
			nil, []klaxonv1alpha1.ShiftNotice{sent(start("alice", "mail", 3), klaxonv1alpha1.ShiftNoticeStart, 3)}, "", time.Time{}},
		"or kept until its shift started, when later": {hours(30), nil,
			nil, []klaxonv1alpha1.ShiftNotice{sent(start("alice", "mail", 31), klaxonv1alpha1.ShiftNoticeStart, 31)},
			start("alice", "mail", 31) + ":Sent", time.Time{}},
		"a ShiftChange for the changed": {hours(1), []klaxonv1alpha1.NotificationRule{onChange},
			map[string]notice.Change{"alice": {Now: []notice.Span{{Start: hours(3), End: hours(27)}}}}, nil,
			"ShiftChange/alice/mail/7:Pending", time.Time{}},
		"a sent ShiftChange kept for a day": {hours(23), nil, nil,
			[]klaxonv1alpha1.ShiftNotice{sent("ShiftChange/alice/mail/6", klaxonv1alpha1.ShiftNoticeChange, 0)}, "ShiftChange/alice/mail/6:Sent", time.Time{}},
		"then dropped": {hours(24), nil, nil,
			[]klaxonv1alpha1.ShiftNotice{sent("ShiftChange/alice/mail/6", klaxonv1alpha1.ShiftNoticeChange, 0)}, "", time.Time{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			shifts, _ := notice.Shifts(s, tc.now)
			p := &notice.Plan{Now: tc.now, Location: time.UTC, Revision: 7, Shifts: shifts, Changes: tc.changes,
				Responders: map[string]*klaxonv1alpha1.ResponderSpec{"alice": responder(tc.rules...)}}
			got, next, _ := p.Notices(tc.existing)
			if keys(got) != tc.want || !next.Equal(tc.next) {
				t.Errorf("got %q next %v\nwant %q next %v", keys(got), next, tc.want, tc.next)
			}
		})
	}
}

// A Pending notice whose shift started more than TooLate ago is kept for
// the send to fail; the list keeps MaxNotices, dropping the oldest finished, never a Pending.
func TestPlanBoundsNotices(t *testing.T) {
	s := rotation(t, 24*time.Hour, "alice")
	st := metav1.NewTime(hours(-1))
	late := klaxonv1alpha1.ShiftNotice{Key: "late", Kind: klaxonv1alpha1.ShiftNoticeStart, State: klaxonv1alpha1.ShiftNoticePending,
		ShiftStart: &st, PlannedAt: metav1.NewTime(hours(-2))}
	p := &notice.Plan{Now: t0, Location: time.UTC, Revision: 2,
		Changes:    map[string]notice.Change{"alice": {}},
		Responders: map[string]*klaxonv1alpha1.ResponderSpec{"alice": responder(klaxonv1alpha1.NotificationRule{Contact: "mail", On: klaxonv1alpha1.RuleOnShiftChange})}}
	p.Shifts, _ = notice.Shifts(s, t0)
	got, _, _ := p.Notices([]klaxonv1alpha1.ShiftNotice{late})
	if keys(got) != "late:Pending,ShiftChange/alice/mail/2:Pending" || !notice.TooLateFor(&got[0], t0) {
		t.Errorf("got %s, want the late one kept Pending for the send to fail", keys(got))
	}
	if notice.Apply(&late, notice.Outcome{At: t0, TooLate: true}); late.State != klaxonv1alpha1.ShiftNoticeFailed || !strings.HasPrefix(late.Reason, "too late") {
		t.Errorf("too late: %s %q", late.State, late.Reason)
	}

	full := func(state klaxonv1alpha1.ShiftNoticeState) []klaxonv1alpha1.ShiftNotice {
		var ns []klaxonv1alpha1.ShiftNotice
		for i := range notice.MaxNotices {
			ns = append(ns, klaxonv1alpha1.ShiftNotice{Key: fmt.Sprintf("n%d", i), Kind: klaxonv1alpha1.ShiftNoticeChange,
				State: state, PlannedAt: metav1.NewTime(t0)})
		}
		return ns
	}
	got, next, _ := p.Notices(full(klaxonv1alpha1.ShiftNoticeSent))
	if len(got) != notice.MaxNotices || got[0].Key != "n1" || got[len(got)-1].Key != "ShiftChange/alice/mail/2" || !next.IsZero() {
		t.Errorf("full of finished: %d notices, first %s, last %s, next %v", len(got), got[0].Key, got[len(got)-1].Key, next)
	}
	got, next, untold := p.Notices(full(klaxonv1alpha1.ShiftNoticePending))
	if len(got) != notice.MaxNotices || got[len(got)-1].Key != "n63" || !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("full of Pending: %d notices, last %s, next %v; want the new one left for later", len(got), got[len(got)-1].Key, next)
	}
	if !slices.Equal(untold, []string{"alice"}) {
		t.Errorf("untold %v, want alice, whose change found no room", untold)
	}

	// Room is never made by dropping a Sent ShiftStart notice whose shift
	// could be planned again: it would be sent twice.
	future := metav1.NewTime(hours(5))
	kept := append([]klaxonv1alpha1.ShiftNotice{{Key: "start", Kind: klaxonv1alpha1.ShiftNoticeStart, State: klaxonv1alpha1.ShiftNoticeSent,
		ShiftStart: &future, PlannedAt: metav1.NewTime(t0)}}, full(klaxonv1alpha1.ShiftNoticeSent)[1:]...)
	got, _, _ = p.Notices(kept)
	if got[0].Key != "start" || got[1].Key != "n2" {
		t.Errorf("room made by dropping %s rather than n1", keys(got)[:20])
	}
}

// A change whose notices found no room is held back: the record keeps the
// person's old shifts and names them untold, so the next reconcile, with
// no edit and room again, finds the change and plans it.
func TestHoldBackTellsLater(t *testing.T) {
	before, after := rotation(t, 24*time.Hour, "alice", "bob"), rotation(t, 24*time.Hour, "bob", "alice")
	old := record(t, before, t0)
	shifts, until := notice.Shifts(after, t0)
	entries := notice.Entries(shifts, t0)
	rec, _ := notice.Update(old, "edited", entries, until, t0, true)
	changes := notice.Diff(old, entries, until, t0)
	held := notice.HoldBack(rec, old, []string{"alice"})
	if !slices.Equal(held.Untold, []string{"alice"}) || held.Revision != rec.Revision {
		t.Fatalf("held back: untold %v revision %d", held.Untold, held.Revision)
	}
	if len(changes) != 2 {
		t.Fatalf("the edit changed %d people's shifts, want 2", len(changes))
	}
	// Next reconcile: no edit; only alice's change is told.
	later := t0.Add(time.Minute)
	shifts, until = notice.Shifts(after, later)
	entries = notice.Entries(shifts, later)
	again := notice.Untold(notice.Diff(held, entries, until, later), held)
	if _, ok := again["alice"]; !ok || len(again) != 1 {
		t.Errorf("changes found again: %v, want alice's only", again)
	}
	if cleared := notice.HoldBack(held, held, nil); cleared.Untold != nil || held.Untold == nil {
		t.Errorf("told at last: untold %v, and the old record changed: %v", cleared.Untold, held.Untold)
	}
}

func TestMessages(t *testing.T) {
	sh := oncall.PersonShift{User: "alice", HandsOver: []string{"bob"}, TakesOver: []string{"carol"}, With: []string{"dave", "erin"}}
	if got, want := notice.StartMessage(sh), "Takes over from: bob\nHands over to: carol\nWith: dave, erin"; got != want {
		t.Errorf("start message\n%s\nwant\n%s", got, want)
	}
	if got := notice.StartMessage(oncall.PersonShift{User: "alice"}); got != "" {
		t.Errorf("a shift with nobody around: %q", got)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	var many []notice.Span
	for i := range 7 {
		many = append(many, notice.Span{Start: hours(24 * i), End: hours(24*i + 3)})
	}
	got := notice.ChangeMessage(notice.Change{Now: many}, berlin)
	want := "Was:\n- none\nNow:\n- Mon 7 Dec 07:00 CET to Mon 7 Dec 10:00 CET\n" +
		"- Tue 8 Dec 07:00 CET to Tue 8 Dec 10:00 CET\n- Wed 9 Dec 07:00 CET to Wed 9 Dec 10:00 CET\n" +
		"- Thu 10 Dec 07:00 CET to Thu 10 Dec 10:00 CET\n- Fri 11 Dec 07:00 CET to Fri 11 Dec 10:00 CET\n- and 2 more"
	if got != want {
		t.Errorf("change message\n%s\nwant\n%s", got, want)
	}
}

// Failed attempts back off and end Failed after MaxAttempts, or at once
// when permanent; a sent one is Sent.
func TestApply(t *testing.T) {
	n := klaxonv1alpha1.ShiftNotice{State: klaxonv1alpha1.ShiftNoticePending, PlannedAt: metav1.NewTime(t0)}
	if !notice.DueAt(&n).Equal(t0) {
		t.Fatalf("a new notice is due at %v", notice.DueAt(&n))
	}
	var dues []string
	for i := range notice.MaxAttempts {
		at := t0.Add(time.Duration(i) * time.Hour)
		failed := notice.Apply(&n, notice.Outcome{At: at, Err: errors.New("refused")})
		if failed != (i == notice.MaxAttempts-1) {
			t.Fatalf("attempt %d: failed for good %v", i+1, failed)
		}
		if !failed {
			dues = append(dues, notice.DueAt(&n).Sub(at).String())
		}
	}
	if got := strings.Join(dues, ","); got != "30s,1m0s,2m0s,4m0s" || n.State != klaxonv1alpha1.ShiftNoticeFailed || n.Reason != "refused" {
		t.Errorf("backoffs %s, state %s, reason %q", got, n.State, n.Reason)
	}
	ok := klaxonv1alpha1.ShiftNotice{State: klaxonv1alpha1.ShiftNoticePending, Attempts: 1, Reason: "x"}
	if notice.Apply(&ok, notice.Outcome{At: t0}) || ok.State != klaxonv1alpha1.ShiftNoticeSent || ok.Attempts != 2 || ok.Reason != "" || !notice.DueAt(&ok).IsZero() {
		t.Errorf("sent: %+v", ok)
	}
	perm := klaxonv1alpha1.ShiftNotice{State: klaxonv1alpha1.ShiftNoticePending}
	if !notice.Apply(&perm, notice.Outcome{At: t0, Err: errors.New("no such mailbox"), Permanent: true}) || perm.State != klaxonv1alpha1.ShiftNoticeFailed {
		t.Errorf("permanent: %+v", perm)
	}
}

package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/metrics"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// noticeSetup starts a Mailpit, a mail channel to it and a rotation of
// people with a shift of shift each, starting at the first whole hour at
// least three hours ahead, in UTC; it returns the schedule and its start.
func noticeSetup(t *testing.T, participants []string, shift time.Duration) (ns string, smtp *mailpit.Server, sched *klaxonv1alpha1.OnCallSchedule, start time.Time) {
	t.Helper()
	smtp = mailpit.Start(t)
	ns = newNamespace(t)
	requireTLS := false
	createChannel(t, ns, "mail", klaxonv1alpha1.NotificationChannelSpec{Email: &klaxonv1alpha1.EmailChannel{
		Smarthost: smtp.SMTP, From: "klaxon@example.com", RequireTLS: &requireTLS}})
	start = fakeClock.Now().UTC().Truncate(time.Hour).Add(3 * time.Hour)
	sched = &klaxonv1alpha1.OnCallSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: "primary", Namespace: ns},
		Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{{
			Name: "rotation", Participants: participants, Start: start.Format("2006-01-02T15:04:05"),
			Shift: metav1.Duration{Duration: shift}}}},
	}
	if err := k8s.Create(context.Background(), sched); err != nil {
		t.Fatal(err)
	}
	return ns, smtp, sched, start
}

// noticeResponder creates a Responder told by mail of the notices on asks.
func noticeResponder(t *testing.T, ns, name string, on ...klaxonv1alpha1.RuleOn) {
	t.Helper()
	r := &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.ResponderSpec{DisplayName: strings.ToUpper(name[:1]) + name[1:],
			Contacts: []klaxonv1alpha1.Contact{{Name: "mail", Channel: "mail", Address: name + "@example.com"}},
			Rules:    []klaxonv1alpha1.NotificationRule{{Contact: "mail"}}}}
	for _, o := range on {
		r.Spec.Rules = append(r.Spec.Rules, klaxonv1alpha1.NotificationRule{Contact: "mail", On: o})
	}
	if err := k8s.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// mailsTo returns the mails Mailpit holds, by recipient.
func mailsTo(t *testing.T, smtp *mailpit.Server) map[string][]mailpit.Message {
	t.Helper()
	out := map[string][]mailpit.Message{}
	for _, m := range smtp.All(t) {
		for _, to := range m.To {
			out[to.Address] = append(out[to.Address], m)
		}
	}
	return out
}

// fullMail reads one mail in full, its lines ended by LF.
func fullMail(t *testing.T, smtp *mailpit.Server, m mailpit.Message) mailpit.Message {
	t.Helper()
	var full mailpit.Message
	smtp.Get(t, "/api/v1/message/"+m.ID, &full)
	full.Text = strings.ReplaceAll(full.Text, "\r\n", "\n")
	return full
}

// waitForRecord waits until the schedule records its shifts, and returns
// it.
func waitForRecord(t *testing.T, sched *klaxonv1alpha1.OnCallSchedule, revision int64) *klaxonv1alpha1.OnCallSchedule {
	t.Helper()
	got := &klaxonv1alpha1.OnCallSchedule{}
	eventually(t, fmt.Sprintf("status.shifts at revision %d", revision), func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), got)
		return got.Status.Shifts != nil && got.Status.Shifts.Revision == revision, err
	})
	return got
}

// noticeStates renders status.notices as "key:state/attempts".
func noticeStates(s *klaxonv1alpha1.OnCallSchedule) string {
	var out []string
	for _, n := range s.Status.Notices {
		out = append(out, fmt.Sprintf("%s:%s/%d", n.Key, n.State, n.Attempts))
	}
	return strings.Join(out, ",")
}

// restartOperator stops the shared operator and starts another.
func restartOperator(t *testing.T) {
	t.Helper()
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	if err := startOperator(); err != nil {
		t.Fatal(err)
	}
}

// A ShiftStart notice goes once, by mail, inside its before window: the
// operator restarted inside the window before the send sends it, and
// restarted after it, or time moving on, sends nothing more. The
// Responder is the schedule guide's.
func TestShiftStartNoticeIsSentOnce(t *testing.T) {
	ctx := context.Background()
	ns, smtp, sched, start := noticeSetup(t, []string{"alice", "bob"}, 24*time.Hour)
	alice := &klaxonv1alpha1.Responder{}
	if err := yaml.UnmarshalStrict([]byte(docsnippet.Block(t, "docs/schedules-and-escalation.md", "shift-notices")), alice); err != nil {
		t.Fatal(err)
	}
	alice.Namespace = ns
	if err := k8s.Create(ctx, alice); err != nil {
		t.Fatal(err)
	}
	waitForRecord(t, sched, 1)
	sentBefore := testutil.ToFloat64(metrics.ShiftNotices.WithLabelValues("ShiftStart", metrics.NoticeSent))
	time.Sleep(time.Second)
	if got := mailsTo(t, smtp); len(got) != 0 {
		t.Fatalf("mails before the window: %v", got)
	}

	// Into the window while the operator is down: the one that starts
	// plans the notice and sends it.
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	fakeClock.SetTime(start.Add(-30 * time.Minute))
	if err := startOperator(); err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("ShiftStart/alice/mail/%d", start.Unix())
	got := &klaxonv1alpha1.OnCallSchedule{}
	eventually(t, "the notice recorded Sent", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), got)
		return noticeStates(got) == key+":Sent/1", err
	})
	mails := mailsTo(t, smtp)["alice@example.com"]
	if len(mails) != 1 {
		t.Fatalf("%d mails to alice, want 1", len(mails))
	}
	full := fullMail(t, smtp, mails[0])
	wantSubject := "On call from " + notify.NoticeTime(start, time.UTC) + ": primary"
	if full.Subject != wantSubject {
		t.Errorf("subject %q, want %q", full.Subject, wantSubject)
	}
	for _, want := range []string{
		"Shift:       " + notify.NoticeTime(start, time.UTC) + " to " + notify.NoticeTime(start.Add(24*time.Hour), time.UTC),
		"Hands over to: bob", "Schedule:    " + ns + "/primary",
	} {
		if !strings.Contains(full.Text, want) {
			t.Errorf("the mail says\n%s\nwant it to say %q", full.Text, want)
		}
	}
	if strings.Contains(full.Text, "Takes over from") {
		t.Errorf("the mail names someone handing over, but nobody is on call before alice:\n%s", full.Text)
	}

	// A restart after the send, and time moving on inside the window,
	// send nothing more.
	restartOperator(t)
	fakeClock.Step(20 * time.Minute)
	nudge(t, sched)
	eventually(t, "the schedule reconciled after the restart", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), got)
		return got.Status.ObservedGeneration == got.Generation && len(got.Status.OnCall) == 0, err
	})
	time.Sleep(2 * time.Second)
	if n := len(mailsTo(t, smtp)["alice@example.com"]); n != 1 {
		t.Fatalf("%d mails to alice after the restart, want 1", n)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), got); err != nil || noticeStates(got) != key+":Sent/1" {
		t.Fatalf("notices %q (%v), want the one Sent", noticeStates(got), err)
	}
	if sent := testutil.ToFloat64(metrics.ShiftNotices.WithLabelValues("ShiftStart", metrics.NoticeSent)) - sentBefore; sent != 1 {
		t.Errorf("klaxon_shift_notices_total{kind=ShiftStart,result=sent} grew by %v, want 1", sent)
	}
}

// An edit that swaps two people's shifts tells exactly those two what
// their shifts were and are, once each; an override three weeks out
// changes nothing in the next 14 days and tells nobody, but still moves
// the record's revision on.
func TestShiftChangeNoticesTellThoseMoved(t *testing.T) {
	ctx := context.Background()
	ns, smtp, sched, start := noticeSetup(t, []string{"alice", "bob", "carol"}, 72*time.Hour)
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		noticeResponder(t, ns, name, klaxonv1alpha1.RuleOnShiftChange)
	}
	before := waitForRecord(t, sched, 1)
	until := before.Status.Shifts.Until.Time

	// bob and alice swap places; carol keeps hers, dave has none. The
	// operator writes the schedule's status meanwhile: read again on a
	// conflict.
	got := &klaxonv1alpha1.OnCallSchedule{}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), got); err != nil {
			return err
		}
		got.Spec.Layers[0].Participants = []string{"bob", "alice", "carol"}
		return k8s.Update(ctx, got)
	})
	if err != nil {
		t.Fatal(err)
	}
	waitForRecord(t, sched, 2)
	eventually(t, "two ShiftChange mails", func(context.Context) (bool, error) {
		m := mailsTo(t, smtp)
		return len(m["alice@example.com"]) == 1 && len(m["bob@example.com"]) == 1, nil
	})

	day := func(d int) time.Time { return start.Add(time.Duration(d) * 24 * time.Hour) }
	span := func(from, to time.Time) string {
		return "- " + notify.NoticeTime(from, time.UTC) + " to " + notify.NoticeTime(to, time.UTC)
	}
	// In the 14 days: alice had days 0-3 and 9-12, bob 3-6 and 12 on.
	aliceOld := span(day(0), day(3)) + "\n" + span(day(9), day(12))
	bobOld := span(day(3), day(6)) + "\n" + span(day(12), until)
	want := map[string]string{
		"alice@example.com": "Was:\n" + aliceOld + "\nNow:\n" + bobOld,
		"bob@example.com":   "Was:\n" + bobOld + "\nNow:\n" + aliceOld,
	}
	for to, text := range want {
		mails := mailsTo(t, smtp)[to]
		full := fullMail(t, smtp, mails[0])
		if full.Subject != "Your on-call shifts changed: primary" {
			t.Errorf("to %s: subject %q", to, full.Subject)
		}
		if !strings.Contains(full.Text, text) {
			t.Errorf("to %s the mail says\n%s\nwant it to say\n%s", to, full.Text, text)
		}
	}
	eventually(t, "both notices recorded Sent", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), got)
		return noticeStates(got) == "ShiftChange/alice/mail/2:Sent/1,ShiftChange/bob/mail/2:Sent/1", err
	})

	// Three weeks out: a new revision, no notice.
	createOverride(t, ns, "far-away", "primary", day(21), day(22), replaceBy("alice", "dave"))
	waitForRecord(t, sched, 3)
	time.Sleep(2 * time.Second)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), got); err != nil {
		t.Fatal(err)
	}
	if s := noticeStates(got); s != "ShiftChange/alice/mail/2:Sent/1,ShiftChange/bob/mail/2:Sent/1" {
		t.Errorf("notices after the override three weeks out: %s", s)
	}
	m := mailsTo(t, smtp)
	if len(m) != 2 || len(m["alice@example.com"]) != 1 || len(m["bob@example.com"]) != 1 {
		t.Errorf("mails by recipient: %v, want one to alice and one to bob", m)
	}
}

// The API server refuses before on a rule that is not a ShiftStart one,
// and paging settings on a notice rule, and takes a valid notice rule.
func TestShiftNoticeRulesAreValidated(t *testing.T) {
	ns := newNamespace(t)
	hour := &metav1.Duration{Duration: time.Hour}
	cases := map[string]struct {
		rule klaxonv1alpha1.NotificationRule
		says string
	}{
		"before on a paging rule":      {klaxonv1alpha1.NotificationRule{Contact: "mail", Before: hour}, "before applies only to a rule with on: ShiftStart"},
		"before on a ShiftChange rule": {klaxonv1alpha1.NotificationRule{Contact: "mail", On: klaxonv1alpha1.RuleOnShiftChange, Before: hour}, "before applies only to a rule with on: ShiftStart"},
		"after on a ShiftStart rule":   {klaxonv1alpha1.NotificationRule{Contact: "mail", On: klaxonv1alpha1.RuleOnShiftStart, After: hour}, "after, severities, bundleAfter and bundleWindow apply only to paging rules"},
		"before too long":              {klaxonv1alpha1.NotificationRule{Contact: "mail", On: klaxonv1alpha1.RuleOnShiftStart, Before: &metav1.Duration{Duration: 200 * time.Hour}}, "before must be a duration from 1m to 168h"},
		"valid":                        {klaxonv1alpha1.NotificationRule{Contact: "mail", On: klaxonv1alpha1.RuleOnShiftStart, Before: hour}, ""},
		// YAML 1.1 reads an unquoted on key as true; the rule takes it so.
		"valid unquoted":             {klaxonv1alpha1.NotificationRule{Contact: "mail", OnUnquoted: klaxonv1alpha1.RuleOnShiftStart, Before: hour}, ""},
		"after on an unquoted rule":  {klaxonv1alpha1.NotificationRule{Contact: "mail", OnUnquoted: klaxonv1alpha1.RuleOnShiftChange, After: hour}, "after, severities, bundleAfter and bundleWindow apply only to paging rules"},
		"before on an unquoted page": {klaxonv1alpha1.NotificationRule{Contact: "mail", OnUnquoted: klaxonv1alpha1.RuleOnPage, Before: hour}, "before applies only to a rule with on: ShiftStart"},
		"on spelt both ways":         {klaxonv1alpha1.NotificationRule{Contact: "mail", On: klaxonv1alpha1.RuleOnShiftStart, OnUnquoted: klaxonv1alpha1.RuleOnShiftChange}, "the rule says on twice"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: strings.ReplaceAll(strings.ToLower(name), " ", "-")},
				Spec: klaxonv1alpha1.ResponderSpec{
					Contacts: []klaxonv1alpha1.Contact{{Name: "mail", Channel: "mail", Address: "alice@example.com"}},
					Rules:    []klaxonv1alpha1.NotificationRule{tc.rule}}}
			err := k8s.Create(context.Background(), r)
			if tc.says == "" {
				if err != nil {
					t.Errorf("a valid notice rule: %v", err)
				}
				return
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("got %v, want Invalid saying %q", err, tc.says)
			}
		})
	}
}

// A ShiftStart notice that cannot be sent is retried, and once its shift
// started more than 15 minutes ago it fails as too late, with a Warning
// Event, and is counted failed.
func TestShiftStartNoticeTooLateFails(t *testing.T) {
	ctx := context.Background()
	ns, _, sched, start := noticeSetup(t, []string{"erin"}, 24*time.Hour)
	requireTLS := false
	createChannel(t, ns, "dead", klaxonv1alpha1.NotificationChannelSpec{Email: &klaxonv1alpha1.EmailChannel{
		Smarthost: proc.FreeAddr(t), From: "klaxon@example.com", RequireTLS: &requireTLS}})
	erin := &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "erin", Namespace: ns},
		Spec: klaxonv1alpha1.ResponderSpec{
			Contacts: []klaxonv1alpha1.Contact{{Name: "pager", Channel: "dead", Address: "erin@example.com"}},
			Rules:    []klaxonv1alpha1.NotificationRule{{Contact: "pager", On: klaxonv1alpha1.RuleOnShiftStart}}}}
	if err := k8s.Create(ctx, erin); err != nil {
		t.Fatal(err)
	}
	waitForRecord(t, sched, 1)
	failedBefore := testutil.ToFloat64(metrics.ShiftNotices.WithLabelValues("ShiftStart", metrics.NoticeFailed))

	fakeClock.SetTime(start.Add(-30 * time.Minute))
	nudge(t, sched)
	got := &klaxonv1alpha1.OnCallSchedule{}
	eventually(t, "a failed attempt recorded", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), got)
		return len(got.Status.Notices) == 1 && got.Status.Notices[0].Attempts >= 1 &&
			got.Status.Notices[0].State == klaxonv1alpha1.ShiftNoticePending && got.Status.Notices[0].Reason != "", err
	})

	fakeClock.SetTime(start.Add(20 * time.Minute))
	nudge(t, sched)
	eventually(t, "the notice Failed as too late", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(sched), got)
		return len(got.Status.Notices) == 1 && got.Status.Notices[0].State == klaxonv1alpha1.ShiftNoticeFailed &&
			strings.HasPrefix(got.Status.Notices[0].Reason, "too late"), err
	})
	eventually(t, "a Warning Event", func(ctx context.Context) (bool, error) {
		list := &eventsv1.EventList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.Regarding.UID == got.UID && e.Type == "Warning" && e.Reason == "NoticeFailed" && strings.Contains(e.Note, "too late") {
				return true, nil
			}
		}
		return false, nil
	})
	if failed := testutil.ToFloat64(metrics.ShiftNotices.WithLabelValues("ShiftStart", metrics.NoticeFailed)) - failedBefore; failed != 1 {
		t.Errorf("klaxon_shift_notices_total{kind=ShiftStart,result=failed} grew by %v, want 1", failed)
	}
}

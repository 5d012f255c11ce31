package delivery

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func alice() *klaxonv1alpha1.ResponderSpec {
	return &klaxonv1alpha1.ResponderSpec{
		Contacts: []klaxonv1alpha1.Contact{
			{Name: "slack", Channel: "team-slack", Address: "U1"},
			{Name: "mail", Channel: "mail", Address: "alice@example.com"},
			{Name: "phone", Channel: "sms", Address: "+49151"},
		},
		Rules: []klaxonv1alpha1.NotificationRule{
			{Contact: "slack"},
			{Contact: "mail"},
			{Contact: "phone", After: &metav1.Duration{Duration: 5 * time.Minute}, Severities: []klaxonv1alpha1.Severity{"SEV1", "SEV2"}},
			{Contact: "slack"}, // a contact is used once
		},
	}
}

// row renders a notification as "who/contact@channel:address state due".
func row(n klaxonv1alpha1.Notification) string {
	due := n.DueAt.Sub(t0)
	s := fmt.Sprintf("%s/%s@%s:%s %s +%s", n.Responder, n.Contact, n.Channel, n.Address, n.State, due)
	if n.Error != "" {
		s += " " + n.Error
	}
	return s
}

func TestPlan(t *testing.T) {
	cases := map[string]struct {
		page Page
		want []string
	}{
		"every rule for SEV1, the late one 5m on": {
			Page{Severity: "SEV1", People: []string{"alice"}, Responders: map[string]*klaxonv1alpha1.ResponderSpec{"alice": alice()}},
			[]string{"alice/slack@team-slack:U1 Pending +0s", "alice/mail@mail:alice@example.com Pending +0s", "alice/phone@sms:+49151 Pending +5m0s"},
		},
		"a severity-limited rule is left out": {
			Page{Severity: "SEV3", People: []string{"alice"}, Responders: map[string]*klaxonv1alpha1.ResponderSpec{"alice": alice()}},
			[]string{"alice/slack@team-slack:U1 Pending +0s", "alice/mail@mail:alice@example.com Pending +0s"},
		},
		"no Responder": {
			Page{Severity: "SEV1", People: []string{"bob"}},
			[]string{"bob/@: Failed +0s paged bob: no Responder named bob"},
		},
		"no rule for the severity": {
			Page{Severity: "SEV4", People: []string{"carol"}, Responders: map[string]*klaxonv1alpha1.ResponderSpec{"carol": {
				Contacts: []klaxonv1alpha1.Contact{{Name: "phone", Channel: "sms", Address: "+1"}},
				Rules:    []klaxonv1alpha1.NotificationRule{{Contact: "phone", Severities: []klaxonv1alpha1.Severity{"SEV1"}}},
			}}},
			[]string{"carol/@: Failed +0s paged carol: no contact for SEV4"},
		},
		"team channels, each once": {
			Page{Severity: "SEV2", Channels: []klaxonv1alpha1.EscalationTarget{
				{Channel: "team-slack", Address: "#payments"}, {Channel: "team-slack", Address: "#payments"}, {Channel: "team-slack", Address: "#sre"}}},
			[]string{"/@team-slack:#payments Pending +0s", "/@team-slack:#sre Pending +0s"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.page.At = t0
			var got []string
			for _, n := range Plan(tc.page) {
				got = append(got, row(n))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPlanKeysAreUniqueAndStable(t *testing.T) {
	page := Page{Episode: 2, Level: 1, Round: 1, At: t0, Severity: "SEV1", People: []string{"alice", "bob"},
		Responders: map[string]*klaxonv1alpha1.ResponderSpec{"alice": alice()},
		Channels:   []klaxonv1alpha1.EscalationTarget{{Channel: "team-slack", Address: "#payments"}}}
	first, again := Plan(page), Plan(page)
	seen := map[string]bool{}
	for i := range first {
		k := Key(&first[i])
		if seen[k] {
			t.Errorf("key %s twice", k)
		}
		seen[k] = true
		if Key(&again[i]) != k {
			t.Errorf("planning again gave key %s, want %s", Key(&again[i]), k)
		}
	}
	// Appending a page planned again adds nothing.
	if got, _ := Append(first, again, 2); len(got) != len(first) {
		t.Errorf("Append of the same page again: %d entries, want %d", len(got), len(first))
	}
}

func TestAppendDropsWhatMattersLeastFirst(t *testing.T) {
	// In order: pending, failed, sent and cancelled entries of episode 2,
	// after one sent entry of episode 1; the rest of the cap is pending.
	ns := []klaxonv1alpha1.Notification{
		{Episode: 2, Responder: "pending", State: klaxonv1alpha1.NotificationPending},
		{Episode: 2, Responder: "failed", State: klaxonv1alpha1.NotificationFailed},
		{Episode: 2, Responder: "sent", State: klaxonv1alpha1.NotificationSent},
		{Episode: 1, Responder: "old", State: klaxonv1alpha1.NotificationSent},
		{Episode: 2, Responder: "cancelled", State: klaxonv1alpha1.NotificationCancelled},
	}
	for i := len(ns); i < MaxNotifications; i++ {
		ns = append(ns, klaxonv1alpha1.Notification{Episode: 2, Responder: fmt.Sprint(i), State: klaxonv1alpha1.NotificationPending})
	}
	var gone []string
	for i := range 5 {
		var dropped []klaxonv1alpha1.Notification
		before := map[string]bool{}
		for _, n := range ns {
			before[n.Responder] = true
		}
		ns, dropped = Append(ns, []klaxonv1alpha1.Notification{{Episode: 2, Responder: fmt.Sprint("new", i), State: klaxonv1alpha1.NotificationPending}}, 2)
		if len(ns) != MaxNotifications {
			t.Fatalf("%d entries, want %d", len(ns), MaxNotifications)
		}
		after := map[string]bool{}
		for _, n := range ns {
			after[n.Responder] = true
		}
		for who := range before {
			if !after[who] {
				gone = append(gone, who)
			}
		}
		if (len(dropped) > 0) != (i == 4) {
			t.Errorf("round %d reported %d dropped pending entries", i, len(dropped))
		}
	}
	want := []string{"old", "sent", "cancelled", "failed", "pending"}
	if fmt.Sprint(gone) != fmt.Sprint(want) {
		t.Errorf("dropped %v, want %v", gone, want)
	}
}

func TestApplyRetriesWithBackoffThenFails(t *testing.T) {
	n := klaxonv1alpha1.Notification{State: klaxonv1alpha1.NotificationPending, DueAt: metav1.NewTime(t0)}
	at := t0
	var waits []time.Duration
	for range MaxAttempts - 1 {
		if !Due(&n, at) {
			t.Fatalf("not due at %s: %+v", at, n)
		}
		if r := Apply(&n, Outcome{At: at, Err: errors.New("503")}); r != Retrying {
			t.Fatalf("attempt %d: %v, want Retrying", n.Attempts, r)
		}
		wait := n.NextAttemptAt.Sub(at)
		if Due(&n, at.Add(wait-time.Second)) {
			t.Fatalf("due a second before the backoff ends")
		}
		if NextDue([]klaxonv1alpha1.Notification{n}, at) != n.NextAttemptAt.Time {
			t.Fatalf("NextDue = %s, want %s", NextDue([]klaxonv1alpha1.Notification{n}, at), n.NextAttemptAt)
		}
		waits = append(waits, wait)
		at = at.Add(wait)
	}
	want := []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("backoff %v, want %v", waits, want)
	}
	if r := Apply(&n, Outcome{At: at, Err: errors.New("503")}); r != Failed || n.State != klaxonv1alpha1.NotificationFailed || n.Attempts != MaxAttempts {
		t.Errorf("last attempt: %v, %+v; want Failed after %d attempts", r, n, MaxAttempts)
	}
	if r := Apply(&n, Outcome{At: at}); r != Unchanged || n.State != klaxonv1alpha1.NotificationFailed {
		t.Errorf("a Failed entry changed: %v %+v", r, n)
	}
}

// A rate-limited answer's Retry-After holds the retry back when it is
// longer than the backoff, and not when it is shorter.
func TestApplyWaitsAsLongAsTheChannelAsked(t *testing.T) {
	for _, tc := range []struct {
		retryAfter, want time.Duration
	}{
		{0, 15 * time.Second},
		{3 * time.Second, 15 * time.Second},
		{90 * time.Second, 90 * time.Second},
	} {
		n := klaxonv1alpha1.Notification{State: klaxonv1alpha1.NotificationPending, DueAt: metav1.NewTime(t0)}
		if r := Apply(&n, Outcome{At: t0, Err: errors.New("429"), RetryAfter: tc.retryAfter}); r != Retrying {
			t.Fatalf("Retry-After %s: %v, want Retrying", tc.retryAfter, r)
		}
		if got := n.NextAttemptAt.Sub(t0); got != tc.want {
			t.Errorf("Retry-After %s: retry after %s, want %s", tc.retryAfter, got, tc.want)
		}
	}
}

func TestApply(t *testing.T) {
	pending := func() klaxonv1alpha1.Notification {
		return klaxonv1alpha1.Notification{State: klaxonv1alpha1.NotificationPending, DueAt: metav1.NewTime(t0)}
	}
	n := pending()
	if r := Apply(&n, Outcome{At: t0, Ref: "C1/1.2"}); r != Sent || n.SentAt == nil || n.MessageRef != "C1/1.2" || n.Attempts != 1 {
		t.Errorf("sent: %v %+v", r, n)
	}
	if r := Apply(&n, Outcome{At: t0}); r != Unchanged || n.Attempts != 1 {
		t.Errorf("a second outcome changed a Sent entry: %v %+v", r, n)
	}
	n = pending()
	if r := Apply(&n, Outcome{At: t0, Err: errors.New("550 no such user"), Permanent: true}); r != Failed || n.Error != "550 no such user" {
		t.Errorf("permanent: %v %+v", r, n)
	}
	n = pending()
	n.State = klaxonv1alpha1.NotificationCancelled
	if r := Apply(&n, Outcome{At: t0}); r != Sent {
		t.Errorf("a send under way when cancelled did reach someone: %v %+v", r, n)
	}
	n = pending()
	n.State = klaxonv1alpha1.NotificationCancelled
	if r := Apply(&n, Outcome{At: t0, Err: errors.New("x")}); r != Unchanged {
		t.Errorf("a failed send of a cancelled entry changed it: %v", r)
	}
	n = pending()
	if r := Apply(&n, Outcome{At: t0, Err: errors.New(strings.Repeat("x", 5000))}); r != Retrying || len(n.Error) > klaxonv1alpha1.MaxNotificationErrorLength*4 {
		t.Errorf("long error kept at %d bytes", len(n.Error))
	}
}

func TestCancel(t *testing.T) {
	ns := []klaxonv1alpha1.Notification{
		{Episode: 1, State: klaxonv1alpha1.NotificationPending},
		{Episode: 2, State: klaxonv1alpha1.NotificationPending},
		{Episode: 2, State: klaxonv1alpha1.NotificationSent},
	}
	if n := Cancel(ns, 2, true); n != 1 || ns[0].State != klaxonv1alpha1.NotificationCancelled || ns[1].State != klaxonv1alpha1.NotificationPending {
		t.Errorf("an open episode 2 cancelled %d: %+v", n, ns)
	}
	if n := Cancel(ns, 2, false); n != 1 || ns[1].State != klaxonv1alpha1.NotificationCancelled || ns[2].State != klaxonv1alpha1.NotificationSent {
		t.Errorf("acknowledgement cancelled %d: %+v", n, ns)
	}
}

func TestFailures(t *testing.T) {
	mk := func(ep int32, state klaxonv1alpha1.NotificationState, channel, err string) klaxonv1alpha1.Notification {
		return klaxonv1alpha1.Notification{Episode: ep, Responder: "alice", Contact: "mail", State: state, Channel: channel, Error: err}
	}
	cases := map[string]struct {
		ns                  []klaxonv1alpha1.Notification
		failed, ok          bool
		reason, messageSays string
	}{
		"none":               {nil, false, false, "", ""},
		"an earlier episode": {[]klaxonv1alpha1.Notification{mk(1, "Failed", "mail", "550")}, false, false, "", ""},
		"all sent":           {[]klaxonv1alpha1.Notification{mk(2, "Sent", "mail", "")}, false, true, klaxonv1alpha1.ReasonDelivered, ""},
		"unreached":          {[]klaxonv1alpha1.Notification{mk(2, "Failed", "", "paged alice: no contact for SEV1")}, true, true, klaxonv1alpha1.ReasonNobodyReached, "paged alice: no contact for SEV1"},
		"delivery failed": {[]klaxonv1alpha1.Notification{mk(2, "Failed", "", "paged bob: no Responder named bob"), mk(2, "Failed", "mail", "550 no such user")},
			true, true, klaxonv1alpha1.ReasonDeliveryFailed, "alice (mail) via mail: 550 no such user; paged bob"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			failed, reason, message, ok := Failures(tc.ns, 2)
			if failed != tc.failed || ok != tc.ok || reason != tc.reason || !strings.Contains(message, tc.messageSays) {
				t.Errorf("Failures = %v %q %q %v", failed, reason, message, ok)
			}
		})
	}
}

func TestReachPlansAgainWhenAResponderAppears(t *testing.T) {
	page := Page{Episode: 1, At: t0, Severity: "SEV1", People: []string{"alice", "bob"}}
	ns := Plan(page) // neither has a Responder yet
	if got, changed := Reach(ns, 1, "SEV1", nil); changed || len(got) != 2 {
		t.Fatalf("nothing new: changed %v, %d entries", changed, len(got))
	}
	got, changed := Reach(ns, 1, "SEV1", map[string]*klaxonv1alpha1.ResponderSpec{"alice": alice()})
	var rows []string
	for _, n := range got {
		rows = append(rows, row(n))
	}
	want := []string{"bob/@: Failed +0s paged bob: no Responder named bob",
		"alice/slack@team-slack:U1 Pending +0s", "alice/mail@mail:alice@example.com Pending +0s", "alice/phone@sms:+49151 Pending +5m0s"}
	if !changed || strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("Reach (changed %v):\n%s\nwant:\n%s", changed, strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	// Another episode's unreached page stays as it was.
	if _, again := Reach(ns, 2, "SEV1", map[string]*klaxonv1alpha1.ResponderSpec{"alice": alice()}); again {
		t.Error("planned again a page of an earlier episode")
	}
	// A Responder without a rule for the severity changes only the reason.
	got, changed = Reach(ns, 1, "SEV4", map[string]*klaxonv1alpha1.ResponderSpec{"alice": {
		Contacts: []klaxonv1alpha1.Contact{{Name: "mail", Channel: "mail", Address: "a@x"}},
		Rules:    []klaxonv1alpha1.NotificationRule{{Contact: "mail", Severities: []klaxonv1alpha1.Severity{"SEV1"}}}}})
	if !changed || got[0].Error != "paged alice: no contact for SEV4" {
		t.Errorf("changed %v, %+v", changed, got[0])
	}
}

func TestNewsIsNeverCancelledAndKeyedByEvent(t *testing.T) {
	stakeholders := []klaxonv1alpha1.Stakeholder{{Channel: "mail", Address: "status@example.com"}, {Channel: "mail", Address: "status@example.com"},
		{Channel: "slack", Address: "#status"}}
	ns := News(stakeholders, 1, klaxonv1alpha1.NotificationEventUpdate, 2, t0)
	if len(ns) != 2 || ns[0].Update != 2 || ns[1].Channel != "slack" || ns[0].State != klaxonv1alpha1.NotificationPending {
		t.Fatalf("News = %+v", ns)
	}
	other := News(stakeholders, 1, klaxonv1alpha1.NotificationEventUpdate, 3, t0)
	if Key(&ns[0]) == Key(&other[0]) {
		t.Error("two updates share a key")
	}
	if got, _ := Append(ns, ns, 1); len(got) != 2 {
		t.Error("Append of the same news again added entries")
	}
	if n := Cancel(ns, 2, false); n != 0 || ns[0].State != klaxonv1alpha1.NotificationPending {
		t.Errorf("acknowledgement or a reopen cancelled news to stakeholders: %d", n)
	}
	if d := Describe(&ns[1]); d != "#status (Update)" {
		t.Errorf("Describe = %q", d)
	}
}

func TestDescribeMasksPhoneNumbers(t *testing.T) {
	for _, c := range []struct {
		n    klaxonv1alpha1.Notification
		want string
	}{
		{klaxonv1alpha1.Notification{Address: "+4915112345678", Event: klaxonv1alpha1.NotificationEvent("Triggered")}, "+…78 (Triggered)"},
		{klaxonv1alpha1.Notification{Address: "+4915112345678"}, "+…78"},
		{klaxonv1alpha1.Notification{Address: "#payments"}, "#payments"},
		{klaxonv1alpha1.Notification{Address: "status@example.com", Event: klaxonv1alpha1.NotificationEvent("Resolved")}, "status@example.com (Resolved)"},
		{klaxonv1alpha1.Notification{Responder: "alice", Contact: "text", Address: "+4915112345678"}, "alice (text)"},
	} {
		if got := Describe(&c.n); got != c.want {
			t.Errorf("Describe(%+v) = %q, want %q", c.n, got, c.want)
		}
	}
}

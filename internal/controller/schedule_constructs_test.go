package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// wallClock writes an instant as a layer start or end in UTC.
func wallClock(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

// layer is a UTC layer of participants with shifts of a day.
func layer(name string, start time.Time, participants ...string) klaxonv1alpha1.ScheduleLayer {
	return klaxonv1alpha1.ScheduleLayer{Name: name, Participants: participants, Start: wallClock(start),
		Shift: metav1.Duration{Duration: 24 * time.Hour}}
}

func createSchedule(t *testing.T, ns, name string, layers ...klaxonv1alpha1.ScheduleLayer) *klaxonv1alpha1.OnCallSchedule {
	t.Helper()
	s := &klaxonv1alpha1.OnCallSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: layers},
	}
	if err := k8s.Create(context.Background(), s); err != nil {
		t.Fatalf("creating schedule %s: %v", name, err)
	}
	return s
}

// onCallReads renders status.onCall and nextHandoffAt as
// "alice,bob until 2026-11-27T18:00:00Z", or "... until -" without one.
func onCallReads(s *klaxonv1alpha1.OnCallSchedule) string {
	next := "-"
	if s.Status.NextHandoffAt != nil {
		next = s.Status.NextHandoffAt.UTC().Format(time.RFC3339)
	}
	return strings.Join(s.Status.OnCall, ",") + " until " + next
}

// waitForOnCall waits until the schedule's status reads want.
func waitForOnCall(t *testing.T, s *klaxonv1alpha1.OnCallSchedule, want string) *klaxonv1alpha1.OnCallSchedule {
	t.Helper()
	return waitForOnCallWithin(t, s, want, suite.DefaultTimeout)
}

// waitForOnCallWithin is waitForOnCall with a bound of its own.
func waitForOnCallWithin(t *testing.T, s *klaxonv1alpha1.OnCallSchedule, want string, timeout time.Duration) *klaxonv1alpha1.OnCallSchedule {
	t.Helper()
	got := &klaxonv1alpha1.OnCallSchedule{}
	var last string
	suite.Eventually(t, fmt.Sprintf("%s to read %q", s.Name, want), timeout, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), got); err != nil {
			return false, err
		}
		last = onCallReads(got)
		return last == want, nil
	})
	return got
}

// at moves the operator's clock to t and has the schedule reconciled then.
func at(t *testing.T, when time.Time, s *klaxonv1alpha1.OnCallSchedule) {
	t.Helper()
	fakeClock.SetTime(when)
	nudge(t, s)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// nextWeekday returns the first instant at or after t that falls on day at
// the given hour, UTC.
func nextWeekday(t time.Time, day time.Weekday, hour int) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, time.UTC)
	for d.Weekday() != day || d.Before(t) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// A weekend layer (Fri 18:00 to Mon 09:00) over a weekday layer: the
// weekend person is on call from Friday evening to Monday morning, and
// nextHandoffAt names each handoff.
func TestWeekendLayerOverAWeekdayLayer(t *testing.T) {
	ns := newNamespace(t)
	friday := nextWeekday(operatorNow(), time.Friday, 17)
	weekend := layer("weekend", friday.AddDate(0, 0, -7), "dave")
	weekend.Restrictions = []klaxonv1alpha1.TimeRestriction{{FromDay: "Fri", From: "18:00", ToDay: "Mon", To: "09:00"}}
	s := createSchedule(t, ns, "payments-primary", layer("weekdays", friday.AddDate(0, 0, -7), "alice"), weekend)

	evening, monday := friday.Add(time.Hour), friday.Add(3*24*time.Hour-8*time.Hour)
	at(t, friday, s)
	waitForOnCall(t, s, "alice until "+rfc3339(evening))
	at(t, evening, s)
	waitForOnCall(t, s, "dave until "+rfc3339(monday))
	at(t, friday.Add(44*time.Hour), s) // Sunday 13:00
	waitForOnCall(t, s, "dave until "+rfc3339(monday))
	at(t, monday, s)
	waitForOnCall(t, s, "alice until "+rfc3339(evening.AddDate(0, 0, 7)))
}

// A layer that ends in the middle of its rotation hands back to the layer
// below at its end, and then never hands off again.
func TestLayerEndingMidRotation(t *testing.T) {
	ns := newNamespace(t)
	now := operatorNow()
	old := layer("old", now.Add(-25*time.Hour), "alice", "bob")
	end := now.Add(30 * time.Minute)
	old.End = wallClock(end)
	s := createSchedule(t, ns, "retiring", layer("base", now.Add(-time.Hour), "zed"), old)
	waitForOnCall(t, s, "bob until "+rfc3339(end))
	at(t, end, s)
	waitForOnCall(t, s, "zed until -")
}

// An Add layer puts its people on call beside those of the layer below,
// and escalation to the schedule pages both.
func TestAddLayerPagesBesideTheLayerBelow(t *testing.T) {
	ns := newNamespace(t)
	now := operatorNow()
	shadow := layer("shadow", now.Add(-time.Hour), "carol")
	shadow.Combine = klaxonv1alpha1.CombineAdd
	s := createSchedule(t, ns, "primary", layer("primary", now.Add(-time.Hour), "alice"), shadow)
	waitForOnCall(t, s, "alice,carol until -")
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{Schedule: "primary"})
	inc := createIncident(t, k8s, ns, "checkout-down", withPolicy("direct"))
	waitForPaged(t, inc, "alice@0/0,carol@0/0")
}

// A group's turn puts three people on call: escalation to the schedule
// pages each as their own assignment, and each is delivered exactly once.
func TestGroupTurnPagesEachMemberOnce(t *testing.T) {
	ns := newNamespace(t)
	h := newHook(t, nil)
	hookChannel(t, ns, "hook", h.URL)
	for _, p := range []string{"alice", "bob", "carol"} {
		responder(t, ns, p, nil, "hook")
	}
	now := operatorNow()
	pairs := klaxonv1alpha1.ScheduleLayer{Name: "trio", Start: wallClock(now.Add(-time.Hour)), Shift: metav1.Duration{Duration: 24 * time.Hour},
		Groups: []klaxonv1alpha1.ScheduleGroup{{Members: []string{"carol", "alice", "bob"}}, {Members: []string{"dave"}}}}
	s := createSchedule(t, ns, "primary", pairs)
	waitForOnCall(t, s, "alice,bob,carol until "+rfc3339(now.Add(23*time.Hour)))

	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{Schedule: "primary"})
	inc := createIncident(t, k8s, ns, "checkout-down", withPolicy("direct"))
	got := waitForPaged(t, inc, "alice@0/0,bob@0/0,carol@0/0")
	for _, a := range got.Status.Assignments {
		if a.Schedule != "primary" {
			t.Errorf("assignment %+v is not on behalf of the schedule", a)
		}
	}
	waitForNotifications(t, inc, "alice/hook:Sent/1,bob/hook:Sent/1,carol/hook:Sent/1")
	nudge(t, inc)
	stillPaged(t, inc, "alice@0/0,bob@0/0,carol@0/0")
	var addresses []string
	for _, r := range h.requests() {
		addresses = append(addresses, field(r.payload, "address"))
	}
	slices.Sort(addresses)
	if want := []string{"alice@hook", "bob@hook", "carol@hook"}; !slices.Equal(addresses, want) {
		t.Errorf("the webhook received pages for %q, want one each for %q", addresses, want)
	}
}

package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/controller"
)

// schedule creates a UTC schedule of one layer whose first shift started an
// hour ago on the operator's clock.
func schedule(t *testing.T, ns, name string, shift time.Duration, participants ...string) *klaxonv1alpha1.OnCallSchedule {
	t.Helper()
	start := fakeClock.Now().Add(-time.Hour).UTC()
	s := &klaxonv1alpha1.OnCallSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.OnCallScheduleSpec{
			TimeZone: "UTC",
			Layers: []klaxonv1alpha1.ScheduleLayer{{
				Name: "primary", Participants: participants,
				Start: start.Format("2006-01-02T15:04:05"),
				Shift: metav1.Duration{Duration: shift},
			}},
		},
	}
	if err := k8s.Create(context.Background(), s); err != nil {
		t.Fatalf("creating schedule %s: %v", name, err)
	}
	return s
}

// policy creates a two-level policy: primary at trigger, then secondary and
// erin ten minutes later.
func policy(t *testing.T, ns, name string, repeat int32) *klaxonv1alpha1.EscalationPolicy {
	t.Helper()
	p := &klaxonv1alpha1.EscalationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.EscalationPolicySpec{
			Levels: []klaxonv1alpha1.EscalationLevel{
				{Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: "primary"}}},
				{After: &metav1.Duration{Duration: 10 * time.Minute},
					Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: "secondary"}, {User: "erin"}}},
			},
			Repeat: repeat,
		},
	}
	if err := k8s.Create(context.Background(), p); err != nil {
		t.Fatalf("creating policy %s: %v", name, err)
	}
	return p
}

func withPolicy(name string) func(*klaxonv1alpha1.Incident) {
	return func(i *klaxonv1alpha1.Incident) {
		i.Spec.EscalationPolicyRef = &klaxonv1alpha1.LocalObjectReference{Name: name}
	}
}

// nudge touches an object so the operator reconciles it now: the fake clock
// moves without the real time its requeues wait for.
func nudge(t *testing.T, obj client.Object) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"test.klaxon.dev/nudge":"%d"}}}`, time.Now().UnixNano())
	if err := k8s.Patch(context.Background(), obj, client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
		t.Fatalf("nudging %s: %v", obj.GetName(), err)
	}
}

// paged renders the assignments as "name@level/round" in order.
func paged(inc *klaxonv1alpha1.Incident) string {
	var out []string
	for _, a := range inc.Status.Assignments {
		out = append(out, fmt.Sprintf("%s@%d/%d", a.Name, a.Level, a.Round))
	}
	return strings.Join(out, ",")
}

// waitForPaged waits until the incident's assignments read want.
func waitForPaged(t *testing.T, inc *klaxonv1alpha1.Incident, want string) *klaxonv1alpha1.Incident {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	eventually(t, fmt.Sprintf("%s to have paged %q", inc.Name, want), func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
			return false, err
		}
		return paged(got) == want, nil
	})
	return got
}

// stillPaged checks, after giving the operator time, that nothing more was paged.
func stillPaged(t *testing.T, inc *klaxonv1alpha1.Incident, want string) {
	t.Helper()
	time.Sleep(time.Second)
	got := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
		t.Fatal(err)
	}
	if paged(got) != want {
		t.Fatalf("assignments = %q, want still %q", paged(got), want)
	}
}

func condition(inc *klaxonv1alpha1.Incident, condType string) string {
	c := meta.FindStatusCondition(inc.Status.Conditions, condType)
	if c == nil {
		return "absent"
	}
	return string(c.Status) + "/" + c.Reason
}

// pagingFixture is a namespace with schedules primary (alice) and secondary
// (bob) and a policy "payments" that repeats once.
func pagingFixture(t *testing.T) string {
	ns := newNamespace(t)
	schedule(t, ns, "primary", 24*time.Hour, "alice")
	schedule(t, ns, "secondary", 24*time.Hour, "bob")
	policy(t, ns, "payments", 1)
	return ns
}

func TestEscalationPagesLevelsRepeatsAndExhausts(t *testing.T) {
	ns := pagingFixture(t)
	inc := createIncident(t, k8s, ns, "checkout-down", withPolicy("payments"))
	got := waitForPaged(t, inc, "alice@0/0")
	if c := condition(got, klaxonv1alpha1.ConditionRespondersAssigned); c != "True/Paged" {
		t.Errorf("RespondersAssigned = %s", c)
	}
	if got.Status.Commander != "alice" {
		t.Errorf("commander = %q, want the first person paged", got.Status.Commander)
	}
	due := got.Status.Escalation.NextEscalationAt.Time
	if want := got.Status.TriggeredAt.Add(10 * time.Minute); due.Sub(want).Abs() > time.Second {
		t.Errorf("nextEscalationAt = %v, want about %v", due, want)
	}

	// A second before it is due, nothing happens.
	fakeClock.SetTime(due.Add(-time.Second))
	nudge(t, inc)
	stillPaged(t, inc, "alice@0/0")

	fakeClock.SetTime(due)
	nudge(t, inc)
	got = waitForPaged(t, inc, "alice@0/0,bob@1/0,erin@1/0")
	if c := condition(got, klaxonv1alpha1.ConditionEscalated); c != "True/Escalated" {
		t.Errorf("Escalated = %s", c)
	}

	// Round 1 runs through the levels again, then escalation is exhausted.
	fakeClock.Step(10 * time.Minute)
	nudge(t, inc)
	waitForPaged(t, inc, "alice@0/0,bob@1/0,erin@1/0,alice@0/1")
	fakeClock.Step(10 * time.Minute)
	nudge(t, inc)
	got = waitForPaged(t, inc, "alice@0/0,bob@1/0,erin@1/0,alice@0/1,bob@1/1,erin@1/1")
	if c := condition(got, klaxonv1alpha1.ConditionEscalationExhausted); c != "True/Exhausted" {
		t.Errorf("EscalationExhausted = %s", c)
	}
	fakeClock.Step(time.Hour)
	nudge(t, inc)
	stillPaged(t, inc, "alice@0/0,bob@1/0,erin@1/0,alice@0/1,bob@1/1,erin@1/1")

	// One Event per page, naming who was paged.
	eventually(t, "four page Events", func(ctx context.Context) (bool, error) {
		evs, err := incidentEvents(ctx, got)
		var pages []string
		for _, e := range evs {
			if e.Reason == "Paged" || e.Reason == "Escalated" {
				pages = append(pages, e.Note)
			}
		}
		return len(pages) == 4 && strings.Contains(strings.Join(pages, ";"), "Paged bob (on call for secondary), erin at level 1"), err
	})
}

func TestAcknowledgementStopsEscalationAndReopenRestartsIt(t *testing.T) {
	ns := pagingFixture(t)
	inc := createIncident(t, k8s, ns, "ack", withPolicy("payments"))
	waitForPaged(t, inc, "alice@0/0")
	mustSetState(t, k8s, inc, A)
	got := waitForPhase(t, inc, A, 1)
	if got.Status.Escalation.NextEscalationAt != nil {
		t.Errorf("nextEscalationAt = %v after acknowledgement, want none", got.Status.Escalation.NextEscalationAt)
	}
	fakeClock.Step(30 * time.Minute)
	nudge(t, inc)
	stillPaged(t, inc, "alice@0/0")

	mustSetState(t, k8s, inc, R)
	waitForPhase(t, inc, R, 1)
	fakeClock.Step(time.Minute)
	mustSetState(t, k8s, inc, T)
	got = waitForPaged(t, inc, "alice@0/0,alice@0/0")
	if got.Status.Episode != 2 || got.Status.Escalation.Level != 0 {
		t.Errorf("after reopen: episode %d, escalation %+v", got.Status.Episode, got.Status.Escalation)
	}
	if c := condition(got, klaxonv1alpha1.ConditionEscalated); c != "False/NotEscalated" {
		t.Errorf("Escalated after reopen = %s", c)
	}
}

func TestPagingWaitsForMissingPolicyAndSchedule(t *testing.T) {
	ns := newNamespace(t)
	inc := createIncident(t, k8s, ns, "early", withPolicy("payments"))
	eventually(t, "PolicyNotFound", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), inc)
		return condition(inc, klaxonv1alpha1.ConditionRespondersAssigned) == "False/PolicyNotFound", err
	})
	if inc.Status.Phase != T {
		t.Fatalf("phase = %s, want Triggered", inc.Status.Phase)
	}

	pol := policy(t, ns, "payments", 0)
	eventually(t, "ScheduleNotFound", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), inc)
		c := meta.FindStatusCondition(inc.Status.Conditions, klaxonv1alpha1.ConditionRespondersAssigned)
		return c != nil && c.Reason == klaxonv1alpha1.ReasonScheduleNotFound && strings.Contains(c.Message, "primary"), err
	})
	eventually(t, "policy not Ready", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(pol), pol)
		c := meta.FindStatusCondition(pol.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == klaxonv1alpha1.ReasonScheduleNotFound &&
			strings.Contains(c.Message, "primary, secondary"), err
	})

	// The schedules appear: the policy turns Ready and paging starts by itself.
	schedule(t, ns, "primary", 24*time.Hour, "alice")
	schedule(t, ns, "secondary", 24*time.Hour, "bob")
	waitForPaged(t, inc, "alice@0/0")
	eventually(t, "policy Ready", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(pol), pol)
		return meta.IsStatusConditionTrue(pol.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
}

func TestRestartMidEscalationPagesEachLevelOnce(t *testing.T) {
	ns := pagingFixture(t)
	inc := createIncident(t, k8s, ns, "restart", withPolicy("payments"))
	got := waitForPaged(t, inc, "alice@0/0")
	due := got.Status.Escalation.NextEscalationAt.Time

	// The operator is down while level 1 falls due, and long after.
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	fakeClock.SetTime(due.Add(25 * time.Minute))
	if err := startOperator(); err != nil {
		t.Fatal(err)
	}
	// Level 1 is paged once, level 0 not again; round 1 waits its full delay.
	got = waitForPaged(t, inc, "alice@0/0,bob@1/0,erin@1/0")
	stillPaged(t, inc, "alice@0/0,bob@1/0,erin@1/0")
	next := got.Status.Escalation.NextEscalationAt.Time
	if want := fakeClock.Now().Add(10 * time.Minute); next.Before(want.Add(-time.Second)) {
		t.Errorf("next step due %v, want a full delay after the catch-up page (%v)", next, want)
	}

	// A restart with nothing due pages nobody.
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	if err := startOperator(); err != nil {
		t.Fatal(err)
	}
	nudge(t, inc)
	stillPaged(t, inc, "alice@0/0,bob@1/0,erin@1/0")
}

func TestScheduleStatusFollowsHandoffs(t *testing.T) {
	ns := newNamespace(t)
	s := schedule(t, ns, "follow-the-sun", 12*time.Hour, "alice", "bob")
	handoff := fakeClock.Now().Add(11 * time.Hour).UTC().Truncate(time.Second)
	eventually(t, "alice on call", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(s), s)
		return fmt.Sprint(s.Status.OnCall) == "[alice]" && s.Status.NextHandoffAt != nil, err
	})
	if !s.Status.NextHandoffAt.Time.Equal(handoff) {
		t.Errorf("nextHandoffAt = %v, want %v", s.Status.NextHandoffAt, handoff)
	}

	// The reconciler asks to be woken at the handoff.
	r := controller.NewOnCallScheduleReconciler(k8s, &countingRecorder{}, controller.WithClock(fakeClock))
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(s)})
	if err != nil {
		t.Fatal(err)
	}
	if want := handoff.Sub(fakeClock.Now()); res.RequeueAfter != want {
		t.Errorf("RequeueAfter = %v, want %v", res.RequeueAfter, want)
	}

	fakeClock.SetTime(handoff)
	nudge(t, s)
	eventually(t, "bob on call after the handoff", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(s), s)
		return fmt.Sprint(s.Status.OnCall) == "[bob]" && s.Status.NextHandoffAt.Time.Equal(handoff.Add(12*time.Hour)), err
	})
}

func TestInvalidTimeZoneIsNotReady(t *testing.T) {
	ns := newNamespace(t)
	s := &klaxonv1alpha1.OnCallSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: "mars", Namespace: ns},
		Spec: klaxonv1alpha1.OnCallScheduleSpec{
			TimeZone: "Mars/Olympus_Mons",
			Layers: []klaxonv1alpha1.ScheduleLayer{{
				Name: "primary", Participants: []string{"alice"}, Start: "2026-11-02T09:00:00",
				Shift: metav1.Duration{Duration: 168 * time.Hour},
			}},
		},
	}
	if err := k8s.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ready=False InvalidTimeZone", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(s), s)
		c := meta.FindStatusCondition(s.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == klaxonv1alpha1.ReasonInvalidTimeZone &&
			strings.Contains(c.Message, "Mars/Olympus_Mons"), err
	})
}

package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/controller"
)

// window creates a one-off window for service checkout in [start, end) and
// waits until the operator has seen it, so that incidents created next are
// judged with it.
func maintenanceWindow(t *testing.T, ns, name string, mode klaxonv1alpha1.MaintenanceMode, start, end time.Time) *klaxonv1alpha1.MaintenanceWindow {
	t.Helper()
	mw := &klaxonv1alpha1.MaintenanceWindow{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.MaintenanceWindowSpec{
			Services: []klaxonv1alpha1.ServiceName{"checkout"},
			Start:    &metav1.Time{Time: start}, End: &metav1.Time{Time: end},
			Mode: mode, Reason: "Database upgrade",
		},
	}
	if err := k8s.Create(context.Background(), mw); err != nil {
		t.Fatalf("creating maintenance window %s: %v", name, err)
	}
	eventually(t, name+" seen by the operator", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), mw)
		return meta.FindStatusCondition(mw.Status.Conditions, klaxonv1alpha1.ConditionActive) != nil, err
	})
	return mw
}

func forCheckout(i *klaxonv1alpha1.Incident) { i.Spec.Service = "checkout" }

// now is the operator's time to the second, as the API stores times.
func operatorNow() time.Time { return fakeClock.Now().UTC().Truncate(time.Second) }

func hasMaintenanceEvent(t *testing.T, inc *klaxonv1alpha1.Incident, reason, says string) {
	t.Helper()
	eventually(t, "a "+reason+" Event", func(ctx context.Context) (bool, error) {
		evs, err := incidentEvents(ctx, inc)
		for _, e := range evs {
			if e.Reason == reason && strings.Contains(e.Note, says) {
				return true, err
			}
		}
		return false, err
	})
}

func hasTimelineEntry(inc *klaxonv1alpha1.Incident, typ string) bool {
	for _, e := range inc.Status.Timeline {
		if e.Type == typ {
			return true
		}
	}
	return false
}

func TestSuppressWindowKeepsAnIncidentFromBeingPaged(t *testing.T) {
	ns := pagingFixture(t)
	start := operatorNow().Add(-time.Minute)
	maintenanceWindow(t, ns, "db-upgrade", klaxonv1alpha1.MaintenanceSuppress, start, start.Add(time.Hour))
	inc := createIncident(t, k8s, ns, "suppressed", withPolicy("payments"), forCheckout)

	got := waitFor(t, inc, "Suppressed=True", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionSuppressed) == "True/"+klaxonv1alpha1.ReasonMaintenanceSuppress
	})
	if c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionSuppressed); !strings.Contains(c.Message, "db-upgrade") {
		t.Errorf("Suppressed message %q does not name the window", c.Message)
	}
	if !hasTimelineEntry(got, klaxonv1alpha1.TimelineSuppressed) {
		t.Errorf("timeline %+v has no Suppressed entry", got.Status.Timeline)
	}
	hasMaintenanceEvent(t, inc, klaxonv1alpha1.TimelineSuppressed, "db-upgrade")
	stillPaged(t, inc, "")

	// Suppress means for good: the window ends, the incident stays unpaged.
	fakeClock.SetTime(start.Add(2 * time.Hour))
	nudge(t, inc)
	stillPaged(t, inc, "")

	// A reopen after the window is a new episode, and it pages.
	mustSetState(t, k8s, inc, R)
	waitForPhase(t, inc, R, 1)
	fakeClock.Step(time.Minute)
	mustSetState(t, k8s, inc, T)
	got = waitForPaged(t, inc, "alice@0/0")
	if c := condition(got, klaxonv1alpha1.ConditionSuppressed); c != "False/"+klaxonv1alpha1.ReasonMaintenanceEnded {
		t.Errorf("Suppressed = %s after a reopen outside the window", c)
	}

	// An incident of another service is paged as ever.
	other := createIncident(t, k8s, ns, "search", withPolicy("payments"), func(i *klaxonv1alpha1.Incident) { i.Spec.Service = "search" })
	waitForPaged(t, other, "alice@0/0")
}

func TestHoldWindowPagesWhenItEnds(t *testing.T) {
	ns := pagingFixture(t)
	end := operatorNow().Add(30 * time.Minute)
	maintenanceWindow(t, ns, "deploy-freeze", klaxonv1alpha1.MaintenanceHold, operatorNow().Add(-time.Minute), end)
	inc := createIncident(t, k8s, ns, "held", withPolicy("payments"), forCheckout)
	waitFor(t, inc, "Suppressed=True MaintenanceHold", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionSuppressed) == "True/"+klaxonv1alpha1.ReasonMaintenanceHold
	})
	hasMaintenanceEvent(t, inc, klaxonv1alpha1.TimelineHeld, "deploy-freeze")
	stillPaged(t, inc, "")

	// The reconciler asks to be woken at the window's end.
	r := controller.NewIncidentReconciler(k8s, &countingRecorder{}, controller.WithClock(fakeClock))
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(inc)})
	if err != nil {
		t.Fatal(err)
	}
	if want := end.Sub(fakeClock.Now()); res.RequeueAfter <= 0 || res.RequeueAfter > want {
		t.Errorf("RequeueAfter = %v, want at most %v", res.RequeueAfter, want)
	}

	// The operator is down when the window ends: the hold is in status,
	// so the operator that comes back pages once, at once.
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	fakeClock.SetTime(end)
	if err := startOperator(); err != nil {
		t.Fatal(err)
	}
	got := waitForPaged(t, inc, "alice@0/0")
	stillPaged(t, inc, "alice@0/0")
	if c := condition(got, klaxonv1alpha1.ConditionSuppressed); c != "False/"+klaxonv1alpha1.ReasonMaintenanceEnded {
		t.Errorf("Suppressed = %s after the window", c)
	}
	// Level 0 at the window's end; level 1 a full delay after it.
	if due := got.Status.Escalation.NextEscalationAt.Time; due.Sub(end.Add(10*time.Minute)).Abs() > time.Second {
		t.Errorf("nextEscalationAt = %v, want %v", due, end.Add(10*time.Minute))
	}
}

func TestWindowPausesEscalationAndItsEndResumesIt(t *testing.T) {
	ns := pagingFixture(t)
	inc := createIncident(t, k8s, ns, "paused", withPolicy("payments"), forCheckout)
	got := waitForPaged(t, inc, "alice@0/0")
	due := got.Status.Escalation.NextEscalationAt.Time

	// Four minutes in, a window starts: six minutes of the delay are left.
	fakeClock.SetTime(due.Add(-6 * time.Minute))
	end := operatorNow().Add(time.Hour)
	maintenanceWindow(t, ns, "network", klaxonv1alpha1.MaintenanceSuppress, operatorNow(), end)
	waitFor(t, inc, "held by the window", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionSuppressed) == "True/"+klaxonv1alpha1.ReasonMaintenanceHold
	})

	// Level 1 falls due during the window: nobody is paged.
	fakeClock.SetTime(due.Add(time.Minute))
	nudge(t, inc)
	stillPaged(t, inc, "alice@0/0")

	// The window ends: the next level is due the six minutes later that
	// were left when it began, not at once.
	fakeClock.SetTime(end)
	nudge(t, inc)
	got = waitFor(t, inc, "resumed", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionSuppressed) == "False/"+klaxonv1alpha1.ReasonMaintenanceEnded
	})
	if next := got.Status.Escalation.NextEscalationAt.Time; next.Sub(end.Add(6*time.Minute)).Abs() > time.Second {
		t.Errorf("nextEscalationAt = %v after the window, want %v", next, end.Add(6*time.Minute))
	}
	if !hasTimelineEntry(got, klaxonv1alpha1.TimelineResumed) {
		t.Errorf("timeline %+v has no Resumed entry", got.Status.Timeline)
	}
	stillPaged(t, inc, "alice@0/0")
	fakeClock.SetTime(end.Add(6 * time.Minute))
	nudge(t, inc)
	waitForPaged(t, inc, "alice@0/0,bob@1/0,erin@1/0")
}

func TestMaintenanceWindowStatusFollowsItsBoundaries(t *testing.T) {
	ns := newNamespace(t)
	start := operatorNow().Add(time.Hour)
	mw := maintenanceWindow(t, ns, "later", klaxonv1alpha1.MaintenanceHold, start, start.Add(time.Hour))
	if c := meta.FindStatusCondition(mw.Status.Conditions, klaxonv1alpha1.ConditionActive); c.Status != metav1.ConditionFalse {
		t.Errorf("Active = %s before the window", c.Status)
	}
	if mw.Status.NextStart == nil || !mw.Status.NextStart.Time.Equal(start) || mw.Status.NextEnd == nil || !mw.Status.NextEnd.Time.Equal(start.Add(time.Hour)) {
		t.Errorf("next start %v, end %v; want %v, %v", mw.Status.NextStart, mw.Status.NextEnd, start, start.Add(time.Hour))
	}
	r := controller.NewMaintenanceWindowReconciler(k8s, &countingRecorder{}, controller.WithClock(fakeClock))
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(mw)})
	if err != nil {
		t.Fatal(err)
	}
	if want := start.Sub(fakeClock.Now()); res.RequeueAfter != want {
		t.Errorf("RequeueAfter = %v, want %v", res.RequeueAfter, want)
	}

	fakeClock.SetTime(start)
	nudge(t, mw)
	eventually(t, "Active at the start", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), mw)
		return meta.IsStatusConditionTrue(mw.Status.Conditions, klaxonv1alpha1.ConditionActive) && mw.Status.NextStart == nil, err
	})
}

// The API server refuses a window that selects nothing, sets both kinds of
// time or neither, or ends before it starts.
func TestInvalidMaintenanceWindowsAreRejected(t *testing.T) {
	ns := newNamespace(t)
	at := func(s string) *metav1.Time {
		v, _ := time.Parse(time.RFC3339, s)
		return &metav1.Time{Time: v}
	}
	schedule := &klaxonv1alpha1.MaintenanceSchedule{TimeZone: "Europe/Berlin",
		TimeRestriction: klaxonv1alpha1.TimeRestriction{Days: []klaxonv1alpha1.Weekday{"Sun"}, From: "01:00", To: "04:00"}}
	services := []klaxonv1alpha1.ServiceName{"checkout"}
	cases := map[string]struct {
		spec klaxonv1alpha1.MaintenanceWindowSpec
		says string
	}{
		"no selection": {klaxonv1alpha1.MaintenanceWindowSpec{Schedule: schedule},
			"a maintenance window must select its incidents: set spec.services, a non-empty spec.selector, or both"},
		"an empty selector": {klaxonv1alpha1.MaintenanceWindowSpec{Schedule: schedule, Selector: &metav1.LabelSelector{}},
			"a maintenance window must select its incidents: set spec.services, a non-empty spec.selector, or both"},
		"start, end and schedule": {klaxonv1alpha1.MaintenanceWindowSpec{Services: services, Schedule: schedule,
			Start: at("2026-11-24T10:00:00Z"), End: at("2026-11-24T12:00:00Z")},
			"set exactly one of spec.start with spec.end, or spec.schedule"},
		"neither times nor schedule": {klaxonv1alpha1.MaintenanceWindowSpec{Services: services},
			"set exactly one of spec.start with spec.end, or spec.schedule"},
		"start without end": {klaxonv1alpha1.MaintenanceWindowSpec{Services: services, Start: at("2026-11-24T10:00:00Z")},
			"spec.start and spec.end go together"},
		"end before start": {klaxonv1alpha1.MaintenanceWindowSpec{Services: services,
			Start: at("2026-11-24T12:00:00Z"), End: at("2026-11-24T10:00:00Z")},
			"spec.end must be after spec.start"},
		"bad time of day": {klaxonv1alpha1.MaintenanceWindowSpec{Services: services,
			Schedule: &klaxonv1alpha1.MaintenanceSchedule{TimeZone: "UTC",
				TimeRestriction: klaxonv1alpha1.TimeRestriction{Days: []klaxonv1alpha1.Weekday{"Sun"}, From: "25:00", To: "04:00"}}},
			"from"},
		"a silence without matchers": {klaxonv1alpha1.MaintenanceWindowSpec{Services: services, Schedule: schedule,
			AlertmanagerSilence: &klaxonv1alpha1.MaintenanceSilence{AlertRouteRef: klaxonv1alpha1.LocalObjectReference{Name: "payments"}}},
			"spec.alertmanagerSilence.matchers"},
		"unknown mode": {klaxonv1alpha1.MaintenanceWindowSpec{Services: services, Schedule: schedule, Mode: "Ignore"},
			"mode"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			mw := &klaxonv1alpha1.MaintenanceWindow{
				ObjectMeta: metav1.ObjectMeta{Name: strings.ReplaceAll(name, " ", "-"), Namespace: ns},
				Spec:       tc.spec,
			}
			mw.Name = strings.ReplaceAll(mw.Name, ",", "")
			if err := k8s.Create(context.Background(), mw); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("got %v, want Invalid saying %q", err, tc.says)
			}
		})
	}
	t.Run("no spec", func(t *testing.T) {
		raw := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "klaxon.dev/v1alpha1", "kind": "MaintenanceWindow",
			"metadata": map[string]any{"name": "no-spec", "namespace": ns},
		}}
		const says = "a maintenance window needs a spec"
		if err := k8s.Create(context.Background(), raw); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), says) {
			t.Errorf("got %v, want Invalid saying %q", err, says)
		}
	})
	// A valid recurring window defaults to Suppress and turns Ready.
	mw := &klaxonv1alpha1.MaintenanceWindow{
		ObjectMeta: metav1.ObjectMeta{Name: "sunday", Namespace: ns},
		Spec:       klaxonv1alpha1.MaintenanceWindowSpec{Services: services, Schedule: schedule},
	}
	if err := k8s.Create(context.Background(), mw); err != nil {
		t.Fatal(err)
	}
	if mw.Spec.Mode != klaxonv1alpha1.MaintenanceSuppress {
		t.Errorf("mode = %q, want the default Suppress", mw.Spec.Mode)
	}
	eventually(t, "sunday Ready", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), mw)
		return meta.IsStatusConditionTrue(mw.Status.Conditions, klaxonv1alpha1.ConditionReady) && mw.Status.NextStart != nil, err
	})
}

// A window whose time zone the API server cannot check is stalled, saying
// why, and holds nothing.
func TestMaintenanceWindowWithUnknownTimeZoneIsNotReady(t *testing.T) {
	ns := newNamespace(t)
	mw := &klaxonv1alpha1.MaintenanceWindow{
		ObjectMeta: metav1.ObjectMeta{Name: "mars", Namespace: ns},
		Spec: klaxonv1alpha1.MaintenanceWindowSpec{Services: []klaxonv1alpha1.ServiceName{"checkout"},
			Schedule: &klaxonv1alpha1.MaintenanceSchedule{TimeZone: "Mars/Olympus_Mons",
				TimeRestriction: klaxonv1alpha1.TimeRestriction{Days: []klaxonv1alpha1.Weekday{"Sun"}, From: "00:00", To: "00:00"}}},
	}
	if err := k8s.Create(context.Background(), mw); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ready=False InvalidTimeZone", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), mw)
		c := meta.FindStatusCondition(mw.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == klaxonv1alpha1.ReasonInvalidTimeZone &&
			strings.Contains(c.Message, "Mars/Olympus_Mons"), err
	})
}

// A recurring window follows the wall clock of its time zone across a DST
// change: Sunday 01:00-04:00 in Berlin lasts two hours on 2027-03-28, when
// 02:00 CET becomes 03:00 CEST. It pauses the escalation of an incident
// paged before it from when it opened, even though the operator was down
// then, pages the incident triggered inside it when it closes, and resumes
// the paused one with the delay that was left.
func TestRecurringWindowAcrossSpringForward(t *testing.T) {
	ns := pagingFixture(t)
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	opens, closes := utc("2027-03-28T00:00:00Z"), utc("2027-03-28T02:00:00Z") // 01:00 CET, 04:00 CEST
	fakeClock.SetTime(utc("2027-03-27T23:55:00Z"))

	mw := &klaxonv1alpha1.MaintenanceWindow{
		ObjectMeta: metav1.ObjectMeta{Name: "sunday-night", Namespace: ns},
		Spec: klaxonv1alpha1.MaintenanceWindowSpec{
			Services: []klaxonv1alpha1.ServiceName{"checkout"},
			Schedule: &klaxonv1alpha1.MaintenanceSchedule{TimeZone: "Europe/Berlin",
				TimeRestriction: klaxonv1alpha1.TimeRestriction{Days: []klaxonv1alpha1.Weekday{"Sun"}, From: "01:00", To: "04:00"}},
			Mode: klaxonv1alpha1.MaintenanceHold,
		},
	}
	if err := k8s.Create(context.Background(), mw); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the window's next start and end", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), mw)
		st := mw.Status
		return st.NextStart != nil && st.NextStart.Time.Equal(opens) && st.NextEnd != nil && st.NextEnd.Time.Equal(closes) &&
			meta.IsStatusConditionFalse(st.Conditions, klaxonv1alpha1.ConditionActive), err
	})

	// Paged at 23:55; level 1 is due at 00:05, five minutes into the window.
	before := createIncident(t, k8s, ns, "before", withPolicy("payments"), forCheckout)
	waitForPaged(t, before, "alice@0/0")

	// The operator is down when the window opens and sees it three minutes
	// late: the escalation clock still stopped at 00:00.
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	fakeClock.SetTime(opens.Add(3 * time.Minute))
	if err := startOperator(); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, before, "held", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionSuppressed) == "True/"+klaxonv1alpha1.ReasonMaintenanceHold
	})
	if c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionSuppressed); !c.LastTransitionTime.Time.Equal(opens) {
		t.Errorf("the hold began at %v, want when the window opened, %v", c.LastTransitionTime.Time, opens)
	}

	// An incident triggered inside the window waits for its end.
	fakeClock.SetTime(utc("2027-03-28T01:30:00Z"))
	inside := createIncident(t, k8s, ns, "inside", withPolicy("payments"), forCheckout)
	waitFor(t, inside, "held", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionSuppressed) == "True/"+klaxonv1alpha1.ReasonMaintenanceHold
	})

	// 03:59 CEST, a minute before the end, and an hour past the end of a
	// window that took no notice of the change: nothing is paged.
	fakeClock.SetTime(closes.Add(-time.Minute))
	nudge(t, before)
	nudge(t, inside)
	stillPaged(t, before, "alice@0/0")
	stillPaged(t, inside, "")

	fakeClock.SetTime(closes)
	nudge(t, mw) // the requeue at the end waits in real time
	eventually(t, "the window closed", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), mw)
		return meta.IsStatusConditionFalse(mw.Status.Conditions, klaxonv1alpha1.ConditionActive), err
	})
	// Next Sunday 01:00 CEST is Saturday 23:00 UTC.
	if want := utc("2027-04-03T23:00:00Z"); mw.Status.NextStart == nil || !mw.Status.NextStart.Time.Equal(want) {
		t.Errorf("nextStart = %v, want %v", mw.Status.NextStart, want)
	}
	waitForPaged(t, inside, "alice@0/0")
	got = waitFor(t, before, "resumed", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionSuppressed) == "False/"+klaxonv1alpha1.ReasonMaintenanceEnded
	})
	if next, want := got.Status.Escalation.NextEscalationAt.Time, closes.Add(5*time.Minute); !next.Equal(want) {
		t.Errorf("nextEscalationAt = %v after the window, want the five minutes that were left: %v", next, want)
	}
	fakeClock.SetTime(closes.Add(5 * time.Minute))
	nudge(t, before)
	waitForPaged(t, before, "alice@0/0,bob@1/0,erin@1/0")
}

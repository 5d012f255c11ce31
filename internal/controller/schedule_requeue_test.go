package controller_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/controller"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// denseSchedule creates a schedule whose look-ahead cannot reach the
// horizon: under a base layer, fifteen layers of thirty-two one-minute
// windows a day, each at a minute of its own, all with alice, so that it
// never hands off however many edges it has.
func denseSchedule(t *testing.T, ns, name string) *klaxonv1alpha1.OnCallSchedule {
	t.Helper()
	days := []klaxonv1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	clockOf := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	layer := func(name string, shift time.Duration) klaxonv1alpha1.ScheduleLayer {
		return klaxonv1alpha1.ScheduleLayer{Name: name, Participants: []string{"alice"},
			Start: "2026-01-01T00:00:00", Shift: metav1.Duration{Duration: shift}}
	}
	s := &klaxonv1alpha1.OnCallSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.OnCallScheduleSpec{
			TimeZone: "Europe/Berlin",
			Layers:   []klaxonv1alpha1.ScheduleLayer{layer("base", 168*time.Hour)},
		},
	}
	for i := range 15 {
		l := layer(fmt.Sprintf("dense-%d", i), time.Hour)
		for j := range 32 {
			from := 2 * (32*i + j)
			l.Restrictions = append(l.Restrictions, klaxonv1alpha1.TimeRestriction{Days: days, From: clockOf(from), To: clockOf(from + 1)})
		}
		s.Spec.Layers = append(s.Spec.Layers, l)
	}
	if err := k8s.Create(context.Background(), s); err != nil {
		t.Fatalf("creating schedule %s: %v", name, err)
	}
	return s
}

// A valid schedule is always requeued, even when it never hands off: its
// look-ahead moves on with time. A lone participant is looked at again at
// the horizon; a schedule too dense to look that far ahead in one go, where
// its look-ahead stopped. Either way status.nextHandoffAt stays unset, and
// a reconcile that changes nothing writes nothing and records no Event.
func TestScheduleWithoutHandoffIsRequeued(t *testing.T) {
	ns := newNamespace(t)
	cases := map[string]struct {
		create   func() *klaxonv1alpha1.OnCallSchedule
		min, max time.Duration
	}{
		"a lone participant": {
			create: func() *klaxonv1alpha1.OnCallSchedule { return schedule(t, ns, "solo", 24*time.Hour, "alice") },
			min:    oncall.Horizon, max: oncall.Horizon,
		},
		"a dense schedule": {
			create: func() *klaxonv1alpha1.OnCallSchedule { return denseSchedule(t, ns, "dense") },
			min:    time.Second, max: oncall.Horizon - time.Second,
		},
	}
	base, err := client.NewWithWatch(cluster.OperatorConfig, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := tc.create()
			// Let the operator write the status first, so that the reconciles
			// below find nothing to change.
			eventually(t, "alice on call", func(ctx context.Context) (bool, error) {
				err := k8s.Get(ctx, client.ObjectKeyFromObject(s), s)
				return fmt.Sprint(s.Status.OnCall) == "[alice]" &&
					meta.IsStatusConditionTrue(s.Status.Conditions, klaxonv1alpha1.ConditionReady), err
			})
			if s.Status.NextHandoffAt != nil {
				t.Errorf("nextHandoffAt = %v, want unset for a schedule that never hands off", s.Status.NextHandoffAt)
			}

			var writes atomic.Int32
			events := &countingRecorder{}
			r := controller.NewOnCallScheduleReconciler(writeCounter(base, &writes), events, controller.WithClock(fakeClock))
			req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(s)}
			for range 2 {
				res, err := r.Reconcile(context.Background(), req)
				if err != nil {
					t.Fatalf("reconcile: %v", err)
				}
				if res.RequeueAfter < tc.min || res.RequeueAfter > tc.max {
					t.Errorf("RequeueAfter = %v, want from %v to %v", res.RequeueAfter, tc.min, tc.max)
				}
			}
			if n := writes.Load(); n != 0 {
				t.Errorf("reconciling an unchanged schedule made %d writes, want 0", n)
			}
			if n := events.n.Load(); n != 0 {
				t.Errorf("reconciling an unchanged schedule recorded %d events, want 0", n)
			}
		})
	}
}

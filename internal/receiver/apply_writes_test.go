package receiver_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// A new alert group reaches a recorded page in two writes of its incident,
// the floor: the receiver's create, carrying the group's alerts, and the
// reconciler's one status write, storing those alerts with the page. There
// is no second status writer, so no conflict and no retry.
func TestNewGroupIsPagedInTwoWrites(t *testing.T) {
	ns := newNamespace(t)
	ar := routeFixture(t, ns)
	ctx := context.Background()
	sched := &klaxonv1alpha1.OnCallSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: "primary", Namespace: ns},
		Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{{
			Name: "primary", Participants: []string{"alice"},
			Start: time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05"), Shift: metav1.Duration{Duration: 24 * time.Hour},
		}}},
	}
	policy := &klaxonv1alpha1.EscalationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "payments", Namespace: ns},
		Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
			{Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: "primary"}}},
		}},
	}
	for _, obj := range []client.Object{sched, policy} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	base := ar.DeepCopy()
	ar.Spec.EscalationPolicyRef = &klaxonv1alpha1.LocalObjectReference{Name: "payments"}
	if err := k8s.Patch(ctx, ar, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache to see the route's policy and the schedule on call", func(ctx context.Context) (bool, error) {
		cached, s := &klaxonv1alpha1.AlertRoute{}, &klaxonv1alpha1.OnCallSchedule{}
		if err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(ar), cached); err != nil {
			return false, err
		}
		err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(sched), s)
		return cached.Spec.EscalationPolicyRef != nil && len(s.Status.OnCall) > 0, err
	})

	watcher, err := client.NewWithWatch(cluster.AdminConfig, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := watcher.Watch(ctx, &klaxonv1alpha1.IncidentList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	srv := newReceiver(t, nil)
	if code, body := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/payments", token, firing("firing", alert("a1", "firing"))); code != http.StatusOK {
		t.Fatalf("POST = %d %s", code, body)
	}

	var added, modified int
	paged := false
	settle := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case ev := <-w.ResultChan():
			inc, ok := ev.Object.(*klaxonv1alpha1.Incident)
			if !ok {
				continue
			}
			switch ev.Type {
			case watch.Added:
				added++
			case watch.Modified:
				modified++
			}
			if !paged && len(inc.Status.Assignments) > 0 && inc.Status.Alerts != nil && inc.Status.Alerts.Firing == 1 {
				// Paged with its alerts stored: give any further write a
				// moment to show.
				paged = true
				settle = time.After(2 * time.Second)
			}
		case <-settle:
			if !paged {
				t.Fatal("the incident was not paged with its alerts stored within 30s")
			}
			done = true
		}
	}
	if added != 1 || modified != 1 {
		t.Errorf("the incident was created %d times and written %d times after; want 1 and 1 (a recorded page in two writes)", added, modified)
	}
}

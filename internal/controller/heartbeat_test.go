package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// setLastSeen writes status.lastSeenAt as the receiver does.
func setLastSeen(t *testing.T, hb *klaxonv1alpha1.Heartbeat, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(hb), hb); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(hb.DeepCopy())
	hb.Status.LastSeenAt = &metav1.Time{Time: at.Truncate(time.Second)}
	if err := k8s.Status().Patch(ctx, hb, patch); err != nil {
		t.Fatal(err)
	}
}

// poke makes the operator reconcile the heartbeat now: its requeues run on
// the real clock, while the test steps the fake one.
func poke(t *testing.T, hb *klaxonv1alpha1.Heartbeat) {
	t.Helper()
	ctx := context.Background()
	cur := &klaxonv1alpha1.Heartbeat{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(hb), cur); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(cur.DeepCopy())
	if cur.Annotations == nil {
		cur.Annotations = map[string]string{}
	}
	cur.Annotations["test/poke"] = time.Now().Format(time.RFC3339Nano)
	if err := k8s.Patch(ctx, cur, patch); err != nil {
		t.Fatal(err)
	}
}

func heartbeatIncidents(t *testing.T, ns string) []klaxonv1alpha1.Incident {
	t.Helper()
	list := &klaxonv1alpha1.IncidentList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns),
		client.MatchingLabels{klaxonv1alpha1.LabelHeartbeat: "watchdog"}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// A heartbeat that misses its timeout opens exactly one incident, named
// after its serial; an operator restart, even one that lost the status
// recording the incident, opens no second one; a beat resolves it, with
// the heartbeat as the actor.
func TestHeartbeatOverdueOpensOneIncidentAndBeatResolvesIt(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	hb := &klaxonv1alpha1.Heartbeat{
		ObjectMeta: metav1.ObjectMeta{Name: "watchdog", Namespace: ns},
		Spec: klaxonv1alpha1.HeartbeatSpec{
			AlertRouteRef:       klaxonv1alpha1.LocalObjectReference{Name: "monitoring"},
			Matchers:            []string{`alertname="Watchdog"`},
			Timeout:             metav1.Duration{Duration: 2 * time.Minute},
			EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "payments"},
		},
	}
	if err := k8s.Create(ctx, hb); err != nil {
		t.Fatal(err)
	}
	if hb.Spec.Severity != klaxonv1alpha1.SeverityHigh {
		t.Errorf("default severity = %q, want SEV2", hb.Spec.Severity)
	}
	// The fake clock is behind the API server's creation time: start the
	// wait from a beat at the fake now.
	setLastSeen(t, hb, fakeClock.Now())
	get := func(ctx context.Context) error { return k8s.Get(ctx, client.ObjectKeyFromObject(hb), hb) }
	eventually(t, "the heartbeat beating, and not Ready without its route", func(ctx context.Context) (bool, error) {
		err := get(ctx)
		ready := meta.FindStatusCondition(hb.Status.Conditions, klaxonv1alpha1.ConditionReady)
		overdue := meta.FindStatusCondition(hb.Status.Conditions, klaxonv1alpha1.ConditionOverdue)
		return ready != nil && ready.Reason == klaxonv1alpha1.ReasonAlertRouteNotFound &&
			overdue != nil && overdue.Status == metav1.ConditionFalse && hb.Status.LastSeenAt != nil, err
	})

	// Within the timeout: nothing opens.
	fakeClock.Step(time.Minute)
	poke(t, hb)
	time.Sleep(500 * time.Millisecond)
	if n := len(heartbeatIncidents(t, ns)); n != 0 {
		t.Fatalf("%d incidents within the timeout, want none", n)
	}

	// Past it: one incident.
	fakeClock.Step(time.Minute + 2*time.Second)
	poke(t, hb)
	eventually(t, "the heartbeat overdue with an incident", func(ctx context.Context) (bool, error) {
		err := get(ctx)
		return meta.IsStatusConditionTrue(hb.Status.Conditions, klaxonv1alpha1.ConditionOverdue) && hb.Status.IncidentRef != nil, err
	})
	if hb.Status.IncidentRef.Name != "heartbeat-watchdog-1" || hb.Status.IncidentSerial != 1 {
		t.Errorf("status = incidentRef %v, serial %d; want heartbeat-watchdog-1, 1", hb.Status.IncidentRef, hb.Status.IncidentSerial)
	}
	incs := heartbeatIncidents(t, ns)
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	inc := incs[0]
	if inc.Spec.Title != "Heartbeat watchdog is overdue" || inc.Spec.Severity != klaxonv1alpha1.SeverityHigh ||
		inc.Spec.EscalationPolicyRef == nil || inc.Spec.EscalationPolicyRef.Name != "payments" ||
		inc.Annotations[klaxonv1alpha1.ActorAnnotation] != klaxonv1alpha1.ActorHeartbeat {
		t.Errorf("incident = %+v", inc)
	}

	// The operator restarts, and the status recording the incident is lost,
	// as when it crashed between creating the incident and recording it.
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	if err := get(ctx); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(hb.DeepCopy())
	hb.Status.IncidentRef, hb.Status.IncidentSerial = nil, 0
	hb.Status.Conditions = nil
	if err := k8s.Status().Patch(ctx, hb, patch); err != nil {
		t.Fatal(err)
	}
	if err := startOperator(); err != nil {
		t.Fatal(err)
	}
	fakeClock.Step(time.Minute)
	poke(t, hb)
	eventually(t, "the restarted operator to adopt the incident", func(ctx context.Context) (bool, error) {
		err := get(ctx)
		return hb.Status.IncidentRef != nil && meta.IsStatusConditionTrue(hb.Status.Conditions, klaxonv1alpha1.ConditionOverdue), err
	})
	if hb.Status.IncidentRef.Name != "heartbeat-watchdog-1" || hb.Status.IncidentSerial != 1 {
		t.Errorf("after restart: incidentRef %v, serial %d; want heartbeat-watchdog-1, 1", hb.Status.IncidentRef, hb.Status.IncidentSerial)
	}
	if n := len(heartbeatIncidents(t, ns)); n != 1 {
		t.Fatalf("%d incidents after restart, want 1", n)
	}

	// A beat returns: the incident resolves, by the heartbeat.
	setLastSeen(t, hb, fakeClock.Now())
	eventually(t, "the incident resolved and the heartbeat beating", func(ctx context.Context) (bool, error) {
		if err := get(ctx); err != nil {
			return false, err
		}
		err := k8s.Get(ctx, client.ObjectKeyFromObject(&inc), &inc)
		overdue := meta.FindStatusCondition(hb.Status.Conditions, klaxonv1alpha1.ConditionOverdue)
		return inc.Spec.State == klaxonv1alpha1.StateResolved && hb.Status.IncidentRef == nil &&
			overdue != nil && overdue.Status == metav1.ConditionFalse, err
	})
	if inc.Annotations[klaxonv1alpha1.ActorAnnotation] != klaxonv1alpha1.ActorHeartbeat {
		t.Errorf("resolved by %q, want %q", inc.Annotations[klaxonv1alpha1.ActorAnnotation], klaxonv1alpha1.ActorHeartbeat)
	}

	// Overdue again later: the next incident has the next name.
	fakeClock.Step(3 * time.Minute)
	poke(t, hb)
	eventually(t, "a second incident", func(ctx context.Context) (bool, error) {
		err := get(ctx)
		return hb.Status.IncidentRef != nil && hb.Status.IncidentRef.Name == "heartbeat-watchdog-2", err
	})
	if n := len(heartbeatIncidents(t, ns)); n != 2 {
		t.Errorf("%d incidents, want 2", n)
	}
}

// The timeout is at least a minute.
func TestHeartbeatTimeoutValidation(t *testing.T) {
	ns := newNamespace(t)
	hb := &klaxonv1alpha1.Heartbeat{
		ObjectMeta: metav1.ObjectMeta{Name: "too-fast", Namespace: ns},
		Spec: klaxonv1alpha1.HeartbeatSpec{
			AlertRouteRef: klaxonv1alpha1.LocalObjectReference{Name: "monitoring"},
			Timeout:       metav1.Duration{Duration: 30 * time.Second},
		},
	}
	err := k8s.Create(context.Background(), hb)
	if err == nil || !strings.Contains(err.Error(), "timeout must be a duration from 1m to 720h") {
		t.Errorf("creating a heartbeat with a 30s timeout: %v, want the timeout rule's message", err)
	}
}

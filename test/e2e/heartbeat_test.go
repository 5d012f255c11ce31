package e2e

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// startWatchdogAlertmanager runs a real Alertmanager that repeats a firing
// group every two seconds, as a Watchdog's heartbeat route does (with a
// longer repeat_interval in production).
func startWatchdogAlertmanager(t *testing.T, namespace, route string) (am *alertmanager, stop func()) {
	t.Helper()
	return runAlertmanager(t, namespace, route, "[alertname]", "2s")
}

func watchdogAlert() postableAlert {
	return postableAlert{
		Labels:   map[string]string{"alertname": "Watchdog", "severity": "none"},
		StartsAt: time.Now().Add(-time.Minute),
		// Prometheus keeps re-sending it; here it simply lasts.
		EndsAt: time.Now().Add(time.Hour),
	}
}

// An always-firing Watchdog keeps a heartbeat healthy and opens no
// incident; with Alertmanager gone, the heartbeat opens an incident once its
// timeout passes, and Alertmanager's return resolves it. The timeout is the
// API's minimum, a minute, so the test takes about a minute and a half.
func TestHeartbeatWatchdog(t *testing.T) {
	ctx := context.Background()
	ns := routeNamespace(t, token)
	route := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "monitoring", Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "alertmanager-token", Key: "token"},
		},
	}
	hb := &klaxonv1alpha1.Heartbeat{
		ObjectMeta: metav1.ObjectMeta{Name: "watchdog", Namespace: ns},
		Spec: klaxonv1alpha1.HeartbeatSpec{
			AlertRouteRef: klaxonv1alpha1.LocalObjectReference{Name: "monitoring"},
			Matchers:      []string{`alertname="Watchdog"`},
			Timeout:       metav1.Duration{Duration: time.Minute},
		},
	}
	for _, obj := range []client.Object{route, hb} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the route and the heartbeat to be Ready", 30*time.Second, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route); err != nil {
			return false, err
		}
		err := k8s.Get(ctx, client.ObjectKeyFromObject(hb), hb)
		return meta.IsStatusConditionTrue(route.Status.Conditions, klaxonv1alpha1.ConditionReady) &&
			meta.IsStatusConditionTrue(hb.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
	incidents := func(ctx context.Context) ([]klaxonv1alpha1.Incident, error) {
		list := &klaxonv1alpha1.IncidentList{}
		err := k8s.List(ctx, list, client.InNamespace(ns))
		return list.Items, err
	}

	// The Watchdog fires: beats, recorded coarsely (every 15s for a 1m
	// timeout), and no incident.
	am, stop := startWatchdogAlertmanager(t, ns, route.Name)
	am.send(t, watchdogAlert())
	var first time.Time
	eventually(t, "a beat recorded", 30*time.Second, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(hb), hb)
		if hb.Status.LastSeenAt != nil {
			first = hb.Status.LastSeenAt.Time
		}
		return hb.Status.LastSeenAt != nil, err
	})
	eventually(t, "Alertmanager's repeats to record a later beat", 30*time.Second, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(hb), hb)
		return hb.Status.LastSeenAt != nil && hb.Status.LastSeenAt.After(first), err
	})
	if meta.IsStatusConditionTrue(hb.Status.Conditions, klaxonv1alpha1.ConditionOverdue) {
		t.Errorf("the heartbeat is overdue while the Watchdog fires: %+v", hb.Status.Conditions)
	}
	if items, err := incidents(ctx); err != nil || len(items) != 0 {
		t.Fatalf("incidents while the Watchdog fires: %d (%v), want none", len(items), err)
	}

	// Alertmanager goes away: after the timeout, an incident.
	stop()
	var inc klaxonv1alpha1.Incident
	eventually(t, "the heartbeat overdue with an incident", 90*time.Second, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(hb), hb); err != nil {
			return false, err
		}
		items, err := incidents(ctx)
		if err != nil || len(items) != 1 {
			return false, err
		}
		inc = items[0]
		return meta.IsStatusConditionTrue(hb.Status.Conditions, klaxonv1alpha1.ConditionOverdue) && hb.Status.IncidentRef != nil, nil
	})
	if inc.Name != "heartbeat-watchdog-1" || inc.Spec.Title != "Heartbeat watchdog is overdue" || inc.Spec.Severity != klaxonv1alpha1.SeverityHigh {
		t.Errorf("incident %s: title %q, severity %s", inc.Name, inc.Spec.Title, inc.Spec.Severity)
	}

	// It comes back: the incident resolves, by the heartbeat.
	am, _ = startWatchdogAlertmanager(t, ns, route.Name)
	am.send(t, watchdogAlert())
	eventually(t, "the incident resolved", 30*time.Second, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(&inc), &inc); err != nil {
			return false, err
		}
		err := k8s.Get(ctx, client.ObjectKeyFromObject(hb), hb)
		return inc.Status.Phase == klaxonv1alpha1.StateResolved && hb.Status.IncidentRef == nil &&
			!meta.IsStatusConditionTrue(hb.Status.Conditions, klaxonv1alpha1.ConditionOverdue), err
	})
	if last := lastEntry(&inc, klaxonv1alpha1.TimelineResolved); last == nil || last.Actor != klaxonv1alpha1.ActorHeartbeat {
		t.Errorf("resolution entry = %+v, want one by heartbeat", last)
	}
	if items, err := incidents(ctx); err != nil || len(items) != 1 {
		t.Errorf("%d incidents (%v), want the one", len(items), err)
	}
}

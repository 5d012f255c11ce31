package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// A maintenance window mirrored in a real Alertmanager: a pending silence
// ahead of the window, the same silence active once the window is moved to
// now, and expired when the window is deleted.
func TestMaintenanceWindowSilenceInAlertmanager(t *testing.T) {
	ctx := context.Background()
	ns := routeNamespace(t, token)
	const routeName = "payments"
	am := startAlertmanager(t, ns, routeName)
	route := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: routeName, Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "alertmanager-token", Key: "token"},
			Alertmanager:   &klaxonv1alpha1.AlertRouteAlertmanager{URL: am.url},
		},
	}
	if err := k8s.Create(ctx, route); err != nil {
		t.Fatal(err)
	}

	start := time.Now().Add(time.Hour).Truncate(time.Second)
	mw := &klaxonv1alpha1.MaintenanceWindow{
		ObjectMeta: metav1.ObjectMeta{Name: "db-upgrade", Namespace: ns},
		Spec: klaxonv1alpha1.MaintenanceWindowSpec{
			Services: []klaxonv1alpha1.ServiceName{"checkout"},
			Start:    &metav1.Time{Time: start}, End: &metav1.Time{Time: start.Add(time.Hour)},
			Reason: "Database upgrade",
			AlertmanagerSilence: &klaxonv1alpha1.MaintenanceSilence{AlertRouteRef: klaxonv1alpha1.LocalObjectReference{Name: routeName},
				Matchers: []string{`team="payments"`, `alertname=~"Checkout.*"`}},
		},
	}
	if err := k8s.Create(ctx, mw); err != nil {
		t.Fatal(err)
	}
	silenceIn := func(what, state string) *amSilence {
		t.Helper()
		var got *amSilence
		eventually(t, what, 30*time.Second, func(ctx context.Context) (bool, error) {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), mw); err != nil {
				return false, err
			}
			st := mw.Status.Silence
			if st == nil || st.ID == "" || st.Generation != mw.Generation {
				return false, nil
			}
			s, err := am.silence(ctx, st.ID)
			got = s
			return err == nil && s.Status.State == state, nil
		})
		return got
	}
	s := silenceIn("a pending silence ahead of the window", "pending")
	if len(s.Matchers) != 2 || s.Matchers[0].Name != "team" || s.Matchers[0].IsRegex ||
		s.Matchers[1].Name != "alertname" || !s.Matchers[1].IsRegex || s.Matchers[1].Value != "Checkout.*" {
		t.Errorf("matchers = %+v", s.Matchers)
	}
	if s.Creator != "klaxon" || !strings.Contains(s.Comment, ns+"/db-upgrade") || !strings.Contains(s.Comment, "Database upgrade") {
		t.Errorf("createdBy %q, comment %q", s.Creator, s.Comment)
	}

	// The window moves to now: the silence follows and is active.
	base := mw.DeepCopy()
	mw.Spec.Start = &metav1.Time{Time: time.Now().Add(-time.Minute).Truncate(time.Second)}
	if err := k8s.Patch(ctx, mw, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	active := silenceIn("the silence active with the window", "active")

	// Deleting the window expires its silence.
	if err := k8s.Delete(ctx, mw); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the window gone and its silence expired", 30*time.Second, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), &klaxonv1alpha1.MaintenanceWindow{})
		if !apierrors.IsNotFound(err) {
			return false, client.IgnoreNotFound(err)
		}
		s, err := am.silence(ctx, active.ID)
		return err == nil && s.Status.State == "expired", nil
	})
}

package fault

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

// TestSamplesAreReconciled applies config/samples with a maintenance window
// mirrored as a silence in a real Alertmanager, and checks that the operator
// reports on every kind and keeps and then expires the silence. Besides
// checking the samples, it makes the operator use every grant of its roles
// that the other scenarios leave unused, for the audit that ends the suite.
func TestSamplesAreReconciled(t *testing.T) {
	ctx := context.Background()
	ns, err := cluster.NewNamespace(ctx, "fault-samples-")
	if err != nil {
		t.Fatal(err)
	}
	startOperator(t, "samples", "--watch-namespaces="+ns)
	ams := startAlertmanagers(t, "http://127.0.0.1:1/unused")
	if err := localcluster.ApplyFiles(ctx, k8s, filepath.Join(localcluster.RepoRoot(), "config", "samples"), ns); err != nil {
		t.Fatal(err)
	}
	patch := func(obj client.Object, p string) {
		t.Helper()
		if err := k8s.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(p))); err != nil {
			t.Fatal(err)
		}
	}
	window := &klaxonv1alpha1.MaintenanceWindow{}
	window.Namespace, window.Name = ns, "search-reindex"
	patch(&klaxonv1alpha1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "payments-critical"}}, `{"spec":{"alertmanager":{"url":"`+ams[0]+`"}}}`)
	patch(window, `{"spec":{"alertmanagerSilence":{"alertRouteRef":{"name":"payments-critical"},"matchers":["service=\"search\""]}}}`)

	kinds := []string{"AlertRoute", "EscalationPolicy", "Heartbeat", "Incident", "MaintenanceWindow",
		"NotificationChannel", "OnCallSchedule", "Responder", "StatusPage"}
	eventually(t, "the operator to report on every sample", time.Minute, func(ctx context.Context) (bool, error) {
		for _, kind := range kinds {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(schema.GroupVersionKind{Group: "klaxon.dev", Version: "v1alpha1", Kind: kind + "List"})
			if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
				return false, err
			}
			if len(list.Items) == 0 {
				t.Fatalf("config/samples has no %s", kind)
			}
			for _, item := range list.Items {
				if conditions, _, _ := unstructured.NestedSlice(item.Object, "status", "conditions"); len(conditions) == 0 {
					return false, nil
				}
			}
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(window), window); err != nil {
			return false, err
		}
		return window.Status.Silence != nil && window.Status.Silence.ID != "", nil
	})
	if !slices.Contains(window.Finalizers, "klaxon.dev/silence") {
		t.Errorf("the window's finalizers are %v, want klaxon.dev/silence while its silence exists", window.Finalizers)
	}
	id := window.Status.Silence.ID
	if state := silenceState(t, ams[0], id); state != "pending" {
		t.Errorf("the window's silence %s is %q, want pending until the window opens", id, state)
	}

	if err := k8s.Delete(ctx, window); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the window to be gone", 30*time.Second, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(window), window)
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	if state := silenceState(t, ams[0], id); state != "expired" {
		t.Errorf("after the window was deleted its silence is %q, want expired", state)
	}
}

// silenceState reads a silence's state from Alertmanager's API.
func silenceState(t *testing.T, alertmanager, id string) string {
	t.Helper()
	resp, err := http.Get(alertmanager + "/api/v2/silence/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var silence struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&silence); err != nil {
		t.Fatalf("reading silence %s: %v", id, err)
	}
	return silence.Status.State
}

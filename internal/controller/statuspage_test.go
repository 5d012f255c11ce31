package controller_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// A status page must say which incidents it shows; the API server refuses
// one that sets neither spec.services nor spec.selector, naming both.
func TestStatusPageMustSelect(t *testing.T) {
	ns := newNamespace(t)
	const says = "a status page must select its incidents: set spec.services, a non-empty spec.selector, or both"
	cases := map[string]map[string]any{
		"neither":             {"title": "Payments status"},
		"empty services list": {"title": "Payments status", "services": []any{}},
		"empty selector":      {"title": "Payments status", "selector": map[string]any{}},
		"empty match labels":  {"title": "Payments status", "selector": map[string]any{"matchLabels": map[string]any{}}},
	}
	for name, spec := range cases {
		t.Run(name, func(t *testing.T) {
			raw := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "klaxon.dev/v1alpha1", "kind": "StatusPage",
				"metadata": map[string]any{"name": strings.ReplaceAll(name, " ", "-"), "namespace": ns},
				"spec":     spec,
			}}
			if err := k8s.Create(context.Background(), raw); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), says) {
				t.Errorf("got %v, want Invalid saying %q", err, says)
			}
		})
	}
	long := &klaxonv1alpha1.StatusPage{
		ObjectMeta: metav1.ObjectMeta{Name: "long-title", Namespace: ns},
		Spec:       klaxonv1alpha1.StatusPageSpec{Title: strings.Repeat("x", 257), Services: []klaxonv1alpha1.ServiceName{"checkout"}},
	}
	if err := k8s.Create(context.Background(), long); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.title") {
		t.Errorf("a 257-character title: got %v, want Invalid naming spec.title", err)
	}
}

// Ready says where a page is served, and turns False (InvalidSelector) on
// a selector the API server accepts but that does not parse; fixing it
// makes the page Ready again.
func TestStatusPageReady(t *testing.T) {
	ns := newNamespace(t)
	page := &klaxonv1alpha1.StatusPage{
		ObjectMeta: metav1.ObjectMeta{Name: "payments", Namespace: ns},
		Spec: klaxonv1alpha1.StatusPageSpec{Title: "Payments status", Services: []klaxonv1alpha1.ServiceName{"checkout"},
			Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: "Equals", Values: []string{"payments"}}}}},
	}
	if err := k8s.Create(context.Background(), page); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(page)
	got := &klaxonv1alpha1.StatusPage{}
	eventually(t, "Ready False with InvalidSelector", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, key, got)
		c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == klaxonv1alpha1.ReasonInvalidSelector &&
			got.Status.ObservedGeneration == got.Generation, err
	})
	if c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionReady); !strings.Contains(c.Message, "spec.selector") || !strings.Contains(c.Message, "Equals") {
		t.Errorf("Ready message %q should name spec.selector and the bad operator", c.Message)
	}

	patch := client.MergeFrom(got.DeepCopy())
	got.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "payments"}}
	if err := k8s.Patch(context.Background(), got, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ready True", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, key, got)
		c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionTrue && got.Status.ObservedGeneration == got.Generation, err
	})
	c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionReady)
	if want := "Served at /status/" + ns + "/payments"; c.Reason != klaxonv1alpha1.ReasonServed || c.Message != want {
		t.Errorf("Ready is %s %q, want %s %q", c.Reason, c.Message, klaxonv1alpha1.ReasonServed, want)
	}
}

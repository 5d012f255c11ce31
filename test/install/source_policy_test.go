package install

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// The chart installs the source policy: only the release's service account
// (and system:masters, which passes every check anyway) may give an
// incident a spec.source, the alert group that acknowledging it silences.
// A user holding only the chart's incident-editor role, or another service
// account, cannot; both may still open incidents by hand and acknowledge
// alert-driven ones.
func TestSourcePolicyLetsOnlyTheOperatorNameAGroup(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	for _, name := range []string{"ops", "payments"} {
		if err := c.admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	objs := renderChart(t, "oncall", "ops")
	c.apply(t, objs)
	editorRole := ""
	for _, o := range objs {
		if o.GetKind() == "ClusterRole" && strings.HasSuffix(o.GetName(), "incident-editor-role") {
			editorRole = o.GetName()
		}
	}
	if editorRole == "" {
		t.Fatal("the chart renders no incident-editor ClusterRole")
	}
	// Editors all: mallory, another service account, and the account the
	// kustomize install trusts, which this release must not.
	const impostor = "system:serviceaccount:payments:impostor"
	const otherInstall = "system:serviceaccount:klaxon-system:klaxon-controller-manager"
	for i, user := range []string{"mallory", impostor, otherInstall} {
		binding := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("editor-%d", i), Namespace: "payments"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: editorRole},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}
		if err := c.admin.Create(ctx, binding); err != nil {
			t.Fatal(err)
		}
	}
	source := &klaxonv1alpha1.IncidentSource{AlertRoute: "payments", GroupKey: `{}:{namespace="other-team-prod"}`}
	incident := func(withSource bool) *klaxonv1alpha1.Incident {
		inc := &klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "inc-", Namespace: "payments"},
			Spec:       klaxonv1alpha1.IncidentSpec{Title: "Checkout is slow"},
		}
		if withSource {
			inc.Spec.Source = source.DeepCopy()
		}
		return inc
	}

	// The policy is loaded in the background after it is created: until it
	// refuses mallory, what she created is deleted and she tries again.
	mallory := c.as(t, "mallory", true)
	var refusal error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		inc := incident(true)
		if refusal = mallory.Create(ctx, inc); refusal != nil {
			return apierrors.IsForbidden(refusal) && strings.Contains(refusal.Error(), "spec.source"), nil
		}
		return false, c.admin.Delete(ctx, inc)
	})
	if err != nil {
		t.Fatalf("a user holding only %s created an incident with spec.source (last error %v): %v", editorRole, refusal, err)
	}
	if want := "spec.source is set only by Klaxon's receiver"; !strings.Contains(refusal.Error(), want) {
		t.Errorf("the refusal says %q, want it to say %q", refusal, want)
	}

	for user, allowed := range map[string]bool{
		"system:serviceaccount:ops:oncall-klaxon-controller-manager": true,
		impostor:     false,
		otherInstall: false,
	} {
		err := c.as(t, user, true).Create(ctx, incident(true))
		if allowed && err != nil {
			t.Errorf("%s cannot create an incident with spec.source: %v", user, err)
		}
		if !allowed && (!apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "spec.source")) {
			t.Errorf("%s creating an incident with spec.source: %v, want the source policy's refusal", user, err)
		}
	}
	if err := c.as(t, "root", false).Create(ctx, incident(true)); err != nil {
		t.Errorf("a member of system:masters cannot create an incident with spec.source: %v", err)
	}

	// Editors still open incidents by hand and acknowledge alert-driven
	// ones; a source cannot be added or changed.
	byHand := incident(false)
	if err := mallory.Create(ctx, byHand); err != nil {
		t.Fatalf("mallory cannot open an incident by hand: %v", err)
	}
	base := byHand.DeepCopy()
	byHand.Spec.Source = source.DeepCopy()
	if err := mallory.Patch(ctx, byHand, client.MergeFrom(base)); err == nil {
		t.Error("mallory added spec.source to a hand-opened incident")
	}
	fromAlerts := incident(true)
	fromAlerts.Spec.Source.GroupKey = `{}/{team="payments"}:{alertname="CheckoutLatency"}`
	if err := c.as(t, "system:serviceaccount:ops:oncall-klaxon-controller-manager", true).Create(ctx, fromAlerts); err != nil {
		t.Fatal(err)
	}
	if err := mallory.Get(ctx, client.ObjectKeyFromObject(fromAlerts), fromAlerts); err != nil {
		t.Fatal(err)
	}
	base = fromAlerts.DeepCopy()
	fromAlerts.Spec.State = klaxonv1alpha1.StateAcknowledged
	if err := mallory.Patch(ctx, fromAlerts, client.MergeFrom(base)); err != nil {
		t.Errorf("mallory cannot acknowledge an alert-driven incident: %v", err)
	}
	if err := mallory.Update(ctx, fromAlerts); err != nil {
		t.Errorf("mallory cannot write back an alert-driven incident unchanged: %v", err)
	}
	base = fromAlerts.DeepCopy()
	fromAlerts.Spec.Source.GroupKey = source.GroupKey
	if err := mallory.Patch(ctx, fromAlerts, client.MergeFrom(base)); err == nil {
		t.Error("mallory moved an alert-driven incident to another alert group")
	}
}

// The chart, released as klaxon in klaxon-system, and the kustomize install
// hold the same validating admission policies, the source policy among
// them.
func TestChartAndKustomizeAgreeOnValidatingPolicies(t *testing.T) {
	pick := func(objs []*unstructured.Unstructured) map[string]any {
		out := map[string]any{}
		for _, o := range objs {
			if o.GetKind() == "ValidatingAdmissionPolicy" || o.GetKind() == "ValidatingAdmissionPolicyBinding" {
				out[o.GetKind()+" "+o.GetName()] = o.Object["spec"]
			}
		}
		return out
	}
	chart := pick(renderChart(t, "klaxon", "klaxon-system"))
	kustomize := pick(renderKustomize(t))
	for _, key := range []string{"ValidatingAdmissionPolicy klaxon-incident-source", "ValidatingAdmissionPolicyBinding klaxon-incident-source"} {
		if _, ok := kustomize[key]; !ok {
			t.Errorf("the kustomize install has no %s", key)
		}
	}
	if !reflect.DeepEqual(chart, kustomize) {
		t.Errorf("the validating admission policies differ between the chart and the kustomize install:\nchart:     %v\nkustomize: %v", chart, kustomize)
	}
	// Another release trusts its own service account, and names the
	// policy for itself.
	other := pick(renderChart(t, "oncall", "ops"))
	policy, ok := other["ValidatingAdmissionPolicy oncall-klaxon-incident-source"].(map[string]any)
	if !ok {
		t.Fatalf("the chart released as oncall in ops has no oncall-klaxon-incident-source policy: %v", other)
	}
	text := fmt.Sprint(policy["matchConditions"])
	if !strings.Contains(text, "'system:serviceaccount:ops:oncall-klaxon-controller-manager'") || strings.Contains(text, "klaxon-system") {
		t.Errorf("the oncall release's source policy exempts the wrong account: %s", text)
	}
}

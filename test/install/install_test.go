// Package install checks the two ways Klaxon is installed, the Helm chart
// and the kustomize install: each renders, every object it renders is
// applied to a real API server (server-side apply, for real), the admission
// policy attributes a user's patch and trusts exactly the installed service
// account, the manager's RBAC grants what it needs and no more, and the two
// installs agree on CRDs, RBAC and admission policies.
package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// TestMain skips the package where `make test` has not installed the
// control plane and the pinned renderers.
func TestMain(m *testing.M) {
	suite.RequireAssets(m, suite.ControlPlane, suite.Helm, suite.Kustomize)
	os.Exit(m.Run())
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// tool is the path of a pinned tool that `make test` passes in env.
func tool(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		t.Fatalf("%s is not set: run `make test`, which installs the pinned tool", env)
	}
	return p
}

// render runs a renderer and decodes the objects it prints.
func render(t *testing.T, name string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs
			}
			t.Fatalf("decoding what %s rendered: %v", filepath.Base(name), err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

func renderChart(t *testing.T, release, namespace string, set ...string) []*unstructured.Unstructured {
	args := []string{"template", release, "charts/klaxon", "--namespace", namespace, "--include-crds"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return render(t, tool(t, "KLAXON_HELM"), args...)
}

func renderKustomize(t *testing.T) []*unstructured.Unstructured {
	return render(t, tool(t, "KLAXON_KUSTOMIZE"), "build", "config/default")
}

// cluster is a bare local control plane: nothing of Klaxon's installed.
type cluster struct {
	env   *envtest.Environment
	admin client.Client
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, which builds kube-apiserver and etcd first")
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting the control plane: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	scheme := operator.Scheme()
	if err = apiextensionsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{env: env, admin: admin}
}

// as is a client for user, with full rights unless bare.
func (c *cluster) as(t *testing.T, user string, bare bool) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(c.env.Config)
	groups := []string{"system:authenticated"}
	if !bare {
		groups = append(groups, "system:masters")
	}
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	cl, err := client.New(cfg, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// monitoringKinds are rendered for the prometheus-operator, whose CRDs a
// bare API server does not have.
var monitoringKinds = []string{"ServiceMonitor", "PrometheusRule"}

// apply server-side applies every object, CRDs first (and waits until they
// are served). It returns the kinds the API server could not hold.
func (c *cluster) apply(t *testing.T, objs []*unstructured.Unstructured) (skipped []string) {
	t.Helper()
	ctx := context.Background()
	first := func(o *unstructured.Unstructured) bool {
		return o.GetKind() == "CustomResourceDefinition" || o.GetKind() == "Namespace"
	}
	for _, pass := range []bool{true, false} {
		for _, o := range objs {
			if first(o) != pass {
				continue
			}
			err := c.admin.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), client.FieldOwner("install-test"), client.ForceOwnership)
			if meta.IsNoMatchError(err) && slices.Contains(monitoringKinds, o.GetKind()) {
				skipped = append(skipped, o.GetKind())
				continue
			}
			if err != nil {
				t.Fatalf("the API server refuses %s %s: %v", o.GetKind(), o.GetName(), err)
			}
		}
		if pass {
			c.waitForCRDs(t, objs)
		}
	}
	return skipped
}

func (c *cluster) waitForCRDs(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := c.admin.Get(ctx, client.ObjectKey{Name: o.GetName()}, crd); err != nil {
				return false, err
			}
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("CRD %s is not established: %v", o.GetName(), err)
		}
	}
}

// checkInstalled checks, on a control plane where an install was applied
// with its manager running as serviceAccount (namespace:name), that the
// actor policy stamps a user's writes and trusts that account's, and that
// the manager's RBAC allows its work and nothing beyond.
func checkInstalled(t *testing.T, c *cluster, serviceAccount string) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "install-"}}
	if err := c.admin.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	jane := c.as(t, "jane", false)
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "db-", Namespace: ns.Name,
			Annotations: map[string]string{klaxonv1alpha1.ActorAnnotation: "alertmanager"}},
		Spec: klaxonv1alpha1.IncidentSpec{Title: "Database down", Severity: klaxonv1alpha1.SeverityHigh},
	}
	// The CRDs are served, and the policy loaded, in the background after
	// they are created.
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		probe := inc.DeepCopy()
		if last = jane.Create(ctx, probe); last != nil {
			return false, nil //nolint:nilerr // retried until the timeout, then reported
		}
		*inc = *probe
		return probe.Annotations[klaxonv1alpha1.ActorAnnotation] == "jane", nil
	})
	if err != nil {
		t.Fatalf("the actor policy does not stamp jane's create over a forged actor: %v (actor %q, last error %v)", err, inc.Annotations[klaxonv1alpha1.ActorAnnotation], last)
	}
	if got := inc.Labels["klaxon.dev/severity"]; got != string(klaxonv1alpha1.SeverityHigh) {
		t.Errorf("the labels policy set klaxon.dev/severity=%q, want %s", got, klaxonv1alpha1.SeverityHigh)
	}

	// A user's move is attributed to them, whatever they claim.
	bob := c.as(t, "bob", false)
	base := inc.DeepCopy()
	inc.Spec.State = klaxonv1alpha1.StateAcknowledged
	inc.Annotations[klaxonv1alpha1.ActorAnnotation] = "alice"
	if err := bob.Patch(ctx, inc, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	if got := inc.Annotations[klaxonv1alpha1.ActorAnnotation]; got != "bob" {
		t.Errorf("after bob's acknowledge the actor is %q, want bob", got)
	}

	// The installed service account's actor stands; any other account's
	// is replaced.
	sa := "system:serviceaccount:" + serviceAccount
	for user, want := range map[string]string{sa: "alertmanager", "system:serviceaccount:default:impostor": "system:serviceaccount:default:impostor"} {
		cl := c.as(t, user, false)
		created := &klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "alert-", Namespace: ns.Name,
				Annotations: map[string]string{klaxonv1alpha1.ActorAnnotation: "alertmanager"}},
			Spec: klaxonv1alpha1.IncidentSpec{Title: "From Alertmanager"},
		}
		if err := cl.Create(ctx, created); err != nil {
			t.Fatal(err)
		}
		if got := created.Annotations[klaxonv1alpha1.ActorAnnotation]; got != want {
			t.Errorf("%s created an incident as %q; want %q", user, got, want)
		}
	}

	// The manager's own rights, without system:masters: what it does is
	// allowed, reading Secrets cluster-wide is not.
	manager := c.as(t, sa, true)
	if err := manager.List(ctx, &klaxonv1alpha1.IncidentList{}); err != nil {
		t.Errorf("the manager cannot list incidents: %v", err)
	}
	base = inc.DeepCopy()
	inc.Status.Phase = klaxonv1alpha1.StateTriggered
	if err := manager.Status().Patch(ctx, inc, client.MergeFrom(base)); err != nil {
		t.Errorf("the manager cannot patch an incident's status: %v", err)
	}
	if err := manager.List(ctx, &corev1.SecretList{}); !apierrors.IsForbidden(err) {
		t.Errorf("the manager lists Secrets cluster-wide (%v); it must not", err)
	}
}

func TestHelmChartInstalls(t *testing.T) {
	c := startCluster(t)
	if err := c.admin.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ops"}}); err != nil {
		t.Fatal(err)
	}
	// Another release name and namespace than the kustomize install's, with
	// every optional object on.
	objs := renderChart(t, "oncall", "ops",
		"metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true", "metrics.dashboard.enabled=true")
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
		if o.GetKind() == "Role" || o.GetKind() == "ClusterRole" {
			checkNoWildcards(t, o)
		}
	}
	for _, k := range []string{"CustomResourceDefinition", "ServiceAccount", "ClusterRole", "Deployment", "Service", "PodDisruptionBudget",
		"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "ServiceMonitor", "PrometheusRule", "ConfigMap"} {
		if kinds[k] == 0 {
			t.Errorf("the chart renders no %s: %v", k, kinds)
		}
	}
	skipped := c.apply(t, objs)
	slices.Sort(skipped)
	if want := []string{"PrometheusRule", "ServiceMonitor"}; !slices.Equal(skipped, want) {
		t.Errorf("kinds the API server could not hold: %v, want only %v", skipped, want)
	}
	checkInstalled(t, c, "ops:oncall-klaxon-controller-manager")
}

func TestKustomizeInstallInstalls(t *testing.T) {
	c := startCluster(t)
	objs := renderKustomize(t)
	for _, o := range objs {
		if o.GetKind() == "Role" || o.GetKind() == "ClusterRole" {
			checkNoWildcards(t, o)
		}
	}
	if skipped := c.apply(t, objs); len(skipped) > 0 {
		t.Errorf("the API server could not hold %v", skipped)
	}
	checkInstalled(t, c, "klaxon-system:klaxon-controller-manager")
}

func checkNoWildcards(t *testing.T, role *unstructured.Unstructured) {
	t.Helper()
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	for _, r := range rules {
		for _, field := range []string{"verbs", "resources", "apiGroups"} {
			values, _, _ := unstructured.NestedStringSlice(r.(map[string]any), field)
			if slices.Contains(values, "*") {
				t.Errorf("%s %s grants %s *", role.GetKind(), role.GetName(), field)
			}
		}
	}
}

// The chart, released as klaxon in klaxon-system, and the kustomize install
// hold the same CRDs, RBAC rules and admission policies under the same
// names.
func TestChartAndKustomizeAgree(t *testing.T) {
	pick := func(objs []*unstructured.Unstructured) map[string]any {
		out := map[string]any{}
		for _, o := range objs {
			var part any
			switch o.GetKind() {
			case "CustomResourceDefinition", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding":
				part = o.Object["spec"]
			case "Role", "ClusterRole":
				part = o.Object["rules"]
			case "RoleBinding", "ClusterRoleBinding":
				part = []any{o.Object["roleRef"], o.Object["subjects"]}
			default:
				continue
			}
			out[fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())] = part
		}
		return out
	}
	chart := pick(renderChart(t, "klaxon", "klaxon-system"))
	kustomize := pick(renderKustomize(t))
	for key, want := range kustomize {
		got, ok := chart[key]
		switch {
		case !ok:
			t.Errorf("the chart has no %s", key)
		case !reflect.DeepEqual(got, want):
			t.Errorf("%s differs between the chart and the kustomize install:\nchart:     %v\nkustomize: %v", key, got, want)
		}
	}
	for key := range chart {
		if _, ok := kustomize[key]; !ok {
			t.Errorf("the kustomize install has no %s", key)
		}
	}
	if len(kustomize) < 20 {
		t.Errorf("compared only %d objects", len(kustomize))
	}
}

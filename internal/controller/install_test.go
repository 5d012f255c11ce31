package controller_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

// The kustomize install renders, the API server accepts every object of it
// (server-side dry run), and the admission policy exempts exactly the
// service account the manager runs as.
func TestKustomizeInstallIsAccepted(t *testing.T) {
	kubectl := filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
	out, err := exec.Command(kubectl, "kustomize", filepath.Join(localcluster.RepoRoot(), "config", "default")).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize config/default: %v", err)
	}
	ctx := context.Background()
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "klaxon-system"}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	var serviceAccount, policyExpression string
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		switch obj.GetKind() {
		case "ServiceAccount":
			serviceAccount = "system:serviceaccount:" + obj.GetNamespace() + ":" + obj.GetName()
		case "MutatingAdmissionPolicy":
			conds, _, _ := unstructured.NestedSlice(obj.Object, "spec", "matchConditions")
			for _, c := range conds {
				policyExpression += c.(map[string]any)["expression"].(string)
			}
		}
		if err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("install-test"), client.DryRunAll, client.ForceOwnership); err != nil {
			t.Errorf("the API server refuses %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	if serviceAccount == "" || !strings.Contains(policyExpression, "'"+serviceAccount+"'") {
		t.Errorf("the admission policy does not exempt the manager's service account %q: %s", serviceAccount, policyExpression)
	}
}

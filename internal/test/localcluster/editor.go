package localcluster

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/operator"
)

// incidentEditorClusterRole is the shipped incident-editor ClusterRole
// (config/rbac/incident_editor_role.yaml), named as the kustomize install
// names it.
const incidentEditorClusterRole = "klaxon-incident-editor-role"

// AsIncidentEditor returns a client for user holding, in namespace, only
// the shipped incident-editor role (aggregated into edit), bound as a
// RoleBinding grants it: no system:masters, so the admission policies
// judge it as they judge a tenant. It returns once the binding is in
// effect.
func (c *Cluster) AsIncidentEditor(ctx context.Context, namespace, user string) (client.Client, error) {
	role := &rbacv1.ClusterRole{}
	if err := readObject(filepath.Join(RepoRoot(), "config", "rbac", "incident_editor_role.yaml"), role); err != nil {
		return nil, err
	}
	role.ObjectMeta = metav1.ObjectMeta{Name: incidentEditorClusterRole}
	if err := c.Admin.Create(ctx, role); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating ClusterRole %s: %w", role.Name, err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user + "-incident-editor", Namespace: namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if err := c.Admin.Create(ctx, binding); err != nil {
		return nil, fmt.Errorf("binding ClusterRole %s to %s in %s: %w", role.Name, user, namespace, err)
	}
	cfg := rest.CopyConfig(c.AdminConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	editor, err := client.New(cfg, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		return nil, err
	}
	// The binding takes effect when the authorizer's cache sees it.
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		return editor.List(ctx, &klaxonv1alpha1.IncidentList{}, client.InNamespace(namespace)) == nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for %s's role binding in %s to take effect: %w", user, namespace, err)
	}
	return editor, nil
}

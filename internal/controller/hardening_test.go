package controller_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

// The longest valid inputs still page: a level of sixteen people with the
// longest names makes a timeline message and an Event note longer than the
// API allows, and a user name longer than status allows acknowledges. Each
// is cut, and the status write goes through.
func TestLongestValidInputsStillPage(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	var targets []klaxonv1alpha1.EscalationTarget
	for i := range 16 {
		targets = append(targets, klaxonv1alpha1.EscalationTarget{User: fmt.Sprintf("%02d%s", i, strings.Repeat("u", 251))})
	}
	pol := &klaxonv1alpha1.EscalationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "everyone", Namespace: ns},
		Spec:       klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{{Targets: targets}}},
	}
	if err := k8s.Create(ctx, pol); err != nil {
		t.Fatal(err)
	}
	inc := createIncident(t, k8s, ns, "crowded", func(i *klaxonv1alpha1.Incident) {
		i.Spec.EscalationPolicyRef = &klaxonv1alpha1.LocalObjectReference{Name: pol.Name}
	})
	eventually(t, "sixteen people paged", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), inc)
		return len(inc.Status.Assignments) == 16, err
	})
	for _, e := range inc.Status.Timeline {
		if n := utf8.RuneCountInString(e.Message); n > klaxonv1alpha1.MaxTimelineMessageLength {
			t.Errorf("timeline message of %d characters", n)
		}
	}
	eventually(t, "the page's Event, cut to the events API's limit", func(ctx context.Context) (bool, error) {
		evs, err := incidentEvents(ctx, inc)
		for _, e := range evs {
			if e.Reason == "Paged" {
				return len(e.Note) <= 1024 && strings.HasSuffix(e.Note, "…"), err
			}
		}
		return false, err
	})

	// A service account's user name is longer than acknowledgedBy allows.
	long := "system:serviceaccount:" + strings.Repeat("n", 63) + ":" + strings.Repeat("a", 253)
	sa, err := cluster.Impersonate(long)
	if err != nil {
		t.Fatal(err)
	}
	mustSetState(t, sa, inc, A)
	got := waitForPhase(t, inc, A, 1)
	if n := utf8.RuneCountInString(got.Status.AcknowledgedBy); n != klaxonv1alpha1.MaxUserNameLength || !strings.HasPrefix(long, strings.TrimSuffix(got.Status.AcknowledgedBy, "…")) {
		t.Errorf("acknowledgedBy = %q (%d characters)", got.Status.AcknowledgedBy, n)
	}
}

// Event notes are taken literally: a "%" in a user name is not a verb.
func TestEventNotesAreNotFormatStrings(t *testing.T) {
	ns := newNamespace(t)
	inc := createIncident(t, k8s, ns, "percent")
	waitForPhase(t, inc, T, 1)
	user, err := cluster.Impersonate("ops%dteam")
	if err != nil {
		t.Fatal(err)
	}
	mustSetState(t, user, inc, A)
	waitForPhase(t, inc, A, 1)
	eventually(t, "the acknowledgement's Event naming ops%dteam", func(ctx context.Context) (bool, error) {
		evs, err := incidentEvents(ctx, inc)
		for _, e := range evs {
			if e.Reason == "Acknowledged" {
				if strings.Contains(e.Note, "MISSING") {
					return false, fmt.Errorf("note %q was formatted", e.Note)
				}
				return e.Note == "Incident acknowledged by ops%dteam", err
			}
		}
		return false, err
	})
}

// A status that lost triggeredAt (a hand edit, a restore from backup) is
// repaired, and paging goes on; it used to crash every reconcile.
func TestStatusWithoutTriggeredAtIsRepaired(t *testing.T) {
	ns := newNamespace(t)
	schedule(t, ns, "primary", 168*time.Hour, "alice")
	schedule(t, ns, "secondary", 168*time.Hour, "bob")
	policy(t, ns, "payments", 0)
	inc := createIncident(t, k8s, ns, "restored", func(i *klaxonv1alpha1.Incident) {
		i.Spec.EscalationPolicyRef = &klaxonv1alpha1.LocalObjectReference{Name: "payments"}
	})
	eventually(t, "level 0 paged", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), inc)
		return len(inc.Status.Assignments) == 1, err
	})
	patch := []byte(`{"status":{"triggeredAt":null,"escalation":null}}`)
	if err := k8s.Status().Patch(context.Background(), inc, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "triggeredAt restored and paging recorded again", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), inc)
		return inc.Status.TriggeredAt != nil && inc.Status.Escalation != nil &&
			meta.IsStatusConditionTrue(inc.Status.Conditions, klaxonv1alpha1.ConditionRespondersAssigned), err
	})
}

// No group may forge the actor: only the operator's own service account
// is exempt from the admission policy.
func TestNoGroupIsExemptFromAttribution(t *testing.T) {
	ns := newNamespace(t)
	mallory, err := cluster.Impersonate("mallory", "klaxon.dev:operators")
	if err != nil {
		t.Fatal(err)
	}
	inc := createIncident(t, mallory, ns, "forged", func(i *klaxonv1alpha1.Incident) {
		i.Annotations = map[string]string{klaxonv1alpha1.ActorAnnotation: klaxonv1alpha1.ActorAlertmanager}
	})
	if got := inc.Annotations[klaxonv1alpha1.ActorAnnotation]; got != "mallory" {
		t.Errorf("actor = %q, want mallory", got)
	}
	if localcluster.OperatorUser != "system:serviceaccount:klaxon-system:klaxon-controller-manager" {
		t.Errorf("the local operator is %q, not the service account the policy exempts", localcluster.OperatorUser)
	}
}

// The shipped ClusterRole reads no Secret; the Secret reader grants only
// get, and only where a namespace binds it.
func TestShippedRBACReadsNoSecretsClusterWide(t *testing.T) {
	read := func(file string) *rbacv1.ClusterRole {
		data, err := os.ReadFile(filepath.Join(localcluster.RepoRoot(), "config", "rbac", file))
		if err != nil {
			t.Fatal(err)
		}
		role := &rbacv1.ClusterRole{}
		if err := yaml.Unmarshal(data, role); err != nil {
			t.Fatal(err)
		}
		return role
	}
	for _, r := range read("role.yaml").Rules {
		for _, res := range r.Resources {
			if res == "secrets" || res == "*" {
				t.Errorf("manager-role grants %v on %s", r.Verbs, res)
			}
		}
		for _, v := range r.Verbs {
			if v == "*" {
				t.Errorf("manager-role grants every verb on %v", r.Resources)
			}
		}
	}
	reader := read("secret_reader_role.yaml")
	if len(reader.Rules) != 1 || strings.Join(reader.Rules[0].Verbs, ",") != "get" || strings.Join(reader.Rules[0].Resources, ",") != "secrets" {
		t.Errorf("secret-reader rules = %+v, want get on secrets only", reader.Rules)
	}
}

// A namespace that has not granted the operator its Secrets says so on the
// route, and the route follows once it does.
func TestRouteSaysWhenItsSecretIsForbidden(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	secret := &corev1.Secret{}
	secret.Name, secret.Namespace = "am-token", ns
	secret.Labels = map[string]string{receiver.TokenSecretLabel: "true"}
	secret.StringData = map[string]string{"token": "s3cret\n"}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	ar := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "forbidden", Namespace: ns},
		Spec:       klaxonv1alpha1.AlertRouteSpec{TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "am-token", Key: "token"}},
	}
	if err := k8s.Create(ctx, ar); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ready=False TokenSecretForbidden", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(ar), ar)
		c := meta.FindStatusCondition(ar.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return c != nil && c.Reason == klaxonv1alpha1.ReasonTokenSecretForbidden && strings.Contains(c.Message, "RoleBinding"), err
	})
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ready=True once the namespace grants it", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(ar), ar)
		return meta.IsStatusConditionTrue(ar.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
	// Each change of Ready was announced once: waiting, then valid.
	eventually(t, "a Normal Event for each change of Ready", func(ctx context.Context) (bool, error) {
		list := &eventsv1.EventList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		var reasons []string
		for _, e := range list.Items {
			if e.Regarding.UID == ar.UID && e.Type == corev1.EventTypeNormal {
				reasons = append(reasons, e.Reason)
			}
		}
		slices.Sort(reasons)
		return slices.Equal(reasons, []string{klaxonv1alpha1.ReasonTokenSecretForbidden, klaxonv1alpha1.ReasonValid}), nil
	})
}

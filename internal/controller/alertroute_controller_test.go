package controller_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

func TestAlertRouteReadiness(t *testing.T) {
	ns := newNamespace(t)
	if err := cluster.GrantSecretAccess(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	ref := klaxonv1alpha1.SecretKeyReference{Name: "am-token", Key: "token"}
	cases := map[string]struct {
		spec   klaxonv1alpha1.AlertRouteSpec
		reason string
		says   string
	}{
		"bad matcher": {klaxonv1alpha1.AlertRouteSpec{Matchers: []string{`severity=~"(critical"`}, TokenSecretRef: ref},
			klaxonv1alpha1.ReasonInvalidMatcher, "spec.matchers[0]"},
		"bad title template": {klaxonv1alpha1.AlertRouteSpec{TitleTemplate: "{{ .CommonLabels.alertname ", TokenSecretRef: ref},
			klaxonv1alpha1.ReasonInvalidTitleTemplate, "spec.titleTemplate"},
		"missing secret": {klaxonv1alpha1.AlertRouteSpec{TokenSecretRef: ref},
			klaxonv1alpha1.ReasonTokenSecretNotFound, "Secret am-token not found"},
	}
	routes := map[string]*klaxonv1alpha1.AlertRoute{}
	for name, tc := range cases {
		ar := &klaxonv1alpha1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Name: strings.ReplaceAll(name, " ", "-"), Namespace: ns}, Spec: tc.spec}
		if err := k8s.Create(context.Background(), ar); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		routes[name] = ar
	}
	for name, tc := range cases {
		ar := routes[name]
		eventually(t, name+": Ready=False "+tc.reason, func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKeyFromObject(ar), ar)
			c := meta.FindStatusCondition(ar.Status.Conditions, klaxonv1alpha1.ConditionReady)
			return c != nil && c.Status == metav1.ConditionFalse && c.Reason == tc.reason && strings.Contains(c.Message, tc.says), err
		})
	}

	// The Secret appears with the wrong key, then is fixed: the route follows.
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "am-token", Namespace: ns, Labels: map[string]string{receiver.TokenSecretLabel: "true"}},
		StringData: map[string]string{"other": "x"},
	}
	if err := k8s.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	ar := routes["missing secret"]
	eventually(t, "Ready=False TokenKeyNotFound", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(ar), ar)
		c := meta.FindStatusCondition(ar.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return c != nil && c.Reason == klaxonv1alpha1.ReasonTokenKeyNotFound, err
	})
	secret.StringData = map[string]string{"token": "s3cret"}
	if err := k8s.Update(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ready=True", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(ar), ar)
		return meta.IsStatusConditionTrue(ar.Status.Conditions, klaxonv1alpha1.ConditionReady), err
	})
}

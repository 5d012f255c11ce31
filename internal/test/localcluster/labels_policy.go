package localcluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// waitForLabelsPolicy waits until kube-apiserver enforces the reporting
// labels policy, which it loads in the background after the policy is
// created: a test that ran before would see incidents without the labels.
// It probes in a namespace of its own, since the actor policy's probe
// namespace may still be terminating.
func (c *Cluster) waitForLabelsPolicy(ctx context.Context) error {
	const probeNS = "klaxon-labels-probe"
	if err := c.Admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: probeNS}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", probeNS, err)
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		inc := &klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: probeNS,
				Labels: map[string]string{klaxonv1alpha1.LabelSeverity: "forged"}},
			Spec: klaxonv1alpha1.IncidentSpec{Title: "admission policy probe", Severity: klaxonv1alpha1.SeverityCritical},
		}
		if c.Admin.Create(ctx, inc) != nil {
			return false, nil // not yet: the namespace is still settling
		}
		defer func() { _ = c.Admin.Delete(ctx, inc) }()
		return inc.Labels[klaxonv1alpha1.LabelSeverity] == string(klaxonv1alpha1.SeverityCritical), nil
	})
	if err != nil {
		return fmt.Errorf("the klaxon-incident-labels admission policy was not enforced within 30s: %w", err)
	}
	return c.Admin.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: probeNS}})
}

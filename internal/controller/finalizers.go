package controller

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// SilenceFinalizer keeps an incident or a maintenance window whose
// Alertmanager silence Klaxon created until the silence is expired (or has
// lapsed by itself).
const SilenceFinalizer = "klaxon.dev/silence"

// setFinalizer adds or removes a finalizer with a patch of a copy, so the
// status the phases computed is kept; obj takes the new resourceVersion for
// the status patch.
func setFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string, want bool) error {
	if controllerutil.ContainsFinalizer(obj, finalizer) == want {
		return nil
	}
	patched := obj.DeepCopyObject().(client.Object)
	if want {
		controllerutil.AddFinalizer(patched, finalizer)
	} else {
		controllerutil.RemoveFinalizer(patched, finalizer)
	}
	if err := c.Patch(ctx, patched, client.MergeFromWithOptions(obj, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("updating the finalizers of %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	obj.SetFinalizers(patched.GetFinalizers())
	obj.SetResourceVersion(patched.GetResourceVersion())
	return nil
}

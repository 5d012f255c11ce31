package controller

import (
	"context"
	"slices"

	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/escalation"
)

// The objects that name another, for the watches that wake them when it
// changes. Lists come from the cache.

// policiesNaming lists the policies of a namespace that page a schedule.
func policiesNaming(ctx context.Context, c client.Client, namespace, schedule string) []reconcile.Request {
	list := &klaxonv1alpha1.EscalationPolicyList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		log.FromContext(ctx).Error(err, "Listing the escalation policies of a schedule", "onCallSchedule", klog.KRef(namespace, schedule))
		return nil
	}
	var reqs []reconcile.Request
	for _, pol := range list.Items {
		if slices.Contains(escalation.Schedules(&pol.Spec), schedule) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&pol)})
		}
	}
	return reqs
}

// respondersNaming lists the responders of a namespace with a contact on a
// channel.
func respondersNaming(ctx context.Context, c client.Client, namespace, channel string) []reconcile.Request {
	list := &klaxonv1alpha1.ResponderList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		log.FromContext(ctx).Error(err, "Listing the responders of a channel", "notificationChannel", klog.KRef(namespace, channel))
		return nil
	}
	var reqs []reconcile.Request
	for _, resp := range list.Items {
		for _, contact := range resp.Spec.Contacts {
			if contact.Channel == channel {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&resp)})
				break
			}
		}
	}
	return reqs
}

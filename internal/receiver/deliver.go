package receiver

import (
	"context"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/metrics"
)

// deliver carries out an authenticated sender's notification on its
// route, the same way for every intake: a resolve by key (a PagerDuty
// resolve, an Opsgenie close) gets the labels the group's incident stored
// for its alert, a firing group the route's matchers do not select is
// counted in klaxon_receiver_unmatched_groups_total, the notification is
// applied (applyNotification), and the answer carries the route's metrics
// labels.
func (s *Server) deliver(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, route *alertmapping.Route, n alertmapping.Notification) answer {
	if alertmapping.ResolvesByKey(n) {
		g, err := s.findGroup(ctx, s.client, s.opts.GroupIndexed, ar, n.GroupKey)
		if err != nil {
			return forRoute(ar, unavailable(err))
		}
		if g.latest != nil {
			alertmapping.RestoreLabels(n, alertmapping.StoredAlerts(g.latest))
		}
	}
	if n.Kind == alertmapping.KindAlerts && n.Status == alertmapping.StatusFiring && !route.Matches(n.Message) {
		metrics.ReceiverUnmatchedGroups.WithLabelValues(ar.Namespace, ar.Name).Inc()
	}
	_, a := s.applyNotification(ctx, ar, route, n)
	return forRoute(ar, a)
}

// forRoute labels an answer with the metrics labels of the route it is
// about, an existing one, so the labels are bounded by the routes there
// are.
func forRoute(ar *klaxonv1alpha1.AlertRoute, a answer) answer {
	a.namespace, a.route = ar.Namespace, ar.Name
	return a
}

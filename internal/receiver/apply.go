package receiver

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

// maxAttempts bounds the decide-and-write loop. Each retry follows a write
// the API server refused because the incident changed (or appeared) since it
// was read, and rereads it from the API server.
const maxAttempts = 4

// apply decides what the notification does to its group's incident and
// writes it: nothing at all when nothing changed, else at most one create or
// spec patch and one status patch.
func (s *Server) apply(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, route *alertmapping.Route, msg *alertmapping.Message) answer {
	var reader client.Reader = s.client
	for range maxAttempts {
		list := &klaxonv1alpha1.IncidentList{}
		err := reader.List(ctx, list, client.InNamespace(ar.Namespace),
			client.MatchingLabels(alertmapping.GroupSelector(ar.Name, msg.GroupKey)))
		if err != nil {
			return unavailable(fmt.Errorf("listing incidents of the group: %w", err))
		}
		existing := alertmapping.LatestIncident(list.Items, msg.GroupKey)
		d := alertmapping.Decide(route, existing, msg, s.clock.Now())

		inc, err := s.write(ctx, ar, route, msg, existing, d)
		switch {
		case apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err):
			// Another delivery (an HA peer) or a person got there first, or
			// the cache was behind: read the truth and decide again.
			reader = s.apiReader
			continue
		case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
			return answer{code: http.StatusInternalServerError, message: fmt.Sprintf("the API server refused the incident: %v", err)}
		case err != nil:
			return unavailable(err)
		}
		if d.Action == alertmapping.ActionNothing {
			return answer{code: http.StatusOK, message: d.Message}
		}
		s.log.Info("Applied Alertmanager notification", "incident", client.ObjectKeyFromObject(inc), "action", d.Action)
		return answer{code: http.StatusOK, message: fmt.Sprintf("%s: incident %s", d.Message, inc.Name)}
	}
	return unavailable(fmt.Errorf("the group's incident kept changing during %d attempts", maxAttempts))
}

// write carries out a decision.
func (s *Server) write(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, route *alertmapping.Route, msg *alertmapping.Message,
	existing *klaxonv1alpha1.Incident, d alertmapping.Decision) (*klaxonv1alpha1.Incident, error) {
	var inc *klaxonv1alpha1.Incident
	switch d.Action {
	case alertmapping.ActionNothing:
		return existing, nil
	case alertmapping.ActionCreate:
		created, err := alertmapping.NewIncident(route, ar.Name, ar.Namespace, d.Serial, msg)
		if err != nil {
			return nil, fmt.Errorf("building the incident: %w", err)
		}
		if err := s.client.Create(ctx, created); err != nil {
			return nil, fmt.Errorf("creating incident %s: %w", created.Name, err)
		}
		inc = created
	default:
		inc = existing.DeepCopy()
		if d.ApplySpec(inc) {
			// Optimistic locking: a move decided on a stale state is refused
			// and decided again.
			patch := client.MergeFromWithOptions(existing, client.MergeFromWithOptimisticLock{})
			if err := s.client.Patch(ctx, inc, patch); err != nil {
				return nil, fmt.Errorf("moving incident %s to %s: %w", inc.Name, d.State, err)
			}
		}
	}
	base := inc.DeepCopy()
	if d.ApplyStatus(inc) {
		// Only status.alerts changes, and only the receiver writes it, so the
		// patch needs no lock and cannot clobber the reconciler's fields.
		if err := s.client.Status().Patch(ctx, inc, client.MergeFrom(base)); err != nil {
			return nil, fmt.Errorf("recording the alerts of incident %s: %w", inc.Name, err)
		}
	}
	return inc, nil
}

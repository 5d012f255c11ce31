package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// maxRefusalChars bounds the API server's refusal quoted to a person.
const maxRefusalChars = 300

// moveIncident moves the incident c names (that UID, that episode) to
// spec.state to, as c.Responder, if waits says the incident as read is
// waiting for that move. It returns the incident as read before the move
// and whether it moved; ok is false, with the answer to give, when the
// incident cannot be read, is not the one c names, or the write failed.
//
// The patch carries the resourceVersion read, so a move made meanwhile (by
// a person, a link or a button) is seen: the incident is read again from
// the API server and decided again, once. The API server's lifecycle rules
// decide whether the move is allowed; a refusal answers 422 with their
// message.
func (s *Server) moveIncident(ctx context.Context, c acklink.Claims, to klaxonv1alpha1.IncidentState,
	waits func(*klaxonv1alpha1.Incident) bool) (inc *klaxonv1alpha1.Incident, moved bool, a ackAnswer, ok bool) {
	var reader client.Reader = s.client
	for range 2 {
		inc, a, ok := s.ackIncident(ctx, c, reader)
		if !ok {
			return nil, false, a, false
		}
		if !waits(inc) {
			return inc, false, ackAnswer{}, true
		}
		patched := inc.DeepCopy()
		patched.Spec.State = to
		if patched.Annotations == nil {
			patched.Annotations = map[string]string{}
		}
		// The actor policy exempts the operator's service account, so the
		// responder stands as the actor instead of the operator.
		patched.Annotations[klaxonv1alpha1.ActorAnnotation] = c.Responder
		err := s.client.Patch(ctx, patched, client.MergeFromWithOptions(inc, client.MergeFromWithOptimisticLock{}))
		switch {
		case err == nil:
			return inc, true, ackAnswer{}, true
		case apierrors.IsConflict(err):
			reader = s.apiReader
		case apierrors.IsNotFound(err):
			return nil, false, gone("This incident no longer exists.", err), false
		case apierrors.IsInvalid(err):
			return nil, false, refused(err), false
		default:
			return nil, false, ackUnavailable(fmt.Errorf("moving incident %s/%s to %s: %w", c.Namespace, c.Name, to, err)), false
		}
	}
	return nil, false, ackUnavailable(fmt.Errorf("incident %s/%s kept changing while it was moved to %s", c.Namespace, c.Name, to)), false
}

// refused answers a move the API server's lifecycle rules refused, with
// their message.
func refused(err error) ackAnswer {
	msg := err.Error()
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if d := status.Status().Details; d != nil && len(d.Causes) > 0 {
			msg = d.Causes[0].Message
		}
	}
	return failure(http.StatusUnprocessableEntity, "Refused", "Kubernetes refused the change: "+bounded.Runes(msg, maxRefusalChars), err)
}

package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// The moves responders make: acknowledging through a link (ack_page.go),
// acknowledging or resolving with a Slack button (slack_interactions.go).

// A move costs API requests only once its link or button verified: the
// patch, and a read from the API server of an incident the cache cannot
// confirm (it may lag behind a reopen or a recreated incident). Each is
// limited across all callers, with a budget of its own: replayed links of
// earlier episodes or deleted incidents need reads, and must not spend the
// patches of the links the cache confirms. Links and presses that fail to
// verify cost no API request, but each client gets only so many, so
// nobody can probe for tokens at speed; links and presses that verify but
// are no longer valid count against the client alike.
const (
	moveRequestsPerSecond   = 5
	moveRequestBurst        = 20
	staleReadsPerSecond     = 5
	staleReadBurst          = 20
	verifyFailuresPerSecond = 1
	verifyFailureBurst      = 10
)

// A link or button found no longer valid stays so: episodes only grow and
// a deleted incident's UID never comes back. The answer is remembered for
// a while, so a replay costs no API read.
const (
	goneTTL        = 5 * time.Minute
	maxGoneAnswers = 4096
)

// uncounted, passed as the client's address, leaves the counting of stale
// links to the caller: an acknowledge-all press counts one however many of
// its incidents are stale (ack_all_page.go). It is no address, so no
// client's count.
const uncounted = "(uncounted)"

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
// the API server and decided again, at most twice, since the reconciler's
// status writes right after a page can conflict with the first reread too. The API server's lifecycle rules
// decide whether the move is allowed; a refusal answers 422 with their
// message.
func (s *Server) moveIncident(ctx context.Context, c acklink.Claims, from string, to klaxonv1alpha1.IncidentState,
	waits func(*klaxonv1alpha1.Incident) bool) (inc *klaxonv1alpha1.Incident, moved bool, a ackAnswer, ok bool) {
	var reader client.Reader = s.client
	for range 3 {
		inc, a, ok := s.claimedIncident(ctx, c, from, reader)
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
			return nil, false, s.stale(c, from, gone("This incident no longer exists.", err)), false
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

// claimedIncident reads the incident the claims name and checks that it is the
// very incident (UID) and episode the link was made for. The cache may lag
// behind a reopen or a recreated incident, so what it cannot confirm is read
// again from the API server before the link is refused. A link found no
// longer valid counts against from, the client's address.
func (s *Server) claimedIncident(ctx context.Context, c acklink.Claims, from string, reader client.Reader) (*klaxonv1alpha1.Incident, ackAnswer, bool) {
	if a, ok := s.goneAnswers.lookup(c); ok {
		return nil, s.stale(c, from, a), false
	}
	key := client.ObjectKey{Namespace: c.Namespace, Name: c.Name}
	inc := &klaxonv1alpha1.Incident{}
	var err error
	if s.watches(c.Namespace) {
		err = reader.Get(ctx, key, inc)
	} else {
		// Dropped from --watch-namespaces since the link was made: gone.
		err = apierrors.NewNotFound(klaxonv1alpha1.GroupVersion.WithResource("incidents").GroupResource(), c.Name)
		reader = s.apiReader
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, ackUnavailable(fmt.Errorf("reading incident %s: %w", key, err)), false
	}
	if reader != s.apiReader && (err != nil || mismatch(inc, c) != "") {
		// Most links the cache cannot confirm turn out no longer valid:
		// a client already refused too many gets no read.
		if from != uncounted && !s.verifyFailures.allows(from) {
			return nil, tooManyStale(), false
		}
		if !s.staleReads.Allow() {
			return nil, busy(), false
		}
		inc = &klaxonv1alpha1.Incident{}
		if err = s.apiReader.Get(ctx, key, inc); err != nil && !apierrors.IsNotFound(err) {
			return nil, ackUnavailable(fmt.Errorf("reading incident %s from the API server: %w", key, err)), false
		}
	}
	if err != nil {
		return nil, s.stale(c, from, gone("This incident no longer exists.", err)), false
	}
	if why := mismatch(inc, c); why != "" {
		return nil, s.stale(c, from, gone(why, nil)), false
	}
	return inc, ackAnswer{}, true
}

// stale answers a link or button that verified but is no longer valid,
// remembers the answer, and counts it against the client's address like a
// failure to verify.
func (s *Server) stale(c acklink.Claims, from string, a ackAnswer) ackAnswer {
	s.goneAnswers.add(c, a)
	if from == uncounted {
		return a
	}
	if !s.verifyFailures.allows(from) {
		return tooManyStale()
	}
	s.verifyFailures.take(from)
	return a
}

// goneKey names what a link or button was made for, whoever it names as
// the responder: if it is gone for one, it is gone for all.
type goneKey struct {
	namespace, name, uid string
	episode              int32
}

// goneCache remembers, for goneTTL, the answers to links and buttons found
// no longer valid; when full it drops its oldest answers, whose replays
// then cost one read again.
type goneCache struct {
	now     func() time.Time
	answers *ttlCache[goneKey, ackAnswer]
}

func newGoneCache(now func() time.Time) *goneCache {
	return &goneCache{now: now, answers: newTTLCache[goneKey, ackAnswer](goneTTL, maxGoneAnswers)}
}

func keyOf(c acklink.Claims) goneKey {
	return goneKey{namespace: c.Namespace, name: c.Name, uid: c.UID, episode: c.Episode}
}

// lookup returns the answer remembered for the claims, if any.
func (g *goneCache) lookup(c acklink.Claims) (ackAnswer, bool) {
	return g.answers.get(g.now(), keyOf(c))
}

// add remembers the answer for the claims, unless one is remembered.
func (g *goneCache) add(c acklink.Claims, a ackAnswer) {
	// The cause was logged with the first answer.
	a.cause = nil
	g.answers.add(g.now(), keyOf(c), a)
}

// mismatch says why the incident is not the one, in the episode, the link
// was made for; empty when it is.
func mismatch(inc *klaxonv1alpha1.Incident, c acklink.Claims) string {
	switch {
	case string(inc.UID) != c.UID:
		return "The incident this link was made for no longer exists; another incident has its name now."
	case inc.Status.Episode != c.Episode:
		return "This link is for an earlier episode of the incident: it was reopened since. Use the link of the latest page."
	}
	return ""
}

// alreadyMoved says what became of an incident that is no longer waiting
// for acknowledgement.
func alreadyMoved(inc *klaxonv1alpha1.Incident) string {
	by := acknowledger(inc)
	state := inc.Status.Phase
	if state == klaxonv1alpha1.StateTriggered {
		state = inc.Spec.State
	}
	msg := "This incident is already " + string(state) + "."
	if state == klaxonv1alpha1.StateAcknowledged {
		msg = "This incident is already acknowledged."
	}
	if by != "" {
		msg += " It was acknowledged by " + by + "."
	}
	return msg
}

// acknowledger is who acknowledged the incident, "" when unknown.
func acknowledger(inc *klaxonv1alpha1.Incident) string {
	by := inc.Status.AcknowledgedBy
	if by == "" && inc.Spec.State == klaxonv1alpha1.StateAcknowledged {
		// Acknowledged a moment ago; the operator has not recorded it yet.
		by = inc.Annotations[klaxonv1alpha1.ActorAnnotation]
	}
	return by
}

// awaitsAcknowledgement reports whether the link's button acknowledges:
// the operator accepted Triggered and nobody asked for another state since.
func awaitsAcknowledgement(inc *klaxonv1alpha1.Incident) bool {
	return inc.Status.Phase == klaxonv1alpha1.StateTriggered && inc.Spec.State == klaxonv1alpha1.StateTriggered
}

// awaitsResolution reports whether Resolve moves the incident: nobody
// resolved or closed it yet.
func awaitsResolution(inc *klaxonv1alpha1.Incident) bool {
	return inc.Spec.State != klaxonv1alpha1.StateResolved && inc.Spec.State != klaxonv1alpha1.StateClosed
}

package receiver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/metrics"
)

// TokenSecretLabel (set to "true") marks a Secret as a receiver token. The
// operator uses no other Secret as a token: without the mark, anyone who can
// write an AlertRoute could point it at any Secret of the namespace (a
// database password, say) and learn from the route's status whether it
// exists, or from the receiver's answers whether a guess matches it.
const TokenSecretLabel = "klaxon.dev/receiver-token"

// statusWriteResolution is how stale status.lastReceivedAt and
// status.lastRejectedAt may get: each is written at most this often per
// route and replica, so repeats (or a stream of wrong tokens) cost no API
// request.
const statusWriteResolution = time.Minute

// maxNamespaceRoutes bounds how many routes of a namespace are tried when
// a request names a route that does not exist, to decide between 404 and
// 401 (see handle).
const maxNamespaceRoutes = 64

// handle checks, parses and applies one notification.
//
// Nothing is revealed before the caller is authenticated: a request without
// a bearer token is refused before any lookup, and a wrong token for an
// existing route gets the same answer (401, same message) as any token for
// a route that does not exist. Only a caller whose token is valid for some
// route of the namespace learns that a route is missing (404), so it can fix
// its URL. A route the cache has not seen yet is read from the API server
// before the receiver says it does not exist, so a notification for a route
// created a moment ago is not dropped.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, ns, name string) answer {
	if r.Method != http.MethodPost {
		return answer{code: http.StatusMethodNotAllowed, message: fmt.Sprintf("method %s is not allowed: Alertmanager webhooks are POSTed", r.Method)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.APITimeout)
	defer cancel()
	bearer, ok := bearerToken(r)
	if !ok {
		a := answer{code: http.StatusUnauthorized, message: "missing bearer token: set http_config.authorization.credentials in Alertmanager's webhook config"}
		// Counted under the route when the cache knows it, so a route whose
		// Alertmanager sends no token shows in its metrics; the answer is
		// the same either way.
		if s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &klaxonv1alpha1.AlertRoute{}) == nil {
			a.namespace, a.route = ns, name
		}
		return a
	}

	ar, err := s.lookupRoute(ctx, ns, name)
	if err != nil {
		return apiUnavailable(err)
	}
	if ar == nil {
		known, err := s.authenticatesNamespace(ctx, ns, bearer)
		switch {
		case err != nil:
			return apiUnavailable(err)
		case known:
			return answer{code: http.StatusNotFound, message: fmt.Sprintf("AlertRoute %s/%s not found: check the namespace and name in Alertmanager's webhook URL", ns, name)}
		}
		return s.unauthorized(ns, name)
	}

	a := s.process(ctx, w, r, ar, bearer)
	// The route exists, so its labels are bounded by the routes there are.
	a.namespace, a.route = ns, name
	if a.code < 300 {
		s.touchStatus(ctx, ar, &s.touchedReceived, func(st *klaxonv1alpha1.AlertRouteStatus, now *metav1.Time) {
			st.LastReceivedAt = now
		}, ar.Status.LastReceivedAt)
	}
	return a
}

func (s *Server) process(ctx context.Context, w http.ResponseWriter, r *http.Request, ar *klaxonv1alpha1.AlertRoute, bearer []byte) answer {
	if a, ok := s.authenticate(ctx, ar, bearer); !ok {
		return a
	}
	route, err := s.routeFor(ar)
	if err != nil {
		// Answering 4xx would make Alertmanager drop the alerts; 503 keeps it
		// retrying until the route is fixed.
		return answer{code: http.StatusServiceUnavailable, message: fmt.Sprintf("AlertRoute %s/%s is not ready: %v", ar.Namespace, ar.Name, err)}
	}

	msg, a, ok := s.readMessage(ctx, w, r)
	if !ok {
		return a
	}
	// Heartbeat alerts (an always-firing Watchdog) beat, and open no
	// incident when they are all the notification holds.
	if a, done := s.heartbeatNotification(ctx, ar, msg); done {
		return a
	}
	if !route.Matches(msg) {
		metrics.ReceiverUnmatchedGroups.WithLabelValues(ar.Namespace, ar.Name).Inc()
	}
	return s.apply(ctx, ar, route, msg)
}

// readMessage reads and parses the body. Parsing a large body costs many
// times its size in memory, so only MaxConcurrentParses bodies are read and
// parsed at once, and the rest are told to come back.
func (s *Server) readMessage(ctx context.Context, w http.ResponseWriter, r *http.Request) (*alertmapping.Message, answer, bool) {
	release, ok := s.acquireParseSlot(ctx)
	if !ok {
		return nil, answer{code: http.StatusServiceUnavailable, message: "the receiver is busy reading other notifications; Alertmanager will retry"}, false
	}
	defer release()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, answer{code: http.StatusRequestEntityTooLarge, message: fmt.Sprintf("the request body is larger than %d bytes: lower max_alerts in Alertmanager's webhook config", s.opts.MaxBodyBytes)}, false
		}
		return nil, answer{code: http.StatusBadRequest, message: fmt.Sprintf("reading the request body: %v", err)}, false
	}
	msg, err := alertmapping.ParseMessage(body)
	if err != nil {
		return nil, answer{code: http.StatusBadRequest, message: err.Error()}, false
	}
	return msg, answer{}, true
}

// acquireParseSlot waits briefly for one of the MaxConcurrentParses slots.
func (s *Server) acquireParseSlot(ctx context.Context) (func(), bool) {
	wait, cancel := context.WithTimeout(ctx, parseSlotWait)
	defer cancel()
	select {
	case s.parseSlots <- struct{}{}:
		return func() { <-s.parseSlots }, true
	case <-wait.Done():
		return nil, false
	}
}

// lookupRoute returns the route from the cache, or from the API server when
// the cache does not have it (yet); nil when it does not exist (see lookup).
func (s *Server) lookupRoute(ctx context.Context, ns, name string) (*klaxonv1alpha1.AlertRoute, error) {
	ar := &klaxonv1alpha1.AlertRoute{}
	if found, err := s.lookup(ctx, ns, name, "AlertRoute", ar); !found || err != nil {
		return nil, err
	}
	return ar, nil
}

// lookup reads the object ns/name of kind into obj from the cache, or from
// the API server when the cache does not have it (yet), and reports whether
// it exists. Names that cannot exist are not looked up at all, and the API
// reads are rate limited so that requests for random names cannot turn into
// a flood of API requests.
func (s *Server) lookup(ctx context.Context, ns, name, kind string, obj client.Object) (bool, error) {
	if len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 || !s.watches(ns) {
		return false, nil
	}
	key := client.ObjectKey{Namespace: ns, Name: name}
	err := s.client.Get(ctx, key, obj)
	switch {
	case err == nil:
		return true, nil
	case !apierrors.IsNotFound(err):
		return false, fmt.Errorf("reading %s %s: %w", kind, key, err)
	case !s.liveReads.Allow():
		return false, errBusy
	}
	if err := s.apiReader.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading %s %s from the API server: %w", kind, key, err)
	}
	return true, nil
}

// watches tells whether the cache holds namespace ns. Outside
// --watch-namespaces the cache refuses to answer; the receiver answers as
// for a namespace without routes, never 503, so Alertmanager does not
// retry a wrong URL forever.
func (s *Server) watches(ns string) bool {
	return len(s.opts.Namespaces) == 0 || slices.Contains(s.opts.Namespaces, ns)
}

var errBusy = errors.New("too many requests for routes the receiver does not know")

// authenticatesNamespace reports whether bearer is the token of some route
// of the namespace.
func (s *Server) authenticatesNamespace(ctx context.Context, ns string, bearer []byte) (bool, error) {
	if len(validation.IsDNS1123Label(ns)) > 0 || !s.watches(ns) {
		return false, nil
	}
	list := &klaxonv1alpha1.AlertRouteList{}
	if err := s.client.List(ctx, list, client.InNamespace(ns)); err != nil {
		return false, fmt.Errorf("listing the AlertRoutes of namespace %s: %w", ns, err)
	}
	for i := range list.Items {
		if i == maxNamespaceRoutes {
			break
		}
		ref := list.Items[i].Spec.TokenSecretRef
		secret, err := s.tokens.get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name})
		if err == nil && secret != nil && matches(secret, ref.Key, bearer) {
			return true, nil
		}
	}
	return false, nil
}

// authenticate checks the bearer token against the route's Secret, in
// constant time. When the Secret cannot be read the caller cannot be
// authenticated either, so the answer (503, so Alertmanager retries) names
// neither the Secret nor its key: the route's Ready condition does.
func (s *Server) authenticate(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, bearer []byte) (answer, bool) {
	ref := ar.Spec.TokenSecretRef
	key := client.ObjectKey{Namespace: ar.Namespace, Name: ref.Name}
	secret, err := s.tokens.get(ctx, key)
	if err == nil && secret != nil && matches(secret, ref.Key, bearer) {
		return answer{}, true
	}
	if err == nil || apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		// The token may have just been rotated, or the Secret created.
		var refreshed bool
		secret, refreshed, err = s.tokens.refresh(ctx, key)
		if refreshed && err == nil && secret != nil && matches(secret, ref.Key, bearer) {
			return answer{}, true
		}
	}
	switch {
	case apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || (err == nil && StoredToken(secret, ref.Key) == nil):
		return answer{code: http.StatusServiceUnavailable, message: fmt.Sprintf(
			"AlertRoute %s/%s cannot check tokens yet: its Ready condition says why (kubectl describe alertroute -n %s %s); Alertmanager will retry",
			ar.Namespace, ar.Name, ar.Namespace, ar.Name)}, false
	case err != nil:
		return apiUnavailable(err), false
	}
	s.touchStatus(ctx, ar, &s.touchedRejected, func(st *klaxonv1alpha1.AlertRouteStatus, now *metav1.Time) {
		st.LastRejectedAt = now
		st.LastRejection = bounded.Runes(fmt.Sprintf("A notification's bearer token did not match key %q of Secret %s (surrounding whitespace ignored): "+
			"check http_config.authorization.credentials in Alertmanager's webhook config", ref.Key, ref.Name), klaxonv1alpha1.MaxRejectionLength)
	}, ar.Status.LastRejectedAt)
	return s.unauthorized(ar.Namespace, ar.Name), false
}

// matches compares digests of the tokens, in constant time: comparing the
// tokens themselves would take less time for a token of the wrong length.
func matches(secret *corev1.Secret, key string, bearer []byte) bool {
	want := StoredToken(secret, key)
	if want == nil {
		return false
	}
	got, stored := sha256.Sum256(bearer), sha256.Sum256(want)
	return subtle.ConstantTimeCompare(got[:], stored[:]) == 1
}

// bearerToken returns the request's bearer token, without surrounding
// whitespace.
func bearerToken(r *http.Request) ([]byte, bool) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, false
	}
	return []byte(token), true
}

// unauthorized is the one answer to a token that is wrong for the URL,
// whether or not the route exists. While lookups of unknown routes are
// refused for their rate, an unknown route answers "busy"; a wrong token for
// a known route then answers the same, or the difference would tell which
// routes exist.
func (s *Server) unauthorized(ns, name string) answer {
	if s.liveReads.Tokens() < 1 {
		return apiUnavailable(errBusy)
	}
	return answer{code: http.StatusUnauthorized, message: fmt.Sprintf(
		"the bearer token is not valid for /alertmanager/%s/%s: check the URL and http_config.authorization.credentials in Alertmanager's webhook config", ns, name)}
}

// touchStatus records a receiver-owned status field (set by set) at most once
// per statusWriteResolution per route and replica. It patches only that
// field, without optimistic locking, so it never conflicts with the
// AlertRoute controller's conditions. A failure is logged, not answered.
func (s *Server) touchStatus(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, touched *sync.Map,
	set func(*klaxonv1alpha1.AlertRouteStatus, *metav1.Time), last *metav1.Time) {
	now := s.clock.Now()
	if last != nil && now.Sub(last.Time) < statusWriteResolution {
		return
	}
	key := client.ObjectKeyFromObject(ar)
	if prev, ok := touched.Load(key); ok && now.Sub(prev.(time.Time)) < statusWriteResolution {
		return
	}
	touched.Store(key, now)
	patched := ar.DeepCopy()
	set(&patched.Status, &metav1.Time{Time: now.Truncate(time.Second)})
	if err := s.client.Status().Patch(ctx, patched, client.MergeFrom(ar)); err != nil {
		s.log.Error(err, "Recording the route's receiver status", "alertRoute", klog.KObj(ar))
	}
}

// apiUnavailable answers 503: Alertmanager retries, so nothing is lost. The
// cause is logged; the body does not carry it, since the caller is not
// authenticated yet.
func apiUnavailable(err error) answer {
	if errors.Is(err, errBusy) {
		return answer{code: http.StatusServiceUnavailable, message: "the receiver is busy; Alertmanager will retry", cause: err}
	}
	return answer{code: http.StatusServiceUnavailable,
		message: "the Kubernetes API server could not be reached or failed; Alertmanager will retry", cause: err}
}

// unavailable answers 503 to an authenticated caller, saying what failed.
func unavailable(err error) answer {
	return answer{code: http.StatusServiceUnavailable,
		message: fmt.Sprintf("the Kubernetes API server could not be reached or failed; Alertmanager will retry: %v", err), cause: err}
}

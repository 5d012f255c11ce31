package receiver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Live reads of routes the cache does not know are limited to this rate
// (and burst), so that requests naming random routes cannot flood the API
// server nor queue behind the client's own rate limit; past it the receiver
// answers 503 at once and Alertmanager retries. A real new route needs one
// such read, and only until the cache has it, milliseconds later.
const (
	liveReadsPerSecond = 2
	liveReadBurst      = 5
)

// errorLogInterval is how often the same route's failures are logged at
// error level; the rest are logged at V(1), so a misconfigured or probed
// route cannot flood the log.
const errorLogInterval = time.Minute

// statusWriteResolution is how stale status.lastReceivedAt and
// status.lastRejectedAt may get: each is written at most this often per
// route and replica, so repeats (or a stream of wrong tokens) cost no API
// request.
const statusWriteResolution = time.Minute

// maxNamespaceRoutes bounds how many routes of a namespace are tried when
// a request names a route that does not exist, to decide between 404 and
// 401 (see authorizeRoute).
const maxNamespaceRoutes = 64

var errBusy = errors.New("too many requests for routes the receiver does not know")

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
func (s *Server) authenticate(ctx context.Context, from sender, ar *klaxonv1alpha1.AlertRoute, bearer []byte) (answer, bool) {
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
			"AlertRoute %s/%s cannot check tokens yet: its Ready condition says why (kubectl describe alertroute -n %s %s); %s will retry",
			ar.Namespace, ar.Name, ar.Namespace, ar.Name, from.name)}, false
	case err != nil:
		return apiUnavailable(fmt.Errorf("reading Secret %s: %w", key, err)), false
	}
	s.touchStatus(ctx, ar, &s.touchedRejected, func(st *klaxonv1alpha1.AlertRouteStatus, now *metav1.Time) {
		st.LastRejectedAt = now
		st.LastRejection = bounded.Runes(fmt.Sprintf("A notification's %s did not match key %q of Secret %s (surrounding whitespace ignored): "+
			"check %s", from.token, ref.Key, ref.Name, from.setting), klaxonv1alpha1.MaxRejectionLength)
	}, ar.Status.LastRejectedAt)
	return s.unauthorized(from, ar.Namespace, ar.Name), false
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

// unauthorized is the one answer to a token that is wrong for the URL,
// whether or not the route exists. While lookups of unknown routes are
// refused for their rate, an unknown route answers "busy"; a wrong token for
// a known route then answers the same, or the difference would tell which
// routes exist.
func (s *Server) unauthorized(from sender, ns, name string) answer {
	if s.liveReads.Tokens() < 1 {
		return apiUnavailable(errBusy)
	}
	return answer{code: http.StatusUnauthorized, message: fmt.Sprintf(
		"the %s is not valid for /%s/%s/%s: check the URL and %s", from.token, from.path, ns, name, from.setting)}
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

// logAnswer logs a 5xx answer at error level at most once per
// errorLogInterval for each known route (and once for all unknown ones),
// and everything else at V(1). Names from the URL are logged only at V(1):
// they are whatever the caller sent.
func (s *Server) logAnswer(a answer, surface, ns, name string) {
	log := s.log.V(1)
	if a.code >= http.StatusInternalServerError {
		key := a.namespace + "/" + a.route
		now := s.clock.Now()
		if last, ok := s.loggedErrors.Load(key); !ok || now.Sub(last.(time.Time)) >= errorLogInterval {
			s.loggedErrors.Store(key, now)
			s.log.Error(a.cause, "Answered a sender with an error", "surface", surface, "alertRoute", klog.KRef(a.namespace, a.route), "code", a.code, "message", a.message)
			return
		}
	}
	log.Info("Answered a sender", "surface", surface, "alertRoute", klog.KRef(ns, name), "code", a.code, "message", a.message, "error", a.cause)
}

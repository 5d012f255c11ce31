package receiver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/metrics"
)

// TokenSecretLabel must be set (to "true") on the Secrets that hold receiver
// tokens: the operator caches only those Secrets, never all of them.
const TokenSecretLabel = "klaxon.dev/receiver-token"

// lastReceivedResolution is how stale status.lastReceivedAt may get: it is
// written at most this often per route, so repeats cost no API request.
const lastReceivedResolution = time.Minute

// handle checks, parses and applies one notification.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, ns, name string) answer {
	if r.Method != http.MethodPost {
		return answer{code: http.StatusMethodNotAllowed, message: fmt.Sprintf("method %s is not allowed: Alertmanager webhooks are POSTed", r.Method)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.APITimeout)
	defer cancel()

	ar := &klaxonv1alpha1.AlertRoute{}
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ar); err != nil {
		if apierrors.IsNotFound(err) {
			return answer{code: http.StatusNotFound, message: fmt.Sprintf("AlertRoute %s/%s not found: check the namespace and name in Alertmanager's webhook URL", ns, name)}
		}
		return unavailable(fmt.Errorf("reading AlertRoute %s/%s: %w", ns, name, err))
	}
	a := s.process(ctx, w, r, ar)
	a.route = name
	if a.code < 300 {
		s.touchLastReceived(ctx, ar)
	}
	return a
}

func (s *Server) process(ctx context.Context, w http.ResponseWriter, r *http.Request, ar *klaxonv1alpha1.AlertRoute) answer {
	if a, ok := s.authenticate(ctx, r, ar); !ok {
		return a
	}
	route, err := s.routeFor(ar)
	if err != nil {
		// Answering 4xx would make Alertmanager drop the alerts; 503 keeps it
		// retrying until the route is fixed.
		return answer{code: http.StatusServiceUnavailable, message: fmt.Sprintf("AlertRoute %s/%s is not ready: %v", ar.Namespace, ar.Name, err)}
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return answer{code: http.StatusRequestEntityTooLarge, message: fmt.Sprintf("the request body is larger than %d bytes: lower max_alerts in Alertmanager's webhook config", s.opts.MaxBodyBytes)}
		}
		return answer{code: http.StatusBadRequest, message: fmt.Sprintf("reading the request body: %v", err)}
	}
	msg, err := alertmapping.ParseMessage(body)
	if err != nil {
		return answer{code: http.StatusBadRequest, message: err.Error()}
	}
	if !route.Matches(msg) {
		metrics.ReceiverUnmatchedGroups.WithLabelValues(ar.Namespace, ar.Name).Inc()
	}
	return s.apply(ctx, ar, route, msg)
}

// authenticate checks the bearer token against the route's Secret, in
// constant time.
func (s *Server) authenticate(ctx context.Context, r *http.Request, ar *klaxonv1alpha1.AlertRoute) (answer, bool) {
	ref := ar.Spec.TokenSecretRef
	secret := &corev1.Secret{}
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: ar.Namespace, Name: ref.Name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return answer{code: http.StatusServiceUnavailable, message: fmt.Sprintf(
				"AlertRoute %s/%s is not ready: its token Secret %s was not found (it needs the label %s=true)",
				ar.Namespace, ar.Name, ref.Name, TokenSecretLabel)}, false
		}
		return unavailable(fmt.Errorf("reading Secret %s/%s: %w", ar.Namespace, ref.Name, err)), false
	}
	want := secret.Data[ref.Key]
	if len(want) == 0 {
		return answer{code: http.StatusServiceUnavailable, message: fmt.Sprintf(
			"AlertRoute %s/%s is not ready: Secret %s has no key %q", ar.Namespace, ar.Name, ref.Name, ref.Key)}, false
	}
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return answer{code: http.StatusUnauthorized, message: "missing bearer token: set http_config.authorization.credentials in Alertmanager's webhook config"}, false
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), want) != 1 {
		return answer{code: http.StatusUnauthorized, message: fmt.Sprintf("wrong bearer token for AlertRoute %s/%s", ar.Namespace, ar.Name)}, false
	}
	return answer{}, true
}

// touchLastReceived records that the route received a notification, at most
// once per lastReceivedResolution. It patches only that field, without
// optimistic locking, so it never conflicts with the AlertRoute controller's
// conditions. A failure is logged, not answered: the incident is stored.
func (s *Server) touchLastReceived(ctx context.Context, ar *klaxonv1alpha1.AlertRoute) {
	now := s.clock.Now()
	if last := ar.Status.LastReceivedAt; last != nil && now.Sub(last.Time) < lastReceivedResolution {
		return
	}
	key := client.ObjectKeyFromObject(ar)
	if last, ok := s.touched.Load(key); ok && now.Sub(last.(time.Time)) < lastReceivedResolution {
		return
	}
	s.touched.Store(key, now)
	patched := ar.DeepCopy()
	patched.Status.LastReceivedAt = &metav1.Time{Time: now.Truncate(time.Second)}
	if err := s.client.Status().Patch(ctx, patched, client.MergeFrom(ar)); err != nil {
		s.log.Error(err, "Recording lastReceivedAt", "alertRoute", client.ObjectKeyFromObject(ar))
	}
}

// unavailable answers 503: Alertmanager retries, so nothing is lost.
func unavailable(err error) answer {
	return answer{code: http.StatusServiceUnavailable, message: fmt.Sprintf("the Kubernetes API server could not be reached or failed; Alertmanager will retry: %v", err)}
}

package receiver

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/metrics"
)

// parseSlotWait is how long a request waits for a parse slot before it is
// answered 503; short, because Alertmanager retries.
const parseSlotWait = time.Second

// alertmanagerIntake serves POST /alertmanager/{namespace}/{route}:
// Alertmanager's webhook, authenticated by the route's token, mapped with
// internal/alertmapping and written to the group's incident (apply.go),
// answered only once the write is stored.
type alertmanagerIntake struct {
	*Server

	// parseSlots holds a token for each body being read and parsed.
	parseSlots chan struct{}
	// routes caches compiled AlertRoutes by namespace/name, for one UID and
	// generation, so a notification does not reparse matchers and
	// templates; keying by name bounds it by the routes that exist.
	routes sync.Map
	// touchedReceived remembers when this replica last wrote a route's
	// lastReceivedAt, so repeats arriving before the cache shows the write
	// do not write it again.
	touchedReceived sync.Map
}

type compiledRoute struct {
	uid        types.UID
	generation int64
	route      *alertmapping.Route
	err        error
}

// ServeHTTP answers one notification, counts it in the receiver's metrics
// and logs it (logAnswer).
func (am *alertmanagerIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := am.clock.Now()
	ns, name := r.PathValue("namespace"), r.PathValue("route")
	a := am.handle(w, r, ns, name)
	if a.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	writeText(w, a.code, a.message)

	metrics.ReceiverRequests.WithLabelValues(a.namespace, a.route, strconv.Itoa(a.code)).Inc()
	metrics.ReceiverDuration.WithLabelValues(a.namespace, a.route).Observe(am.clock.Since(start).Seconds())
	am.logAnswer(a, ns, name)
}

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
func (am *alertmanagerIntake) handle(w http.ResponseWriter, r *http.Request, ns, name string) answer {
	if r.Method != http.MethodPost {
		return answer{code: http.StatusMethodNotAllowed, message: fmt.Sprintf("method %s is not allowed: Alertmanager webhooks are POSTed", r.Method)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), am.opts.APITimeout)
	defer cancel()
	bearer, ok := bearerToken(r)
	if !ok {
		a := answer{code: http.StatusUnauthorized, message: "missing bearer token: set http_config.authorization.credentials in Alertmanager's webhook config"}
		// Counted under the route when the cache knows it, so a route whose
		// Alertmanager sends no token shows in its metrics; the answer is
		// the same either way.
		if am.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &klaxonv1alpha1.AlertRoute{}) == nil {
			a.namespace, a.route = ns, name
		}
		return a
	}

	ar, err := am.lookupRoute(ctx, ns, name)
	if err != nil {
		return apiUnavailable(err)
	}
	if ar == nil {
		known, err := am.authenticatesNamespace(ctx, ns, bearer)
		switch {
		case err != nil:
			return apiUnavailable(err)
		case known:
			return answer{code: http.StatusNotFound, message: fmt.Sprintf("AlertRoute %s/%s not found: check the namespace and name in Alertmanager's webhook URL", ns, name)}
		}
		return am.unauthorized(ns, name)
	}

	a := am.process(ctx, w, r, ar, bearer)
	// The route exists, so its labels are bounded by the routes there are.
	a.namespace, a.route = ns, name
	if a.code < 300 {
		am.touchStatus(ctx, ar, &am.touchedReceived, func(st *klaxonv1alpha1.AlertRouteStatus, now *metav1.Time) {
			st.LastReceivedAt = now
		}, ar.Status.LastReceivedAt)
	}
	return a
}

func (am *alertmanagerIntake) process(ctx context.Context, w http.ResponseWriter, r *http.Request, ar *klaxonv1alpha1.AlertRoute, bearer []byte) answer {
	if a, ok := am.authenticate(ctx, ar, bearer); !ok {
		return a
	}
	route, err := am.routeFor(ar)
	if err != nil {
		// Answering 4xx would make Alertmanager drop the alerts; 503 keeps it
		// retrying until the route is fixed.
		return answer{code: http.StatusServiceUnavailable, message: fmt.Sprintf("AlertRoute %s/%s is not ready: %v", ar.Namespace, ar.Name, err)}
	}

	msg, a, ok := am.readMessage(ctx, w, r)
	if !ok {
		return a
	}
	// Heartbeat alerts (an always-firing Watchdog) beat, and open no
	// incident when they are all the notification holds.
	if a, done := am.heartbeats.notification(ctx, ar, msg); done {
		return a
	}
	if !route.Matches(msg) {
		metrics.ReceiverUnmatchedGroups.WithLabelValues(ar.Namespace, ar.Name).Inc()
	}
	return am.apply(ctx, ar, route, msg)
}

// readMessage reads and parses the body. Parsing a large body costs many
// times its size in memory, so only MaxConcurrentParses bodies are read and
// parsed at once, and the rest are told to come back.
func (am *alertmanagerIntake) readMessage(ctx context.Context, w http.ResponseWriter, r *http.Request) (*alertmapping.Message, answer, bool) {
	release, ok := am.acquireParseSlot(ctx)
	if !ok {
		return nil, answer{code: http.StatusServiceUnavailable, message: "the receiver is busy reading other notifications; Alertmanager will retry"}, false
	}
	defer release()
	body, tooLarge, err := readBody(w, r, am.opts.MaxBodyBytes)
	switch {
	case tooLarge:
		return nil, answer{code: http.StatusRequestEntityTooLarge, message: fmt.Sprintf("the request body is larger than %d bytes: lower max_alerts in Alertmanager's webhook config", am.opts.MaxBodyBytes)}, false
	case err != nil:
		return nil, answer{code: http.StatusBadRequest, message: fmt.Sprintf("reading the request body: %v", err)}, false
	}
	msg, err := alertmapping.ParseMessage(body)
	if err != nil {
		return nil, answer{code: http.StatusBadRequest, message: err.Error()}, false
	}
	return msg, answer{}, true
}

// acquireParseSlot waits briefly for one of the MaxConcurrentParses slots.
func (am *alertmanagerIntake) acquireParseSlot(ctx context.Context) (func(), bool) {
	wait, cancel := context.WithTimeout(ctx, parseSlotWait)
	defer cancel()
	select {
	case am.parseSlots <- struct{}{}:
		return func() { <-am.parseSlots }, true
	case <-wait.Done():
		return nil, false
	}
}

// routeFor compiles an AlertRoute once per generation.
func (am *alertmanagerIntake) routeFor(ar *klaxonv1alpha1.AlertRoute) (*alertmapping.Route, error) {
	key := types.NamespacedName{Namespace: ar.Namespace, Name: ar.Name}
	if v, ok := am.routes.Load(key); ok {
		if c := v.(compiledRoute); c.uid == ar.UID && c.generation == ar.Generation {
			return c.route, c.err
		}
	}
	route, err := alertmapping.CompileRoute(ar.Spec)
	am.routes.Store(key, compiledRoute{uid: ar.UID, generation: ar.Generation, route: route, err: err})
	return route, err
}

package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/heartbeat"
	"github.com/klaxon-dev/klaxon/internal/metrics"
)

// The intakes (alertmanager.go, and one file per other sender) share what
// this file holds: how a request finds and authenticates its AlertRoute,
// how its body is read, how its notification is applied (apply.go), and how
// it is counted and logged. Each intake only reads its sender's credentials
// and body, and answers in its sender's own shape, so the sender's retry
// logic works unchanged.

// parseSlotWait is how long a request waits for a parse slot before it is
// answered 503; short, because senders retry.
const parseSlotWait = time.Second

// sender describes an intake's callers, for the sentences of its answers.
type sender struct {
	intake alertmapping.Intake
	// name is the sender in a sentence: "Alertmanager".
	name string
	// path is the first segment of the intake's URLs.
	path string
	// token names the credential in a sentence: "bearer token".
	token string
	// setting says where the sender's configuration sets the token.
	setting string
}

var (
	alertmanagerSender = sender{intake: alertmapping.IntakeAlertmanager, name: "Alertmanager", path: "alertmanager",
		token: "bearer token", setting: "http_config.authorization.credentials in Alertmanager's webhook config"}
	pagerDutySender = sender{intake: alertmapping.IntakePagerDuty, name: "the sender", path: "pagerduty",
		token: "routing_key", setting: "the routing_key of the event (routing_key in Alertmanager's pagerduty_configs)"}
	opsgenieSender = sender{intake: alertmapping.IntakeOpsgenie, name: "the sender", path: "opsgenie",
		token: "GenieKey", setting: "the Authorization: GenieKey header (api_key in Alertmanager's opsgenie_configs)"}
)

// compiledRoute is an AlertRoute compiled for one UID and generation.
type compiledRoute struct {
	uid        types.UID
	generation int64
	route      *alertmapping.Route
	err        error
}

// authorizeRoute finds the route ns/name and checks the caller's token
// (hasToken false: the request carried none) against it.
//
// Nothing is revealed before the caller is authenticated: a request without
// a token is refused before any lookup, and a wrong token for an existing
// route gets the same answer (401, same message) as any token for a route
// that does not exist. Only a caller whose token is valid for some route of
// the namespace learns that a route is missing (404), so it can fix its URL.
// A route the cache has not seen yet is read from the API server before the
// receiver says it does not exist, so a notification for a route created a
// moment ago is not dropped. A route that is not ready answers 503: a 4xx
// would make the sender drop its alerts, 503 keeps it retrying until the
// route is fixed.
//
// The answer carries the route's metrics labels once the route is known to
// exist, whatever else it says.
func (s *Server) authorizeRoute(ctx context.Context, from sender, ns, name string, token []byte, hasToken bool) (
	*klaxonv1alpha1.AlertRoute, *alertmapping.Route, answer, bool) {
	if !hasToken {
		a := answer{code: http.StatusUnauthorized, message: fmt.Sprintf("missing %s: set %s", from.token, from.setting)}
		// Counted under the route when the cache knows it, so a route whose
		// sender sends no token shows in its metrics; the answer is the
		// same either way.
		if s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &klaxonv1alpha1.AlertRoute{}) == nil {
			a.namespace, a.route = ns, name
		}
		return nil, nil, a, false
	}
	ar, err := s.lookupRoute(ctx, ns, name)
	if err != nil {
		return nil, nil, apiUnavailable(err), false
	}
	if ar == nil {
		known, nsErr := s.authenticatesNamespace(ctx, ns, token)
		switch {
		case nsErr != nil:
			return nil, nil, apiUnavailable(nsErr), false
		case known:
			return nil, nil, answer{code: http.StatusNotFound, message: fmt.Sprintf(
				"AlertRoute %s/%s not found: check the namespace and name in %s's URL", ns, name, from.name)}, false
		}
		return nil, nil, s.unauthorized(from, ns, name), false
	}
	a, ok := s.authenticate(ctx, from, ar, token)
	if s.opts.Fallback != nil {
		// The route token as just read, for the fallback's count while
		// the API server is gone (outageSender).
		s.tokens.keepRouteToken(client.ObjectKey{Namespace: ar.Namespace, Name: ar.Spec.TokenSecretRef.Name}, ar.Spec.TokenSecretRef.Key)
	}
	if ok {
		var route *alertmapping.Route
		if route, err = s.routeFor(ar); err != nil {
			a, ok = answer{code: http.StatusServiceUnavailable, message: fmt.Sprintf("AlertRoute %s/%s is not ready: %v", ar.Namespace, ar.Name, err)}, false
		} else {
			a.namespace, a.route = ns, name
			return ar, route, a, true
		}
	}
	// The route exists, so its labels are bounded by the routes there are.
	a.namespace, a.route = ns, name
	if s.outageSender(a, ar, token) {
		if route, err := s.routeFor(ar); err == nil {
			a.outage = true
			return ar, route, a, false
		}
	}
	return ar, nil, a, ok
}

// outageSender reports whether a refused caller is refused only because
// its route's token Secret could not be read from the API server (the one
// 503 of authenticate that has a cause), while its token matches the route
// token as last read, within a day. Such a notification still gets its
// 503, and counts for the fallback alone (Options.Fallback).
func (s *Server) outageSender(a answer, ar *klaxonv1alpha1.AlertRoute, token []byte) bool {
	if s.opts.Fallback == nil || a.code != http.StatusServiceUnavailable || a.cause == nil || errors.Is(a.cause, errBusy) {
		return false
	}
	ref := ar.Spec.TokenSecretRef
	return s.tokens.lastKnownMatches(client.ObjectKey{Namespace: ar.Namespace, Name: ref.Name}, ref.Key, token)
}

// tellFallback tells the fallback about a notification that could not be
// recorded because the API server could not be reached (a.outage, or a
// 503 caused by an API failure): a firing group the route selects, which
// would have opened or updated an incident, and not one of heartbeat
// alerts alone. Its key names the route and the group.
func (s *Server) tellFallback(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, route *alertmapping.Route, n alertmapping.Notification, a answer) {
	if s.opts.Fallback == nil || ar == nil || route == nil || n.Message == nil {
		return
	}
	apiFailed := a.code == http.StatusServiceUnavailable && a.cause != nil && !errors.Is(a.cause, errBusy) && !errors.Is(a.cause, errNamesTaken)
	if !a.outage && !apiFailed {
		return
	}
	if n.Kind != alertmapping.KindAlerts || n.Status != alertmapping.StatusFiring || !route.Matches(n.Message) || s.heartbeatsOnly(ctx, ar, n.Message) {
		return
	}
	// A title that fails to render still comes back, in Klaxon's words.
	title, _ := route.Title(n.Message)
	s.opts.Fallback.Waiting(ar.Namespace+"/"+ar.Name+"/"+n.GroupKey, title)
}

// heartbeatsOnly reports whether every alert of msg is a heartbeat's,
// by the Heartbeats in the cache: those open no incident.
func (s *Server) heartbeatsOnly(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, msg *alertmapping.Message) bool {
	candidates, _, err := s.heartbeats.candidates(ctx, ar)
	if err != nil {
		return false
	}
	beats, only := heartbeat.Classify(candidates, msg.Alerts)
	return only && len(beats) > 0
}

// routeFor compiles an AlertRoute once per generation.
func (s *Server) routeFor(ar *klaxonv1alpha1.AlertRoute) (*alertmapping.Route, error) {
	key := types.NamespacedName{Namespace: ar.Namespace, Name: ar.Name}
	if v, ok := s.routes.Load(key); ok {
		if c := v.(compiledRoute); c.uid == ar.UID && c.generation == ar.Generation {
			return c.route, c.err
		}
	}
	route, err := alertmapping.CompileRoute(ar.Spec)
	s.routes.Store(key, compiledRoute{uid: ar.UID, generation: ar.Generation, route: route, err: err})
	return route, err
}

// readIntakeBody reads the body of an intake's request, at most
// Options.MaxBodyBytes. Parsing a large body costs many times its size in
// memory, so only MaxConcurrentParses bodies are read (and, by the caller,
// parsed: release after parsing) at once, and the rest are told to come
// back.
func (s *Server) readIntakeBody(ctx context.Context, from sender, w http.ResponseWriter, r *http.Request) (body []byte, release func(), a answer, ok bool) {
	release, ok = s.acquireParseSlot(ctx)
	if !ok {
		return nil, nil, answer{code: http.StatusServiceUnavailable, message: fmt.Sprintf(
			"the receiver is busy reading other notifications; %s will retry", from.name)}, false
	}
	body, tooLarge, err := readBody(w, r, s.opts.MaxBodyBytes)
	switch {
	case tooLarge:
		release()
		hint := ""
		if from.intake == alertmapping.IntakeAlertmanager {
			hint = ": lower max_alerts in Alertmanager's webhook config"
		}
		return nil, nil, answer{code: http.StatusRequestEntityTooLarge, message: fmt.Sprintf(
			"the request body is larger than %d bytes%s", s.opts.MaxBodyBytes, hint)}, false
	case err != nil:
		release()
		return nil, nil, answer{code: http.StatusBadRequest, message: fmt.Sprintf("reading the request body: %v", err)}, false
	}
	return body, release, answer{}, true
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

// observe counts an intake's answer in the receiver's metrics and logs it
// (logAnswer). The intake label is one of alertmapping.Intakes, whatever
// the request said.
func (s *Server) observe(intake alertmapping.Intake, a answer, ns, name string, start time.Time) {
	metrics.ReceiverRequests.WithLabelValues(a.namespace, a.route, string(intake), strconv.Itoa(a.code)).Inc()
	metrics.ReceiverDuration.WithLabelValues(a.namespace, a.route, string(intake)).Observe(s.clock.Since(start).Seconds())
	s.logAnswer(a, string(intake), ns, name)
}

// intakeIncidentResolution is how stale status.intakes[].lastIncident may
// get: a notification that changed another incident than the one recorded
// is written at most this often per route, intake and replica, so that a
// storm opening hundreds of incidents a second costs about one route
// status write a second, not one per incident.
const intakeIncidentResolution = time.Second

// recordIntake records on the route what an accepted notification did:
// status.lastReceivedAt, and the intake's entry of status.intakes (when it
// last received, and the incident it last opened, moved or updated: empty
// incident for a notification that changed none). Like touchStatus it
// writes at most once per statusWriteResolution per route, intake and
// replica; a notification that changed another incident than the one
// recorded is written within intakeIncidentResolution, so kubectl describe
// shows which intake opened the newest incident within a second.
//
// It never waits for the API server: it keeps the newest notification per
// route and intake, and one goroutine per route and intake (intakeWriter)
// writes it once its time has come, so a burst of incidents costs one
// trailing write that carries the newest.
func (s *Server) recordIntake(_ context.Context, ar *klaxonv1alpha1.AlertRoute, intake alertmapping.Intake, incident string) {
	s.intakeWrites.record(ar, intake, incident, s.clock.Now())
}

// intakeWriter writes the routes' status.intakes behind the requests
// (recordIntake). Its memory and its goroutines are bounded by the routes
// and intakes there are: one state, and at most one goroutine, each.
type intakeWriter struct {
	s *Server

	mu     sync.Mutex
	keys   map[touchKey]*intakeState
	closed bool
	// flush is closed when the server stops: waiting writes go at once.
	flush chan struct{}
	// ctx bounds the writes; cancelled once the server stopped and the
	// last writes were given their time.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// logged remembers when a route's failed write was last logged at
	// error level.
	logged map[touchKey]time.Time
}

// intakeState is what one route's intake wrote and has yet to write.
type intakeState struct {
	// writtenAt and incident are this replica's last write (or attempt):
	// the incident it recorded, or the one recorded before.
	writtenAt time.Time
	incident  string
	// pending says a write is due; it carries the newest notification:
	// its time, its incident ("" keeps the recorded one) and the route as
	// last read, which the write patches.
	pending      bool
	at           time.Time
	nextIncident string
	route        *klaxonv1alpha1.AlertRoute
	// running says a goroutine is writing or waiting to write.
	running bool
}

func newIntakeWriter(s *Server) *intakeWriter {
	ctx, cancel := context.WithCancel(context.Background())
	return &intakeWriter{s: s, keys: map[touchKey]*intakeState{}, logged: map[touchKey]time.Time{},
		flush: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// record notes a notification of intake on ar at now that changed incident
// ("" for none), and starts its route's writer when a write is due.
func (w *intakeWriter) record(ar *klaxonv1alpha1.AlertRoute, intake alertmapping.Intake, incident string, now time.Time) {
	key := touchKey{route: client.ObjectKeyFromObject(ar), intake: intake}
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.keys[key]
	if st == nil {
		st = &intakeState{}
		w.keys[key] = st
	}
	if !st.pending && !needsWrite(ar, intake, incident, now, st) {
		return
	}
	// A write due already carries this notification too: the newest time,
	// and the newest incident changed.
	st.pending, st.at, st.route = true, now, ar
	if incident != "" {
		st.nextIncident = incident
	}
	if !st.running && !w.closed {
		st.running = true
		w.wg.Add(1)
		go w.run(key, st)
	}
}

// needsWrite reports whether a notification at now that changed incident
// must be written, when none is due: not when the route as read, or this
// replica's last write, already says as much and is fresh.
func needsWrite(ar *klaxonv1alpha1.AlertRoute, intake alertmapping.Intake, incident string, now time.Time, st *intakeState) bool {
	name := klaxonv1alpha1.IntakeName(intake)
	var entry *klaxonv1alpha1.IntakeStatus
	for i := range ar.Status.Intakes {
		if ar.Status.Intakes[i].Name == name {
			entry = &ar.Status.Intakes[i]
		}
	}
	fresh := func(t *metav1.Time) bool { return t != nil && now.Sub(t.Time) < statusWriteResolution }
	if (incident == "" || entry != nil && entry.LastIncident == incident) &&
		fresh(ar.Status.LastReceivedAt) && entry != nil && fresh(entry.LastReceivedAt) {
		return false
	}
	// The cache may not show this replica's last write yet.
	return st.writtenAt.IsZero() || now.Sub(st.writtenAt) >= statusWriteResolution ||
		incident != "" && incident != st.incident
}

// maxIntakeWriteFailures is how many writes in a row a route's writer tries
// before it leaves the newest notification to the next one's writer.
const maxIntakeWriteFailures = 3

// run writes key's pending notification, at most once per
// intakeIncidentResolution, until none is due.
func (w *intakeWriter) run(key touchKey, st *intakeState) {
	defer w.wg.Done()
	failures := 0
	for {
		w.mu.Lock()
		wait := st.writtenAt.Add(intakeIncidentResolution).Sub(w.s.clock.Now())
		w.mu.Unlock()
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-w.flush:
				timer.Stop()
			}
		}
		w.mu.Lock()
		if !st.pending || failures >= maxIntakeWriteFailures || w.ctx.Err() != nil {
			st.running = false
			w.mu.Unlock()
			return
		}
		at, incident, ar := st.at, st.nextIncident, st.route
		st.pending, st.nextIncident, st.writtenAt = false, "", w.s.clock.Now()
		if incident != "" {
			st.incident = incident
		}
		w.mu.Unlock()

		err := w.write(ar, key.intake, at, incident)
		if err == nil {
			failures = 0
			continue
		}
		failures++
		w.mu.Lock()
		// Kept for the next try, unless the route is gone; a newer
		// notification noted meanwhile wins.
		if !apierrors.IsNotFound(err) {
			if !st.pending {
				st.pending, st.at, st.route = true, at, ar
			}
			if st.nextIncident == "" {
				st.nextIncident = incident
			}
		}
		w.mu.Unlock()
		w.logFailure(key, err)
	}
}

// write patches ar's lastReceivedAt and intake's entry of status.intakes.
func (w *intakeWriter) write(ar *klaxonv1alpha1.AlertRoute, intake alertmapping.Intake, at time.Time, incident string) error {
	ctx, cancel := context.WithTimeout(w.ctx, w.s.opts.APITimeout)
	defer cancel()
	name := klaxonv1alpha1.IntakeName(intake)
	stamp := &metav1.Time{Time: at.Truncate(time.Second)}
	// The cache's copy as it is now, which shows this replica's last write
	// unless it was a moment ago; the request's copy may be seconds old in
	// a storm, and a patch locked to it would conflict. A route the cache
	// does not have yet is patched on the request's copy.
	cached := &klaxonv1alpha1.AlertRoute{}
	if err := w.s.client.Get(ctx, client.ObjectKeyFromObject(ar), cached); err == nil {
		ar = cached
	}
	// status.intakes is a list that a merge patch replaces whole, so another
	// replica's entry written since the cache's copy would be lost: the
	// patch is locked to the copy it was made from, and a conflict is
	// retried once on the API server's copy.
	err := w.s.client.Status().Patch(ctx, withIntake(ar, name, stamp, incident),
		client.MergeFromWithOptions(ar, client.MergeFromWithOptimisticLock{}))
	if !apierrors.IsConflict(err) {
		return wrapIntakeWrite(err)
	}
	w.s.log.V(1).Info("The route's receiver status changed meanwhile; writing it again on the API server's copy", "alertRoute", klog.KObj(ar))
	live := &klaxonv1alpha1.AlertRoute{}
	if err := w.s.apiReader.Get(ctx, client.ObjectKeyFromObject(ar), live); err != nil {
		return fmt.Errorf("reading the route after a conflict: %w", err)
	}
	return wrapIntakeWrite(w.s.client.Status().Patch(ctx, withIntake(live, name, stamp, incident),
		client.MergeFromWithOptions(live, client.MergeFromWithOptimisticLock{})))
}

func wrapIntakeWrite(err error) error {
	if err != nil {
		return fmt.Errorf("patching status.intakes: %w", err)
	}
	return nil
}

// logFailure logs a failed write at error level at most once per
// errorLogInterval per route and intake, the rest at V(1): the writer
// tries again, so a failing API server does not flood the log.
func (w *intakeWriter) logFailure(key touchKey, err error) {
	now := w.s.clock.Now()
	w.mu.Lock()
	last, ok := w.logged[key]
	loud := !ok || now.Sub(last) >= errorLogInterval
	if loud {
		w.logged[key] = now
	}
	w.mu.Unlock()
	if loud {
		w.s.log.Error(err, "Recording the route's receiver status", "alertRoute", klog.KRef(key.route.Namespace, key.route.Name), "intake", key.intake)
		return
	}
	w.s.log.V(1).Info("Recording the route's receiver status", "alertRoute", klog.KRef(key.route.Namespace, key.route.Name), "intake", key.intake, "error", err.Error())
}

// stop writes what is due at once, waits for the writes until ctx ends,
// then cancels those still running.
func (w *intakeWriter) stop(ctx context.Context) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	close(w.flush)
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	w.cancel()
}

// withIntake is ar with lastReceivedAt and the intake's entry of
// status.intakes stamped; an empty incident keeps the entry's last one.
func withIntake(ar *klaxonv1alpha1.AlertRoute, name klaxonv1alpha1.IntakeName, stamp *metav1.Time, incident string) *klaxonv1alpha1.AlertRoute {
	patched := ar.DeepCopy()
	patched.Status.LastReceivedAt = stamp
	for i := range patched.Status.Intakes {
		if e := &patched.Status.Intakes[i]; e.Name == name {
			e.LastReceivedAt = stamp
			if incident != "" {
				e.LastIncident = incident
			}
			return patched
		}
	}
	patched.Status.Intakes = append(patched.Status.Intakes, klaxonv1alpha1.IntakeStatus{Name: name, LastReceivedAt: stamp, LastIncident: incident})
	return patched
}

// touchKey keys recordIntake's memory of its writes: by route and intake,
// so it is bounded by the routes there are.
type touchKey struct {
	route  client.ObjectKey
	intake alertmapping.Intake
}

package receiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/metrics"
)

// Defaults of the receiver's settings.
const (
	DefaultAddr         = ":9095"
	DefaultMaxBodyBytes = 4 << 20
	DefaultAPITimeout   = 10 * time.Second
	// DefaultMaxConcurrentParses bounds the bodies read and parsed at once.
	// A 4 MiB body costs about 30 MiB of heap while it is read and parsed
	// (README, "Memory"), so four cost about 120 MiB at most.
	DefaultMaxConcurrentParses = 4
)

// parseSlotWait is how long a request waits for a parse slot before it is
// answered 503; short, because Alertmanager retries.
const parseSlotWait = time.Second

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

// Options configure the receiver.
type Options struct {
	// Addr is the address the receiver listens on.
	Addr string
	// MaxBodyBytes bounds the request body; larger ones are answered 413.
	MaxBodyBytes int64
	// APITimeout bounds the API requests made for one notification; past
	// it the receiver answers 503 and Alertmanager retries.
	APITimeout time.Duration
	// MaxConcurrentParses bounds how many request bodies are read and
	// parsed at once; past it the receiver answers 503.
	MaxConcurrentParses int
	// Clock is the time source; nil means the real clock.
	Clock clock.PassiveClock
	// GroupIndexed says the client's cache indexes incidents by group
	// (IndexIncidentGroups), so a group's incidents are found without a
	// scan of the namespace; otherwise they are listed by labels.
	GroupIndexed bool
	// Namespaces are the namespaces the cache holds (--watch-namespaces);
	// empty means every one. Routes, heartbeats and status pages elsewhere
	// do not exist for the receiver.
	Namespaces []string
	// AckKeys verifies acknowledge links (GET and POST /ack/{token}); nil
	// serves no /ack/ pages.
	AckKeys *acklink.Keyring
	// Egress decides where the Slack client of a button press connects;
	// nil applies the built-in refusals only.
	Egress *egress.Policy
}

// Server is the Alertmanager webhook receiver. It runs on every replica: its
// writes are idempotent and incident names deterministic, so replicas need no
// leader.
type Server struct {
	// client reads from the manager's cache and writes to the API server.
	client client.Client
	// apiReader reads from the API server: routes the cache does not have
	// yet, incidents after the cache proved stale, and token Secrets.
	apiReader client.Reader
	tokens    *tokenCache
	liveReads *rate.Limiter
	// parseSlots holds a token for each body being read and parsed.
	parseSlots chan struct{}
	opts       Options
	clock      clock.PassiveClock
	log        logr.Logger

	// routes caches compiled AlertRoutes by namespace/name, for one UID and
	// generation, so a notification does not reparse matchers and
	// templates; keying by name bounds it by the routes that exist.
	routes sync.Map
	// touchedReceived and touchedRejected remember when this replica last
	// wrote a route's lastReceivedAt and lastRejectedAt, so repeats
	// arriving before the cache shows the write do not write it again.
	touchedReceived, touchedRejected sync.Map
	// loggedErrors remembers when a route's failure was last logged at
	// error level.
	loggedErrors sync.Map

	// ackRequests bounds the API requests acknowledge links cause, across
	// all callers; ackFailures slows down each client whose links fail to
	// verify (see ack.go).
	ackRequests *rate.Limiter
	ackFailures *clientLimiter

	// heartbeats remembers beats and compiled heartbeat matchers (heartbeat.go).
	heartbeats heartbeats
}

type compiledRoute struct {
	uid        types.UID
	generation int64
	route      *alertmapping.Route
	err        error
}

// New returns a receiver that reads through c's cache, rereads through
// apiReader when the cache is stale, and writes through c.
func New(c client.Client, apiReader client.Reader, o Options, log logr.Logger) *Server {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.APITimeout <= 0 {
		o.APITimeout = DefaultAPITimeout
	}
	if o.MaxConcurrentParses <= 0 {
		o.MaxConcurrentParses = DefaultMaxConcurrentParses
	}
	clk := o.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Server{
		client: c, apiReader: apiReader, opts: o, clock: clk, log: log,
		tokens:     newTokenCache(apiReader, clk),
		liveReads:  rate.NewLimiter(liveReadsPerSecond, liveReadBurst),
		parseSlots: make(chan struct{}, o.MaxConcurrentParses),

		ackRequests: rate.NewLimiter(ackRequestsPerSecond, ackRequestBurst),
		ackFailures: newClientLimiter(ackFailuresPerSecond, ackFailureBurst),
	}
}

// Handler serves POST /alertmanager/{namespace}/{alertRoute}, the status
// pages (statuspage.go) and, with Options.AckKeys, GET and POST /ack/{token}.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/alertmanager/{namespace}/{route}", s.serveAlertmanager)
	mux.HandleFunc("POST /slack/interactions", s.serveSlack)
	mux.HandleFunc("/heartbeat/{namespace}/{name}", s.serveHeartbeat)
	if s.opts.AckKeys != nil {
		mux.HandleFunc("/ack/{token}", s.serveAck)
	}
	s.handleStatusPages(mux)
	return mux
}

// NeedLeaderElection is false: every replica receives.
func (s *Server) NeedLeaderElection() bool { return false }

// Start serves until ctx ends, then drains requests in flight.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("receiver: listening on %s: %w", s.opts.Addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.opts.APITimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	s.log.Info("Serving Alertmanager webhooks", "address", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("receiver: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.opts.APITimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("receiver: shutting down: %w", err)
	}
	return nil
}

// answer is the HTTP answer to one notification.
type answer struct {
	code    int
	message string
	// namespace and route are the metrics labels: set only once the route
	// is known to exist, so their values are bounded by the routes there
	// are, whatever URLs callers make up.
	namespace, route string
	// cause is the error behind a 5xx answer, for the log.
	cause error
}

func (s *Server) serveAlertmanager(w http.ResponseWriter, r *http.Request) {
	start := s.clock.Now()
	ns, name := r.PathValue("namespace"), r.PathValue("route")
	a := s.handle(w, r, ns, name)
	if a.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(a.code)
	_, _ = fmt.Fprintln(w, a.message)

	metrics.ReceiverRequests.WithLabelValues(a.namespace, a.route, strconv.Itoa(a.code)).Inc()
	metrics.ReceiverDuration.WithLabelValues(a.namespace, a.route).Observe(s.clock.Since(start).Seconds())
	s.logAnswer(a, ns, name)
}

// logAnswer logs a 5xx answer at error level at most once per
// errorLogInterval for each known route (and once for all unknown ones),
// and everything else at V(1). Names from the URL are logged only at V(1):
// they are whatever the caller sent.
func (s *Server) logAnswer(a answer, ns, name string) {
	log := s.log.V(1)
	if a.code >= http.StatusInternalServerError {
		key := a.namespace + "/" + a.route
		now := s.clock.Now()
		if last, ok := s.loggedErrors.Load(key); !ok || now.Sub(last.(time.Time)) >= errorLogInterval {
			s.loggedErrors.Store(key, now)
			s.log.Error(a.cause, "Answered Alertmanager with an error", "alertRoute", klog.KRef(a.namespace, a.route), "code", a.code, "message", a.message)
			return
		}
	}
	log.Info("Answered Alertmanager", "alertRoute", klog.KRef(ns, name), "code", a.code, "message", a.message, "error", a.cause)
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

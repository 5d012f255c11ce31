package receiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/egress"
)

// Defaults of the receiver's settings.
const (
	DefaultAddr         = ":9095"
	DefaultMaxBodyBytes = 4 << 20
	DefaultAPITimeout   = 10 * time.Second
	// DefaultMaxConcurrentParses bounds the bodies read and parsed at once.
	// A 4 MiB body costs about 30 MiB of heap while it is read and parsed
	// (docs/install.md, "Memory"), so four cost about 120 MiB at most.
	DefaultMaxConcurrentParses = 4
	// DefaultStatusCacheTTL keeps a status page a few seconds: a page
	// refreshes itself every minute, so readers hardly notice, and a crowd
	// behind one ingress costs one render.
	DefaultStatusCacheTTL = 5 * time.Second
)

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
	// TrustedProxies are the proxies (an ingress, a load balancer) whose
	// X-Forwarded-For header names the client for the per-client limits;
	// empty trusts none, and the limits count the direct peer.
	TrustedProxies []netip.Prefix
	// StatusCacheTTL is how long a rendered status page or feed is served
	// to every reader before it is rendered again; 0 means
	// DefaultStatusCacheTTL.
	StatusCacheTTL time.Duration
	// Egress decides where the Slack client of a button press connects;
	// nil applies the built-in refusals only.
	Egress *egress.Policy
	// PublicURL is where Twilio reaches the receiver (--public-url): its
	// callbacks are signed over it. Empty, or without AckKeys, serves no
	// /twilio/ callbacks.
	PublicURL string
	// Events records the Events of the receiver's own changes (a call
	// recorded as failed); nil records none. Its source should be the
	// reconcilers', so that an incident's Events name one reporter.
	Events events.EventRecorder
	// Relay takes each incident the receiver opened or changed to the
	// incident reconciler at once, ahead of the watch; nil leaves it to
	// the watch.
	Relay Relay
	// Fallback is told about the notifications that cannot be recorded
	// because the API server cannot be reached, and serves
	// POST /fallback/waiting, where other replicas hand theirs over; nil
	// turns both off.
	Fallback Fallback
}

// Fallback pages while the API server is gone (internal/fallback).
type Fallback interface {
	// Waiting notes a group that could not be recorded: its key and title.
	Waiting(key, title string)
	// ServeHTTP takes the groups another replica forwards.
	http.Handler
}

// CachedKinds are the kinds the receiver reads through the cache. Every
// replica receives, so the operator caches them from its start: an
// informer that a replica's first request started, which may come during an
// API server outage, could not fill, and the receiver would not even know
// its routes.
func CachedKinds() []client.Object {
	return []client.Object{&klaxonv1alpha1.AlertRoute{}, &klaxonv1alpha1.Incident{}, &klaxonv1alpha1.Heartbeat{},
		&klaxonv1alpha1.NotificationChannel{}, &klaxonv1alpha1.Responder{}, &klaxonv1alpha1.StatusPage{},
		&klaxonv1alpha1.OnCallSchedule{}, &klaxonv1alpha1.OnCallOverride{}}
}

// Relay is where the receiver hands the incidents it writes
// (controller.Relay).
type Relay interface {
	Enqueue(key types.NamespacedName)
	// APIFailed is told of a write the API server did not answer.
	APIFailed(err error)
}

// Server serves every surface of the receiver (see surfaces). It runs on
// every replica: its writes are idempotent and incident names
// deterministic, so replicas need no leader.
type Server struct {
	// client reads from the manager's cache and writes to the API server.
	client client.Client
	// apiReader reads from the API server: routes the cache does not have
	// yet, incidents after the cache proved stale, and token Secrets.
	apiReader client.Reader
	opts      Options
	clock     clock.PassiveClock
	log       logr.Logger

	// tokens keeps the Secrets read for tokens and channel credentials
	// (tokens.go).
	tokens *tokenCache
	// liveReads limits the reads of routes and heartbeats the cache does
	// not know (route_auth.go).
	liveReads *rate.Limiter
	// parseSlots holds a token for each intake body being read and parsed
	// (readIntakeBody).
	parseSlots chan struct{}
	// routes caches compiled AlertRoutes by namespace/name, for one UID and
	// generation, so a notification does not reparse matchers and
	// templates; keying by name bounds it by the routes that exist.
	routes sync.Map
	// intakeWrites records the intakes' notifications on their routes
	// behind the requests (recordIntake).
	intakeWrites *intakeWriter
	// touchedRejected remembers when this replica last wrote a route's
	// lastRejectedAt, so repeats arriving before the cache shows the write
	// do not write it again.
	touchedRejected sync.Map
	// loggedErrors remembers when a route's failure was last logged at
	// error level.
	loggedErrors sync.Map
	// moveRequests bounds the patches that acknowledge links and Slack
	// buttons cause, and staleReads their reads of incidents the cache
	// cannot confirm, across all callers; verifyFailures slows down each
	// client whose links or presses fail to verify or are no longer valid,
	// and goneAnswers remembers the latter (incident_move.go).
	moveRequests   *rate.Limiter
	staleReads     *rate.Limiter
	verifyFailures *clientLimiter
	goneAnswers    *goneCache

	// The surfaces, each with the state only it keeps.
	alertmanager *alertmanagerIntake
	heartbeats   *heartbeatIntake
	slack        *slackInteractions
	ackPages     *ackPages
	statusPages  *statusPages
	twilio       *twilioCallbacks
	calendarKeys *calendarKeys
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
	if o.StatusCacheTTL <= 0 {
		o.StatusCacheTTL = DefaultStatusCacheTTL
	}
	clk := o.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	s := &Server{
		client: c, apiReader: apiReader, opts: o, clock: clk, log: log,
		tokens:    newTokenCache(apiReader, clk),
		liveReads: rate.NewLimiter(liveReadsPerSecond, liveReadBurst),

		moveRequests:   rate.NewLimiter(moveRequestsPerSecond, moveRequestBurst),
		staleReads:     rate.NewLimiter(staleReadsPerSecond, staleReadBurst),
		verifyFailures: newClientLimiter(verifyFailuresPerSecond, verifyFailureBurst),
		goneAnswers:    newGoneCache(clk.Now),
	}
	s.parseSlots = make(chan struct{}, o.MaxConcurrentParses)
	s.intakeWrites = newIntakeWriter(s)
	s.alertmanager = &alertmanagerIntake{Server: s}
	s.heartbeats = &heartbeatIntake{Server: s}
	s.slack = &slackInteractions{Server: s}
	s.ackPages = &ackPages{Server: s}
	s.statusPages = newStatusPages(s)
	s.twilio = newTwilioCallbacks(s)
	// A rotation must bite in real seconds, whatever clock the feeds'
	// windows follow.
	s.calendarKeys = newCalendarKeys(apiReader, clock.RealClock{}.Now)
	return s
}

// recordEvent records an Event about obj, when the receiver has a
// recorder. note is taken literally (a "%" in a title stays one) and, like
// reason and action, cut to the events API's limits, which would otherwise
// refuse the Event.
func (s *Server) recordEvent(obj runtime.Object, eventType, reason, action, note string) {
	if s.opts.Events == nil {
		return
	}
	s.opts.Events.Eventf(obj, nil, eventType, bounded.Bytes(reason, bounded.EventReason), bounded.Bytes(action, bounded.EventAction),
		"%s", bounded.Bytes(note, bounded.EventNote))
}

// surface is one URL pattern the receiver serves. Most patterns name no
// method: their handlers answer a wrong one in their own terms (an Allow
// header and a sentence for the caller).
type surface struct {
	name    string
	pattern string
	handler http.Handler
}

// surfaces lists what the receiver serves, for the mux and the start-up log.
func (s *Server) surfaces() []surface {
	list := []surface{
		{"Alertmanager and Grafana webhooks", "/alertmanager/{namespace}/{route}", s.alertmanager},
		{"PagerDuty Events API v2", "/pagerduty/{namespace}/{route}/v2/{path...}", &pagerDutyIntake{Server: s}},
		{"Opsgenie Alert API", "/opsgenie/{namespace}/{route}/", &opsgenieIntake{Server: s}},
		{"heartbeat pings", "/heartbeat/{namespace}/{name}", s.heartbeats},
		{"Slack interactions", "POST /slack/interactions", s.slack},
		{"Slack slash commands", "POST /slack/commands", &slackCommands{Server: s}},
	}
	if s.opts.AckKeys != nil {
		list = append(list, surface{"acknowledge pages", "/ack/{token}", s.ackPages},
			surface{"acknowledge-all pages of bundled messages", "/ack-all/{token}", &ackAllPages{Server: s}})
	}
	if s.opts.AckKeys != nil && s.opts.PublicURL != "" {
		list = append(list, surface{"Twilio callbacks", "/twilio/{namespace}/{channel}/{path...}", s.twilio})
	}
	if s.opts.Fallback != nil {
		list = append(list, surface{"fallback groups from other replicas", "/fallback/waiting", s.opts.Fallback})
	}
	return append(list,
		surface{"status pages", "/status/{namespace}/{name}", http.HandlerFunc(s.statusPages.servePage)},
		surface{"status feeds", "/status/{namespace}/{name}/feed.atom", http.HandlerFunc(s.statusPages.serveFeed)},
		surface{"a responder's calendar feed", "/calendar/{namespace}/responder/{file}",
			&calendarFeeds{Server: s, kind: acklink.CalendarResponder, keys: s.calendarKeys}},
		surface{"a schedule's calendar feed", "/calendar/{namespace}/schedule/{file}",
			&calendarFeeds{Server: s, kind: acklink.CalendarSchedule, keys: s.calendarKeys}},
	)
}

// Handler serves every surface.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, sf := range s.surfaces() {
		mux.Handle(sf.pattern, sf.handler)
	}
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
	var served []string
	for _, sf := range s.surfaces() {
		served = append(served, sf.name+" at "+sf.pattern)
	}
	s.log.Info("Serving the receiver", "address", ln.Addr().String(), "surfaces", served)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("receiver: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.opts.APITimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	// The requests are done: the newest intakes they noted are written now.
	s.intakeWrites.stop(shutdownCtx)
	if shutdownErr != nil && !errors.Is(shutdownErr, http.ErrServerClosed) {
		return fmt.Errorf("receiver: shutting down: %w", shutdownErr)
	}
	return nil
}

package operator

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/acklink/keystore"
	"github.com/klaxon-dev/klaxon/internal/controller"
	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/metrics"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// Options are the manager's settings, set from flags by cmd/main.go.
type Options struct {
	// MetricsAddr is where metrics are served; "0" turns them off.
	MetricsAddr string
	// SecureMetrics serves metrics over HTTPS behind Kubernetes authn/authz.
	SecureMetrics bool
	// ProbeAddr is where /healthz and /readyz are served.
	ProbeAddr string
	// LeaderElection makes only one replica page and escalate.
	LeaderElection bool
	// LeaderElectionNamespace holds the lease when running outside a cluster.
	LeaderElectionNamespace string
	// LeaseDuration, RenewDeadline and RetryPeriod tune leader election;
	// zero takes controller-runtime's defaults (15s, 10s, 2s). A killed
	// leader's paging resumes on another replica within LeaseDuration.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Clock is the time source of the reconcilers; nil means the real clock.
	Clock clock.PassiveClock
	// ReceiverAddr is where the Alertmanager receiver listens; empty means
	// receiver.DefaultAddr and "0" turns it off.
	ReceiverAddr string
	// ReceiverMaxBodyBytes bounds a webhook body; larger ones get 413.
	ReceiverMaxBodyBytes int64
	// ReceiverMaxConcurrentParses bounds how many webhook bodies are parsed
	// at once; past it the receiver answers 503.
	ReceiverMaxConcurrentParses int
	// ClosedIncidentRetention is how long a closed incident is kept after
	// status.closedAt before it is deleted; 0 keeps closed incidents.
	ClosedIncidentRetention time.Duration
	// OverrideRetention is how long an OnCallOverride is kept after its
	// end before it is deleted; 0 keeps ended overrides. cmd/main.go's
	// flag defaults to controller.DefaultOverrideRetention.
	OverrideRetention time.Duration
	// PublicURL is where people reach the receiver's HTTP server, for the
	// links in the messages Klaxon sends; empty leaves links out.
	PublicURL string
	// AckKeyNamespace holds the Secret with the acknowledge-link key (the
	// operator's own namespace); empty means keystore.DefaultNamespace.
	// The key is kept only when PublicURL is set: links need it.
	AckKeyNamespace string
	// AckLinkTTL is how long an acknowledge link stays valid; 0 means
	// acklink.DefaultTTL.
	AckLinkTTL time.Duration
	// ReceiverQPS and ReceiverBurst give the receiver its own client rate
	// limit, so the writes of an alert storm never wait on the controllers'
	// budget nor hold up paging; zero takes the controllers' QPS and burst.
	ReceiverQPS   float32
	ReceiverBurst int
	// IncidentWorkers is how many incidents are reconciled at once; zero
	// means controller.DefaultIncidentWorkers.
	IncidentWorkers int
	// PprofAddr serves the pprof endpoints; "" or "0" turns them off.
	PprofAddr string
	// WatchNamespaces restricts the cache, and so every controller and the
	// receiver, to these namespaces; empty watches every namespace.
	WatchNamespaces []string
	// ReceiverTrustedProxies are the proxies whose X-Forwarded-For header
	// names the client for the receiver's per-client limits; empty trusts
	// none.
	ReceiverTrustedProxies []netip.Prefix
	// StatusPageCacheTTL is how long a rendered status page is served to
	// every reader; 0 means receiver.DefaultStatusCacheTTL.
	StatusPageCacheTTL time.Duration
	// EgressAllow, EgressDeny and EgressDenyPrivate shape where channels
	// and AlertRoutes' Alertmanager calls may connect (egress.Config): the
	// allow-list wins over the built-in refusals, the deny-list over
	// everything. The operator's own addresses (PodIP, the API server's)
	// are refused unless a host:port allow entry names them.
	EgressAllow, EgressDeny []egress.Rule
	EgressDenyPrivate       bool
	// PodIP is the operator pod's IP (the downward API's status.podIP),
	// refused as an egress destination; empty outside a cluster.
	PodIP string
	// FallbackReceiverFile names a file holding one Alertmanager receiver
	// block, through which the operator pages that it cannot reach the API
	// server (fallback.go); empty turns the fallback off. A file that is
	// missing, unreadable or invalid is logged and counted, and the
	// operator runs without a fallback.
	FallbackReceiverFile string
	// FallbackAfter is how long the API server must have been unreachable,
	// with notifications waiting, before the fallback pages; 0 means
	// DefaultFallbackAfter.
	FallbackAfter time.Duration
	// FallbackRepeat is the least time between two fallback pages of one
	// outage; 0 means DefaultFallbackRepeat.
	FallbackRepeat time.Duration
	// Restartable lets a process build a second manager after the first
	// stopped (tests that restart the operator); controller names are then
	// not checked for uniqueness.
	Restartable bool
}

// Leader election's defaults, controller-runtime's.
const (
	defaultLeaseDuration = 15 * time.Second
	defaultRenewDeadline = 10 * time.Second
	defaultRetryPeriod   = 2 * time.Second
)

// leaderElectionTimes fills in the defaults for zero durations and checks
// them as client-go will when the manager starts, so a bad flag fails at
// once with a message naming it: the lease outlasts the renew deadline,
// which outlasts 1.2 retry periods (client-go's jitter).
func leaderElectionTimes(lease, renew, retry time.Duration) (time.Duration, time.Duration, time.Duration, error) {
	if lease < 0 || renew < 0 || retry < 0 {
		return 0, 0, 0, errors.New("leader election durations must not be negative")
	}
	lease, renew, retry = cmp.Or(lease, defaultLeaseDuration), cmp.Or(renew, defaultRenewDeadline), cmp.Or(retry, defaultRetryPeriod)
	if renew >= lease {
		return 0, 0, 0, fmt.Errorf("the leader election renew deadline %s must be shorter than the lease duration %s", renew, lease)
	}
	if float64(renew) <= 1.2*float64(retry) {
		return 0, 0, 0, fmt.Errorf("the leader election renew deadline %s must be longer than 1.2 retry periods (%s)", renew, retry)
	}
	return lease, renew, retry, nil
}

// Scheme knows the built-in kinds and Klaxon's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(klaxonv1alpha1.AddToScheme(s))
	return s
}

// watched is the cache's namespace restriction: nil for every namespace.
func watched(namespaces []string) map[string]cache.Config {
	if len(namespaces) == 0 {
		return nil
	}
	out := make(map[string]cache.Config, len(namespaces))
	for _, ns := range namespaces {
		out[ns] = cache.Config{}
	}
	return out
}

// New builds a manager with every Klaxon component registered.
func New(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if o.ClosedIncidentRetention < 0 {
		return nil, fmt.Errorf("closed incident retention %s is negative: give 0 to keep closed incidents", o.ClosedIncidentRetention)
	}
	if o.OverrideRetention < 0 {
		return nil, fmt.Errorf("override retention %s is negative: give 0 to keep ended overrides", o.OverrideRetention)
	}
	lease, renew, retry, err := leaderElectionTimes(o.LeaseDuration, o.RenewDeadline, o.RetryPeriod)
	if err != nil {
		return nil, err
	}
	if o.AckLinkTTL < 0 {
		return nil, fmt.Errorf("acknowledge link TTL %s is negative", o.AckLinkTTL)
	}
	policy, err := egressPolicy(cfg, o)
	if err != nil {
		return nil, err
	}
	metricsOpts := metricsserver.Options{
		BindAddress:   o.MetricsAddr,
		SecureServing: o.SecureMetrics,
		// HTTP/2 is off: it is open to the stream cancellation and rapid
		// reset CVEs and metrics scrapes do not need it.
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if o.SecureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	// The serving manager runs on every replica for the process's life:
	// the receiver, metrics, probes and the acknowledge key. The leader's
	// work runs in the terms' managers (terms.go), or on this one without
	// leader election.
	relay := controller.NewRelay(o.Clock, o.WatchNamespaces...)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 Scheme(),
		Metrics:                metricsOpts,
		HealthProbeBindAddress: o.ProbeAddr,
		Cache:                  cacheOptions(o, relay),
		Client:                 clientOptions(),
		Controller:             config.Controller{SkipNameValidation: &o.Restartable},
		PprofBindAddress:       o.PprofAddr,
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	var opts []controller.Option
	if o.Clock != nil {
		opts = append(opts, controller.WithClock(o.Clock))
	}
	if o.ClosedIncidentRetention > 0 {
		opts = append(opts, controller.WithClosedIncidentRetention(o.ClosedIncidentRetention))
	}
	if o.OverrideRetention > 0 {
		opts = append(opts, controller.WithOverrideRetention(o.OverrideRetention))
	}
	if o.IncidentWorkers > 0 {
		opts = append(opts, controller.WithIncidentWorkers(o.IncidentWorkers))
	}
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("public URL %q is not an absolute http or https URL", o.PublicURL)
		}
		opts = append(opts, controller.WithPublicURL(o.PublicURL))
	}
	// Acknowledge links need a public URL; without one no key is kept
	// and the receiver serves no /ack/ pages.
	var ackKeys *acklink.Keyring
	if o.PublicURL != "" {
		keys, err := addAckKeyLoader(mgr, o.AckKeyNamespace)
		if err != nil {
			return nil, err
		}
		ackKeys = keys
		ttl := o.AckLinkTTL
		if ttl == 0 {
			ttl = acklink.DefaultTTL
		}
		opts = append(opts, controller.WithAckLinks(ackKeys, ttl))
	}
	opts = append(opts, controller.WithEgress(policy), controller.WithRelay(relay))
	// leader names the replica that leads, or led last: without leader
	// election, this one.
	leader := func() (peer string, self bool) { return "", true }
	if o.LeaderElection {
		lock, err := newLock(cfg, o.LeaderElectionNamespace, peerAddress(o.PodIP, receiverAddr(o.ReceiverAddr)), renew,
			mgr.GetEventRecorder(controller.EventSource))
		if err != nil {
			return nil, err
		}
		lock.failed = relay.APIFailed
		leader = lock.Leader
		if err := addTerms(mgr, cfg, lock, opts, leaseTimes{lease, renew, retry}); err != nil {
			return nil, err
		}
	} else if err := controller.SetupWithManager(mgr, opts...); err != nil {
		return nil, err
	}
	// Indexed whether or not this process receives: the receiver's tests
	// serve one of their own from this cache.
	if err := receiver.IndexIncidentGroups(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return nil, fmt.Errorf("indexing incidents by group: %w", err)
	}
	// The fallback page (fallback.go) runs on every replica; the one that
	// led last sends it, and the others hand it what they received.
	pager, fallbackErr := newFallback(cfg, o, policy, leader, ctrl.Log.WithName("fallback"))
	if fallbackErr != nil {
		return nil, fallbackErr
	}
	var fallbackHook receiver.Fallback
	if pager != nil {
		if err := mgr.Add(pager); err != nil {
			return nil, fmt.Errorf("adding the fallback page: %w", err)
		}
		fallbackHook = pager
	}
	if o.ReceiverAddr != "0" {
		for _, obj := range receiver.CachedKinds() {
			if _, err := mgr.GetCache().GetInformer(context.Background(), obj, cache.BlockUntilSynced(false)); err != nil {
				return nil, fmt.Errorf("caching %T for the receiver: %w", obj, err)
			}
		}
		rcvClient, rcvReader, err := receiverClients(mgr, cfg, o)
		if err != nil {
			return nil, err
		}
		rcv := receiver.New(rcvClient, rcvReader, receiver.Options{
			Addr: o.ReceiverAddr, MaxBodyBytes: o.ReceiverMaxBodyBytes, MaxConcurrentParses: o.ReceiverMaxConcurrentParses, Clock: o.Clock,
			AckKeys: ackKeys, Namespaces: o.WatchNamespaces, GroupIndexed: true, Egress: policy,
			TrustedProxies: o.ReceiverTrustedProxies, StatusCacheTTL: o.StatusPageCacheTTL, PublicURL: o.PublicURL,
			Events: mgr.GetEventRecorder(controller.EventSource), Relay: relay, Fallback: fallbackHook,
		}, ctrl.Log.WithName("receiver"))
		if err := mgr.Add(rcv); err != nil {
			return nil, fmt.Errorf("adding the receiver: %w", err)
		}
	}
	// The open-incidents gauge is counted from the cache at scrape time,
	// by the leader only; with leader election each term reports it.
	if !o.LeaderElection {
		if err := mgr.Add(metrics.OpenIncidents(mgr.GetCache())); err != nil {
			return nil, fmt.Errorf("adding the open incidents gauge: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding ready check: %w", err)
	}
	return mgr, nil
}

// leaseTimes are the leader election's durations.
type leaseTimes struct{ lease, renew, retry time.Duration }

// addTerms adds the runnable that runs the leader's work in terms
// (terms.go), each a manager of its own that elects itself.
func addTerms(mgr ctrl.Manager, cfg *rest.Config, lock *observedLock, opts []controller.Option, lt leaseTimes) error {
	reachable, err := readyz(cfg, 2*time.Second)
	if err != nil {
		return err
	}
	skip := true // every term registers the same controllers again
	indexes := &indexSet{keys: map[string]bool{}}
	build := func(lock resourcelock.Interface) (ctrl.Manager, error) {
		term, err := ctrl.NewManager(cfg, ctrl.Options{
			Scheme:                              mgr.GetScheme(),
			Metrics:                             metricsserver.Options{BindAddress: "0"},
			HealthProbeBindAddress:              "0",
			LeaderElection:                      true,
			LeaderElectionID:                    leaderElectionID,
			LeaderElectionResourceLockInterface: lock,
			LeaseDuration:                       &lt.lease,
			RenewDeadline:                       &lt.renew,
			RetryPeriod:                         &lt.retry,
			// Stopping the process ends the lease at once, so a new
			// leader takes over paging without waiting for it to expire.
			LeaderElectionReleaseOnCancel: true,
			// The process's cache, which outlives the term (termcache.go).
			NewCache: func(*rest.Config, cache.Options) (cache.Cache, error) {
				return &termCache{Cache: mgr.GetCache(), indexed: indexes}, nil
			},
			Client:     clientOptions(),
			Controller: config.Controller{SkipNameValidation: &skip},
		})
		if err != nil {
			return nil, fmt.Errorf("creating the term's manager: %w", err)
		}
		if err := controller.SetupWithManager(term, opts...); err != nil {
			return nil, err
		}
		if err := term.Add(metrics.OpenIncidents(term.GetCache())); err != nil {
			return nil, fmt.Errorf("adding the open incidents gauge: %w", err)
		}
		return term, nil
	}
	t := &terms{build: build, lock: lock, reachable: reachable, settle: lt.retry, log: ctrl.Log.WithName("leader")}
	if err := mgr.Add(t); err != nil {
		return fmt.Errorf("adding the leader terms: %w", err)
	}
	return nil
}

// cacheOptions are the cache settings of every manager.
func cacheOptions(o Options, relay *controller.Relay) cache.Options {
	return cache.Options{
		DefaultTransform:         cache.TransformStripManagedFields(),
		DefaultNamespaces:        watched(o.WatchNamespaces),
		DefaultWatchErrorHandler: relay.WatchError,
	}
}

// clientOptions: no Secret is ever cached; tokens are read with GETs, in
// the namespaces that grant it (docs/security.md).
func clientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}

// receiverAddr is the receiver's address, receiver.DefaultAddr when unset.
func receiverAddr(addr string) string {
	if addr == "" {
		return receiver.DefaultAddr
	}
	return addr
}

// receiverClients are the receiver's client, reading through the manager's
// cache, and its uncached reader, both with a rate limiter of their own.
func receiverClients(mgr ctrl.Manager, cfg *rest.Config, o Options) (client.Client, client.Reader, error) {
	rcvCfg := rest.CopyConfig(cfg)
	if o.ReceiverQPS > 0 {
		rcvCfg.QPS, rcvCfg.Burst = o.ReceiverQPS, max(o.ReceiverBurst, 1)
	}
	if rcvCfg.QPS > 0 {
		// One bucket for every resource the receiver touches.
		rcvCfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(rcvCfg.QPS, max(rcvCfg.Burst, 1))
	}
	httpClient, err := rest.HTTPClientFor(rcvCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the receiver's HTTP client: %w", err)
	}
	base := client.Options{HTTPClient: httpClient, Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()}
	reader, err := client.New(rcvCfg, base)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the receiver's API reader: %w", err)
	}
	cached := base
	cached.Cache = &client.CacheOptions{Reader: mgr.GetCache(), DisableFor: []client.Object{&corev1.Secret{}}}
	c, err := client.New(rcvCfg, cached)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the receiver's client: %w", err)
	}
	return c, reader, nil
}

// addAckKeyLoader adds the runnable that loads the acknowledge-link key on
// every replica, and returns the keyring it fills.
func addAckKeyLoader(mgr ctrl.Manager, namespace string) (*acklink.Keyring, error) {
	if namespace == "" {
		namespace = keystore.DefaultNamespace
	}
	keys := &acklink.Keyring{}
	loader := &keystore.Loader{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Namespace: namespace, Keys: keys,
		Log: ctrl.Log.WithName("ack-key"),
	}
	if err := mgr.Add(loader); err != nil {
		return nil, fmt.Errorf("adding the acknowledge link key loader: %w", err)
	}
	return keys, nil
}

// The fallback's defaults (--fallback-after, --fallback-repeat).
const (
	DefaultFallbackAfter  = time.Minute
	DefaultFallbackRepeat = 15 * time.Minute
)

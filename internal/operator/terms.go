package operator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	ctrl "sigs.k8s.io/controller-runtime"
)

// leaderElectionID names the Lease the replicas compete for.
const leaderElectionID = "klaxon.klaxon.dev"

// terms runs the leader's work in terms: each term is a manager of its
// own, over the process's cache (termcache.go), that competes for the
// lease and, once it holds it, runs the controllers and the sender. When a term loses the lease (an
// API server outage outlasting the renew deadline) only that term stops:
// the process, its receiver and probes stay up, and a new term joins the
// election as soon as the API server answers again. controller-runtime's
// manager ends on a lost lease, as client-go's leader election wants (a
// controller must not run on once another replica may lead), so each term
// is a new manager; the process exiting instead would leave its receiver
// away until a kubelet's back-off let it restart.
//
// Every term of one process holds the lease under the same identity, so a
// new term takes over a lease its process held without waiting for it to
// expire: after an outage, paging resumes as soon as the API server does.
type terms struct {
	// build makes a term's manager around lock.
	build func(lock resourcelock.Interface) (ctrl.Manager, error)
	lock  *observedLock
	// reachable returns nil once the API server answers.
	reachable func(ctx context.Context) error
	// settle is how long a lost term is given to wind down before the
	// next joins the election: its reconciles and sends were cancelled
	// with it and end at their next API call.
	settle time.Duration
	log    logr.Logger
}

// NeedLeaderElection is false: the terms elect themselves.
func (t *terms) NeedLeaderElection() bool { return false }

// Start runs terms one after the other until ctx ends.
func (t *terms) Start(ctx context.Context) error {
	for n := 1; ; n++ {
		mgr, err := t.build(t.lock)
		if err != nil {
			return fmt.Errorf("building leader term %d: %w", n, err)
		}
		t.log.Info("Joining the leader election", "term", n, "identity", t.lock.Identity())
		err = mgr.Start(ctx)
		select {
		case <-ctx.Done():
			return nil // the process is stopping
		default:
		}
		if err == nil || err.Error() != errLeaderElectionLost {
			// Anything but a lost lease (a cache that never synced, a
			// controller that failed) ends the process, as it did before
			// terms: its kubelet's restarts and back-off show it, and
			// another replica leads meanwhile.
			return fmt.Errorf("leader term %d ended: %w", n, cmp.Or(err, errors.New("without a reason")))
		}
		t.log.Error(err, "Stopped leading; the receiver keeps serving, and this replica joins the election again once the API server answers",
			"term", n)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(t.settle):
		}
		// A term started while the API server is away would only fail to
		// take the lease; it starts once the API server answers, and
		// takes the lease its process held at its first try.
		t.waitReachable(ctx)
		select {
		case <-ctx.Done():
			return nil
		default:
		}
	}
}

// errLeaderElectionLost is how controller-runtime's manager says it lost
// its lease.
const errLeaderElectionLost = "leader election lost"

// waitReachable waits until the API server answers, logging why not
// every 60 tries (30 s).
func (t *terms) waitReachable(ctx context.Context) {
	tries := 0
	_ = wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := t.reachable(ctx)
		if err != nil && tries%60 == 0 {
			t.log.Info("Waiting for the API server before joining the election again", "error", err.Error())
		}
		tries++
		return err == nil, nil
	})
}

// observedLock is a Lease lock that remembers the last holder it read or
// wrote, so that during an API server outage every replica still knows
// which one led last (the fallback page goes through it).
type observedLock struct {
	resourcelock.Interface
	// failed is told of every request that failed (controller.Relay's
	// APIFailed): the lease is read every retry period on every replica,
	// so it is the first to know the API server is away.
	failed func(error)

	mu     sync.Mutex
	holder string
}

func (l *observedLock) observe(r *resourcelock.LeaderElectionRecord) {
	if r == nil {
		return
	}
	l.mu.Lock()
	l.holder = r.HolderIdentity
	l.mu.Unlock()
}

// Get reads the lease and remembers its holder.
func (l *observedLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	r, raw, err := l.Interface.Get(ctx)
	if err == nil {
		l.observe(r)
	}
	l.fail(err)
	return r, raw, err
}

// Create writes the lease and remembers its holder.
func (l *observedLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	err := l.Interface.Create(ctx, r)
	if err == nil {
		l.observe(&r)
	}
	l.fail(err)
	return err
}

// Update writes the lease and remembers its holder. It refuses to release
// (write no holder) a lease that the latest read showed another replica
// holding: a term that lost its lease in a partition and releases it on
// its way out, once the partition heals, would otherwise free the lease of
// the replica that leads now, and a third could lead beside it.
func (l *observedLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	l.mu.Lock()
	held := l.holder
	l.mu.Unlock()
	if r.HolderIdentity == "" && held != "" && held != l.Identity() {
		return fmt.Errorf("not releasing the lease: %s holds it", held)
	}
	err := l.Interface.Update(ctx, r)
	if err == nil {
		l.observe(&r)
	}
	l.fail(err)
	return err
}

func (l *observedLock) fail(err error) {
	if err != nil && l.failed != nil {
		l.failed(err)
	}
}

// Leader is the receiver address (host:port) of the replica that last held
// the lease, as this replica last saw it, "" when unknown or when that
// replica gave none; self says it is this replica.
func (l *observedLock) Leader() (peer string, self bool) {
	l.mu.Lock()
	holder := l.holder
	l.mu.Unlock()
	if holder == "" {
		return "", false
	}
	return peerOf(holder), holder == l.Identity()
}

// identity is a replica's name in the lease: host name and a random
// suffix, unique per process, then "@" and the address its receiver is
// reached at by the other replicas, when known.
func identity(hostname, peer string) string {
	id := hostname + "_" + string(uuid.NewUUID())
	if peer != "" {
		id += "@" + peer
	}
	return id
}

// peerOf is the receiver address an identity carries; "" for none.
func peerOf(identity string) string {
	_, peer, ok := strings.Cut(identity, "@")
	if !ok {
		return ""
	}
	if _, _, err := net.SplitHostPort(peer); err != nil {
		return ""
	}
	return peer
}

// peerAddress is where the other replicas reach this one's receiver: the
// pod's IP with the receiver's port, or the receiver's own address when it
// binds a specific host (a process run outside a cluster); "" when neither
// is known.
func peerAddress(podIP, receiverAddr string) string {
	host, port, err := net.SplitHostPort(receiverAddr)
	if err != nil || port == "" || port == "0" {
		return ""
	}
	if podIP != "" {
		return net.JoinHostPort(podIP, port)
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		return net.JoinHostPort(host, port)
	}
	return ""
}

// newLock is the Lease lock of this process, shared by all its terms.
func newLock(cfg *rest.Config, namespace, peer string, renew time.Duration, recorder events.EventRecorder) (*observedLock, error) {
	if namespace == "" {
		raw, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
		if err != nil {
			return nil, errors.New("the leader election namespace is unknown outside a cluster: set --leader-election-namespace")
		}
		namespace = strings.TrimSpace(string(raw))
	}
	hostname, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("reading the host name for the leader election identity: %w", err)
	}
	cfg = rest.AddUserAgent(rest.CopyConfig(cfg), "leader-election")
	// One hung request must not cost the lease (controller-runtime's rule).
	cfg.Timeout = max(renew/2, time.Second)
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the leader election client: %w", err)
	}
	coordination, err := coordinationv1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the leader election client: %w", err)
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, namespace, leaderElectionID, core, coordination,
		resourcelock.ResourceLockConfig{Identity: identity(hostname, peer), EventRecorder: leaderEvents{recorder}})
	if err != nil {
		return nil, fmt.Errorf("creating the leader election lock: %w", err)
	}
	return &observedLock{Interface: lock}, nil
}

// leaderEvents records client-go's leader election Events ("<identity>
// became leader", on the Lease) through the events.k8s.io API, as Klaxon
// records all its Events.
type leaderEvents struct{ events.EventRecorder }

func (e leaderEvents) Eventf(obj runtime.Object, eventType, reason, message string, args ...any) {
	e.EventRecorder.Eventf(obj, nil, eventType, reason, "LeaderElection", message, args...)
}

// readyz returns a check that the API server is there: /readyz answers
// 200, or refuses the operator (401, 403: a cluster may not let it read
// /readyz), within timeout. One that is still starting answers 500 until
// it is ready; a term that joined then would have its first writes
// refused while kube-apiserver loads its CRDs and RBAC. The check has a
// client and a rate limit of its own, so that it neither waits behind the
// manager's requests nor holds them up.
func readyz(cfg *rest.Config, timeout time.Duration) (func(ctx context.Context) error, error) {
	c := rest.CopyConfig(cfg)
	c.Timeout = timeout
	c.QPS, c.Burst, c.RateLimiter = 5, 5, nil
	dc, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("creating a client for the API server's /readyz: %w", err)
	}
	rc := dc.RESTClient()
	return func(ctx context.Context) error {
		err := rc.Get().AbsPath("/readyz").Do(ctx).Error()
		if err != nil && !apierrors.IsForbidden(err) && !apierrors.IsUnauthorized(err) {
			return fmt.Errorf("GET /readyz: %w", err)
		}
		return nil
	}, nil
}

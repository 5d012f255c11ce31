package controller

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Relay carries the incidents the receiver has just written straight to
// the incident reconciler, ahead of the watch that would bring them.
//
// After an API server outage client-go re-establishes watches with a
// back-off of up to a minute, so the cache learns of new incidents late:
// pages of incidents opened right after the outage waited for it. The
// receiver relays each incident it writes to the reconciler of the current
// leader term instead (a channel source, re-registered by each term), and
// the reconciler reads a relayed incident from the API server when the
// cache does not have it, or when a watch has failed within relayFresh
// and the cached copy may be behind.
//
// It keeps no state of its own that matters: an incident relayed while no
// term runs here (a replica that is not the leader) is dropped, and the
// watch brings it to whoever leads.
type Relay struct {
	clock clock.PassiveClock
	// namespaces are those the cache holds; none for every namespace.
	namespaces []string

	mu          sync.Mutex
	queue       workqueue.TypedRateLimitingInterface[reconcile.Request]
	recent      map[types.NamespacedName]time.Time
	lastFailure time.Time
}

const (
	// relayFresh is how long a relay, and a failure of the API server,
	// make the reconciler read a relayed incident from the API server:
	// longer than client-go's longest watch back-off (30 s, jittered to
	// 60 s).
	relayFresh = 90 * time.Second
	// maxRelayed bounds what is remembered; past it the oldest relays are
	// forgotten first, which costs only a later first page.
	maxRelayed = 10000
)

// NewRelay returns a Relay reading the time from c (nil: the real
// clock), for the incidents of namespaces (none: every namespace, the
// cache's --watch-namespaces).
func NewRelay(c clock.PassiveClock, namespaces ...string) *Relay {
	if c == nil {
		c = clock.RealClock{}
	}
	return &Relay{clock: c, namespaces: namespaces, recent: map[types.NamespacedName]time.Time{}}
}

// scopes are the namespaces to list incidents in: "" for all.
func (h *Relay) scopes() []string {
	if len(h.namespaces) == 0 {
		return []string{""}
	}
	return h.namespaces
}

// watchesBehind reports whether the API server failed within relayFresh.
func (h *Relay) watchesBehind() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.lastFailure.IsZero() && h.clock.Since(h.lastFailure) < relayFresh
}

// Enqueue hands the incident key to the reconciler of the current term,
// if one runs here. Safe on a nil Relay.
func (h *Relay) Enqueue(key types.NamespacedName) {
	if h == nil {
		return
	}
	if q := h.remember(key); q != nil {
		q.Add(reconcile.Request{NamespacedName: key})
	}
}

// behind records that a write of key conflicted: the copy it was based on
// was not the latest, and after an outage the cache may stay behind for a
// watch's back-off, so the next reconciles read key as a relayed one.
func (h *Relay) behind(key types.NamespacedName) {
	if h != nil {
		h.remember(key)
	}
}

// remember marks key relayed now, and returns the current term's queue.
func (h *Relay) remember(key types.NamespacedName) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	now := h.clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.recent) >= maxRelayed {
		h.forgetLocked(now)
	}
	h.recent[key] = now
	return h.queue
}

// forgetLocked drops the stale relayed incidents, or when none is stale the
// oldest half, so the map stays bounded whatever the receiver writes.
func (h *Relay) forgetLocked(now time.Time) {
	for k, at := range h.recent {
		if now.Sub(at) >= relayFresh {
			delete(h.recent, k)
		}
	}
	if len(h.recent) < maxRelayed {
		return
	}
	var cut time.Time
	for _, at := range h.recent {
		if cut.IsZero() || at.Before(cut) {
			cut = at
		}
	}
	cut = cut.Add(now.Sub(cut) / 2)
	for k, at := range h.recent {
		if !at.After(cut) {
			delete(h.recent, k)
		}
	}
}

// APIFailed records that a request to the API server failed for want of
// an answer (err tells: see apiFailure): the watches, which client-go
// re-establishes after a back-off once the API server answers again, may
// be behind. The leader election's lock reports its failures here, every
// retry period on every replica, and so does the incident reconciler.
func (h *Relay) APIFailed(err error) {
	if h == nil || !apiFailure(err) {
		return
	}
	h.mu.Lock()
	h.lastFailure = h.clock.Now()
	h.mu.Unlock()
}

// apiFailure tells an error of a request the API server did not answer,
// or failed: one it answered with a refusal (not found, forbidden, a
// conflict, an invalid object) says nothing of its health.
func apiFailure(err error) bool {
	if err == nil {
		return false
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true
	}
	return apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err)
}

// WatchError records that a watch of the cache failed, and logs it as
// client-go does; it is the cache's DefaultWatchErrorHandler. A watch that
// ended normally, whose resource version expired (the reflector lists
// again at once), or that the API server refused (a kind not served, a
// namespace not granted: that lasts, and says nothing of the watches
// that work) does not count.
func (h *Relay) WatchError(ctx context.Context, r *toolscache.Reflector, err error) {
	if watchFailed(err) {
		h.mu.Lock()
		h.lastFailure = h.clock.Now()
		h.mu.Unlock()
	}
	toolscache.DefaultWatchErrorHandler(ctx, r, err)
}

// watchFailed tells the errors of a watch that may have missed changes
// for a while: the API server could not be reached, or failed.
func watchFailed(err error) bool {
	switch {
	case errors.Is(err, io.EOF), apierrors.IsResourceExpired(err), apierrors.IsGone(err),
		apierrors.IsForbidden(err), apierrors.IsUnauthorized(err), apierrors.IsNotFound(err):
		return false
	}
	return true
}

// live reports whether the reconciler should read key from the API server:
// it was relayed lately, and the cache misses it (notFound) or the API
// server failed lately.
func (h *Relay) live(key types.NamespacedName, notFound bool) bool {
	if h == nil {
		return false
	}
	now := h.clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	at, ok := h.recent[key]
	if !ok || now.Sub(at) >= relayFresh {
		return false
	}
	return notFound || now.Sub(h.lastFailure) < relayFresh
}

// get reads key through c, the cache, or through api, the API server,
// when live says the cache may miss it or be behind.
func (h *Relay) get(ctx context.Context, c, api client.Reader, key types.NamespacedName, obj client.Object) error {
	if api != nil && h.live(key, false) {
		return api.Get(ctx, key, obj)
	}
	err := c.Get(ctx, key, obj)
	if api != nil && apierrors.IsNotFound(err) && h.live(key, true) {
		return api.Get(ctx, key, obj)
	}
	return err
}

// source is the channel source of one term's incident controller: it
// registers the term's queue for relayed incidents until the term ends.
func (h *Relay) source() source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		h.mu.Lock()
		h.queue = q
		h.mu.Unlock()
		go func() {
			<-ctx.Done()
			h.mu.Lock()
			if h.queue == q {
				h.queue = nil
			}
			h.mu.Unlock()
		}()
		return nil
	})
}

// WithRelay makes the incident reconciler take the receiver's relayed incidents.
func WithRelay(h *Relay) Option {
	return func(o *options) { o.relay = h }
}

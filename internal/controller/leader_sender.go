package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/delivery"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// sendRequest is one delivery to send.
type sendRequest struct {
	key      string
	attempts int32
	channel  string
	message  notify.Message
	// bundle is set for a page that may wait to go out with the contact's
	// others (see dispatchBundled).
	bundle *bundleRequest
}

// maxSendsPerChannel bounds the sends under way through one
// NotificationChannel, so a channel whose server hangs holds up only its
// own deliveries.
const maxSendsPerChannel = 4

// outcomeTTL is how long the outcome of a send is kept for an incident
// that is never reconciled again (deleted meanwhile).
const outcomeTTL = time.Hour

// sender sends deliveries in the background, on the leader only, and
// keeps each outcome until the incident reconciler has stored it. Sends run
// in their own goroutines, so a slow server delays only its channel's
// deliveries, never the reconcile of other incidents; each is bounded by
// notify.SendTimeout.
//
// What it keeps is only a relay between a send and the status write that
// records it: the delivery's state lives in status.notifications. Right
// before sending, the sender reads the incident from the API server (not the
// cache) and sends only if the delivery is still Pending with the attempts
// it was dispatched with. So a delivery recorded as Sent, or cancelled by an
// acknowledgement while it queued for its channel, is never sent, whatever a
// lagging cache or a new leader's fresh start would say.
type sender struct {
	cache, apiReader client.Reader
	loader           *channelLoader
	clock            clock.PassiveClock
	wake             chan event.TypedGenericEvent[*klaxonv1alpha1.Incident]

	mu       sync.Mutex
	ctx      context.Context //nolint:containedctx // the manager's, for sends that outlive a reconcile
	inflight map[string]bool
	results  map[types.UID]map[string]delivery.Outcome
	slots    map[string]chan struct{}

	// phones counts the texts and calls of twilio channels for their caps.
	phones phoneLedger

	// contacts are the contacts' bundling windows and held pages, by
	// namespace/responder/contact.
	contacts map[string]*contactState
	// bundleLink is the acknowledge-all link of a bundle, "" without links.
	bundleLink func(namespace, bundle, responder string, now time.Time) string
}

var _ manager.LeaderElectionRunnable = (*sender)(nil)

func newSender(cache, apiReader client.Reader, loader *channelLoader, clk clock.PassiveClock) *sender {
	return &sender{
		cache: cache, apiReader: apiReader, loader: loader, clock: clk,
		wake:     make(chan event.TypedGenericEvent[*klaxonv1alpha1.Incident], 1024),
		inflight: map[string]bool{}, results: map[types.UID]map[string]delivery.Outcome{},
		slots:    map[string]chan struct{}{},
		phones:   phoneLedger{sends: map[string]map[string]phoneSend{}},
		contacts: map[string]*contactState{},
	}
}

// NeedLeaderElection is true: only the leader sends.
func (d *sender) NeedLeaderElection() bool { return true }

// Start lets the sender send until ctx ends, and drops now and then the
// outcomes of incidents deleted before they were stored.
func (d *sender) Start(ctx context.Context) error {
	d.mu.Lock()
	d.ctx = ctx
	d.mu.Unlock()
	tick := time.NewTicker(outcomeTTL / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			d.prune()
		}
	}
}

func (d *sender) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx != nil && d.ctx.Err() == nil
}

func deliveryID(uid types.UID, key string) string { return string(uid) + "/" + key }

// dispatch starts sending req unless it is under way or its outcome waits
// to be stored.
func (d *sender) dispatch(ref types.NamespacedName, uid types.UID, req sendRequest) {
	if req.bundle != nil {
		d.dispatchBundled(ref, uid, req)
		return
	}
	id := deliveryID(uid, req.key)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil || d.ctx.Err() != nil || d.inflight[id] {
		return
	}
	if _, waiting := d.results[uid][req.key]; waiting {
		return
	}
	d.inflight[id] = true
	ctx := d.ctx
	go d.send(ctx, ref, uid, id, req)
}

func (d *sender) send(ctx context.Context, ref types.NamespacedName, uid types.UID, id string, req sendRequest) {
	o, sent := d.attempt(ctx, ref, uid, req)
	d.mu.Lock()
	delete(d.inflight, id)
	if sent {
		d.keep(uid, req.key, o)
	}
	if b := req.bundle; b != nil && (!sent || o.Err != nil) {
		// Nobody was reached: the place in the contact's window is free.
		d.forget(b.contact, id)
	}
	d.mu.Unlock()
	if sent {
		d.wakeUp(ctx, ref)
	}
}

// keep holds an outcome until the incident's reconcile stores it; d.mu is
// held.
func (d *sender) keep(uid types.UID, key string, o delivery.Outcome) {
	if d.results[uid] == nil {
		d.results[uid] = map[string]delivery.Outcome{}
	}
	d.results[uid][key] = o
}

// wakeUp asks for a reconcile of the incident, to store what was sent.
func (d *sender) wakeUp(ctx context.Context, ref types.NamespacedName) {
	inc := &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name}}
	select {
	case d.wake <- event.TypedGenericEvent[*klaxonv1alpha1.Incident]{Object: inc}:
	case <-ctx.Done():
	}
}

// attempt sends once, through the channel's slots, if the delivery is
// still due. It returns false when it did not try: the delivery is no
// longer Pending with the attempts it was dispatched with, or the incident
// is gone; the reconcile that changed it has already said why.
func (d *sender) attempt(ctx context.Context, ref types.NamespacedName, uid types.UID, req sendRequest) (delivery.Outcome, bool) {
	slot := d.slot(ref.Namespace + "/" + req.channel)
	select {
	case slot <- struct{}{}:
		defer func() { <-slot }()
	case <-ctx.Done():
		return delivery.Outcome{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, notify.SendTimeout)
	defer cancel()
	fail := func(err error) (delivery.Outcome, bool) { return delivery.Outcome{At: d.clock.Now(), Err: err}, true }

	due, err := d.stillDue(ctx, ref, uid, req)
	switch {
	case err != nil:
		return fail(err)
	case !due:
		return delivery.Outcome{}, false
	}
	m := req.message
	return d.sendMessage(ctx, ref, uid, req, &m), true
}

// sendMessage sends m through req's channel, within its caps, and returns
// the outcome.
func (d *sender) sendMessage(ctx context.Context, ref types.NamespacedName, uid types.UID, req sendRequest, m *notify.Message) delivery.Outcome {
	fail := func(err error) delivery.Outcome { return delivery.Outcome{At: d.clock.Now(), Err: err} }
	ch := &klaxonv1alpha1.NotificationChannel{}
	if err := d.cache.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: req.channel}, ch); err != nil {
		if apierrors.IsNotFound(err) {
			return fail(fmt.Errorf("NotificationChannel %s not found", req.channel))
		}
		return fail(fmt.Errorf("reading NotificationChannel %s: %w", req.channel, err))
	}
	snd, p, err := d.loader.load(ctx, ch)
	switch {
	case err != nil:
		return fail(fmt.Errorf("loading NotificationChannel %s: %w", req.channel, err))
	case p != nil:
		// Retried like a failed send: the channel may be fixed meanwhile.
		return fail(fmt.Errorf("NotificationChannel %s cannot send: %s", req.channel, p.message))
	}
	// The caps are checked last, right before the send, so that only a
	// text or call that goes out holds a place.
	var release func(keep bool)
	if tw := ch.Spec.Twilio; tw != nil {
		if release, err = d.reservePhone(ctx, ref, uid, req, tw); err != nil {
			return delivery.Outcome{At: d.clock.Now(), Err: err, Permanent: notify.IsPermanent(err), RetryAfter: retryAfter(err)}
		}
	}
	m.SentAt = d.clock.Now()
	msgRef, err := snd.Send(ctx, m)
	if release != nil {
		// A request the provider refused texted nobody; one that failed
		// otherwise (a timeout) may have, and its retry takes the same
		// place.
		release(err == nil || !notify.IsPermanent(err))
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	if err != nil {
		// The status and Events carry the error's own words; what the
		// other end answered goes to the log only, cut.
		ctrl.Log.WithName("sender").V(1).Info("Send failed", "namespace", ref.Namespace, "channel", req.channel,
			"error", err.Error(), "detail", notify.LogDetail(err))
	}
	return delivery.Outcome{At: d.clock.Now(), Ref: msgRef, Err: err, Permanent: err != nil && notify.IsPermanent(err), RetryAfter: retryAfter(err)}
}

// stillDue reads the incident from the API server and reports whether the
// delivery is still Pending with the attempts it was dispatched with. An
// error (the API server unreachable) counts as a failed attempt.
func (d *sender) stillDue(ctx context.Context, ref types.NamespacedName, uid types.UID, req sendRequest) (bool, error) {
	inc := &klaxonv1alpha1.Incident{}
	if err := d.apiReader.Get(ctx, ref, inc); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading the incident before sending: %w", err)
	}
	return pendingAsDispatched(inc, uid, req), nil
}

func (d *sender) slot(channel string) chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.slots[channel]
	if !ok {
		s = make(chan struct{}, maxSendsPerChannel)
		d.slots[channel] = s
	}
	return s
}

// outcomes returns a copy of the incident's finished sends, by key.
func (d *sender) outcomes(uid types.UID) map[string]delivery.Outcome {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]delivery.Outcome{}
	for key, o := range d.results[uid] {
		out[key] = o
	}
	return out
}

// prune drops outcomes older than outcomeTTL: their incidents were deleted,
// or could not be written for that long, and the pre-send check keeps a
// dropped one from being sent twice.
func (d *sender) prune() {
	now := d.clock.Now()
	d.phones.prune(now)
	d.mu.Lock()
	defer d.mu.Unlock()
	for key, c := range d.contacts {
		// Their incidents would have dispatched them again by now, had
		// they still been due.
		stale := c.bundling.Window + outcomeTTL/4
		for id, p := range c.held {
			if now.Sub(p.since) > stale {
				delete(c.held, id)
			}
		}
		for id, at := range c.admitted {
			if now.Sub(at) > stale {
				delete(c.admitted, id)
			}
		}
		// A contact met again is seeded afresh from status.
		if c.window.Free(now, c.bundling); c.window.Len() == 0 && len(c.held) == 0 && len(c.admitted) == 0 {
			delete(d.contacts, key)
		}
	}
	for uid, rs := range d.results {
		for key, o := range rs {
			if now.Sub(o.At) > outcomeTTL {
				delete(rs, key)
			}
		}
		if len(rs) == 0 {
			delete(d.results, uid)
		}
	}
}

// settle forgets outcomes once they are stored.
func (d *sender) settle(uid types.UID, outcomes map[string]delivery.Outcome) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for key := range outcomes {
		delete(d.results[uid], key)
	}
	if len(d.results[uid]) == 0 {
		delete(d.results, uid)
	}
}

// retryAfter is the wait a failed send's answer asked for, 0 for none.
func retryAfter(err error) time.Duration {
	after, _ := notify.RetryAfter(err)
	return after
}

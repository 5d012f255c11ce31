package controller

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/delivery"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// A bundle of more pages than listCheckAbove is checked against one List
// of the namespace's incidents rather than a read of each, which would
// cost a request apiece of the client's budget; listCheckPage is that
// List's page size, and checkReaders bounds the reads at once.
const (
	listCheckAbove = 16
	listCheckPage  = 500
	checkReaders   = 8
)

// bundleRequest says whose contact a page is for and how it is bundled.
type bundleRequest struct {
	// contact keys contactState: the namespace, responder and contact, and
	// the channel and address the page was planned with, so that a
	// contact edited during a storm never bundles old pages to the new
	// address or the reverse.
	contact                        string
	namespace, responder, endpoint string
	bundling                       delivery.Bundling
}

func newBundleRequest(namespace string, n *klaxonv1alpha1.Notification, b delivery.Bundling) *bundleRequest {
	return &bundleRequest{contact: strings.Join([]string{namespace, n.Responder, n.Contact, n.Channel, n.Address}, "/"),
		namespace: namespace, responder: n.Responder, endpoint: n.Contact, bundling: b}
}

// contactState is what the sender knows of one contact: what it was sent
// lately, and the pages that wait for its window to free.
type contactState struct {
	window delivery.Window
	// seeded says window holds what status recorded before this sender
	// met the contact.
	seeded   bool
	bundling delivery.Bundling
	held     map[string]heldPage
	// admitted are the pages admit let go alone that were not dispatched
	// yet, with when: their place may leave the window before a slow
	// status write lets them be dispatched, and they still go alone.
	admitted map[string]time.Time
}

// heldPage is a page that waits in a contact's bundle.
type heldPage struct {
	ref types.NamespacedName
	uid types.UID
	req sendRequest
	// since is when it was last dispatched; prune drops what nobody
	// dispatched again for long (its incident acknowledged or gone).
	since time.Time
}

// contact returns the contact's state, seeded from the namespace's
// incidents the first time: a restart, or a new leader, holds what the
// last one would have held, and sends no bundle that one sent.
func (d *sender) contact(ctx context.Context, b *bundleRequest) *contactState {
	d.mu.Lock()
	c := d.contacts[b.contact]
	if c == nil {
		c = &contactState{held: map[string]heldPage{}, admitted: map[string]time.Time{}}
		d.contacts[b.contact] = c
	}
	c.bundling = b.bundling
	seeded := c.seeded
	d.mu.Unlock()
	if seeded {
		return c
	}
	// From the cache, read only and outside the lock.
	list := &klaxonv1alpha1.IncidentList{}
	if err := d.cache.List(ctx, list, client.InNamespace(b.namespace), client.UnsafeDisableDeepCopy); err != nil {
		// Unseeded, the window counts this process's sends only; the next
		// page tries again.
		ctrl.Log.WithName("sender").Error(err, "Reading what a contact was sent lately", "contact", b.contact)
		return c
	}
	sent := delivery.SentTo(list.Items, b.responder, b.endpoint, d.clock.Now().Add(-b.bundling.Window))
	d.mu.Lock()
	defer d.mu.Unlock()
	if !c.seeded {
		c.seeded = true
		for id, at := range sent {
			c.window.Note(id, at)
		}
	}
	return c
}

// admit decides once whether the page id goes out at once. It does while
// the contact's window has room and no page waits, and it takes its place
// in the window then, before the reconcile stores anything, so that
// concurrent reconciles never promise one place twice (the place is the
// page's, by ID, however often it asks). Otherwise the page waits for the
// bundle, and admit returns when the window frees: the reconcile looks
// again then, and its dispatch sends the bundle.
func (d *sender) admit(ctx context.Context, b *bundleRequest, id string) (at time.Time, alone bool) {
	c := d.contact(ctx, b)
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	if _, ok := c.admitted[id]; ok {
		return now, true
	}
	free := c.window.Free(now, b.bundling)
	if free.After(now) {
		return free, false
	}
	if len(c.held) == 0 {
		c.window.Note(id, delivery.Message{At: now})
		c.admitted[id] = now
		return now, true
	}
	return now, false
}

// dispatchBundled sends a page that admit let go alone. Any other waits
// with the contact's others until the window frees, and the dispatch that
// finds it free sends them all as one message.
func (d *sender) dispatchBundled(ref types.NamespacedName, uid types.UID, req sendRequest) {
	b := req.bundle
	d.mu.Lock()
	ctx := d.ctx
	d.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	d.contact(ctx, b)
	id := deliveryID(uid, req.key)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy(uid, req.key) {
		return
	}
	// Looked up again under the lock: prune may have dropped it.
	c := d.contacts[b.contact]
	if c == nil {
		return
	}
	now := d.clock.Now()
	if _, ok := c.admitted[id]; ok {
		delete(c.admitted, id)
		delete(c.held, id)
		d.inflight[id] = true
		go d.send(ctx, ref, uid, id, req)
		return
	}
	c.held[id] = heldPage{ref: ref, uid: uid, req: req, since: now}
	if c.window.Free(now, b.bundling).After(now) {
		return
	}
	var pages []heldPage
	for held, p := range c.held {
		// A page sent alone meanwhile (its incident became a SEV1, or
		// bundling was turned off) is not sent again.
		if !d.busy(p.uid, p.req.key) {
			d.inflight[held] = true
			pages = append(pages, p)
		}
	}
	clear(c.held)
	if len(pages) == 1 {
		p := pages[0]
		c.window.Note(deliveryID(p.uid, p.req.key), delivery.Message{At: now})
		go d.send(ctx, p.ref, p.uid, deliveryID(p.uid, p.req.key), p.req)
		return
	}
	bundle := newBundleID()
	c.window.Note(bundle, delivery.Message{At: now, Bundle: true})
	go d.sendBundle(ctx, b, bundle, pages)
}

// busy reports whether the delivery is being sent or its outcome waits to
// be stored; d.mu is held.
func (d *sender) busy(uid types.UID, key string) bool {
	if d.inflight[deliveryID(uid, key)] {
		return true
	}
	_, waiting := d.results[uid][key]
	return waiting
}

// forget gives back a message's place in its contact's window; d.mu is
// held.
func (d *sender) forget(contact, id string) {
	if c := d.contacts[contact]; c != nil {
		c.window.Forget(id)
	}
}

// newBundleID names a bundle; each incident it names records the name.
func newBundleID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "b-" + hex.EncodeToString(b[:])
}

// sendBundle sends the pages that are still due as one message, and keeps
// the message's outcome for each of them. A page no longer due (sent,
// acknowledged, gone) is left out; a bundle down to one page is sent as
// that page.
func (d *sender) sendBundle(ctx context.Context, b *bundleRequest, bundle string, pages []heldPage) {
	// In the order paged, so the message lists the oldest first.
	slices.SortFunc(pages, func(x, y heldPage) int {
		return cmp.Or(x.req.message.Incident.TriggeredAt.Compare(y.req.message.Incident.TriggeredAt),
			cmp.Compare(x.ref.Name, y.ref.Name))
	})
	outcomes := map[string]delivery.Outcome{}
	var sent bool
	defer func() {
		d.mu.Lock()
		for _, p := range pages {
			id := deliveryID(p.uid, p.req.key)
			delete(d.inflight, id)
			if o, ok := outcomes[id]; ok {
				d.keep(p.uid, p.req.key, o)
			}
		}
		if !sent {
			d.forget(b.contact, bundle)
		}
		d.mu.Unlock()
		for _, p := range pages {
			if _, ok := outcomes[deliveryID(p.uid, p.req.key)]; ok {
				d.wakeUp(ctx, p.ref)
			}
		}
	}()

	first := pages[0]
	slot := d.slot(b.namespace + "/" + first.req.channel)
	select {
	case slot <- struct{}{}:
		defer func() { <-slot }()
	case <-ctx.Done():
		return
	}
	due, failed := d.stillDueAll(ctx, b.namespace, pages)
	for id, err := range failed {
		outcomes[id] = delivery.Outcome{At: d.clock.Now(), Err: err}
	}
	if len(due) == 0 {
		return
	}
	sendCtx, cancel := context.WithTimeout(ctx, notify.SendTimeout)
	defer cancel()
	lead := due[0]
	var o delivery.Outcome
	if len(due) == 1 {
		m := lead.req.message
		o = d.sendMessage(sendCtx, lead.ref, lead.uid, lead.req, &m)
	} else {
		link := ""
		if d.bundleLink != nil {
			link = d.bundleLink(b.namespace, bundle, b.responder, d.clock.Now())
		}
		m := bundleMessage(bundle, due, link)
		o = d.sendMessage(sendCtx, lead.ref, lead.uid, lead.req, &m)
		if o.Err == nil {
			o.Bundle = bundle
			if o.Ref == "" {
				o.Ref = bundle
			}
		}
		// What the channel refused is the bundle, which each page need
		// not be: they are retried, and may go alone then.
		o.Permanent = false
	}
	sent = o.Err == nil
	for _, p := range due {
		outcomes[deliveryID(p.uid, p.req.key)] = o
	}
}

// bundleMessage is the one message of a bundle's pages, which share a
// contact, so an address and a channel.
func bundleMessage(bundle string, pages []heldPage, link string) notify.Message {
	lead := &pages[0].req.message
	m := notify.Message{
		Incident: notify.Incident{Namespace: lead.Incident.Namespace},
		Page:     notify.Page{Responder: lead.Page.Responder, DisplayName: lead.Page.DisplayName},
		Address:  lead.Address, Kind: lead.Kind,
		Bundle: &notify.Bundle{ID: bundle, AcknowledgeURL: link},
	}
	for _, p := range pages {
		pm := &p.req.message
		m.Bundle.Incidents = append(m.Bundle.Incidents, notify.BundledIncident{
			Namespace: pm.Incident.Namespace, Name: pm.Incident.Name, UID: pm.Incident.UID,
			Title: pm.Incident.Title, Severity: pm.Incident.Severity, Level: pm.Page.Level, Round: pm.Page.Round,
		})
	}
	return m
}

// stillDueAll checks, against the API server, which pages are still
// Pending with the attempts they were dispatched with (see stillDue). A
// page whose incident could not be read gets an error, a failed attempt.
func (d *sender) stillDueAll(ctx context.Context, namespace string, pages []heldPage) ([]heldPage, map[string]error) {
	ctx, cancel := context.WithTimeout(ctx, notify.SendTimeout)
	defer cancel()
	failed := map[string]error{}
	ok := make([]bool, len(pages))
	if len(pages) > listCheckAbove {
		wanted := make(map[string]bool, len(pages))
		for _, p := range pages {
			wanted[p.ref.Name] = true
		}
		current, err := d.listIncidents(ctx, namespace, wanted)
		for i, p := range pages {
			if err != nil {
				failed[deliveryID(p.uid, p.req.key)] = err
				continue
			}
			inc, found := current[p.ref.Name]
			ok[i] = found && pendingAsDispatched(inc, p.uid, p.req)
		}
	} else {
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, checkReaders)
		for i, p := range pages {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				due, err := d.stillDue(ctx, p.ref, p.uid, p.req)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed[deliveryID(p.uid, p.req.key)] = err
				}
				ok[i] = due
			})
		}
		wg.Wait()
	}
	var due []heldPage
	for i, p := range pages {
		if ok[i] {
			due = append(due, p)
		}
	}
	return due, failed
}

// listIncidents reads the namespace's incidents from the API server, a
// page at a time, and keeps those wanted, by name.
func (d *sender) listIncidents(ctx context.Context, namespace string, wanted map[string]bool) (map[string]*klaxonv1alpha1.Incident, error) {
	byName := map[string]*klaxonv1alpha1.Incident{}
	opts := []client.ListOption{client.InNamespace(namespace), client.Limit(listCheckPage)}
	restarts := 0
	for {
		list := &klaxonv1alpha1.IncidentList{}
		if err := d.apiReader.List(ctx, list, opts...); err != nil {
			if apierrors.IsResourceExpired(err) && restarts < 2 {
				// The continue token expired: start over.
				restarts++
				clear(byName)
				opts = opts[:2]
				continue
			}
			return nil, fmt.Errorf("reading the incidents before sending a bundle: %w", err)
		}
		for i := range list.Items {
			if wanted[list.Items[i].Name] {
				byName[list.Items[i].Name] = &list.Items[i]
			}
		}
		if list.Continue == "" {
			return byName, nil
		}
		opts = append(opts[:2], client.Continue(list.Continue))
	}
}

// pendingAsDispatched reports whether inc is the incident uid and holds
// req's delivery Pending with the attempts it was dispatched with.
func pendingAsDispatched(inc *klaxonv1alpha1.Incident, uid types.UID, req sendRequest) bool {
	if inc.UID != uid {
		return false
	}
	for i := range inc.Status.Notifications {
		n := &inc.Status.Notifications[i]
		if delivery.Key(n) == req.key {
			return n.State == klaxonv1alpha1.NotificationPending && n.Attempts == req.attempts
		}
	}
	return false
}

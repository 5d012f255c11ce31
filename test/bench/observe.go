package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/operator"
)

// marks records the first time something happened to a key, and lets
// callers wait for it.
type marks struct {
	mu sync.Mutex
	m  map[string]*mark
}

type mark struct {
	at   time.Time
	done chan struct{}
}

func newMarks() *marks { return &marks{m: map[string]*mark{}} }

func (m *marks) entry(key string) *mark {
	e, ok := m.m[key]
	if !ok {
		e = &mark{done: make(chan struct{})}
		m.m[key] = e
	}
	return e
}

// set records at for key unless it has a time already.
func (m *marks) set(key string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(key)
	if e.at.IsZero() {
		e.at = at
		close(e.done)
	}
}

// get returns key's time, if it has one.
func (m *marks) get(key string) (time.Time, bool) {
	m.mu.Lock()
	e := m.entry(key)
	m.mu.Unlock()
	select {
	case <-e.done:
		return e.at, true
	default:
		return time.Time{}, false
	}
}

// namedDrain is, once every message has arrived, how long after end the
// last of the accepted incidents was named in a message, and how many
// none named. A bundle lists at most 500 incidents by name and counts the
// rest: those it counts are named by it, at its time.
func (o *observer) namedDrain(ns string, incidents []string, end time.Time) (time.Duration, int) {
	var last time.Time
	missing := 0
	for _, key := range incidents {
		at, ok := o.named.get(key)
		if !ok {
			missing++
			continue
		}
		if at.After(last) {
			last = at
		}
	}
	o.mu.Lock()
	counted, at := o.unlisted[ns], o.lastUnlisted[ns]
	o.mu.Unlock()
	if covered := min(missing, counted); covered > 0 {
		missing -= covered
		if at.After(last) {
			last = at
		}
	}
	return max(last.Sub(end), 0), missing
}

// wait waits until key has a time, for at most timeout.
func (m *marks) wait(ctx context.Context, key string, timeout time.Duration) (time.Time, error) {
	m.mu.Lock()
	e := m.entry(key)
	m.mu.Unlock()
	// What happened already counts, even with no time left to wait.
	select {
	case <-e.done:
		return e.at, nil
	default:
	}
	select {
	case <-e.done:
		return e.at, nil
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("waiting for %s: %w", key, ctx.Err())
	case <-time.After(timeout):
		return time.Time{}, fmt.Errorf("%s did not happen within %s", key, timeout)
	}
}

// observer watches incidents and receives the webhook channel's POSTs,
// timestamping what the bench waits for as soon as it can be seen.
type observer struct {
	clock clock.PassiveClock
	// paged0 and paged1 are keyed by namespace/name: when the incident was
	// first seen with a level-0 (level-1) assignment of round 0.
	paged0, paged1 *marks
	// delivered is keyed by namespace/name: when the webhook channel first
	// received a page of the incident.
	delivered *marks
	// recorded is keyed by namespace/name: when the incident was first seen
	// with a page's delivery recorded in status.notifications (Sent or
	// Failed; a bundled delivery records Sent).
	recorded *marks
	// named is keyed by namespace/name: when a message the webhook channel
	// received first named the incident, alone or in a bundle.
	named *marks

	mu sync.Mutex
	// due1 is the incident's nextEscalationAt while level 0 was its latest.
	due1 map[string]time.Time
	// current counts incidents whose status.observedGeneration is their
	// generation, by namespace/name.
	current map[string]bool
	// lastChange is when an incident or a delivery was last seen.
	lastChange time.Time
	hookPOSTs  int
	// posts are the times pages reached the webhook channel, by contact
	// (posts' key); bundled counts the bundles among them and the incidents
	// the bundles held.
	posts   map[string][]time.Time
	bundled map[string]bundleTally
	// unlisted counts, by namespace, the incidents bundles held beyond
	// those they list by name, and lastUnlisted is the last such bundle.
	unlisted     map[string]int
	lastUnlisted map[string]time.Time

	hook    *http.Server
	hookURL string
}

func newObserver(clk clock.PassiveClock) *observer {
	return &observer{clock: clk, paged0: newMarks(), paged1: newMarks(), delivered: newMarks(),
		recorded: newMarks(), named: newMarks(),
		due1: map[string]time.Time{}, current: map[string]bool{},
		posts: map[string][]time.Time{}, bundled: map[string]bundleTally{},
		unlisted: map[string]int{}, lastUnlisted: map[string]time.Time{}}
}

// watchIncidents starts an informer on every incident. It keeps only what
// the bench reads, so its cache stays small at scale.
func (o *observer) watchIncidents(ctx context.Context, cfg *rest.Config) error {
	c, err := cache.New(cfg, cache.Options{Scheme: operator.Scheme(), DefaultTransform: slimIncident})
	if err != nil {
		return fmt.Errorf("creating the incident watch: %w", err)
	}
	inf, err := c.GetInformer(ctx, &klaxonv1alpha1.Incident{})
	if err != nil {
		return fmt.Errorf("watching incidents: %w", err)
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { o.seen(obj) },
		UpdateFunc: func(_, obj any) { o.seen(obj) },
		DeleteFunc: func(obj any) { o.gone(obj) },
	})
	if err != nil {
		return fmt.Errorf("watching incidents: %w", err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("the incident watch did not sync: %w", ctx.Err())
	}
	return nil
}

// slimIncident drops what the bench never reads.
func slimIncident(obj any) (any, error) {
	inc, ok := obj.(*klaxonv1alpha1.Incident)
	if !ok {
		return obj, nil
	}
	slim := &klaxonv1alpha1.Incident{}
	slim.Name, slim.Namespace, slim.ResourceVersion, slim.Generation = inc.Name, inc.Namespace, inc.ResourceVersion, inc.Generation
	slim.Status.Phase, slim.Status.ObservedGeneration, slim.Status.Escalation = inc.Status.Phase, inc.Status.ObservedGeneration, inc.Status.Escalation
	for _, a := range inc.Status.Assignments {
		if a.Round == 0 && a.Level <= 1 {
			slim.Status.Assignments = append(slim.Status.Assignments, a)
		}
	}
	// One recorded delivery of a page is all the bench asks of them.
	for _, n := range inc.Status.Notifications {
		if deliveryRecorded(n) {
			slim.Status.Notifications = []klaxonv1alpha1.Notification{{State: n.State}}
			break
		}
	}
	return slim, nil
}

// deliveryRecorded reports whether n is a page whose delivery ended: sent
// (alone or in a bundle) or failed for good.
func deliveryRecorded(n klaxonv1alpha1.Notification) bool {
	return n.Event == "" && (n.State == klaxonv1alpha1.NotificationSent || n.State == klaxonv1alpha1.NotificationFailed)
}

func (o *observer) seen(obj any) {
	inc, ok := obj.(*klaxonv1alpha1.Incident)
	if !ok {
		return
	}
	now := o.clock.Now()
	key := inc.Namespace + "/" + inc.Name
	var level0, level1 bool
	for _, a := range inc.Status.Assignments {
		if a.Round != 0 {
			continue
		}
		level0 = level0 || a.Level == 0
		level1 = level1 || a.Level == 1
	}
	if level0 {
		o.paged0.set(key, now)
	}
	if level1 {
		o.paged1.set(key, now)
	}
	if slices.ContainsFunc(inc.Status.Notifications, deliveryRecorded) {
		o.recorded.set(key, now)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastChange = now
	o.current[key] = inc.Status.ObservedGeneration == inc.Generation
	if esc := inc.Status.Escalation; level0 && !level1 && esc != nil && esc.Level == 0 && esc.NextEscalationAt != nil {
		o.due1[key] = esc.NextEscalationAt.Time
	}
}

// gone forgets a deleted incident, so counts cover the incidents that
// exist; what was measured of it stays.
func (o *observer) gone(obj any) {
	if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	inc, ok := obj.(*klaxonv1alpha1.Incident)
	if !ok {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastChange = o.clock.Now()
	delete(o.current, inc.Namespace+"/"+inc.Name)
}

// dueAt returns the incident's level-1 due time, as seen at level 0.
func (o *observer) dueAt(key string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.due1[key]
	return t, ok
}

// incidents counts the incidents seen.
func (o *observer) incidents() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.current)
}

// notCurrent counts the incidents seen whose status does not reflect their
// generation.
func (o *observer) notCurrent() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, ok := range o.current {
		if !ok {
			n++
		}
	}
	return n
}

// quiet waits until no incident changed and no page arrived for d, so the
// writes that follow a step are all counted; it gives up after limit.
func (o *observer) quiet(ctx context.Context, d, limit time.Duration) error {
	deadline := o.clock.Now().Add(limit)
	for {
		o.mu.Lock()
		since := o.clock.Since(o.lastChange)
		o.mu.Unlock()
		if since >= d {
			return nil
		}
		if o.clock.Now().After(deadline) {
			return nil // busy for good: the caller counts what it saw
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the operator to settle: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// serveHook runs the webhook channel's endpoint on a loopback port.
func (o *observer) serveHook() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for the webhook channel: %w", err)
	}
	o.hookURL = "http://" + ln.Addr().String() + "/hook"
	o.hook = &http.Server{Handler: http.HandlerFunc(o.receivePage), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = o.hook.Serve(ln) }()
	return nil
}

// hookPayload is the webhook payload with the bundle a message of kind
// Bundle carries; a message of any other kind counts as a single page.
type hookPayload struct {
	notify.Payload
	Bundle *hookBundle `json:"bundle,omitempty"`
}

type hookBundle struct {
	// Count is how many incidents the bundle holds; Incidents may list
	// fewer (the payload bounds them).
	Count     int `json:"count"`
	Incidents []struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"incidents"`
}

// bundleTally counts the bundles a contact received and the incidents
// they held.
type bundleTally struct{ messages, incidents int }

// contactKey names a contact's messages: its namespace and address.
func contactKey(namespace, address string) string { return namespace + "/" + address }

func (o *observer) receivePage(w http.ResponseWriter, r *http.Request) {
	now := o.clock.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var p hookPayload
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	if err != nil {
		http.Error(w, "not a klaxon.dev/v1 payload", http.StatusBadRequest)
		return
	}
	page := p.Page != nil || p.Bundle != nil
	switch {
	case p.Bundle != nil:
		for _, inc := range p.Bundle.Incidents {
			key := inc.Namespace + "/" + inc.Name
			o.delivered.set(key, now)
			o.named.set(key, now)
		}
	case p.Page != nil:
		key := p.Incident.Namespace + "/" + p.Incident.Name
		o.delivered.set(key, now)
		o.named.set(key, now)
	}
	o.mu.Lock()
	o.lastChange, o.hookPOSTs = now, o.hookPOSTs+1
	if page {
		address := p.Address
		if address == "" && p.Page != nil {
			address = p.Page.Responder
		}
		contact := contactKey(p.Incident.Namespace, address)
		o.posts[contact] = append(o.posts[contact], now)
		if p.Bundle != nil {
			if extra := p.Bundle.Count - len(p.Bundle.Incidents); extra > 0 {
				o.unlisted[p.Incident.Namespace] += extra
				o.lastUnlisted[p.Incident.Namespace] = now
			}
			t := o.bundled[contact]
			o.bundled[contact] = bundleTally{messages: t.messages + 1, incidents: t.incidents + max(p.Bundle.Count, len(p.Bundle.Incidents))}
		}
	}
	o.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// messagesPerWindow counts the pages a contact received from from until
// to, in windows of window from from, and returns the most in one window,
// the pages in all, and the bundles among them with the incidents they held.
func (o *observer) messagesPerWindow(contact string, from, to time.Time, window time.Duration) (most, all int, bundles bundleTally) {
	o.mu.Lock()
	defer o.mu.Unlock()
	perWindow := map[int64]int{}
	for _, at := range o.posts[contact] {
		if at.Before(from) || at.After(to) {
			continue
		}
		i := int64(at.Sub(from) / window)
		perWindow[i]++
		most = max(most, perWindow[i])
		all++
	}
	return most, all, o.bundled[contact]
}

func (o *observer) close() {
	if o.hook != nil {
		_ = o.hook.Close()
	}
}

package receiver

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/calendar"
	"github.com/klaxon-dev/klaxon/internal/metrics"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// calendarForbidden is the one answer to every token that does not open
// the feed asked for: forged, another feed's, revoked, or a namespace
// without keys. The answers do not tell them apart, so probing learns
// nothing of which feeds exist.
const calendarForbidden = "This calendar link is not valid. Ask for a new one with kubectl klaxon calendar."

// calendarFeeds serves GET and HEAD /calendar/{namespace}/{kind}/{name}.ics
// ?token=…: a responder's shifts on every schedule of the namespace, or a
// schedule's. Calendar clients poll every few minutes, so an unchanged
// feed costs a 304 worked out from the objects' versions, before any shift
// is.
type calendarFeeds struct {
	*Server
	kind string
	keys *calendarKeys
}

// calendarAnswer is what a request is answered: a code, and a sentence or
// the feed.
type calendarAnswer struct {
	code   int
	metric string
	text   string
	body   []byte
	etag   string
	cause  error
}

func (cf *calendarFeeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := cf.respond(r)
	metrics.CalendarRequests.WithLabelValues(a.metric).Inc()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	// The token is in the URL: keep it out of Referer headers.
	h.Set("Referrer-Policy", "no-referrer")
	switch a.code {
	case http.StatusOK, http.StatusNotModified:
		// private: the token is the feed's only key; a shared cache must
		// not answer another client with it.
		h.Set("Cache-Control", "private, max-age=300")
		h.Set("ETag", a.etag)
	default:
		h.Set("Cache-Control", "no-store")
	}
	switch a.code {
	case http.StatusOK:
		h.Set("Content-Type", "text/calendar; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(a.body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(a.body)
		}
	case http.StatusNotModified:
		w.WriteHeader(http.StatusNotModified)
	case http.StatusMethodNotAllowed:
		h.Set("Allow", "GET, HEAD")
		writeText(w, a.code, a.text)
	case http.StatusTooManyRequests:
		h.Set("Retry-After", "60")
		writeText(w, a.code, a.text)
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "5")
		writeText(w, a.code, a.text)
	default:
		writeText(w, a.code, a.text)
	}
	if a.code >= http.StatusInternalServerError {
		cf.log.Error(a.cause, "Answered a calendar feed request with an error", "code", a.code)
	} else {
		cf.log.V(1).Info("Answered a calendar feed request", "kind", cf.kind, "code", a.code, "error", a.cause)
	}
}

func (cf *calendarFeeds) respond(r *http.Request) calendarAnswer {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return calendarAnswer{code: http.StatusMethodNotAllowed, metric: metrics.CalendarBadRequest,
			text: "A calendar feed is read with GET."}
	}
	q := r.URL.Query()
	weeks := calendar.DefaultWeeks
	if v := q.Get("weeks"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > calendar.MaxWeeks {
			return calendarAnswer{code: http.StatusBadRequest, metric: metrics.CalendarBadRequest,
				text: fmt.Sprintf("weeks must be a whole number from 1 to %d.", calendar.MaxWeeks)}
		}
		weeks = n
	}
	name, isICS := strings.CutSuffix(r.PathValue("file"), ".ics")
	want := acklink.CalendarClaims{Namespace: r.PathValue("namespace"), Kind: cf.kind, Name: name}
	ctx, cancel := context.WithTimeout(r.Context(), cf.opts.APITimeout)
	defer cancel()
	// A client already limited is not worth a reread of the keys: its
	// token is checked against those at hand.
	ip := cf.clientIP(r)
	ok, err := cf.verify(ctx, want, q.Get("token"), isICS, cf.verifyFailures.allows(ip))
	if err != nil {
		return calendarAnswer{code: http.StatusServiceUnavailable, metric: metrics.CalendarError,
			text: "Klaxon cannot check calendar links right now. Try again in a moment.", cause: err}
	}
	if !ok {
		// Only failures count against an address, as for acknowledge
		// links: people behind a prober's proxy keep their feeds.
		if !cf.verifyFailures.allows(ip) {
			return calendarAnswer{code: http.StatusTooManyRequests, metric: metrics.CalendarLimited,
				text: "Too many calendar links from your address failed to verify. Wait a minute."}
		}
		cf.verifyFailures.take(ip)
		return calendarAnswer{code: http.StatusForbidden, metric: metrics.CalendarForbidden, text: calendarForbidden}
	}
	in, err := cf.readInputs(ctx, want.Namespace, want)
	if err != nil {
		return calendarAnswer{code: http.StatusServiceUnavailable, metric: metrics.CalendarError,
			text: "Klaxon cannot read the schedules right now. Try again in a moment.", cause: err}
	}
	from, to := calendar.Window(cf.clock.Now(), weeks)
	etag := in.etag(want, weeks, from)
	if notModified(r, etag) {
		return calendarAnswer{code: http.StatusNotModified, metric: metrics.CalendarNotModified, etag: etag}
	}
	return calendarAnswer{code: http.StatusOK, metric: metrics.CalendarOK, etag: etag,
		body: calendar.Render(in.feed(want, from, to))}
}

// verify reports whether token opens the feed want. A token that fails
// with the cached key is tried again, when mayReread, with the Secret read
// anew (at most every calendarKeysReread), so a key just made works at
// once; a rotated key stops working within calendarKeysFresh.
func (cf *calendarFeeds) verify(ctx context.Context, want acklink.CalendarClaims, token string, wellFormed, mayReread bool) (bool, error) {
	if !wellFormed || token == "" || !cf.watches(want.Namespace) {
		return false, nil
	}
	if invalid := want.Validate(); invalid != nil {
		// A path no token is signed for: answered as a forged token.
		return false, nil //nolint:nilerr // the claims' fault is the request's, answered 403
	}
	// Nothing is read for a token that does not even claim this feed, nor
	// for a namespace without schedules or responders: the keys Secret is
	// read only for a feed that can exist.
	if claimed, err := acklink.ClaimedCalendar(token); err != nil || claimed != want {
		return false, nil //nolint:nilerr // a malformed token is the request's fault, answered 403
	}
	if exists, err := cf.hasFeeds(ctx, want.Namespace); err != nil || !exists {
		return false, err
	}
	entry := acklink.CalendarKeyName(want.Kind, want.Name)
	ages := []time.Duration{calendarKeysFresh, calendarKeysReread}
	for i, maxAge := range ages {
		// A client already limited is checked against the keys at hand
		// only: its failures cost no read.
		key, err := cf.keys.key(ctx, want.Namespace, entry, maxAge, mayReread)
		if err != nil {
			return false, err
		}
		if !mayReread && i > 0 {
			break
		}
		if key == nil {
			continue
		}
		signer, err := acklink.NewSigner(key)
		if err != nil {
			// A key too short to be one of ours opens nothing.
			continue
		}
		if got, err := signer.VerifyCalendar(token); err == nil && got == want {
			return true, nil
		}
	}
	return false, nil
}

// hasFeeds reports whether the namespace has a schedule or a responder in
// the cache, so that a feed of it can exist.
func (s *Server) hasFeeds(ctx context.Context, ns string) (bool, error) {
	for _, l := range []client.ObjectList{&klaxonv1alpha1.OnCallScheduleList{}, &klaxonv1alpha1.ResponderList{}} {
		if err := s.client.List(ctx, l, client.InNamespace(ns), client.Limit(1)); err != nil {
			return false, fmt.Errorf("listing %T in %s: %w", l, ns, err)
		}
		if meta.LenList(l) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// notModified reports whether If-None-Match names etag (weakly, as
// RFC 9110 asks of GET).
func notModified(r *http.Request, etag string) bool {
	for _, v := range r.Header.Values("If-None-Match") {
		for _, tag := range strings.Split(v, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == etag {
				return true
			}
		}
	}
	return false
}

// calendarInputs are the objects a namespace's feeds are worked out from.
type calendarInputs struct {
	namespace  string
	schedules  []klaxonv1alpha1.OnCallSchedule
	overrides  []klaxonv1alpha1.OnCallOverride
	responders []klaxonv1alpha1.Responder
	// skipped are the schedules beyond calendar.MaxSchedules.
	skipped int
}

// readInputs lists the namespace's schedules, overrides and responders
// from the cache.
func (s *Server) readInputs(ctx context.Context, ns string, c acklink.CalendarClaims) (*calendarInputs, error) {
	var schedules klaxonv1alpha1.OnCallScheduleList
	var overrides klaxonv1alpha1.OnCallOverrideList
	var responders klaxonv1alpha1.ResponderList
	for _, l := range []client.ObjectList{&schedules, &overrides, &responders} {
		if err := s.client.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("listing %T in %s: %w", l, ns, err)
		}
	}
	in := &calendarInputs{namespace: ns, schedules: schedules.Items, overrides: overrides.Items, responders: responders.Items}
	if c.Kind == acklink.CalendarSchedule {
		// A schedule's feed reads that schedule only, whatever else the
		// namespace holds.
		in.schedules = slices.DeleteFunc(in.schedules, func(s klaxonv1alpha1.OnCallSchedule) bool { return s.Name != c.Name })
	}
	slices.SortFunc(in.schedules, func(a, b klaxonv1alpha1.OnCallSchedule) int { return strings.Compare(a.Name, b.Name) })
	if len(in.schedules) > calendar.MaxSchedules {
		in.skipped = len(in.schedules) - calendar.MaxSchedules
		in.schedules = in.schedules[:calendar.MaxSchedules]
	}
	slices.SortFunc(in.overrides, func(a, b klaxonv1alpha1.OnCallOverride) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(in.responders, func(a, b klaxonv1alpha1.Responder) int { return strings.Compare(a.Name, b.Name) })
	return in, nil
}

// etagVersion changes when a feed's layout does, so clients fetch it anew.
const etagVersion = "1"

// etag names everything the feed is made of: the feed, its window, and
// each object's version, so it changes when, and only when, the body may.
func (in *calendarInputs) etag(c acklink.CalendarClaims, weeks int, from time.Time) string {
	h := sha256.New()
	field := func(parts ...string) {
		for _, p := range parts {
			h.Write(binary.AppendUvarint(nil, uint64(len(p))))
			h.Write([]byte(p))
		}
	}
	num := func(n int64) string { return strconv.FormatInt(n, 10) }
	field(etagVersion, c.Namespace, c.Kind, c.Name, strconv.Itoa(weeks), from.UTC().Format(time.RFC3339), strconv.Itoa(in.skipped))
	for i := range in.schedules {
		s := &in.schedules[i]
		field("s", string(s.UID), num(s.Generation), num(revision(s)))
	}
	for i := range in.overrides {
		o := &in.overrides[i]
		field("o", string(o.UID), num(o.Generation))
	}
	for i := range in.responders {
		p := &in.responders[i]
		field("r", p.Name, string(p.UID), num(p.Generation))
	}
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

// revision is the schedule's shifts revision, every event's SEQUENCE.
func revision(s *klaxonv1alpha1.OnCallSchedule) int64 {
	if s.Status.Shifts == nil {
		return 0
	}
	return s.Status.Shifts.Revision
}

// feed works out the feed c names over [from, to).
func (in *calendarInputs) feed(c acklink.CalendarClaims, from, to time.Time) calendar.Feed {
	display := map[string]string{}
	for i := range in.responders {
		if p := &in.responders[i]; p.Spec.DisplayName != "" {
			display[p.Name] = p.Spec.DisplayName
		}
	}
	person := func(user string) string {
		if d, ok := display[user]; ok {
			return d
		}
		return user
	}
	var b *calendar.Builder
	if c.Kind == acklink.CalendarResponder {
		b = calendar.NewBuilder("On call: "+person(c.Name), from, to)
	} else {
		b = calendar.NewBuilder("On call: "+c.Name, from, to)
	}
	if in.skipped > 0 {
		b.Note(fmt.Sprintf("This calendar reads at most %d schedules of the namespace; %d more are not shown.", calendar.MaxSchedules, in.skipped))
	}
	for i := range in.schedules {
		s := &in.schedules[i]
		if c.Kind == acklink.CalendarSchedule && s.Name != c.Name {
			continue
		}
		compiled, err := oncall.Compile(&s.Spec)
		if err != nil {
			// An invalid schedule puts nobody on call; its Ready says why.
			continue
		}
		src := calendar.Schedule{Namespace: in.namespace, Name: s.Name, Compiled: compiled.WithOverrides(s.Name, in.overrides), Sequence: revision(s)}
		if c.Kind == acklink.CalendarResponder {
			summary := "On call: " + s.Name
			b.Add(src, func(sh oncall.PersonShift) bool { return sh.User == c.Name },
				func(oncall.PersonShift) string { return summary })
		} else {
			b.Add(src, func(oncall.PersonShift) bool { return true },
				func(sh oncall.PersonShift) string { return "On call: " + person(sh.User) })
		}
	}
	return b.Feed()
}

// How long the calendar keys read from a Secret are used: a rotation bites
// within calendarKeysFresh, and a token that fails rereads the Secret at
// most every calendarKeysReread.
const (
	calendarKeysFresh  = 5 * time.Second
	calendarKeysReread = 250 * time.Millisecond
	// calendarKeyReadsPerSecond and calendarKeyReadBurst bound the reads
	// of keys Secrets, across namespaces: a flood of tokens for many
	// namespaces must not turn into as many API requests.
	calendarKeyReadsPerSecond = 10
	calendarKeyReadBurst      = 20
	// maxCalendarKeyNamespaces bounds the namespaces whose keys are kept.
	maxCalendarKeyNamespaces = 1000
)

// calendarKeys keeps each namespace's calendar keys Secret for a few
// seconds. The route token cache keeps Secrets longer than a rotation may
// take to bite, so the keys have a cache of their own.
type calendarKeys struct {
	reader client.Reader
	now    func() time.Time
	// reads bounds the Secret reads of every namespace together.
	reads *rate.Limiter
	mu    sync.Mutex
	byNS  map[string]*calendarKeyEntry
}

type calendarKeyEntry struct {
	// mu is held while the Secret is read, so requests of one namespace
	// read it once.
	mu     sync.Mutex
	data   map[string][]byte
	readAt time.Time
}

func newCalendarKeys(reader client.Reader, now func() time.Time) *calendarKeys {
	return &calendarKeys{reader: reader, now: now, byNS: map[string]*calendarKeyEntry{},
		reads: rate.NewLimiter(calendarKeyReadsPerSecond, calendarKeyReadBurst)}
}

// key returns the data entry of the namespace's keys Secret, nil when
// there is none, reading the Secret when the copy kept is older than
// maxAge and mayRead allows. Reads across all namespaces are limited: past
// the limit, a copy kept of any age is used, and without one the answer is
// an error (the caller answers 503, and the client retries).
func (k *calendarKeys) key(ctx context.Context, ns, entry string, maxAge time.Duration, mayRead bool) ([]byte, error) {
	k.mu.Lock()
	e, ok := k.byNS[ns]
	if !ok {
		if !mayRead {
			k.mu.Unlock()
			return nil, nil
		}
		if len(k.byNS) >= maxCalendarKeyNamespaces {
			k.evict()
		}
		e = &calendarKeyEntry{}
		k.byNS[ns] = e
	}
	k.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	stale := e.readAt.IsZero() || k.now().Sub(e.readAt) >= maxAge
	switch {
	case !stale || !mayRead:
	case !k.reads.Allow():
		if e.readAt.IsZero() {
			return nil, errors.New("too many calendar keys read at once")
		}
	default:
		data, err := k.read(ctx, ns)
		if err != nil {
			return nil, err
		}
		e.data, e.readAt = data, k.now()
	}
	return e.data[entry], nil
}

// evict drops the entries too old to be used; if all are fresh, every one.
// The caller holds k.mu.
func (k *calendarKeys) evict() {
	now := k.now()
	for ns, e := range k.byNS {
		if e.mu.TryLock() {
			if now.Sub(e.readAt) >= calendarKeysFresh {
				delete(k.byNS, ns)
			}
			e.mu.Unlock()
		}
	}
	if len(k.byNS) >= maxCalendarKeyNamespaces {
		clear(k.byNS)
	}
}

// read returns the data of the namespace's keys Secret, or nil when it is
// missing, unlabelled, or the operator may not read it.
func (k *calendarKeys) read(ctx context.Context, ns string) (map[string][]byte, error) {
	var secret corev1.Secret
	err := k.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: acklink.CalendarKeysSecret}, &secret)
	switch {
	case apierrors.IsNotFound(err), apierrors.IsForbidden(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the calendar keys of %s: %w", ns, err)
	case secret.Labels[acklink.CalendarKeysLabel] != "true":
		return nil, nil
	}
	return secret.Data, nil
}

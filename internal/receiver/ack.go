package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
)

// Acknowledge links cost API requests only once their token verified: a
// POST patches the incident, and a link the cache cannot confirm (it may
// lag behind a reopen or a recreated incident) is read from the API server.
// Both are limited across all callers, so replayed genuine links cannot
// flood the API server. Links that fail to verify cost no API request, but
// each client gets only so many, so nobody can probe for tokens at speed.
const (
	ackRequestsPerSecond = 5
	ackRequestBurst      = 20
	ackFailuresPerSecond = 1
	ackFailureBurst      = 10
	// maxAckClients bounds the clients whose failures are remembered.
	maxAckClients = 4096
	// maxAckBodyBytes bounds a POST body: the form sends none.
	maxAckBodyBytes = 1 << 10
)

// serveAck answers GET (and HEAD) /ack/{token} with the incident and, while
// it is Triggered, a button; the button POSTs to the same URL, which
// acknowledges. GET never writes: mail scanners and chat unfurlers fetch
// links nobody clicked.
func (s *Server) serveAck(w http.ResponseWriter, r *http.Request) {
	p := s.ack(w, r)
	h := w.Header()
	// The token is in the URL: keep it out of caches and Referer headers.
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	// A one-click button must not be framed by another site (clickjacking).
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	if p.code == http.StatusMethodNotAllowed {
		h.Set("Allow", "GET, HEAD, POST")
	}
	w.WriteHeader(p.code)
	if err := ackTemplate.Execute(w, p.view); err != nil {
		s.log.V(1).Info("Writing an acknowledge page", "error", err)
	}
	if p.code >= http.StatusInternalServerError {
		s.log.Error(p.cause, "Answered an acknowledge link with an error", "code", p.code)
	} else {
		s.log.V(1).Info("Answered an acknowledge link", "method", r.Method, "code", p.code, "error", p.cause)
	}
}

// ackAnswer is the page answering one request.
type ackAnswer struct {
	code int
	view ackView
	// retryAfter, in seconds, is sent with 429 and 503.
	retryAfter int
	// cause is logged, never shown.
	cause error
}

func (s *Server) ack(w http.ResponseWriter, r *http.Request) ackAnswer {
	post := r.Method == http.MethodPost
	switch {
	case post:
		if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxAckBodyBytes)); err != nil {
			return failure(http.StatusRequestEntityTooLarge, "Request too large", "The form sends no data; this request carried more than it may.", err)
		}
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		return failure(http.StatusMethodNotAllowed, "Method not allowed", "Open the link in a browser, then press the button to acknowledge.", nil)
	}
	signer, ok := s.opts.AckKeys.Signer()
	if !ok {
		a := failure(http.StatusServiceUnavailable, "Not ready", "Klaxon is starting and cannot check links yet. Try again in a moment.", errors.New("the acknowledge link key is not loaded yet"))
		a.retryAfter = 5
		return a
	}
	claims, err := signer.Verify(r.PathValue("token"), s.clock.Now())
	if err != nil {
		// Nothing is looked up for a token that failed: its answer says
		// nothing about whether an incident exists. Only failures count
		// against an address (a checked HMAC costs next to nothing), so
		// people behind the same proxy as a prober keep their good links.
		ip := clientIP(r)
		if !s.ackFailures.allows(ip) {
			a := failure(http.StatusTooManyRequests, "Too many invalid links", "Too many links from your address failed to verify. Wait a minute and open the link from the page again.", nil)
			a.retryAfter = 60
			return a
		}
		s.ackFailures.fail(ip)
		return verifyFailure(err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.APITimeout)
	defer cancel()
	inc, a, ok := s.ackIncident(ctx, claims, s.client)
	if !ok {
		return a
	}
	if !awaitsAcknowledgement(inc) {
		// A replayed link of an incident that moved on costs a cache read,
		// never the shared budget of writes.
		return ackAnswer{code: http.StatusOK, view: viewIncident(inc, claims, alreadyMoved(inc))}
	}
	if !post {
		return ackAnswer{code: http.StatusOK, view: viewIncident(inc, claims, "")}
	}
	if !s.ackRequests.Allow() {
		return busy()
	}
	return s.acknowledge(ctx, claims)
}

// acknowledge moves the incident to Acknowledged as the link's responder,
// unless it has moved on already (see moveIncident).
func (s *Server) acknowledge(ctx context.Context, c acklink.Claims) ackAnswer {
	inc, moved, a, ok := s.moveIncident(ctx, c, klaxonv1alpha1.StateAcknowledged, awaitsAcknowledgement)
	switch {
	case !ok:
		return a
	case !moved:
		return ackAnswer{code: http.StatusOK, view: viewIncident(inc, c, alreadyMoved(inc)+" Nothing was changed.")}
	}
	s.log.Info("Acknowledged an incident through its link", "incident", klog.KObj(inc), "responder", c.Responder, "episode", c.Episode)
	v := viewIncident(inc, c, "Acknowledged by "+c.Responder+". Escalation stops; the incident is yours.")
	v.Incident.Phase = string(klaxonv1alpha1.StateAcknowledged)
	v.Incident.AcknowledgedBy = c.Responder
	v.CanAcknowledge = false
	return ackAnswer{code: http.StatusOK, view: v}
}

// ackIncident reads the incident the claims name and checks that it is the
// very incident (UID) and episode the link was made for. The cache may lag
// behind a reopen or a recreated incident, so what it cannot confirm is read
// again from the API server before the link is refused.
func (s *Server) ackIncident(ctx context.Context, c acklink.Claims, reader client.Reader) (*klaxonv1alpha1.Incident, ackAnswer, bool) {
	key := client.ObjectKey{Namespace: c.Namespace, Name: c.Name}
	inc := &klaxonv1alpha1.Incident{}
	var err error
	if s.watches(c.Namespace) {
		err = reader.Get(ctx, key, inc)
	} else {
		// Dropped from --watch-namespaces since the link was made: gone.
		err = apierrors.NewNotFound(klaxonv1alpha1.GroupVersion.WithResource("incidents").GroupResource(), c.Name)
		reader = s.apiReader
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, ackUnavailable(fmt.Errorf("reading incident %s: %w", key, err)), false
	}
	if reader != s.apiReader && (err != nil || mismatch(inc, c) != "") {
		if !s.ackRequests.Allow() {
			return nil, busy(), false
		}
		inc = &klaxonv1alpha1.Incident{}
		if err = s.apiReader.Get(ctx, key, inc); err != nil && !apierrors.IsNotFound(err) {
			return nil, ackUnavailable(fmt.Errorf("reading incident %s from the API server: %w", key, err)), false
		}
	}
	if err != nil {
		return nil, gone("This incident no longer exists.", err), false
	}
	if why := mismatch(inc, c); why != "" {
		return nil, gone(why, nil), false
	}
	return inc, ackAnswer{}, true
}

// mismatch says why the incident is not the one, in the episode, the link
// was made for; empty when it is.
func mismatch(inc *klaxonv1alpha1.Incident, c acklink.Claims) string {
	switch {
	case string(inc.UID) != c.UID:
		return "The incident this link was made for no longer exists; another incident has its name now."
	case inc.Status.Episode != c.Episode:
		return "This link is for an earlier episode of the incident: it was reopened since. Use the link of the latest page."
	}
	return ""
}

// alreadyMoved says what became of an incident that is no longer waiting
// for acknowledgement.
func alreadyMoved(inc *klaxonv1alpha1.Incident) string {
	by := inc.Status.AcknowledgedBy
	if by == "" && inc.Spec.State == klaxonv1alpha1.StateAcknowledged {
		// Acknowledged a moment ago; the operator has not recorded it yet.
		by = inc.Annotations[klaxonv1alpha1.ActorAnnotation]
	}
	state := inc.Status.Phase
	if state == klaxonv1alpha1.StateTriggered {
		state = inc.Spec.State
	}
	msg := "This incident is already " + string(state) + "."
	if state == klaxonv1alpha1.StateAcknowledged {
		msg = "This incident is already acknowledged."
	}
	if by != "" {
		msg += " It was acknowledged by " + by + "."
	}
	return msg
}

// awaitsAcknowledgement reports whether the link's button acknowledges:
// the operator accepted Triggered and nobody asked for another state since.
func awaitsAcknowledgement(inc *klaxonv1alpha1.Incident) bool {
	return inc.Status.Phase == klaxonv1alpha1.StateTriggered && inc.Spec.State == klaxonv1alpha1.StateTriggered
}

// verifyFailure answers a token that did not verify.
func verifyFailure(err error) ackAnswer {
	switch {
	case errors.Is(err, acklink.ErrExpired):
		return gone("This link has expired. Acknowledge from the incident itself, or from a newer page.", err)
	case errors.Is(err, acklink.ErrBadSignature):
		return failure(http.StatusForbidden, "Invalid link", "This link is not valid: it was not made by this Klaxon, or it was altered. Copy the whole link from the page.", err)
	}
	return failure(http.StatusBadRequest, "Invalid link", "This link is malformed: it may have been cut short. Copy the whole link from the page.", err)
}

func gone(msg string, cause error) ackAnswer {
	return failure(http.StatusGone, "Link no longer valid", msg, cause)
}

func busy() ackAnswer {
	a := failure(http.StatusTooManyRequests, "Busy", "Klaxon is answering many links right now. Try again in a few seconds.", nil)
	a.retryAfter = 5
	return a
}

func ackUnavailable(err error) ackAnswer {
	a := failure(http.StatusServiceUnavailable, "Try again", "Klaxon could not reach the Kubernetes API server. Nothing was changed; try again in a moment.", err)
	a.retryAfter = 5
	return a
}

func failure(code int, heading, msg string, cause error) ackAnswer {
	return ackAnswer{code: code, view: ackView{Heading: heading, Message: msg}, cause: cause}
}

// clientIP is the address the request came from. Forwarded headers are not
// trusted: anyone could set them to dodge the limit.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientLimiter limits events per client. When it remembers maxAckClients
// it forgets them all: a safety net against memory use, at the price of a
// fresh allowance for everyone.
type clientLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

func newClientLimiter(perSecond float64, burst int) *clientLimiter {
	return &clientLimiter{limit: rate.Limit(perSecond), burst: burst, clients: map[string]*rate.Limiter{}}
}

// allows reports whether the client has allowance left, without using any.
func (l *clientLimiter) allows(client string) bool {
	l.mu.Lock()
	lim, ok := l.clients[client]
	l.mu.Unlock()
	return !ok || lim.Tokens() >= 1
}

// fail uses one of the client's allowance.
func (l *clientLimiter) fail(client string) {
	l.mu.Lock()
	lim, ok := l.clients[client]
	if !ok {
		if len(l.clients) >= maxAckClients {
			clear(l.clients)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.clients[client] = lim
	}
	l.mu.Unlock()
	lim.Allow()
}

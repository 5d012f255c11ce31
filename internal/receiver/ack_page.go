package receiver

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"k8s.io/klog/v2"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
)

// maxAckBodyBytes bounds a POST body: the form sends none.
const maxAckBodyBytes = 1 << 10

// ackPages serves GET (and HEAD) /ack/{token} with the incident and, while
// it is Triggered, a button; the button POSTs to the same URL, which
// acknowledges. GET never writes: mail scanners and chat unfurlers fetch
// links nobody clicked. The token is a signed acknowledge link
// (internal/acklink); its limits are those of every move a responder makes
// (incident_move.go).
type ackPages struct {
	*Server
}

// ServeHTTP answers with the page, kept out of caches, Referer headers and
// other sites' frames.
func (ap *ackPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := ap.respond(w, r)
	h := w.Header()
	if bareAcknowledge(r) {
		ap.answerPlain(w, p)
		return
	}
	pageHeaders(h, p)
	w.WriteHeader(p.code)
	if err := ackTemplate.Execute(w, p.view); err != nil {
		ap.log.V(1).Info("Writing an acknowledge page", "error", err)
	}
	if p.code >= http.StatusInternalServerError {
		ap.log.Error(p.cause, "Answered an acknowledge link with an error", "code", p.code)
	} else {
		ap.log.V(1).Info("Answered an acknowledge link", "method", r.Method, "code", p.code, "error", p.cause)
	}
}

// pageHeaders are the headers of an acknowledge page answering p.
func pageHeaders(h http.Header, p ackAnswer) {
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
}

// bareAcknowledge reports whether the request is a push app's action
// rather than a browser's: ntfy's http action POSTs the link with no form
// and does not ask for HTML. It is answered with one line of text.
func bareAcknowledge(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/x-www-form-urlencoded" || mediaType == "multipart/form-data" {
		return false
	}
	for _, accept := range r.Header.Values("Accept") {
		if strings.Contains(strings.ToLower(accept), "text/html") {
			return false
		}
	}
	return true
}

// answerPlain answers a bare acknowledge with the outcome as one line.
func (ap *ackPages) answerPlain(w http.ResponseWriter, p ackAnswer) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// ntfy's web app runs the action with fetch() from its own origin; the
	// POST acknowledges either way, but without this the app shows the
	// press as failed. The answer tells only what the link's holder may
	// learn anyway.
	h.Set("Access-Control-Allow-Origin", "*")
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	line := p.text
	if line == "" {
		line = p.view.Message
	}
	writeText(w, p.code, line)
	if p.code >= http.StatusInternalServerError {
		ap.log.Error(p.cause, "Answered an acknowledge action with an error", "code", p.code)
	} else {
		ap.log.V(1).Info("Answered an acknowledge action", "code", p.code, "outcome", line, "error", p.cause)
	}
}

// ackAnswer is the page answering one request.
type ackAnswer struct {
	code int
	view ackView
	// text is the outcome in one line, for a bare acknowledge; empty means
	// the view's message.
	text string
	// retryAfter, in seconds, is sent with 429 and 503.
	retryAfter int
	// cause is logged, never shown.
	cause error
}

// respond checks the link and, for a POST, acknowledges.
func (ap *ackPages) respond(w http.ResponseWriter, r *http.Request) ackAnswer {
	post := r.Method == http.MethodPost
	switch {
	case post:
		if _, _, err := readBody(w, r, maxAckBodyBytes); err != nil {
			return failure(http.StatusRequestEntityTooLarge, "Request too large", "The form sends no data; this request carried more than it may.", err)
		}
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		return failure(http.StatusMethodNotAllowed, "Method not allowed", "Open the link in a browser, then press the button to acknowledge.", nil)
	}
	signer, ok := ap.opts.AckKeys.Signer()
	if !ok {
		a := failure(http.StatusServiceUnavailable, "Not ready", "Klaxon is starting and cannot check links yet. Try again in a moment.", errors.New("the acknowledge link key is not loaded yet"))
		a.retryAfter = 5
		return a
	}
	claims, err := signer.Verify(r.PathValue("token"), ap.clock.Now())
	if err != nil {
		// Nothing is looked up for a token that failed: its answer says
		// nothing about whether an incident exists. Only failures count
		// against an address (a checked HMAC costs next to nothing), so
		// people behind the same proxy as a prober keep their good links.
		ip := ap.clientIP(r)
		if !ap.verifyFailures.allows(ip) {
			a := failure(http.StatusTooManyRequests, "Too many invalid links", "Too many links from your address failed to verify. Wait a minute and open the link from the page again.", nil)
			a.retryAfter = 60
			return a
		}
		ap.verifyFailures.take(ip)
		return verifyFailure(err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), ap.opts.APITimeout)
	defer cancel()
	ip := ap.clientIP(r)
	inc, a, ok := ap.claimedIncident(ctx, claims, ip, ap.client)
	if !ok {
		return a
	}
	if !awaitsAcknowledgement(inc) {
		// A replayed link of an incident that moved on costs a cache read,
		// never the shared budget of writes.
		return ackAnswer{code: http.StatusOK, view: viewIncident(inc, claims, alreadyMoved(inc)), text: alreadyMovedLine(inc)}
	}
	if !post {
		return ackAnswer{code: http.StatusOK, view: viewIncident(inc, claims, "")}
	}
	if !ap.moveRequests.Allow() {
		return busy()
	}
	return ap.acknowledge(ctx, claims, ip)
}

// acknowledge moves the incident to Acknowledged as the link's responder,
// unless it has moved on already (see moveIncident).
func (ap *ackPages) acknowledge(ctx context.Context, c acklink.Claims, from string) ackAnswer {
	inc, moved, a, ok := ap.moveIncident(ctx, c, from, klaxonv1alpha1.StateAcknowledged, awaitsAcknowledgement)
	switch {
	case !ok:
		return a
	case !moved:
		return ackAnswer{code: http.StatusOK, view: viewIncident(inc, c, alreadyMoved(inc)+" Nothing was changed."), text: alreadyMovedLine(inc)}
	}
	ap.log.Info("Acknowledged an incident through its link", "incident", klog.KObj(inc), "responder", c.Responder, "episode", c.Episode)
	v := viewIncident(inc, c, "Acknowledged by "+c.Responder+". Escalation stops; the incident is yours.")
	v.Incident.Phase = string(klaxonv1alpha1.StateAcknowledged)
	v.Incident.AcknowledgedBy = c.Responder
	v.CanAcknowledge = false
	return ackAnswer{code: http.StatusOK, view: v, text: "Acknowledged by " + c.Responder + "."}
}

// alreadyMovedLine is alreadyMoved in one line, for a bare acknowledge.
func alreadyMovedLine(inc *klaxonv1alpha1.Incident) string {
	if by := acknowledger(inc); by != "" && (inc.Spec.State == klaxonv1alpha1.StateAcknowledged || inc.Status.Phase == klaxonv1alpha1.StateAcknowledged) {
		return "Already acknowledged by " + by + "; nothing was changed."
	}
	return alreadyMoved(inc) + " Nothing was changed."
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

// tooManyStale answers a client that sent too many links no longer valid.
func tooManyStale() ackAnswer {
	a := failure(http.StatusTooManyRequests, "Too many invalid links", "Too many links from your address are no longer valid. Wait a minute and open the link from the latest page.", nil)
	a.retryAfter = 60
	return a
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

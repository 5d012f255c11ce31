package receiver

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
)

// maxBundleIncidents bounds the incidents one acknowledge-all link acts
// on: a bundle names fewer, and a POST must end within a request's time.
const maxBundleIncidents = 500

// ackAllTimeouts bounds one acknowledge-all POST, in API timeouts;
// incidents not reached by then are reported, and a retry takes them up.
const ackAllTimeouts = 3

// ackAllPages serves GET (and HEAD) /ack-all/{token}, the link of a bundled
// message (internal/notify, Bundle): the incidents of the namespace that
// record the bundle as sent to the token's responder in their current
// episode, and a button that POSTs to the same URL and acknowledges each
// that still waits, as that responder, exactly as its own link would. GET
// never writes. Its limits are the acknowledge pages': a failed token
// counts against the client, and a POST takes one of the shared moves.
type ackAllPages struct {
	*Server
}

// ackAllAnswer is an acknowledge page's answer with, once the token
// verified, the bundle's incidents.
type ackAllAnswer struct {
	ackAnswer
	bundle *bundleView
}

// bundleView is what an acknowledge-all page shows.
type bundleView struct {
	Heading, Message string
	Responder        string
	Incidents        []bundleIncidentView
	CanAcknowledge   bool
}

type bundleIncidentView struct {
	Namespace, Name, Title, Severity, Phase string
	// Outcome is what a POST did to it, empty for a GET.
	Outcome string
}

func (ap *ackAllPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := ap.respond(w, r)
	if bareAcknowledge(r) {
		(&ackPages{Server: ap.Server}).answerPlain(w, p.ackAnswer)
		return
	}
	pageHeaders(w.Header(), p.ackAnswer)
	w.WriteHeader(p.code)
	var err error
	if p.bundle != nil {
		err = bundleTemplate.Execute(w, p.bundle)
	} else {
		err = ackTemplate.Execute(w, p.view)
	}
	if err != nil {
		ap.log.V(1).Info("Writing an acknowledge-all page", "error", err)
	}
	if p.code >= http.StatusInternalServerError {
		ap.log.Error(p.cause, "Answered an acknowledge-all link with an error", "code", p.code)
	} else {
		ap.log.V(1).Info("Answered an acknowledge-all link", "method", r.Method, "code", p.code, "error", p.cause)
	}
}

// respond checks the link, lists the bundle's incidents and, for a POST,
// acknowledges them.
func (ap *ackAllPages) respond(w http.ResponseWriter, r *http.Request) ackAllAnswer {
	plain := func(a ackAnswer) ackAllAnswer { return ackAllAnswer{ackAnswer: a} }
	post := r.Method == http.MethodPost
	switch {
	case post:
		if _, _, err := readBody(w, r, maxAckBodyBytes); err != nil {
			return plain(failure(http.StatusRequestEntityTooLarge, "Request too large", "The form sends no data; this request carried more than it may.", err))
		}
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		return plain(failure(http.StatusMethodNotAllowed, "Method not allowed", "Open the link in a browser, then press the button to acknowledge.", nil))
	}
	signer, ok := ap.opts.AckKeys.Signer()
	if !ok {
		a := failure(http.StatusServiceUnavailable, "Not ready", "Klaxon is starting and cannot check links yet. Try again in a moment.", errors.New("the acknowledge link key is not loaded yet"))
		a.retryAfter = 5
		return plain(a)
	}
	ip := ap.clientIP(r)
	claims, err := signer.VerifyBundle(r.PathValue("token"), ap.clock.Now())
	if err != nil {
		// As for /ack: nothing is looked up for a token that failed, and
		// only failures count against the address.
		if !ap.verifyFailures.allows(ip) {
			a := failure(http.StatusTooManyRequests, "Too many invalid links", "Too many links from your address failed to verify. Wait a minute and open the link from the page again.", nil)
			a.retryAfter = 60
			return plain(a)
		}
		ap.verifyFailures.take(ip)
		return plain(verifyFailure(err))
	}
	if !ap.watches(claims.Namespace) {
		return plain(gone("These incidents are no longer watched by Klaxon.", nil))
	}
	ctx, cancel := context.WithTimeout(r.Context(), ap.opts.APITimeout)
	defer cancel()
	incs, err := ap.bundled(ctx, claims)
	switch {
	case err != nil:
		return plain(ackUnavailable(err))
	case len(incs) == 0:
		// The operator records the bundle on each incident a moment after
		// sending it.
		a := failure(http.StatusNotFound, "Not found yet", "No incident records this message yet. Try again in a minute.", nil)
		a.retryAfter = 60
		return plain(a)
	case len(incs) > maxBundleIncidents:
		return plain(failure(http.StatusUnprocessableEntity, "Too many incidents",
			fmt.Sprintf("This message names %d incidents, more than the %d one link acknowledges. Acknowledge them with kubectl klaxon.", len(incs), maxBundleIncidents), nil))
	}
	waiting := 0
	for i := range incs {
		if awaitsAcknowledgement(&incs[i]) {
			waiting++
		}
	}
	if !post || waiting == 0 {
		v := viewBundle(incs, claims)
		a := ackAllAnswer{ackAnswer: ackAnswer{code: http.StatusOK}, bundle: v}
		if waiting == 0 {
			v.Message = "All " + countIncidents(len(incs)) + " are acknowledged or resolved already."
			a.text = v.Message + " Nothing was changed."
		}
		return a
	}
	// One press is one move, however many incidents it acknowledges: the
	// bound on those is maxBundleIncidents.
	if !ap.moveRequests.Allow() {
		return plain(busy())
	}
	return ap.acknowledgeAll(r.Context(), incs, claims, ip)
}

// bundled lists, from the cache, the incidents of the claims' namespace
// that record the bundle as sent to the claims' responder in their
// current episode.
func (ap *ackAllPages) bundled(ctx context.Context, c acklink.BundleClaims) ([]klaxonv1alpha1.Incident, error) {
	var list klaxonv1alpha1.IncidentList
	if err := ap.client.List(ctx, &list, client.InNamespace(c.Namespace)); err != nil {
		return nil, fmt.Errorf("listing the incidents of namespace %s: %w", c.Namespace, err)
	}
	var incs []klaxonv1alpha1.Incident
	for _, inc := range list.Items {
		if inBundle(&inc, c) {
			incs = append(incs, inc)
		}
	}
	return incs, nil
}

// inBundle reports whether the incident records the bundle as sent to the
// claims' responder in its current episode: a bundle of an earlier
// episode does not acknowledge a reopened incident.
func inBundle(inc *klaxonv1alpha1.Incident, c acklink.BundleClaims) bool {
	for _, n := range inc.Status.Notifications {
		if n.Bundle == c.Bundle && n.Responder == c.Responder && n.Episode == inc.Status.Episode && inc.Status.Episode > 0 {
			return true
		}
	}
	return false
}

// acknowledgeAll acknowledges each incident that waits for it, as a POST
// to its own link does (moveIncident), and answers with what became of
// each: 200 when every one is acknowledged (now or before), 503 when a
// write failed for a reason a retry may fix.
func (ap *ackAllPages) acknowledgeAll(ctx context.Context, incs []klaxonv1alpha1.Incident, c acklink.BundleClaims, from string) ackAllAnswer {
	ctx, cancel := context.WithTimeout(ctx, ackAllTimeouts*ap.opts.APITimeout)
	defer cancel()
	v := viewBundle(incs, c)
	v.CanAcknowledge = false
	acked, failed, retry := 0, 0, false
	var cause error
	for i := range incs {
		inc := &incs[i]
		if !awaitsAcknowledgement(inc) {
			v.Incidents[i].Outcome = alreadyMovedLine(inc)
			continue
		}
		claims := acklink.Claims{Namespace: inc.Namespace, Name: inc.Name, UID: string(inc.UID), Episode: inc.Status.Episode,
			Responder: c.Responder, Expires: c.Expires}
		one, cancelOne := context.WithTimeout(ctx, ap.opts.APITimeout)
		read, moved, a, ok := ap.moveIncident(one, claims, from, klaxonv1alpha1.StateAcknowledged, awaitsAcknowledgement)
		cancelOne()
		switch {
		case !ok:
			failed++
			v.Incidents[i].Outcome = "Not acknowledged: " + a.view.Message
			if a.code >= http.StatusInternalServerError || a.code == http.StatusTooManyRequests {
				retry = true
				cause = errors.Join(cause, a.cause)
			}
		case !moved:
			v.Incidents[i].Outcome = alreadyMovedLine(read)
		default:
			acked++
			v.Incidents[i].Phase = string(klaxonv1alpha1.StateAcknowledged)
			v.Incidents[i].Outcome = "Acknowledged by " + c.Responder + "."
		}
	}
	ap.log.Info("Acknowledged incidents through a bundle's link", "namespace", c.Namespace, "bundle", c.Bundle,
		"responder", c.Responder, "acknowledged", acked, "failed", failed)
	line := "Acknowledged " + countIncidents(acked) + " as " + c.Responder + "."
	if others := len(incs) - acked - failed; others > 0 {
		line += " " + countIncidents(others) + " had been acknowledged or resolved already."
	}
	a := ackAllAnswer{ackAnswer: ackAnswer{code: http.StatusOK}, bundle: v}
	if failed > 0 {
		line += " " + countIncidents(failed) + " could not be acknowledged"
		if retry {
			line += "; try again in a moment."
			a.code, a.retryAfter, a.cause = http.StatusServiceUnavailable, 5, cause
		} else {
			line += "; see below."
		}
	}
	v.Message, a.text = line, line
	return a
}

// viewBundle lists the incidents as read.
func viewBundle(incs []klaxonv1alpha1.Incident, c acklink.BundleClaims) *bundleView {
	v := &bundleView{Heading: countIncidents(len(incs)) + " for " + c.Responder, Responder: c.Responder}
	for i := range incs {
		inc := &incs[i]
		phase := inc.Status.Phase
		if phase == "" {
			phase = klaxonv1alpha1.StateTriggered
		}
		v.Incidents = append(v.Incidents, bundleIncidentView{Namespace: inc.Namespace, Name: inc.Name,
			Title: inc.Spec.Title, Severity: string(inc.Spec.Severity), Phase: string(phase)})
		if awaitsAcknowledgement(inc) {
			v.CanAcknowledge = true
		}
	}
	return v
}

// countIncidents is "1 incident" or "N incidents".
func countIncidents(n int) string {
	if n == 1 {
		return "1 incident"
	}
	return strconv.Itoa(n) + " incidents"
}

// bundleTemplate renders an acknowledge-all page in the acknowledge
// pages' frame; html/template escapes all that comes from the incidents.
var bundleTemplate = template.Must(template.New("ack-all").Parse(ackPageHead + `<h1>{{.Heading}}</h1>
{{with .Message}}<p class="message">{{.}}</p>{{end}}
<ul class="incidents">
{{range .Incidents}}<li><span class="{{.Severity}}">{{.Severity}}</span> {{.Title}} <small>({{.Namespace}}/{{.Name}}, {{.Phase}})</small>{{with .Outcome}}<br><em>{{.}}</em>{{end}}</li>
{{end}}</ul>
{{if .CanAcknowledge}}<form method="post">
<button type="submit">Acknowledge all as {{.Responder}}</button>
</form>{{end}}
` + ackPageFoot))

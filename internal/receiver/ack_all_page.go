package receiver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
)

// maxListedIncidents bounds the incidents an acknowledge-all page lists: a
// storm's bundle can name thousands, and the page says how many more.
const maxListedIncidents = 500

// A POST acknowledges for at most ackAllTimeouts API timeouts, and never
// longer than maxAckAllBudget, so its answer is written before the
// server's write timeout (APITimeout + 30 s, server.go). Writes start
// until one ackAllTimeouts-th of the budget is left, for those under way
// to end; the incidents not reached are left to the next press.
const (
	ackAllTimeouts  = 3
	maxAckAllBudget = 30 * time.Second
	// ackAllWriters is how many incidents a press acknowledges at once:
	// one at a time, a storm's bundle would take many presses.
	ackAllWriters = 8
	// ackAllRetryAfter, in seconds, is when to press again for the rest.
	ackAllRetryAfter = 1
)

// ackAllPages serves GET (and HEAD) /ack-all/{token}, the link of a bundled
// message (internal/notify, Bundle): the incidents of the namespace that
// record the bundle as sent to the token's responder in their current
// episode, and a button that POSTs to the same URL and acknowledges each
// that still waits, as that responder, exactly as its own link would. GET
// never writes. Its limits are the acknowledge pages': a failed token
// counts against the client, and every request with a valid one takes one
// of the shared moves, since it scans the namespace's incidents.
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
	// Incidents are the first maxListedIncidents; More counts the rest.
	Incidents      []bundleIncidentView
	More           string
	CanAcknowledge bool
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
	if p.code >= http.StatusInternalServerError && p.cause != nil {
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
	// Each request scans the namespace's incidents, and a POST writes as
	// many as it can in its budget: one request, whatever its method, is
	// one move.
	if !ap.moveRequests.Allow() {
		return plain(busy())
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
	}
	waiting := 0
	for _, inc := range incs {
		if awaitsAcknowledgement(inc) {
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
	return ap.acknowledgeAll(r.Context(), incs, claims, ip)
}

// bundled lists, from the cache, the incidents of the claims' namespace
// that record the bundle as sent to the claims' responder in their
// current episode, in the order they were paged, then by name. The
// incidents are the cache's own, not copies: a storm's namespace holds
// thousands, and each request would copy them all. They must not be
// changed.
func (ap *ackAllPages) bundled(ctx context.Context, c acklink.BundleClaims) ([]*klaxonv1alpha1.Incident, error) {
	var list klaxonv1alpha1.IncidentList
	if err := ap.client.List(ctx, &list, client.InNamespace(c.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing the incidents of namespace %s: %w", c.Namespace, err)
	}
	type paged struct {
		inc *klaxonv1alpha1.Incident
		at  time.Time
	}
	var found []paged
	for i := range list.Items {
		if at, ok := bundledAt(&list.Items[i], c); ok {
			found = append(found, paged{&list.Items[i], at})
		}
	}
	// A stable order: a press that runs out of time leaves the last ones,
	// and the next press finds the first ones done.
	slices.SortFunc(found, func(a, b paged) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.inc.Name, b.inc.Name))
	})
	incs := make([]*klaxonv1alpha1.Incident, len(found))
	for i, p := range found {
		incs[i] = p.inc
	}
	return incs, nil
}

// bundledAt reports whether the incident records the bundle as sent to
// the claims' responder in its current episode, and when that page was
// due: a bundle of an earlier episode does not acknowledge a reopened
// incident.
func bundledAt(inc *klaxonv1alpha1.Incident, c acklink.BundleClaims) (time.Time, bool) {
	for _, n := range inc.Status.Notifications {
		if n.Bundle == c.Bundle && n.Responder == c.Responder && n.Episode == inc.Status.Episode && inc.Status.Episode > 0 {
			return n.DueAt.Time, true
		}
	}
	return time.Time{}, false
}

// ackOutcome is what a press did to one incident.
type ackOutcome int

const (
	// notReached: the press's budget ended first.
	notReached ackOutcome = iota
	acknowledged
	movedBefore
	notAcknowledged
)

// ackResult is what a press did to one incident, and the line to show.
type ackResult struct {
	outcome ackOutcome
	line    string
	// retry says a retry may acknowledge it; stale that the incident is
	// gone or in another episode.
	retry, stale bool
	cause        error
}

// acknowledgeAll acknowledges, in the bundle's order, each incident that
// waits for it, as a POST to its own link does (moveIncident), several at
// a time and for as long as its budget lasts. It answers 200 when every
// one is acknowledged (now or before), and 503 with Retry-After when some
// remain that a retry may acknowledge: those not reached, and those a
// write failed for.
func (ap *ackAllPages) acknowledgeAll(ctx context.Context, incs []*klaxonv1alpha1.Incident, c acklink.BundleClaims, from string) ackAllAnswer {
	budget := min(ackAllTimeouts*ap.opts.APITimeout, maxAckAllBudget)
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	starting, stopStarting := context.WithTimeout(ctx, budget-budget/ackAllTimeouts)
	defer stopStarting()

	// One press counts at most one stale link against the client, however
	// many of the bundle's incidents are gone or reopened: they are the
	// storm's, not the client's guesses. A client refused too many
	// already is treated as on /ack: no reads of what the cache cannot
	// confirm, and nothing more counted.
	counter := uncounted
	if !ap.verifyFailures.allows(from) {
		counter = from
	}
	results := make([]ackResult, len(incs))
	var next atomic.Int64
	var writers sync.WaitGroup
	for range min(ackAllWriters, len(incs)) {
		writers.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(incs) || starting.Err() != nil {
					return
				}
				results[i] = ap.acknowledgeOne(ctx, incs[i], c, counter)
			}
		})
	}
	writers.Wait()

	var counts [notAcknowledged + 1]int
	retry, stale := false, false
	var cause error
	for _, r := range results {
		counts[r.outcome]++
		retry = retry || r.retry
		stale = stale || r.stale
		if r.retry && cause == nil {
			// The first stands for all: a storm's press may fail
			// thousands alike, and the log counts them.
			cause = r.cause
		}
	}
	if stale && counter == uncounted {
		ap.verifyFailures.take(from)
	}
	acked, failed, left := counts[acknowledged], counts[notAcknowledged], counts[notReached]
	ap.log.Info("Acknowledged incidents through a bundle's link", "namespace", c.Namespace, "bundle", c.Bundle,
		"responder", c.Responder, "acknowledged", acked, "failed", failed, "notReached", left)

	v := viewBundle(incs, c)
	for i := range v.Incidents {
		v.Incidents[i].Outcome = results[i].line
		switch results[i].outcome {
		case notReached:
			v.Incidents[i].Outcome = "Not reached yet; press again."
		case acknowledged:
			v.Incidents[i].Phase = string(klaxonv1alpha1.StateAcknowledged)
		}
	}
	line := "Acknowledged " + countIncidents(acked) + " as " + c.Responder + "."
	if left > 0 {
		line = "Acknowledged " + formatCount(acked) + " of " + countIncidents(acked+failed+left) + " as " + c.Responder +
			"; press again to acknowledge the rest."
	}
	if others := counts[movedBefore]; others > 0 {
		line += " " + countIncidents(others) + " had been acknowledged or resolved already."
	}
	a := ackAllAnswer{ackAnswer: ackAnswer{code: http.StatusOK}, bundle: v}
	if failed > 0 {
		line += " " + countIncidents(failed) + " could not be acknowledged"
		if retry {
			line += "; try again in a moment."
		} else {
			line += "; see below."
		}
	}
	if left > 0 || retry {
		a.code, a.retryAfter, a.cause = http.StatusServiceUnavailable, 5, cause
		if left > 0 {
			a.retryAfter = ackAllRetryAfter
		}
	}
	// The button stays while a press may still acknowledge some.
	v.CanAcknowledge = a.code != http.StatusOK
	v.Message, a.text = line, line
	return a
}

// acknowledgeOne acknowledges one incident of the bundle as its own link
// would, if it waits for it; from is whom stale links count against.
func (ap *ackAllPages) acknowledgeOne(ctx context.Context, inc *klaxonv1alpha1.Incident, c acklink.BundleClaims, from string) ackResult {
	if !awaitsAcknowledgement(inc) {
		return ackResult{outcome: movedBefore, line: alreadyMovedLine(inc)}
	}
	claims := acklink.Claims{Namespace: inc.Namespace, Name: inc.Name, UID: string(inc.UID), Episode: inc.Status.Episode,
		Responder: c.Responder, Expires: c.Expires}
	one, cancel := context.WithTimeout(ctx, ap.opts.APITimeout)
	defer cancel()
	read, moved, a, ok := ap.moveIncident(one, claims, from, klaxonv1alpha1.StateAcknowledged, awaitsAcknowledgement)
	switch {
	case !ok && ctx.Err() != nil:
		// The press's budget ended during the write: the next press
		// finds out whether it was made.
		return ackResult{outcome: notReached}
	case !ok:
		return ackResult{outcome: notAcknowledged, line: "Not acknowledged: " + a.view.Message,
			retry: a.code >= http.StatusInternalServerError || a.code == http.StatusTooManyRequests,
			stale: a.code == http.StatusGone, cause: a.cause}
	case !moved:
		return ackResult{outcome: movedBefore, line: alreadyMovedLine(read)}
	}
	return ackResult{outcome: acknowledged, line: "Acknowledged by " + c.Responder + "."}
}

// viewBundle lists the first maxListedIncidents incidents as read, and
// counts the rest.
func viewBundle(incs []*klaxonv1alpha1.Incident, c acklink.BundleClaims) *bundleView {
	v := &bundleView{Heading: countIncidents(len(incs)) + " for " + c.Responder, Responder: c.Responder}
	for i, inc := range incs {
		if awaitsAcknowledgement(inc) {
			v.CanAcknowledge = true
		}
		if i >= maxListedIncidents {
			continue
		}
		phase := inc.Status.Phase
		if phase == "" {
			phase = klaxonv1alpha1.StateTriggered
		}
		v.Incidents = append(v.Incidents, bundleIncidentView{Namespace: inc.Namespace, Name: inc.Name,
			Title: inc.Spec.Title, Severity: string(inc.Spec.Severity), Phase: string(phase)})
	}
	if more := len(incs) - len(v.Incidents); more > 0 {
		v.More = "and " + formatCount(more) + " more"
	}
	return v
}

// countIncidents is "1 incident" or "N incidents".
func countIncidents(n int) string {
	if n == 1 {
		return "1 incident"
	}
	return formatCount(n) + " incidents"
}

// formatCount writes a count with thousands separators, as people read
// them: 16,000.
func formatCount(n int) string {
	s := strconv.Itoa(n)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// bundleTemplate renders an acknowledge-all page in the acknowledge
// pages' frame; html/template escapes all that comes from the incidents.
var bundleTemplate = template.Must(template.New("ack-all").Parse(ackPageHead + `<h1>{{.Heading}}</h1>
{{with .Message}}<p class="message">{{.}}</p>{{end}}
<ul class="incidents">
{{range .Incidents}}<li><span class="{{.Severity}}">{{.Severity}}</span> {{.Title}} <small>({{.Namespace}}/{{.Name}}, {{.Phase}})</small>{{with .Outcome}}<br><em>{{.}}</em>{{end}}</li>
{{end}}{{with .More}}<li>{{.}}</li>
{{end}}</ul>
{{if .CanAcknowledge}}<form method="post">
<button type="submit">Acknowledge all as {{.Responder}}</button>
</form>{{end}}
` + ackPageFoot))

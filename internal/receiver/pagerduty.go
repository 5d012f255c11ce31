package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/intake/pagerduty"
	"github.com/klaxon-dev/klaxon/internal/metrics"
)

// pagerDutyIntake serves the PagerDuty Events API v2 under
// /pagerduty/{namespace}/{route}/v2/: alert events (enqueue) written to the
// group their dedup_key names, and change events (change/enqueue) noted on
// the route's open incidents. The event's routing_key is the route's token.
// It answers as PagerDuty does (internal/intake/pagerduty), with the codes
// PagerDuty documents (202, 400, 429, 5xx), so senders retry what PagerDuty
// would have them retry and nothing else.
type pagerDutyIntake struct {
	*Server
}

// The paths under /pagerduty/{namespace}/{route}/v2/.
const (
	pagerDutyEnqueue       = "enqueue"
	pagerDutyChangeEnqueue = "change/enqueue"
)

// ServeHTTP answers one event, counts it in the receiver's metrics and
// logs it.
func (pd *pagerDutyIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := pd.clock.Now()
	ns, name := r.PathValue("namespace"), r.PathValue("route")
	a, body := pd.handle(w, r, ns, name)
	if a.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.code)
	_, _ = w.Write(body.Body())
	pd.observe(alertmapping.IntakePagerDuty, a, ns, name, start)
}

// handle reads, authenticates and applies one event. The routing_key is in
// the body, so the body is read and checked before the route is looked up:
// an invalid event is refused as PagerDuty refuses it, whoever sent it.
func (pd *pagerDutyIntake) handle(w http.ResponseWriter, r *http.Request, ns, name string) (answer, pagerduty.Response) {
	path := r.PathValue("path")
	switch {
	case path != pagerDutyEnqueue && path != pagerDutyChangeEnqueue:
		msg := fmt.Sprintf("no such endpoint: PagerDuty's Events API v2 is POST /pagerduty/%s/%s/v2/enqueue, and v2/change/enqueue for change events", ns, name)
		return answer{code: http.StatusNotFound, message: msg}, pagerduty.Failure(http.StatusNotFound, msg)
	case r.Method != http.MethodPost:
		msg := fmt.Sprintf("method %s is not allowed: events are POSTed", r.Method)
		return answer{code: http.StatusMethodNotAllowed, message: msg}, pagerduty.Failure(http.StatusMethodNotAllowed, msg)
	}
	ctx, cancel := context.WithTimeout(r.Context(), pd.opts.APITimeout)
	defer cancel()

	body, release, a, ok := pd.readIntakeBody(ctx, pagerDutySender, w, r)
	if !ok {
		if a.code == http.StatusRequestEntityTooLarge {
			a.message = fmt.Sprintf("Event is over %d bytes, the most the receiver reads (--receiver-max-body-bytes), and PagerDuty's limit is %d bytes (512 KB): send smaller custom_details",
				pd.opts.MaxBodyBytes, pagerduty.MaxEventBytes)
		}
		return pagerDutyFailure(a, a.code == http.StatusServiceUnavailable)
	}
	var (
		event    *pagerduty.Event
		change   *pagerduty.ChangeEvent
		parseErr *pagerduty.EventError
		key      string
	)
	if path == pagerDutyChangeEnqueue {
		change, parseErr = pagerduty.ParseChangeEvent(body)
		if change != nil {
			key = change.RoutingKey
		}
	} else {
		event, parseErr = pagerduty.ParseEvent(body, pagerduty.NewDedupKey)
		if event != nil {
			key = event.RoutingKey
		}
	}
	release()
	if parseErr != nil {
		return answer{code: http.StatusBadRequest, message: parseErr.Error()}, parseErr.Response
	}

	ar, route, a, ok := pd.authorizeRoute(ctx, pagerDutySender, ns, name, []byte(key), true)
	if !ok {
		if a.outage && event != nil {
			pd.tellFallback(ctx, ar, route, event.Notification(route.SeverityLabel()), a)
		}
		return pagerDutyFailure(a, errors.Is(a.cause, errBusy))
	}
	if change != nil {
		var noted int
		noted, a = pd.noteRoute(ctx, ar, change.Notification())
		a = forRoute(ar, a)
		if a.code >= 300 {
			return pagerDutyFailure(a, false)
		}
		if noted == 0 {
			metrics.ReceiverChangeEvents.WithLabelValues(ns, name).Inc()
			pd.recordIntake(ctx, ar, alertmapping.IntakePagerDuty, "")
			a.message = "No open incident to note the change event on; counted it"
		}
		a.code = http.StatusAccepted
		return a, pagerduty.ChangeAccepted()
	}

	n := event.Notification(route.SeverityLabel())
	if a = pd.deliver(ctx, ar, route, n); a.code >= 300 {
		pd.tellFallback(ctx, ar, route, n, a)
		return pagerDutyFailure(a, false)
	}
	a.code = http.StatusAccepted
	return a, pagerduty.Accepted(event.DedupKey)
}

// pagerDutyFailure answers a refusal with the codes PagerDuty documents:
// 429 when the receiver is busy and 5xx as they are (the sender retries
// both), and 400 for any other refusal (a wrong routing_key, a route that
// does not exist, a body over the limit), which PagerDuty answers with 400
// and senders do not retry. The metrics and log see the code answered.
func pagerDutyFailure(a answer, busy bool) (answer, pagerduty.Response) {
	switch {
	case busy:
		a.code = http.StatusTooManyRequests
		return a, pagerduty.Failure(a.code, "the receiver is busy; retry later")
	case a.code >= 500:
		return a, pagerduty.Failure(a.code, a.message)
	}
	a.code = http.StatusBadRequest
	return a, pagerduty.Invalid(a.message)
}

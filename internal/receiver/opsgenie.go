package receiver

import (
	"context"
	"net/http"
	"strings"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/intake/opsgenie"
)

// opsgenieIntake serves the Opsgenie Alert API v2 under
// /opsgenie/{namespace}/{route}/ (internal/intake/opsgenie): creates,
// closes, acknowledgements, notes and updates of an alert, whose alias
// names the group, authenticated by "Authorization: GenieKey <token>" and
// answered in Opsgenie's shapes once written. Alertmanager's opsgenie
// notifier retries 429 and 5xx only, so what the receiver cannot do now
// (the API server, a route that is not ready) stays a 503.
type opsgenieIntake struct {
	*Server
}

// ServeHTTP answers one request, counts it and logs it.
func (og *opsgenieIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := og.clock.Now()
	ns, name := r.PathValue("namespace"), r.PathValue("route")
	a, refusal := og.handle(w, r, ns, name)

	requestID := opsgenie.NewRequestID()
	var body []byte
	if a.code < 300 {
		body = opsgenie.Accepted(requestID, og.clock.Since(start))
	} else {
		if refusal == nil {
			refusal = opsgenie.Refusal(a.code, a.message)
		}
		if refusal.Allow != "" {
			w.Header().Set("Allow", refusal.Allow)
		}
		body = refusal.Body(requestID, og.clock.Since(start))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Request-ID", requestID)
	w.WriteHeader(a.code)
	_, _ = w.Write(body)
	og.observe(alertmapping.IntakeOpsgenie, a, ns, name, start)
}

// handle checks, parses and applies one request. The path and method are
// checked first (they reveal nothing about routes), then the key (see
// authorizeRoute), then the body. refusal, when set, is the answer in
// Opsgenie's shape the intake's own checks gave.
func (og *opsgenieIntake) handle(w http.ResponseWriter, r *http.Request, ns, name string) (answer, *opsgenie.Error) {
	target, refusal := opsgenie.ParseTarget(r.Method, pathBelowRoute(r.URL.EscapedPath()), r.URL.Query())
	if refusal != nil {
		return answer{code: refusal.Status, message: refusal.Message}, refusal
	}
	ctx, cancel := context.WithTimeout(r.Context(), og.opts.APITimeout)
	defer cancel()
	key, hasKey := opsgenie.Key(r.Header.Get("Authorization"))
	ar, route, a, ok := og.authorizeRoute(ctx, opsgenieSender, ns, name, key, hasKey)
	if !ok && !a.outage {
		return a, nil
	}
	refused := a
	body, release, a, ok := og.readIntakeBody(ctx, opsgenieSender, w, r)
	if !ok {
		return forRoute(ar, a), nil
	}
	notifications, refusal := opsgenie.Parse(target, body, route.SeverityLabel())
	release()
	if refusal != nil {
		return forRoute(ar, answer{code: refusal.Status, message: refusal.Message}), refusal
	}
	if refused.outage {
		for _, n := range notifications {
			og.tellFallback(ctx, ar, route, n, refused)
		}
		return refused, nil
	}

	a = forRoute(ar, answer{code: http.StatusAccepted, message: "The request asks nothing of the incident"})
	for _, n := range notifications {
		if repeat, failed := og.repeatsUpdate(ctx, ar, target, n); failed != nil {
			return forRoute(ar, *failed), nil
		} else if repeat {
			a = forRoute(ar, answer{code: http.StatusAccepted, message: "The alert already says this; nothing to note"})
			continue
		}
		if a = og.deliver(ctx, ar, route, n); a.code >= 300 {
			og.tellFallback(ctx, ar, route, n, a)
			return a, nil
		}
		// Opsgenie accepts every valid request with 202.
		a.code = http.StatusAccepted
	}
	return a, nil
}

// repeatsUpdate reports whether n, an update of the message or the
// description, says what the group's incident already shows
// (opsgenie.RepeatsUpdate), so it is not noted again.
func (og *opsgenieIntake) repeatsUpdate(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, target opsgenie.Target, n alertmapping.Notification) (bool, *answer) {
	if target.Action != opsgenie.ActionUpdateMessage && target.Action != opsgenie.ActionUpdateDescription {
		return false, nil
	}
	g, err := og.findGroup(ctx, og.client, og.opts.GroupIndexed, ar, n.GroupKey)
	if err != nil {
		a := unavailable(err)
		return false, &a
	}
	if g.latest == nil {
		return false, nil
	}
	return opsgenie.RepeatsUpdate(g.latest, target.Alias, n.Note, n.NoteEntry(ar.Name, og.clock.Now())), nil
}

// pathBelowRoute is the URL-escaped path after /opsgenie/{namespace}/{route}/,
// so an identifier may hold an escaped slash.
func pathBelowRoute(escaped string) string {
	segments := strings.SplitN(strings.TrimPrefix(escaped, "/"), "/", 4)
	if len(segments) < 4 {
		return ""
	}
	return segments[3]
}

package receiver

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

// alertmanagerIntake serves POST /alertmanager/{namespace}/{route}:
// Alertmanager's webhook (payload version 4) and Grafana-managed alerting's
// (version 1), authenticated by the route's token, mapped with
// internal/alertmapping and written to the group's incident (apply.go),
// answered only once the write is stored.
type alertmanagerIntake struct {
	*Server
}

// ServeHTTP answers one notification, counts it in the receiver's metrics
// and logs it. A request is counted under the intake its body names
// (Grafana's version 1, else Alertmanager).
func (am *alertmanagerIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := am.clock.Now()
	ns, name := r.PathValue("namespace"), r.PathValue("route")
	intake := alertmapping.IntakeAlertmanager
	a := am.handle(w, r, ns, name, &intake)
	if a.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	writeText(w, a.code, a.message)
	am.observe(intake, a, ns, name, start)
}

// handle checks, parses and applies one notification (see authorizeRoute
// for what is revealed to whom), and sets *intake once the body names it.
func (am *alertmanagerIntake) handle(w http.ResponseWriter, r *http.Request, ns, name string, intake *alertmapping.Intake) answer {
	if r.Method != http.MethodPost {
		return answer{code: http.StatusMethodNotAllowed, message: fmt.Sprintf("method %s is not allowed: Alertmanager webhooks are POSTed", r.Method)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), am.opts.APITimeout)
	defer cancel()
	token, hasToken := webhookCredentials(r)
	ar, route, a, ok := am.authorizeRoute(ctx, alertmanagerSender, ns, name, token, hasToken)
	if !ok && !a.outage {
		return a
	}
	refused := a

	body, release, a, ok := am.readIntakeBody(ctx, alertmanagerSender, w, r)
	if !ok {
		return forRoute(ar, a)
	}
	n, err := alertmapping.ParseWebhook(body)
	release()
	if err != nil {
		return forRoute(ar, answer{code: http.StatusBadRequest, message: err.Error()})
	}
	*intake = n.Intake
	if refused.outage {
		am.tellFallback(ctx, ar, route, n, refused)
		return refused
	}
	// Heartbeat alerts (an always-firing Watchdog) beat, and open no
	// incident when they are all the notification holds.
	if hb, done := am.heartbeats.notification(ctx, ar, n.Message); done {
		if hb.code < 300 {
			am.recordIntake(ctx, ar, n.Intake, "")
		}
		return forRoute(ar, hb)
	}
	a = am.deliver(ctx, ar, route, n)
	am.tellFallback(ctx, ar, route, n, a)
	return a
}

// webhookCredentials returns the token of a webhook request as Alertmanager
// and Grafana send it: an Authorization header with any scheme (Bearer, or
// the authorization_scheme of a Grafana contact point), or HTTP basic auth
// whose password is the token (a Grafana contact point's username and
// password). Surrounding whitespace is ignored.
func webhookCredentials(r *http.Request) ([]byte, bool) {
	if _, password, ok := r.BasicAuth(); ok {
		password = strings.TrimSpace(password)
		return []byte(password), password != ""
	}
	scheme, token, found := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !found || scheme == "" || token == "" {
		return nil, false
	}
	return []byte(token), true
}

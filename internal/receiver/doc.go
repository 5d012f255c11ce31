// Package receiver serves Klaxon's HTTP surfaces, on every replica and one
// listener (Options.Addr):
//
//   - Alertmanager and Grafana webhooks, POST
//     /alertmanager/{namespace}/{route} (alertmanager.go): authenticated by
//     the AlertRoute's token, mapped with internal/alertmapping and written
//     to the group's incident (apply.go), answered only once the write is
//     stored;
//   - PagerDuty Events API v2, POST /pagerduty/{namespace}/{route}/v2/enqueue
//     and v2/change/enqueue (pagerduty.go), the routing_key the route's token;
//   - the Opsgenie Alert API v2, /opsgenie/{namespace}/{route}/v2/alerts
//     and its per-alert actions (opsgenie.go), the GenieKey the route's
//     token;
//   - heartbeat pings, POST /heartbeat/{namespace}/{name} (heartbeat.go),
//     with the token of the heartbeat's AlertRoute;
//   - Slack interactions, POST /slack/interactions (slack_interactions.go):
//     presses of a page's Acknowledge and Resolve buttons, signed with the
//     channel's signing secret;
//   - acknowledge pages, GET and POST /ack/{token} (ack_page.go), when
//     Options.AckKeys is set; a POST with no form that does not ask for
//     HTML (ntfy's action button) is answered with one line of text;
//   - acknowledge-all pages, GET and POST /ack-all/{token}
//     (ack_all_page.go), the link of a bundled message, alike: it lists the
//     incidents recording the bundle and acknowledges those still waiting;
//   - Twilio callbacks, POST /twilio/{namespace}/{channel}/sms, voice,
//     voice/gather and voice/status (twilio.go, twilio_sms.go,
//     twilio_voice.go), when Options.PublicURL and Options.AckKeys are set:
//     signed with the channel's auth token over the public URL, they take a
//     reply that acknowledges, read a call's page, take its keys (1
//     acknowledges, 2 pages the next level now) and record a call nobody
//     answered as a failed delivery;
//   - status pages, GET /status/{namespace}/{name} and its Atom feed
//     /status/{namespace}/{name}/feed.atom (status_page.go), public,
//     read from the cache only, and each rendering served to every reader
//     for Options.StatusCacheTTL.
//
// Each surface is a handler type in its own file, with the state only it
// keeps; server.go lists them (surfaces) for the mux and the start-up log.
// What several share has its own file: what every intake does between
// reading its sender's credentials and answering in its sender's shape
// (finding and authenticating the route, reading the body, counting and
// recording) in intake.go, request plumbing (bearer tokens,
// per-client limits and the client's address behind trusted proxies,
// plain-text answers, bounded bodies) in shared.go,
// route tokens and their answers in route_auth.go, the Secrets read for
// tokens and channel credentials in tokens.go, and the moves a responder
// makes through a link or a button, with their limits, in
// incident_move.go.
//
// The surfaces stay in one package rather than one for machine-facing
// intake and one for the pages people open: the line between them cuts
// through what they share. A Slack button and an acknowledge link make the
// same move under the same budget of API requests and the same per-client
// limit on failures, so an intake package and a pages package would both
// need the move, the limits and the namespace filter exported from a third
// one, and each package with envtest tests starts its own API server. A
// new surface (another intake, a callback that acknowledges, a feed) is a
// new file here, built on those shared files.
package receiver

package fault

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/acklink/keystore"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
	"github.com/klaxon-dev/klaxon/internal/test/slacktest"
)

const (
	// hostileMaxBody is the receiver's default body limit
	// (--receiver-max-body-bytes), which the test keeps.
	hostileMaxBody = receiver.DefaultMaxBodyBytes
	// hostileParses is the default --receiver-max-concurrent-parses.
	hostileParses = receiver.DefaultMaxConcurrentParses
	// hostileParseCost is what one body of hostileMaxBody costs while it is
	// read and parsed: docs/install.md, "Memory", about 30 MiB per body in flight.
	hostileParseCost = 30 << 20
	// hostileMemoryLimit is the manager's memory limit in the Deployment
	// (docs/install.md, "Memory").
	hostileMemoryLimit = 384 << 20
	// hostileHeaderTimeout and hostileReadTimeout are the receiver's
	// http.Server ReadHeaderTimeout and ReadTimeout (server.go).
	hostileHeaderTimeout = 10 * time.Second
	hostileReadTimeout   = 30 * time.Second
	// hostileOtherToken is the token of the other namespace's route.
	hostileOtherToken = "another-namespaces-token"
	// hostileSlackSigning is the signing secret of the team's Slack app,
	// whose channel no Responder has a contact on.
	hostileSlackSigning = "signing-secret-of-the-hostile-team-01"
)

// hostileCase is one request to the receiver and the exact answer it gets.
type hostileCase struct {
	name   string
	method string // POST when empty
	path   string
	// auth is the Authorization header; none when empty.
	auth string
	// header is set on the request, over the JSON Content-Type.
	header http.Header
	body   []byte
	// counted: the receiver counts the request against the client's
	// allowance of failed verifications (1 a second, 10 at once), shared
	// by every surface that verifies a signature or a link.
	counted bool
	code    int
	// says is part of the answer's body; for a redirect, its Location.
	says string
	// opens is the groupKey of the incident a 200 opens; empty for a case
	// that must write nothing.
	opens string
	// check looks at that incident once its alerts are stored.
	check func(t *testing.T, inc *klaxonv1alpha1.Incident)
}

// TestHostileInput sends the running receiver hostile and malformed
// requests and slow clients, with the default limits: each gets its exact
// answer, the process stays up, only the requests that carry a valid
// payload with the route's token open an incident (each exactly one, paged
// and mailed once), the rest write nothing (no incident, no
// OnCallOverride), and many large bodies at once stay within the memory
// docs/install.md budgets. Every surface the receiver serves is in the
// table: the intakes, Twilio callbacks, the fallback hand-over, Slack
// commands, calendar feeds and acknowledge-all pages.
func TestHostileInput(t *testing.T) {
	mail := mailpit.Start(t)
	tm := newTeam(t, mail, level{person: "alice"})
	// Another tenant, with a token of its own: the operator watches both.
	other := newTeam(t, mail, level{person: "carol"})
	hostileSetToken(t, other.ns, hostileOtherToken)
	// The team has a Slack app whose commands verify, and a key for
	// alice's calendar feed.
	calendarToken := hostileSlackAndCalendar(t, tm.ns)
	// With a fallback page, so that its hand-over surface is served.
	op := startOperator(t, "hostile", "--watch-namespaces="+tm.ns+","+other.ns,
		"--fallback-receiver-file="+fallbackFile(t, "webhook_configs: [{url: 'http://127.0.0.1:1/fallback'}]\n"))
	tm.createRoute(t)
	other.createRoute(t)
	addr := strings.TrimPrefix(op.receiverURL, "http://")
	bearer := "Bearer " + token
	var accepted []hostileCase

	// Many large bodies at once, first, so the memory they cost is measured
	// from a baseline close to the idle operator's.
	flood := hostileConcurrentBodies(t, op, tm)
	accepted = append(accepted, flood)

	// Slow clients hold a connection (and the body one a parse slot) for the
	// server's timeouts; they run while the table does.
	var slow sync.WaitGroup
	slow.Go(func() { hostileSlowHeaders(t, addr, tm.webhook()) })
	slow.Go(func() { hostileSlowBody(t, addr, tm.webhook()) })
	t.Cleanup(slow.Wait) // they report to t

	valid := hostilePayload("Valid", 1, nil)
	longValue := strings.Repeat("x", 10000)
	aliceFeed := "/calendar/" + tm.ns + "/responder/alice.ics?token=" + calendarToken
	// A cover from a Slack user who is nobody's contact; with tm's
	// signature, it verifies.
	strangerCover := coverCommand("U0MALLORY", "cover alice mallory --for 168h")
	crossCover := coverCommand("U0MALLORY", "cover carol mallory --namespace "+other.ns)
	oversizedCommand := coverCommand("U0MALLORY", "cover alice mallory "+strings.Repeat("x", 16<<10))
	// Acknowledge-all links signed with the operator's own key, for a
	// bundle nothing recorded, and with a key of no Klaxon.
	ackKey := hostileAckSigner(t)
	bundle := func(s *acklink.Signer, ns string, expires time.Duration) string {
		return "/ack-all/" + s.SignBundle(acklink.BundleClaims{Namespace: ns, Bundle: "b-forged", Responder: "alice",
			Expires: time.Now().Add(expires).Truncate(time.Second)})
	}
	strangerKey, err := acklink.NewSigner(acklink.NewCalendarKey())
	if err != nil {
		t.Fatal(err)
	}
	cases := []hostileCase{
		{name: "GET instead of POST", method: http.MethodGet, path: tm.webhook(), auth: bearer,
			code: http.StatusMethodNotAllowed, says: "method GET is not allowed: Alertmanager webhooks are POSTed"},
		{name: "no Authorization header", path: tm.webhook(), body: valid,
			code: http.StatusUnauthorized, says: "missing bearer token: set http_config.authorization.credentials"},
		// Basic credentials carry the token as their password, as a Grafana
		// contact point sends it; a wrong or empty one is refused.
		{name: "Basic credentials with a wrong password", path: tm.webhook(), auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("klaxon:guess")), body: valid,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for " + tm.webhook()},
		{name: "Basic credentials without a password", path: tm.webhook(), auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(token+":")), body: valid,
			code: http.StatusUnauthorized, says: "missing bearer token"},
		{name: "an empty bearer token", path: tm.webhook(), auth: "Bearer   ", body: valid,
			code: http.StatusUnauthorized, says: "missing bearer token"},
		{name: "a wrong token", path: tm.webhook(), auth: "Bearer guess", body: valid,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for " + tm.webhook()},
		{name: "another namespace's token", path: tm.webhook(), auth: "Bearer " + hostileOtherToken, body: valid,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for " + tm.webhook()},
		{name: "this token on another namespace's route", path: other.webhook(), auth: bearer, body: valid,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for " + other.webhook()},
		{name: "this token on a namespace the operator does not watch", path: "/alertmanager/kube-system/alerts", auth: bearer, body: valid,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for /alertmanager/kube-system/alerts"},
		{name: "this token on a heartbeat of a namespace the operator does not watch", path: "/heartbeat/kube-system/watchdog", auth: bearer,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for /heartbeat/kube-system/watchdog"},
		{name: "this token on a route that does not exist", path: "/alertmanager/" + tm.ns + "/nope", auth: bearer, body: valid,
			code: http.StatusNotFound, says: "AlertRoute " + tm.ns + "/nope not found"},
		// Go's ServeMux answers an unclean path with a redirect to the clean
		// one before any handler runs; the redirect leads out of
		// /alertmanager/, where nothing answers.
		{name: "dot segments before the namespace", path: "/alertmanager/../" + tm.ns + "/alerts", auth: bearer, body: valid,
			code: http.StatusTemporaryRedirect, says: "/" + tm.ns + "/alerts"},
		{name: "the target of that redirect", path: "/" + tm.ns + "/alerts", auth: bearer, body: valid,
			code: http.StatusNotFound, says: "404 page not found"},
		// Encoded, the dots stay in one segment: a namespace or route name
		// that cannot exist, looked up nowhere.
		{name: "encoded dot segments in the namespace", path: "/alertmanager/..%2F" + other.ns + "/alerts", auth: bearer, body: valid,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for /alertmanager/../" + other.ns + "/alerts"},
		{name: "encoded dot segments in the route", path: "/alertmanager/" + tm.ns + "/..%2F..%2F" + other.ns + "%2Falerts", auth: bearer, body: valid,
			code: http.StatusNotFound, says: "AlertRoute " + tm.ns + "/../../" + other.ns + "/alerts not found"},
		{name: "an encoded slash in the namespace", path: "/alertmanager/" + other.ns + "%2F" + tm.ns + "/alerts", auth: bearer, body: valid,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for /alertmanager/" + other.ns + "/" + tm.ns + "/alerts"},
		{name: "an encoded NUL as the namespace", path: "/alertmanager/%00/alerts", auth: bearer, body: valid,
			code: http.StatusUnauthorized, says: "the bearer token is not valid for"},
		{name: "a segment past the route", path: tm.webhook() + "/extra", auth: bearer, body: valid,
			code: http.StatusNotFound, says: "404 page not found"},
		{name: "malformed JSON", path: tm.webhook(), auth: bearer, body: []byte(`{"version":"4","groupKey":`),
			code: http.StatusBadRequest, says: "the request body is not valid JSON"},
		{name: "JSON of another shape", path: tm.webhook(), auth: bearer, body: []byte(`["version","4"]`),
			code: http.StatusBadRequest, says: "the request body is not an Alertmanager webhook payload"},
		{name: "wrong version", path: tm.webhook(), auth: bearer, body: bytes.Replace(valid, []byte(`"version":"4"`), []byte(`"version":"3"`), 1),
			code: http.StatusBadRequest, says: `the payload has version "3": Klaxon accepts Alertmanager webhook payload version "4" and Grafana's version "1"`},
		{name: "no version", path: tm.webhook(), auth: bearer, body: bytes.Replace(valid, []byte(`"version":"4"`), []byte(`"version":""`), 1),
			code: http.StatusBadRequest, says: "the payload has no version"},
		{name: "no groupKey", path: tm.webhook(), auth: bearer, body: []byte(`{"version":"4","status":"firing","alerts":[]}`),
			code: http.StatusBadRequest, says: "the payload has no groupKey"},
		{name: "empty body", path: tm.webhook(), auth: bearer,
			code: http.StatusBadRequest, says: "the request body is empty"},
		{name: "whitespace body", path: tm.webhook(), auth: bearer, body: []byte(" \r\n\t "),
			code: http.StatusBadRequest, says: "the request body is empty"},
		{name: "oversized body", path: tm.webhook(), auth: bearer, body: hostilePadded(hostilePayload("Oversized", 1, nil), hostileMaxBody+64<<10),
			code: http.StatusRequestEntityTooLarge, says: fmt.Sprintf("the request body is larger than %d bytes: lower max_alerts", hostileMaxBody)},
		{name: "deeply nested JSON", path: tm.webhook(), auth: bearer, body: hostileNested(hostilePayload("Nested", 1, nil), 100000),
			code: http.StatusBadRequest, says: "exceeded max depth"},
		{name: "invalid UTF-8 outside strings", path: tm.webhook(), auth: bearer, body: []byte("\xff\xfe{\"version\":\"4\"}"),
			code: http.StatusBadRequest, says: "the request body is not valid JSON"},
		{name: "a 10,000-character groupKey", path: tm.webhook(), auth: bearer,
			body: bytes.Replace(valid, []byte(`"groupKey":"{}:{alertname=\"Valid\"}"`), []byte(`"groupKey":"`+longValue+`"`), 1),
			code: http.StatusBadRequest, says: "the payload's groupKey is 10000 characters long; Klaxon accepts at most 4096"},
		{name: "10,000 alerts, the last with an unknown status", path: tm.webhook(), auth: bearer,
			body: hostilePayload("TenThousandBad", 10000, func(a *template.Alert, i int) {
				if i == 9999 {
					a.Status = "bogus"
				}
			}),
			code: http.StatusBadRequest, says: `alerts[9999] (fingerprint "00000000000270f") has status "bogus"`},

		// Valid payloads with hostile values are accepted, whole, and their
		// values made safe.
		{name: "invalid UTF-8 in label values", path: tm.webhook(), auth: bearer,
			// encoding/json turns each invalid byte into U+FFFD.
			body: bytes.ReplaceAll(hostilePayload("BrokenUtf8", 1, func(a *template.Alert, _ int) { a.Labels["alertname"] = "BrokenINVALIDUtf8" }),
				[]byte("INVALID"), []byte("\xff\xfe")),
			code: http.StatusOK, opens: hostileGroupKey("BrokenUtf8"),
			check: func(t *testing.T, inc *klaxonv1alpha1.Incident) {
				if want := "Broken\uFFFD\uFFFDUtf8"; inc.Spec.Title != want {
					t.Errorf("title %q, want %q", inc.Spec.Title, want)
				}
			}},
		{name: "label values that are not valid Kubernetes names", path: tm.webhook(), auth: bearer,
			body: hostilePayload("NotANameAtAll", 1, func(a *template.Alert, _ int) {
				a.Labels["alertname"] = "../../kube-system/Secrets Ünïcode;$(rm -rf /)\n\x00\x1b[31m"
				a.Labels["severity"] = "critical; DROP TABLE"
			}),
			code: http.StatusOK, opens: hostileGroupKey("NotANameAtAll"),
			check: func(t *testing.T, inc *klaxonv1alpha1.Incident) {
				if want := "../../kube-system/Secrets Ünïcode;$(rm -rf /) [31m"; inc.Spec.Title != want {
					t.Errorf("title %q, want %q", inc.Spec.Title, want)
				}
				// The severity label maps to nothing: the route's default.
				if inc.Spec.Severity != klaxonv1alpha1.SeverityModerate {
					t.Errorf("severity %s, want the default %s", inc.Spec.Severity, klaxonv1alpha1.SeverityModerate)
				}
				if want := "kube-system_Secrets__n_code___rm_-rf_______31m"; inc.Labels[klaxonv1alpha1.LabelAlertname] != want {
					t.Errorf("label %s=%q, want %q", klaxonv1alpha1.LabelAlertname, inc.Labels[klaxonv1alpha1.LabelAlertname], want)
				}
			}},
		{name: "10,000-character label values", path: tm.webhook(), auth: bearer,
			body: hostilePayload("LongValues", 1, func(a *template.Alert, _ int) {
				a.Labels["alertname"] = "L" + longValue[1:]
				a.Labels["instance"] = longValue
				a.Annotations["description"] = longValue
			}),
			code: http.StatusOK, opens: hostileGroupKey("LongValues"),
			check: func(t *testing.T, inc *klaxonv1alpha1.Incident) {
				if want := "L" + longValue[:198] + "…"; inc.Spec.Title != want {
					t.Errorf("title of %d characters, want %d", utf8.RuneCountInString(inc.Spec.Title), utf8.RuneCountInString(want))
				}
				if got := inc.Labels[klaxonv1alpha1.LabelAlertname]; len(got) != validation.LabelValueMaxLength {
					t.Errorf("label %s has %d characters, want %d", klaxonv1alpha1.LabelAlertname, len(got), validation.LabelValueMaxLength)
				}
				if a := inc.Status.Alerts; len(a.Items) != 1 || len([]rune(a.Items[0].Labels["instance"])) != 256 {
					t.Errorf("status.alerts.items = %d, the instance label cut to %d characters; want 1 and 256",
						len(a.Items), len([]rune(a.Items[0].Labels["instance"])))
				}
			}},
		// Twilio's callbacks carry no token but a signature, checked with
		// the auth token of the channel the path names: whatever names no
		// twilio channel here is refused before anything is read.
		{name: "a Twilio callback to a channel that does not exist", path: "/twilio/" + tm.ns + "/nope/sms",
			body: []byte("From=%2B4915112345678&To=%2B15005550006&Body=ack"), code: http.StatusNotFound, says: "No Twilio channel of that name"},
		{name: "a Twilio callback to a namespace the operator does not watch", path: "/twilio/kube-system/phone/sms",
			body: []byte("From=%2B4915112345678&Body=ack"), code: http.StatusNotFound, says: "No Twilio channel of that name"},
		{name: "a Twilio callback with an alert route's token", path: "/twilio/" + tm.ns + "/alerts/voice/status", auth: bearer,
			body: []byte("CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=completed"), code: http.StatusNotFound, says: "No Twilio channel of that name"},
		{name: "a Twilio callback of no such kind", path: "/twilio/" + tm.ns + "/nope/fax", body: []byte("a=1"),
			code: http.StatusNotFound, says: "No such Twilio callback"},
		{name: "a Twilio callback by GET", method: http.MethodGet, path: "/twilio/" + tm.ns + "/nope/sms",
			code: http.StatusMethodNotAllowed, says: "POST"},
		{name: "a Twilio callback that is no form", path: "/twilio/" + tm.ns + "/nope/sms", body: []byte("From=%zz"),
			code: http.StatusBadRequest, says: "Not a Twilio callback form", counted: true},
		{name: "an oversized Twilio callback", path: "/twilio/" + tm.ns + "/nope/sms", body: bytes.Repeat([]byte("a"), 64<<10),
			code: http.StatusRequestEntityTooLarge, says: "Request too large", counted: true},
		// The fallback page's hand-over surface is for the replicas alone,
		// which sign their requests with a key derived from the fallback
		// file: unsigned requests, or ones with a route's token, are
		// refused before their body is read.
		{name: "forwarded groups without a signature", path: "/fallback/waiting", body: []byte(`{"groups":[{"key":"a","title":"Forged"}]}`),
			code: http.StatusUnauthorized, says: "the request's timestamp is missing or more than 60 s away"},
		{name: "forwarded groups with a route's token", path: "/fallback/waiting", auth: bearer, body: []byte(`{"groups":[]}`),
			code: http.StatusUnauthorized, says: "the request's timestamp is missing or more than 60 s away"},
		{name: "forwarded groups by GET", method: http.MethodGet, path: "/fallback/waiting",
			code: http.StatusMethodNotAllowed, says: "forwarded groups are POSTed"},
		{name: "oversized forwarded groups", path: "/fallback/waiting", body: bytes.Repeat([]byte("a"), 2<<20+1),
			code: http.StatusRequestEntityTooLarge, says: "the request body is larger than 2097152 bytes"},
		// Slack commands carry no token but Slack's signature, checked with
		// the signing secret of each Slack channel watched; one that
		// verifies acts only as the Responder whose contact its user is.
		{name: "a Slack command by GET", method: http.MethodGet, path: "/slack/commands",
			code: http.StatusMethodNotAllowed, says: "Method Not Allowed"},
		{name: "an unsigned Slack command", path: "/slack/commands", body: strangerCover,
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			code:   http.StatusUnauthorized, says: "The request's signature does not verify", counted: true},
		{name: "a Slack command with a route's token", path: "/slack/commands", auth: bearer, body: strangerCover,
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			code:   http.StatusUnauthorized, says: "The request's signature does not verify", counted: true},
		{name: "a Slack command signed with another secret", path: "/slack/commands", body: strangerCover,
			header: slackSigned("not-the-teams-signing-secret", time.Now(), strangerCover),
			code:   http.StatusUnauthorized, says: "The request's signature does not verify", counted: true},
		{name: "a Slack command signed 10 minutes ago", path: "/slack/commands", body: strangerCover,
			header: slackSigned(hostileSlackSigning, time.Now().Add(-10*time.Minute), strangerCover),
			code:   http.StatusUnauthorized, says: "The request's signature does not verify", counted: true},
		{name: "an oversized Slack command", path: "/slack/commands", body: oversizedCommand,
			header: slackSigned(hostileSlackSigning, time.Now(), oversizedCommand),
			code:   http.StatusRequestEntityTooLarge, says: "Request too large"},
		{name: "a signed cover from a Slack user who is nobody's contact", path: "/slack/commands", body: strangerCover,
			header: slackSigned(hostileSlackSigning, time.Now(), strangerCover),
			code:   http.StatusOK, says: "You are not a responder: no Responder has your Slack user U0MALLORY as a contact"},
		{name: "a signed cover in another namespace", path: "/slack/commands", body: crossCover,
			header: slackSigned(hostileSlackSigning, time.Now(), crossCover),
			code:   http.StatusOK, says: "You are not a responder: no Responder has your Slack user U0MALLORY as a contact"},
		// Calendar feeds are read with a token signed by the feed's own key
		// (the namespace's calendar keys Secret); every token that does not
		// open the feed asked for gets the same answer.
		{name: "a responder's calendar feed with its token", method: http.MethodGet, path: aliceFeed,
			code: http.StatusOK, says: "BEGIN:VCALENDAR"},
		{name: "a responder's calendar feed by POST", path: aliceFeed, body: valid,
			code: http.StatusMethodNotAllowed, says: "A calendar feed is read with GET."},
		{name: "a calendar feed of 100000 weeks", method: http.MethodGet, path: aliceFeed + "&weeks=100000",
			code: http.StatusBadRequest, says: "weeks must be a whole number from 1 to"},
		{name: "a responder's calendar feed without a token", method: http.MethodGet, path: "/calendar/" + tm.ns + "/responder/alice.ics",
			code: http.StatusForbidden, says: "This calendar link is not valid.", counted: true},
		{name: "a calendar token on another namespace's feed", method: http.MethodGet,
			path: "/calendar/" + other.ns + "/responder/carol.ics?token=" + calendarToken,
			code: http.StatusForbidden, says: "This calendar link is not valid.", counted: true},
		{name: "a responder's calendar token on a schedule's feed", method: http.MethodGet,
			path: "/calendar/" + tm.ns + "/schedule/alice.ics?token=" + calendarToken,
			code: http.StatusForbidden, says: "This calendar link is not valid.", counted: true},
		{name: "a schedule's calendar feed with a token of no key", method: http.MethodGet,
			path: "/calendar/" + tm.ns + "/schedule/primary.ics?token=" +
				strangerKey.SignCalendar(acklink.CalendarClaims{Namespace: tm.ns, Kind: acklink.CalendarSchedule, Name: "primary"}),
			code: http.StatusForbidden, says: "This calendar link is not valid.", counted: true},
		{name: "encoded dot segments in a calendar feed's name", method: http.MethodGet,
			path: "/calendar/" + tm.ns + "/responder/..%2F..%2F" + other.ns + "%2Fresponder%2Fcarol.ics?token=" + calendarToken,
			code: http.StatusForbidden, says: "This calendar link is not valid.", counted: true},
		{name: "a calendar feed of a namespace the operator does not watch", method: http.MethodGet,
			path: "/calendar/kube-system/schedule/primary.ics?token=" + calendarToken,
			code: http.StatusForbidden, says: "This calendar link is not valid.", counted: true},
		// Acknowledge-all links are signed with the operator's key; a valid
		// one acknowledges only the incidents that record its bundle.
		{name: "an acknowledge-all link of a bundle nothing records", method: http.MethodGet, path: bundle(ackKey, tm.ns, time.Hour),
			code: http.StatusNotFound, says: "No incident records this message yet."},
		{name: "an acknowledge-all press of a bundle nothing records", path: bundle(ackKey, tm.ns, time.Hour),
			code: http.StatusNotFound, says: "No incident records this message yet."},
		{name: "an acknowledge-all press for a namespace the operator does not watch", path: bundle(ackKey, "kube-system", time.Hour),
			code: http.StatusGone, says: "These incidents are no longer watched by Klaxon."},
		{name: "an acknowledge-all link by PUT", method: http.MethodPut, path: bundle(ackKey, tm.ns, time.Hour),
			code: http.StatusMethodNotAllowed, says: "Method not allowed"},
		{name: "an oversized acknowledge-all press", path: bundle(ackKey, tm.ns, time.Hour), body: bytes.Repeat([]byte("a"), 4<<10),
			code: http.StatusRequestEntityTooLarge, says: "The form sends no data; this request carried more than it may."},
		{name: "an expired acknowledge-all press", path: bundle(ackKey, tm.ns, -time.Hour),
			code: http.StatusGone, says: "This link has expired.", counted: true},
		{name: "an acknowledge-all press signed with another key", path: bundle(strangerKey, tm.ns, time.Hour),
			code: http.StatusForbidden, says: "This link is not valid", counted: true},
		{name: "a malformed acknowledge-all press", path: "/ack-all/not-a-token",
			code: http.StatusBadRequest, says: "This link is malformed", counted: true},
		{name: "10,000 alerts in one group", path: tm.webhook(), auth: bearer, body: hostilePayload("TenThousand", 10000, nil),
			code: http.StatusOK, opens: hostileGroupKey("TenThousand"),
			check: func(t *testing.T, inc *klaxonv1alpha1.Incident) {
				if a := inc.Status.Alerts; a.Firing != 10000 || a.Resolved != 0 || len(a.Items) != 50 {
					t.Errorf("status.alerts: %d firing, %d resolved, %d items; want 10000, 0 and 50", a.Firing, a.Resolved, len(a.Items))
				}
			}},
	}
	ctx := context.Background()
	var lastCounted time.Time
	for _, c := range cases {
		if len(c.body) > 1<<20 {
			t.Logf("%s: a body of %d bytes", c.name, len(c.body))
		}
		if c.counted {
			// A second apart, the allowance is back before the next one:
			// each case gets its own answer, not "too many".
			time.Sleep(time.Until(lastCounted.Add(1100 * time.Millisecond)))
			lastCounted = time.Now()
		}
		code, says := hostileSend(t, op.receiverURL, c)
		if code != c.code || !strings.Contains(says, c.says) {
			t.Errorf("%s: answered %d %q, want %d saying %q", c.name, code, hostileClip(says), c.code, c.says)
		}
		if !op.running() {
			t.Fatalf("the operator exited after %q", c.name)
		}
		if c.opens != "" && code == http.StatusOK {
			accepted = append(accepted, c)
		}
		hostileWantIncidents(ctx, t, c.name, tm.ns, accepted)
		hostileWantIncidents(ctx, t, c.name, other.ns, nil)
		hostileWantNoOverrides(ctx, t, c.name, tm.ns, other.ns)
	}

	slow.Wait()
	if !op.running() {
		t.Fatalf("the operator exited after the slow clients")
	}

	// The receiver still serves.
	final := hostileCase{name: "a valid notification after all", path: tm.webhook(), auth: bearer, body: hostilePayload("AfterAll", 1, nil),
		code: http.StatusOK, says: "opening one: incident alerts-", opens: hostileGroupKey("AfterAll")}
	if code, says := hostileSend(t, op.receiverURL, final); code != final.code || !strings.Contains(says, final.says) {
		t.Fatalf("%s: answered %d %q, want %d saying %q", final.name, code, says, final.code, final.says)
	}
	accepted = append(accepted, final)
	hostileWantIncidents(ctx, t, final.name, tm.ns, accepted)
	hostileWantIncidents(ctx, t, final.name, other.ns, nil)

	// Each incident opened is paged once at its one level, mailed to alice
	// once, its alerts stored; the other tenant is never paged.
	var incs []klaxonv1alpha1.Incident
	eventually(t, "every incident to be paged and its alerts stored", 60*time.Second, func(ctx context.Context) (bool, error) {
		var err error
		if incs, err = tm.incidents(ctx); err != nil {
			return false, err
		}
		for i := range incs {
			if paged(&incs[i]) != "0:alice" || !allSent(&incs[i]) || incs[i].Status.Alerts == nil {
				return false, nil
			}
		}
		return len(mail.All(t)) >= len(accepted), nil
	})
	time.Sleep(time.Second) // a page sent twice would have arrived by now
	byGroup := map[string]*klaxonv1alpha1.Incident{}
	for i := range incs {
		byGroup[incs[i].Spec.Source.GroupKey] = &incs[i]
	}
	for _, c := range accepted {
		inc := byGroup[c.opens]
		if inc == nil {
			t.Errorf("%s: no incident of group %q", c.name, c.opens)
			continue
		}
		if c.check != nil {
			c.check(t, inc)
		}
		for k, v := range inc.Labels {
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				t.Errorf("%s: label %s=%q is not a valid label value", c.name, k, v)
			}
		}
		if strings.ContainsFunc(inc.Spec.Title, func(r rune) bool { return !unicode.IsPrint(r) }) || !utf8.ValidString(inc.Spec.Title) {
			t.Errorf("%s: title %q is not one line of printable UTF-8", c.name, hostileClip(inc.Spec.Title))
		}
	}
	mailed := hostileMailsByIncident(t, mail, tm.ns)
	for i := range incs {
		if got := mailed[incs[i].Name]; strings.Join(got, ",") != "alice@example.com" {
			t.Errorf("incident %s (%s) was mailed to %v, want alice@example.com once", incs[i].Name, incs[i].Spec.Source.GroupKey, got)
		}
	}
	if n := len(mail.All(t)); n != len(accepted) {
		t.Errorf("mailpit holds %d mails, want %d, one per incident", n, len(accepted))
	}
	if !op.running() {
		t.Errorf("the operator exited")
	}
}

// hostileConcurrentBodies holds every parse slot with a large valid body
// whose sender stalls before its last kilobyte, checks that more senders are
// told to come back (503) while they are held, then lets the stalled bodies
// finish at once and measures what they cost. The bodies are the same
// Alertmanager notification, as an HA pair sends it: one incident. It
// returns the case, as accepted.
func hostileConcurrentBodies(t *testing.T, op *operator, tm *team) hostileCase {
	t.Helper()
	addr := strings.TrimPrefix(op.receiverURL, "http://")
	body, alerts := hostileBodyOf(hostileMaxBody - 16<<10)
	c := hostileCase{name: fmt.Sprintf("%d concurrent bodies of %d bytes", hostileParses, len(body)),
		path: tm.webhook(), auth: "Bearer " + token, body: body, code: http.StatusOK, opens: hostileGroupKey("Flood"),
		check: func(t *testing.T, inc *klaxonv1alpha1.Incident) {
			if a := inc.Status.Alerts; a.Firing != int32(alerts) || len(a.Items) != 50 {
				t.Errorf("status.alerts: %d firing, %d items; want %d and 50", a.Firing, len(a.Items), alerts)
			}
		}}

	before := op.peakRSS()
	stalled := make([]*hostileStalled, hostileParses)
	for i := range stalled {
		stalled[i] = hostileStall(t, addr, c.path, c.auth, body, 1<<10)
	}
	// Every slot is held once a small request waits its second for one in
	// vain. A request that finds a slot free answers 400 and writes nothing.
	probe := hostileCase{name: "probe", path: c.path, auth: c.auth,
		body: bytes.Replace(hostilePayload("Probe", 1, nil), []byte(`"version":"4"`), []byte(`"version":"3"`), 1)}
	for i := 0; ; i++ {
		code, says := hostileSend(t, op.receiverURL, probe)
		if code == http.StatusServiceUnavailable {
			break
		}
		if code != http.StatusBadRequest || i == 50 {
			t.Fatalf("while the stalled bodies take their slots a probe answered %d %q", code, says)
		}
		time.Sleep(100 * time.Millisecond)
	}
	busy := hostileCase{name: "a notification while every parse slot is held", path: c.path, auth: c.auth, body: hostilePayload("Busy", 1, nil),
		code: http.StatusServiceUnavailable, says: "the receiver is busy reading other notifications; Alertmanager will retry"}
	var wg sync.WaitGroup
	for range hostileParses {
		wg.Go(func() {
			if code, says := hostileSend(t, op.receiverURL, busy); code != busy.code || !strings.Contains(says, busy.says) {
				t.Errorf("%s: answered %d %q, want %d saying %q", busy.name, code, says, busy.code, busy.says)
			}
		})
	}
	wg.Wait()

	answers := make([]string, len(stalled))
	codes := make([]int, len(stalled))
	for i, s := range stalled {
		wg.Go(func() { codes[i], answers[i] = s.finish(t) })
	}
	wg.Wait()
	after := op.peakRSS()
	if !op.running() {
		t.Fatalf("the operator exited under %s", c.name)
	}
	incs, err := tm.incidents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 1 || incs[0].Spec.Source.GroupKey != c.opens {
		t.Fatalf("%s made %d incidents, want 1 of group %s", c.name, len(incs), c.opens)
	}
	for i := range codes {
		if codes[i] != http.StatusOK || !strings.Contains(strings.ToLower(answers[i]), "incident "+incs[0].Name) {
			t.Errorf("%s: body %d answered %d %q, want 200 naming incident %s", c.name, i, codes[i], answers[i], incs[0].Name)
		}
	}

	// docs/install.md, "Memory": each body in flight costs about hostileParseCost of
	// heap, so hostileParses of them about hostileParses times that. That is
	// what they allocate; with GOGC at its default of 100 the collector lets
	// the heap grow to twice what is live before it runs, so the peak RSS
	// may rise by up to twice as much, and must stay below the Deployment's
	// limit (config/manager/manager.yaml) whatever the baseline.
	budget := int64(hostileParses) * hostileParseCost
	growth := after - before
	t.Logf("%s (%d alerts each): peak RSS %d MiB before, %d MiB after: %d MiB more, against the README's %d MiB (%d × %d MiB)",
		c.name, alerts, before>>20, after>>20, growth>>20, budget>>20, hostileParses, hostileParseCost>>20)
	if growth > 2*budget {
		t.Errorf("%s raised the peak RSS by %d MiB, more than twice the %d MiB the README budgets", c.name, growth>>20, budget>>20)
	}
	if after > hostileMemoryLimit {
		t.Errorf("%s took the peak RSS to %d MiB, past the Deployment's limit of %d MiB", c.name, after>>20, hostileMemoryLimit>>20)
	}
	return c
}

// hostileStalled is a request whose sender stopped before the end of its
// body.
type hostileStalled struct {
	conn net.Conn
	rest []byte
}

// hostileStall sends the request line, headers and all of body but its last
// held bytes, and stops.
func hostileStall(t *testing.T, addr, path, auth string, body []byte, held int) *hostileStalled {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		path, addr, auth, len(body))
	if _, err := conn.Write(append([]byte(head), body[:len(body)-held]...)); err != nil {
		t.Fatal(err)
	}
	return &hostileStalled{conn: conn, rest: body[len(body)-held:]}
}

// finish sends the rest of the body and reads the answer.
func (s *hostileStalled) finish(t *testing.T) (int, string) {
	if _, err := s.conn.Write(s.rest); err != nil {
		t.Errorf("finishing a stalled body: %v", err)
		return 0, ""
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(hostileReadTimeout))
	resp, err := http.ReadResponse(bufio.NewReader(s.conn), nil)
	if err != nil {
		t.Errorf("reading the answer to a stalled body: %v", err)
		return 0, ""
	}
	defer func() { _ = resp.Body.Close() }()
	says, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(says)
}

// hostileSlowHeaders sends half a request and nothing more: the server
// closes the connection, without an answer, once its header timeout passes.
func hostileSlowHeaders(t *testing.T, addr, path string) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return
	}
	defer func() { _ = conn.Close() }()
	start := time.Now()
	if _, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n", path, addr, token); err != nil {
		t.Error(err)
		return
	}
	_ = conn.SetReadDeadline(start.Add(hostileHeaderTimeout + 10*time.Second))
	got, err := io.ReadAll(conn)
	took := time.Since(start)
	switch {
	case err != nil:
		t.Errorf("headers that never end: the connection is still open after %s (%v)", took.Round(time.Millisecond), err)
	case len(got) != 0:
		t.Errorf("headers that never end were answered %q", hostileClip(string(got)))
	case took < hostileHeaderTimeout-500*time.Millisecond:
		t.Errorf("headers that never end: the connection was closed after %s, before the %s header timeout", took, hostileHeaderTimeout)
	default:
		t.Logf("headers that never end: the connection was closed without an answer after %s", took.Round(time.Millisecond))
	}
}

// hostileSlowBody sends a valid request's headers and the start of its
// body, and nothing more: the server gives up at its read timeout and
// answers 400. It holds one parse slot until then.
func hostileSlowBody(t *testing.T, addr, path string) {
	body := hostilePayload("SlowBody", 1, nil)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return
	}
	defer func() { _ = conn.Close() }()
	start := time.Now()
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		path, addr, token, len(body))
	if _, err = conn.Write(append([]byte(head), body[:len(body)/2]...)); err != nil {
		t.Error(err)
		return
	}
	_ = conn.SetReadDeadline(start.Add(hostileReadTimeout + 15*time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	took := time.Since(start)
	if err != nil {
		t.Errorf("a body that never ends: no answer after %s: %v", took.Round(time.Millisecond), err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	says, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	const want = "reading the request body: read tcp"
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(says), want) || !strings.Contains(string(says), "i/o timeout") {
		t.Errorf("a body that never ends: answered %d %q after %s, want 400 saying %q and i/o timeout", resp.StatusCode, says, took, want)
	}
	if took < hostileReadTimeout-500*time.Millisecond {
		t.Errorf("a body that never ends was answered after %s, before the %s read timeout", took, hostileReadTimeout)
	}
	t.Logf("a body that never ends: answered %d after %s", resp.StatusCode, took.Round(time.Millisecond))
}

// hostileSend sends the case's request and returns the code and the body,
// or the Location of a redirect.
func hostileSend(t *testing.T, base string, c hostileCase) (int, string) {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	u, err := url.Parse(base + c.path)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u.String(), bytes.NewReader(c.body))
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := hostileClient.Do(req)
	if err != nil {
		t.Errorf("%s: %v", c.name, err)
		return 0, ""
	}
	defer func() { _ = resp.Body.Close() }()
	says, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, loc
	}
	return resp.StatusCode, string(says)
}

// hostileClient follows no redirect, so the test sees the receiver's own
// answer.
var hostileClient = &http.Client{
	Timeout:       time.Minute,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// hostileWantIncidents checks that ns holds exactly one incident of each
// accepted case's group, and nothing else.
func hostileWantIncidents(ctx context.Context, t *testing.T, after, ns string, accepted []hostileCase) {
	t.Helper()
	list := &klaxonv1alpha1.IncidentList{}
	if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, c := range accepted {
		want[c.opens] = true
	}
	got := map[string]int{}
	for _, inc := range list.Items {
		got[inc.Spec.Source.GroupKey]++
	}
	for key, n := range got {
		if !want[key] || n != 1 {
			t.Errorf("after %q namespace %s holds %d incidents of group %q, want %d", after, ns, n, hostileClip(key), map[bool]int{true: 1}[want[key]])
		}
	}
	for key := range want {
		if got[key] == 0 {
			t.Errorf("after %q namespace %s holds no incident of group %q", after, ns, key)
		}
	}
}

// hostileWantNoOverrides checks that no namespace of nss holds an
// OnCallOverride: nothing in the table may make one.
func hostileWantNoOverrides(ctx context.Context, t *testing.T, after string, nss ...string) {
	t.Helper()
	for _, ns := range nss {
		list := &klaxonv1alpha1.OnCallOverrideList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) > 0 {
			t.Errorf("after %q namespace %s holds %d OnCallOverrides, want none", after, ns, len(list.Items))
		}
	}
}

// hostileSlackAndCalendar gives the namespace a Slack app whose channel
// no Responder has a contact on, and a key for alice's calendar feed, and
// returns the token of that feed.
func hostileSlackAndCalendar(t *testing.T, ns string) string {
	t.Helper()
	slack := slacktest.Start(t, "")
	key := acklink.NewCalendarKey()
	signer, err := acklink.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	tenantCreate(t, slackApp(ns, hostileSlackSigning, slack.URL)...)
	tenantCreate(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: acklink.CalendarKeysSecret, Namespace: ns, Labels: map[string]string{acklink.CalendarKeysLabel: "true"}},
			Data: map[string][]byte{acklink.CalendarKeyName(acklink.CalendarResponder, "alice"): key}},
	)
	return signer.SignCalendar(acklink.CalendarClaims{Namespace: ns, Kind: acklink.CalendarResponder, Name: "alice"})
}

// hostileAckSigner signs with the operator's acknowledge-link key, read
// from its Secret, which the running operator made or loaded.
func hostileAckSigner(t *testing.T) *acklink.Signer {
	t.Helper()
	secret := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: localcluster.OperatorNamespace, Name: keystore.SecretName}, secret); err != nil {
		t.Fatal(err)
	}
	signer, err := acklink.NewSigner(secret.Data[keystore.SecretKey])
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// hostileMailsByIncident returns, for each incident of ns named in a
// mail's text, the addresses it was mailed to.
func hostileMailsByIncident(t *testing.T, mail *mailpit.Server, ns string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range mail.All(t) {
		var full mailpit.Message
		mail.Get(t, "/api/v1/message/"+m.ID, &full)
		for line := range strings.SplitSeq(full.Text, "\n") {
			if ref, ok := strings.CutPrefix(line, "Incident:"); ok {
				if name, ok := strings.CutPrefix(strings.TrimSpace(ref), ns+"/"); ok {
					for _, to := range full.To {
						out[name] = append(out[name], to.Address)
					}
				}
				break
			}
		}
	}
	return out
}

// hostileGroupKey is the groupKey of the group of alertname name, as
// Alertmanager makes it when grouping by alertname.
func hostileGroupKey(name string) string {
	return `{}:{alertname="` + name + `"}`
}

// hostilePayload is a firing notification of the group of alertname
// name with n critical alerts, each changed by edit when given.
func hostilePayload(name string, n int, edit func(a *template.Alert, i int)) []byte {
	msg := webhook.Message{Version: "4", GroupKey: hostileGroupKey(name), Data: &template.Data{
		Receiver: "klaxon", Status: "firing",
		GroupLabels:  template.KV{"alertname": name},
		CommonLabels: template.KV{"alertname": name, "severity": "critical"},
	}}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i := range n {
		a := template.Alert{Status: "firing", Fingerprint: fmt.Sprintf("%015x", i), StartsAt: start,
			Labels:      template.KV{"alertname": name, "severity": "critical", "instance": fmt.Sprintf("host-%05d", i)},
			Annotations: template.KV{"summary": name + " is failing"}}
		if edit != nil {
			edit(&a, i)
		}
		msg.Alerts = append(msg.Alerts, a)
	}
	if n == 1 {
		msg.CommonLabels = msg.Alerts[0].Labels
		msg.CommonAnnotations = msg.Alerts[0].Annotations
	}
	b, err := json.Marshal(msg)
	if err != nil {
		panic(err)
	}
	return b
}

// hostileBodyOf is a valid notification of the group Flood of just under
// size bytes: alerts with a dozen labels, as the memory figure of docs/install.md
// assumes. It returns the body and its number of alerts.
func hostileBodyOf(size int) ([]byte, int) {
	hundred := len(hostilePayload("Flood", 100, hostileDozenLabels))
	perAlert := (len(hostilePayload("Flood", 200, hostileDozenLabels)) - hundred) / 100
	n := 100 + (size-hundred)/perAlert
	for {
		body := hostilePayload("Flood", n, hostileDozenLabels)
		if len(body) <= size {
			return body, n
		}
		n -= 10
	}
}

func hostileDozenLabels(a *template.Alert, i int) {
	a.Labels["team"] = "payments"
	for j := range 9 {
		a.Labels[fmt.Sprintf("label_%d", j)] = fmt.Sprintf("value-%d-%d", i, j)
	}
	a.Annotations["description"] = "The pod restarted 5 times in 10 minutes."
}

// hostilePadded adds an ignored field to a payload until it is size bytes.
func hostilePadded(payload []byte, size int) []byte {
	pad := size - len(payload) - len(`,"pad":""`)
	return append(bytes.TrimSuffix(payload, []byte("}")), []byte(`,"pad":"`+strings.Repeat("x", pad)+`"}`)...)
}

// hostileNested adds a field holding arrays nested depth deep to a payload.
func hostileNested(payload []byte, depth int) []byte {
	return append(bytes.TrimSuffix(payload, []byte("}")),
		[]byte(`,"nested":`+strings.Repeat("[", depth)+strings.Repeat("]", depth)+`}`)...)
}

// hostileSetToken gives the namespace's receiver token Secret another
// value, before any route reads it.
func hostileSetToken(t *testing.T, ns, value string) {
	t.Helper()
	secret := &corev1.Secret{}
	ctx := context.Background()
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "alertmanager-token"}, secret); err != nil {
		t.Fatal(err)
	}
	secret.Data = map[string][]byte{"token": []byte(value)}
	if err := k8s.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
}

// hostileClip shortens what an answer or a title quotes back.
func hostileClip(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}

package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
)

// A callback whose replay key (replayKey) was answered within replayTTL
// answers 403 and does nothing: Twilio signs a callback once, so the same
// signed request coming again is a replay, and every TwiML that expects
// another request carries a step counter in its URLs.
//
// The keys are kept in memory, by each replica: they stop a replay to the
// same replica within the TTL, not one to another replica, nor one past
// the TTL. Those are served, and the incident's state decides what they
// do: key 1 finds the incident acknowledged and says so; a text's code
// finds no page of its number awaiting acknowledgement and changes
// nothing; a call's status finds its entry Failed already and does
// nothing; key 2 is checked against the level and round its call paged,
// and finds the next level due or paged already; a call's TwiML request
// only reads the page; a text that got the help line gets it at most once
// more per replica and helpEvery. Only a text's "ACK" or "1" could act
// again: it acknowledges the latest page still waiting to the number
// Twilio saw, which may be a later one. TLS keeps such a request from
// being captured in transit.
const (
	replayTTL = 10 * time.Minute
	// maxReplayKeys bounds each channel's replay keys; a full channel
	// forgets its oldest.
	maxReplayKeys     = 4096
	twilioRetrySecond = 5
	// A channel whose auth token cannot be used is logged once a minute.
	secretWarningEvery = time.Minute
	maxSecretWarnings  = 1024
)

// twilioCallbacks serves a twilio channel's callbacks, POST
// /twilio/{namespace}/{channel}/ and sms (a text to the channel's number),
// voice (a call's TwiML), voice/gather (the key pressed) or voice/status
// (how the call ended). Each is signed by Twilio with the channel's auth
// token over the public URL and the form; nothing is read or written for
// one that does not verify.
type twilioCallbacks struct {
	*Server
	// replays holds the replay keys of each channel's answered callbacks.
	replays *scopedCache[string, struct{}]
	// helped holds, per channel, the numbers that got the help line
	// lately.
	helped *scopedCache[string, struct{}]
	// secretWarnings holds the channels whose unusable auth token was
	// logged lately.
	secretWarnings *ttlCache[string, struct{}]
}

func newTwilioCallbacks(s *Server) *twilioCallbacks {
	return &twilioCallbacks{Server: s, replays: newScopedCache[string, struct{}](replayTTL, maxReplayKeys),
		helped:         newScopedCache[string, struct{}](helpEvery, maxHelpedNumbers),
		secretWarnings: newTTLCache[string, struct{}](secretWarningEvery, maxSecretWarnings)}
}

// twilioCallback is a callback whose signature verified.
type twilioCallback struct {
	namespace, channel string
	// path is the callback, one of the twilio.Path constants.
	path  string
	form  url.Values
	query url.Values
	// from stands for the caller in the per-client limits: the channel,
	// since Twilio calls back from addresses shared by all its customers.
	from   string
	signer *acklink.Signer
	ch     *klaxonv1alpha1.NotificationChannel
}

// twilioAnswer is the answer to one callback: TwiML, or a line of text
// for a request that is not a verified callback.
type twilioAnswer struct {
	code       int
	twiml      []byte
	text       string
	retryAfter int
	// cause is logged, never sent.
	cause error
	// transient is an answer to a request that could not be served now:
	// its replay key is not kept, and a call is asked to come back.
	transient bool
	// incident and responder are logged for a callback that acted.
	incident  client.ObjectKey
	responder string
	outcome   string
}

func twiml(body []byte) twilioAnswer {
	return twilioAnswer{code: http.StatusOK, twiml: body}
}

func twilioText(code int, text string, cause error) twilioAnswer {
	return twilioAnswer{code: code, text: text, cause: cause}
}

// twilioUnavailable answers 503, so that Twilio retries where it does.
func twilioUnavailable(err error) twilioAnswer {
	return twilioAnswer{code: http.StatusServiceUnavailable, retryAfter: twilioRetrySecond, transient: true,
		text: "Klaxon could not reach the Kubernetes API server; retry later", cause: err}
}

// ServeHTTP answers a callback and logs it; phone numbers are logged by
// their last digits only.
func (tc *twilioCallbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := tc.callback(w, r)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if a.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	if a.code == http.StatusMethodNotAllowed {
		h.Set("Allow", http.MethodPost)
	}
	if a.twiml != nil {
		h.Set("Content-Type", twilio.TwiMLContentType)
		w.WriteHeader(a.code)
		_, _ = w.Write(a.twiml)
	} else {
		writeText(w, a.code, a.text)
	}
	switch {
	case a.code >= http.StatusInternalServerError:
		tc.log.Error(a.cause, "Answered a Twilio callback with an error", "code", a.code, "path", r.PathValue("path"))
	case a.outcome != "":
		tc.log.Info("Answered a Twilio callback", "incident", klog.KRef(a.incident.Namespace, a.incident.Name),
			"responder", a.responder, "outcome", a.outcome, "error", a.cause)
	default:
		// Whatever an unverified caller sent is logged only at V(1).
		tc.log.V(1).Info("Answered a Twilio callback", "code", a.code, "message", a.text, "error", a.cause)
	}
}

// callback verifies the request and hands it to the handler of its path.
// A call's request that cannot be served now is asked to come back, so
// that the call goes on (callAgain).
func (tc *twilioCallbacks) callback(w http.ResponseWriter, r *http.Request) (a twilioAnswer) {
	path := r.PathValue("path")
	var handle func(context.Context, *twilioCallback) twilioAnswer
	switch path {
	case twilio.PathSMS:
		handle = tc.sms
	case twilio.PathVoice:
		handle = tc.voice
	case twilio.PathGather:
		handle = tc.gather
	case twilio.PathStatus:
		handle = tc.callStatus
	default:
		return twilioText(http.StatusNotFound, "No such Twilio callback: the paths are sms, voice, voice/gather and voice/status.", nil)
	}
	if r.Method != http.MethodPost {
		return twilioText(http.StatusMethodNotAllowed, "Twilio callbacks are POST requests.", nil)
	}
	ip := tc.clientIP(r)
	// Only failures count against an address, as for Slack: Twilio calls
	// back from shared addresses.
	refused := func(a twilioAnswer) twilioAnswer {
		if !tc.verifyFailures.allows(ip) {
			return twilioAnswer{code: http.StatusTooManyRequests, text: "Too many requests failed to verify; wait a minute", retryAfter: 60, cause: a.cause}
		}
		tc.verifyFailures.take(ip)
		return a
	}
	body, tooLarge, err := readBody(w, r, twilio.MaxFormBytes)
	switch {
	case tooLarge:
		return refused(twilioText(http.StatusRequestEntityTooLarge, "Request too large", err))
	case err != nil:
		return twilioText(http.StatusBadRequest, "The request broke off", err)
	}
	form, err := twilio.ParseForm(body)
	if err != nil {
		return refused(twilioText(http.StatusBadRequest, "Not a Twilio callback form", err))
	}
	if path == twilio.PathVoice || path == twilio.PathGather {
		defer func() {
			if a.transient {
				a = tc.callAgain(r, form, a)
			}
		}()
	}
	ctx, cancel := context.WithTimeout(r.Context(), tc.opts.APITimeout)
	defer cancel()
	ns, name := r.PathValue("namespace"), r.PathValue("channel")
	ch, a, ok := tc.twilioChannel(ctx, ns, name)
	if !ok {
		if a.code == http.StatusNotFound {
			return refused(a)
		}
		return a
	}
	fullURL := strings.TrimRight(tc.opts.PublicURL, "/") + r.URL.RequestURI()
	if a, ok = tc.verifySignature(ctx, ch, fullURL, form, r.Header.Get(twilio.SignatureHeader)); !ok {
		if a.code == http.StatusForbidden {
			return refused(a)
		}
		return a
	}
	// Verified: from here on the request is Twilio's.
	signer, ok := tc.opts.AckKeys.Signer()
	if !ok {
		return twilioAnswer{code: http.StatusServiceUnavailable, text: "Klaxon is starting; retry in a moment", retryAfter: twilioRetrySecond,
			transient: true, cause: errors.New("the acknowledge link key is not loaded yet")}
	}
	replays := tc.replays.scope(tc.clock.Now(), ns+"/"+name)
	key := replayKey(path, r.URL.RequestURI(), form)
	if key != "" && !replays.add(tc.clock.Now(), key, struct{}{}) {
		return twilioText(http.StatusForbidden, "This callback was already answered", fmt.Errorf("a replay of %s", path))
	}
	c := &twilioCallback{namespace: ns, channel: name, path: path, form: form, query: r.URL.Query(),
		from: "twilio:" + ns + "/" + name, signer: signer, ch: ch}
	a = handle(ctx, c)
	if key != "" && (a.code != http.StatusOK || a.transient) {
		// Not answered: the request may come again.
		replays.remove(key)
	}
	return a
}

// twilioChannel is the NotificationChannel the callback names, if it is a
// twilio channel the receiver serves. Every other case answers the same
// 404, which says nothing about what exists where.
func (tc *twilioCallbacks) twilioChannel(ctx context.Context, ns, name string) (*klaxonv1alpha1.NotificationChannel, twilioAnswer, bool) {
	notFound := func(cause error) (*klaxonv1alpha1.NotificationChannel, twilioAnswer, bool) {
		return nil, twilioText(http.StatusNotFound, "No Twilio channel of that name is served here.", cause), false
	}
	if !tc.watches(ns) {
		return notFound(fmt.Errorf("namespace %s is not watched (--watch-namespaces)", ns))
	}
	ch := &klaxonv1alpha1.NotificationChannel{}
	err := tc.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ch)
	switch {
	case apierrors.IsNotFound(err):
		return notFound(fmt.Errorf("NotificationChannel %s/%s does not exist", ns, name))
	case err != nil:
		return nil, twilioUnavailable(fmt.Errorf("reading NotificationChannel %s/%s: %w", ns, name, err)), false
	case ch.Spec.Twilio == nil:
		return notFound(fmt.Errorf("NotificationChannel %s/%s has no spec.twilio", ns, name))
	}
	return ch, twilioAnswer{}, true
}

// verifySignature checks X-Twilio-Signature with the channel's auth token
// (verifyWithChannelSecret). Only a failure to reach the API server
// answers 503; a token that is missing, unmarked or empty leaves the
// request unverifiable, answered 403 like a bad signature, and is logged
// at most once a minute per channel.
func (tc *twilioCallbacks) verifySignature(ctx context.Context, ch *klaxonv1alpha1.NotificationChannel, fullURL string, form url.Values, sig string) (twilioAnswer, bool) {
	err := tc.verifyWithChannelSecret(ctx, ch.Namespace, ch.Spec.Twilio.AuthTokenSecretRef, func(token []byte) bool {
		return twilio.Verify(string(token), fullURL, form, sig)
	})
	var trouble apiTrouble
	switch {
	case err == nil:
		return twilioAnswer{}, true
	case errors.As(err, &trouble):
		return twilioUnavailable(fmt.Errorf("the auth token of NotificationChannel %s/%s: %w", ch.Namespace, ch.Name, err)), false
	case !errors.Is(err, errSignatureMismatch):
		if tc.secretWarnings.add(tc.clock.Now(), ch.Namespace+"/"+ch.Name, struct{}{}) {
			tc.log.V(1).Info("Twilio callbacks of a channel cannot be verified: its auth token is unusable",
				"channel", klog.KObj(ch), "error", err)
		}
		err = errors.New("the channel's auth token is unusable")
	}
	return twilioText(http.StatusForbidden, "The request's signature does not verify",
		fmt.Errorf("NotificationChannel %s/%s: %w", ch.Namespace, ch.Name, err)), false
}

// replayKey names a callback among its channel's: a text by its message,
// a call's status by the call and the status, a call's TwiML request by
// its URL (page token and step counter), the call and the key pressed.
// "" when the form names none, which its handler refuses.
func replayKey(path, requestURI string, form url.Values) string {
	switch path {
	case twilio.PathSMS:
		if sid := form.Get("MessageSid"); sid != "" {
			return "m\x00" + sid
		}
	case twilio.PathStatus:
		if sid := form.Get("CallSid"); sid != "" {
			return "s\x00" + sid + "\x00" + form.Get("CallStatus")
		}
	default:
		if sid := form.Get("CallSid"); sid != "" {
			return "c\x00" + requestURI + "\x00" + sid + "\x00" + form.Get("Digits")
		}
	}
	return ""
}

// phoneFailure is what a texter or caller is told of a move that failed,
// by its kind: the answers' own words are written for acknowledge links.
func phoneFailure(a ackAnswer) string {
	switch a.code {
	case http.StatusGone:
		return "This page can no longer be answered: the incident was reopened, or deleted, since. Answer the latest page."
	case http.StatusTooManyRequests:
		return "Klaxon is answering many requests right now. Nothing was changed; try again in a minute."
	case http.StatusUnprocessableEntity:
		// The API server's refusal, which names no link.
		return a.view.Message
	}
	return "Klaxon could not reach the Kubernetes API server. Nothing was changed; try again in a moment."
}

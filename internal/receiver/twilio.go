package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/notify/twilio"
)

// A callback Twilio sends again (it retries on timeouts, and a replay
// carries a valid signature) is answered as the first one was, without a
// second write, for replayTTL.
const (
	replayTTL         = 10 * time.Minute
	maxReplayAnswers  = 4096
	twilioRetrySecond = 5
)

// twilioCallbacks serves a twilio channel's callbacks, POST
// /twilio/{namespace}/{channel}/ and sms (a text to the channel's number),
// voice (a call's TwiML), voice/gather (the key pressed) or voice/status
// (how the call ended). Each is signed by Twilio with the channel's auth
// token over the public URL and the form; nothing is read or written for
// one that does not verify.
type twilioCallbacks struct {
	*Server
	replays *replayCache
}

// twilioCallback is a callback whose signature verified.
type twilioCallback struct {
	namespace, channel string
	// path is the callback, one of the twilio.Path constants.
	path  string
	form  url.Values
	query url.Values
	// from is the client's address, for the per-client limits.
	from   string
	signer *acklink.Signer
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
	return twilioAnswer{code: http.StatusServiceUnavailable, retryAfter: twilioRetrySecond,
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
func (tc *twilioCallbacks) callback(w http.ResponseWriter, r *http.Request) twilioAnswer {
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
			cause: errors.New("the acknowledge link key is not loaded yet")}
	}
	key := replayKey(r.URL.RequestURI(), form)
	if prev, ok := tc.replays.lookup(key); ok {
		return prev
	}
	c := &twilioCallback{namespace: ns, channel: name, path: path, form: form, query: r.URL.Query(), from: ip, signer: signer}
	a = handle(ctx, c)
	if a.code == http.StatusOK {
		tc.replays.add(key, a)
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

// verifySignature checks X-Twilio-Signature with the channel's auth token,
// read again once if it does not match: the token may have been rotated.
// A token that cannot be read answers 503, so that Twilio retries once it
// can be.
func (tc *twilioCallbacks) verifySignature(ctx context.Context, ch *klaxonv1alpha1.NotificationChannel, fullURL string, form url.Values, sig string) (twilioAnswer, bool) {
	ref := ch.Spec.Twilio.AuthTokenSecretRef
	key := client.ObjectKey{Namespace: ch.Namespace, Name: ref.Name}
	token, err := tc.channelSecret(ctx, key, ref.Key, false)
	if err == nil && !twilio.Verify(string(token), fullURL, form, sig) {
		token, err = tc.channelSecret(ctx, key, ref.Key, true)
		if err == nil && !twilio.Verify(string(token), fullURL, form, sig) {
			return twilioText(http.StatusForbidden, "The request's signature does not verify",
				fmt.Errorf("NotificationChannel %s/%s: the X-Twilio-Signature does not match", ch.Namespace, ch.Name)), false
		}
	}
	if err != nil {
		return twilioUnavailable(fmt.Errorf("the auth token of NotificationChannel %s/%s: %w", ch.Namespace, ch.Name, err)), false
	}
	return twilioAnswer{}, true
}

// replayKey names a callback for the replay cache: its URL (channel, path,
// page token and repeat counter) and the message or call it is about,
// with the key pressed; "" when the form names neither.
func replayKey(requestURI string, form url.Values) string {
	switch {
	case form.Get("MessageSid") != "":
		return requestURI + "\x00m\x00" + form.Get("MessageSid")
	case form.Get("CallSid") != "":
		return requestURI + "\x00c\x00" + form.Get("CallSid") + "\x00" + form.Get("Digits") + "\x00" + form.Get("CallStatus")
	}
	return ""
}

// replayCache remembers the answers to callbacks for replayTTL. When it
// holds maxReplayAnswers it drops the expired ones, and all of them if
// none has expired: a replay then acts again, and the writes' own checks
// (the incident's state, the notification's) keep it from changing
// anything twice.
type replayCache struct {
	now func() time.Time

	mu      sync.Mutex
	answers map[string]replayedAnswer
}

type replayedAnswer struct {
	answer  twilioAnswer
	expires time.Time
}

func newReplayCache(now func() time.Time) *replayCache {
	return &replayCache{now: now, answers: map[string]replayedAnswer{}}
}

func (c *replayCache) lookup(key string) (twilioAnswer, bool) {
	if key == "" {
		return twilioAnswer{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.answers[key]
	if !ok || !c.now().Before(e.expires) {
		return twilioAnswer{}, false
	}
	a := e.answer
	a.outcome = "replayed: " + a.outcome
	return a, true
}

func (c *replayCache) add(key string, a twilioAnswer) {
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.answers) >= maxReplayAnswers {
		for k, e := range c.answers {
			if !now.Before(e.expires) {
				delete(c.answers, k)
			}
		}
		if len(c.answers) >= maxReplayAnswers {
			clear(c.answers)
		}
	}
	a.cause = nil
	c.answers[key] = replayedAnswer{answer: a, expires: now.Add(replayTTL)}
}

// phoneFailure is what a texter or caller is told of a move that failed.
func phoneFailure(a ackAnswer) string {
	msg := a.view.Message
	// The answers were written for acknowledge links.
	msg = strings.ReplaceAll(msg, "this link was made for", "this page was sent for")
	msg = strings.ReplaceAll(msg, "This link is for", "This page is for")
	msg = strings.ReplaceAll(msg, "Use the link of the latest page.", "Answer the latest page.")
	msg = strings.ReplaceAll(msg, "Too many links from your address are", "Too many answers are")
	msg = strings.ReplaceAll(msg, "open the link from the latest page.", "answer the latest page.")
	return msg
}

// lastDigits is what the log shows of a phone number.
func lastDigits(number string) string {
	if len(number) <= 4 {
		return "…"
	}
	return "…" + number[len(number)-4:]
}

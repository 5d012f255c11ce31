package receiver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// slackRefusal is the answer to a Slack request that is not taken: the
// status, the sentence shown, Retry-After in seconds, and the cause, which
// is logged, never shown.
type slackRefusal struct {
	code       int
	text       string
	retryAfter int
	cause      error
}

// slackRequest is a request Slack signs with an app's signing secret (a
// slash command or a button press): read, not yet verified.
type slackRequest struct {
	s       *Server
	body    []byte
	ip      string
	ts, sig string
}

// readSlackRequest reads a signed Slack request, its body at most maxBytes.
func (s *Server) readSlackRequest(w http.ResponseWriter, r *http.Request, maxBytes int64) (*slackRequest, *slackRefusal) {
	body, tooLarge, err := readBody(w, r, maxBytes)
	switch {
	case tooLarge:
		return nil, &slackRefusal{code: http.StatusRequestEntityTooLarge, text: "Request too large", cause: err}
	case err != nil:
		return nil, &slackRefusal{code: http.StatusBadRequest, text: "The request broke off", cause: err}
	}
	return &slackRequest{s: s, body: body, ip: s.clientIP(r),
		ts: r.Header.Get("X-Slack-Request-Timestamp"), sig: r.Header.Get("X-Slack-Signature")}, nil
}

// refuse counts a failed request against the sender's address and returns
// rf, or 429 once the address failed too often. Only failures count, and
// only once they happen: Slack sends every workspace's requests from shared
// addresses, so a prober's failures must not lock out genuine requests.
func (q *slackRequest) refuse(rf slackRefusal) slackRefusal {
	if !q.s.verifyFailures.allows(q.ip) {
		return slackRefusal{code: http.StatusTooManyRequests, text: "Too many requests failed to verify; wait a minute", retryAfter: 60}
	}
	q.s.verifyFailures.take(q.ip)
	return rf
}

// unverified refuses a request whose signature does not verify. Whatever
// the reason, the caller is told only that; the log says why.
func (q *slackRequest) unverified(cause error) slackRefusal {
	return q.refuse(slackRefusal{code: http.StatusUnauthorized, text: "The request's signature does not verify", cause: cause})
}

// verify checks the request's timestamp, then its signature with the
// signing secret of each channel candidates returns, and returns those whose
// secret verifies it (at least one) and the request's time. candidates is
// called only for a request within the time window. The API server failing
// (an apiTrouble, from candidates or reading a secret) is answered 503 and
// not held against the sender; anything else is unverified.
func (q *slackRequest) verify(ctx context.Context, candidates func(context.Context) ([]*klaxonv1alpha1.NotificationChannel, error)) (
	[]*klaxonv1alpha1.NotificationChannel, time.Time, *slackRefusal) {
	fail := func(err error) ([]*klaxonv1alpha1.NotificationChannel, time.Time, *slackRefusal) {
		var unavailable apiTrouble
		if errors.As(err, &unavailable) {
			return nil, time.Time{}, &slackRefusal{code: http.StatusServiceUnavailable,
				text: "Klaxon could not reach the Kubernetes API server; try again", retryAfter: 5, cause: err}
		}
		rf := q.unverified(err)
		return nil, time.Time{}, &rf
	}
	at, err := slackTimestamp(q.s.clock.Now(), q.ts)
	if err != nil {
		return fail(err)
	}
	channels, err := candidates(ctx)
	if err != nil {
		return fail(err)
	}
	var verified, mismatched []*klaxonv1alpha1.NotificationChannel
	var last error
	valid := func(secret []byte) bool { return slackSignatureValid(secret, q.ts, q.body, q.sig) }
	// The secrets as cached first, for every candidate; only when none
	// verifies are they read again (one may have been rotated): a genuine
	// request costs no read of the API server however many apps there are.
	for _, refresh := range []bool{false, true} {
		for _, ch := range channels {
			err = q.s.checkChannelSecret(ctx, ch.Namespace, *ch.Spec.Slack.SigningSecretRef, valid, refresh)
			var unavailable apiTrouble
			switch {
			case err == nil:
				verified = append(verified, ch)
			case errors.As(err, &unavailable):
				return fail(err)
			case errors.Is(err, errSignatureMismatch) && !refresh:
				mismatched = append(mismatched, ch)
				last = fmt.Errorf("NotificationChannel %s/%s: %w", ch.Namespace, ch.Name, err)
			default:
				last = fmt.Errorf("NotificationChannel %s/%s: %w", ch.Namespace, ch.Name, err)
			}
		}
		if len(verified) > 0 {
			break
		}
		channels = mismatched
	}
	switch {
	case len(verified) > 0:
		return verified, at, nil
	case len(channels) == 1:
		return fail(last)
	}
	return fail(fmt.Errorf("no signing secret of the %d Slack NotificationChannels verifies the request", len(channels)))
}

// slackTimestamp parses a request's timestamp and checks it is within
// slackMaxSkew of now: Slack's own advice against replays.
func slackTimestamp(now time.Time, ts string) (time.Time, error) {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, errors.New("no valid X-Slack-Request-Timestamp")
	}
	at := time.Unix(sec, 0)
	if skew := now.Sub(at); skew > slackMaxSkew || skew < -slackMaxSkew {
		return time.Time{}, fmt.Errorf("the request's timestamp is %s away from now", skew.Round(time.Second))
	}
	return at, nil
}

// slackSignatureValid checks Slack's v0 signature: HMAC-SHA256 of
// "v0:{timestamp}:{body}" under the signing secret, in hex.
func slackSignatureValid(secret []byte, ts string, body []byte, sig string) bool {
	mac := hmac.New(sha256.New, secret)
	_, _ = mac.Write([]byte("v0:" + ts + ":"))
	_, _ = mac.Write(body)
	want := "v0=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(sig))
}

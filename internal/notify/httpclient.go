package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/egress"
)

const (
	// maxAnswerBytes bounds what is read of an answer: the senders need
	// a status and at most a small JSON object.
	maxAnswerBytes = 64 << 10
	// maxErrorBodyBytes bounds the part of an answer kept for the log.
	maxErrorBodyBytes = 200
	// userAgent names Klaxon to the receiving end.
	userAgent = "klaxon"
)

// httpClient returns c, or a client bounded by SendTimeout that connects
// only where the egress policy p allows, through no proxy, and does not
// follow redirects: a redirect is the other end choosing where Klaxon
// connects next, and a redirected POST turns into a GET whose answer could
// be anything the operator reaches.
func httpClient(c *http.Client, p *egress.Policy) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{
		Timeout:   SendTimeout,
		Transport: GuardedTransport(p),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// HTTPClient is the client the senders of this package use, for senders
// of other packages: bounded by SendTimeout, dialling only where p allows,
// never following redirects.
func HTTPClient(p *egress.Policy) *http.Client { return httpClient(nil, p) }

// GuardedTransport is an HTTP transport that dials only where p allows.
// It uses no proxy: a proxy would connect on Klaxon's behalf, past the
// check. Senders are built for each send, so it keeps no connection open
// after a request: idle connections of discarded transports would pile up
// in a storm.
func GuardedTransport(p *egress.Policy) *http.Transport {
	d := &egress.Dialer{Policy: p, Timeout: SendTimeout}
	return &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		DisableKeepAlives:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// CheckHTTPURL parses an endpoint URL and checks that it is absolute http
// or https. The errors never quote the URL, which may carry a secret.
func CheckHTTPURL(what, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("the %s URL is empty: set an absolute http or https URL", what)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the %s URL cannot be parsed: set an absolute http or https URL", what)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("the %s URL must use http or https, not %q", what, bounded.Bytes(u.Scheme, 16))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("the %s URL has no host: set an absolute http or https URL", what)
	}
	return u, nil
}

// CheckBaseURL is CheckHTTPURL for the base of an API, to which paths are
// appended: a query or fragment would end up in the wrong place, and
// credentials belong in their own settings.
func CheckBaseURL(what, raw string) (*url.URL, error) {
	u, err := CheckHTTPURL(what, raw)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("the %s URL must not carry a query, a fragment or credentials", what)
	}
	return u, nil
}

// EncodeJSON encodes v without escaping &, < and > for HTML: the bodies
// are read by programs, and "\u0026" in a URL only confuses people.
func EncodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// CheckToken checks that a token can be sent in a header: a line break or
// control character would be refused by net/http on every attempt.
func CheckToken(what, token string) error {
	if strings.ContainsFunc(token, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("the %s token contains a line break or control character", what)
	}
	return nil
}

// Post sends body to endpoint with the given headers and returns the
// answer's status and at most maxAnswerBytes of its body. The status is 0
// exactly when there was no answer; err then says why (retryable), without
// the URL. With a status, err is a failure to read the body, if any.
func Post(ctx context.Context, client *http.Client, endpoint string, header http.Header, body []byte) (int, []byte, error) {
	code, data, _, err := post(ctx, client, endpoint, header, body)
	return code, data, err
}

// post is Post that also returns the answer's header.
func post(ctx context.Context, client *http.Client, endpoint string, header http.Header, body []byte) (int, []byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, Permanent(fmt.Errorf("building the request: %w", RedactURL(err)))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		if refusedByEgress(err) {
			return 0, nil, nil, Permanent(RedactURL(err))
		}
		return 0, nil, nil, RedactURL(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return resp.StatusCode, data, resp.Header, fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, RedactURL(err))
	}
	return resp.StatusCode, data, resp.Header, nil
}

// maxRetryAfter bounds the wait an answer's Retry-After may ask for.
const maxRetryAfter = 10 * time.Minute

// retryAfterError is an error whose answer said when to try again.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e retryAfterError) Error() string { return e.err.Error() }
func (e retryAfterError) Unwrap() error { return e.err }

// withRetryAfter marks err with the wait the answer's Retry-After header
// asks for, in seconds, at most maxRetryAfter; err as it is without one.
func withRetryAfter(err error, header http.Header) error {
	secs, perr := strconv.Atoi(strings.TrimSpace(header.Get("Retry-After")))
	if err == nil || perr != nil || secs < 0 {
		return err
	}
	return retryAfterError{err: err, after: min(time.Duration(secs)*time.Second, maxRetryAfter)}
}

// RetryAfter is how long the answer behind err asked to wait before trying
// again (its Retry-After header); false when it did not say.
func RetryAfter(err error) (time.Duration, bool) {
	var r retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// RedactURL drops the *url.Error around err: it quotes the whole URL, and
// a webhook URL may carry a token in its path or query.
func RedactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request: %w", ue.Op, ue.Err)
	}
	return err
}

// RetryableStatus reports whether an HTTP status is worth retrying: a
// timeout, a rate limit or a server error.
func RetryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// statusError describes a non-2xx answer by its status alone. The start
// of the body is kept for the log only (LogDetail): the status is read by
// anyone who may view the namespace, and the body is whatever the
// channel's URL answered.
func statusError(who string, code int, body []byte) error {
	msg := fmt.Sprintf("%s answered HTTP %d", who, code)
	if text := http.StatusText(code); text != "" {
		msg += " " + text
	}
	return AnswerError(msg, code, body)
}

// AnswerError is the error of a non-2xx answer: summary is its message,
// the start of body is kept for the log only (LogDetail), and it is
// Permanent unless RetryableStatus(status).
func AnswerError(summary string, status int, body []byte) error {
	var detail string
	if s := snippet(body); s != "" {
		detail = "answer: " + s
	}
	err := Quiet(summary, detail, nil)
	if RetryableStatus(status) {
		return err
	}
	return Permanent(err)
}

// snippet is the start of an answer's body, on one line, at most
// maxErrorBodyBytes.
func snippet(body []byte) string {
	if len(body) > 4*maxErrorBodyBytes {
		// OneLine copies; it need not see more than can be kept.
		body = body[:4*maxErrorBodyBytes]
	}
	return bounded.Bytes(OneLine(string(body)), maxErrorBodyBytes)
}

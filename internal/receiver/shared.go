package receiver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// answer is the HTTP answer of a surface authenticated by a route's token
// (Alertmanager webhooks, heartbeat pings).
type answer struct {
	code    int
	message string
	// namespace and route are the metrics labels: set only once the route
	// is known to exist, so their values are bounded by the routes there
	// are, whatever URLs callers make up.
	namespace, route string
	// cause is the error behind a 5xx answer, for the log.
	cause error
}

// apiUnavailable answers 503: Alertmanager retries, so nothing is lost. The
// cause is logged; the body does not carry it, since the caller is not
// authenticated yet.
func apiUnavailable(err error) answer {
	if errors.Is(err, errBusy) {
		return answer{code: http.StatusServiceUnavailable, message: "the receiver is busy; Alertmanager will retry", cause: err}
	}
	return answer{code: http.StatusServiceUnavailable,
		message: "the Kubernetes API server could not be reached or failed; Alertmanager will retry", cause: err}
}

// unavailable answers 503 to an authenticated caller, saying what failed.
func unavailable(err error) answer {
	return answer{code: http.StatusServiceUnavailable,
		message: fmt.Sprintf("the Kubernetes API server could not be reached or failed; Alertmanager will retry: %v", err), cause: err}
}

// writeText answers code with msg as one line of plain text, after
// whatever headers the caller set.
func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

// readBody reads the request body, at most limit bytes. tooLarge says the
// body was longer than that; any other error, that it broke off.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var maxBytes *http.MaxBytesError
	return body, errors.As(err, &maxBytes), err
}

// bearerToken returns the request's bearer token, without surrounding
// whitespace.
func bearerToken(r *http.Request) ([]byte, bool) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, false
	}
	return []byte(token), true
}

// watches tells whether the cache holds namespace ns. Outside
// --watch-namespaces the cache refuses to answer; every surface answers as
// for a namespace without the object asked for, never 503, so Alertmanager
// does not retry a wrong URL forever.
func (s *Server) watches(ns string) bool {
	return len(s.opts.Namespaces) == 0 || slices.Contains(s.opts.Namespaces, ns)
}

// clientIP is the address the request came from. Forwarded headers are not
// trusted: anyone could set them to dodge the limit.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// maxLimitedClients bounds the clients a clientLimiter remembers.
const maxLimitedClients = 4096

// clientLimiter limits events per client. When it remembers
// maxLimitedClients it forgets them all: a safety net against memory use,
// at the price of a fresh allowance for everyone.
type clientLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

func newClientLimiter(perSecond float64, burst int) *clientLimiter {
	return &clientLimiter{limit: rate.Limit(perSecond), burst: burst, clients: map[string]*rate.Limiter{}}
}

// allows reports whether the client has allowance left, without using any.
func (l *clientLimiter) allows(client string) bool {
	l.mu.Lock()
	lim, ok := l.clients[client]
	l.mu.Unlock()
	return !ok || lim.Tokens() >= 1
}

// take uses one of the client's allowance.
func (l *clientLimiter) take(client string) {
	l.mu.Lock()
	lim, ok := l.clients[client]
	if !ok {
		if len(l.clients) >= maxLimitedClients {
			clear(l.clients)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.clients[client] = lim
	}
	l.mu.Unlock()
	lim.Allow()
}

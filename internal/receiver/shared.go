package receiver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
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
	// outage says the API server could not be reached to check the
	// caller's token, which matches the last one read: the notification
	// is still refused (503), and counts for the fallback alone.
	outage bool
}

// apiUnavailable answers 503: senders retry, so nothing is lost. The
// cause is logged; the body does not carry it, since the caller is not
// authenticated yet.
func apiUnavailable(err error) answer {
	if errors.Is(err, errBusy) {
		return answer{code: http.StatusServiceUnavailable, message: "the receiver is busy; retry later", cause: err}
	}
	return answer{code: http.StatusServiceUnavailable,
		message: "the Kubernetes API server could not be reached or failed; retry later", cause: err}
}

// unavailable answers 503 to an authenticated caller, saying what failed.
func unavailable(err error) answer {
	return answer{code: http.StatusServiceUnavailable,
		message: fmt.Sprintf("the Kubernetes API server could not be reached or failed; retry later: %v", err), cause: err}
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

// clientIP is the address the request came from, for the per-client
// limits. Forwarded headers are trusted only from the proxies listed in
// Options.TrustedProxies: anyone else could set them to dodge the limits.
func (s *Server) clientIP(r *http.Request) string {
	return clientAddress(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.opts.TrustedProxies)
}

// clientAddress is the right-most address of the chain of peer and
// X-Forwarded-For entries that is not a trusted proxy. Each proxy appends
// the address it saw, so entries left of the first untrusted one are the
// client's to make up; an entry that is not an address ends the walk at
// the proxy that wrote it.
func clientAddress(remoteAddr string, forwarded []string, trusted []netip.Prefix) string {
	peer := remoteAddr
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		peer = host
	}
	if len(trusted) == 0 || len(forwarded) == 0 {
		return peer
	}
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(addr) {
		return peer
	}
	var entries []string
	for _, v := range forwarded {
		entries = append(entries, strings.Split(v, ",")...)
	}
	client := addr
	for i := len(entries) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(entries[i]))
		if err != nil {
			break
		}
		client = a.Unmap()
		if !isTrusted(client) {
			break
		}
	}
	return client.String()
}

// ParseTrustedProxies parses a comma-separated list of CIDRs and
// addresses (--trusted-proxies); an address stands for itself alone.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var proxies []netip.Prefix
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if p, err := netip.ParsePrefix(entry); err == nil {
			proxies = append(proxies, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(entry)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither a CIDR nor an address", entry)
		}
		a = a.Unmap()
		proxies = append(proxies, netip.PrefixFrom(a, a.BitLen()))
	}
	return proxies, nil
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

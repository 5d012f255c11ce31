package receiver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/statuspage"
)

// Status pages are public and read only from the cache, so a request costs
// no API request. A rendered page or feed is served to every reader for
// Options.StatusCacheTTL, whatever their address: behind an ingress all
// readers share one. Past that, each client gets only so many renders per
// second, and all of them together only so many, so nobody can keep the
// receiver busy rendering; a client past either is served the copy it
// would have had a moment ago, if there is one.
const (
	statusRequestsPerSecond = 5
	statusRequestBurst      = 30
	statusRendersPerSecond  = 20
	statusRenderBurst       = 40
	// maxCachedStatusPages bounds the rendered pages kept; only pages that
	// exist are kept, two per StatusPage.
	maxCachedStatusPages = 2048
	// statusCacheControl lets browsers and proxies reuse a page for 30
	// seconds; the page refreshes itself every 60.
	statusCacheControl = "public, max-age=30"
	// statusCSP allows inline styles and nothing else: no script, no
	// image, no form, no framing.
	statusCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)

// statusPages serves StatusPages read-only: GET (and HEAD)
// /status/{namespace}/{name} as HTML and /status/{namespace}/{name}/feed.atom
// as Atom.
type statusPages struct {
	*Server

	// clients limits the renders each client causes; renders limits them
	// across all clients.
	clients *clientLimiter
	renders *rate.Limiter

	mu       sync.Mutex
	rendered map[statusKey]renderedPage
}

func newStatusPages(s *Server) *statusPages {
	return &statusPages{Server: s, clients: newClientLimiter(statusRequestsPerSecond, statusRequestBurst),
		renders: rate.NewLimiter(statusRendersPerSecond, statusRenderBurst), rendered: map[statusKey]renderedPage{}}
}

// statusKey names one rendering: a page, as HTML or as its feed.
type statusKey struct {
	namespace, name string
	feed            bool
}

// renderedPage is a page rendered at a time, kept for other readers.
type renderedPage struct {
	body        []byte
	contentType string
	at          time.Time
}

// servePage answers a request for a page.
func (sp *statusPages) servePage(w http.ResponseWriter, r *http.Request) { sp.serve(w, r, false) }

// serveFeed answers a request for a page's feed.
func (sp *statusPages) serveFeed(w http.ResponseWriter, r *http.Request) { sp.serve(w, r, true) }

// serve answers one request for a page, or for its feed.
func (sp *statusPages) serve(w http.ResponseWriter, r *http.Request, feed bool) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", statusCSP)
	h.Set("Referrer-Policy", "no-referrer")

	code, body, contentType := sp.render(r, ns, name, feed)
	h.Set("Content-Type", contentType)
	switch code {
	case http.StatusOK:
		h.Set("Cache-Control", statusCacheControl)
	case http.StatusMethodNotAllowed:
		h.Set("Allow", "GET, HEAD")
		h.Set("Cache-Control", "no-store")
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		h.Set("Retry-After", "5")
		h.Set("Cache-Control", "no-store")
	default:
		h.Set("Cache-Control", "no-store")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		if _, err := w.Write(body); err != nil {
			sp.log.V(1).Info("Writing a status page", "error", err)
		}
	}
}

// render returns the answer's code, body and content type: the copy
// rendered for every reader if it is fresh, else a new rendering.
func (sp *statusPages) render(r *http.Request, ns, name string, feed bool) (int, []byte, string) {
	const text = "text/plain; charset=utf-8"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return http.StatusMethodNotAllowed, []byte("Status pages are read-only: use GET.\n"), text
	}
	key := statusKey{namespace: ns, name: name, feed: feed}
	sp.mu.Lock()
	last, found := sp.rendered[key]
	sp.mu.Unlock()
	if found && sp.clock.Since(last.at) < sp.opts.StatusCacheTTL {
		return http.StatusOK, last.body, last.contentType
	}
	ip := sp.clientIP(r)
	if !sp.clients.allows(ip) {
		if found {
			return http.StatusOK, last.body, last.contentType
		}
		return http.StatusTooManyRequests, []byte("Too many requests from your address; the page refreshes itself every minute. Try again in a few seconds.\n"), text
	}
	sp.clients.take(ip)
	if !sp.renders.Allow() {
		if found {
			return http.StatusOK, last.body, last.contentType
		}
		return http.StatusServiceUnavailable, []byte("Status pages are busy: too many are being read at once. Try again in a few seconds.\n"), text
	}
	at := sp.clock.Now()
	code, body, contentType := sp.renderNow(r.Context(), ns, name, feed)
	if code == http.StatusOK {
		sp.keep(key, renderedPage{body: body, contentType: contentType, at: at})
	}
	return code, body, contentType
}

// keep remembers a page rendered. When it holds maxCachedStatusPages it
// forgets them all: pages that exist are far fewer.
func (sp *statusPages) keep(key statusKey, p renderedPage) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if _, ok := sp.rendered[key]; !ok && len(sp.rendered) >= maxCachedStatusPages {
		clear(sp.rendered)
	}
	sp.rendered[key] = p
}

// renderNow renders the page, or its feed, from the cache.
func (sp *statusPages) renderNow(ctx context.Context, ns, name string, feed bool) (int, []byte, string) {
	const html, text = "text/html; charset=utf-8", "text/plain; charset=utf-8"
	ctx, cancel := context.WithTimeout(ctx, sp.opts.APITimeout)
	defer cancel()
	view, err := sp.view(ctx, ns, name)
	var buf bytes.Buffer
	switch {
	case apierrors.IsNotFound(err):
		_ = statuspage.WriteNotFound(&buf)
		return http.StatusNotFound, buf.Bytes(), html
	case err != nil:
		sp.log.Error(err, "Reading a status page", "statusPage", klog.KRef(ns, name))
		return http.StatusServiceUnavailable, []byte("The status page cannot be read right now. Try again in a moment.\n"), text
	}
	if feed {
		err = statuspage.WriteAtom(&buf, view)
	} else {
		err = statuspage.WriteHTML(&buf, view)
	}
	if err != nil {
		sp.log.Error(err, "Rendering a status page", "statusPage", klog.KRef(ns, name))
		return http.StatusInternalServerError, []byte("The status page could not be rendered.\n"), text
	}
	if feed {
		return http.StatusOK, buf.Bytes(), "application/atom+xml; charset=utf-8"
	}
	return http.StatusOK, buf.Bytes(), html
}

// view reads the page and its namespace's incidents from the cache and
// builds what the page shows. The incidents are listed without deep
// copies: they are only read, and a namespace may hold many.
func (sp *statusPages) view(ctx context.Context, ns, name string) (statuspage.View, error) {
	page := &klaxonv1alpha1.StatusPage{}
	if !sp.watches(ns) {
		return statuspage.View{}, apierrors.NewNotFound(klaxonv1alpha1.GroupVersion.WithResource("statuspages").GroupResource(), name)
	}
	if err := sp.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, page); err != nil {
		return statuspage.View{}, err
	}
	opts := []client.ListOption{client.InNamespace(ns), client.UnsafeDisableDeepCopy}
	sel, err := statuspage.Selector(page)
	if err != nil {
		// The page's Ready condition says so; the page shows no incident.
		sp.log.V(1).Info("Status page has an invalid selector", "statusPage", klog.KObj(page), "error", err)
		return statuspage.Build(page, nil, sp.clock.Now()), nil
	}
	opts = append(opts, client.MatchingLabelsSelector{Selector: sel})
	list := &klaxonv1alpha1.IncidentList{}
	if err = sp.client.List(ctx, list, opts...); err != nil {
		return statuspage.View{}, fmt.Errorf("listing the incidents of namespace %s: %w", ns, err)
	}
	shown, err := statuspage.Select(page, list.Items)
	if err != nil {
		return statuspage.View{}, err
	}
	return statuspage.Build(page, shown, sp.clock.Now()), nil
}

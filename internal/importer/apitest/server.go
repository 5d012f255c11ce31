// Package apitest serves a tool's API answers from a directory of saved
// answers (the fixtures of an import's tests), behind the tool's own
// authentication, so that an import is tested over HTTP exactly as it
// reads the real API.
package apitest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// API is how one tool's API answers besides its saved answers.
type API struct {
	// Prefix is the path under which the API is served, such as "/api/v1".
	Prefix string
	// Authorized says whether a request carries the right token.
	Authorized func(r *http.Request) bool
	// Unauthorized is the body of the API's 401 answer.
	Unauthorized string
	// NotFound is the body of the API's 404 answer.
	NotFound string
}

// Server answers GET requests with the saved answer of their path and
// query from its directory.
type Server struct {
	*httptest.Server
	api API
	dir string

	mu       sync.Mutex
	requests []string
	throttle map[string]bool
}

// Serve starts a Server for api over dir, stopped when the test ends.
func Serve(t testing.TB, api API, dir string) *Server {
	t.Helper()
	s := &Server{api: api, dir: dir, throttle: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// URL returns the API's base URL.
func (s *Server) URL() string { return s.Server.URL + s.api.Prefix }

// ThrottleOnce makes the next request of path (relative to the prefix)
// answer 429 with Retry-After: 1, as an API does past its rate limit.
func (s *Server) ThrottleOnce(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[strings.Trim(path, "/")] = true
}

// Requests returns the paths and queries requested so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	path, ok := strings.CutPrefix(r.URL.Path, s.api.Prefix)
	path = strings.Trim(path, "/")
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RequestURI())
	throttled := s.throttle[path]
	delete(s.throttle, path)
	s.mu.Unlock()
	switch {
	case r.Method != http.MethodGet:
		http.Error(w, `{"error":"method not allowed"}`, http.StatusMethodNotAllowed)
		return
	case !s.api.Authorized(r):
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(s.api.Unauthorized))
		return
	case throttled:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":"rate limited"}`))
		return
	case !ok:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(s.api.NotFound))
		return
	}
	body, err := os.ReadFile(filepath.Join(s.dir, importer.FileName(path, r.URL.Query())))
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(s.api.NotFound))
		return
	}
	_, _ = w.Write(body)
}

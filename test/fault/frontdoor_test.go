package fault

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"
)

// frontDoor stands where a Service stands in a cluster: between
// Alertmanager and the receivers of every replica. It sends each request
// to the next replica that accepts a connection, as a Service skips
// endpoints that are not ready, and records every answer.
type frontDoor struct {
	url      string
	backends []string
	client   *http.Client

	mu      sync.Mutex
	next    int
	answers []answer
}

// answer is one webhook request and how it was answered.
type answer struct {
	at      time.Time
	path    string
	backend string // "" when no replica accepted the connection
	code    int
	body    string
	err     string // the request failed without an answer
	// abandoned: the sender gave up waiting (Alertmanager's retry deadline).
	abandoned bool
	took      time.Duration
}

// newFrontDoor serves on a loopback port until the test ends.
func newFrontDoor(t *testing.T, backends ...string) *frontDoor {
	t.Helper()
	fd := &frontDoor{backends: backends, client: &http.Client{Timeout: 30 * time.Second}}
	srv := httptest.NewServer(http.HandlerFunc(fd.serve))
	t.Cleanup(srv.Close)
	fd.url = srv.URL
	return fd
}

func (fd *frontDoor) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fd.mu.Lock()
	first := fd.next
	fd.next = (fd.next + 1) % len(fd.backends)
	fd.mu.Unlock()
	began := time.Now()
	for i := range fd.backends {
		backend := fd.backends[(first+i)%len(fd.backends)]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, backend+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := fd.client.Do(req)
		if errors.Is(err, syscall.ECONNREFUSED) {
			continue // not accepting connections: the next replica
		}
		if err != nil {
			fd.record(answer{at: time.Now(), took: time.Since(began), path: r.URL.Path, backend: backend, err: err.Error(),
				abandoned: r.Context().Err() != nil})
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		answerBody, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		_ = resp.Body.Close()
		fd.record(answer{at: time.Now(), took: time.Since(began), path: r.URL.Path, backend: backend, code: resp.StatusCode, body: string(answerBody)})
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(answerBody)
		return
	}
	fd.record(answer{at: time.Now(), path: r.URL.Path, code: http.StatusServiceUnavailable})
	http.Error(w, "no replica accepts connections", http.StatusServiceUnavailable)
}

func (fd *frontDoor) record(a answer) {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	fd.answers = append(fd.answers, a)
}

// recorded returns the answers so far.
func (fd *frontDoor) recorded() []answer {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	return append([]answer(nil), fd.answers...)
}

func (a answer) String() string {
	if a.err != "" {
		return fmt.Sprintf("%s %s to %q failed after %s: %s", a.at.Format("15:04:05.000"), a.path, a.backend, a.took, a.err)
	}
	return fmt.Sprintf("%s %s from %q after %s: %d %q", a.at.Format("15:04:05.000"), a.path, a.backend, a.took, a.code, a.body)
}

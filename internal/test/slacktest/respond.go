package slacktest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// maxResponseBytes bounds a message posted to a response_url; Slack's own
// limit on a message's text is 40,000 characters.
const maxResponseBytes = 160 << 10

// Response is one message posted to a Responder's response_url.
type Response struct {
	// Path is the path of the response_url it was posted to.
	Path string
	// ResponseType is "in_channel" or "ephemeral".
	ResponseType string `json:"response_type"`
	// ReplaceOriginal is the replace_original field, nil when absent.
	ReplaceOriginal *bool  `json:"replace_original"`
	Text            string `json:"text"`
}

// Responder is a local stand-in for the response_url Slack gives a slash
// command: it takes the JSON messages Slack documents for it (answering
// 200 "ok", or 400 with Slack's error for a malformed one) and records
// them. Its methods are safe for concurrent use.
type Responder struct {
	// URL is a response_url; any path under it is one too.
	URL string

	mu        sync.Mutex
	responses []Response
	// changed is closed and replaced whenever a response is recorded.
	changed chan struct{}
}

// StartResponder starts a Responder and stops it when the test ends.
func StartResponder(t testing.TB) *Responder {
	t.Helper()
	r := &Responder{changed: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/commands/T0TEAM/1/response"
	return r
}

func (r *Responder) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, "method_not_allowed", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxResponseBytes))
	if err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	resp := Response{Path: req.URL.Path}
	switch {
	case json.Unmarshal(body, &resp) != nil:
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	case resp.Text == "":
		http.Error(w, "no_text", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.responses = append(r.responses, resp)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	_, _ = io.WriteString(w, "ok")
}

// Responses are the messages posted so far, in order.
func (r *Responder) Responses() []Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Response(nil), r.responses...)
}

// Wait waits up to timeout for n messages in all and returns them; the test
// fails if fewer come.
func (r *Responder) Wait(t testing.TB, n int, timeout time.Duration) []Response {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		got, changed := append([]Response(nil), r.responses...), r.changed
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%d messages posted to the response_url within %s, want %d: %+v", len(got), timeout, n, got)
			return got
		}
	}
}

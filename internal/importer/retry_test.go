package importer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 7 ":                           7 * time.Second,
		"-5":                            0,
		"100000":                        maxRetryAfter,
		"Mon, 07 Dec 2026 09:00:30 GMT": 30 * time.Second,
		"Mon, 07 Dec 2026 08:00:00 GMT": 0,
		"soon":                          0,
	}
	for h, want := range cases {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", h, got, want)
		}
	}
}

// A 5xx is retried with growing waits, and a source that keeps failing
// gives up after maxRetries with the API's answer in the error.
func TestHTTPSourceRetriesServerErrorsAndGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, `{"error":"try later"}`, http.StatusBadGateway)
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	var waits []time.Duration
	src := &HTTPSource{Base: base, Sleep: func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}}
	var v any
	err := src.Get(context.Background(), "schedules", nil, &v)
	if err == nil || !strings.Contains(err.Error(), "502 Bad Gateway") || !strings.Contains(err.Error(), "try later") {
		t.Errorf("after failing answers: %v", err)
	}
	if n := calls.Load(); n != maxRetries+1 {
		t.Errorf("%d requests, want %d", n, maxRetries+1)
	}
	if len(waits) != maxRetries || waits[0] != time.Second || waits[len(waits)-1] != 16*time.Second {
		t.Errorf("waits = %v, want 1s doubling to 16s", waits)
	}
	if err := src.Get(context.Background(), "../users", nil, &v); err == nil || !strings.Contains(err.Error(), ".. segment") {
		t.Errorf("a path leaving the API: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src.Sleep = nil
	if err := src.Get(ctx, "schedules", nil, &v); err == nil {
		t.Error("a cancelled read succeeded")
	}
}

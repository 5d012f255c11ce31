package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recorded is a request a test server received.
type recorded struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// recorder is a test server that records requests and answers each with
// the status and body of answer.
type recorder struct {
	mu       sync.Mutex
	requests []recorded
	status   int
	body     string
}

func newRecorder(t *testing.T, status int, body string) (*recorder, *httptest.Server) {
	t.Helper()
	r := &recorder{status: status, body: body}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, recorded{req.Method, req.URL.RequestURI(), req.Header.Clone(), b})
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(r.status)
		_, _ = io.WriteString(w, r.body)
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *recorder) only(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) != 1 {
		t.Fatalf("server got %d requests, want 1", len(r.requests))
	}
	return r.requests[0]
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWebhookPostsThePayload(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusNoContent, "")
	s, err := NewWebhook(WebhookConfig{Egress: loopback, URL: srv.URL + "/hooks/klaxon?team=payments", Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := s.Send(testContext(t), sample())
	if err != nil || ref != "" {
		t.Fatalf("Send = %q, %v; want \"\", nil", ref, err)
	}
	req := rec.only(t)
	if req.Method != http.MethodPost || req.Path != "/hooks/klaxon?team=payments" {
		t.Errorf("request %s %s, want POST /hooks/klaxon?team=payments", req.Method, req.Path)
	}
	for k, want := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    "klaxon",
		"Authorization": "Bearer s3cret",
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	var got Payload
	dec := json.NewDecoder(strings.NewReader(string(req.Body)))
	dec.DisallowUnknownFields()
	if err = dec.Decode(&got); err != nil {
		t.Fatalf("decoding %s: %v", req.Body, err)
	}
	if diff := cmp.Diff(NewPayload(sample()), got); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(req.Body), `"sentAt":"2026-11-24T10:01:30Z"`) ||
		!strings.Contains(string(req.Body), `token=t1&as=alice"`) {
		t.Errorf("body %s: want RFC 3339 times to the second and unescaped URLs", req.Body)
	}
}

func TestWebhookWithoutTokenSendsNoAuthorization(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusOK, `{"ok":true}`)
	s, err := NewWebhook(WebhookConfig{Egress: loopback, URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = s.Send(testContext(t), sample()); err != nil {
		t.Fatal(err)
	}
	if h, ok := rec.only(t).Header["Authorization"]; ok {
		t.Errorf("Authorization = %q, want none", h)
	}
}

func TestWebhookClassifiesAnswers(t *testing.T) {
	cases := []struct {
		status    int
		body      string
		wantErr   bool
		permanent bool
		inErr     string
		// inLog is in LogDetail only, never in the error's text.
		inLog string
	}{
		{status: 200},
		{status: 201},
		{status: 202},
		{status: 204},
		{status: 400, body: `{"error":"bad payload"}`, wantErr: true, permanent: true, inErr: `the webhook answered HTTP 400 Bad Request`, inLog: `{"error":"bad payload"}`},
		{status: 401, wantErr: true, permanent: true, inErr: "HTTP 401 Unauthorized"},
		{status: 403, wantErr: true, permanent: true, inErr: "HTTP 403"},
		{status: 404, wantErr: true, permanent: true, inErr: "HTTP 404"},
		{status: 422, wantErr: true, permanent: true, inErr: "HTTP 422"},
		{status: 408, wantErr: true, inErr: "HTTP 408 Request Timeout"},
		{status: 429, wantErr: true, inErr: "HTTP 429 Too Many Requests"},
		{status: 500, body: "boom\n", wantErr: true, inErr: "the webhook answered HTTP 500 Internal Server Error", inLog: "boom"},
		{status: 502, wantErr: true, inErr: "HTTP 502"},
		{status: 503, wantErr: true, inErr: "HTTP 503"},
		// Not followed: a redirected POST is a wrong URL.
		{status: 307, wantErr: true, permanent: true, inErr: "HTTP 307"},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			_, srv := newRecorder(t, tc.status, tc.body)
			s, err := NewWebhook(WebhookConfig{Egress: loopback, URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(testContext(t), sample())
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send error = %v, want error %v", err, tc.wantErr)
			}
			if err == nil {
				return
			}
			if IsPermanent(err) != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, IsPermanent(err), tc.permanent)
			}
			if !strings.Contains(err.Error(), tc.inErr) {
				t.Errorf("error %q lacks %q", err, tc.inErr)
			}
			if tc.inLog != "" && (strings.Contains(err.Error(), tc.inLog) || !strings.Contains(LogDetail(err), tc.inLog)) {
				t.Errorf("error %q, log detail %q: want %q in the log detail only", err, LogDetail(err), tc.inLog)
			}
		})
	}
}

func TestWebhookBoundsTheAnswer(t *testing.T) {
	// An endless error page: the sender must stop reading, keep its start
	// for the log only, and say only the status.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		line := []byte(strings.Repeat("x", 1023) + "\n")
		for r.Context().Err() == nil {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	s, err := NewWebhook(WebhookConfig{Egress: loopback, URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(testContext(t), sample())
	if err == nil || IsPermanent(err) {
		t.Fatalf("Send = %v, want a retryable error", err)
	}
	if err.Error() != "the webhook answered HTTP 502 Bad Gateway" {
		t.Errorf("error %.100q…; want the status alone", err)
	}
	if d := LogDetail(err); len(d) > 300 || !strings.Contains(d, "xxx") {
		t.Errorf("log detail of %d bytes: %.100q…; want at most %d bytes of the body", len(d), d, maxErrorBodyBytes)
	}
}

func TestWebhookHangingServerIsCutByTheContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	s, err := NewWebhook(WebhookConfig{Egress: loopback, URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Send(ctx, sample())
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Send took %v, want it cut at the context's deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
		t.Errorf("Send = %v, want a retryable context.DeadlineExceeded", err)
	}
}

func TestWebhookNetworkErrorIsRetryableAndHidesTheURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hooks/s3cret-path?token=s3cret-query"
	srv.Close() // nothing listens any more
	s, err := NewWebhook(WebhookConfig{Egress: loopback, URL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(testContext(t), sample())
	if err == nil || IsPermanent(err) {
		t.Fatalf("Send = %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q quotes the URL", err)
	}
	if !strings.HasPrefix(err.Error(), "posting to the webhook: ") {
		t.Errorf("error %q lacks its context", err)
	}
}

func TestNewWebhookValidates(t *testing.T) {
	cases := map[string]struct {
		cfg  WebhookConfig
		want string // "" for valid
	}{
		"https":            {WebhookConfig{Egress: loopback, URL: "https://hooks.example.com/klaxon"}, ""},
		"http with port":   {WebhookConfig{Egress: loopback, URL: "http://10.0.0.1:8080/"}, ""},
		"empty":            {WebhookConfig{}, "the webhook URL is empty: set an absolute http or https URL"},
		"relative":         {WebhookConfig{Egress: loopback, URL: "/hooks/klaxon"}, "the webhook URL must use http or https, not \"\""},
		"other scheme":     {WebhookConfig{Egress: loopback, URL: "ftp://example.com/s3cret"}, "the webhook URL must use http or https, not \"ftp\""},
		"no host":          {WebhookConfig{Egress: loopback, URL: "https:///s3cret"}, "the webhook URL has no host: set an absolute http or https URL"},
		"unparsable":       {WebhookConfig{Egress: loopback, URL: "https://exa mple.com/%zz-s3cret"}, "the webhook URL cannot be parsed: set an absolute http or https URL"},
		"token with break": {WebhookConfig{Egress: loopback, URL: "https://example.com", Token: "t\r\nX-Evil: 1"}, "the webhook token contains a line break or control character"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := NewWebhook(tc.cfg)
			if tc.want == "" {
				if err != nil || s == nil {
					t.Errorf("NewWebhook = %v, %v; want a sender", s, err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Errorf("NewWebhook error = %v, want %q", err, tc.want)
			}
		})
	}
}

package notify

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Without an allowance a loopback webhook is refused before connecting,
// permanently, with the same words whether its port is open or closed.
func TestWebhookToLoopbackRefusedByDefault(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
	t.Cleanup(srv.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()

	var msgs []string
	for _, u := range []string{srv.URL, closed} {
		s, err := NewWebhook(WebhookConfig{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Send(testContext(t), sample())
		if err == nil || !IsPermanent(err) {
			t.Fatalf("Send to %s = %v; want a permanent refusal", u, err)
		}
		msgs = append(msgs, err.Error())
	}
	if msgs[0] != msgs[1] {
		t.Errorf("open port: %q; closed port: %q; want the same words", msgs[0], msgs[1])
	}
	if !strings.Contains(msgs[0], "egress policy refuses") || strings.Contains(msgs[0], "127.0.0.1") {
		t.Errorf("error %q; want the refusal in Klaxon's words, without the address", msgs[0])
	}
	if calls != 0 {
		t.Errorf("the server got %d requests; want none", calls)
	}
}

// A redirect to another server is not followed: the answer is the 303.
func TestWebhookDoesNotFollowRedirects(t *testing.T) {
	target := 0
	second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		target++
		_, _ = w.Write([]byte("AccessKeyId=AKIA"))
	}))
	t.Cleanup(second.Close)
	first := httptest.NewServer(http.RedirectHandler(second.URL+"/latest/meta-data/", http.StatusSeeOther))
	t.Cleanup(first.Close)
	s, err := NewWebhook(WebhookConfig{Egress: loopback, URL: first.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(testContext(t), sample())
	if err == nil || !strings.Contains(err.Error(), "HTTP 303") || strings.Contains(err.Error(), "AKIA") {
		t.Errorf("Send = %v; want the 303 alone", err)
	}
	if target != 0 {
		t.Errorf("the redirect target got %d requests; want none", target)
	}
}

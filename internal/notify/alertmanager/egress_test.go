package alertmanager

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

func TestEgressRefusals(t *testing.T) {
	for _, tc := range []struct{ name, block, want string }{
		{"http_headers", "webhook_configs: [{url: 'http://x.invalid/', http_config: {http_headers: {Metadata-Flavor: {values: [Google]}}}}]",
			"webhook_configs[0].http_config.http_headers is refused: it sets arbitrary request headers"},
		{"proxy_url", "webhook_configs: [{url: 'http://x.invalid/', http_config: {proxy_url: 'http://proxy.invalid:3128'}}]",
			"webhook_configs[0].http_config.proxy_url is refused"},
		{"proxy_from_environment", "slack_configs: [{api_url: 'http://x.invalid/', channel: '#a', http_config: {proxy_from_environment: true}}]",
			"slack_configs[0].http_config.proxy_from_environment is refused"},
		{"email_configs", "email_configs: [{to: a@b.example, from: c@d.example, smarthost: 'mail.invalid:25'}]",
			"email_configs is refused: Alertmanager's email notifier connects to its smarthost past the operator's egress checks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Egress: loopback, Receiver: []byte(tc.block)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v; want an error with %q", err, tc.want)
			}
		})
	}
}

// A slack_configs api_url that answers 303 towards a second server: the
// redirect is not followed, even with follow_redirects set, and the
// answer's body reaches neither the error nor a request to the target.
// Only the first server's host:port is allowed, so a followed redirect
// would also be refused at dial time.
func TestRedirectNotFollowed(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`AccessKeyId=ASIAEXAMPLE SecretAccessKey=wJalrXUtnFEMI`))
	}))
	t.Cleanup(target.Close)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/latest/meta-data/iam/security-credentials/role", http.StatusSeeOther)
	}))
	t.Cleanup(first.Close)
	only := egress.New(egress.Config{Allow: []egress.Rule{{Host: "127.0.0.1", Port: netip.MustParseAddrPort(first.Listener.Addr().String()).Port()}}})
	for _, follow := range []string{"", ", http_config: {follow_redirects: true}"} {
		s, err := New(Config{Egress: only, Receiver: fmt.Appendf(nil, "slack_configs: [{api_url: '%s/hook', channel: '#a'%s}]", first.URL, follow)})
		if err != nil {
			t.Fatal(err)
		}
		err = trySend(t, s, 5*time.Second)
		if err == nil {
			t.Fatal("Send succeeded")
		}
		if strings.Contains(err.Error(), "AccessKeyId") || strings.Contains(notify.LogDetail(err), "AccessKeyId") {
			t.Errorf("the redirect target's answer got through: %v", err)
		}
		if !strings.Contains(err.Error(), "HTTP 303") {
			t.Errorf("error %q; want the 303", err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

// Without an allowance, a loopback URL is refused before any connection.
func TestLoopbackRefusedByDefault(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	s, err := New(Config{Receiver: fmt.Appendf(nil, "webhook_configs: [{url: '%s/x'}]", srv.URL)})
	if err != nil {
		t.Fatal(err)
	}
	err = trySend(t, s, 5*time.Second)
	if err == nil || !notify.IsPermanent(err) || !strings.Contains(err.Error(), "egress policy refuses") {
		t.Errorf("Send = %v; want the egress refusal", err)
	}
	if hits.Load() != 0 {
		t.Errorf("the server got %d requests", hits.Load())
	}
}

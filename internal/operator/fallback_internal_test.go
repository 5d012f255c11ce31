package operator

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/client-go/rest"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/fallback"
)

// newFallback builds a Pager only from a usable file; otherwise the
// operator runs without one, and klaxon_fallback_configured says which.
func TestNewFallback(t *testing.T) {
	dir := t.TempDir()
	valid := filepath.Join(dir, "valid.yaml")
	invalid := filepath.Join(dir, "invalid.yaml")
	mail := filepath.Join(dir, "mail.yaml")
	if err := os.WriteFile(valid, []byte("webhook_configs: [{url: 'http://fallback.invalid/hook'}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A proxy is refused: the block's connections go through the egress
	// rules alone.
	if err := os.WriteFile(invalid, []byte("webhook_configs: [{url: 'http://fallback.invalid/hook', http_config: {proxy_url: 'http://proxy.invalid:3128'}}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The administrator's block may mail (alertmanager.Config.AllowEmail).
	if err := os.WriteFile(mail, []byte("email_configs: [{to: a@b.example, from: c@d.example, smarthost: 'mail.invalid:25'}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	leader := func() (string, bool) { return "", true }
	for name, tc := range map[string]struct {
		file       string
		wantPager  bool
		configured float64
	}{
		"none":    {file: "", configured: 0},
		"missing": {file: filepath.Join(dir, "absent.yaml"), configured: 0},
		"invalid": {file: invalid, configured: 0},
		"valid":   {file: valid, wantPager: true, configured: 1},
		"mail":    {file: mail, wantPager: true, configured: 1},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := newFallback(cfg, Options{FallbackReceiverFile: tc.file}, egress.New(egress.Config{}), leader, logr.Discard())
			if err != nil {
				t.Fatal(err)
			}
			if (p != nil) != tc.wantPager {
				t.Errorf("pager %v, want one: %v", p, tc.wantPager)
			}
			if got := testutil.ToFloat64(fallback.Configured); got != tc.configured {
				t.Errorf("klaxon_fallback_configured = %v, want %v", got, tc.configured)
			}
		})
	}
}

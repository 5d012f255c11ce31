package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// startAlertmanagers runs n real Alertmanagers, clustered with each other
// on loopback when n > 1 (an HA pair), each sending every group to the
// webhook URL of its own in webhooks (so tests can tell them apart), grouped
// by alertname, with the receiver token.
func startAlertmanagers(t *testing.T, webhooks ...string) []string {
	t.Helper()
	// The second sends when it has not heard of the first's send within
	// this: short, so both often send a group.
	return startAlertmanagersWithPeerTimeout(t, 250*time.Millisecond, webhooks...)
}

// startAlertmanagersWithPeerTimeout is startAlertmanagers with the pair's
// peer timeout: how long the second waits to hear of the first's send
// before it sends too.
func startAlertmanagersWithPeerTimeout(t *testing.T, peerTimeout time.Duration, webhooks ...string) []string {
	t.Helper()
	var opts []proc.AlertmanagerOptions
	for _, webhook := range webhooks {
		opts = append(opts, proc.AlertmanagerOptions{
			Binary: alertmanagerBin,
			Dir:    t.TempDir(),
			Config: fmt.Sprintf(`
route:
  receiver: klaxon
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: klaxon
  webhook_configs:
  - url: %s
    send_resolved: true
    http_config:
      authorization:
        credentials: %s
`, webhook, token),
			PeerTimeout:   peerTimeout,
			SettleTimeout: 2 * time.Second,
		})
	}
	ams, err := proc.StartAlertmanagers(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, am := range ams {
		t.Cleanup(func() {
			am.Stop()
			// Its retries are logged as warnings: worth reading only when
			// a test fails.
			if t.Failed() {
				dumpTail(t, "alertmanager "+am.URL, am.LogPath)
			}
		})
		urls = append(urls, am.URL)
	}
	return urls
}

// alert is an alert as Alertmanager's API v2 takes it.
type alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt,omitzero"`
	EndsAt      time.Time         `json:"endsAt,omitzero"`
}

// firing is a critical alert with a name of its own, so a group of its own.
func firing(name string) alert {
	return alert{Labels: map[string]string{"alertname": name, "severity": "critical"},
		Annotations: map[string]string{"summary": name + " is failing"}}
}

// postAlerts sends alerts to every Alertmanager, as Prometheus does.
func postAlerts(t *testing.T, alertmanagers []string, alerts ...alert) {
	t.Helper()
	body, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	for _, am := range alertmanagers {
		resp, err := http.Post(am+"/api/v2/alerts", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Errorf("posting alerts to %s: %v", am, err)
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("posting alerts to %s: %s", am, resp.Status)
		}
	}
}

package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
)

// startAlertmanagers runs n real Alertmanagers, clustered with each other
// on loopback when n > 1 (an HA pair), each sending every group to the
// webhook URL of its own in webhooks (so tests can tell them apart), grouped
// by alertname, with the receiver token.
func startAlertmanagers(t *testing.T, webhooks ...string) []string {
	t.Helper()
	var clusterAddrs []string
	for range webhooks {
		clusterAddrs = append(clusterAddrs, mailpit.FreeAddr(t))
	}
	var urls []string
	for i, webhook := range webhooks {
		dir := t.TempDir()
		config := fmt.Sprintf(`
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
`, webhook, token)
		if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		addr := mailpit.FreeAddr(t)
		args := []string{
			"--config.file=" + filepath.Join(dir, "alertmanager.yml"),
			"--storage.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--web.external-url=http://" + addr,
			"--log.level=warn",
		}
		if len(webhooks) == 1 {
			args = append(args, "--cluster.listen-address=") // no gossip
		} else {
			args = append(args,
				"--cluster.listen-address="+clusterAddrs[i],
				"--cluster.advertise-address="+clusterAddrs[i],
				// The second sends when it has not heard of the first's
				// send within this: short, so both often send a group.
				"--cluster.peer-timeout=250ms",
				"--cluster.settle-timeout=2s")
			for j, peer := range clusterAddrs {
				if j != i {
					args = append(args, "--cluster.peer="+peer)
				}
			}
		}
		cmd := exec.Command(alertmanagerBin, args...)
		// Its retries are logged as warnings: worth reading only when a
		// test fails.
		logPath := filepath.Join(dir, "alertmanager.log")
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err = cmd.Start(); err != nil {
			t.Fatalf("starting alertmanager: %v", err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			_ = logFile.Close()
			if t.Failed() {
				dumpTail(t, "alertmanager "+addr, logPath)
			}
		})
		url := "http://" + addr
		err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			return localcluster.AnswersOK(ctx, url+"/-/ready"), nil
		})
		if err != nil {
			t.Fatalf("alertmanager did not become ready: %v", err)
		}
		urls = append(urls, url)
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

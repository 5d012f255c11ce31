package alertmanager

import (
	"os"
	"testing"
)

// FuzzNewAlertmanager loads arbitrary receiver blocks: a channel author
// writes them, and the operator parses and checks them, so none may panic
// or run away, and a block accepted once is accepted again.
func FuzzNewAlertmanager(f *testing.F) {
	every, err := os.ReadFile("testdata/every-integration.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(every)
	for _, seed := range []string{
		"msteamsv2_configs:\n- webhook_url: http://127.0.0.1:1/hook\n",
		"telegram_configs:\n- bot_token: t\n  chat_id: 1\n  api_url: http://127.0.0.1:1\n  message: '{{ range .Alerts }}{{ .Labels.alertname }}{{ end }}'\n",
		"webhook_configs:\n- url: http://127.0.0.1:1\n  http_config: {bearer_token_file: /etc/passwd}\n",
		"slack_configs:\n- api_url: http://127.0.0.1:1\n  text: '{{ range 1000000000 }}x{{ end }}'\n",
		"pagerduty_configs:\n- routing_key: k\n  details: {a: '{{ .CommonAnnotations.summary }}'}\n",
		"name: x\n",
		"{",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, block []byte) {
		_, err := New(Config{Egress: loopback, Receiver: block, ExternalURL: "http://klaxon.invalid"})
		if err == nil {
			if _, again := New(Config{Egress: loopback, Receiver: block, ExternalURL: "http://klaxon.invalid"}); again != nil {
				t.Fatalf("accepted once, refused again: %v", again)
			}
		} else if len(err.Error()) == 0 {
			t.Fatal("an empty error")
		}
	})
}

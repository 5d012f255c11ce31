package alertmapping

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
)

// bodyOf builds a webhook body of about size bytes: one group of alerts
// with a dozen labels and two annotations each, like a storm of pod alerts.
func bodyOf(size int) []byte {
	msg := webhook.Message{Version: PayloadVersion, GroupKey: `{}:{alertname="PodCrashLooping"}`,
		Data: &template.Data{Status: StatusFiring, CommonLabels: template.KV{"alertname": "PodCrashLooping"}}}
	for i := 0; ; i++ {
		labels := template.KV{"alertname": "PodCrashLooping", "severity": "critical", "team": "payments"}
		for j := range 9 {
			labels[fmt.Sprintf("label_%d", j)] = fmt.Sprintf("value-%d-%d", i, j)
		}
		msg.Alerts = append(msg.Alerts, template.Alert{Status: StatusFiring, Labels: labels, Fingerprint: fmt.Sprintf("%016x", i),
			Annotations: template.KV{"summary": "Pod is crash looping", "description": "The pod restarted 5 times in 10 minutes."},
			StartsAt:    time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)})
		if i%100 == 0 {
			if b, _ := json.Marshal(msg); len(b) >= size {
				return b
			}
		}
	}
}

// BenchmarkParseMessage4MiB measures what parsing the largest body the
// receiver accepts by default costs: B/op is the memory it allocates, the
// figure the receiver's parse limit and the manager's memory limit are
// sized from (docs/install.md, "Memory").
func BenchmarkParseMessage4MiB(b *testing.B) {
	body := bodyOf(4 << 20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var alerts int
	for b.Loop() {
		msg, err := ParseMessage(body)
		if err != nil {
			b.Fatal(err)
		}
		alerts = len(msg.Alerts)
	}
	b.ReportMetric(float64(alerts), "alerts")
}

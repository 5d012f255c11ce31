package fallback

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Label values of Pages.
const (
	MessageOutage    = "outage"
	MessageRecovered = "recovered"
	ResultSent       = "sent"
	ResultFailed     = "failed"
)

var (
	// Pages counts the fallback's sends by message and result.
	Pages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_fallback_pages_total",
		Help: "Messages sent through the fallback receiver block while the Kubernetes API server could not be reached, by message (outage, recovered) and result (sent, failed).",
	}, []string{"message", "result"})

	// Configured says whether a fallback receiver block is loaded.
	Configured = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_fallback_configured",
		Help: "1 when a fallback receiver block is configured and valid, 0 when none is configured or its file is missing, unreadable or invalid.",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(Pages, Configured)
	for _, m := range []string{MessageOutage, MessageRecovered} {
		for _, r := range []string{ResultSent, ResultFailed} {
			Pages.WithLabelValues(m, r)
		}
	}
}

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

// Label values of Forwards.
const (
	ForwardDelivered = "delivered"
	ForwardBusy      = "busy"
	ForwardFailed    = "failed"
)

var (
	// Pages counts the fallback's sends by message and result.
	Pages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_fallback_pages_total",
		Help: "Messages sent through the fallback receiver block while the Kubernetes API server could not be reached, by message (outage, recovered) and result (sent, failed).",
	}, []string{"message", "result"})

	// Forwards counts the forwards of waiting groups to the leader.
	Forwards = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_fallback_forwards_total",
		Help: "Forwards of the waiting groups to the leader's receiver, by result: delivered, busy (the leader answered 503; forwarded again) or failed (no answer, an error, or not the leader).",
	}, []string{"result"})

	// WaitingGroups is how many groups this replica holds as waiting.
	WaitingGroups = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_fallback_waiting_groups",
		Help: "Alert groups this replica holds that could not be recorded since the Kubernetes API server was last reached (at most 1000).",
	})

	// Configured says whether a fallback receiver block is loaded.
	Configured = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_fallback_configured",
		Help: "1 when a fallback receiver block is configured and valid, 0 when none is configured or its file is missing, unreadable or invalid.",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(Pages, Forwards, WaitingGroups, Configured)
	for _, r := range []string{ForwardDelivered, ForwardBusy, ForwardFailed} {
		Forwards.WithLabelValues(r)
	}
	for _, m := range []string{MessageOutage, MessageRecovered} {
		for _, r := range []string{ResultSent, ResultFailed} {
			Pages.WithLabelValues(m, r)
		}
	}
}

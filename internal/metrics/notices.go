package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The label values of klaxon_shift_notices_total's result.
const (
	NoticeSent   = "sent"
	NoticeFailed = "failed"
)

// ShiftNotices counts shift notices as their outcome is stored: sent, or
// failed for good, by kind (ShiftStart, ShiftChange).
var ShiftNotices = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "klaxon_shift_notices_total",
	Help: "Shift notices sent, or failed for good, by kind (ShiftStart, ShiftChange) and result (sent, failed).",
}, []string{"kind", "result"})

func init() {
	ctrlmetrics.Registry.MustRegister(ShiftNotices)
	// Every series exists from the start, so a rate over it is defined.
	for _, kind := range []string{"ShiftStart", "ShiftChange"} {
		ShiftNotices.WithLabelValues(kind, NoticeSent)
		ShiftNotices.WithLabelValues(kind, NoticeFailed)
	}
}

// ShiftNotice counts the stored outcome of a shift notice of kind.
func ShiftNotice(kind, result string) {
	if kind != "ShiftStart" && kind != "ShiftChange" {
		return
	}
	ShiftNotices.WithLabelValues(kind, result).Inc()
}

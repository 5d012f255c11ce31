package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// ReceiverRequests counts receiver requests by route and answer code.
	// Requests for unknown routes count under route="" so a scanner cannot
	// grow the label set.
	ReceiverRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_receiver_requests_total",
		Help: "Intake requests received (Alertmanager, Grafana, PagerDuty and Opsgenie senders), by namespace, AlertRoute, intake and HTTP answer code.",
	}, []string{"namespace", "route", "intake", "code"})

	// ReceiverDuration is how long the receiver took to answer.
	ReceiverDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "klaxon_receiver_request_duration_seconds",
		Help:    "Time from receiving an intake request to answering it, by namespace, AlertRoute and intake.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"namespace", "route", "intake"})

	// ReceiverUnmatchedGroups counts firing notifications of groups that
	// the route's matchers do not select.
	ReceiverUnmatchedGroups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_receiver_unmatched_groups_total",
		Help: "Notifications answered without an incident because the AlertRoute's matchers did not select the group.",
	}, []string{"namespace", "route"})

	// ReceiverChangeEvents counts PagerDuty change events that found no
	// open incident to note them on.
	ReceiverChangeEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_receiver_change_events_total",
		Help: "PagerDuty change events accepted while the AlertRoute had no open incident to note them on.",
	}, []string{"namespace", "route"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(ReceiverRequests, ReceiverDuration, ReceiverUnmatchedGroups, ReceiverChangeEvents)
}

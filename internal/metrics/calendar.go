package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The answers a calendar feed request is counted under, the label values
// of klaxon_calendar_requests_total.
const (
	CalendarOK          = "ok"
	CalendarNotModified = "not_modified"
	CalendarForbidden   = "forbidden"
	CalendarBadRequest  = "bad_request"
	CalendarLimited     = "limited"
	CalendarError       = "error"
)

// CalendarRequests counts calendar feed requests by answer. It has no
// namespace label: a forged request names any namespace it likes.
var CalendarRequests = func() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_calendar_requests_total",
		Help: "Calendar feed requests, by answer: ok, not_modified (304), forbidden (a token that does not verify), bad_request, limited (429) or error.",
	}, []string{"answer"})
	for _, a := range []string{CalendarOK, CalendarNotModified, CalendarForbidden, CalendarBadRequest, CalendarLimited, CalendarError} {
		c.WithLabelValues(a)
	}
	return c
}()

func init() {
	ctrlmetrics.Registry.MustRegister(CalendarRequests)
}

package metrics

import (
	"regexp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// collectors are every collector this package registers.
func collectors() []prometheus.Collector {
	return []prometheus.Collector{
		openIncidentsCollector, TimeToAcknowledge, TimeToResolve, Pages, Escalations, TargetsMissed,
		ReceiverRequests, ReceiverDuration, ReceiverUnmatchedGroups, ReceiverChangeEvents, CalendarRequests, ShiftNotices,
	}
}

// fqName finds the metric name in a Desc's description; client_golang has
// no accessor for it.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// SeriesNames returns every metric name Klaxon exports as it appears in the
// exposition and in PromQL: a histogram's _bucket, _sum and _count series
// as well as its name. Dashboards and alert rules may only name these.
func SeriesNames() []string {
	var names []string
	for _, c := range collectors() {
		ch := make(chan *prometheus.Desc, 1)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := fqName.FindStringSubmatch(d.String())
			if m == nil {
				continue
			}
			names = append(names, m[1])
			if _, ok := c.(*prometheus.HistogramVec); ok {
				names = append(names, m[1]+"_bucket", m[1]+"_sum", m[1]+"_count")
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

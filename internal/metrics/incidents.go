package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// The kinds of response target a miss is counted under, the label values of
// klaxon_response_targets_missed_total.
const (
	TargetAcknowledge = "acknowledge"
	TargetUpdate      = "update"
	TargetResolve     = "resolve"
	TargetPostmortem  = "postmortem"
	// targetOther counts a kind this package does not know, so a caller's
	// mistake cannot grow the label set.
	targetOther = "other"
)

// The label values of klaxon_pages_total's kind.
const (
	pageInitial    = "initial"
	pageEscalation = "escalation"
)

var (
	targetKinds = []string{TargetAcknowledge, TargetUpdate, TargetResolve, TargetPostmortem}
	severities  = []string{
		string(klaxonv1alpha1.SeverityCritical), string(klaxonv1alpha1.SeverityHigh),
		string(klaxonv1alpha1.SeverityModerate), string(klaxonv1alpha1.SeverityLow),
	}
)

var (
	// TimeToAcknowledge is observed once per episode, when the move to
	// Acknowledged is stored.
	TimeToAcknowledge = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "klaxon_incident_time_to_acknowledge_seconds",
		Help: "Time from an incident's trigger (or reopen) to its acknowledgement, observed once per episode when the acknowledgement is stored, by namespace and severity.",
		// From a page answered at once to one answered the next day.
		Buckets: []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400},
	}, []string{"namespace", "severity"})

	// TimeToResolve is observed once per episode, when the move to Resolved
	// (or straight to Closed) is stored.
	TimeToResolve = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "klaxon_incident_time_to_resolve_seconds",
		Help: "Time from an incident's trigger (or reopen) to its resolution, observed once per episode when the resolution is stored, by namespace and severity.",
		// From a blip to an incident that runs for a week.
		Buckets: []float64{300, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800, 259200, 604800},
	}, []string{"namespace", "severity"})

	// Pages counts pages: each level paged is one page, however many
	// people it notifies.
	Pages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_pages_total",
		Help: "Pages sent along escalation policies, one per level paged, by namespace, severity and kind (initial: level 0 of the first round; escalation: any later level or round).",
	}, []string{"namespace", "severity", "kind"})

	// Escalations counts the pages past level 0 of the first round.
	Escalations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_escalations_total",
		Help: "Escalations: pages of a later level or round because nobody acknowledged in time, by namespace and severity.",
	}, []string{"namespace", "severity"})

	// TargetsMissed counts response targets that were missed.
	TargetsMissed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_response_targets_missed_total",
		Help: "Response targets missed, counted once per miss when it is stored, by namespace, severity and kind (acknowledge, update, resolve, postmortem).",
	}, []string{"namespace", "severity", "kind"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(TimeToAcknowledge, TimeToResolve, Pages, Escalations, TargetsMissed, openIncidentsCollector)
}

// Acknowledged observes an episode's time to acknowledge. Call it once the
// acknowledgement is stored, on the leader.
func Acknowledged(namespace, severity string, d time.Duration) {
	TimeToAcknowledge.WithLabelValues(namespace, severity).Observe(d.Seconds())
}

// Resolved observes an episode's time to resolve. Call it once the
// resolution is stored, on the leader.
func Resolved(namespace, severity string, d time.Duration) {
	TimeToResolve.WithLabelValues(namespace, severity).Observe(d.Seconds())
}

// Paged counts one page; escalation is true for any level or round after
// the first level 0. Call it once the page is stored, on the leader.
func Paged(namespace, severity string, escalation bool) {
	kind := pageInitial
	if escalation {
		kind = pageEscalation
		Escalations.WithLabelValues(namespace, severity).Inc()
	}
	Pages.WithLabelValues(namespace, severity, kind).Inc()
}

// TargetMissed counts one missed response target of kind TargetAcknowledge,
// TargetUpdate, TargetResolve or TargetPostmortem (any other kind counts as
// "other"). Call it once the miss is stored, on the leader.
func TargetMissed(namespace, severity, kind string) {
	switch kind {
	case TargetAcknowledge, TargetUpdate, TargetResolve, TargetPostmortem:
	default:
		kind = targetOther
	}
	TargetsMissed.WithLabelValues(namespace, severity, kind).Inc()
}

// initNamespace creates the counters of a namespace at zero. Prometheus's
// increase() cannot see the first increment of a series that did not exist
// before it, so without this the first missed target of a namespace would
// never fire the alert built on it.
func initNamespace(namespace string) {
	for _, sev := range severities {
		for _, kind := range targetKinds {
			TargetsMissed.WithLabelValues(namespace, sev, kind)
		}
		Pages.WithLabelValues(namespace, sev, pageInitial)
		Pages.WithLabelValues(namespace, sev, pageEscalation)
		Escalations.WithLabelValues(namespace, sev)
	}
}

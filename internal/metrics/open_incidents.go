package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// openPhases are the phases an open incident can be in: every one but Closed.
var openPhases = []string{
	string(klaxonv1alpha1.StateTriggered), string(klaxonv1alpha1.StateAcknowledged),
	string(klaxonv1alpha1.StateMitigated), string(klaxonv1alpha1.StateResolved),
}

// listTimeout bounds a scrape's read of the cache, which only waits when the
// cache has not synced.
const listTimeout = 10 * time.Second

// openIncidents computes klaxon_open_incidents at scrape time from the
// incidents its reader lists. Counting from the cache rather than keeping a
// gauge up to date means the value cannot drift: a restart or a new leader
// counts afresh. It is registered once, in init, and reads from whichever
// manager last started an OpenIncidents runnable, because the registry is
// process-wide while managers come and go (tests restart the operator).
type openIncidents struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	reader client.Reader
}

var openIncidentsCollector = &openIncidents{
	desc: prometheus.NewDesc("klaxon_open_incidents",
		"Incidents not yet Closed, by namespace, severity and accepted phase, counted from the operator's cache at scrape time on the leader.",
		[]string{"namespace", "severity", "phase"}, nil),
}

func (c *openIncidents) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
}

type openKey struct{ namespace, severity, phase string }

func (c *openIncidents) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	reader := c.reader
	c.mu.Unlock()
	if reader == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	list := &klaxonv1alpha1.IncidentList{}
	// Read-only: the cache's objects are counted, not copied.
	if err := reader.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		// A failed scrape would read as the operator being down; leaving the
		// series out says less that is false.
		ctrl.Log.WithName("metrics").Error(err, "Cannot list incidents to count the open ones")
		return
	}
	counts := map[openKey]float64{}
	seen := map[string]bool{}
	for i := range list.Items {
		inc := &list.Items[i]
		if !seen[inc.Namespace] {
			seen[inc.Namespace] = true
			// Every namespace with incidents shows every open phase and
			// severity, at zero when empty, so sums and rates see the drop
			// to zero rather than a vanished series.
			for _, sev := range severities {
				for _, phase := range openPhases {
					counts[openKey{inc.Namespace, sev, phase}] += 0
				}
			}
			initNamespace(inc.Namespace)
		}
		// An incident the operator has not accepted yet has no phase; it is
		// counted from its first reconcile, a moment later.
		phase := inc.Status.Phase
		if phase == "" || phase == klaxonv1alpha1.StateClosed {
			continue
		}
		counts[openKey{inc.Namespace, string(inc.Spec.Severity), string(phase)}]++
	}
	for k, v := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, k.namespace, k.severity, k.phase)
	}
}

// OpenIncidents returns the manager runnable that serves klaxon_open_incidents
// from reader (the manager's cache) while it runs. It needs leader election:
// only the leader reports the gauge, so summing over replicas counts each
// incident once, like the counters and histograms, which only the leader's
// reconcilers move.
func OpenIncidents(reader client.Reader) manager.Runnable {
	return &openIncidentsRunnable{reader: reader}
}

type openIncidentsRunnable struct{ reader client.Reader }

var _ manager.LeaderElectionRunnable = (*openIncidentsRunnable)(nil)

func (r *openIncidentsRunnable) NeedLeaderElection() bool { return true }

func (r *openIncidentsRunnable) Start(ctx context.Context) error {
	c := openIncidentsCollector
	c.mu.Lock()
	c.reader = r.reader
	c.mu.Unlock()
	<-ctx.Done()
	c.mu.Lock()
	// Another manager of this process may have taken over meanwhile.
	if c.reader == r.reader {
		c.reader = nil
	}
	c.mu.Unlock()
	return nil
}

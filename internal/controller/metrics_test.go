package controller_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// sample is one line of a Prometheus text exposition.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrape GETs the operator's /metrics and parses the samples of Klaxon's
// metrics.
func scrape(ctx context.Context, addr string) ([]sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", http.NoBody)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s: %s", resp.Status, body)
	}
	var out []sample
	for line := range strings.SplitSeq(string(body), "\n") {
		m := sampleLine.FindStringSubmatch(line)
		if len(m) < 4 || !strings.HasPrefix(m[1], "klaxon_") {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return nil, fmt.Errorf("parsing %q: %w", line, err)
		}
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out, nil
}

// value is the sample of name whose labels are exactly kv (name, value
// pairs), and whether there is one.
func value(samples []sample, name string, kv ...string) (float64, bool) {
	for _, s := range samples {
		if s.name != name || len(s.labels) != len(kv)/2 {
			continue
		}
		match := true
		for i := 0; i < len(kv); i += 2 {
			match = match && s.labels[kv[i]] == kv[i+1]
		}
		if match {
			return s.value, true
		}
	}
	return 0, false
}

// startOperatorWithMetrics starts an operator (the previous one stopped)
// that serves metrics over plain HTTP on a free local port, and returns the
// address.
func startOperatorWithMetrics(t *testing.T) string {
	t.Helper()
	addr := proc.FreeAddr(t)
	_, stop, err := suite.StartOperator(cluster.OperatorConfig, operator.Options{
		MetricsAddr: addr, SecureMetrics: false, ProbeAddr: "0", ReceiverAddr: "0", Clock: fakeClock, Restartable: true,
		EgressAllow: suite.LoopbackEgress,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopOperator = stop
	return addr
}

func withSeverity(sev klaxonv1alpha1.Severity) func(*klaxonv1alpha1.Incident) {
	return func(i *klaxonv1alpha1.Incident) { i.Spec.Severity = sev }
}

// metricWant is one expected sample: its name, value and labels other than
// the namespace.
type metricWant struct {
	name  string
	value float64
	kv    []string
}

func openGauge(sev, phase string, v float64) metricWant {
	return metricWant{"klaxon_open_incidents", v, []string{"severity", sev, "phase", phase}}
}

func histogram(name, sev string, count, sum float64) []metricWant {
	return []metricWant{
		{name + "_count", count, []string{"severity", sev}},
		{name + "_sum", sum, []string{"severity", sev}},
	}
}

// checkMetrics scrapes addr until every wanted sample of namespace ns has
// its value and none of absent ({name, severity}) is present.
func checkMetrics(t *testing.T, when, addr, ns string, wants []metricWant, absent [][2]string) {
	t.Helper()
	// mismatches are what the last scrape got wrong; a scrape that failed
	// (the endpoint may not listen yet) is one, and polling goes on.
	mismatches := func(ctx context.Context) []string {
		samples, err := scrape(ctx, addr)
		if err != nil {
			return []string{err.Error()}
		}
		var out []string
		for _, w := range wants {
			got, ok := value(samples, w.name, append([]string{"namespace", ns}, w.kv...)...)
			if !ok || got != w.value {
				out = append(out, fmt.Sprintf("%s%v = %v (present %v), want %v", w.name, w.kv, got, ok, w.value))
			}
		}
		for _, a := range absent {
			if _, ok := value(samples, a[0], "namespace", ns, "severity", a[1]); ok {
				out = append(out, fmt.Sprintf("%s{severity=%s} is present", a[0], a[1]))
			}
		}
		return out
	}
	var last []string
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, suite.DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		last = mismatches(ctx)
		return len(last) == 0, nil
	})
	if err != nil {
		t.Fatalf("metrics %s:\n%s", when, strings.Join(last, "\n"))
	}
}

// TestMetricsCountScriptedIncidentsOnce drives a scripted set of incidents
// with the fake clock and scrapes the operator's metrics endpoint: the open
// incidents gauge, the time to acknowledge and resolve histograms and the
// paging counters, and that a restarted operator counts nothing twice. Every
// assertion is scoped to the test's namespace: the registry is shared with
// the other tests of the package.
func TestMetricsCountScriptedIncidentsOnce(t *testing.T) {
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	addr := startOperatorWithMetrics(t)
	t.Cleanup(func() {
		// Back to the suite's operator, without a metrics endpoint.
		if err := stopOperator(); err != nil {
			t.Error(err)
		}
		if err := startOperator(); err != nil {
			t.Error(err)
		}
	})
	ns := pagingFixture(t)
	targetsPolicy(t, ns)

	// At t0: three SEV1s (one paged along the policy, one along a policy
	// with a 5 minute acknowledge target), a paged SEV2, a SEV3 and a SEV4.
	sev1a := createIncident(t, k8s, ns, "sev1-a", withSeverity(klaxonv1alpha1.SeverityCritical), withPolicy("payments"))
	sev1b := createIncident(t, k8s, ns, "sev1-b", withSeverity(klaxonv1alpha1.SeverityCritical))
	sev2 := createIncident(t, k8s, ns, "sev2", withSeverity(klaxonv1alpha1.SeverityHigh), withPolicy("payments"))
	sev3 := createIncident(t, k8s, ns, "sev3", withSeverity(klaxonv1alpha1.SeverityModerate))
	sev4 := createIncident(t, k8s, ns, "sev4", withSeverity(klaxonv1alpha1.SeverityLow))
	sev1t := createIncident(t, k8s, ns, "sev1-t", withSeverity(klaxonv1alpha1.SeverityCritical), withPolicy("targets"))
	all := []*klaxonv1alpha1.Incident{sev1a, sev1b, sev2, sev3, sev4, sev1t}
	waitForPaged(t, sev1a, "alice@0/0")
	waitForPaged(t, sev1t, "erin@0/0")
	escalateAt := waitForPaged(t, sev2, "alice@0/0").Status.Escalation.NextEscalationAt.Time
	for _, inc := range []*klaxonv1alpha1.Incident{sev1b, sev3, sev4} {
		waitForPhase(t, inc, T, 1)
	}

	// t0+2m: SEV1 a is acknowledged.
	fakeClock.Step(2 * time.Minute)
	mustSetState(t, k8s, sev1a, A)
	waitForPhase(t, sev1a, A, 1)
	// t0+5m: SEV1 b resolves by itself, unacknowledged; SEV4 is closed
	// straight away.
	fakeClock.Step(3 * time.Minute)
	mustSetState(t, k8s, sev1b, R)
	waitForPhase(t, sev1b, R, 1)
	mustSetState(t, k8s, sev4, C)
	waitForPhase(t, sev4, C, 1)
	// t0+10m: SEV1 t has missed its acknowledge target; SEV2 escalates to
	// level 1, then is acknowledged.
	fakeClock.SetTime(escalateAt)
	nudge(t, sev1t)
	waitFor(t, sev1t, "AcknowledgeTargetMissed", func(i *klaxonv1alpha1.Incident) bool {
		return condition(i, klaxonv1alpha1.ConditionAcknowledgeTargetMissed) == "True/TargetMissed"
	})
	nudge(t, sev2)
	waitForPaged(t, sev2, "alice@0/0,bob@1/0,erin@1/0")
	mustSetState(t, k8s, sev2, A)
	waitForPhase(t, sev2, A, 1)
	// t0+12m: SEV1 a is resolved.
	fakeClock.Step(2 * time.Minute)
	mustSetState(t, k8s, sev1a, R)
	waitForPhase(t, sev1a, R, 1)

	// The durations the stored timestamps give.
	st := map[string]*klaxonv1alpha1.IncidentStatus{}
	for _, inc := range all {
		got := &klaxonv1alpha1.Incident{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
			t.Fatal(err)
		}
		st[inc.Name] = &got.Status
	}
	since := func(name string, at *metav1.Time) float64 { return at.Sub(st[name].TriggeredAt.Time).Seconds() }
	tta1 := since("sev1-a", st["sev1-a"].AcknowledgedAt)
	tta2 := since("sev2", st["sev2"].AcknowledgedAt)
	ttr1 := since("sev1-a", st["sev1-a"].ResolvedAt) + since("sev1-b", st["sev1-b"].ResolvedAt)
	ttr4 := since("sev4", st["sev4"].ClosedAt)
	if tta1 != 120 || tta2 != 600 || ttr1 != 720+300 || ttr4 != 300 {
		t.Fatalf("the script went wrong: TTA %v and %v, TTR %v and %v", tta1, tta2, ttr1, ttr4)
	}

	const (
		tta = "klaxon_incident_time_to_acknowledge_seconds"
		ttr = "klaxon_incident_time_to_resolve_seconds"
	)
	wants := []metricWant{
		openGauge("SEV1", "Triggered", 1), openGauge("SEV1", "Acknowledged", 0), openGauge("SEV1", "Resolved", 2),
		openGauge("SEV2", "Acknowledged", 1), openGauge("SEV2", "Triggered", 0),
		openGauge("SEV3", "Triggered", 1), openGauge("SEV3", "Acknowledged", 0),
		// A Closed incident is not open; the namespace's zeros remain.
		openGauge("SEV4", "Triggered", 0), openGauge("SEV4", "Resolved", 0),
		{"klaxon_pages_total", 2, []string{"severity", "SEV1", "kind", "initial"}},
		{"klaxon_pages_total", 0, []string{"severity", "SEV1", "kind", "escalation"}},
		{"klaxon_pages_total", 1, []string{"severity", "SEV2", "kind", "initial"}},
		{"klaxon_pages_total", 1, []string{"severity", "SEV2", "kind", "escalation"}},
		{"klaxon_escalations_total", 0, []string{"severity", "SEV1"}},
		{"klaxon_escalations_total", 1, []string{"severity", "SEV2"}},
		{"klaxon_response_targets_missed_total", 1, []string{"severity", "SEV1", "kind", "acknowledge"}},
		// Created at zero once the namespace has incidents, for increase().
		{"klaxon_response_targets_missed_total", 0, []string{"severity", "SEV1", "kind", "update"}},
		{"klaxon_response_targets_missed_total", 0, []string{"severity", "SEV3", "kind", "acknowledge"}},
	}
	wants = append(wants, histogram(tta, "SEV1", 1, tta1)...)
	wants = append(wants, histogram(tta, "SEV2", 1, tta2)...)
	wants = append(wants, histogram(ttr, "SEV1", 2, ttr1)...)
	wants = append(wants, histogram(ttr, "SEV4", 1, ttr4)...)
	// SEV4 was closed unacknowledged, SEV3 is open, SEV2 unresolved.
	absent := [][2]string{{tta + "_count", "SEV4"}, {tta + "_count", "SEV3"}, {ttr + "_count", "SEV2"}}
	checkMetrics(t, "after the script", addr, ns, wants, absent)

	// The operator stops; meanwhile the SEV3 is acknowledged. A new
	// operator (as after a restart or a change of leader) observes that
	// move once and nothing it had already counted.
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	fakeClock.Step(time.Minute)
	mustSetState(t, k8s, sev3, A)
	addr = startOperatorWithMetrics(t)
	got := waitForPhase(t, sev3, A, 1)
	tta3 := got.Status.AcknowledgedAt.Sub(got.Status.TriggeredAt.Time).Seconds()
	for _, inc := range all {
		nudge(t, inc)
	}
	time.Sleep(time.Second)
	for i, w := range wants {
		if w.name == "klaxon_open_incidents" && w.kv[1] == "SEV3" {
			wants[i].value = map[string]float64{"Triggered": 0, "Acknowledged": 1}[w.kv[3]]
		}
	}
	wants = append(wants, histogram(tta, "SEV3", 1, tta3)...)
	checkMetrics(t, "after a restart", addr, ns, wants, absent[:1])
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// writeVerbs are the verbs of apiserver_request_total that change an
// object. The metric names requests by HTTP method (POST, PUT) in some
// releases and by the request's verb (CREATE, UPDATE) in others; APPLY is a
// server-side apply PATCH.
var writeVerbs = map[string]bool{"POST": true, "CREATE": true, "PUT": true, "UPDATE": true, "PATCH": true, "APPLY": true}

// apiCounts are cumulative write counts from kube-apiserver's own metrics.
type apiCounts struct {
	// incidentWrites counts writes of incidents, status subresource included.
	incidentWrites float64
	// incidentConflicts counts those answered 409 (a stale resourceVersion,
	// or a create of a name that exists).
	incidentConflicts float64
	// events counts writes of Events (core and events.k8s.io).
	events float64
	// otherKlaxon counts writes of Klaxon's other kinds (routes' status).
	otherKlaxon float64
	// apfRejected counts requests API Priority and Fairness rejected (429);
	// apfWaited and apfWaits are the seconds requests waited in its queues
	// and how many waited, so a storm's figures show whether APF held the
	// operator back.
	apfRejected, apfWaited, apfWaits float64
}

func (a apiCounts) sub(b apiCounts) apiCounts {
	return apiCounts{
		incidentWrites:    a.incidentWrites - b.incidentWrites,
		incidentConflicts: a.incidentConflicts - b.incidentConflicts,
		events:            a.events - b.events,
		otherKlaxon:       a.otherKlaxon - b.otherKlaxon,
		apfRejected:       a.apfRejected - b.apfRejected,
		apfWaited:         a.apfWaited - b.apfWaited,
		apfWaits:          a.apfWaits - b.apfWaits,
	}
}

// apiMetrics scrapes kube-apiserver's /metrics as the admin.
type apiMetrics struct {
	rest rest.Interface
}

func newAPIMetrics(cfg *rest.Config) (*apiMetrics, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating a client for kube-apiserver's metrics: %w", err)
	}
	return &apiMetrics{rest: cs.CoreV1().RESTClient()}, nil
}

func (m *apiMetrics) counts(ctx context.Context) (apiCounts, error) {
	raw, err := m.rest.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return apiCounts{}, fmt.Errorf("scraping kube-apiserver's metrics: %w", err)
	}
	samples, err := parseSamples(bytes.NewReader(raw), "apiserver_request_total",
		"apiserver_flowcontrol_rejected_requests_total", "apiserver_flowcontrol_request_wait_duration_seconds")
	if err != nil {
		return apiCounts{}, fmt.Errorf("parsing kube-apiserver's metrics: %w", err)
	}
	var c apiCounts
	for _, s := range samples {
		l := s.Metric
		switch l[model.MetricNameLabel] {
		case "apiserver_flowcontrol_rejected_requests_total":
			c.apfRejected += float64(s.Value)
			continue
		case "apiserver_flowcontrol_request_wait_duration_seconds_sum":
			c.apfWaited += float64(s.Value)
			continue
		case "apiserver_flowcontrol_request_wait_duration_seconds_count":
			c.apfWaits += float64(s.Value)
			continue
		}
		if l[model.MetricNameLabel] != "apiserver_request_total" || !writeVerbs[string(l["verb"])] || l["dry_run"] != "" {
			continue
		}
		v := float64(s.Value)
		switch {
		case l["resource"] == "incidents" && l["group"] == "klaxon.dev":
			c.incidentWrites += v
			if l["code"] == "409" {
				c.incidentConflicts += v
			}
		case l["resource"] == "events":
			c.events += v
		case l["group"] == "klaxon.dev":
			c.otherKlaxon += v
		}
	}
	return c, nil
}

// queueState is what the operator's own metrics say of its incident
// controller.
type queueState struct {
	reconciles float64
	depth      float64
	active     float64
}

// incidentQueue scrapes the operator's metrics endpoint.
func (p *operatorProcess) incidentQueue(ctx context.Context) (queueState, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metricsURL, http.NoBody)
	if err != nil {
		return queueState{}, fmt.Errorf("scraping the operator's metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return queueState{}, fmt.Errorf("scraping the operator's metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return queueState{}, fmt.Errorf("scraping the operator's metrics: %s", resp.Status)
	}
	samples, err := parseSamples(resp.Body, "controller_runtime_reconcile_total", "workqueue_depth", "controller_runtime_active_workers")
	if err != nil {
		return queueState{}, fmt.Errorf("parsing the operator's metrics: %w", err)
	}
	var q queueState
	for _, s := range samples {
		l, v := s.Metric, float64(s.Value)
		switch {
		case l[model.MetricNameLabel] == "controller_runtime_reconcile_total" && l["controller"] == "incident":
			q.reconciles += v
		case l[model.MetricNameLabel] == "workqueue_depth" && l["name"] == "incident":
			q.depth += v
		case l[model.MetricNameLabel] == "controller_runtime_active_workers" && l["controller"] == "incident":
			q.active += v
		}
	}
	return q, nil
}

// parseSamples reads the Prometheus text format and returns the samples
// of the named metrics, each with its name in the __name__ label.
func parseSamples(r io.Reader, names ...string) (model.Vector, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	var out model.Vector
	for _, name := range names {
		f, ok := families[name]
		if !ok {
			continue
		}
		samples, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{}, f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		out = append(out, samples...)
	}
	return out, nil
}

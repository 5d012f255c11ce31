package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/klaxon-dev/klaxon/internal/metrics"
)

const monitoringDir = "../../config/monitoring/"

// scrapeNames are series that Prometheus itself adds to every target.
var scrapeNames = []string{"up"}

// TestDashboardNamesExportedMetrics parses the Grafana dashboard and checks
// that every query (panels and template variables) names only metrics Klaxon
// exports, and that each exported metric is on the dashboard.
func TestDashboardNamesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(monitoringDir + "dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard any
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatalf("dashboard.json is not JSON: %v", err)
	}
	var exprs []string
	walk(dashboard, func(key, v string) {
		if key == "expr" || key == "definition" {
			exprs = append(exprs, v)
		}
	})
	if len(exprs) < 10 {
		t.Fatalf("found %d queries in dashboard.json; the walk is broken", len(exprs))
	}
	used := checkNames(t, "dashboard.json", exprs)
	// A histogram is shown when any of its series is.
	for _, name := range metrics.SeriesNames() {
		if !slices.ContainsFunc(used, func(u string) bool {
			return strings.HasPrefix(u, name) || strings.HasPrefix(name, strings.TrimSuffix(u, "_bucket"))
		}) {
			t.Errorf("dashboard.json shows nothing of %s", name)
		}
	}
}

// TestAlertRulesNameExportedMetrics checks that the alert rules name only
// metrics Klaxon exports; promtool checks their syntax and behaviour.
func TestAlertRulesNameExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(monitoringDir + "alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Every expr is on one line; a regexp saves go.mod a YAML dependency.
	var exprs []string
	for _, m := range ruleExpr.FindAllStringSubmatch(string(raw), -1) {
		exprs = append(exprs, m[1])
	}
	if len(exprs) == 0 {
		t.Fatal("alerts.yaml has no rules")
	}
	checkNames(t, "alerts.yaml", exprs)
}

// walk calls f with every string value of a decoded JSON document and the
// key it sits under.
func walk(v any, f func(key, value string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok {
				f(k, s)
				continue
			}
			walk(e, f)
		}
	case []any:
		for _, e := range v {
			walk(e, f)
		}
	}
}

// checkNames fails t for every metric name in exprs that Klaxon does not
// export, and returns the names found.
func checkNames(t *testing.T, file string, exprs []string) []string {
	t.Helper()
	exported := append(metrics.SeriesNames(), scrapeNames...)
	var used []string
	for _, e := range exprs {
		names := metricNames(e)
		if len(names) == 0 {
			t.Errorf("%s: %q names no metric", file, e)
		}
		for _, n := range names {
			if !slices.Contains(exported, n) {
				t.Errorf("%s: %q names %s, which Klaxon does not export", file, e, n)
			}
		}
		used = append(used, names...)
	}
	return used
}

var (
	ruleExpr = regexp.MustCompile(`(?m)^\s*expr:\s*(.+)$`)
	// Grafana's label_values(metric, label): only metric is a metric.
	labelValues = regexp.MustCompile(`label_values\(\s*([^,]*),\s*\w+\s*\)`)
	// Strings, label matchers and range durations name no metric.
	quoted   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	matchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	// The label lists of grouping and matching modifiers, and offsets.
	grouping   = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	offset     = regexp.MustCompile(`\boffset\s+-?[0-9a-z]+`)
	identifier = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*\s*\(?`)
	keywords   = []string{"and", "or", "unless", "bool", "inf", "nan", "by", "without"}
)

// metricNames returns the metric names a PromQL expression selects: the
// identifiers that are not functions, aggregations, keywords or labels.
// A small lexer rather than Prometheus's parser, which would bring the whole
// Prometheus module into go.mod for one test.
func metricNames(expr string) []string {
	expr = labelValues.ReplaceAllString(expr, "$1")
	expr = quoted.ReplaceAllString(expr, `""`)
	expr = matchers.ReplaceAllString(expr, " ")
	expr = grouping.ReplaceAllString(expr, " ")
	expr = offset.ReplaceAllString(expr, " ")
	var names []string
	for _, m := range identifier.FindAllString(expr, -1) {
		m = strings.TrimSpace(m)
		if strings.HasSuffix(m, "(") || slices.Contains(keywords, m) {
			continue
		}
		names = append(names, m)
	}
	return names
}

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (severity, le) (rate(klaxon_x_bucket{namespace=~"$ns",kind="a b"}[$__range])) / on (a) group_left (b) klaxon_y`: {"klaxon_x_bucket", "klaxon_y"},
		`label_values(klaxon_open_incidents, namespace)`:                                                                        {"klaxon_open_incidents"},
		`absent(up{job="klaxon"} == 1)`:                                                                                         {"up"},
		`histogram_quantile(0.9, sum without (pod) (increase(m[30d] offset 1d)))`:                                               {"m"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%q) = %q, want %q", expr, got, want)
		}
	}
}

// TestSeriesNames checks that SeriesNames lists Klaxon's metrics, each with
// the klaxon_ prefix.
func TestSeriesNames(t *testing.T) {
	names := metrics.SeriesNames()
	for _, want := range []string{
		"klaxon_open_incidents",
		"klaxon_incident_time_to_acknowledge_seconds_bucket",
		"klaxon_incident_time_to_resolve_seconds_count",
		"klaxon_pages_total", "klaxon_escalations_total", "klaxon_response_targets_missed_total",
		"klaxon_receiver_requests_total",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("SeriesNames() lacks %s: %q", want, names)
		}
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "klaxon_") {
			t.Errorf("%s lacks the klaxon_ prefix", n)
		}
	}
}

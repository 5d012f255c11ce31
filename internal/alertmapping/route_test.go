package alertmapping

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestCompileRoute(t *testing.T) {
	tests := map[string]struct {
		spec    klaxonv1alpha1.AlertRouteSpec
		wantErr string
		check   func(t *testing.T, r *Route)
	}{
		"defaults for an empty spec": {
			check: func(t *testing.T, r *Route) {
				if r.severityLabel != "severity" || r.defaultSeverity != klaxonv1alpha1.SeverityModerate ||
					!r.AutoResolve() || r.ReopenWindow() != 30*time.Minute || r.escalation != nil || len(r.matchers) != 0 {
					t.Errorf("defaults not applied: %+v", r)
				}
			},
		},
		"the design's example": {
			spec: paymentsSpec(),
			check: func(t *testing.T, r *Route) {
				if len(r.matchers) != 1 || r.escalation.Name != "payments" {
					t.Errorf("compiled %+v", r)
				}
			},
		},
		"autoResolve false and a zero reopen window are kept": {
			spec: klaxonv1alpha1.AlertRouteSpec{AutoResolve: ptr.To(false), ReopenWindow: &metav1.Duration{}},
			check: func(t *testing.T, r *Route) {
				if r.AutoResolve() || r.ReopenWindow() != 0 {
					t.Errorf("compiled %+v", r)
				}
			},
		},
		"several matchers in one entry, braces and classic syntax": {
			spec: klaxonv1alpha1.AlertRouteSpec{Matchers: []string{`{team="payments", env!="dev"}`, `severity=critical`}},
			check: func(t *testing.T, r *Route) {
				if len(r.matchers) != 3 {
					t.Errorf("got %d matchers, want 3: %v", len(r.matchers), r.matchers)
				}
			},
		},
		"invalid matcher names its index and text": {
			spec:    klaxonv1alpha1.AlertRouteSpec{Matchers: []string{`team="a"`, `severity=~"(critical"`}},
			wantErr: `spec.matchers[1] "severity=~\"(critical\"" is not a valid Alertmanager matcher`,
		},
		"matcher without operator": {
			spec:    klaxonv1alpha1.AlertRouteSpec{Matchers: []string{`severity`}},
			wantErr: `spec.matchers[0] "severity" is not a valid Alertmanager matcher`,
		},
		"empty matcher": {
			spec:    klaxonv1alpha1.AlertRouteSpec{Matchers: []string{" "}},
			wantErr: "spec.matchers[0] is empty",
		},
		"matcher entry with no matcher": {
			spec:    klaxonv1alpha1.AlertRouteSpec{Matchers: []string{"{}"}},
			wantErr: `spec.matchers[0] "{}" holds no matcher`,
		},
		"unclosed action in title template": {
			spec:    klaxonv1alpha1.AlertRouteSpec{TitleTemplate: `{{ .CommonLabels.alertname `},
			wantErr: "spec.titleTemplate is not a valid Go template",
		},
		"unknown template function": {
			spec:    klaxonv1alpha1.AlertRouteSpec{TitleTemplate: `{{ now }}`},
			wantErr: `function "now" not defined`,
		},
		"invalid severity in map": {
			spec:    klaxonv1alpha1.AlertRouteSpec{Severity: klaxonv1alpha1.AlertSeverityMapping{Map: map[string]klaxonv1alpha1.Severity{"critical": "P1"}}},
			wantErr: `spec.severity.map["critical"] is "P1"`,
		},
		"invalid default severity": {
			spec:    klaxonv1alpha1.AlertRouteSpec{Severity: klaxonv1alpha1.AlertSeverityMapping{Default: "high"}},
			wantErr: `spec.severity.default "high" is not a severity`,
		},
		"negative reopen window": {
			spec:    klaxonv1alpha1.AlertRouteSpec{ReopenWindow: &metav1.Duration{Duration: -time.Minute}},
			wantErr: "spec.reopenWindow -1m0s is negative",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := CompileRoute(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("CompileRoute: %v", err)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestRouteMatches(t *testing.T) {
	common := KV{"alertname": "CheckoutLatency", "severity": "critical", "team": "payments"}
	tests := map[string]struct {
		matchers []string
		labels   KV
		want     bool
	}{
		"no matchers match everything":     {labels: KV{}, want: true},
		"regex matches":                    {matchers: []string{`severity=~"critical|page"`}, labels: common, want: true},
		"regex is anchored":                {matchers: []string{`severity=~"crit"`}, labels: common, want: false},
		"regex does not match":             {matchers: []string{`severity=~"warning|info"`}, labels: common, want: false},
		"all matchers must match":          {matchers: []string{`team="payments"`, `alertname="Other"`}, labels: common, want: false},
		"not equal":                        {matchers: []string{`team!="search"`}, labels: common, want: true},
		"missing label equals empty":       {matchers: []string{`env=""`}, labels: common, want: true},
		"missing label fails a value":      {matchers: []string{`env="prod"`}, labels: common, want: false},
		"negative regex":                   {matchers: []string{`severity!~"info|warning"`}, labels: common, want: true},
		"classic unquoted syntax":          {matchers: []string{`team=payments`}, labels: common, want: true},
		"UTF-8 label name":                 {matchers: []string{`"service.name"="checkout"`}, labels: KV{"service.name": "checkout"}, want: true},
		"only the common labels are seen":  {matchers: []string{`pod="checkout-1"`}, labels: common, want: false},
		"nil common labels, negative only": {matchers: []string{`severity!="info"`}, labels: nil, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := mustCompile(t, klaxonv1alpha1.AlertRouteSpec{Matchers: tc.matchers})
			msg := message(firingAlert("a", t0))
			msg.CommonLabels = tc.labels
			if got := r.Matches(msg); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRouteSeverity(t *testing.T) {
	tests := map[string]struct {
		mapping klaxonv1alpha1.AlertSeverityMapping
		labels  KV
		want    klaxonv1alpha1.Severity
	}{
		"mapped value":                {mapping: paymentsSpec().Severity, labels: KV{"severity": "page"}, want: klaxonv1alpha1.SeverityCritical},
		"unmapped value gets default": {mapping: paymentsSpec().Severity, labels: KV{"severity": "info"}, want: klaxonv1alpha1.SeverityModerate},
		"missing label gets default":  {mapping: klaxonv1alpha1.AlertSeverityMapping{Default: klaxonv1alpha1.SeverityLow}, labels: KV{}, want: klaxonv1alpha1.SeverityLow},
		"values are case sensitive":   {mapping: paymentsSpec().Severity, labels: KV{"severity": "Critical"}, want: klaxonv1alpha1.SeverityModerate},
		"custom label": {
			mapping: klaxonv1alpha1.AlertSeverityMapping{Label: "priority", Map: map[string]klaxonv1alpha1.Severity{"P2": klaxonv1alpha1.SeverityHigh}},
			labels:  KV{"priority": "P2", "severity": "critical"},
			want:    klaxonv1alpha1.SeverityHigh,
		},
		"empty mapping defaults to SEV3": {labels: KV{"severity": "critical"}, want: klaxonv1alpha1.SeverityModerate},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := mustCompile(t, klaxonv1alpha1.AlertRouteSpec{Severity: tc.mapping})
			msg := message()
			msg.CommonLabels = tc.labels
			if got := r.Severity(msg); got != tc.want {
				t.Errorf("Severity = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRouteTitle(t *testing.T) {
	tests := map[string]struct {
		template string
		edit     func(msg *Message)
		want     string
		wantErr  string
	}{
		"default template with summary": {want: "CheckoutLatency: p99 above 2s"},
		"default template without summary": {
			edit: func(msg *Message) { msg.CommonAnnotations = nil },
			want: "CheckoutLatency",
		},
		"Alertmanager functions and methods": {
			template: `{{ .CommonLabels.team | toUpper }} {{ .GroupLabels.Values | join "," }} {{ title "checkout down" }} {{ len .Alerts.Firing }}/{{ len .Alerts }}`,
			want:     "PAYMENTS CheckoutLatency Checkout Down 1/1",
		},
		"SortedPairs puts alertname first": {
			template: `{{ range .CommonLabels.SortedPairs }}{{ .Name }} {{ end }}`,
			want:     "alertname severity team",
		},
		"whitespace and newlines collapse to one line": {
			template: "  {{ .CommonLabels.alertname }}\n\n\t on {{ .CommonLabels.team }}\r\n",
			want:     "CheckoutLatency on payments",
		},
		"control characters are dropped": {
			template: "a\x00b\x1bc",
			want:     "abc",
		},
		"empty render falls back to alertname": {
			template: `{{ .CommonLabels.nothing }}`,
			want:     "CheckoutLatency",
		},
		"no alertname falls back to group labels": {
			template: `{{ .CommonLabels.nothing }}`,
			edit: func(msg *Message) {
				msg.CommonLabels = KV{}
				msg.GroupLabels = KV{"team": "payments", "cluster": "eu1"}
			},
			want: "Alert group cluster=eu1, team=payments",
		},
		"nothing at all falls back to the group key": {
			template: ` `,
			edit: func(msg *Message) {
				msg.CommonLabels, msg.GroupLabels, msg.CommonAnnotations = nil, nil, nil
			},
			want: "Alert group " + testGroupKey,
		},
		"run-time error gives the fallback and the error": {
			template: `{{ index .Alerts 5 }}`,
			want:     "CheckoutLatency",
			wantErr:  "rendering spec.titleTemplate",
		},
		"bad regex in reReplaceAll is an error, not a panic": {
			template: `{{ reReplaceAll "(" "" "x" }}`,
			want:     "CheckoutLatency",
			wantErr:  "rendering spec.titleTemplate",
		},
		"long title is cut to 200 characters": {
			template: `{{ range $i := 300 }}é{{ end }}`,
			want:     strings.Repeat("é", 199) + "…",
		},
		"runaway output stops at the render limit": {
			template: `{{ range $i := 100000000 }}xxxxxxxx{{ end }}`,
			want:     strings.Repeat("x", 199) + "…",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := mustCompile(t, klaxonv1alpha1.AlertRouteSpec{TitleTemplate: tc.template})
			msg := message(firingAlert("a", t0))
			if tc.edit != nil {
				tc.edit(msg)
			}
			got, err := r.Title(msg)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Title: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("Title = %q, want %q", got, tc.want)
			}
			if n := utf8.RuneCountInString(got); n == 0 || n > MaxTitleLength {
				t.Errorf("title has %d characters", n)
			}
		})
	}
}

func TestCompileRouteErrorKinds(t *testing.T) {
	cases := map[string]struct {
		spec klaxonv1alpha1.AlertRouteSpec
		kind error
	}{
		"bad matcher":   {klaxonv1alpha1.AlertRouteSpec{Matchers: []string{`severity=~"(critical"`}}, ErrInvalidMatcher},
		"empty matcher": {klaxonv1alpha1.AlertRouteSpec{Matchers: []string{" "}}, ErrInvalidMatcher},
		"bad template":  {klaxonv1alpha1.AlertRouteSpec{TitleTemplate: "{{ .CommonLabels.alertname "}, ErrInvalidTitleTemplate},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := CompileRoute(tc.spec)
			if !errors.Is(err, tc.kind) {
				t.Errorf("CompileRoute error %v is not %v", err, tc.kind)
			}
		})
	}
}

package alertmapping

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestIncidentName(t *testing.T) {
	hash := GroupHash(testGroupKey)
	long := strings.Repeat("a", 250)
	tests := map[string]struct {
		route  string
		serial int32
		want   string
	}{
		"first incident has no serial":   {route: "payments-critical", serial: 1, want: "payments-critical-" + hash},
		"serial 0 counts as the first":   {route: "payments-critical", serial: 0, want: "payments-critical-" + hash},
		"later incidents add the serial": {route: "payments-critical", serial: 2, want: "payments-critical-" + hash + "-2"},
		"dotted route names are kept":    {route: "payments.critical", serial: 1, want: "payments.critical-" + hash},
		"long route names are cut":       {route: long, serial: 12, want: long[:253-len(hash)-4] + "-" + hash + "-12"},
		"cut never ends a part in a dot": {
			route: strings.Repeat("a", 241) + ".bcdefghij", serial: 1,
			want: strings.Repeat("a", 241) + "-" + hash,
		},
		"invalid route names are cleaned": {route: "Payments_Critical!", serial: 1, want: "payments-critical-" + hash},
		"empty route":                     {route: "", serial: 3, want: hash + "-3"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := IncidentName(tc.route, testGroupKey, tc.serial)
			if got != tc.want {
				t.Errorf("IncidentName = %q, want %q", got, tc.want)
			}
			if errs := validation.IsDNS1123Subdomain(got); len(errs) != 0 {
				t.Errorf("%q is not a valid name: %v", got, errs)
			}
		})
	}

	t.Run("deterministic and distinct", func(t *testing.T) {
		if IncidentName("r", "g1", 1) != IncidentName("r", "g1", 1) {
			t.Error("the same group gives different names")
		}
		names := map[string]bool{}
		for _, n := range []string{IncidentName("r", "g1", 1), IncidentName("r", "g2", 1), IncidentName("r", "g1", 2), IncidentName("s", "g1", 1)} {
			if names[n] {
				t.Errorf("name %q given twice", n)
			}
			names[n] = true
		}
	})
}

func TestLabels(t *testing.T) {
	r := mustCompile(t, paymentsSpec())
	longRoute := strings.Repeat("r", 100)
	tests := map[string]struct {
		route  string
		common KV
		want   map[string]string
	}{
		"plain values": {
			route:  "payments-critical",
			common: KV{"alertname": "CheckoutLatency", "severity": "critical"},
			want: map[string]string{
				klaxonv1alpha1.LabelAlertRoute:    "payments-critical",
				klaxonv1alpha1.LabelGroup:         GroupHash(testGroupKey),
				klaxonv1alpha1.LabelAlertname:     "CheckoutLatency",
				klaxonv1alpha1.LabelAlertSeverity: "critical",
			},
		},
		"values are sanitised": {
			route:  "payments-critical",
			common: KV{"alertname": "Disk full on /var!", "severity": "🔥crit"},
			want: map[string]string{
				klaxonv1alpha1.LabelAlertRoute:    "payments-critical",
				klaxonv1alpha1.LabelGroup:         GroupHash(testGroupKey),
				klaxonv1alpha1.LabelAlertname:     "Disk_full_on__var",
				klaxonv1alpha1.LabelAlertSeverity: "crit",
			},
		},
		"missing or unusable values are omitted": {
			route:  "payments-critical",
			common: KV{"alertname": "!!!"},
			want: map[string]string{
				klaxonv1alpha1.LabelAlertRoute: "payments-critical",
				klaxonv1alpha1.LabelGroup:      GroupHash(testGroupKey),
			},
		},
		"long route names are cut and hashed": {
			route:  longRoute,
			common: KV{"alertname": strings.Repeat("A", 80)},
			want: map[string]string{
				klaxonv1alpha1.LabelAlertRoute: longRoute[:52] + "-" + shortHash(longRoute),
				klaxonv1alpha1.LabelGroup:      GroupHash(testGroupKey),
				klaxonv1alpha1.LabelAlertname:  strings.Repeat("A", 63),
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			msg := message(firingAlert("a", t0))
			msg.CommonLabels = tc.common
			got := Labels(r, tc.route, msg)
			if len(got) != len(tc.want) {
				t.Errorf("Labels = %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("label %s = %q, want %q", k, got[k], v)
				}
			}
			for k, v := range got {
				if errs := validation.IsValidLabelValue(v); len(errs) != 0 {
					t.Errorf("label %s=%q is invalid: %v", k, v, errs)
				}
			}
		})
	}
}

func TestLatestIncident(t *testing.T) {
	inc := func(name, groupKey, serial string, created int) klaxonv1alpha1.Incident {
		i := klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{
			Name:              name,
			CreationTimestamp: metav1.NewTime(t0.Add(minutes(created))),
		}}
		if serial != "" {
			i.Annotations = map[string]string{klaxonv1alpha1.AnnotationGroupSerial: serial}
		}
		if groupKey != "" {
			i.Spec.Source = &klaxonv1alpha1.IncidentSource{AlertRoute: "r", GroupKey: groupKey}
		}
		return i
	}
	tests := map[string]struct {
		incidents []klaxonv1alpha1.Incident
		want      string
	}{
		"none":                {want: ""},
		"only one":            {incidents: []klaxonv1alpha1.Incident{inc("a", "g", "1", 0)}, want: "a"},
		"highest serial wins": {incidents: []klaxonv1alpha1.Incident{inc("b", "g", "2", 0), inc("c", "g", "10", 0), inc("a", "g", "", 9)}, want: "c"},
		"other group is skipped (hash collision)": {incidents: []klaxonv1alpha1.Incident{inc("a", "g", "1", 0), inc("z", "other", "5", 0)}, want: "a"},
		"hand-made without source is skipped":     {incidents: []klaxonv1alpha1.Incident{inc("a", "", "3", 0)}, want: ""},
		"tie goes to the newest":                  {incidents: []klaxonv1alpha1.Incident{inc("a", "g", "2", 5), inc("b", "g", "2", 1)}, want: "a"},
		"unreadable serial counts as 1":           {incidents: []klaxonv1alpha1.Incident{inc("a", "g", "x", 5), inc("b", "g", "2", 1)}, want: "b"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := LatestIncident(tc.incidents, "g")
			switch {
			case tc.want == "" && got != nil:
				t.Errorf("LatestIncident = %s, want none", got.Name)
			case tc.want != "" && (got == nil || got.Name != tc.want):
				t.Errorf("LatestIncident = %v, want %s", got, tc.want)
			}
		})
	}
}

func TestSerial(t *testing.T) {
	tests := map[string]struct {
		annotation string
		want, next int32
	}{
		"missing":  {annotation: "", want: 1, next: 2},
		"set":      {annotation: "7", want: 7, next: 8},
		"zero":     {annotation: "0", want: 1, next: 2},
		"garbage":  {annotation: "seven", want: 1, next: 2},
		"too big":  {annotation: "99999999999", want: 1, next: 2},
		"the last": {annotation: "2147483647", want: 2147483647, next: 2147483647},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			inc := &klaxonv1alpha1.Incident{}
			if tc.annotation != "" {
				inc.Annotations = map[string]string{klaxonv1alpha1.AnnotationGroupSerial: tc.annotation}
			}
			if got := Serial(inc); got != tc.want {
				t.Errorf("Serial = %d, want %d", got, tc.want)
			}
			if got := nextSerial(inc); got != tc.next {
				t.Errorf("nextSerial = %d, want %d", got, tc.next)
			}
		})
	}
}

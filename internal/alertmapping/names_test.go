package alertmapping

import (
	"strconv"
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
		if first, again := IncidentName("r", "g1", 1), IncidentName("r", "g1", 1); first != again {
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
	const route, group = "r", "g"
	// inc is an incident named as the serial-th of the group, with source
	// mods applied after naming (as a copy or decoy would have them).
	inc := func(serial int32, mods ...func(*klaxonv1alpha1.Incident)) klaxonv1alpha1.Incident {
		i := klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{Name: IncidentName(route, group, serial)},
			Spec:       klaxonv1alpha1.IncidentSpec{Source: &klaxonv1alpha1.IncidentSource{AlertRoute: route, GroupKey: group}},
		}
		for _, m := range mods {
			m(&i)
		}
		return i
	}
	annotated := func(v string) func(*klaxonv1alpha1.Incident) {
		return func(i *klaxonv1alpha1.Incident) {
			i.Annotations = map[string]string{klaxonv1alpha1.AnnotationGroupSerial: v}
		}
	}
	source := func(route, group string) func(*klaxonv1alpha1.Incident) {
		return func(i *klaxonv1alpha1.Incident) {
			i.Spec.Source = &klaxonv1alpha1.IncidentSource{AlertRoute: route, GroupKey: group}
		}
	}
	noSource := func(i *klaxonv1alpha1.Incident) { i.Spec.Source = nil }
	renamed := func(name string) func(*klaxonv1alpha1.Incident) {
		return func(i *klaxonv1alpha1.Incident) { i.Name = name }
	}
	name := func(serial int32) string { return IncidentName(route, group, serial) }

	tests := map[string]struct {
		incidents []klaxonv1alpha1.Incident
		want      string
	}{
		"none":                        {want: ""},
		"only one":                    {incidents: []klaxonv1alpha1.Incident{inc(1)}, want: name(1)},
		"the last of the history":     {incidents: []klaxonv1alpha1.Incident{inc(2), inc(3), inc(1)}, want: name(3)},
		"the annotation is ignored":   {incidents: []klaxonv1alpha1.Incident{inc(1, annotated("99")), inc(2, annotated("1"))}, want: name(2)},
		"other group is skipped":      {incidents: []klaxonv1alpha1.Incident{inc(1), inc(2, source(route, "other"))}, want: name(1)},
		"other route is skipped":      {incidents: []klaxonv1alpha1.Incident{inc(1), inc(2, source("s", group))}, want: name(1)},
		"hand-made without source":    {incidents: []klaxonv1alpha1.Incident{inc(3, noSource)}, want: ""},
		"a copy under another name":   {incidents: []klaxonv1alpha1.Incident{inc(1), inc(0, renamed(name(1)+"-copy"))}, want: name(1)},
		"older incidents deleted":     {incidents: []klaxonv1alpha1.Incident{inc(7), inc(8)}, want: name(8)},
		"gaps are bridged":            {incidents: []klaxonv1alpha1.Incident{inc(1), inc(3), inc(3 + MaxSerialGap)}, want: name(3 + MaxSerialGap)},
		"a wider gap ends it":         {incidents: []klaxonv1alpha1.Incident{inc(1), inc(2 + MaxSerialGap)}, want: name(1)},
		"a decoy with the top serial": {incidents: []klaxonv1alpha1.Incident{inc(MaxSerial, annotated("2147483647")), inc(1), inc(2)}, want: name(2)},
		"a lone incident with the top serial is all there is": {incidents: []klaxonv1alpha1.Incident{inc(MaxSerial)}, want: name(MaxSerial)},
		"after the top serial the history starts again":       {incidents: []klaxonv1alpha1.Incident{inc(MaxSerial), inc(1)}, want: name(1)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := LatestIncident(tc.incidents, route, group)
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
	const group = "g"
	// digitsGroup is a group key whose hash has no letter, so the first
	// incident's name ends in what looks like a serial.
	digitsGroup := ""
	for i := 0; digitsGroup == ""; i++ {
		if k := strconv.Itoa(i); strings.Trim(GroupHash(k), "0123456789") == "" {
			digitsGroup = k
		}
	}
	long := strings.Repeat("a", 250)
	tests := map[string]struct {
		name, route, group string
		noSource           bool
		want               int32
		ok                 bool
	}{
		"the first":                 {name: IncidentName("r", group, 1), want: 1, ok: true},
		"a later one":               {name: IncidentName("r", group, 7), want: 7, ok: true},
		"the top":                   {name: IncidentName("r", group, MaxSerial), want: MaxSerial, ok: true},
		"a long route, cut":         {name: IncidentName(long, group, 12), route: long, want: 12, ok: true},
		"a route cleaned up":        {name: IncidentName("Payments_Critical!", group, 3), route: "Payments_Critical!", want: 3, ok: true},
		"a hash of digits":          {name: IncidentName("r", digitsGroup, 1), group: digitsGroup, want: 1, ok: true},
		"a hash of digits, later":   {name: IncidentName("r", digitsGroup, 4), group: digitsGroup, want: 4, ok: true},
		"no source":                 {name: IncidentName("r", group, 2), noSource: true},
		"another group's name":      {name: IncidentName("r", "other", 2)},
		"another route's name":      {name: IncidentName("s", group, 2)},
		"a name of no group":        {name: "checkout-latency"},
		"serial 1 spelled out":      {name: IncidentName("r", group, 1) + "-1"},
		"serial 0":                  {name: IncidentName("r", group, 1) + "-0"},
		"a leading zero":            {name: IncidentName("r", group, 1) + "-02"},
		"a sign":                    {name: IncidentName("r", group, 1) + "-+2"},
		"past the top":              {name: IncidentName("r", group, 1) + "-2147483648"},
		"a suffix after the serial": {name: IncidentName("r", group, 2) + "-copy"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			route, group := "r", group
			if tc.route != "" {
				route = tc.route
			}
			if tc.group != "" {
				group = tc.group
			}
			inc := &klaxonv1alpha1.Incident{
				ObjectMeta: metav1.ObjectMeta{Name: tc.name, Annotations: map[string]string{klaxonv1alpha1.AnnotationGroupSerial: "5"}},
				Spec:       klaxonv1alpha1.IncidentSpec{Source: &klaxonv1alpha1.IncidentSource{AlertRoute: route, GroupKey: group}},
			}
			if tc.noSource {
				inc.Spec.Source = nil
			}
			got, ok := Serial(inc)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Serial(%s) = %d, %v, want %d, %v", tc.name, got, ok, tc.want, tc.ok)
			}
			if got, ok := GroupSerial(inc, route, group); got != tc.want || ok != tc.ok {
				t.Errorf("GroupSerial = %d, %v, want %d, %v", got, ok, tc.want, tc.ok)
			}
			if tc.ok {
				if _, ok := GroupSerial(inc, route, group+"x"); ok {
					t.Error("GroupSerial accepts it for another group")
				}
				if _, ok := GroupSerial(inc, route+"x", group); ok {
					t.Error("GroupSerial accepts it for another route")
				}
			}
		})
	}
}

func TestNextSerial(t *testing.T) {
	tests := map[string]struct{ serial, want int32 }{
		"no incident":   {serial: 0, want: 1},
		"nonsense":      {serial: -5, want: 1},
		"the first":     {serial: 1, want: 2},
		"below the top": {serial: MaxSerial - 1, want: MaxSerial},
		"the top wraps": {serial: MaxSerial, want: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := NextSerial(tc.serial); got != tc.want {
				t.Errorf("NextSerial(%d) = %d, want %d", tc.serial, got, tc.want)
			}
		})
	}
}

// The cache's group index agrees with the labels the receiver selects by,
// for short and cut route names, and ignores incidents missing a label.
func TestGroupIndexAgreesWithGroupSelector(t *testing.T) {
	for _, route := range []string{"payments", strings.Repeat("very-long-route-name-", 12)} {
		labels := GroupSelector(route, `{}:{alertname="CheckoutLatency"}`)
		got, ok := GroupIndexOf(labels)
		if want := GroupIndexValue(route, `{}:{alertname="CheckoutLatency"}`); !ok || got != want {
			t.Errorf("route %.20s…: GroupIndexOf(GroupSelector) = %q, %v; want %q", route, got, ok, want)
		}
		if other, _ := GroupIndexOf(GroupSelector(route, `{}:{alertname="Other"}`)); other == got {
			t.Errorf("route %.20s…: two groups share the index value %q", route, got)
		}
		delete(labels, klaxonv1alpha1.LabelGroup)
		if v, ok := GroupIndexOf(labels); ok {
			t.Errorf("an incident without the group label is indexed under %q", v)
		}
	}
}

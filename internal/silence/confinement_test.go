package silence

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// An incident's silence carries its Alertmanager route's matchers as well
// as the group labels, so it does not match another route's group that
// happens to share them.
func TestMatchersCarryTheRoute(t *testing.T) {
	for name, tc := range map[string]struct {
		key    string
		alerts *klaxonv1alpha1.AlertsSummary
		want   []string
	}{
		"root route adds nothing": {`{}:{alertname="X"}`, nil, []string{`alertname="X"`}},
		"one nested route": {`{}/{team="payments"}:{alertname="X"}`, nil,
			[]string{`alertname="X"`, `team="payments"`}},
		"every route on the path, regex and negative too": {`{}/{team="payments"}/{env!="dev",severity=~"critical|page"}:{alertname="X"}`, nil,
			[]string{`alertname="X"`, `team="payments"`, `env!="dev"`, `severity=~"critical|page"`}},
		"a route equality the group already says": {`{}/{team="payments"}:{alertname="X", team="payments"}`, nil,
			[]string{`alertname="X"`, `team="payments"`}},
		"braces, slashes and colons in quoted values": {`{}/{job="a}/{:b",note="say \"}\""}:{alertname="X"}`, nil,
			[]string{`alertname="X"`, `job="a}/{:b"`, `note="say \"}\""`}},
		"a quoted label name": {`{}/{"team name"="payments"}:{alertname="X"}`, nil,
			[]string{`alertname="X"`, `"team name"="payments"`}},
		"empty group: shared labels and the route": {`{}/{team="payments"}:{}`,
			&klaxonv1alpha1.AlertsSummary{Items: []klaxonv1alpha1.AlertItem{{Labels: map[string]string{"alertname": "X", "team": "payments", "pod": "a"}}}},
			[]string{`alertname="X"`, `pod="a"`, `team="payments"`}},
	} {
		t.Run(name, func(t *testing.T) {
			ms, err := Matchers(tc.key, tc.alerts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, Filter(ms)); diff != "" {
				t.Errorf("matchers (-want +got):\n%s", diff)
			}
		})
	}
}

// A route part that cannot be read is refused: silencing by the group
// labels alone could match other routes' alerts.
func TestMatchersRefuseAnUnreadableRoute(t *testing.T) {
	for name, key := range map[string]string{
		"not a matcher":        `{}/{team=="payments"}:{alertname="X"}`,
		"no slash":             `{}{team="payments"}:{alertname="X"}`,
		"unclosed":             `{}/{team="payments":{alertname="X"}`,
		"text between routes":  `{}/x/{team="payments"}:{alertname="X"}`,
		"regex valid anchored": `{}/{env=~"x)|(y"}:{alertname="X"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if ms, err := Matchers(key, nil); err == nil {
				t.Errorf("Matchers(%q) = %v, want an error", key, Filter(ms))
			}
		})
	}
}

// The silence matches every alert of the group and no alert of the same
// group labels that another route took.
func TestMatchersHoldTheGroupOnly(t *testing.T) {
	ms, err := Matchers(`{}/{namespace=~"payments-.*"}/{severity="critical"}:{alertname="DiskFull"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	lm := LabelMatchers(ms)
	for i, m := range lm {
		// Compile the regexes, as Alertmanager does.
		c, err := labels.NewMatcher(m.Type, m.Name, m.Value)
		if err != nil {
			t.Fatal(err)
		}
		lm[i] = c
	}
	for name, tc := range map[string]struct {
		alert model.LabelSet
		want  bool
	}{
		"the group's alert":                 {model.LabelSet{"alertname": "DiskFull", "namespace": "payments-prod", "severity": "critical", "pod": "a"}, true},
		"another team's alert of that name": {model.LabelSet{"alertname": "DiskFull", "namespace": "other-team-prod", "severity": "critical"}, false},
		"another route under the team":      {model.LabelSet{"alertname": "DiskFull", "namespace": "payments-prod", "severity": "warning"}, false},
	} {
		if got := lm.Matches(tc.alert); got != tc.want {
			t.Errorf("%s: matched %v, want %v (matchers %v)", name, got, tc.want, lm)
		}
	}
}

// A window names what it silences with an equality, and carries its
// route's matchers.
func TestForWindow(t *testing.T) {
	const path, routePath = "spec.alertmanagerSilence.matchers", `AlertRoute "payments" spec.matchers`
	for name, tc := range map[string]struct {
		written, route []string
		want           string // the matchers, or the error's text
		wantErr        error
	}{
		"equality and the route's":           {[]string{`service="search"`}, []string{`team="payments"`, `severity=~"critical|page"`}, `service="search",team="payments",severity=~"critical|page"`, nil},
		"route without matchers":             {[]string{`service="search"`, `env=~"prod|staging"`}, nil, `service="search",env=~"prod|staging"`, nil},
		"everything by regex":                {[]string{`alertname=~".+"`}, []string{`team="payments"`}, "", ErrNoEquality},
		"negative only":                      {[]string{`env!="dev"`, `alertname=~".+"`}, nil, "", ErrNoEquality},
		"an equality with no value":          {[]string{`team=""`, `alertname=~".+"`}, nil, "", ErrNoEquality},
		"the route's equality is not enough": {[]string{`alertname=~"Search.*"`}, []string{`team="payments"`}, "", ErrNoEquality},
		"all match an empty label":           {[]string{`env=~".*"`}, nil, "every matcher matches an empty label value", ErrSilencesAll},
		"a route matcher that is wrong":      {[]string{`service="search"`}, []string{`team=="payments"`}, `AlertRoute "payments" spec.matchers[0] "team==\"payments\"" is not a valid Alertmanager matcher`, nil},
	} {
		t.Run(name, func(t *testing.T) {
			ms, err := ForWindow(path, tc.written, routePath, tc.route)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			got := ""
			if err != nil {
				got = err.Error()
				if !strings.HasPrefix(got, path) && !strings.HasPrefix(got, routePath) {
					t.Errorf("error %q names neither the window's nor the route's matchers", got)
				}
			} else {
				parts := make([]string, len(ms))
				for i, m := range ms {
					parts[i] = m.String()
				}
				got = strings.Join(parts, ",")
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

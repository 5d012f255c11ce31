package silence

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestGroupLabels(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		want      map[string]string
		wantErr   bool
	}{
		{"root route", `{}:{alertname="CheckoutLatency", team="payments"}`, map[string]string{"alertname": "CheckoutLatency", "team": "payments"}, false},
		{"nested route", `{}/{severity=~"critical|page"}:{alertname="X"}`, map[string]string{"alertname": "X"}, false},
		{"no group labels", `{}:{}`, map[string]string{}, false},
		{"colon and braces in a route matcher", `{}/{job="a}:{b"}:{alertname="X"}`, map[string]string{"alertname": "X"}, false},
		{"escaped quote in a value", `{}:{summary="say \"hi\""}`, map[string]string{"summary": `say "hi"`}, false},
		{"not a group key", `nonsense`, nil, true},
		{"regex group label", `{}:{a=~"b"}`, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := GroupLabels(tc.key)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchers(t *testing.T) {
	items := func(sets ...map[string]string) *klaxonv1alpha1.AlertsSummary {
		s := &klaxonv1alpha1.AlertsSummary{}
		for _, l := range sets {
			s.Items = append(s.Items, klaxonv1alpha1.AlertItem{Labels: l})
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		key     string
		alerts  *klaxonv1alpha1.AlertsSummary
		want    []string
		wantErr error
	}{
		{"group labels, sorted", `{}:{team="payments", alertname="X"}`, nil, []string{`alertname="X"`, `team="payments"`}, nil},
		{"group labels win over alerts", `{}:{alertname="X"}`, items(map[string]string{"alertname": "X", "pod": "a"}), []string{`alertname="X"`}, nil},
		{"empty group: one alert's labels", `{}:{}`, items(map[string]string{"alertname": "X", "pod": "a"}), []string{`alertname="X"`, `pod="a"`}, nil},
		{"empty group: shared labels", `{}:{}`, items(map[string]string{"alertname": "X", "pod": "a"}, map[string]string{"alertname": "X", "pod": "b"}), []string{`alertname="X"`}, nil},
		{"empty group: nothing shared", `{}:{}`, items(map[string]string{"a": "1"}, map[string]string{"b": "2"}), nil, ErrNoMatchers},
		{"empty group: no alerts", `{}:{}`, nil, nil, ErrNoMatchers},
		{"empty group: truncated", `{}:{}`, &klaxonv1alpha1.AlertsSummary{Truncated: 1, Items: []klaxonv1alpha1.AlertItem{{Labels: map[string]string{"a": "1"}}}}, nil, ErrNoMatchers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := Matchers(tc.key, tc.alerts)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, Filter(ms)); diff != "" {
				t.Errorf("matchers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTiming(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		expiresIn  time.Duration
		silenceFor time.Duration
		due        bool
		next       time.Duration
	}{
		{"fresh hour: poll first", time.Hour, time.Hour, false, PollEvery},
		{"extension before the next poll", 30*time.Minute + 10*time.Second, time.Hour, false, 10 * time.Second},
		{"halfway: due", 30 * time.Minute, time.Hour, true, time.Second},
		{"expired: due", -time.Minute, time.Hour, true, time.Second},
		{"short silence", 2 * time.Minute, 2 * time.Minute, false, PollEvery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp := now.Add(tc.expiresIn)
			if got := DueForExtension(now, exp, tc.silenceFor); got != tc.due {
				t.Errorf("due = %v, want %v", got, tc.due)
			}
			if got := NextCheck(now, exp, tc.silenceFor); got != tc.next {
				t.Errorf("next = %v, want %v", got, tc.next)
			}
		})
	}
}

func TestComment(t *testing.T) {
	got := Comment("payments", "checkout-1", "alice", "CheckoutLatency")
	if want := "Klaxon incident payments/checkout-1 acknowledged by alice: CheckoutLatency"; got != want {
		t.Errorf("comment = %q, want %q", got, want)
	}
}

func TestForSilence(t *testing.T) {
	cases := map[string]struct {
		written []string
		want    string // the matchers, or the error's text
	}{
		"equality and regex":          {[]string{`service="checkout"`, `env=~"prod|staging"`}, `service="checkout",env=~"prod|staging"`},
		"one entry, two matchers":     {[]string{`{team="payments", alertname!="Watchdog"}`}, `team="payments",alertname!="Watchdog"`},
		"all match an empty label":    {[]string{`env=~".*"`, `team!="search"`}, "every matcher matches an empty label value"},
		"one that needs its label":    {[]string{`env=~".*"`, `team=~".+"`}, `env=~".*",team=~".+"`},
		"not a matcher":               {[]string{`service=="checkout"`}, `spec.alertmanagerSilence.matchers[0] "service==\"checkout\"" is not a valid Alertmanager matcher`},
		"an empty entry":              {[]string{`service="checkout"`, " "}, "spec.alertmanagerSilence.matchers[1] is empty"},
		"a quoted empty label name":   {[]string{`service="checkout"`, `""="x"`}, `spec.alertmanagerSilence.matchers[1] "\"\"=\"x\"" has an empty label name`},
		"a regex valid only anchored": {[]string{`env=~"x)|(y"`}, `spec.alertmanagerSilence.matchers[0] "env=~\"x)|(y\"" has a regular expression that does not compile on its own`},
		"no matchers silence alike":   {nil, "every matcher matches an empty label value"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ms, err := ForSilence("spec.alertmanagerSilence.matchers", tc.written)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				for i, m := range ms {
					if i > 0 {
						got += ","
					}
					got += m.String()
				}
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

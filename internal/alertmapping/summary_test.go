package alertmapping

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestSummarise(t *testing.T) {
	many := func(n int) []Alert {
		alerts := make([]Alert, 0, n)
		for i := range n {
			alerts = append(alerts, firingAlert(fp(i), t0.Add(minutes(i))))
		}
		return alerts
	}
	tests := map[string]struct {
		msg   *Message
		check func(t *testing.T, s klaxonv1alpha1.AlertsSummary)
	}{
		"counts and newest first": {
			msg: message(
				firingAlert("b", t0.Add(minutes(1))),
				resolvedAlert("a", t0, t0.Add(minutes(5))),
				firingAlert("c", t0.Add(minutes(2))),
			),
			check: func(t *testing.T, s klaxonv1alpha1.AlertsSummary) {
				if s.Firing != 2 || s.Resolved != 1 || s.Truncated != 0 {
					t.Errorf("counts %d/%d/%d", s.Firing, s.Resolved, s.Truncated)
				}
				if got := fingerprints(s.Items); !slices.Equal(got, []string{"c", "b", "a"}) {
					t.Errorf("order %v, want newest first", got)
				}
			},
		},
		"a firing alert's expected end is not a resolution": {
			msg: message(firingAlert("a", t0), resolvedAlert("b", t0, t0.Add(minutes(3)))),
			check: func(t *testing.T, s klaxonv1alpha1.AlertsSummary) {
				for _, it := range s.Items {
					switch it.Fingerprint {
					case "a":
						if it.EndsAt != nil {
							t.Errorf("firing alert has endsAt %v", it.EndsAt)
						}
					case "b":
						if it.EndsAt == nil || !it.EndsAt.Time.Equal(t0.Add(minutes(3))) {
							t.Errorf("resolved alert endsAt %v", it.EndsAt)
						}
					}
				}
			},
		},
		"zero times are left out": {
			msg: message(Alert{Status: StatusResolved, Fingerprint: "z"}),
			check: func(t *testing.T, s klaxonv1alpha1.AlertsSummary) {
				if it := s.Items[0]; it.StartsAt != nil || it.EndsAt != nil {
					t.Errorf("item %+v has times", it)
				}
			},
		},
		"times are kept to the second in UTC": {
			msg: message(firingAlert("a", t0.Add(1500*time.Millisecond).In(time.FixedZone("X", 3600)))),
			check: func(t *testing.T, s klaxonv1alpha1.AlertsSummary) {
				got := s.Items[0].StartsAt.Time
				if !got.Equal(t0.Add(time.Second)) || got.Location() != time.UTC {
					t.Errorf("startsAt %v", got)
				}
			},
		},
		"capped at 50, the newest kept, counts over all": {
			msg: func() *Message { m := message(many(120)...); m.TruncatedAlerts = 30; return m }(),
			check: func(t *testing.T, s klaxonv1alpha1.AlertsSummary) {
				if s.Firing != 120 || s.Truncated != 30 || len(s.Items) != MaxAlertItems {
					t.Errorf("firing %d truncated %d items %d", s.Firing, s.Truncated, len(s.Items))
				}
				if s.Items[0].Fingerprint != fp(119) || s.Items[49].Fingerprint != fp(70) {
					t.Errorf("kept %s..%s, want the 50 newest", s.Items[0].Fingerprint, s.Items[49].Fingerprint)
				}
			},
		},
		"item labels are bounded": {
			msg: func() *Message {
				a := firingAlert("a", t0)
				for i := range 100 {
					a.Labels[fmt.Sprintf("l%03d", i)] = "v"
				}
				a.Labels["pod"] = strings.Repeat("p", 5000)
				a.Fingerprint = strings.Repeat("f", 100)
				return message(a)
			}(),
			check: func(t *testing.T, s klaxonv1alpha1.AlertsSummary) {
				it := s.Items[0]
				if len(it.Labels) != maxItemLabels || it.Labels["alertname"] == "" {
					t.Errorf("%d labels kept (alertname %q)", len(it.Labels), it.Labels["alertname"])
				}
				if len(it.Fingerprint) != maxFingerprintLength {
					t.Errorf("fingerprint has %d characters", len(it.Fingerprint))
				}
			},
		},
		"no alerts": {
			msg: message(),
			check: func(t *testing.T, s klaxonv1alpha1.AlertsSummary) {
				if s.Firing != 0 || s.Resolved != 0 || s.Items != nil {
					t.Errorf("summary %+v", s)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.check(t, Summarise(tc.msg))
		})
	}
}

func TestSameSummary(t *testing.T) {
	base := message(firingAlert("a", t0), firingAlert("b", t0), resolvedAlert("c", t0.Add(-minutes(9)), t0))
	tests := map[string]struct {
		stored  func() *klaxonv1alpha1.AlertsSummary
		desired *Message
		want    bool
	}{
		"identical": {
			stored:  func() *klaxonv1alpha1.AlertsSummary { s := Summarise(base); return &s },
			desired: base,
			want:    true,
		},
		"stored order differs": {
			stored: func() *klaxonv1alpha1.AlertsSummary {
				s := Summarise(base)
				slices.Reverse(s.Items)
				return &s
			},
			desired: base,
			want:    true,
		},
		"alerts sent in another order with new expected ends": {
			stored: func() *klaxonv1alpha1.AlertsSummary { s := Summarise(base); return &s },
			desired: func() *Message {
				m := message(resolvedAlert("c", t0.Add(-minutes(9)), t0), firingAlert("b", t0), firingAlert("a", t0))
				m.Alerts[1].EndsAt = t0.Add(time.Hour)
				return m
			}(),
			want: true,
		},
		"sub-second times": {
			stored: func() *klaxonv1alpha1.AlertsSummary { s := Summarise(base); return &s },
			desired: func() *Message {
				m := message(firingAlert("a", t0.Add(300*time.Millisecond)), firingAlert("b", t0), resolvedAlert("c", t0.Add(-minutes(9)), t0))
				return m
			}(),
			want: true,
		},
		"nil stored equals no alerts": {
			stored:  func() *klaxonv1alpha1.AlertsSummary { return nil },
			desired: message(),
			want:    true,
		},
		"nil stored differs from some alerts": {
			stored:  func() *klaxonv1alpha1.AlertsSummary { return nil },
			desired: base,
			want:    false,
		},
		"an alert resolved": {
			stored:  func() *klaxonv1alpha1.AlertsSummary { s := Summarise(base); return &s },
			desired: message(resolvedAlert("a", t0, t0.Add(minutes(1))), firingAlert("b", t0), resolvedAlert("c", t0.Add(-minutes(9)), t0)),
			want:    false,
		},
		"a label changed": {
			stored: func() *klaxonv1alpha1.AlertsSummary { s := Summarise(base); return &s },
			desired: func() *Message {
				m := message(firingAlert("a", t0), firingAlert("b", t0), resolvedAlert("c", t0.Add(-minutes(9)), t0))
				m.Alerts[0].Labels["pod"] = "moved"
				return m
			}(),
			want: false,
		},
		"truncation changed": {
			stored: func() *klaxonv1alpha1.AlertsSummary { s := Summarise(base); return &s },
			desired: func() *Message {
				m := message(firingAlert("a", t0), firingAlert("b", t0), resolvedAlert("c", t0.Add(-minutes(9)), t0))
				m.TruncatedAlerts = 2
				return m
			}(),
			want: false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			stored := tc.stored()
			if stored != nil {
				// As the API server returns it.
				inc := &klaxonv1alpha1.Incident{Status: klaxonv1alpha1.IncidentStatus{Alerts: stored}}
				stored = storedIncident(t, inc).Status.Alerts
			}
			if got := sameSummary(stored, Summarise(tc.desired)); got != tc.want {
				t.Errorf("sameSummary = %v, want %v", got, tc.want)
			}
		})
	}
}

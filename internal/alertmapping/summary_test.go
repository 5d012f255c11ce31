package alertmapping

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

// oversizedLabels is the reviewer's 1.8 MB notification: 50 firing alerts of 60
// labels, each value 600 characters long, with long label names.
func oversizedLabels() *Message {
	alerts := make([]Alert, 0, 50)
	for i := range 50 {
		a := firingAlert(fp(i), t0.Add(minutes(i)))
		a.Labels = KV{}
		for j := range 60 {
			a.Labels[fmt.Sprintf("label_%02d_%s", j, strings.Repeat("n", 300))] = strings.Repeat(string(rune('a'+j%26)), 600)
		}
		alerts = append(alerts, a)
	}
	return message(alerts...)
}

// status.alerts stays within a byte budget whatever the alerts carry: labels
// are cut, then dropped from the oldest items.
func TestSummariseWithinBudget(t *testing.T) {
	msg := oversizedLabels()
	if b := mustJSON(t, msg.Alerts); len(b) < 1<<20 {
		t.Fatalf("the message's alerts are only %d bytes", len(b))
	}
	s := Summarise(msg)
	if b := mustJSON(t, s.Items); len(b) > maxItemsBytes {
		t.Errorf("items are %d bytes, over the budget of %d", len(b), maxItemsBytes)
	}
	if b := mustJSON(t, s); len(b) > maxItemsBytes+128 {
		t.Errorf("the summary is %d bytes", len(b))
	}
	if s.Firing != 50 || s.Truncated != 0 || len(s.Items) != 50 {
		t.Errorf("counts %d/%d, %d items, want 50 firing, none truncated, 50 items", s.Firing, s.Truncated, len(s.Items))
	}
	if len(s.Items[0].Labels) == 0 {
		t.Errorf("the newest item lost its labels")
	}
	if len(s.Items[len(s.Items)-1].Labels) != 0 {
		t.Errorf("the oldest item kept %d labels", len(s.Items[len(s.Items)-1].Labels))
	}
	for _, it := range s.Items {
		for k, v := range it.Labels {
			if utf8.RuneCountInString(k) > maxLabelNameLength || utf8.RuneCountInString(v) > maxLabelValueLength {
				t.Fatalf("label %.20q=%.20q is longer than %d/%d characters", k, v, maxLabelNameLength, maxLabelValueLength)
			}
		}
	}
	// The same alerts summarise the same, so a repeat writes nothing.
	if !sameSummary(&s, Summarise(oversizedLabels())) {
		t.Error("a repeat summarises differently")
	}
}

// Items that do not fit the budget even without labels are dropped, oldest
// first, and the list counts as cut: an alert missing from it that started
// before the oldest kept is not taken for new.
func TestSummariseDropsOldestItems(t *testing.T) {
	alerts := make([]Alert, 0, 20)
	for i := range 20 {
		alerts = append(alerts, firingAlert(fp(i), t0.Add(minutes(i))))
	}
	msg := message(alerts...)
	full := summarise(msg, 1<<20)
	bare := full.Items[0]
	bare.Labels = nil
	itemBytes := len(mustJSON(t, bare)) + 1
	s := summarise(msg, 1+5*itemBytes+itemBytes/2)
	if len(s.Items) != 5 {
		t.Fatalf("%d items, want 5", len(s.Items))
	}
	if b := mustJSON(t, s.Items); len(b) > 1+5*itemBytes+itemBytes/2 {
		t.Errorf("items are %d bytes", len(b))
	}
	if got, want := fingerprints(s.Items), fingerprints(full.Items[:5]); !slices.Equal(got, want) {
		t.Errorf("kept %v, want the newest %v", got, want)
	}
	if dropped := int(s.Firing) + int(s.Resolved) - len(s.Items); dropped != 15 || s.Firing != 20 {
		t.Errorf("firing %d with %d items: %d dropped, want 15", s.Firing, len(s.Items), dropped)
	}
	old := message(firingAlert(fp(3), t0.Add(minutes(3))))
	if news := judgeFiring(&s, nil, old); news.kind != newsKnown {
		t.Errorf("an alert dropped from the list was judged %v (%s)", news.kind, news.why)
	}
	fresh := message(firingAlert("new", t0.Add(minutes(30))))
	if news := judgeFiring(&s, nil, fresh); news.kind != newsFresh {
		t.Errorf("an alert newer than every kept one was judged %v (%s)", news.kind, news.why)
	}
}

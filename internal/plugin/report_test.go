package plugin

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

var reportNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// incident is an incident triggered ago before reportNow; the offsets of the
// other timestamps count from the trigger.
type incident struct {
	severity      klaxonv1alpha1.Severity
	service       string
	ago           time.Duration
	ack, mitigate time.Duration
	resolve       time.Duration
	close         time.Duration
	ackBy         time.Duration
	resolveBy     time.Duration
}

func (s incident) build() klaxonv1alpha1.Incident {
	start := reportNow.Add(-s.ago)
	offset := func(d time.Duration) *metav1.Time {
		if d == 0 {
			return nil
		}
		t := metav1.NewTime(start.Add(d))
		return &t
	}
	inc := klaxonv1alpha1.Incident{
		Spec: klaxonv1alpha1.IncidentSpec{Title: "t", Severity: s.severity, Service: s.service},
		Status: klaxonv1alpha1.IncidentStatus{
			TriggeredAt:    &metav1.Time{Time: start},
			AcknowledgedAt: offset(s.ack),
			MitigatedAt:    offset(s.mitigate),
			ResolvedAt:     offset(s.resolve),
			ClosedAt:       offset(s.close),
		},
	}
	if s.ackBy != 0 || s.resolveBy != 0 {
		inc.Status.ResponseTargets = &klaxonv1alpha1.ResponseTargetsStatus{AcknowledgeBy: offset(s.ackBy), ResolveBy: offset(s.resolveBy)}
	}
	return inc
}

func d(v time.Duration) *metav1.Duration { return &metav1.Duration{Duration: v} }

func TestBuildReport(t *testing.T) {
	day := 24 * time.Hour
	cases := map[string]struct {
		incidents []incident
		since     time.Duration
		by        GroupBy
		want      []ReportGroup
		wantTotal ReportGroup
	}{
		"no incidents": {
			since:     30 * day,
			by:        BySeverity,
			wantTotal: ReportGroup{Key: "total"},
		},
		"median and p90 interpolate between samples": {
			incidents: []incident{
				{severity: "SEV1", ago: 1 * day, ack: 1 * time.Minute, resolve: 1 * time.Hour},
				{severity: "SEV1", ago: 2 * day, ack: 2 * time.Minute, resolve: 2 * time.Hour},
				{severity: "SEV1", ago: 3 * day, ack: 3 * time.Minute, resolve: 3 * time.Hour},
				{severity: "SEV1", ago: 4 * day, ack: 4 * time.Minute, resolve: 4 * time.Hour},
			},
			since: 30 * day,
			by:    BySeverity,
			want: []ReportGroup{{
				Key: "SEV1", Incidents: 4,
				// Median of 1..4 is 2.5; p90 is 3 + 0.7 of the way to 4.
				TimeToAcknowledge: DurationStats{Count: 4, Median: d(150 * time.Second), P90: d(222 * time.Second)},
				TimeToResolve:     DurationStats{Count: 4, Median: d(150 * time.Minute), P90: d(222 * time.Minute)},
			}},
			wantTotal: ReportGroup{
				Key: "total", Incidents: 4,
				TimeToAcknowledge: DurationStats{Count: 4, Median: d(150 * time.Second), P90: d(222 * time.Second)},
				TimeToResolve:     DurationStats{Count: 4, Median: d(150 * time.Minute), P90: d(222 * time.Minute)},
			},
		},
		"the window selects by trigger time": {
			incidents: []incident{
				{severity: "SEV2", ago: 6 * day, ack: time.Minute},
				{severity: "SEV2", ago: 8 * day, ack: time.Hour},
			},
			since: 7 * day,
			by:    BySeverity,
			want: []ReportGroup{{
				Key: "SEV2", Incidents: 1, Open: 1,
				TimeToAcknowledge: DurationStats{Count: 1, Median: d(time.Minute), P90: d(time.Minute)},
			}},
			wantTotal: ReportGroup{
				Key: "total", Incidents: 1, Open: 1,
				TimeToAcknowledge: DurationStats{Count: 1, Median: d(time.Minute), P90: d(time.Minute)},
			},
		},
		"since 0 takes every incident": {
			incidents: []incident{{severity: "SEV4", ago: 400 * day}},
			by:        BySeverity,
			want:      []ReportGroup{{Key: "SEV4", Incidents: 1, Open: 1}},
			wantTotal: ReportGroup{Key: "total", Incidents: 1, Open: 1},
		},
		"targets: met in time, met late, missed while open, still ahead": {
			incidents: []incident{
				// Acknowledged within 5m and resolved within 4h: both met.
				{severity: "SEV1", ago: 2 * day, ack: 3 * time.Minute, resolve: time.Hour, ackBy: 5 * time.Minute, resolveBy: 4 * time.Hour},
				// Acknowledged late, resolved late.
				{severity: "SEV1", ago: 2 * day, ack: 10 * time.Minute, resolve: 5 * time.Hour, ackBy: 5 * time.Minute, resolveBy: 4 * time.Hour},
				// Never acknowledged, still open past both deadlines: missed.
				{severity: "SEV1", ago: 1 * day, ackBy: 5 * time.Minute, resolveBy: 4 * time.Hour},
				// Triggered a minute ago: both deadlines ahead, neither counts.
				{severity: "SEV1", ago: time.Minute, ackBy: 5 * time.Minute, resolveBy: 4 * time.Hour},
			},
			since: 30 * day,
			by:    BySeverity,
			want: []ReportGroup{{
				Key: "SEV1", Incidents: 4, Open: 2,
				TimeToAcknowledge: DurationStats{Count: 2, Median: d(390 * time.Second), P90: d(9*time.Minute + 18*time.Second)},
				TimeToResolve:     DurationStats{Count: 2, Median: d(3 * time.Hour), P90: d(4*time.Hour + 36*time.Minute)},
				AcknowledgeTarget: Compliance{Met: 1, Missed: 2},
				ResolveTarget:     Compliance{Met: 1, Missed: 2},
			}},
			wantTotal: ReportGroup{
				Key: "total", Incidents: 4, Open: 2,
				TimeToAcknowledge: DurationStats{Count: 2, Median: d(390 * time.Second), P90: d(9*time.Minute + 18*time.Second)},
				TimeToResolve:     DurationStats{Count: 2, Median: d(3 * time.Hour), P90: d(4*time.Hour + 36*time.Minute)},
				AcknowledgeTarget: Compliance{Met: 1, Missed: 2},
				ResolveTarget:     Compliance{Met: 1, Missed: 2},
			},
		},
		"resolving without acknowledging meets the acknowledge target; closing counts as resolving": {
			incidents: []incident{
				{severity: "SEV2", ago: day, resolve: 2 * time.Minute, ackBy: 15 * time.Minute},
				{severity: "SEV2", ago: day, close: 30 * time.Minute, resolveBy: time.Hour},
			},
			since: 30 * day,
			by:    BySeverity,
			want: []ReportGroup{{
				Key: "SEV2", Incidents: 2,
				TimeToResolve:     DurationStats{Count: 2, Median: d(16 * time.Minute), P90: d(27*time.Minute + 12*time.Second)},
				AcknowledgeTarget: Compliance{Met: 1},
				ResolveTarget:     Compliance{Met: 1},
			}},
			wantTotal: ReportGroup{
				Key: "total", Incidents: 2,
				TimeToResolve:     DurationStats{Count: 2, Median: d(16 * time.Minute), P90: d(27*time.Minute + 12*time.Second)},
				AcknowledgeTarget: Compliance{Met: 1},
				ResolveTarget:     Compliance{Met: 1},
			},
		},
		"by service, incidents without one last; severity defaults to SEV3": {
			incidents: []incident{
				{ago: day},
				{service: "search", ago: day, ack: time.Minute},
				{service: "checkout", ago: day},
				{service: "checkout", ago: 2 * day, resolve: time.Hour},
			},
			since: 30 * day,
			by:    ByService,
			want: []ReportGroup{
				{Key: "checkout", Incidents: 2, Open: 1, TimeToResolve: DurationStats{Count: 1, Median: d(time.Hour), P90: d(time.Hour)}},
				{Key: "search", Incidents: 1, Open: 1, TimeToAcknowledge: DurationStats{Count: 1, Median: d(time.Minute), P90: d(time.Minute)}},
				{Key: "<none>", Incidents: 1, Open: 1},
			},
			wantTotal: ReportGroup{
				Key: "total", Incidents: 4, Open: 3,
				TimeToAcknowledge: DurationStats{Count: 1, Median: d(time.Minute), P90: d(time.Minute)},
				TimeToResolve:     DurationStats{Count: 1, Median: d(time.Hour), P90: d(time.Hour)},
			},
		},
		"severities in order, SEV1 first": {
			incidents: []incident{{severity: "SEV3", ago: day}, {severity: "SEV1", ago: day}, {ago: day}},
			since:     30 * day,
			by:        BySeverity,
			want: []ReportGroup{
				{Key: "SEV1", Incidents: 1, Open: 1},
				{Key: "SEV3", Incidents: 2, Open: 2},
			},
			wantTotal: ReportGroup{Key: "total", Incidents: 3, Open: 3},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var incidents []klaxonv1alpha1.Incident
			for _, s := range tc.incidents {
				incidents = append(incidents, s.build())
			}
			got := BuildReport(incidents, reportNow, tc.since, tc.by)
			if diff := cmp.Diff(tc.want, got.Groups); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantTotal, got.Total); diff != "" {
				t.Errorf("total (-want +got):\n%s", diff)
			}
			if tc.since > 0 && !got.From.Time.Equal(reportNow.Add(-tc.since)) {
				t.Errorf("from = %s, want %s", got.From, reportNow.Add(-tc.since))
			}
		})
	}
}

func TestCompliancePercent(t *testing.T) {
	if _, ok := (Compliance{}).Percent(); ok {
		t.Error("an empty compliance has a percentage")
	}
	if got, _ := (Compliance{Met: 3, Missed: 1}).Percent(); got != 75 {
		t.Errorf("3 met of 4: %v%%, want 75%%", got)
	}
}

func TestParseSince(t *testing.T) {
	cases := map[string]struct {
		want    time.Duration
		wantErr bool
	}{
		"30d":  {want: 30 * 24 * time.Hour},
		"2w":   {want: 14 * 24 * time.Hour},
		"36h":  {want: 36 * time.Hour},
		"90m":  {want: 90 * time.Minute},
		"0":    {want: 0},
		"d":    {wantErr: true},
		"-1d":  {wantErr: true},
		"1.5d": {wantErr: true},
		"soon": {wantErr: true},
		"-3h":  {wantErr: true},
	}
	for in, tc := range cases {
		got, err := parseSince(in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseSince(%q) = %v, %v; want %v, error %v", in, got, err, tc.want, tc.wantErr)
		}
	}
}

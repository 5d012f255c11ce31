package heartbeat

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func newHeartbeat(timeout time.Duration, lastSeen *time.Time, incident string) *klaxonv1alpha1.Heartbeat {
	hb := &klaxonv1alpha1.Heartbeat{
		ObjectMeta: metav1.ObjectMeta{Name: "watchdog", Namespace: "ns", CreationTimestamp: metav1.NewTime(t0)},
		Spec:       klaxonv1alpha1.HeartbeatSpec{Timeout: metav1.Duration{Duration: timeout}},
	}
	if lastSeen != nil {
		hb.Status.LastSeenAt = &metav1.Time{Time: *lastSeen}
	}
	if incident != "" {
		hb.Status.IncidentRef = &klaxonv1alpha1.LocalObjectReference{Name: incident}
	}
	return hb
}

func at(d time.Duration) *time.Time {
	t := t0.Add(d)
	return &t
}

func TestDecide(t *testing.T) {
	cases := map[string]struct {
		timeout  time.Duration
		lastSeen *time.Time
		incident string
		now      time.Time
		want     Decision
	}{
		"new, within the timeout from creation": {
			timeout: 5 * time.Minute, now: t0.Add(time.Minute),
			want: Decision{RequeueAfter: 4*time.Minute + time.Second},
		},
		"new, exactly at the deadline is not overdue": {
			timeout: 5 * time.Minute, now: t0.Add(5 * time.Minute),
			want: Decision{RequeueAfter: time.Second},
		},
		"never beat past the timeout: open": {
			timeout: 5 * time.Minute, now: t0.Add(5*time.Minute + time.Nanosecond),
			want: Decision{Overdue: true, Action: ActionOpen},
		},
		"last seen counts from lastSeenAt, not creation": {
			timeout: 5 * time.Minute, lastSeen: at(time.Hour), now: t0.Add(time.Hour + 3*time.Minute),
			want: Decision{RequeueAfter: 2*time.Minute + time.Second},
		},
		"overdue with an incident recorded: nothing more": {
			timeout: 5 * time.Minute, lastSeen: at(0), incident: "heartbeat-watchdog-1", now: t0.Add(time.Hour),
			want: Decision{Overdue: true},
		},
		"beat returned with the incident recorded: resolve": {
			timeout: 5 * time.Minute, lastSeen: at(time.Hour), incident: "heartbeat-watchdog-1", now: t0.Add(time.Hour + time.Second),
			want: Decision{Action: ActionResolve, RequeueAfter: 5 * time.Minute},
		},
		"clock behind the creation time (skew)": {
			timeout: time.Minute, now: t0.Add(-time.Minute),
			want: Decision{RequeueAfter: 2*time.Minute + time.Second},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Decide(newHeartbeat(tc.timeout, tc.lastSeen, tc.incident), tc.now); got != tc.want {
				t.Errorf("Decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWriteInterval(t *testing.T) {
	cases := map[string]struct {
		timeout, want time.Duration
	}{
		"minimum timeout":         {time.Minute, 15 * time.Second},
		"a quarter below 1m":      {3 * time.Minute, 45 * time.Second},
		"capped at once a minute": {time.Hour, time.Minute},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := WriteInterval(tc.timeout); got != tc.want {
				t.Errorf("WriteInterval(%s) = %s, want %s", tc.timeout, got, tc.want)
			}
		})
	}
}

func TestNeedsWrite(t *testing.T) {
	cases := map[string]struct {
		lastSeen *time.Time
		timeout  time.Duration
		now      time.Time
		want     bool
	}{
		"first beat":                      {nil, time.Minute, t0, true},
		"within a quarter of the timeout": {at(0), time.Minute, t0.Add(14 * time.Second), false},
		"a quarter of the timeout later":  {at(0), time.Minute, t0.Add(15 * time.Second), true},
		"long timeout, within a minute":   {at(0), time.Hour, t0.Add(59 * time.Second), false},
		"long timeout, a minute later":    {at(0), time.Hour, t0.Add(time.Minute), true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := NeedsWrite(tc.lastSeen, tc.timeout, tc.now); got != tc.want {
				t.Errorf("NeedsWrite = %v, want %v", got, tc.want)
			}
		})
	}
}

// A heartbeat beating at any period below three quarters of its timeout,
// recorded as the receiver records beats, is never judged overdue.
func TestCoarseWritesNeverMissABeat(t *testing.T) {
	for _, timeout := range []time.Duration{time.Minute, 7 * time.Minute, time.Hour} {
		for _, period := range []time.Duration{time.Second, 13 * time.Second, timeout * 3 / 4} {
			var lastSeen *time.Time
			hb := newHeartbeat(timeout, nil, "")
			for now := t0; now.Before(t0.Add(3 * timeout)); now = now.Add(time.Second) {
				if now.Sub(t0)%period == 0 && NeedsWrite(lastSeen, timeout, now) {
					seen := now.Truncate(time.Second)
					lastSeen = &seen
					hb.Status.LastSeenAt = &metav1.Time{Time: seen}
				}
				if Overdue(hb, now) {
					t.Fatalf("timeout %s, beat every %s: overdue at %s (last seen %s)", timeout, period, now.Sub(t0), lastSeen.Sub(t0))
				}
			}
		}
	}
}

func TestIncidentName(t *testing.T) {
	cases := map[string]struct {
		name   string
		serial int32
		want   string
	}{
		"short":     {"watchdog", 1, "heartbeat-watchdog-1"},
		"later one": {"watchdog", 12, "heartbeat-watchdog-12"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := IncidentName(tc.name, tc.serial); got != tc.want {
				t.Errorf("IncidentName = %q, want %q", got, tc.want)
			}
		})
	}
	long := strings.Repeat("a", 253)
	n1, n2 := IncidentName(long, 1), IncidentName(long, 2)
	if len(n1) > 253 || len(validation.IsDNS1123Subdomain(n1)) > 0 || n1 == n2 {
		t.Errorf("long names %q, %q: want distinct valid names", n1, n2)
	}
	if v := LabelValue(long); len(validation.IsValidLabelValue(v)) > 0 || v == LabelValue(long+"b") {
		t.Errorf("LabelValue(long) = %q: want a valid, distinct label value", v)
	}
}

func TestNewIncident(t *testing.T) {
	hb := newHeartbeat(5*time.Minute, nil, "")
	inc := NewIncident(hb, 3)
	if inc.Name != "heartbeat-watchdog-3" || inc.Namespace != "ns" || inc.Spec.Title != "Heartbeat watchdog is overdue" ||
		inc.Spec.Severity != klaxonv1alpha1.SeverityHigh || inc.Labels[klaxonv1alpha1.LabelHeartbeat] != "watchdog" ||
		inc.Annotations[klaxonv1alpha1.ActorAnnotation] != klaxonv1alpha1.ActorHeartbeat || !Opened(hb, inc) {
		t.Errorf("incident = %+v", inc)
	}
	hb.Spec.Title, hb.Spec.Severity = "Pipeline down", klaxonv1alpha1.SeverityCritical
	hb.Spec.EscalationPolicyRef = &klaxonv1alpha1.LocalObjectReference{Name: "payments"}
	inc = NewIncident(hb, 1)
	if inc.Spec.Title != "Pipeline down" || inc.Spec.Severity != klaxonv1alpha1.SeverityCritical || inc.Spec.EscalationPolicyRef.Name != "payments" {
		t.Errorf("incident spec = %+v", inc.Spec)
	}
}

func TestClassify(t *testing.T) {
	watchdog, err := CompileMatchers([]string{`alertname="Watchdog"`})
	if err != nil {
		t.Fatal(err)
	}
	cron, err := CompileMatchers([]string{`alertname="CronAlive"`, `job=~"backup|report"`})
	if err != nil {
		t.Fatal(err)
	}
	candidates := []Candidate{{Name: "watchdog", Matchers: watchdog}, {Name: "cron", Matchers: cron}}
	alert := func(status string, kv ...string) template.Alert {
		a := template.Alert{Status: status, Labels: template.KV{}}
		for i := 0; i < len(kv); i += 2 {
			a.Labels[kv[i]] = kv[i+1]
		}
		return a
	}
	cases := map[string]struct {
		candidates []Candidate
		alerts     []template.Alert
		beats      []string
		only       bool
	}{
		"watchdog alone": {candidates, []template.Alert{alert("firing", "alertname", "Watchdog")}, []string{"watchdog"}, true},
		"watchdog resolved: no beat, still no incident": {
			candidates, []template.Alert{alert("resolved", "alertname", "Watchdog")}, nil, true},
		"watchdog beside another alert": {
			candidates, []template.Alert{alert("firing", "alertname", "Watchdog"), alert("firing", "alertname", "DiskFull")}, []string{"watchdog"}, false},
		"every matcher must match": {
			candidates, []template.Alert{alert("firing", "alertname", "CronAlive", "job", "other")}, nil, false},
		"two heartbeats": {
			candidates, []template.Alert{alert("firing", "alertname", "CronAlive", "job", "backup"), alert("firing", "alertname", "Watchdog")},
			[]string{"cron", "watchdog"}, true},
		"no heartbeats": {nil, []template.Alert{alert("firing", "alertname", "Watchdog")}, nil, false},
		"no alerts":     {candidates, nil, nil, false},
		"heartbeat without matchers beats by ping only": {
			[]Candidate{{Name: "ping"}}, []template.Alert{alert("firing", "alertname", "Watchdog")}, nil, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			beats, only := Classify(tc.candidates, tc.alerts)
			if strings.Join(beats, ",") != strings.Join(tc.beats, ",") || only != tc.only {
				t.Errorf("Classify = %v, %v; want %v, %v", beats, only, tc.beats, tc.only)
			}
		})
	}
}

func TestCompileMatchers(t *testing.T) {
	cases := map[string]struct {
		matchers []string
		wantErr  string
	}{
		"valid":   {[]string{`alertname="Watchdog"`}, ""},
		"empty":   {[]string{" "}, "spec.matchers[0] is empty"},
		"invalid": {[]string{`alertname=~"("`}, `spec.matchers[0] "alertname=~\"(\"" is not a valid`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := CompileMatchers(tc.matchers)
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("CompileMatchers error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

package alertmapping

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// senderEvent is a timeless notification as the PagerDuty and Opsgenie
// intakes build one: one alert, identified by the sender's key.
func senderEvent(key, status string) Notification {
	return Notification{
		Message: &Message{
			Data: &template.Data{
				Status: status,
				Alerts: []Alert{{Status: status, Fingerprint: FingerprintOf(key),
					Labels: KV{"alertname": "Disk full", "severity": "critical"}}},
				CommonLabels:      KV{"alertname": "Disk full", "severity": "critical"},
				CommonAnnotations: KV{"summary": "Disk full on db-1"},
			},
			Version:  PayloadVersion,
			GroupKey: GroupKeyFor(IntakePagerDuty, key),
		},
		Intake: IntakePagerDuty, Kind: KindAlerts, Timeless: true,
	}
}

func TestSettleTimes(t *testing.T) {
	fp := FingerprintOf("disk")
	at := func(m int) *metav1.Time { tm := metav1.NewTime(t0.Add(minutes(m))); return &tm }
	stored := func(items ...klaxonv1alpha1.AlertItem) *klaxonv1alpha1.AlertsSummary {
		return &klaxonv1alpha1.AlertsSummary{Items: items}
	}
	now := t0.Add(minutes(30)).Add(400 * time.Millisecond)
	cases := map[string]struct {
		status    string
		stored    *klaxonv1alpha1.AlertsSummary
		start     time.Time
		end       time.Time
		wantEnded bool
	}{
		"firing, nothing stored: starts now": {StatusFiring, nil, t0.Add(minutes(30)), time.Time{}, false},
		"firing, stored firing: keeps its start": {StatusFiring,
			stored(klaxonv1alpha1.AlertItem{Fingerprint: fp, Status: StatusFiring, StartsAt: at(5)}), t0.Add(minutes(5)), time.Time{}, false},
		"firing, stored resolved: a new occurrence": {StatusFiring,
			stored(klaxonv1alpha1.AlertItem{Fingerprint: fp, Status: StatusResolved, StartsAt: at(5), EndsAt: at(10)}), t0.Add(minutes(30)), time.Time{}, false},
		"firing, another alert stored: starts now": {StatusFiring,
			stored(klaxonv1alpha1.AlertItem{Fingerprint: FingerprintOf("other"), Status: StatusFiring, StartsAt: at(5)}), t0.Add(minutes(30)), time.Time{}, false},
		"resolved, stored firing: ends now": {StatusResolved,
			stored(klaxonv1alpha1.AlertItem{Fingerprint: fp, Status: StatusFiring, StartsAt: at(5)}), t0.Add(minutes(5)), t0.Add(minutes(30)), true},
		"resolved, stored resolved: a repeat": {StatusResolved,
			stored(klaxonv1alpha1.AlertItem{Fingerprint: fp, Status: StatusResolved, StartsAt: at(5), EndsAt: at(10)}), t0.Add(minutes(5)), t0.Add(minutes(10)), true},
		"resolved, nothing stored: starts and ends now": {StatusResolved, nil, t0.Add(minutes(30)), t0.Add(minutes(30)), true},
		"firing in the second of the stored resolve: a second after it": {StatusFiring,
			stored(klaxonv1alpha1.AlertItem{Fingerprint: fp, Status: StatusResolved, StartsAt: at(5), EndsAt: at(30)}), t0.Add(minutes(30)).Add(time.Second), time.Time{}, false},
		"latest occurrence counts": {StatusFiring, stored(
			klaxonv1alpha1.AlertItem{Fingerprint: fp, Status: StatusResolved, StartsAt: at(1), EndsAt: at(2)},
			klaxonv1alpha1.AlertItem{Fingerprint: fp, Status: StatusFiring, StartsAt: at(7)}), t0.Add(minutes(7)), time.Time{}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n := senderEvent("disk", tc.status)
			SettleTimes(tc.stored, n.Message, now)
			a := n.Alerts[0]
			if !a.StartsAt.Equal(tc.start) || !a.EndsAt.Equal(tc.end) {
				t.Errorf("settled to %v – %v, want %v – %v", a.StartsAt, a.EndsAt, tc.start, tc.end)
			}
		})
	}
}

// TestTimelessSenderStory plays a sender without alert times (PagerDuty's
// Events API) through Decide with SettleTimes, as the receiver does: a
// repeat of an unchanged trigger writes nothing, an acknowledgement moves
// the incident as a person would, and a trigger after the resolve is a new
// occurrence.
func TestTimelessSenderStory(t *testing.T) {
	r := &receiver{t: t, route: mustCompile(t, paymentsSpec())}
	deliver := func(n Notification, now time.Time) Decision {
		latest := LatestIncident(r.incidents, "payments-critical", n.GroupKey)
		var stored *klaxonv1alpha1.AlertsSummary
		if latest != nil {
			stored = StoredAlerts(latest)
		}
		SettleTimes(stored, n.Message, now)
		return r.deliver(n.Message, now)
	}
	steps := []struct {
		name   string
		do     func(now time.Time) Decision
		want   Action
		writes int
		state  klaxonv1alpha1.IncidentState
	}{
		{"trigger opens", func(now time.Time) Decision { return deliver(senderEvent("disk", StatusFiring), now) }, ActionCreate, 2, klaxonv1alpha1.StateTriggered},
		{"repeat writes nothing", func(now time.Time) Decision { return deliver(senderEvent("disk", StatusFiring), now) }, ActionNothing, 2, klaxonv1alpha1.StateTriggered},
		{"acknowledge", func(time.Time) Decision {
			latest := LatestIncident(r.incidents, "payments-critical", GroupKeyFor(IntakePagerDuty, "disk"))
			d := DecideAcknowledge(latest)
			d.Actor = Actor(IntakePagerDuty, "payments-critical")
			if d.ApplySpec(latest) {
				r.writes++
			}
			return d
		}, ActionAcknowledge, 3, klaxonv1alpha1.StateAcknowledged},
		{"acknowledge again writes nothing", func(now time.Time) Decision {
			r.accept(now)
			return DecideAcknowledge(LatestIncident(r.incidents, "payments-critical", GroupKeyFor(IntakePagerDuty, "disk")))
		}, ActionNothing, 3, klaxonv1alpha1.StateAcknowledged},
		{"resolve", func(now time.Time) Decision { return deliver(senderEvent("disk", StatusResolved), now) }, ActionResolve, 5, klaxonv1alpha1.StateResolved},
		{"resolve repeated writes nothing", func(now time.Time) Decision {
			r.accept(now)
			return deliver(senderEvent("disk", StatusResolved), now)
		}, ActionNothing, 5, klaxonv1alpha1.StateResolved},
		{"trigger again reopens", func(now time.Time) Decision { return deliver(senderEvent("disk", StatusFiring), now) }, ActionReopen, 7, klaxonv1alpha1.StateTriggered},
		{"resolve", func(now time.Time) Decision {
			r.accept(now)
			return deliver(senderEvent("disk", StatusResolved), now)
		}, ActionResolve, 9, klaxonv1alpha1.StateResolved},
		{"a trigger in the same second reopens", func(now time.Time) Decision {
			r.accept(now)
			return deliver(senderEvent("disk", StatusFiring), now.Add(-time.Minute).Add(500*time.Millisecond))
		}, ActionReopen, 11, klaxonv1alpha1.StateTriggered},
	}
	for i, st := range steps {
		now := t0.Add(time.Duration(i+1) * time.Minute)
		d := st.do(now)
		latest := LatestIncident(r.incidents, "payments-critical", GroupKeyFor(IntakePagerDuty, "disk"))
		state := latest.Spec.State
		if state == "" {
			state = klaxonv1alpha1.StateTriggered
		}
		if d.Action != st.want || r.writes != st.writes || state != st.state {
			t.Fatalf("%s: action %s, %d writes, state %v; want %s, %d writes, %s (%s)", st.name, d.Action, r.writes, state, st.want, st.writes, st.state, d.Message)
		}
	}
	if got := r.incidents[0].Annotations[klaxonv1alpha1.ActorAnnotation]; got != klaxonv1alpha1.ActorAlertmanager {
		// The last move (the reopen) was decided without an actor: it is
		// recorded as Alertmanager's unless the receiver names the sender.
		t.Errorf("actor %q after a reopen without one, want %q", got, klaxonv1alpha1.ActorAlertmanager)
	}
	if len(r.incidents) != 1 {
		t.Errorf("%d incidents, want 1", len(r.incidents))
	}
}

func TestDecideAcknowledge(t *testing.T) {
	cases := map[klaxonv1alpha1.IncidentState]Action{
		klaxonv1alpha1.StateTriggered:    ActionAcknowledge,
		"":                               ActionAcknowledge,
		klaxonv1alpha1.StateAcknowledged: ActionNothing,
		klaxonv1alpha1.StateMitigated:    ActionNothing,
		klaxonv1alpha1.StateResolved:     ActionNothing,
		klaxonv1alpha1.StateClosed:       ActionNothing,
	}
	for state, want := range cases {
		inc := incident(state, nil)
		if d := DecideAcknowledge(inc); d.Action != want {
			t.Errorf("%q: %s, want %s", state, d.Action, want)
		}
	}
	if d := DecideAcknowledge(nil); d.Action != ActionNothing {
		t.Errorf("no incident: %s, want Nothing", d.Action)
	}
	inc := incident(klaxonv1alpha1.StateTriggered, nil)
	d := DecideAcknowledge(inc)
	d.Actor = Actor(IntakeOpsgenie, "payments-critical")
	if !d.ApplySpec(inc) || inc.Spec.State != klaxonv1alpha1.StateAcknowledged || inc.Annotations[klaxonv1alpha1.ActorAnnotation] != "opsgenie:payments-critical" {
		t.Errorf("acknowledged to %s by %q, want Acknowledged by opsgenie:payments-critical", inc.Spec.State, inc.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
}

func TestIntakeIdentity(t *testing.T) {
	if GroupKeyFor(IntakePagerDuty, "k") == GroupKeyFor(IntakeOpsgenie, "k") {
		t.Error("two senders' keys name one group")
	}
	if f := FingerprintOf("k"); len(f) != 16 || f != FingerprintOf("k") || f == FingerprintOf("k2") {
		t.Errorf("FingerprintOf = %q: want 16 stable hex digits that tell keys apart", f)
	}
	for intake, want := range map[Intake]string{IntakeAlertmanager: "alertmanager", IntakeGrafana: "alertmanager",
		IntakePagerDuty: "pagerduty:r", IntakeOpsgenie: "opsgenie:r"} {
		if got := Actor(intake, "r"); got != want {
			t.Errorf("Actor(%s) = %q, want %q", intake, got, want)
		}
	}
	inc, err := NewIncident(mustCompile(t, paymentsSpec()), "payments-critical", "payments", 1, senderEvent("disk", StatusFiring).Message)
	if err != nil {
		t.Fatal(err)
	}
	n := senderEvent("disk", StatusFiring)
	n.Stamp(inc, "payments-critical")
	if inc.Spec.Source.Intake != klaxonv1alpha1.IntakePagerDuty || inc.Annotations[klaxonv1alpha1.ActorAnnotation] != "pagerduty:payments-critical" {
		t.Errorf("stamped intake %q, actor %q", inc.Spec.Source.Intake, inc.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
}

func TestNoteEntry(t *testing.T) {
	n := Notification{Intake: IntakeOpsgenie, Kind: KindNote, Note: "restarted\x00 the\x1b[31m pod\nline two\t" + strings.Repeat("x", 2000)}
	e := n.NoteEntry("payments-critical", t0.Add(300*time.Millisecond))
	if e.Type != klaxonv1alpha1.TimelineNote || e.Actor != "opsgenie:payments-critical" || !e.Time.Equal(&metav1.Time{Time: t0}) {
		t.Errorf("entry %+v", e)
	}
	if !strings.HasPrefix(e.Message, "restarted  the [31m pod\nline two\t") || len([]rune(e.Message)) > maxNoteLength {
		t.Errorf("message %q: want control characters replaced and at most %d characters", e.Message[:40], maxNoteLength)
	}
}

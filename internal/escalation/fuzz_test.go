package escalation

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// FuzzPlanAnyStatus runs Plan on arbitrary persisted status and assignments,
// as a hand edit, a restore from backup or a policy changed under a running
// incident can leave them: no panic; a page is of a level the policy has,
// with people it resolved; the status to persist records the page; and the
// next look is never in the past.
func FuzzPlanAnyStatus(f *testing.F) {
	f.Add(uint8(3), int32(1), int64(10), true, int32(1), int32(0), int64(600), false, uint8(2), int32(0), int32(0), int64(0), int64(900))
	f.Add(uint8(1), int32(0), int64(0), false, int32(0), int32(0), int64(0), false, uint8(0), int32(0), int32(0), int64(0), int64(0))
	f.Add(uint8(2), int32(5), int64(1), true, int32(99), int32(-3), int64(-1), true, uint8(1), int32(7), int32(2147483647), int64(-600), int64(1<<40))
	f.Add(uint8(16), int32(2147483647), int64(1<<50), true, int32(-1), int32(2147483647), int64(1), false, uint8(5), int32(-2), int32(3), int64(5), int64(-5))
	f.Fuzz(func(t *testing.T, levels uint8, repeat int32, afterMinutes int64, hasStatus bool, level, round int32, nextOffset int64, exhausted bool,
		assigned uint8, aLevel, aRound int32, aOffset, nowOffset int64) {
		trigger := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		policy := &klaxonv1alpha1.EscalationPolicySpec{Repeat: repeat}
		for i := range int(levels % 17) {
			l := klaxonv1alpha1.EscalationLevel{Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: "both"}, {User: "erin"}}}
			if i > 0 || repeat > 0 {
				l.After = &metav1.Duration{Duration: time.Duration(afterMinutes) * time.Minute}
			}
			policy.Levels = append(policy.Levels, l)
		}
		in := Input{Policy: policy, TriggeredAt: trigger, OnCall: onCall(policy, resolve), Now: trigger.Add(time.Duration(nowOffset) * time.Second)}
		if hasStatus {
			in.Status = &klaxonv1alpha1.EscalationStatus{Level: level, Round: round, Exhausted: exhausted,
				NextEscalationAt: &metav1.Time{Time: trigger.Add(time.Duration(nextOffset) * time.Second)}}
		}
		for i := range int(assigned % 8) {
			in.Assignments = append(in.Assignments, klaxonv1alpha1.Assignment{Name: "alice", Level: aLevel + int32(i), Round: aRound,
				NotifiedAt: metav1.Time{Time: trigger.Add(time.Duration(aOffset+int64(i)) * time.Second)}})
		}
		d, err := Plan(in)
		if err != nil {
			return
		}
		if p := d.Page; p != nil {
			if p.Level < 0 || int(p.Level) >= len(policy.Levels) || p.Round < 0 || p.Round > max(repeat, 0) {
				t.Fatalf("paged level %d round %d of a policy with %d levels and repeat %d", p.Level, p.Round, len(policy.Levels), repeat)
			}
			if len(p.Assignments) != 3 { // alice and bob on call for "both", and erin
				t.Fatalf("paged %+v", p.Assignments)
			}
			if d.Status == nil || d.Status.Level != p.Level || d.Status.Round != p.Round {
				t.Fatalf("status %+v does not record the page of level %d round %d", d.Status, p.Level, p.Round)
			}
		}
		if !d.NextAt.IsZero() && d.NextAt.Before(in.Now.Truncate(time.Second)) {
			t.Fatalf("next look at %s, before now %s", d.NextAt, in.Now)
		}
	})
}

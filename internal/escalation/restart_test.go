package escalation

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// randomPolicy returns a valid policy whose level i pages schedule s<i>.
func randomPolicy(r *rand.Rand) *klaxonv1alpha1.EscalationPolicySpec {
	p := &klaxonv1alpha1.EscalationPolicySpec{Repeat: int32(r.IntN(3))}
	for i := range 1 + r.IntN(4) {
		l := klaxonv1alpha1.EscalationLevel{Targets: schedules(fmt.Sprintf("s%d", i))}
		if i > 0 || r.IntN(2) == 0 {
			l.After = after(time.Duration(1+r.IntN(30))*time.Minute + time.Duration(r.IntN(60))*time.Second)
		}
		p.Levels = append(p.Levels, l)
	}
	if len(p.Levels) == 1 && p.Levels[0].After == nil {
		p.Repeat = 0
	}
	return p
}

// persist passes v through JSON, as a write to and read from the API
// server would, so that whatever status loses (sub-second precision) is lost.
func persist[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRestartedOperatorNeitherRepeatsNorSkipsALevel runs random policies
// through an operator that reconciles at random: twice at the same instant,
// on time, or after a long outage. Whatever it does, every step is paged
// once, in order, no earlier than its delay after the previous page.
func TestRestartedOperatorNeitherRepeatsNorSkipsALevel(t *testing.T) {
	r := rand.New(rand.NewPCG(20261123, 3))
	resolveAny := func(schedule string, _ time.Time) ([]string, error) {
		return []string{"on-call-" + schedule}, nil
	}
	for run := range 300 {
		policy := randomPolicy(r)
		st := steps{spec: policy, n: len(policy.Levels)}
		triggeredAt := trigger.Add(time.Duration(r.Int64N(int64(time.Hour))))

		var status *klaxonv1alpha1.EscalationStatus
		var assignments []klaxonv1alpha1.Assignment
		type paged struct {
			level, round int32
			at           time.Time
		}
		var pages []paged
		now := triggeredAt.Add(time.Duration(r.Int64N(int64(5*time.Minute))) - 2*time.Second)
		for range 1000 {
			d, err := Plan(Input{Policy: policy, Status: status, Assignments: assignments, TriggeredAt: triggeredAt, OnCall: onCall(policy, resolveAny), Now: now})
			if err != nil {
				t.Fatalf("run %d: Plan: %v", run, err)
			}
			if d.Page != nil {
				pages = append(pages, paged{d.Page.Level, d.Page.Round, now})
				assignments = append(assignments, d.Page.Assignments...)
			}
			status, assignments = persist(t, d.Status), persist(t, assignments)
			if d.NextAt.IsZero() {
				if status == nil || !status.Exhausted {
					t.Fatalf("run %d: no next time but status %s is not exhausted", run, show(status))
				}
				break
			}
			switch r.IntN(3) {
			case 0: // a second reconcile at the same instant
			case 1: // on time, give or take the requeue's jitter
				now = later(now, d.NextAt.Add(time.Duration(r.Int64N(int64(2*time.Second)))))
			default: // an outage, or reconciles for other reasons
				now = now.Add(time.Duration(r.Int64N(int64(2 * time.Hour))))
			}
		}
		if len(pages) != st.total() {
			t.Fatalf("run %d: %d pages, want %d: %+v", run, len(pages), st.total(), pages)
		}
		for s, p := range pages {
			level, round := st.at(s)
			if p.level != level || p.round != round {
				t.Fatalf("run %d: page %d is level %d round %d, want level %d round %d", run, s, p.level, p.round, level, round)
			}
			if s == 0 {
				if p.at.Before(triggeredAt) {
					t.Fatalf("run %d: level 0 paged at %s, before trigger %s", run, p.at, triggeredAt)
				}
				continue
			}
			if gap := p.at.Sub(pages[s-1].at); gap < st.delay(s) {
				t.Fatalf("run %d: step %d paged %s after the previous one, want at least %s", run, s, gap, st.delay(s))
			}
		}
		// Exhausted stays exhausted.
		d, err := Plan(Input{Policy: policy, Status: status, Assignments: assignments, TriggeredAt: triggeredAt, OnCall: onCall(policy, resolveAny), Now: now.Add(24 * time.Hour)})
		if err != nil || d.Page != nil || !d.NextAt.IsZero() {
			t.Fatalf("run %d: after exhaustion Plan = %s, %v, %v", run, show(d.Page), d.NextAt, err)
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// The JSON form is what the API server keeps; check persist loses what it should.
func TestPersistDropsSubSeconds(t *testing.T) {
	in := &klaxonv1alpha1.EscalationStatus{NextEscalationAt: &metav1.Time{Time: trigger.Add(1500 * time.Millisecond)}}
	if got := persist(t, in).NextEscalationAt.Time; !got.Equal(trigger.Add(time.Second)) {
		t.Fatalf("persisted %s, want whole seconds", got)
	}
}

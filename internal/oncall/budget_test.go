package oncall

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// denseSpec is about the costliest schedule the API admits to walk: a base
// layer and fifteen layers of thirty-two one-minute windows every day, each
// window at a minute of its own, all with the same person, so that none of
// the 960 edges a day is a handoff. Walking it to the Horizon took six
// minutes before the walk had a budget.
func denseSpec() *klaxonv1alpha1.OnCallScheduleSpec {
	spec := schedule("Europe/Berlin", layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "alice"))
	for i := range 15 {
		l := layerSpec(fmt.Sprintf("dense-%d", i), "2026-01-01T00:00:00", time.Hour, "alice")
		for j := range 32 {
			from := 2 * (32*i + j)
			l.Restrictions = append(l.Restrictions, windowSpec(clockOf(from), clockOf(from+1), propertyDays...))
		}
		spec.Layers = append(spec.Layers, l)
	}
	return spec
}

// clockOf writes minutes since midnight as HH:MM.
func clockOf(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

// denseFrom is an instant not aligned to any edge.
var denseFrom = time.Date(2026, time.November, 23, 9, 0, 30, 0, time.UTC)

func TestDenseScheduleStaysWithinItsStepBudget(t *testing.T) {
	s, err := Compile(denseSpec())
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	handoff, until, steps := s.walk(denseFrom, stepBudget)
	if steps > stepBudget {
		t.Errorf("walk took %d steps, over its budget of %d", steps, stepBudget)
	}
	if !handoff.IsZero() {
		t.Fatalf("walk found a handoff at %s in a schedule that has none", handoff)
	}
	if !until.Before(denseFrom.Add(Horizon)) {
		t.Fatalf("walk reached the Horizon (%s); the budget was not used up", until)
	}
	// Even this densest schedule is seen a day ahead, so its controller
	// comes back at most about daily.
	if until.Sub(denseFrom) < 24*time.Hour {
		t.Errorf("walk stopped at %s, less than a day after %s", until, denseFrom)
	}
	if h, u := s.NextHandoff(denseFrom); !h.IsZero() || !u.Equal(until) {
		t.Errorf("NextHandoff(%s) = %s until %s, want no handoff until %s", denseFrom, h, u, until)
	}
	// At holds until then; every edge falls on a whole minute.
	want := s.At(denseFrom)
	for m := denseFrom.Truncate(time.Minute).Add(time.Minute); m.Before(until); m = m.Add(time.Minute) {
		if got := s.At(m); !slices.Equal(got, want) {
			t.Fatalf("At(%s) = %q, want %q as at %s", m, got, want, denseFrom)
		}
	}
	// Asked again from there, the walk goes on.
	if _, again := s.NextHandoff(until); !again.After(until) {
		t.Errorf("NextHandoff(%s) stopped at %s, not after it", until, again)
	}
}

// A handoff beyond what one walk of a dense schedule sees is found by asking
// again from where the walk stopped, as the controller does when it requeues.
func TestDenseScheduleHandoffIsFoundByWalkingOn(t *testing.T) {
	cases := map[string]time.Duration{
		"within the first walk": 30 * time.Hour,
		"beyond the first walk": 10 * 24 * time.Hour,
	}
	for name, after := range cases {
		t.Run(name, func(t *testing.T) {
			spec := denseSpec()
			start := denseFrom.Add(after).Truncate(time.Minute)
			spec.Overrides = []klaxonv1alpha1.ScheduleOverride{{
				User: "bob", Start: metav1.NewTime(start), End: metav1.NewTime(start.Add(time.Hour)),
			}}
			s, err := Compile(spec)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			from := denseFrom
			for walks := 1; ; walks++ {
				handoff, until := s.NextHandoff(from)
				if !handoff.IsZero() {
					if !handoff.Equal(start) {
						t.Fatalf("walk %d from %s: handoff at %s, want %s", walks, from, handoff, start)
					}
					break
				}
				if !until.After(from) || !until.Before(start) || walks > 20 {
					t.Fatalf("walk %d from %s: no handoff, stopped at %s (override at %s)", walks, from, until, start)
				}
				from = until
			}
		})
	}
}

// The budget makes no difference to the schedules people write: the walk
// reaches the handoff or the Horizon long before it runs out.
func TestBudgetDoesNotCutOrdinarySchedulesShort(t *testing.T) {
	r := rand.New(rand.NewPCG(20261123, 3))
	specs := 300
	if testing.Short() {
		specs = 50
	}
	for n := range specs {
		spec := randomSpec(r)
		s, err := Compile(spec)
		if err != nil {
			t.Fatalf("spec %d: Compile: %v", n, err)
		}
		from := randomInstant(r)
		h, until := s.NextHandoff(from)
		wantH, wantUntil, steps := s.walk(from, math.MaxInt)
		if !h.Equal(wantH) || !until.Equal(wantUntil) {
			t.Errorf("spec %d %+v: NextHandoff(%s) = %s until %s, want %s until %s (%d steps)",
				n, spec, from, h, until, wantH, wantUntil, steps)
		}
	}
}

// However small the budget, the walk stops after t and is right as far as
// it goes: a handoff it reports is the next one, and At holds until it stops.
func TestSmallBudgetsStopEarlyButAreRight(t *testing.T) {
	r := rand.New(rand.NewPCG(20261123, 4))
	for n := range 300 {
		spec := randomSpec(r)
		s, err := Compile(spec)
		if err != nil {
			t.Fatalf("spec %d: Compile: %v", n, err)
		}
		from := randomInstant(r)
		budget := r.IntN(4 * len(spec.Layers))
		h, until, steps := s.walk(from, budget)
		full, _, _ := s.walk(from, math.MaxInt)
		if steps > max(budget, len(spec.Layers)) {
			t.Errorf("spec %d: walk(%s, %d) took %d steps", n, from, budget, steps)
		}
		if !until.After(from) {
			t.Errorf("spec %d %+v: walk(%s, %d) stopped at %s, not after it", n, spec, from, budget, until)
		}
		switch {
		case !h.IsZero() && !h.Equal(full):
			t.Errorf("spec %d %+v: walk(%s, %d) found a handoff at %s, want %s", n, spec, from, budget, h, full)
		case h.IsZero() && !full.IsZero() && full.Before(until):
			t.Errorf("spec %d %+v: walk(%s, %d) claims no change until %s, but At changes at %s", n, spec, from, budget, until, full)
		}
	}
}

// A layer outside its windows has nobody, so its rotation's edges there are
// not visited: from Tuesday to the window on Monday is one step per layer
// to start with and one to visit the opening, not one per hourly shift.
func TestRestrictedRotationIsNotWalked(t *testing.T) {
	s, err := Compile(schedule("UTC",
		layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "base"),
		restricted(layerSpec("flicker", "2026-11-23T09:00:00", time.Hour, "a", "b"), windowSpec("09:00", "11:00", "Mon")),
	))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	from := instantOf(t, "2026-11-24T12:00:00Z")
	handoff, _, steps := s.walk(from, stepBudget)
	if want := instantOf(t, "2026-11-30T09:00:00Z"); !handoff.Equal(want) {
		t.Errorf("handoff = %s, want %s", handoff, want)
	}
	if steps != 3 {
		t.Errorf("walk took %d steps, want 3", steps)
	}
}

func BenchmarkNextHandoffDense(b *testing.B) {
	s, err := Compile(denseSpec())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s.NextHandoff(denseFrom)
	}
}

// BenchmarkNextHandoffSample walks config/samples' payments-primary.
func BenchmarkNextHandoffSample(b *testing.B) {
	s, err := Compile(schedule("Europe/Berlin",
		[]klaxonv1alpha1.ScheduleLayer{
			layerSpec("follow-the-sun", "2026-11-02T08:00:00", 12*time.Hour, "dave", "erin"),
			restricted(layerSpec("business-hours", "2026-11-02T09:00:00", 168*time.Hour, "alice", "bob", "carol"),
				windowSpec("09:00", "18:00", "Mon", "Tue", "Wed", "Thu", "Fri")),
		},
		cover("frank", "2026-12-24T18:00:00Z", "2026-12-27T08:00:00Z"),
	))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s.NextHandoff(denseFrom)
	}
}

package oncall

import (
	"fmt"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// manyOverrides returns n one-minute removes of alice, one every ten
// minutes from first, none of which is a handoff for a schedule nobody
// else is on: alice is removed, but the base layer has her only at night.
func manyOverrides(n int, first time.Time) []klaxonv1alpha1.OnCallOverride {
	out := make([]klaxonv1alpha1.OnCallOverride, n)
	for i := range out {
		o := &out[i]
		o.Name = fmt.Sprintf("o-%05d", n-i) // names against time order
		o.Spec.ScheduleRef.Name = "primary"
		start := first.Add(time.Duration(i) * 10 * time.Minute)
		o.Spec.Start, o.Spec.End = metav1.NewTime(start), metav1.NewTime(start.Add(time.Minute))
		o.Spec.Remove = []string{"bob"}
	}
	return out
}

// A thousand overrides, each two edges, none a handoff: the walk counts
// every edge it passes against its budget, so it stops within the budget
// rather than scanning every override at every step.
func TestManyOverridesStayWithinTheStepBudget(t *testing.T) {
	base, err := Compile(schedule("UTC", layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "alice")))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	from := time.Date(2026, time.November, 23, 9, 0, 30, 0, time.UTC)
	s := base.WithOverrides("primary", manyOverrides(MaxOverrides, from.Add(time.Hour)))
	handoff, until, steps := s.walk(from, stepBudget)
	if steps > stepBudget {
		t.Errorf("walk took %d steps, over its budget of %d", steps, stepBudget)
	}
	if steps < 2*MaxOverrides {
		t.Errorf("walk took %d steps for %d override edges: edges are not counted", steps, 2*MaxOverrides)
	}
	if !handoff.IsZero() {
		t.Fatalf("walk found a handoff at %s where there is none", handoff)
	}
	// With a budget smaller than the edges, the walk stops short, and At
	// holds up to where it stopped.
	_, short, steps := s.walk(from, 500)
	if steps > 500 {
		t.Errorf("walk took %d steps, over its budget of 500", steps)
	}
	if !short.Before(until) || !short.After(from) {
		t.Errorf("walk with a small budget stopped at %s, want after %s and before %s", short, from, until)
	}
	for m := from; m.Before(short); m = m.Add(time.Minute) {
		if got := s.At(m); !slices.Equal(got, []string{"alice"}) {
			t.Fatalf("At(%s) = %q, want alice", m, got)
		}
	}
	// Overrides that ended before the walk starts cost it nothing.
	late := from.Add(time.Duration(MaxOverrides)*10*time.Minute + 2*time.Hour)
	if _, _, steps := s.walk(late, stepBudget); steps > len(s.layers) {
		t.Errorf("walk from after every override took %d steps, want at most %d", steps, len(s.layers))
	}
}

// Overrides that all start and end at one instant are visited at once, and
// that visit fits the budget however many there are.
func TestOverridesSharingAnInstantFitTheBudget(t *testing.T) {
	base, err := Compile(schedule("UTC", layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "alice")))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	from := time.Date(2026, time.November, 23, 9, 0, 0, 0, time.UTC)
	overrides := manyOverrides(MaxOverrides, from.Add(time.Hour))
	for i := range overrides {
		overrides[i].Spec.Start, overrides[i].Spec.End = metav1.NewTime(from.Add(time.Hour)), metav1.NewTime(from.Add(2*time.Hour))
		overrides[i].Spec.Remove = []string{"alice"}
	}
	s := base.WithOverrides("primary", overrides)
	handoff, _, steps := s.walk(from, stepBudget)
	if want := from.Add(time.Hour); !handoff.Equal(want) {
		t.Errorf("handoff = %s, want %s", handoff, want)
	}
	if steps > stepBudget {
		t.Errorf("walk took %d steps, over its budget of %d", steps, stepBudget)
	}
}

// Beyond MaxOverrides, those that end first are left out, and LeftOut
// names them.
func TestOverridesBeyondTheCapAreLeftOut(t *testing.T) {
	base, err := Compile(schedule("UTC", layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "alice")))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	from := time.Date(2026, time.November, 23, 9, 0, 0, 0, time.UTC)
	overrides := manyOverrides(MaxOverrides+1, from)
	for i := range overrides {
		overrides[i].Spec.Remove = []string{"alice"}
	}
	first := overrides[0].Name
	if got := LeftOut("primary", overrides); !slices.Equal(got, []string{first}) {
		t.Errorf("LeftOut = %q, want only %s, the override that ends first of %d", got, first, len(overrides))
	}
	s := base.WithOverrides("primary", overrides)
	if got := s.At(from); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("At(%s) = %q, want alice: the override left out must not apply", from, got)
	}
	if got := s.At(from.Add(10 * time.Minute)); got != nil {
		t.Errorf("At(%s) = %q, want nobody: a kept override removes alice", from.Add(10*time.Minute), got)
	}
	if got := LeftOut("primary", overrides[:MaxOverrides]); got != nil {
		t.Errorf("LeftOut = %q with only %d overrides, want none", got, MaxOverrides)
	}
}

func BenchmarkNextHandoffManyOverrides(b *testing.B) {
	base, err := Compile(schedule("UTC", layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "alice")))
	if err != nil {
		b.Fatalf("Compile: %v", err)
	}
	from := time.Date(2026, time.November, 23, 9, 0, 30, 0, time.UTC)
	s := base.WithOverrides("primary", manyOverrides(MaxOverrides, from.Add(time.Hour)))
	for b.Loop() {
		s.NextHandoff(from)
	}
}

package lifecycle

import (
	"fmt"
	"slices"
	"testing"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

const (
	T = klaxonv1alpha1.StateTriggered
	A = klaxonv1alpha1.StateAcknowledged
	M = klaxonv1alpha1.StateMitigated
	R = klaxonv1alpha1.StateResolved
	C = klaxonv1alpha1.StateClosed
)

type pair struct{ from, to klaxonv1alpha1.IncidentState }

func (p pair) String() string { return fmt.Sprintf("%s->%s", p.from, p.to) }

// Every ordered pair of states, written out so a change to the rules shows up
// here as a diff a reviewer can read.
var allowedMoves = map[pair]bool{
	{T, T}: true, {T, A}: true, {T, M}: true, {T, R}: true, {T, C}: true,
	{A, T}: false, {A, A}: true, {A, M}: true, {A, R}: true, {A, C}: true,
	{M, T}: true, {M, A}: false, {M, M}: true, {M, R}: true, {M, C}: true,
	{R, T}: true, {R, A}: false, {R, M}: false, {R, R}: true, {R, C}: true,
	{C, T}: false, {C, A}: false, {C, M}: false, {C, R}: false, {C, C}: true,
}

func TestAllowedCoversEveryPair(t *testing.T) {
	if got, want := len(allowedMoves), len(States)*len(States); got != want {
		t.Fatalf("table has %d pairs, want %d", got, want)
	}
	for p, want := range allowedMoves {
		t.Run(p.String(), func(t *testing.T) {
			if got := Allowed(p.from, p.to); got != want {
				t.Errorf("Allowed(%s, %s) = %v, want %v", p.from, p.to, got, want)
			}
		})
	}
}

func TestAllowedRejectsUnknownStates(t *testing.T) {
	for _, p := range []pair{{"Bogus", T}, {T, "Bogus"}, {"", T}} {
		if Allowed(p.from, p.to) {
			t.Errorf("Allowed(%q, %q) = true, want false", p.from, p.to)
		}
	}
}

func TestSteps(t *testing.T) {
	type want struct {
		steps []klaxonv1alpha1.IncidentState
		err   bool
	}
	cases := map[pair]want{
		// A new incident starts at Triggered, whatever it was created in.
		{"", T}: {steps: []klaxonv1alpha1.IncidentState{T}},
		{"", A}: {steps: []klaxonv1alpha1.IncidentState{T, A}},
		{"", M}: {steps: []klaxonv1alpha1.IncidentState{T, M}},
		{"", R}: {steps: []klaxonv1alpha1.IncidentState{T, R}},
		{"", C}: {steps: []klaxonv1alpha1.IncidentState{T, C}},

		{T, T}: {}, {T, A}: {steps: []klaxonv1alpha1.IncidentState{A}},
		{T, M}: {steps: []klaxonv1alpha1.IncidentState{M}},
		{T, R}: {steps: []klaxonv1alpha1.IncidentState{R}},
		{T, C}: {steps: []klaxonv1alpha1.IncidentState{C}},

		// Acknowledged -> Triggered can only have gone through Mitigated or
		// Resolved: a reopen.
		{A, T}: {steps: []klaxonv1alpha1.IncidentState{T}},
		{A, A}: {}, {A, M}: {steps: []klaxonv1alpha1.IncidentState{M}},
		{A, R}: {steps: []klaxonv1alpha1.IncidentState{R}},
		{A, C}: {steps: []klaxonv1alpha1.IncidentState{C}},

		{M, T}: {steps: []klaxonv1alpha1.IncidentState{T}},
		{M, A}: {steps: []klaxonv1alpha1.IncidentState{T, A}},
		{M, M}: {}, {M, R}: {steps: []klaxonv1alpha1.IncidentState{R}},
		{M, C}: {steps: []klaxonv1alpha1.IncidentState{C}},

		{R, T}: {steps: []klaxonv1alpha1.IncidentState{T}},
		{R, A}: {steps: []klaxonv1alpha1.IncidentState{T, A}},
		{R, M}: {steps: []klaxonv1alpha1.IncidentState{T, M}},
		{R, R}: {}, {R, C}: {steps: []klaxonv1alpha1.IncidentState{C}},

		{C, T}: {err: true}, {C, A}: {err: true}, {C, M}: {err: true}, {C, R}: {err: true},
		{C, C}: {},

		{T, "Bogus"}: {err: true},
		{"Bogus", T}: {err: true},
	}
	for p, w := range cases {
		t.Run(p.String(), func(t *testing.T) {
			got, err := Steps(p.from, p.to)
			if (err != nil) != w.err {
				t.Fatalf("Steps(%q, %q) error = %v, want error %v", p.from, p.to, err, w.err)
			}
			if !slices.Equal(got, w.steps) {
				t.Errorf("Steps(%q, %q) = %v, want %v", p.from, p.to, got, w.steps)
			}
		})
	}
}

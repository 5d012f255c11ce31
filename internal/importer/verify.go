package importer

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// maxVerifySteps bounds the handoffs Verify follows through one schedule's
// window, and maxEdges the edges it compares: 26 weeks of hourly handoffs
// fit, a hostile schedule stops with an error.
const (
	maxVerifySteps = 20000
	maxEdges       = 100000
)

// Verdict is how one imported schedule compares with the source's final
// schedule.
type Verdict struct {
	Schedule string `json:"schedule"`
	// Source is the tool, as people write it.
	Source      string       `json:"source"`
	Window      Window       `json:"window"`
	Differences []Difference `json:"differences"`
}

// Difference is an interval in which the source and Klaxon put different
// people on call.
type Difference struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Source []string  `json:"source"`
	Klaxon []string  `json:"klaxon"`
}

// Verify computes, for each of r's final schedules, who the imported
// OnCallSchedule and the OnCallOverrides for it put on call over r's
// window, with the operator's own code, and lists every interval in which
// that differs from the source's final schedule.
func Verify(r *Result) ([]Verdict, error) {
	var out []Verdict
	for _, f := range r.Finals {
		shifts, err := Shifts(r, f.Schedule, r.Window)
		if err != nil {
			return nil, err
		}
		diffs, err := Compare(f.Intervals, shifts, r.Window)
		if err != nil {
			return nil, fmt.Errorf("comparing %s with the source: %w", f.Schedule, err)
		}
		out = append(out, Verdict{Schedule: f.Schedule, Source: r.title(), Window: r.Window, Differences: diffs})
	}
	return out, nil
}

// Shifts returns who the imported schedule name and its imported overrides
// put on call in w.
func Shifts(r *Result, name string, w Window) ([]Interval, error) {
	obj, ok := r.Object("OnCallSchedule", name).(*klaxonv1alpha1.OnCallSchedule)
	if !ok {
		return nil, fmt.Errorf("no OnCallSchedule %s was imported", name)
	}
	compiled, err := oncall.Compile(&obj.Spec)
	if err != nil {
		return nil, fmt.Errorf("imported OnCallSchedule %s is not valid: %w", name, err)
	}
	var overrides []klaxonv1alpha1.OnCallOverride
	for _, o := range r.Objects {
		if ov, ok := o.(*klaxonv1alpha1.OnCallOverride); ok && ov.Spec.ScheduleRef.Name == name {
			overrides = append(overrides, *ov)
		}
	}
	shifts, err := compiled.WithOverrides(name, overrides).Shifts(w.From, w.To, maxVerifySteps)
	if err != nil {
		return nil, fmt.Errorf("who is on call on %s: %w", name, err)
	}
	out := make([]Interval, 0, len(shifts))
	for _, s := range shifts {
		people := slices.Clone(s.People)
		sort.Strings(people)
		out = append(out, Interval{Start: s.From, End: s.To, People: people})
	}
	return out, nil
}

// errTooManyEdges says a comparison would look at more edges than it may.
var errTooManyEdges = errors.New("the schedules change hands too often to compare")

// Compare lists the intervals of w in which source and klaxon put
// different people on call, joining neighbours that differ alike. Each is
// a list of intervals; where a list's intervals overlap, their people add
// up, and where it has none, nobody is on call.
func Compare(source, klaxon []Interval, w Window) ([]Difference, error) {
	edges := []time.Time{w.From, w.To}
	for _, list := range [][]Interval{source, klaxon} {
		for _, iv := range list {
			for _, t := range []time.Time{iv.Start, iv.End} {
				if t.After(w.From) && t.Before(w.To) {
					edges = append(edges, t)
				}
			}
		}
		if len(edges) > maxEdges {
			return nil, errTooManyEdges
		}
	}
	slices.SortFunc(edges, func(a, b time.Time) int { return a.Compare(b) })
	edges = slices.CompactFunc(edges, time.Time.Equal)
	src, kx := newCursor(source), newCursor(klaxon)
	var out []Difference
	for i := 0; i+1 < len(edges); i++ {
		from, to := edges[i], edges[i+1]
		s, k := src.at(from), kx.at(from)
		if slices.Equal(s, k) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].End.Equal(from) && slices.Equal(out[n-1].Source, s) && slices.Equal(out[n-1].Klaxon, k) {
			out[n-1].End = to
			continue
		}
		out = append(out, Difference{Start: from, End: to, Source: s, Klaxon: k})
	}
	return out, nil
}

// cursor answers who a list of intervals puts on call at instants asked in
// increasing order.
type cursor struct {
	byStart []Interval
	next    int
	open    []Interval
}

func newCursor(list []Interval) *cursor {
	c := &cursor{byStart: slices.Clone(list)}
	slices.SortStableFunc(c.byStart, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	return c
}

// at returns the sorted people on call at t, no one twice.
func (c *cursor) at(t time.Time) []string {
	for c.next < len(c.byStart) && !c.byStart[c.next].Start.After(t) {
		c.open = append(c.open, c.byStart[c.next])
		c.next++
	}
	c.open = slices.DeleteFunc(c.open, func(iv Interval) bool { return !iv.End.After(t) })
	people := []string{}
	for _, iv := range c.open {
		people = append(people, iv.People...)
	}
	sort.Strings(people)
	return slices.Compact(people)
}

package oncall

import (
	"cmp"
	"slices"
	"strings"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// MaxOverrideLength is the longest an OnCallOverride may last; the CRD's
// CEL rule on spec says the same.
const MaxOverrideLength = 90 * 24 * time.Hour

// change is a compiled OnCallOverride: in [start, end) it adds people,
// replaces one person by another, or removes people.
type change struct {
	name       string
	start, end time.Time
	add        []string
	user, with string // replace: user by with
	remove     []string
}

func (c *change) active(t time.Time) bool {
	return !t.Before(c.start) && t.Before(c.end)
}

// apply changes set as the override says; set may be changed in place.
func (c *change) apply(set []string) []string {
	switch {
	case len(c.add) > 0:
		return append(set, c.add...)
	case c.user != "":
		if !slices.Contains(set, c.user) {
			return set
		}
		set = slices.DeleteFunc(set, func(p string) bool { return p == c.user })
		return append(set, c.with)
	default:
		return slices.DeleteFunc(set, func(p string) bool { return slices.Contains(c.remove, p) })
	}
}

// ValidOverride says whether the API server would admit spec, as far as At
// needs it: exactly one of add, replace (of one person by another) or
// remove, naming people, and an end after the start, at most
// MaxOverrideLength later.
func ValidOverride(spec *klaxonv1alpha1.OnCallOverrideSpec) bool {
	kinds := 0
	if len(spec.Add) > 0 {
		kinds++
	}
	if spec.Replace != nil {
		kinds++
		if spec.Replace.User == "" || spec.Replace.With == "" || spec.Replace.User == spec.Replace.With {
			return false
		}
	}
	if len(spec.Remove) > 0 {
		kinds++
	}
	named := !slices.Contains(spec.Add, "") && !slices.Contains(spec.Remove, "")
	length := spec.End.Sub(spec.Start.Time)
	return kinds == 1 && named && length > 0 && length <= MaxOverrideLength
}

// MaxOverrides is the most OnCallOverrides one schedule takes. Beyond it,
// those that end first are left out (the ended ones retention has not yet
// deleted go first), and their own Ready says TooManyOverrides: each
// override is an edge of every walk, and a bound keeps NextHandoff's
// budget enough to visit all that share one instant.
const MaxOverrides = 1000

// applicable returns the indexes of the overrides WithOverrides takes for
// schedule: those naming it that ValidOverride admits, at most
// MaxOverrides, keeping those that end last (ties: by name).
func applicable(schedule string, overrides []klaxonv1alpha1.OnCallOverride) []int {
	var idx []int
	for i := range overrides {
		if o := &overrides[i]; o.Spec.ScheduleRef.Name == schedule && ValidOverride(&o.Spec) {
			idx = append(idx, i)
		}
	}
	if len(idx) <= MaxOverrides {
		return idx
	}
	slices.SortFunc(idx, func(a, b int) int {
		oa, ob := &overrides[a], &overrides[b]
		return cmp.Or(ob.Spec.End.Compare(oa.Spec.End.Time), cmp.Compare(oa.Name, ob.Name))
	})
	return idx[:MaxOverrides]
}

// LeftOut returns the names of the overrides WithOverrides leaves out of
// schedule for want of room: when more than MaxOverrides valid overrides
// name it, those that end before the ones kept.
func LeftOut(schedule string, overrides []klaxonv1alpha1.OnCallOverride) []string {
	kept := make([]bool, len(overrides))
	for _, i := range applicable(schedule, overrides) {
		kept[i] = true
	}
	var out []string
	for i := range overrides {
		if o := &overrides[i]; !kept[i] && o.Spec.ScheduleRef.Name == schedule && ValidOverride(&o.Spec) {
			out = append(out, o.Name)
		}
	}
	return out
}

// WithOverrides returns the schedule with these OnCallOverrides applied
// after the spec's own overrides, in the order of their start (ties: by
// name). Overrides that ValidOverride refuses, or that name another
// schedule, are left out: the API server keeps them out, and At must not
// depend on one that slipped through; so are those beyond MaxOverrides.
func (s *Schedule) WithOverrides(schedule string, overrides []klaxonv1alpha1.OnCallOverride) *Schedule {
	idx := applicable(schedule, overrides)
	changes := make([]change, 0, len(idx))
	for _, i := range idx {
		o := &overrides[i]
		c := change{name: o.Name, start: o.Spec.Start.Time, end: o.Spec.End.Time, add: o.Spec.Add, remove: o.Spec.Remove}
		if r := o.Spec.Replace; r != nil {
			c.user, c.with = r.User, r.With
		}
		changes = append(changes, c)
	}
	slices.SortStableFunc(changes, func(a, b change) int {
		return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.name, b.name))
	})
	out := *s
	out.changes = changes
	return &out
}

// applyChanges applies the OnCallOverrides active at t to set, which it
// may change in place, and returns the result in name order, each person
// once, or nil for nobody.
func (s *Schedule) applyChanges(t time.Time, set []string) []string {
	for i := range s.changes {
		if c := &s.changes[i]; c.active(t) {
			set = c.apply(set)
		}
	}
	return normalize(set)
}

// normalize sorts set and drops repeated names; an empty set is nil.
func normalize(set []string) []string {
	if len(set) == 0 {
		return nil
	}
	slices.Sort(set)
	return slices.Compact(set)
}

// People returns everyone the schedule can put on call (layer
// participants and group members, users of the spec's overrides, and the
// people its OnCallOverrides add or bring in by replace), in name order,
// each once: the people an OnCallOverride's replace can sensibly name.
func (s *Schedule) People() []string {
	var people []string
	for i := range s.layers {
		for _, turn := range s.layers[i].rotation.turns {
			people = append(people, turn...)
		}
	}
	for i := range s.overrides {
		people = append(people, s.overrides[i].user)
	}
	for i := range s.changes {
		c := &s.changes[i]
		people = append(people, c.add...)
		if c.with != "" {
			people = append(people, c.with)
		}
	}
	return normalize(people)
}

// Around returns the OnCallOverrides of schedule that are in force at t, in
// the order they apply, and those that start next after it (all that share
// the earliest start), leaving out those ValidOverride refuses; and the
// first instant after t at which one of them starts or ends (zero: none).
func Around(schedule string, overrides []klaxonv1alpha1.OnCallOverride, t time.Time) (inForce, next []klaxonv1alpha1.OnCallOverride, edge time.Time) {
	var nextStart time.Time
	for i := range overrides {
		o := &overrides[i]
		if o.Spec.ScheduleRef.Name != schedule || !ValidOverride(&o.Spec) {
			continue
		}
		start, end := o.Spec.Start.Time, o.Spec.End.Time
		edge = earliestAfter(t, edge, start)
		edge = earliestAfter(t, edge, end)
		switch {
		case !t.Before(start) && t.Before(end):
			inForce = append(inForce, *o)
		case start.After(t) && (nextStart.IsZero() || !start.After(nextStart)):
			if !start.Equal(nextStart) {
				next, nextStart = nil, start
			}
			next = append(next, *o)
		}
	}
	byStart := func(a, b klaxonv1alpha1.OnCallOverride) int {
		return cmp.Or(a.Spec.Start.Compare(b.Spec.Start.Time), cmp.Compare(a.Name, b.Name))
	}
	slices.SortStableFunc(inForce, byStart)
	slices.SortStableFunc(next, byStart)
	return inForce, next, edge
}

// maxDescription bounds Describe's answer, which goes into status.
const maxDescription = 512

// Describe says what an override does, such as "add dave", "replace alice
// with dave" or "remove alice, bob", in at most 512 characters.
func Describe(spec *klaxonv1alpha1.OnCallOverrideSpec) string {
	var s string
	switch {
	case spec.Replace != nil:
		s = "replace " + spec.Replace.User + " with " + spec.Replace.With
	case len(spec.Add) > 0:
		s = "add " + strings.Join(spec.Add, ", ")
	default:
		s = "remove " + strings.Join(spec.Remove, ", ")
	}
	return bounded.Runes(s, maxDescription)
}

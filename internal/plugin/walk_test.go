package plugin

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

var walkFrom = time.Date(2026, time.November, 23, 9, 0, 30, 0, time.UTC)

// allDays are the days of a window repeated daily.
var allDays = []klaxonv1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// denseSchedule has alice on call all the time through sixteen layers, all
// but the first of thirty-two one-minute windows a day: hundreds of edges a
// day, none a handoff, so that one walk runs out of its budget within days.
func denseSchedule(t *testing.T) *oncall.Schedule {
	t.Helper()
	spec := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{{
		Name: "base", Participants: []string{"alice"}, Start: "2026-01-01T00:00:00", Shift: metav1.Duration{Duration: 168 * time.Hour},
	}}}
	for i := range 15 {
		l := klaxonv1alpha1.ScheduleLayer{Name: fmt.Sprintf("dense-%d", i), Participants: []string{"alice"},
			Start: "2026-01-01T00:00:00", Shift: metav1.Duration{Duration: time.Hour}}
		for j := range 32 {
			m := 2 * (32*i + j)
			l.Restrictions = append(l.Restrictions, klaxonv1alpha1.TimeRestriction{Days: allDays,
				From: fmt.Sprintf("%02d:%02d", m/60, m%60), To: fmt.Sprintf("%02d:%02d", (m+1)/60, (m+1)%60)})
		}
		spec.Layers = append(spec.Layers, l)
	}
	s, err := oncall.Compile(spec)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

func overrideAt(name string, start, end time.Time, mutate func(*klaxonv1alpha1.OnCallOverrideSpec)) klaxonv1alpha1.OnCallOverride {
	o := klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: name}}
	o.Spec.ScheduleRef.Name = "primary"
	o.Spec.Start, o.Spec.End = metav1.NewTime(start), metav1.NewTime(end)
	mutate(&o.Spec)
	return o
}

func adding(p string) func(*klaxonv1alpha1.OnCallOverrideSpec) {
	return func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = []string{p} }
}

// Where a walk runs out of its budget, at the first edge it did not visit,
// who is on call may change: shifts and cover see dave added there.
func TestWalksSeeAChangeWhereTheBudgetRanOut(t *testing.T) {
	dense := denseSchedule(t)
	handoff, stop := dense.NextHandoff(walkFrom)
	if !handoff.IsZero() || !stop.Before(walkFrom.Add(oncall.Horizon)) {
		t.Fatalf("NextHandoff = %s until %s: the walk did not run out of its budget", handoff, stop)
	}
	s := dense.WithOverrides("primary", []klaxonv1alpha1.OnCallOverride{overrideAt("dave", stop, stop.Add(time.Minute), adding("dave"))})
	if h, u := s.NextHandoff(walkFrom); !h.IsZero() || !u.Equal(stop) {
		t.Fatalf("with dave added at %s NextHandoff = %s until %s, want the walk to stop there", stop, h, u)
	}
	to := walkFrom.Add(7 * 24 * time.Hour)
	shifts, err := shiftsIn(s, walkFrom, to)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sh := range shifts {
		got = append(got, fmt.Sprintf("%s-%s %s", sh.From.Format(time.RFC3339), sh.To.Format(time.RFC3339), strings.Join(sh.People, ",")))
	}
	want := []string{
		walkFrom.Format(time.RFC3339) + "-" + stop.Format(time.RFC3339) + " alice",
		stop.Format(time.RFC3339) + "-" + stop.Add(time.Minute).Format(time.RFC3339) + " alice,dave",
		stop.Add(time.Minute).Format(time.RFC3339) + "-" + to.Format(time.RFC3339) + " alice",
	}
	if !slices.Equal(got, want) {
		t.Errorf("shifts =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	covers, err := coversOf(s, "erin", walkFrom, to)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(covers, func(c coverOf) bool { return c.user == "dave" && c.from.Equal(stop) }) {
		t.Errorf("covers = %+v, want dave covered from %s", covers, stop)
	}
}

// Someone an override brings in later in the interval is covered from
// then, and the cover applies after that override though they start
// together and its name would sort first.
func TestCoverTakesOverWhoeverComesLater(t *testing.T) {
	base, err := oncall.Compile(&klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{{
		Name: "base", Participants: []string{"alice"}, Start: "2026-01-01T00:00:00", Shift: metav1.Duration{Duration: 168 * time.Hour},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, time.November, 23, 9, 0, 0, 0, time.UTC)
	overrides := []klaxonv1alpha1.OnCallOverride{overrideAt("primary-zz-add", from.Add(time.Hour), from.Add(2*time.Hour), adding("bob"))}
	l := &loadedSchedule{obj: &klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: "primary"}},
		overrides: overrides, base: base, compiled: base.WithOverrides("primary", overrides)}
	covers, err := coversOf(l.compiled, "dave", from, from.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []coverOf{{"alice", from, from.Add(3 * time.Hour)}, {"bob", from.Add(time.Hour), from.Add(2 * time.Hour)}}
	if !slices.Equal(covers, want) {
		t.Fatalf("covers = %+v, want %+v", covers, want)
	}
	all := slices.Clone(overrides)
	for _, c := range covers {
		name, err := coverName(l, c.from)
		if err != nil {
			t.Fatal(err)
		}
		if name == "" {
			name = "primary-cover-aaaaa" // the first a generated name could be
		}
		all = append(all, overrideAt(name, c.from, c.to, func(s *klaxonv1alpha1.OnCallOverrideSpec) {
			s.Replace = &klaxonv1alpha1.OverrideReplacement{User: c.user, With: "dave"}
		}))
	}
	covered := base.WithOverrides("primary", all)
	for m := from; m.Before(from.Add(3 * time.Hour)); m = m.Add(30 * time.Minute) {
		if got := covered.At(m); !slices.Equal(got, []string{"dave"}) {
			t.Errorf("At(%s) = %q with the covers, want dave alone", m, got)
		}
	}
}

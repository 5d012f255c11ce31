package importer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

var t0 = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

func hours(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

func iv(from, to int, people ...string) Interval {
	return Interval{Start: hours(from), End: hours(to), People: people}
}

func diffs(ds []Difference) string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%d-%d %s/%s", int(d.Start.Sub(t0).Hours()), int(d.End.Sub(t0).Hours()),
			strings.Join(d.Source, "+"), strings.Join(d.Klaxon, "+")))
	}
	return strings.Join(out, " ")
}

func TestCompare(t *testing.T) {
	w := Window{From: hours(0), To: hours(48)}
	cases := []struct {
		name           string
		source, klaxon []Interval
		want           string
	}{
		{"the same, split differently", []Interval{iv(0, 24, "alice"), iv(24, 48, "alice")}, []Interval{iv(0, 48, "alice")}, ""},
		{"another person for a while", []Interval{iv(0, 24, "alice"), iv(24, 48, "bob")}, []Interval{iv(0, 30, "alice"), iv(30, 48, "bob")}, "24-30 bob/alice"},
		{"a gap in the source is nobody", []Interval{iv(0, 12, "alice"), iv(20, 48, "alice")}, []Interval{iv(0, 48, "alice")}, "12-20 /alice"},
		{"overlapping source intervals add up", []Interval{iv(0, 48, "alice"), iv(10, 20, "bob")}, []Interval{iv(0, 10, "alice"), iv(10, 20, "alice", "bob"), iv(20, 48, "alice")}, ""},
		{"neighbours that differ alike join", []Interval{iv(0, 10, "bob"), iv(10, 20, "bob")}, []Interval{iv(0, 5, "alice"), iv(5, 20, "alice"), iv(20, 48)}, "0-20 bob/alice"},
		{"outside the window is ignored", []Interval{iv(-10, 0, "carol"), iv(0, 48, "alice"), iv(48, 60, "carol")}, []Interval{iv(0, 48, "alice")}, ""},
		{"unsorted source", []Interval{iv(24, 48, "bob"), iv(0, 24, "alice")}, []Interval{iv(0, 24, "alice"), iv(24, 48, "bob")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compare(tc.source, tc.klaxon, w)
			if err != nil {
				t.Fatal(err)
			}
			if diffs(got) != tc.want {
				t.Errorf("Compare = %q, want %q", diffs(got), tc.want)
			}
		})
	}
}

func TestCompareRefusesTooManyEdges(t *testing.T) {
	var many []Interval
	for i := range maxEdges {
		many = append(many, Interval{Start: t0.Add(time.Duration(i) * time.Second), End: t0.Add(time.Duration(i+1) * time.Second), People: []string{"a"}})
	}
	if _, err := Compare(many, nil, Window{From: t0, To: t0.Add(48 * time.Hour)}); err == nil {
		t.Error("Compare of 100,000 intervals: no error")
	}
}

// Verify runs the imported schedule and its overrides through the
// operator's code and reports where the source says otherwise.
func TestVerify(t *testing.T) {
	r := &Result{Source: "pagerduty", Window: Window{From: hours(0), To: hours(96)}}
	s := &klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: "primary"}, Spec: klaxonv1alpha1.OnCallScheduleSpec{
		TimeZone: "UTC",
		Layers: []klaxonv1alpha1.ScheduleLayer{{Name: "l", Participants: []string{"alice", "bob"},
			Start: "2026-12-07T00:00:00", Shift: metav1.Duration{Duration: 24 * time.Hour}}},
	}}
	r.Add(s, Entry{SourceKind: "schedule", SourceID: "P1", Outcome: Mapped})
	o := &klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: "cover"}, Spec: klaxonv1alpha1.OnCallOverrideSpec{
		ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: "primary"},
		Start:       metav1.NewTime(hours(60)), End: metav1.NewTime(hours(66)),
		Replace: &klaxonv1alpha1.OverrideReplacement{User: "alice", With: "carol"},
	}}
	r.Add(o, Entry{SourceKind: "override", SourceID: "O1", Outcome: Mapped})
	r.Finals = []Final{{Schedule: "primary", SourceID: "P1", Intervals: []Interval{
		iv(0, 24, "alice"), iv(24, 48, "bob"), iv(48, 60, "alice"), iv(60, 66, "carol"), iv(66, 72, "alice"), iv(72, 80, "bob"), iv(80, 96, "dave"),
	}}}
	verdicts, err := Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 1 || verdicts[0].Schedule != "primary" {
		t.Fatalf("verdicts = %+v", verdicts)
	}
	if got := diffs(verdicts[0].Differences); got != "80-96 dave/bob" {
		t.Errorf("differences = %q, want 80-96 dave/bob", got)
	}
	if r.Entries[0].Kind != "OnCallSchedule" || r.Entries[0].Name != "primary" || s.Annotations[AnnotationSource] != "pagerduty:schedule:P1" {
		t.Errorf("Add did not record the kind, name and source: %+v %v", r.Entries[0], s.Annotations)
	}

	r.Finals[0].Schedule = "missing"
	if _, err := Verify(r); err == nil || !strings.Contains(err.Error(), "no OnCallSchedule missing") {
		t.Errorf("Verify of a final without its schedule: %v", err)
	}
}

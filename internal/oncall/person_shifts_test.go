package oncall_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

func day(d time.Duration) metav1.Duration { return metav1.Duration{Duration: d * 24 * time.Hour} }

// PersonShifts merges the spans in which a person stays on call, names
// what put them there, and who hands over to whom.
func TestPersonShifts(t *testing.T) {
	spec := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{
		{Name: "days", Participants: []string{"alice", "bob"}, Start: "2026-12-07T09:00:00", Shift: day(1)},
		{Name: "pairs", Groups: []klaxonv1alpha1.ScheduleGroup{{Members: []string{"carol", "dave"}}}, Start: "2026-12-07T09:00:00",
			Shift: day(1), Combine: klaxonv1alpha1.CombineAdd,
			Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: []klaxonv1alpha1.Weekday{"Tue"}, From: "12:00", To: "14:00"}}},
	}}
	s, err := oncall.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	at := func(h int) metav1.Time { return metav1.NewTime(time.Date(2026, 12, 7, h, 0, 0, 0, time.UTC)) }
	s = s.WithOverrides("s", []klaxonv1alpha1.OnCallOverride{{
		ObjectMeta: metav1.ObjectMeta{Name: "swap"},
		Spec: klaxonv1alpha1.OnCallOverrideSpec{ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: "s"},
			Replace: &klaxonv1alpha1.OverrideReplacement{User: "alice", With: "erin"}, Start: at(18), End: at(20)},
	}})
	from := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	shifts, until, _ := s.PersonShifts(from, from.Add(48*time.Hour), 100)
	if !until.Equal(from.Add(48 * time.Hour)) {
		t.Errorf("until = %v, want the walk's end", until)
	}
	var got []string
	for _, sh := range shifts {
		got = append(got, fmt.Sprintf("%s %s-%s %s from[%s] to[%s] with[%s]", sh.User, sh.Start.Format("Mon15"), sh.End.Format("Mon15"),
			sh.Source, strings.Join(sh.HandsOver, ","), strings.Join(sh.TakesOver, ","), strings.Join(sh.With, ",")))
	}
	want := []string{
		"alice Mon09-Mon18 layer/days from[] to[erin] with[]",
		"erin Mon18-Mon20 override/swap from[alice] to[alice] with[]",
		"alice Mon20-Tue09 layer/days from[erin] to[bob] with[]",
		"bob Tue09-Wed09 layer/days from[alice] to[] with[]",
		"carol Tue12-Tue14 layer/pairs from[] to[] with[bob,dave]",
		"dave Tue12-Tue14 layer/pairs from[] to[] with[bob,carol]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("PersonShifts =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Out of budget, the walk stops and says where: alice's span costs
	// 1+1, each handoff found 1 and the span after it 1 more; the one
	// that overspends is found but not followed.
	short, until, used := s.PersonShifts(from, from.Add(48*time.Hour), 4)
	if used != 6 {
		t.Errorf("with a budget of 4: used %d, want 6", used)
	}
	if want := at(20).Time; !until.Equal(want) {
		t.Errorf("with a budget of 4: until = %v, want %v", until, want)
	}
	if n := len(short); n != 2 || !short[1].End.Equal(until) {
		t.Errorf("with a budget of 4: %d shifts, want 2 ending by %v: %+v", n, until, short)
	}
}

// Many people on call at once cost the walk their number, and a shift
// names at most MaxNamed others.
func TestPersonShiftsManyPeople(t *testing.T) {
	var members []string
	for i := range 300 {
		members = append(members, fmt.Sprintf("p%03d", i))
	}
	var groups []klaxonv1alpha1.ScheduleGroup
	for i := 0; i < len(members); i += 50 {
		groups = append(groups, klaxonv1alpha1.ScheduleGroup{Members: members[i : i+50]})
	}
	var layers []klaxonv1alpha1.ScheduleLayer
	for i := range 6 {
		// Six Add layers of 50-member groups, each turn an hour.
		layers = append(layers, klaxonv1alpha1.ScheduleLayer{Name: fmt.Sprintf("l%d", i), Groups: groups[i:],
			Combine: klaxonv1alpha1.CombineAdd, Start: "2026-12-07T00:00:00", Shift: metav1.Duration{Duration: time.Hour}})
	}
	s, err := oncall.Compile(&klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	shifts, until, used := s.PersonShifts(from, from.Add(14*24*time.Hour), 3000)
	if !until.Before(from.Add(14 * 24 * time.Hour)) {
		t.Errorf("a budget of 3000 walked all 14 days of hourly turns of ~300 people")
	}
	if used > 3000+1+300 {
		t.Errorf("used %d of a budget of 3000", used)
	}
	for _, sh := range shifts {
		if len(sh.With) > oncall.MaxNamed || len(sh.HandsOver) > oncall.MaxNamed || len(sh.TakesOver) > oncall.MaxNamed {
			t.Fatalf("a shift names %d, %d and %d people", len(sh.With), len(sh.HandsOver), len(sh.TakesOver))
		}
	}
}

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
	shifts, until := s.PersonShifts(from, from.Add(48*time.Hour), 100)
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

	// Out of handoffs, the walk stops and says where.
	short, until := s.PersonShifts(from, from.Add(48*time.Hour), 2)
	if want := at(20).Time; !until.Equal(want) {
		t.Errorf("with 2 handoffs: until = %v, want %v", until, want)
	}
	if n := len(short); n != 2 || !short[1].End.Equal(until) {
		t.Errorf("with 2 handoffs: %d shifts, want 2 ending by %v: %+v", n, until, short)
	}
}

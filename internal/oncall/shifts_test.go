package oncall_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// Shifts splits an interval at handoffs, restricted hours included, and
// stops when its budget is spent.
func TestShifts(t *testing.T) {
	s, err := oncall.Compile(&klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{
		{Name: "days", Participants: []string{"alice", "bob"}, Start: "2026-12-07T00:00:00", Shift: metav1.Duration{Duration: 24 * time.Hour}},
		{Name: "lunch", Participants: []string{"carol"}, Start: "2026-12-07T00:00:00", Shift: metav1.Duration{Duration: 24 * time.Hour},
			Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: []klaxonv1alpha1.Weekday{"Tue"}, From: "12:00", To: "13:00"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	shifts, err := s.Shifts(from, from.Add(48*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sh := range shifts {
		got = append(got, fmt.Sprintf("%s-%s %s", sh.From.Format("Mon 15:04"), sh.To.Format("Mon 15:04"), strings.Join(sh.People, ",")))
	}
	want := "Mon 06:00-Tue 00:00 alice|Tue 00:00-Tue 12:00 bob|Tue 12:00-Tue 13:00 carol|Tue 13:00-Wed 00:00 bob|Wed 00:00-Wed 06:00 alice"
	if strings.Join(got, "|") != want {
		t.Errorf("Shifts =\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	if _, err := s.Shifts(from, from.Add(48*time.Hour), 3); !errors.Is(err, oncall.ErrTooManyHandoffs) {
		t.Errorf("Shifts with a budget of 3 handoffs: %v, want ErrTooManyHandoffs", err)
	}
}

package oncall

import (
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestCompileErrors(t *testing.T) {
	valid := func() *klaxonv1alpha1.OnCallScheduleSpec {
		return schedule("Europe/Berlin", rotation3("2026-11-02T09:00:00", 168*time.Hour))
	}
	cases := map[string]struct {
		mutate   func(*klaxonv1alpha1.OnCallScheduleSpec)
		paths    []string // field paths named, in order
		timeZone bool     // errors.Is(err, ErrUnknownTimeZone)
		contains string
	}{
		"unknown time zone": {
			mutate:   func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.TimeZone = "Mars/Olympus_Mons" },
			paths:    []string{"spec.timeZone"},
			timeZone: true,
			contains: `spec.timeZone "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons; use an IANA name such as Europe/Berlin`,
		},
		"Local is the operator's zone, not an IANA name": {
			mutate:   func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.TimeZone = "Local" },
			paths:    []string{"spec.timeZone"},
			timeZone: true,
		},
		"missing time zone": {
			mutate:   func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.TimeZone = "" },
			paths:    []string{"spec.timeZone"},
			timeZone: true,
		},
		"no layers": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.Layers = nil },
			paths:  []string{"spec.layers"},
		},
		"start on a day that does not exist": {
			mutate:   func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.Layers[0].Start = "2027-02-29T09:00:00" },
			paths:    []string{"spec.layers[0].start"},
			contains: "day out of range",
		},
		"start with an offset": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.Layers[0].Start = "2026-11-02T09:00:00Z" },
			paths:  []string{"spec.layers[0].start"},
		},
		"start with a space": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.Layers[0].Start = "2026-11-02 09:00:00" },
			paths:  []string{"spec.layers[0].start"},
		},
		"empty participants": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.Layers[0].Participants = nil },
			paths:  []string{"spec.layers[0].participants"},
		},
		"empty participant name": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.Layers[0].Participants[1] = "" },
			paths:  []string{"spec.layers[0].participants[1]"},
		},
		"zero shift": {
			mutate:   func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.Layers[0].Shift = metav1.Duration{} },
			paths:    []string{"spec.layers[0].shift"},
			contains: "must be a positive duration",
		},
		"shift under an hour": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				s.Layers[0].Shift = metav1.Duration{Duration: 59 * time.Minute}
			},
			paths:    []string{"spec.layers[0].shift"},
			contains: `spec.layers[0].shift "59m0s": must be at least 1h`,
		},
		"a one-nanosecond shift": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				s.Layers[0].Shift = metav1.Duration{Duration: time.Nanosecond}
			},
			paths:    []string{"spec.layers[0].shift"},
			contains: "must be at least 1h",
		},
		"bad restriction clock and day": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				s.Layers[0].Restrictions = []klaxonv1alpha1.TimeRestriction{
					windowSpec("09:00", "18:00", "Mon"),
					windowSpec("24:00", "9:00", "Funday"),
				}
			},
			paths: []string{"spec.layers[0].restrictions[1].days[0]", "spec.layers[0].restrictions[1].from", "spec.layers[0].restrictions[1].to"},
		},
		"restriction without days": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				s.Layers[0].Restrictions = []klaxonv1alpha1.TimeRestriction{windowSpec("09:00", "18:00")}
			},
			paths: []string{"spec.layers[0].restrictions[0].days"},
		},
		"participants and groups both": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				s.Layers[0].Groups = []klaxonv1alpha1.ScheduleGroup{{Members: people("dave")}}
			},
			paths: []string{"spec.layers[0].groups"},
		},
		"an empty group and an empty member": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				s.Layers[0] = groupLayer("primary", "2026-11-02T09:00:00", 24*time.Hour, nil, people("alice", ""))
			},
			paths:    []string{"spec.layers[0].groups[0].members", "spec.layers[0].groups[1].members[1]"},
			contains: "a group needs at least one member",
		},
		"a group of 51": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				crowd := make([]string, MaxGroupMembers+1)
				for i := range crowd {
					crowd[i] = "p" + strings.Repeat("x", i)
				}
				s.Layers[0] = groupLayer("primary", "2026-11-02T09:00:00", 24*time.Hour, crowd)
			},
			paths:    []string{"spec.layers[0].groups[0].members"},
			contains: "at most 50 members",
		},
		"an end before the start, and one that is no date": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				s.Layers[0].End = "2026-11-02T08:59:59"
				s.Layers = append(s.Layers, ending(layerSpec("second", "2026-11-02T09:00:00", 24*time.Hour, "dave"), "2026-02-30T00:00:00"))
			},
			paths:    []string{"spec.layers[0].end", "spec.layers[1].end"},
			contains: "must be after start 2026-11-02T09:00:00",
		},
		"an end that the clocks read before a start in a skipped hour": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				// Berlin skips 02:00-03:00 on 29 March 2026: the start
				// reads 03:30, after the end.
				s.TimeZone = "Europe/Berlin"
				s.Layers[0].Start, s.Layers[0].End = "2026-03-29T02:30:00", "2026-03-29T03:15:00"
			},
			paths:    []string{"spec.layers[0].end"},
			contains: "a clock change skips the start's hour",
		},
		"an unknown combine": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.Layers[0].Combine = "Multiply" },
			paths:  []string{"spec.layers[0].combine"},
		},
		"windows across days: empty, both forms, half a form, an unknown day": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				both := spanSpec("Fri", "18:00", "Mon", "09:00")
				both.Days = []klaxonv1alpha1.Weekday{"Sat"}
				half := spanSpec("Fri", "18:00", "", "09:00")
				s.Layers[0].Restrictions = []klaxonv1alpha1.TimeRestriction{
					spanSpec("Fri", "18:00", "Fri", "18:00"), both, half, spanSpec("Fri", "18:00", "Caturday", "09:00"),
				}
			},
			paths: []string{
				"spec.layers[0].restrictions[0].to", "spec.layers[0].restrictions[1].days",
				"spec.layers[0].restrictions[2].toDay", "spec.layers[0].restrictions[3].toDay",
			},
			contains: "a window from Fri 18:00 to Fri 18:00 is empty or a whole week",
		},
		"duplicate layer names": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) { s.Layers = append(s.Layers, s.Layers[0]) },
			paths:  []string{"spec.layers[1].name"},
		},
		"override ending at its start": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				s.Overrides = []klaxonv1alpha1.ScheduleOverride{cover("dave", "2026-11-24T18:00:00Z", "2026-11-24T18:00:00Z")}
			},
			paths:    []string{"spec.overrides[0].end"},
			contains: "must be after start 2026-11-24T18:00:00Z",
		},
		"override without user": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				s.Overrides = []klaxonv1alpha1.ScheduleOverride{cover("", "2026-11-24T18:00:00Z", "2026-11-25T09:00:00Z")}
			},
			paths: []string{"spec.overrides[0].user"},
		},
		"every problem is reported at once": {
			mutate: func(s *klaxonv1alpha1.OnCallScheduleSpec) {
				s.TimeZone = "Nowhere/Land"
				s.Layers[0].Start = "yesterday"
				s.Layers[0].Shift = metav1.Duration{Duration: -time.Hour}
			},
			paths:    []string{"spec.timeZone", "spec.layers[0].start", "spec.layers[0].shift"},
			timeZone: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := valid()
			tc.mutate(spec)
			s, err := Compile(spec)
			if err == nil {
				t.Fatalf("Compile succeeded, want an error")
			}
			if s != nil {
				t.Errorf("Compile returned a schedule along with its error")
			}
			var invalid *InvalidSpecError
			if !errors.As(err, &invalid) {
				t.Fatalf("error %T is not an *InvalidSpecError: %v", err, err)
			}
			var paths []string
			for _, f := range invalid.Fields {
				paths = append(paths, f.Path)
			}
			if strings.Join(paths, ",") != strings.Join(tc.paths, ",") {
				t.Errorf("paths = %q, want %q (error: %v)", paths, tc.paths, err)
			}
			if got := errors.Is(err, ErrUnknownTimeZone); got != tc.timeZone {
				t.Errorf("errors.Is(err, ErrUnknownTimeZone) = %v, want %v", got, tc.timeZone)
			}
			if !tc.timeZone && !errors.Is(err, ErrInvalidField) {
				t.Errorf("errors.Is(err, ErrInvalidField) = false for %v", err)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
		})
	}
}

func TestCompileAcceptsAValidSpec(t *testing.T) {
	spec := schedule("Australia/Sydney",
		rotation3("2026-11-02T09:00:00", 168*time.Hour),
		restricted(layerSpec("nights", "2026-11-02T00:00:00", 24*time.Hour, "owl"), windowSpec("22:00", "06:00", "Mon", "Sun")),
		cover("dave", "2026-11-24T18:00:00Z", "2026-11-25T09:00:00Z"),
	)
	s, err := Compile(spec)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if got := s.Location().String(); got != "Australia/Sydney" {
		t.Errorf("Location() = %s", got)
	}
}

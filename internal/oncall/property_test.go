package oncall

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// Zones with DST in either hemisphere, a half-hour DST (Lord Howe), a DST
// change at midnight (Santiago), a half-hour offset without DST (Kolkata).
var propertyZones = []string{
	"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
	"America/Santiago", "Asia/Kolkata", "UTC",
}

var propertyShifts = []time.Duration{
	time.Hour, 75 * time.Minute, 90 * time.Minute, 8 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 36 * time.Hour, 48 * time.Hour, 72 * time.Hour, 168 * time.Hour, 336 * time.Hour,
}

var propertyDays = []klaxonv1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// randomSpec returns a valid spec whose every edge falls on a whole minute,
// so that a minute-by-minute scan is an exact oracle for NextHandoff.
func randomSpec(r *rand.Rand) *klaxonv1alpha1.OnCallScheduleSpec {
	spec := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: propertyZones[r.IntN(len(propertyZones))]}
	pool := []string{"alice", "bob", "carol", "dave"}
	for i := range 1 + r.IntN(3) {
		participants := make([]string, 1+r.IntN(4))
		for j := range participants {
			participants[j] = pool[r.IntN(len(pool))]
		}
		start := time.Date(2026, time.January, 1+r.IntN(540), r.IntN(24), 15*r.IntN(4), 0, 0, time.UTC)
		l := klaxonv1alpha1.ScheduleLayer{
			Name:         "layer-" + string(rune('a'+i)),
			Participants: participants,
			Start:        start.Format(StartLayout),
			Shift:        metav1.Duration{Duration: propertyShifts[r.IntN(len(propertyShifts))]},
		}
		for range r.IntN(3) {
			var days []klaxonv1alpha1.Weekday
			for _, d := range propertyDays {
				if r.IntN(3) == 0 {
					days = append(days, d)
				}
			}
			if len(days) == 0 {
				days = append(days, propertyDays[r.IntN(7)])
			}
			clockAt := func() string {
				return time.Date(2000, 1, 1, 0, 30*r.IntN(48), 0, 0, time.UTC).Format("15:04")
			}
			l.Restrictions = append(l.Restrictions, klaxonv1alpha1.TimeRestriction{Days: days, From: clockAt(), To: clockAt()})
		}
		spec.Layers = append(spec.Layers, l)
	}
	for range r.IntN(4) {
		start := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(2*365*24*60)) * time.Minute)
		end := start.Add(time.Duration(60+r.IntN(72*60)) * time.Minute)
		spec.Overrides = append(spec.Overrides, klaxonv1alpha1.ScheduleOverride{
			User: pool[r.IntN(len(pool))], Start: metav1.NewTime(start), End: metav1.NewTime(end),
		})
	}
	return spec
}

// randomInstant returns an instant in 2026 or 2027, not aligned to anything.
func randomInstant(r *rand.Rand) time.Time {
	base := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	return base.Add(time.Duration(r.Int64N(int64(2 * 365 * 24 * time.Hour))))
}

// TestHandoffsAreExactlyWhereAtChanges walks the handoffs NextHandoff
// reports from random instants of random schedules: At must hold still
// between consecutive handoffs and change at each of them.
func TestHandoffsAreExactlyWhereAtChanges(t *testing.T) {
	r := rand.New(rand.NewPCG(20261123, 1))
	specs, walks, steps := 300, 4, 12
	if testing.Short() {
		specs = 50
	}
	for n := range specs {
		spec := randomSpec(r)
		s, err := Compile(spec)
		if err != nil {
			t.Fatalf("spec %d: Compile: %v", n, err)
		}
		again, err := Compile(spec)
		if err != nil {
			t.Fatalf("spec %d: second Compile: %v", n, err)
		}
		for range walks {
			from := randomInstant(r)
			cur := s.At(from)
			if !slices.Equal(s.At(from), cur) || !slices.Equal(again.At(from), cur) || !slices.Equal(s.At(from.In(time.FixedZone("elsewhere", -7*3600))), cur) {
				t.Fatalf("spec %d: At(%s) is not stable under recomputation", n, from)
			}
			prev := from
			for range steps {
				h, until := s.NextHandoff(prev)
				if h.IsZero() {
					if !until.After(prev) {
						t.Fatalf("spec %d %+v: NextHandoff(%s) found no handoff and stopped at %s, not after it", n, spec, prev, until)
					}
					break
				}
				if !until.Equal(h) {
					t.Fatalf("spec %d %+v: NextHandoff(%s) = %s until %s, want until the handoff", n, spec, prev, h, until)
				}
				if !h.After(prev) {
					t.Fatalf("spec %d %+v: NextHandoff(%s) = %s, not after it", n, spec, prev, h)
				}
				mid := prev.Add(h.Sub(prev) / 2)
				for _, at := range []time.Time{h.Add(-time.Nanosecond), mid} {
					if got := s.At(at); !slices.Equal(got, cur) {
						t.Fatalf("spec %d %+v: At(%s) = %q, want %q as at %s: a change before the reported handoff %s",
							n, spec, at, got, cur, prev, h)
					}
				}
				if got, _ := s.NextHandoff(mid); !got.Equal(h) {
					t.Fatalf("spec %d %+v: NextHandoff(%s) = %s, want %s as from %s", n, spec, mid, got, h, prev)
				}
				next := s.At(h)
				if slices.Equal(next, cur) {
					t.Fatalf("spec %d %+v: At(%s) = %q does not change at the reported handoff", n, spec, h, next)
				}
				prev, cur = h, next
			}
		}
	}
}

// TestNextHandoffMatchesMinuteScan checks NextHandoff against a brute-force
// scan: every edge of a random spec falls on a whole minute, so the first
// minute at which At changes is the next handoff.
func TestNextHandoffMatchesMinuteScan(t *testing.T) {
	r := rand.New(rand.NewPCG(20261123, 2))
	specs, window := 60, 8*24*time.Hour
	if testing.Short() {
		specs = 10
	}
	for n := range specs {
		spec := randomSpec(r)
		s, err := Compile(spec)
		if err != nil {
			t.Fatalf("spec %d: Compile: %v", n, err)
		}
		from := randomInstant(r)
		cur := s.At(from)
		var want time.Time
		for m := from.Truncate(time.Minute).Add(time.Minute); m.Before(from.Add(window)); m = m.Add(time.Minute) {
			if !slices.Equal(s.At(m), cur) {
				want = m
				break
			}
		}
		got, until := s.NextHandoff(from)
		if want.IsZero() {
			if !got.IsZero() && got.Before(from.Add(window)) {
				t.Errorf("spec %d %+v: NextHandoff(%s) = %s, but At does not change within %s", n, spec, from, got, window)
			}
			if got.IsZero() && until.Before(from.Add(window)) {
				t.Errorf("spec %d %+v: NextHandoff(%s) gave up at %s, within %s of it", n, spec, from, until, window)
			}
			continue
		}
		if !got.Equal(want) {
			t.Errorf("spec %d %+v: NextHandoff(%s) = %s, want %s", n, spec, from, got, want)
		}
	}
}

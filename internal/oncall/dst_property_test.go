package oncall

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// TestMinuteScanAcrossDSTChanges checks random schedules with every
// construct (groups, ends, windows of both forms, Add layers, the spec's
// overrides and OnCallOverrides) minute by minute for a day and a half
// either side of both 2026 DST changes in Europe/Berlin and
// America/New_York and of Australia/Lord_Howe's half-hour ones. Every edge
// falls on a whole minute, so the scan is an exact oracle: At is the
// layers' answers joined by the rules at every minute, each layer has
// someone exactly from its start to its end within its windows, and
// NextHandoff reports exactly the minutes at which At changes.
func TestMinuteScanAcrossDSTChanges(t *testing.T) {
	specs := 12
	if testing.Short() {
		specs = 3
	}
	r := rand.New(rand.NewPCG(20261206, 1))
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		changes := offsetChanges(loc, 2026)
		if len(changes) != 2 {
			t.Fatalf("%s changes its offset %d times in 2026, want 2", zone, len(changes))
		}
		for _, change := range changes {
			t.Run(zone+" "+change.Format(time.RFC3339), func(t *testing.T) {
				for range specs {
					spec, overrides := richSpec(r, zone, change)
					scanMinutes(t, newFuzzCheck(t, spec, overrides), change.Add(-36*time.Hour), change.Add(36*time.Hour))
				}
			})
		}
	}
}

// offsetChanges returns the instants in year at which loc's offset
// changes, to the minute.
func offsetChanges(loc *time.Location, year int) []time.Time {
	var out []time.Time
	t := time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC)
	_, prev := t.In(loc).Zone()
	for end := t.AddDate(1, 0, 0); t.Before(end); t = t.Add(time.Minute) {
		if _, off := t.In(loc).Zone(); off != prev {
			out = append(out, t)
			prev = off
		}
	}
	return out
}

// scanMinutes walks [from, to) a minute at a time, checking At against the
// oracle, each layer against its start, end and windows, and NextHandoff
// against the minutes at which At changes.
func scanMinutes(t *testing.T, c *fuzzCheck, from, to time.Time) {
	t.Helper()
	loc := c.s.Location()
	starts, ends := make([]time.Time, len(c.layers)), make([]time.Time, len(c.layers))
	for k := range c.layers {
		starts[k] = wallInstant(t, loc, c.layers[k].layer.Start)
		if e := c.layers[k].layer.End; e != "" {
			ends[k] = wallInstant(t, loc, e)
		}
	}
	cur := c.at(from)
	want, _ := c.s.NextHandoff(from)
	for m, n := from.Add(time.Minute), 1; m.Before(to); m, n = m.Add(time.Minute), n+1 {
		got := c.at(m)
		for k := range c.layers {
			l := &c.layers[k]
			on := !m.Before(starts[k]) && (ends[k].IsZero() || m.Before(ends[k])) && refCovers(loc, l.layer.Restrictions, m)
			if who := l.alone.At(m); (who != nil) != on {
				t.Fatalf("%+v: layer %s alone has %q at %s; on call by its start, end and windows: %v", c.spec, l.layer.Name, who, m, on)
			}
		}
		if !slices.Equal(got, cur) {
			if !want.Equal(m) {
				t.Fatalf("%+v %+v: At changes from %q to %q at %s, but NextHandoff said %s", c.spec, c.overrides, cur, got, m.In(loc), want.In(loc))
			}
			cur = got
			want, _ = c.s.NextHandoff(m)
			continue
		}
		if !want.IsZero() && !want.After(m) {
			t.Fatalf("%+v %+v: NextHandoff said %s, but At is %q before and at it", c.spec, c.overrides, want.In(loc), got)
		}
		// Asked from any minute before it, the walk finds the same handoff.
		if n%7 == 0 {
			if again, _ := c.s.NextHandoff(m); !again.Equal(want) {
				t.Fatalf("%+v %+v: NextHandoff(%s) = %s, want %s", c.spec, c.overrides, m.In(loc), again.In(loc), want.In(loc))
			}
		}
	}
}

func wallInstant(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	w, err := parseStart(s)
	if err != nil {
		t.Fatal(err)
	}
	return w.in(loc)
}

// richSpec returns a valid spec in zone, whose edges fall on whole minutes
// near change, with OnCallOverrides of the schedule "primary".
func richSpec(r *rand.Rand, zone string, change time.Time) (*klaxonv1alpha1.OnCallScheduleSpec, []klaxonv1alpha1.OnCallOverride) {
	spec := &klaxonv1alpha1.OnCallScheduleSpec{TimeZone: zone}
	pool := []string{"alice", "bob", "carol", "dave", "erin"}
	person := func() string { return pool[r.IntN(len(pool))] }
	// Local wall times near the change, on the quarter hour.
	loc, _ := time.LoadLocation(zone)
	local := change.In(loc)
	wall := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), 0, 0, time.UTC)
	wallNear := func(spread time.Duration) time.Time {
		return wall.Add(time.Duration(r.Int64N(int64(2*spread))) - spread).Truncate(15 * time.Minute)
	}
	for i := range 1 + r.IntN(3) {
		l := klaxonv1alpha1.ScheduleLayer{
			Name:  "layer-" + strconv.Itoa(i),
			Shift: metav1.Duration{Duration: propertyShifts[r.IntN(len(propertyShifts))]},
		}
		start := wallNear(10 * 24 * time.Hour)
		l.Start = start.Format(StartLayout)
		if r.IntN(3) == 0 {
			l.End = start.Add(time.Duration(1+r.IntN(20*24*4)) * 15 * time.Minute).Format(StartLayout)
		}
		if r.IntN(2) == 0 {
			for range 1 + r.IntN(3) {
				g := klaxonv1alpha1.ScheduleGroup{}
				for range 1 + r.IntN(3) {
					g.Members = append(g.Members, person())
				}
				l.Groups = append(l.Groups, g)
			}
		} else {
			for range 1 + r.IntN(4) {
				l.Participants = append(l.Participants, person())
			}
		}
		if r.IntN(3) == 0 {
			l.Combine = klaxonv1alpha1.CombineAdd
		}
		clockAt := func() string {
			return time.Date(2000, 1, 1, 0, 30*r.IntN(48), 0, 0, time.UTC).Format("15:04")
		}
		for range r.IntN(3) {
			w := klaxonv1alpha1.TimeRestriction{From: clockAt(), To: clockAt()}
			if r.IntN(2) == 0 {
				w.FromDay, w.ToDay = propertyDays[r.IntN(7)], propertyDays[r.IntN(7)]
				if w.FromDay == w.ToDay && w.From == w.To {
					w.To = "23:59"
					if w.From == w.To {
						w.To = "00:00"
					}
				}
			} else {
				for _, d := range propertyDays {
					if r.IntN(3) == 0 {
						w.Days = append(w.Days, d)
					}
				}
				if len(w.Days) == 0 {
					w.Days = append(w.Days, propertyDays[r.IntN(7)])
				}
			}
			l.Restrictions = append(l.Restrictions, w)
		}
		spec.Layers = append(spec.Layers, l)
	}
	interval := func() (metav1.Time, metav1.Time) {
		start := change.Add(time.Duration(r.IntN(72*60)-36*60) * time.Minute)
		return metav1.NewTime(start), metav1.NewTime(start.Add(time.Duration(1+r.IntN(12*60)) * time.Minute))
	}
	for range r.IntN(2) {
		start, end := interval()
		spec.Overrides = append(spec.Overrides, klaxonv1alpha1.ScheduleOverride{User: person(), Start: start, End: end})
	}
	var overrides []klaxonv1alpha1.OnCallOverride
	for i := range r.IntN(4) {
		o := klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: "o-" + strconv.Itoa(i)}}
		o.Spec.ScheduleRef.Name = "primary"
		o.Spec.Start, o.Spec.End = interval()
		if i > 0 && r.IntN(4) == 0 {
			// Ties are broken by name.
			o.Spec.Start = overrides[0].Spec.Start
		}
		// Names run against the order of creation, so that a sort by
		// start alone, stable or not, breaks the ties wrongly.
		o.Name = "o-" + strconv.Itoa(9-i)
		switch r.IntN(3) {
		case 0:
			o.Spec.Add = []string{person()}
		case 1:
			o.Spec.Replace = &klaxonv1alpha1.OverrideReplacement{User: person(), With: person()}
		default:
			o.Spec.Remove = []string{person()}
		}
		overrides = append(overrides, o)
	}
	return spec, overrides
}

package oncall

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// TestScheduleConstructs probes groups, layer ends, restrictions across
// days, Add layers and OnCallOverrides, each on its own and over DST.
func TestScheduleConstructs(t *testing.T) {
	cases := map[string]struct {
		spec      *klaxonv1alpha1.OnCallScheduleSpec
		overrides []klaxonv1alpha1.OnCallOverride
		probes    []probe
	}{
		"a weekend layer Fri 18:00 to Mon 09:00 over a weekday layer, across Berlin's fall back": {
			// The weekend rotation starts Fri 2 Jan; 23 Oct is 42 weeks on: dave's.
			spec: schedule("Europe/Berlin",
				layerSpec("weekdays", "2026-10-19T09:00:00", 168*time.Hour, "alice", "bob"),
				restricted(layerSpec("weekend", "2026-01-02T18:00:00", 168*time.Hour, "dave", "erin"), spanSpec("Fri", "18:00", "Mon", "09:00")),
			),
			probes: []probe{
				{at: "2026-10-23T17:59:00+02:00", want: people("alice"), next: "2026-10-23T18:00:00+02:00"},
				{at: "2026-10-23T18:00:00+02:00", want: people("dave"), next: "2026-10-26T09:00:00+01:00"},
				{at: "2026-10-25T02:30:00+01:00", want: people("dave"), next: "2026-10-26T09:00:00+01:00"},
				{at: "2026-10-26T08:59:59+01:00", want: people("dave"), next: "2026-10-26T09:00:00+01:00"},
				{at: "2026-10-26T09:00:00+01:00", want: people("bob"), next: "2026-10-30T18:00:00+01:00"},
				{at: "2026-10-30T18:00:00+01:00", want: people("erin"), next: "2026-11-02T09:00:00+01:00"},
				{at: "2026-11-02T09:00:00+01:00", want: people("alice"), next: "2026-11-06T18:00:00+01:00"},
			},
		},
		"a window across days keeps its wall-clock ends across New York's spring forward": {
			// Sat 7 Mar 20:00 EST to Mon 9 Mar 08:00 EDT is 35 hours.
			spec: schedule("America/New_York",
				layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "base"),
				restricted(layerSpec("weekend", "2026-01-01T00:00:00", 168*time.Hour, "owl"), spanSpec("Sat", "20:00", "Mon", "08:00")),
			),
			probes: []probe{
				{at: "2026-03-07T19:59:59-05:00", want: people("base"), next: "2026-03-07T20:00:00-05:00"},
				{at: "2026-03-08T02:30:00-05:00", want: people("owl"), next: "2026-03-09T08:00:00-04:00"},
				{at: "2026-03-09T08:00:00-04:00", want: people("base"), next: "2026-03-14T20:00:00-04:00"},
			},
		},
		"a window from Mon 18:00 to Mon 09:00 lasts six days and fifteen hours": {
			spec: schedule("UTC",
				layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "base"),
				restricted(layerSpec("most", "2026-01-01T00:00:00", 168*time.Hour, "owl"), spanSpec("Mon", "18:00", "Mon", "09:00")),
			),
			probes: []probe{
				{at: "2026-11-23T17:00:00Z", want: people("base"), next: "2026-11-23T18:00:00Z"},
				{at: "2026-11-27T00:00:00Z", want: people("owl"), next: "2026-11-30T09:00:00Z"},
				{at: "2026-11-30T09:00:00Z", want: people("base"), next: "2026-11-30T18:00:00Z"},
			},
		},
		"a group's turn puts all its members on call": {
			spec: schedule("UTC", groupLayer("pairs", "2026-11-02T09:00:00", 24*time.Hour, people("carol", "alice", "bob"), people("dave"))),
			probes: []probe{
				{at: "2026-11-02T08:00:00Z", want: nil, next: "2026-11-02T09:00:00Z"},
				{at: "2026-11-02T09:00:00Z", want: people("alice", "bob", "carol"), next: "2026-11-03T09:00:00Z"},
				{at: "2026-11-03T09:00:00Z", want: people("dave"), next: "2026-11-04T09:00:00Z"},
			},
		},
		"groups of the same people in another order never hand off": {
			spec: schedule("UTC", groupLayer("same", "2026-11-02T09:00:00", 24*time.Hour, people("bob", "alice"), people("alice", "bob", "alice"))),
			probes: []probe{
				{at: "2026-11-05T12:00:00Z", want: people("alice", "bob"), next: ""},
			},
		},
		"a layer ending mid-rotation lets the layer below show": {
			spec: schedule("UTC",
				layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "zed"),
				ending(layerSpec("old", "2026-11-01T09:00:00", 24*time.Hour, "alice", "bob"), "2026-11-04T21:00:00"),
			),
			probes: []probe{
				{at: "2026-11-04T12:00:00Z", want: people("bob"), next: "2026-11-04T21:00:00Z"},
				{at: "2026-11-04T21:00:00Z", want: people("zed"), next: ""},
				{at: "2027-01-01T00:00:00Z", want: people("zed"), next: ""},
			},
		},
		"a layer ending in the hour Berlin repeats ends at its first occurrence": {
			spec: schedule("Europe/Berlin",
				layerSpec("base", "2026-01-01T00:00:00", 168*time.Hour, "zed"),
				ending(layerSpec("old", "2026-10-01T00:00:00", 168*time.Hour, "alice"), "2026-10-25T02:30:00"),
			),
			probes: []probe{
				{at: "2026-10-25T02:00:00+02:00", want: people("alice"), next: "2026-10-25T02:30:00+02:00"},
				{at: "2026-10-25T02:30:00+02:00", want: people("zed"), next: ""},
			},
		},
		"an Add layer adds its people to the layers below; a Replace layer above hides both": {
			// Mon 23 Nov 2026.
			spec: schedule("UTC",
				layerSpec("base", "2026-11-02T00:00:00", 168*time.Hour, "alice", "bob"),
				adding(restricted(layerSpec("shadow", "2026-11-02T00:00:00", 168*time.Hour, "carol"), windowSpec("09:00", "17:00", "Mon", "Tue", "Wed", "Thu", "Fri"))),
				restricted(layerSpec("lunch", "2026-11-02T00:00:00", 168*time.Hour, "dave"), windowSpec("12:00", "13:00", "Mon")),
			),
			probes: []probe{
				{at: "2026-11-23T08:00:00Z", want: people("bob"), next: "2026-11-23T09:00:00Z"},
				{at: "2026-11-23T09:00:00Z", want: people("bob", "carol"), next: "2026-11-23T12:00:00Z"},
				{at: "2026-11-23T12:00:00Z", want: people("dave"), next: "2026-11-23T13:00:00Z"},
				{at: "2026-11-23T13:00:00Z", want: people("bob", "carol"), next: "2026-11-23T17:00:00Z"},
				{at: "2026-11-23T17:00:00Z", want: people("bob"), next: "2026-11-24T09:00:00Z"},
			},
		},
		"an Add layer over nobody is on call alone": {
			spec: schedule("UTC",
				restricted(layerSpec("base", "2026-11-02T00:00:00", 168*time.Hour, "alice"), windowSpec("09:00", "17:00", "Mon")),
				adding(layerSpec("always", "2026-11-02T00:00:00", 168*time.Hour, "carol")),
			),
			probes: []probe{
				{at: "2026-11-23T08:00:00Z", want: people("carol"), next: "2026-11-23T09:00:00Z"},
				{at: "2026-11-23T09:00:00Z", want: people("alice", "carol"), next: "2026-11-23T17:00:00Z"},
			},
		},
		"overrides add, replace and remove in the order of their start": {
			spec: schedule("UTC", layerSpec("primary", "2026-01-01T00:00:00", 168*time.Hour, "alice")),
			overrides: []klaxonv1alpha1.OnCallOverride{
				overrideOf("z-remove", "2026-11-24T12:30:00Z", "2026-11-24T14:00:00Z", func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Remove = people("erin") }),
				overrideOf("y-replace", "2026-11-24T11:00:00Z", "2026-11-24T13:00:00Z", replacing("alice", "erin")),
				overrideOf("x-add", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z", func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = people("dave") }),
			},
			probes: []probe{
				{at: "2026-11-24T09:00:00Z", want: people("alice"), next: "2026-11-24T10:00:00Z"},
				{at: "2026-11-24T10:30:00Z", want: people("alice", "dave"), next: "2026-11-24T11:00:00Z"},
				{at: "2026-11-24T11:00:00Z", want: people("dave", "erin"), next: "2026-11-24T12:00:00Z"},
				{at: "2026-11-24T12:00:00Z", want: people("erin"), next: "2026-11-24T12:30:00Z"},
				{at: "2026-11-24T12:30:00Z", want: nil, next: "2026-11-24T13:00:00Z"},
				// The remove goes on until 14:00, but erin is no longer on call.
				{at: "2026-11-24T13:00:00Z", want: people("alice"), next: ""},
			},
		},
		"overrides with the same start apply by name": {
			spec: schedule("UTC", layerSpec("primary", "2026-01-01T00:00:00", 168*time.Hour, "alice")),
			overrides: []klaxonv1alpha1.OnCallOverride{
				overrideOf("b-remove", "2026-11-24T10:00:00Z", "2026-11-24T11:00:00Z", func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Remove = people("bob") }),
				overrideOf("a-replace", "2026-11-24T10:00:00Z", "2026-11-24T11:00:00Z", replacing("alice", "bob")),
			},
			probes: []probe{
				{at: "2026-11-24T10:00:00Z", want: nil, next: "2026-11-24T11:00:00Z"},
			},
		},
		"the spec's overrides apply first; a replace of someone not on call changes nothing": {
			spec: schedule("UTC", []klaxonv1alpha1.ScheduleLayer{layerSpec("primary", "2026-01-01T00:00:00", 168*time.Hour, "alice")},
				cover("dave", "2026-11-24T10:00:00Z", "2026-11-24T11:00:00Z")),
			overrides: []klaxonv1alpha1.OnCallOverride{
				overrideOf("dave-out", "2026-11-24T09:00:00Z", "2026-11-24T12:00:00Z", replacing("dave", "erin")),
				overrideOf("elsewhere", "2026-11-24T09:00:00Z", "2026-11-24T12:00:00Z", func(s *klaxonv1alpha1.OnCallOverrideSpec) {
					s.ScheduleRef.Name = "another"
					s.Add = people("mallory")
				}),
			},
			probes: []probe{
				{at: "2026-11-24T09:30:00Z", want: people("alice"), next: "2026-11-24T10:00:00Z"},
				{at: "2026-11-24T10:00:00Z", want: people("erin"), next: "2026-11-24T11:00:00Z"},
				{at: "2026-11-24T11:00:00Z", want: people("alice"), next: ""},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := Compile(tc.spec)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			s = s.WithOverrides("primary", tc.overrides)
			for _, p := range tc.probes {
				at := instantOf(t, p.at)
				if got := s.At(at); !slices.Equal(got, p.want) {
					t.Errorf("At(%s) = %q, want %q", p.at, got, p.want)
				}
				want, wantUntil := time.Time{}, at.Add(Horizon)
				if p.next != "" {
					want = instantOf(t, p.next)
					wantUntil = want
				}
				got, until := s.NextHandoff(at)
				if !got.Equal(want) || !until.Equal(wantUntil) {
					t.Errorf("NextHandoff(%s) = %s until %s, want %s until %s", p.at,
						got.In(s.Location()), until.In(s.Location()), want.In(s.Location()), wantUntil.In(s.Location()))
				}
			}
		})
	}
}

func TestPeopleAreEveryoneTheSpecNames(t *testing.T) {
	s, err := Compile(schedule("UTC", []klaxonv1alpha1.ScheduleLayer{
		layerSpec("primary", "2026-01-01T00:00:00", 168*time.Hour, "bob", "alice"),
		groupLayer("pairs", "2026-01-01T00:00:00", 24*time.Hour, people("carol", "alice"), people("dave")),
	}, cover("erin", "2026-11-24T10:00:00Z", "2026-11-24T11:00:00Z")))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.People(), people("alice", "bob", "carol", "dave", "erin"); !slices.Equal(got, want) {
		t.Errorf("People() = %q, want %q", got, want)
	}
}

func TestValidOverride(t *testing.T) {
	cases := map[string]struct {
		mutate func(*klaxonv1alpha1.OnCallOverrideSpec)
		valid  bool
	}{
		"an add":                     {mutate: func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = people("dave") }, valid: true},
		"a replace":                  {mutate: replacing("alice", "dave"), valid: true},
		"a remove":                   {mutate: func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Remove = people("alice") }, valid: true},
		"nothing to do":              {mutate: func(*klaxonv1alpha1.OnCallOverrideSpec) {}},
		"an add and a remove":        {mutate: func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add, s.Remove = people("a"), people("b") }},
		"a replace by the same user": {mutate: replacing("alice", "alice")},
		"a replace of nobody":        {mutate: replacing("", "alice")},
		"an empty name":              {mutate: func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = people("") }},
		"an end before the start": {mutate: func(s *klaxonv1alpha1.OnCallOverrideSpec) {
			s.Add = people("dave")
			s.End = metav1.NewTime(s.Start.Add(-time.Hour))
		}},
		"an end at the start": {mutate: func(s *klaxonv1alpha1.OnCallOverrideSpec) {
			s.Add = people("dave")
			s.End = s.Start
		}},
		"exactly 90 days": {mutate: func(s *klaxonv1alpha1.OnCallOverrideSpec) {
			s.Add = people("dave")
			s.End = metav1.NewTime(s.Start.Add(MaxOverrideLength))
		}, valid: true},
		"90 days and a second": {mutate: func(s *klaxonv1alpha1.OnCallOverrideSpec) {
			s.Add = people("dave")
			s.End = metav1.NewTime(s.Start.Add(MaxOverrideLength + time.Second))
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := overrideOf("o", "2026-11-24T10:00:00Z", "2026-11-24T11:00:00Z", tc.mutate)
			if got := ValidOverride(&o.Spec); got != tc.valid {
				t.Errorf("ValidOverride(%+v) = %v, want %v", o.Spec, got, tc.valid)
			}
		})
	}
}

// spanSpec is a restriction across days.
func spanSpec(fromDay klaxonv1alpha1.Weekday, from string, toDay klaxonv1alpha1.Weekday, to string) klaxonv1alpha1.TimeRestriction {
	return klaxonv1alpha1.TimeRestriction{FromDay: fromDay, From: from, ToDay: toDay, To: to}
}

func groupLayer(name, start string, shift time.Duration, groups ...[]string) klaxonv1alpha1.ScheduleLayer {
	l := klaxonv1alpha1.ScheduleLayer{Name: name, Start: start, Shift: metav1.Duration{Duration: shift}}
	for _, g := range groups {
		l.Groups = append(l.Groups, klaxonv1alpha1.ScheduleGroup{Members: g})
	}
	return l
}

func ending(l klaxonv1alpha1.ScheduleLayer, end string) klaxonv1alpha1.ScheduleLayer {
	l.End = end
	return l
}

func adding(l klaxonv1alpha1.ScheduleLayer) klaxonv1alpha1.ScheduleLayer {
	l.Combine = klaxonv1alpha1.CombineAdd
	return l
}

// overrideOf is an OnCallOverride of the schedule "primary".
func overrideOf(name, start, end string, mutate func(*klaxonv1alpha1.OnCallOverrideSpec)) klaxonv1alpha1.OnCallOverride {
	o := klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: name}}
	o.Spec.ScheduleRef.Name = "primary"
	c := cover("", start, end)
	o.Spec.Start, o.Spec.End = c.Start, c.End
	mutate(&o.Spec)
	return o
}

func replacing(user, with string) func(*klaxonv1alpha1.OnCallOverrideSpec) {
	return func(s *klaxonv1alpha1.OnCallOverrideSpec) {
		s.Replace = &klaxonv1alpha1.OverrideReplacement{User: user, With: with}
	}
}

func TestAroundListsOverridesInForceAndNext(t *testing.T) {
	add := func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = people("dave") }
	overrides := []klaxonv1alpha1.OnCallOverride{
		overrideOf("later", "2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z", add),
		overrideOf("b-next", "2026-11-24T12:00:00Z", "2026-11-24T13:00:00Z", add),
		overrideOf("a-next", "2026-11-24T12:00:00Z", "2026-11-24T14:00:00Z", add),
		overrideOf("now-2", "2026-11-24T09:00:00Z", "2026-11-24T11:30:00Z", add),
		overrideOf("now-1", "2026-11-24T08:00:00Z", "2026-11-24T10:30:00Z", add),
		overrideOf("over", "2026-11-24T07:00:00Z", "2026-11-24T08:00:00Z", add),
		overrideOf("refused", "2026-11-24T09:00:00Z", "2026-11-24T09:00:00Z", add),
		overrideOf("elsewhere", "2026-11-24T09:00:00Z", "2026-11-24T09:30:00Z", func(s *klaxonv1alpha1.OnCallOverrideSpec) {
			add(s)
			s.ScheduleRef.Name = "another"
		}),
	}
	inForce, next, edge := Around("primary", overrides, instantOf(t, "2026-11-24T10:00:00Z"))
	names := func(os []klaxonv1alpha1.OnCallOverride) []string {
		var out []string
		for _, o := range os {
			out = append(out, o.Name)
		}
		return out
	}
	if got, want := names(inForce), people("now-1", "now-2"); !slices.Equal(got, want) {
		t.Errorf("in force: %q, want %q", got, want)
	}
	if got, want := names(next), people("a-next", "b-next"); !slices.Equal(got, want) {
		t.Errorf("next: %q, want %q", got, want)
	}
	if want := instantOf(t, "2026-11-24T10:30:00Z"); !edge.Equal(want) {
		t.Errorf("edge: %s, want %s", edge, want)
	}
}

func TestDescribe(t *testing.T) {
	long := make([]string, 50)
	for i := range long {
		long[i] = "ü" + strings.Repeat("x", 20)
	}
	cases := map[string]struct {
		spec klaxonv1alpha1.OnCallOverrideSpec
		want string
	}{
		"add":     {klaxonv1alpha1.OnCallOverrideSpec{Add: people("dave", "erin")}, "add dave, erin"},
		"replace": {klaxonv1alpha1.OnCallOverrideSpec{Replace: &klaxonv1alpha1.OverrideReplacement{User: "alice", With: "dave"}}, "replace alice with dave"},
		"remove":  {klaxonv1alpha1.OnCallOverrideSpec{Remove: people("alice")}, "remove alice"},
	}
	for name, tc := range cases {
		if got := Describe(&tc.spec); got != tc.want {
			t.Errorf("%s: Describe = %q, want %q", name, got, tc.want)
		}
	}
	got := Describe(&klaxonv1alpha1.OnCallOverrideSpec{Add: long})
	if n := utf8.RuneCountInString(got); n != maxDescription || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "add üx") {
		t.Errorf("Describe of fifty long names = %q (%d characters), want %d valid ones ending in an ellipsis", got, n, maxDescription)
	}
}

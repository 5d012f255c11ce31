package controller_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// The API server refuses groups, layer ends, windows across days and
// OnCallOverrides that make no sense, each with a message that says what to
// fix, and admits the edge cases that do.
func TestScheduleConstructsAreValidated(t *testing.T) {
	ns := newNamespace(t)
	layer := func(mutate func(*klaxonv1alpha1.ScheduleLayer)) client.Object {
		l := klaxonv1alpha1.ScheduleLayer{Name: "primary", Participants: []string{"alice"}, Start: "2026-11-02T09:00:00",
			Shift: metav1.Duration{Duration: 168 * time.Hour}}
		mutate(&l)
		return &klaxonv1alpha1.OnCallSchedule{Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: []klaxonv1alpha1.ScheduleLayer{l}}}
	}
	groups := func(sizes ...int) func(*klaxonv1alpha1.ScheduleLayer) {
		return func(l *klaxonv1alpha1.ScheduleLayer) {
			l.Participants = nil
			for _, n := range sizes {
				g := klaxonv1alpha1.ScheduleGroup{Members: []string{}}
				for i := range n {
					g.Members = append(g.Members, "person-"+strconv.Itoa(i))
				}
				l.Groups = append(l.Groups, g)
			}
		}
	}
	window := func(w klaxonv1alpha1.TimeRestriction) func(*klaxonv1alpha1.ScheduleLayer) {
		return func(l *klaxonv1alpha1.ScheduleLayer) { l.Restrictions = []klaxonv1alpha1.TimeRestriction{w} }
	}
	start := time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)
	override := func(length time.Duration, mutate func(*klaxonv1alpha1.OnCallOverrideSpec)) client.Object {
		o := &klaxonv1alpha1.OnCallOverride{Spec: klaxonv1alpha1.OnCallOverrideSpec{
			ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: "payments-primary"},
			Start:       metav1.NewTime(start), End: metav1.NewTime(start.Add(length)),
		}}
		mutate(&o.Spec)
		return o
	}
	add := func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = []string{"dave"} }
	cases := map[string]struct {
		obj  client.Object
		says string // "" when admitted
	}{
		"a group of nobody":            {layer(groups(2, 0)), "a group needs at least one member: add people to it or remove the group"},
		"a group of 51":                {layer(groups(51)), "spec.layers[0].groups[0].members: Too many: 51: must have at most 50 items"},
		"a group of 50":                {layer(groups(50, 1)), ""},
		"participants and groups both": {layer(func(l *klaxonv1alpha1.ScheduleLayer) { groups(1)(l); l.Participants = []string{"alice"} }), "a layer needs exactly one of participants (one person a turn) or groups (everyone in the turn's group)"},
		"neither participants nor groups": {layer(func(l *klaxonv1alpha1.ScheduleLayer) { l.Participants = nil }),
			"a layer needs exactly one of participants (one person a turn) or groups"},
		"an end before the start": {layer(func(l *klaxonv1alpha1.ScheduleLayer) { l.End = "2026-11-02T08:59:59" }),
			"a layer's end must be after its start: move end later, or remove it to keep the layer"},
		"an end at the start":       {layer(func(l *klaxonv1alpha1.ScheduleLayer) { l.End = l.Start }), "a layer's end must be after its start"},
		"an end a second after":     {layer(func(l *klaxonv1alpha1.ScheduleLayer) { l.End = "2026-11-02T09:00:01" }), ""},
		"an Add layer":              {layer(func(l *klaxonv1alpha1.ScheduleLayer) { l.Combine = klaxonv1alpha1.CombineAdd }), ""},
		"a weekend window":          {layer(window(klaxonv1alpha1.TimeRestriction{FromDay: "Fri", From: "18:00", ToDay: "Mon", To: "09:00"})), ""},
		"a window of six days more": {layer(window(klaxonv1alpha1.TimeRestriction{FromDay: "Mon", From: "18:00", ToDay: "Mon", To: "09:00"})), ""},
		"an empty window across days": {layer(window(klaxonv1alpha1.TimeRestriction{FromDay: "Fri", From: "18:00", ToDay: "Fri", To: "18:00"})),
			"a window from a day and time to the same day and time is empty or a whole week: leave the restriction out to cover all the time, or change from, to or the days"},
		"days and fromDay": {layer(window(klaxonv1alpha1.TimeRestriction{Days: []klaxonv1alpha1.Weekday{"Sat"}, FromDay: "Fri", From: "18:00", ToDay: "Mon", To: "09:00"})),
			"a restriction needs either days (a window repeated on each day) or fromDay and toDay (one window across days), not both"},
		"neither days nor fromDay": {layer(window(klaxonv1alpha1.TimeRestriction{From: "18:00", To: "09:00"})),
			"a restriction needs either days (a window repeated on each day) or fromDay and toDay"},
		"fromDay without toDay": {layer(window(klaxonv1alpha1.TimeRestriction{FromDay: "Fri", From: "18:00", To: "09:00"})),
			"fromDay and toDay go together: set both for a window across days, or use days instead"},
		"an override adding":             {override(time.Hour, add), ""},
		"an override of exactly 90 days": {override(90*24*time.Hour, add), ""},
		"an override of 90 days and a second": {override(90*24*time.Hour+time.Second, add),
			"an override lasts at most 90 days: split a longer one, or change the schedule itself"},
		"an override ending at its start":     {override(0, add), "an override's end must be after its start"},
		"an override ending before it starts": {override(-time.Hour, add), "an override's end must be after its start"},
		"an override doing nothing":           {override(time.Hour, func(*klaxonv1alpha1.OnCallOverrideSpec) {}), "an override needs exactly one of add, replace or remove"},
		"an override adding and removing": {override(time.Hour, func(s *klaxonv1alpha1.OnCallOverrideSpec) {
			s.Add, s.Remove = []string{"dave"}, []string{"alice"}
		}), "an override needs exactly one of add, replace or remove"},
		"a replace of alice by dave": {override(time.Hour, func(s *klaxonv1alpha1.OnCallOverrideSpec) {
			s.Replace = &klaxonv1alpha1.OverrideReplacement{User: "alice", With: "dave"}
		}), ""},
		"a replace of alice by alice": {override(time.Hour, func(s *klaxonv1alpha1.OnCallOverrideSpec) {
			s.Replace = &klaxonv1alpha1.OverrideReplacement{User: "alice", With: "alice"}
		}), "replace.with must name someone other than replace.user: a person cannot cover their own shift"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.obj.SetNamespace(ns)
			tc.obj.SetName(strings.ToLower(strings.NewReplacer(" ", "-", "'", "").Replace(name)))
			err := k8s.Create(context.Background(), tc.obj)
			if tc.says == "" {
				if err != nil {
					t.Fatalf("got %v, want it admitted", err)
				}
				return
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, want Invalid saying %q", err, tc.says)
			}

		})
	}
}

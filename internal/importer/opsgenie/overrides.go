package opsgenie

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// maxOverridePeople bounds an OnCallOverride's add and remove lists, as
// its CRD does.
const maxOverridePeople = 50

// overridePart is one OnCallOverride of an Opsgenie override: an
// override that puts someone in place of everyone is a removal of the
// others and an addition of that person.
type overridePart struct {
	// suffix tells the parts apart in their names.
	suffix string
	spec   klaxonv1alpha1.OnCallOverrideSpec
}

// mapOverride maps one override of schedule s, imported as name. An
// override of every rotation puts its user on call instead of everyone,
// which Klaxon says exactly; one of some rotations only puts its user in
// place of those rotations' people, which Klaxon cannot tell from the
// others': the user is added beside them.
func mapOverride(o override, s schedule, name string, m mappedSchedule, p *people) ([]overridePart, notes, string) {
	var n notes
	start, err1 := time.Parse(time.RFC3339, o.StartDate)
	end, err2 := time.Parse(time.RFC3339, o.EndDate)
	if err1 != nil || err2 != nil {
		return nil, n, fmt.Sprintf("its startDate %s or endDate %s is no RFC 3339 time", importer.Quote(o.StartDate), importer.Quote(o.EndDate))
	}
	// An OnCallOverride's times are whole seconds: the checks are of the
	// times it will have.
	if whole := start.Truncate(time.Second); !whole.Equal(start) || !end.Truncate(time.Second).Equal(end) {
		start, end = whole, end.Truncate(time.Second)
		if !end.After(start) {
			return nil, n, "it lasts less than a second once its times are whole seconds, as an OnCallOverride's are"
		}
		n.lost("its times have fractions of a second, and an OnCallOverride's are whole seconds: it runs from %s to %s", start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	}
	switch {
	case !end.After(start):
		return nil, n, "it ends before it starts"
	case end.Sub(start) > oncall.MaxOverrideLength:
		return nil, n, fmt.Sprintf("it lasts %s and an OnCallOverride at most 90 days: split it into OnCallOverrides by hand", end.Sub(start).Round(time.Minute))
	}
	who := ""
	switch o.User.Type {
	case "user":
		var ok bool
		if who, ok = p.name(o.User); !ok {
			return nil, n, fmt.Sprintf("its user %s is none of the users read", describe(o.User))
		}
	case "none":
	default:
		return nil, n, fmt.Sprintf("it puts %s on call, and Klaxon's overrides put people on call", describe(o.User))
	}
	base := klaxonv1alpha1.OnCallOverrideSpec{
		ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: name},
		Start:       metav1.NewTime(start.UTC()),
		End:         metav1.NewTime(end.UTC()),
	}
	var parts []overridePart
	if coversAll(o, s) {
		others := slices.DeleteFunc(slices.Clone(m.everyone), func(x string) bool { return x == who })
		if len(others) > maxOverridePeople {
			return nil, n, fmt.Sprintf("it replaces %d people and an OnCallOverride removes at most %d: write it by hand", len(others), maxOverridePeople)
		}
		if len(others) > 0 {
			off := base
			off.Remove = others
			parts = append(parts, overridePart{suffix: "off", spec: off})
		}
		if who != "" {
			on := base
			on.Add = []string{who}
			parts = append(parts, overridePart{suffix: "", spec: on})
		}
		if len(parts) == 0 {
			return nil, n, "it takes everyone off a schedule that has nobody"
		}
		return parts, n, ""
	}
	var rotations []string
	for _, r := range o.Rotations {
		rotations = append(rotations, importer.Quote(firstNonEmpty(r.Name, r.ID)))
	}
	if who == "" {
		return nil, n, fmt.Sprintf("it takes rotations %s off call, and Klaxon cannot take one layer off call: add an OnCallOverride removing their people by hand", strings.Join(rotations, ", "))
	}
	n.lost("it puts %s on call in place of rotations %s only, and Klaxon's overrides cannot tell one layer's people from another's: %s is added beside whoever the schedule has, and verify shows the times those rotations have someone on call during it, whom Klaxon keeps", who, importer.Clip(strings.Join(rotations, ", "), importer.MaxValue), who)
	on := base
	on.Add = []string{who}
	return []overridePart{{spec: on}}, n, ""
}

// coversAll says whether an override applies to every rotation of s: it
// names none, or all of them.
func coversAll(o override, s schedule) bool {
	if len(o.Rotations) == 0 {
		return true
	}
	for _, r := range s.Rotations {
		if !slices.ContainsFunc(o.Rotations, func(x recipient) bool {
			return (x.ID != "" && x.ID == r.ID) || (x.ID == "" && x.Name != "" && x.Name == r.Name)
		}) {
			return false
		}
	}
	return true
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

package importer

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// zonePattern is the form of a time zone name the CRD admits.
var zonePattern = regexp.MustCompile(`^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$`)

// ZoneName says whether the CRD admits name as spec.timeZone: an IANA
// name of at most 64 characters, and not Local.
func ZoneName(name string) bool {
	return name != "" && name != "Local" && len(name) <= 64 && zonePattern.MatchString(name)
}

// lastInstant is the latest time RFC 3339 (and so a metav1.Time) can hold.
var lastInstant = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// Check says why the API server would refuse obj as written to YAML, as
// far as the CRDs' own rules go (schema patterns, CEL rules), or nil.
// Write checks every object first, so an import never writes YAML that
// does not apply; the importers' fuzz targets call it on what they map.
func Check(obj client.Object) error {
	var err error
	switch o := obj.(type) {
	case *klaxonv1alpha1.OnCallSchedule:
		err = checkSchedule(&o.Spec)
	case *klaxonv1alpha1.OnCallOverride:
		err = checkOverride(&o.Spec)
	case *klaxonv1alpha1.EscalationPolicy:
		err = checkPolicy(&o.Spec)
	case *klaxonv1alpha1.Responder:
		err = checkResponder(&o.Spec)
	}
	if err != nil {
		return fmt.Errorf("%s %s would be refused: %w", KindOf(obj), obj.GetName(), err)
	}
	return nil
}

// seconds is t as YAML keeps it: whole seconds.
func seconds(t metav1.Time) time.Time { return t.Truncate(time.Second) }

func checkInterval(start, end metav1.Time) error {
	if start.After(lastInstant) || end.After(lastInstant) || start.Year() < 1 {
		return errors.New("a time beyond the year 9999")
	}
	if !seconds(end).After(seconds(start)) {
		return fmt.Errorf("end %s is not after start %s in whole seconds", end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	return nil
}

func checkSchedule(spec *klaxonv1alpha1.OnCallScheduleSpec) error {
	if _, err := oncall.Compile(spec); err != nil {
		return err
	}
	if len(spec.Layers) > 16 || len(spec.Overrides) > 128 {
		return errors.New("more than 16 layers or 128 overrides")
	}
	for i, o := range spec.Overrides {
		if err := checkInterval(o.Start, o.End); err != nil {
			return fmt.Errorf("overrides[%d]: %w", i, err)
		}
	}
	return nil
}

func checkOverride(spec *klaxonv1alpha1.OnCallOverrideSpec) error {
	if err := checkInterval(spec.Start, spec.End); err != nil {
		return err
	}
	whole := *spec
	whole.Start, whole.End = metav1.NewTime(seconds(spec.Start)), metav1.NewTime(seconds(spec.End))
	if spec.ScheduleRef.Name == "" || !oncall.ValidOverride(&whole) {
		return errors.New("it needs a schedule, exactly one of add, replace (by someone else) or remove, and at most 90 days")
	}
	return nil
}

func checkPolicy(spec *klaxonv1alpha1.EscalationPolicySpec) error {
	if len(spec.Levels) < 1 || len(spec.Levels) > 10 {
		return fmt.Errorf("%d levels, not 1 to 10", len(spec.Levels))
	}
	if spec.Repeat < 0 || spec.Repeat > 10 {
		return fmt.Errorf("repeat %d, not 0 to 10", spec.Repeat)
	}
	if spec.Repeat > 0 && len(spec.Levels) == 1 && spec.Levels[0].After == nil {
		return errors.New("a single level that repeats needs after")
	}
	for i, l := range spec.Levels {
		if i > 0 && l.After == nil {
			return fmt.Errorf("levels[%d] has no after", i)
		}
		if l.After != nil && l.After.Duration <= 0 {
			return fmt.Errorf("levels[%d].after is not positive", i)
		}
		if len(l.Targets) == 0 {
			return fmt.Errorf("levels[%d] has no targets", i)
		}
		for j, t := range l.Targets {
			set := 0
			for _, v := range []string{t.Schedule, t.User, t.Channel} {
				if v != "" {
					set++
				}
			}
			if set != 1 || (t.Channel == "") != (t.Address == "") {
				return fmt.Errorf("levels[%d].targets[%d] needs exactly one of schedule, user or channel (with address)", i, j)
			}
		}
	}
	return nil
}

func checkResponder(spec *klaxonv1alpha1.ResponderSpec) error {
	for i, r := range spec.Rules {
		if !slices.ContainsFunc(spec.Contacts, func(c klaxonv1alpha1.Contact) bool { return c.Name == r.Contact }) {
			return fmt.Errorf("rules[%d] names contact %q, which it does not have", i, Clip(r.Contact, MaxValue))
		}
		if r.After != nil && (r.After.Duration < 0 || r.After.Duration > 24*time.Hour) {
			return fmt.Errorf("rules[%d].after is not from 0s to 24h", i)
		}
	}
	return nil
}

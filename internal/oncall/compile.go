package oncall

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

var weekdays = map[klaxonv1alpha1.Weekday]time.Weekday{
	klaxonv1alpha1.Monday:    time.Monday,
	klaxonv1alpha1.Tuesday:   time.Tuesday,
	klaxonv1alpha1.Wednesday: time.Wednesday,
	klaxonv1alpha1.Thursday:  time.Thursday,
	klaxonv1alpha1.Friday:    time.Friday,
	klaxonv1alpha1.Saturday:  time.Saturday,
	klaxonv1alpha1.Sunday:    time.Sunday,
}

// MinShift is the shortest shift a layer may have; the CRD's CEL rule on
// spec.layers[].shift says the same. Nobody takes over on call for less, and
// every handoff costs a status write and an Event.
const MinShift = time.Hour

// Compile checks spec and prepares it for At and NextHandoff. It repeats
// the API server's checks, so that a spec stored before a schema change is
// still caught, and adds the ones the API server cannot make: that the time
// zone exists and that each layer start is a real date. The error is an
// *InvalidSpecError naming every offending field; errors.Is tells an
// ErrUnknownTimeZone apart from other ErrInvalidField problems.
func Compile(spec *klaxonv1alpha1.OnCallScheduleSpec) (*Schedule, error) {
	var errs fieldErrors
	loc := loadLocation("spec.timeZone", spec.TimeZone, &errs)

	if len(spec.Layers) == 0 {
		errs.add("spec.layers", "", ErrInvalidField, errors.New("at least one layer is required"))
	}
	layers := make([]layer, 0, len(spec.Layers))
	seen := make(map[string]bool, len(spec.Layers))
	for i := range spec.Layers {
		path := "spec.layers[" + strconv.Itoa(i) + "]"
		l := &spec.Layers[i]
		if seen[l.Name] {
			errs.add(path+".name", l.Name, ErrInvalidField, errors.New("layer names must be unique"))
		}
		seen[l.Name] = true
		if compiled, ok := compileLayer(path, l, loc, &errs); ok {
			layers = append(layers, compiled)
		}
	}

	overrides := make([]override, 0, len(spec.Overrides))
	for i := range spec.Overrides {
		path := "spec.overrides[" + strconv.Itoa(i) + "]"
		o := &spec.Overrides[i]
		ok := true
		if o.User == "" {
			errs.add(path+".user", o.User, ErrInvalidField, errors.New("must name the person on call"))
			ok = false
		}
		if !o.End.After(o.Start.Time) {
			errs.add(path+".end", o.End.UTC().Format(time.RFC3339), ErrInvalidField,
				fmt.Errorf("must be after start %s", o.Start.UTC().Format(time.RFC3339)))
			ok = false
		}
		if ok {
			overrides = append(overrides, override{user: o.User, start: o.Start.Time, end: o.End.Time})
		}
	}

	if err := errs.err(); err != nil {
		return nil, err
	}
	return &Schedule{loc: loc, layers: layers, overrides: overrides}, nil
}

// loadLocation resolves the time zone at path; it returns UTC after
// recording an error so that the other fields can still be checked.
func loadLocation(path, name string, errs *fieldErrors) *time.Location {
	switch name {
	case "":
		errs.add(path, name, ErrUnknownTimeZone, errors.New("an IANA time zone such as Europe/Berlin is required"))
		return time.UTC
	case "Local":
		// time.LoadLocation would answer with the operator's own zone.
		errs.add(path, name, ErrUnknownTimeZone, errors.New("must be an IANA name such as Europe/Berlin, not the operator's local zone"))
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		errs.add(path, name, ErrUnknownTimeZone, fmt.Errorf("%w; use an IANA name such as Europe/Berlin", err))
		return time.UTC
	}
	return loc
}

// MaxGroupMembers is the most people a layer's group may have; the CRD's
// CEL rule on spec.layers[].groups[].members says the same.
const MaxGroupMembers = 50

// compileLayer checks one layer; ok is false when it has errors.
func compileLayer(path string, l *klaxonv1alpha1.ScheduleLayer, loc *time.Location, errs *fieldErrors) (layer, bool) {
	before := len(*errs)
	if l.Name == "" {
		errs.add(path+".name", l.Name, ErrInvalidField, errors.New("must not be empty"))
	}
	turns := compileTurns(path, l, errs)
	start, startErr := parseStart(l.Start)
	if startErr != nil {
		errs.add(path+".start", l.Start, ErrInvalidField, startErr)
	}
	var end time.Time
	if l.End != "" {
		wall, err := parseStart(l.End)
		switch {
		case err != nil:
			errs.add(path+".end", l.End, ErrInvalidField, err)
		case l.End <= l.Start:
			// StartLayout sorts as it reads, so strings compare as times.
			errs.add(path+".end", l.End, ErrInvalidField, fmt.Errorf("must be after start %s", l.Start))
		case startErr == nil && !wall.in(loc).After(start.in(loc)):
			// A start in an hour a clock change skips moves later, past
			// an end within that hour: the layer would end before it
			// starts.
			errs.add(path+".end", l.End, ErrInvalidField, fmt.Errorf(
				"must be after start %s as the clocks of %s read it: a clock change skips the start's hour, so give an end after the change",
				l.Start, loc))
		default:
			end = wall.in(loc)
		}
	}
	switch l.Combine {
	case "", klaxonv1alpha1.CombineReplace, klaxonv1alpha1.CombineAdd:
	default:
		errs.add(path+".combine", string(l.Combine), ErrInvalidField, errors.New("must be Replace or Add"))
	}
	switch {
	case l.Shift.Duration <= 0:
		errs.add(path+".shift", l.Shift.Duration.String(), ErrInvalidField, errors.New("must be a positive duration, such as 24h or 168h"))
	case l.Shift.Duration < MinShift:
		errs.add(path+".shift", l.Shift.Duration.String(), ErrInvalidField, errors.New("must be at least 1h, such as 12h, 24h or 168h"))
	}
	windows := make([]window, 0, len(l.Restrictions))
	for j := range l.Restrictions {
		if w, ok := compileWindow(path+".restrictions["+strconv.Itoa(j)+"]", &l.Restrictions[j], errs); ok {
			windows = append(windows, w)
		}
	}
	if len(*errs) > before {
		return layer{}, false
	}
	return layer{
		name:         l.Name,
		add:          l.Combine == klaxonv1alpha1.CombineAdd,
		rotation:     newRotation(loc, turns, start, l.Shift.Duration),
		restrictions: newRestrictions(loc, windows),
		end:          end,
	}, true
}

// compileTurns checks a layer's participants or groups and returns who is
// on call in each turn, as sets.
func compileTurns(path string, l *klaxonv1alpha1.ScheduleLayer, errs *fieldErrors) [][]string {
	switch {
	case len(l.Participants) > 0 && len(l.Groups) > 0:
		errs.add(path+".groups", "", ErrInvalidField, errors.New("a layer has either participants or groups, not both"))
		return nil
	case len(l.Participants) == 0 && len(l.Groups) == 0:
		errs.add(path+".participants", "", ErrInvalidField, errors.New("at least one participant or group is required"))
		return nil
	}
	var turns [][]string
	for j, p := range l.Participants {
		if p == "" {
			errs.add(path+".participants["+strconv.Itoa(j)+"]", p, ErrInvalidField, errors.New("must name a person"))
		}
		turns = append(turns, []string{p})
	}
	for j := range l.Groups {
		gpath := path + ".groups[" + strconv.Itoa(j) + "].members"
		members := l.Groups[j].Members
		switch {
		case len(members) == 0:
			errs.add(gpath, "", ErrInvalidField, errors.New("a group needs at least one member"))
		case len(members) > MaxGroupMembers:
			errs.add(gpath, strconv.Itoa(len(members))+" members", ErrInvalidField,
				fmt.Errorf("a group has at most %d members", MaxGroupMembers))
		}
		for k, m := range members {
			if m == "" {
				errs.add(gpath+"["+strconv.Itoa(k)+"]", m, ErrInvalidField, errors.New("must name a person"))
			}
		}
		turns = append(turns, normalize(slices.Clone(members)))
	}
	return turns
}

// compileWindow checks one restriction; ok is false when it has errors.
func compileWindow(path string, r *klaxonv1alpha1.TimeRestriction, errs *fieldErrors) (window, bool) {
	before := len(*errs)
	var w window
	multiDay := r.FromDay != "" || r.ToDay != ""
	var fromDay, toDay time.Weekday
	switch {
	case multiDay && len(r.Days) > 0:
		errs.add(path+".days", "", ErrInvalidField, errors.New("a restriction has either days or fromDay and toDay, not both"))
	case multiDay:
		var ok bool
		if fromDay, ok = weekday(path+".fromDay", r.FromDay, errs); ok {
			w.days[fromDay] = true
		}
		toDay, _ = weekday(path+".toDay", r.ToDay, errs)
	case len(r.Days) == 0:
		errs.add(path+".days", "", ErrInvalidField, errors.New("days, or fromDay and toDay, are required"))
	default:
		for j, d := range r.Days {
			if wd, ok := weekday(path+".days["+strconv.Itoa(j)+"]", d, errs); ok {
				w.days[wd] = true
			}
		}
	}
	var err error
	if w.from, err = parseClock(r.From); err != nil {
		errs.add(path+".from", r.From, ErrInvalidField, err)
	}
	if w.to, err = parseClock(r.To); err != nil {
		errs.add(path+".to", r.To, ErrInvalidField, err)
	}
	if len(*errs) > before {
		return w, false
	}
	switch {
	case !multiDay:
		if w.to <= w.from {
			w.endDays = 1
		}
	case fromDay == toDay && w.to == w.from:
		errs.add(path+".to", r.To, ErrInvalidField,
			fmt.Errorf("a window from %s %s to %s %s is empty or a whole week", r.FromDay, r.From, r.ToDay, r.To))
	default:
		// toDay at to is the first one after the window opens.
		w.endDays = (int(toDay) - int(fromDay) + 7) % 7
		if w.endDays == 0 && w.to < w.from {
			w.endDays = 7
		}
	}
	return w, len(*errs) == before
}

// weekday reads a day of the week written at path.
func weekday(path string, d klaxonv1alpha1.Weekday, errs *fieldErrors) (time.Weekday, bool) {
	wd, ok := weekdays[d]
	if !ok {
		errs.add(path, string(d), ErrInvalidField, errors.New("must be one of Mon, Tue, Wed, Thu, Fri, Sat, Sun"))
	}
	return wd, ok
}

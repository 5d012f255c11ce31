package tmplbudget

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Limits of a metered render. They keep any render of a template of at most
// a thousand characters to a few milliseconds and MiB.
const (
	// MaxRangeDepth is how deeply ranges may nest: an alert's labels within
	// the alerts is as deep as a title needs to go.
	MaxRangeDepth = 2
	// MaxRenderSteps bounds the loop iterations of one render, each counted
	// by the size of the loop body (see Site).
	MaxRenderSteps = 10_000
	// MaxFunctionText bounds the bytes that functions (printf, join, ...)
	// read and write in one render, which is what their work and memory
	// are proportional to.
	MaxFunctionText = 256 << 10
	// MaxString is the longest string a metered template handles: the
	// caller cuts longer values of its data to it, and functions refuse
	// longer arguments and results.
	MaxString = 4 << 10
	// MeteredPairs is how many pairs each label set of the caller's data
	// holds at most: the weight of a method that walks one (see Instrument).
	MeteredPairs = 64
	// MaxRegexps bounds how many different regular expressions a render
	// compiles.
	MaxRegexps = 16
	// MaxRegexpWork bounds the matching of one render, counted as the
	// length of the text times the size of the expression, since Go's
	// matching is linear in both.
	MaxRegexpWork = 2_000_000
	// MaxRegexpCompileWork bounds the compile cost (see compileCost) of
	// the different expressions of one render, charged whether or not the
	// cache holds them, so a render's budget does not depend on what ran
	// before: a cold cache compiles them all.
	MaxRegexpCompileWork = 4 * MaxRegexpCompile
	// maxLocations bounds the time zones tz loads in one render; each is
	// read from the time zone database.
	maxLocations = 4
)

// Meter is the budget of one render at a time: Funcs gives the template
// functions that charge it, Reset starts the next render.
type Meter struct {
	sites      []Site
	steps      int
	text       int
	regexpWork int
	// regexpCalls counts the calls of match and reReplaceAll.
	regexpCalls   int
	regexpCompile int
	regexps       map[string]compiledRegexp
	locations     map[string]*time.Location
}

// NewMeter returns the budget of the renders of a template that Instrument
// returned sites for.
func NewMeter(sites []Site) *Meter { return &Meter{sites: sites} }

// Usage is what one render spent.
type Usage struct {
	Steps, Text, RegexpWork, RegexpCalls, RegexpCompile int
}

// Usage returns what the render so far spent.
func (s *Meter) Usage() Usage {
	return Usage{Steps: s.steps, Text: s.text, RegexpWork: s.regexpWork, RegexpCalls: s.regexpCalls, RegexpCompile: s.regexpCompile}
}

// Reset starts a new render.
func (s *Meter) Reset() {
	s.steps, s.text, s.regexpWork, s.regexpCalls, s.regexpCompile = 0, 0, 0, 0, 0
	clear(s.regexps)
	clear(s.locations)
}

// stepError is a range that ran past the step budget.
type stepError struct{ site Site }

func (e *stepError) Error() string {
	return fmt.Sprintf("%s (%s) ran past the budget of %d steps, which counts each iteration by the size of its body: range only over the alerts and labels of the notification, and keep loop bodies short",
		e.site.action, e.site.where, MaxRenderSteps)
}

func (e *stepError) Is(target error) bool { return target == ErrBudget }

// Cause returns a loop's budget error as it is: text/template's wrapping
// would name the step function Instrument inserted, which the author never
// wrote. Other errors keep text/template's context, which names the action
// at fault.
func Cause(err error) error {
	var se *stepError
	if errors.As(err, &se) {
		return se
	}
	return err
}

// step returns the function that counts one iteration of the range site.
// It returns false, so the if around it runs nothing.
func (s *Meter) step(site int) func() (bool, error) {
	return func() (bool, error) {
		w := s.sites[site].weight
		if s.steps+w > MaxRenderSteps {
			return false, &stepError{site: s.sites[site]}
		}
		s.steps += w
		return false, nil
	}
}

// charge counts n bytes that fn reads or writes against the render's
// budget: functions work in proportion to the text they handle.
func (s *Meter) charge(fn string, n int) error {
	if s.text+n > MaxFunctionText {
		return overBudget("%s would take the text handled by functions past %d bytes in this render; a title needs far less: call functions on fewer or shorter values", fn, MaxFunctionText)
	}
	s.text += n
	return nil
}

// result checks the string fn made from in bytes of arguments, and counts
// both.
func (s *Meter) result(fn string, in int, out string) (string, error) {
	if len(out) > MaxString {
		return "", overBudget("%s would return %d bytes; a title template handles strings of at most %d bytes", fn, len(out), MaxString)
	}
	if err := s.charge(fn, in+len(out)); err != nil {
		return "", err
	}
	return out, nil
}

// argument refuses a string argument longer than a template handles. The
// notification's values are cut to that length and functions return no
// more, so only text the template builds itself gets here.
func argument(fn string, i int, v string) error {
	if len(v) > MaxString {
		return overBudget("argument %d of %s is %d bytes long; a title template handles strings of at most %d bytes", i, fn, len(v), MaxString)
	}
	return nil
}

// formatted checks, before fmt formats them, that args cannot make more
// than a template handles, and returns about how many bytes they print;
// fmt builds its whole result before anyone can look at it.
func formatted(fn string, format string, args []any) (int, error) {
	total := len(format)
	for i, a := range args {
		n := formattedSize(reflect.ValueOf(a), MaxString, 0)
		if n > MaxString {
			return 0, overBudget("argument %d of %s prints as more than %d bytes, the longest string a title template handles: pass a single field, such as .CommonLabels.alertname, instead", i+1, fn, MaxString)
		}
		total += n
	}
	if total > MaxString {
		return 0, overBudget("%s would print more than %d bytes, the longest string a title template handles: pass fewer or shorter values", fn, MaxString)
	}
	return total, nil
}

// formattedSize estimates how many bytes fmt prints for v with %v, giving
// up once past limit so that the walk stays as cheap as the limit. The
// notification's types nest a few levels deep; anything deeper counts as
// too large.
func formattedSize(v reflect.Value, limit, depth int) int {
	if depth > 8 {
		return limit + 1
	}
	switch v.Kind() {
	case reflect.Invalid:
		return len("<nil>")
	case reflect.String:
		return v.Len()
	case reflect.Bool:
		return len("false")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return 24
	case reflect.Complex64, reflect.Complex128:
		return 50
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return len("<nil>")
		}
		return formattedSize(v.Elem(), limit, depth+1)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return 64
		}
		n := 2
		for i := 0; i < v.NumField() && n <= limit; i++ {
			n += len(v.Type().Field(i).Name) + 2 + formattedSize(v.Field(i), limit-n, depth+1)
		}
		return n
	case reflect.Map:
		n := len("map[]")
		for it := v.MapRange(); it.Next() && n <= limit; {
			n += 2 + formattedSize(it.Key(), limit-n, depth+1) + formattedSize(it.Value(), limit-n, depth+1)
		}
		return n
	case reflect.Slice, reflect.Array:
		n := 2
		for i := 0; i < v.Len() && n <= limit; i++ {
			n += 1 + formattedSize(v.Index(i), limit-n, depth+1)
		}
		return n
	}
	return 24 // func, chan, unsafe pointer: an address
}

// regexp returns pattern compiled for fn, from the process's cache, and
// counts the call: at most MaxRegexps different expressions and
// MaxRegexpCalls calls per render.
func (s *Meter) regexp(fn, pattern string) (compiledRegexp, error) {
	if s.regexpCalls >= MaxRegexpCalls {
		return compiledRegexp{}, overBudget("%s would be called more than %d times in one render; match fewer values", fn, MaxRegexpCalls)
	}
	s.regexpCalls++
	if c, ok := s.regexps[pattern]; ok {
		return c, nil
	}
	if len(s.regexps) >= MaxRegexps {
		return compiledRegexp{}, overBudget("%s would compile more than %d different regular expressions in one render; use fewer", fn, MaxRegexps)
	}
	c, err := compiled.get(fn, pattern)
	if err != nil {
		return compiledRegexp{}, err
	}
	if s.regexpCompile+c.cost.Compile > MaxRegexpCompileWork {
		return compiledRegexp{}, overBudget("%s would take the compile cost of the regular expressions of one render past %d units; use fewer or simpler expressions", fn, MaxRegexpCompileWork)
	}
	s.regexpCompile += c.cost.Compile
	if s.regexps == nil {
		s.regexps = make(map[string]compiledRegexp, MaxRegexps)
	}
	s.regexps[pattern] = c
	return c, nil
}

// match counts the work of running c over text.
func (s *Meter) match(fn string, c compiledRegexp, text string) error {
	work := (len(text) + 1) * c.cost.Size
	if s.regexpWork+work > MaxRegexpWork {
		return overBudget("%s would take regular expression matching past its budget for this render (%d, counted as text length times expression size); match shorter text or fewer times", fn, MaxRegexpWork)
	}
	s.regexpWork += work
	return nil
}

// location loads a time zone for tz once per render: loading reads the time
// zone database, too slow to repeat in a loop.
func (s *Meter) location(name string) (*time.Location, error) {
	if loc, ok := s.locations[name]; ok {
		return loc, nil
	}
	if len(name) > 64 {
		return nil, fmt.Errorf("%q is not a time zone name", bounded.Runes(name, 40))
	}
	if len(s.locations) >= maxLocations {
		return nil, overBudget("tz would load more than %d different time zones in one render; use fewer", maxLocations)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	if s.locations == nil {
		s.locations = make(map[string]*time.Location, maxLocations)
	}
	s.locations[name] = loc
	return loc, nil
}

package alertmapping

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"regexp/syntax"
	"strings"
	texttemplate "text/template"
	"time"

	commontemplates "github.com/prometheus/common/helpers/templates"
)

// Limits of the functions a title template calls, within maxFunctionText.
const (
	// maxFormatWidth bounds a width or precision in a printf format, which
	// is otherwise a way to allocate any amount of padding.
	maxFormatWidth = 64
	// maxRegexpLength, maxRegexpSize and maxRegexps bound the regular
	// expressions of match and reReplaceAll: their length, their compiled
	// size (roughly, in instructions; nested repeats multiply it) and how
	// many different ones a render compiles.
	maxRegexpLength = 512
	maxRegexpSize   = 1000
	maxRegexps      = 16
	// maxRegexpWork bounds the matching of one render, counted as the
	// length of the text times the size of the expression, since Go's
	// matching is linear in both.
	maxRegexpWork = 2_000_000
	// maxLocations bounds the time zones tz loads in one render; each is
	// read from the time zone database.
	maxLocations = 4
)

// renderState is the budget of one render.
type renderState struct {
	sites      []rangeSite
	steps      int
	text       int
	regexpWork int
	regexps    map[string]compiledRegexp
	locations  map[string]*time.Location
}

type compiledRegexp struct {
	re   *regexp.Regexp
	size int
}

func (s *renderState) reset() {
	s.steps, s.text, s.regexpWork = 0, 0, 0
	clear(s.regexps)
	clear(s.locations)
}

// stepError is a range that ran past the step budget.
type stepError struct{ site rangeSite }

func (e *stepError) Error() string {
	return fmt.Sprintf("%s (%s) ran past the budget of %d steps, which counts each iteration by the size of its body: range only over the alerts and labels of the notification, and keep loop bodies short",
		e.site.action, e.site.where, maxRenderSteps)
}

func (e *stepError) Is(target error) bool { return target == errRenderBudget }

// step returns the function that counts one iteration of the range site.
// It returns false, so the if around it runs nothing.
func (s *renderState) step(site int) func() (bool, error) {
	return func() (bool, error) {
		w := s.sites[site].weight
		if s.steps+w > maxRenderSteps {
			return false, &stepError{site: s.sites[site]}
		}
		s.steps += w
		return false, nil
	}
}

// charge counts n bytes that fn reads or writes against the render's
// budget: functions work in proportion to the text they handle.
func (s *renderState) charge(fn string, n int) error {
	if s.text+n > maxFunctionText {
		return overBudget("%s would take the text handled by functions past %d bytes in this render; a title needs far less: call functions on fewer or shorter values", fn, maxFunctionText)
	}
	s.text += n
	return nil
}

// result checks the string fn made from in bytes of arguments, and counts
// both.
func (s *renderState) result(fn string, in int, out string) (string, error) {
	if len(out) > maxTemplateString {
		return "", overBudget("%s would return %d bytes; a title template handles strings of at most %d bytes", fn, len(out), maxTemplateString)
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
	if len(v) > maxTemplateString {
		return overBudget("argument %d of %s is %d bytes long; a title template handles strings of at most %d bytes", i, fn, len(v), maxTemplateString)
	}
	return nil
}

// formatted checks, before fmt formats them, that args cannot make more
// than a template handles, and returns about how many bytes they print;
// fmt builds its whole result before anyone can look at it.
func formatted(fn string, format string, args []any) (int, error) {
	total := len(format)
	for i, a := range args {
		n := formattedSize(reflect.ValueOf(a), maxTemplateString, 0)
		if n > maxTemplateString {
			return 0, overBudget("argument %d of %s prints as more than %d bytes, the longest string a title template handles: pass a single field, such as .CommonLabels.alertname, instead", i+1, fn, maxTemplateString)
		}
		total += n
	}
	if total > maxTemplateString {
		return 0, overBudget("%s would print more than %d bytes, the longest string a title template handles: pass fewer or shorter values", fn, maxTemplateString)
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

// checkFormat refuses a printf format whose widths or precisions could
// allocate more than a title needs: numbers over maxFormatWidth, and *,
// which takes them from an argument.
func checkFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
	verb:
		for i++; i < len(format); i++ {
			switch c := format[i]; {
			case c == '*':
				return overBudget("the format %q takes a width or precision from an argument (*); write it in the format instead, at most %d", clip(format, 40), maxFormatWidth)
			case c == '[': // an argument index
				if j := strings.IndexByte(format[i:], ']'); j >= 0 {
					i += j
				} else {
					i = len(format)
				}
			case c >= '0' && c <= '9':
				n := 0
				for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
					if n <= maxFormatWidth {
						n = n*10 + int(format[i]-'0')
					}
				}
				if n > maxFormatWidth {
					return overBudget("the format %q has a width or precision over %d; use at most %d", clip(format, 40), maxFormatWidth, maxFormatWidth)
				}
				i--
			case strings.IndexByte("+-# .", c) >= 0:
			default:
				break verb
			}
		}
	}
	return nil
}

// regexp compiles pattern for fn, refusing expressions that are long or
// whose compiled form is large (a{1000}{1000} is short), and keeps it for
// the rest of the render.
func (s *renderState) regexp(fn, pattern string) (compiledRegexp, error) {
	if c, ok := s.regexps[pattern]; ok {
		return c, nil
	}
	if len(pattern) > maxRegexpLength {
		return compiledRegexp{}, overBudget("the regular expression of %s is %d bytes long; at most %d are allowed", fn, len(pattern), maxRegexpLength)
	}
	if len(s.regexps) >= maxRegexps {
		return compiledRegexp{}, overBudget("%s would compile more than %d different regular expressions in one render; use fewer", fn, maxRegexps)
	}
	parsed, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return compiledRegexp{}, fmt.Errorf("the regular expression %q of %s is invalid: %w", clip(pattern, 40), fn, err)
	}
	size := regexpSize(parsed)
	if size > maxRegexpSize {
		return compiledRegexp{}, overBudget("the regular expression %q of %s is too complex (its repeats multiply to more than %d instructions); simplify it", clip(pattern, 40), fn, maxRegexpSize)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return compiledRegexp{}, fmt.Errorf("the regular expression %q of %s is invalid: %w", clip(pattern, 40), fn, err)
	}
	if s.regexps == nil {
		s.regexps = make(map[string]compiledRegexp, maxRegexps)
	}
	c := compiledRegexp{re: re, size: size}
	s.regexps[pattern] = c
	return c, nil
}

// regexpSize estimates the instructions of re's compiled program, as
// syntax.Compile expands repeats, stopping past maxRegexpSize.
func regexpSize(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return max(len(re.Rune), 1)
	case syntax.OpRepeat:
		sub := regexpSize(re.Sub[0])
		n := re.Max
		if n < 0 {
			n = re.Min + 1
		}
		if n > 0 && sub > maxRegexpSize/n {
			return maxRegexpSize + 1
		}
		return 1 + n*sub
	}
	n := 1
	for _, sub := range re.Sub {
		n += regexpSize(sub)
		if n > maxRegexpSize {
			return n
		}
	}
	return n
}

// match counts the work of running c over text.
func (s *renderState) match(fn string, c compiledRegexp, text string) error {
	work := (len(text) + 1) * c.size
	if s.regexpWork+work > maxRegexpWork {
		return overBudget("%s would take regular expression matching past its budget for this render (%d, counted as text length times expression size); match shorter text or fewer times", fn, maxRegexpWork)
	}
	s.regexpWork += work
	return nil
}

// location loads a time zone for tz once per render: loading reads the time
// zone database, too slow to repeat in a loop.
func (s *renderState) location(name string) (*time.Location, error) {
	if loc, ok := s.locations[name]; ok {
		return loc, nil
	}
	if len(name) > 64 {
		return nil, fmt.Errorf("%q is not a time zone name", clip(name, 40))
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

// budgetedFuncs are the functions of a title template, each counting what
// it makes against s: Alertmanager's (see templateFuncs) and text/template's
// builtins that build strings, which Funcs lets a template replace. call is
// disabled, as the checks also refuse it. An Alertmanager function without
// a budgeted version here is left out rather than run without a budget.
func budgetedFuncs(s *renderState) texttemplate.FuncMap {
	sprint := func(fn string, sprint func(...any) string) func(...any) (string, error) {
		return func(args ...any) (string, error) {
			in, err := formatted(fn, "", args)
			if err != nil {
				return "", err
			}
			return s.result(fn, in, sprint(args...))
		}
	}
	oneString := func(fn string, f func(string) string) func(string) (string, error) {
		return func(v string) (string, error) {
			if err := argument(fn, 1, v); err != nil {
				return "", err
			}
			return s.result(fn, len(v), f(v))
		}
	}
	all := texttemplate.FuncMap{
		"print":    sprint("print", fmt.Sprint),
		"println":  sprint("println", fmt.Sprintln),
		"html":     sprint("html", texttemplate.HTMLEscaper),
		"js":       sprint("js", texttemplate.JSEscaper),
		"urlquery": sprint("urlquery", texttemplate.URLQueryEscaper),
		"printf": func(format string, args ...any) (string, error) {
			if err := checkFormat(format); err != nil {
				return "", err
			}
			in, err := formatted("printf", format, args)
			if err != nil {
				return "", err
			}
			return s.result("printf", in, fmt.Sprintf(format, args...))
		},
		"call": func(...any) (string, error) {
			return "", fmt.Errorf("calling function values is not available in a title")
		},

		"toUpper":   oneString("toUpper", strings.ToUpper),
		"toLower":   oneString("toLower", strings.ToLower),
		"title":     oneString("title", amTitle),
		"trimSpace": oneString("trimSpace", strings.TrimSpace),
		"join": func(sep string, elems []string) (string, error) {
			n := len(sep) * max(len(elems)-1, 0)
			for _, e := range elems {
				n += len(e)
				if n > maxTemplateString || len(sep) > maxTemplateString {
					return "", overBudget("join would return more than %d bytes, the longest string a title template handles: join fewer or shorter values", maxTemplateString)
				}
			}
			return s.result("join", n, strings.Join(elems, sep))
		},
		"match": func(pattern, text string) (bool, error) {
			if err := argument("match", 2, text); err != nil {
				return false, err
			}
			c, err := s.regexp("match", pattern)
			if err != nil {
				return false, err
			}
			if err := s.match("match", c, text); err != nil {
				return false, err
			}
			return c.re.MatchString(text), nil
		},
		"reReplaceAll": func(pattern, repl, text string) (string, error) {
			return s.replaceAll(pattern, repl, text)
		},
		"urlUnescape": func(v string) (string, error) {
			if err := argument("urlUnescape", 1, v); err != nil {
				return "", err
			}
			out, err := url.QueryUnescape(v)
			if err != nil {
				return "", err
			}
			return s.result("urlUnescape", len(v), out)
		},
		"stringSlice": func(elems ...string) ([]string, error) {
			if err := s.charge("stringSlice", 16*len(elems)); err != nil {
				return nil, err
			}
			return elems, nil
		},
		"date": func(layout string, t time.Time) (string, error) {
			if err := argument("date", 1, layout); err != nil {
				return "", err
			}
			return s.result("date", len(layout), t.Format(layout))
		},
		"tz": func(name string, t time.Time) (time.Time, error) {
			loc, err := s.location(name)
			if err != nil {
				return time.Time{}, err
			}
			return t.In(loc), nil
		},
		"humanizeDuration": func(v any) (string, error) {
			in, err := formatted("humanizeDuration", "", []any{v})
			if err != nil {
				return "", err
			}
			out, err := commontemplates.HumanizeDuration(v)
			if err != nil {
				return "", err
			}
			return s.result("humanizeDuration", in, out)
		},
		"toJson": func(v any) (string, error) {
			in, err := formatted("toJson", "", []any{v})
			if err != nil {
				return "", err
			}
			out, err := json.Marshal(v)
			if err != nil {
				return "", err
			}
			return s.result("toJson", in, string(out))
		},
	}
	if amTitle == nil {
		delete(all, "title")
	}
	funcs := texttemplate.FuncMap{}
	for name := range templateFuncs {
		if fn, ok := all[name]; ok {
			funcs[name] = fn
		}
	}
	for _, name := range []string{"print", "println", "printf", "html", "js", "urlquery", "call"} {
		funcs[name] = all[name]
	}
	return funcs
}

// replaceAll is Alertmanager's reReplaceAll, checking the size of the result
// before it is built: an expression that matches everywhere with a long
// replacement would otherwise multiply the text.
func (s *renderState) replaceAll(pattern, repl, text string) (string, error) {
	const fn = "reReplaceAll"
	if err := argument(fn, 2, repl); err != nil {
		return "", err
	}
	if err := argument(fn, 3, text); err != nil {
		return "", err
	}
	c, err := s.regexp(fn, pattern)
	if err != nil {
		return "", err
	}
	// Matched once to measure and once to replace.
	if err := s.match(fn, c, text); err != nil {
		return "", err
	}
	if err := s.match(fn, c, text); err != nil {
		return "", err
	}
	matches := c.re.FindAllStringIndex(text, -1)
	if err := s.charge(fn, 40*len(matches)); err != nil {
		return "", err
	}
	// Each match becomes repl with every $ reference expanded to at most
	// the whole match.
	refs := strings.Count(repl, "$")
	n := len(text)
	for _, m := range matches {
		n += len(repl) + (refs-1)*(m[1]-m[0])
	}
	if n > maxTemplateString {
		return "", overBudget("%s would return more than %d bytes, the longest string a title template handles: match less of the text or shorten the replacement", fn, maxTemplateString)
	}
	return s.result(fn, len(repl)+len(text), c.re.ReplaceAllString(text, repl))
}

// amTitle is Alertmanager's title function, so titles are cased as its
// notifications are; nil if its type ever changes, which leaves title out
// (a test notices).
var amTitle, _ = templateFuncs["title"].(func(string) string)

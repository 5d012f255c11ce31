package tmplbudget

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"
	commontemplates "github.com/prometheus/common/helpers/templates"
)

// Funcs are the functions of a metered template, each counting what it
// makes against s: Alertmanager's (see meteredFuncs) and text/template's
// builtins that build strings, which Funcs lets a template replace, and the
// step function of each range site. call is disabled, as Instrument also
// refuses it. An Alertmanager function without a budgeted version here is
// left out rather than run without a budget.
func (s *Meter) Funcs() texttemplate.FuncMap {
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
			if err := CheckFormat(format); err != nil {
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
				if n > MaxString || len(sep) > MaxString {
					return "", overBudget("join would return more than %d bytes, the longest string a title template handles: join fewer or shorter values", MaxString)
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
	for name := range meteredFuncs {
		if fn, ok := all[name]; ok {
			funcs[name] = fn
		}
	}
	for _, name := range []string{"print", "println", "printf", "html", "js", "urlquery", "call"} {
		funcs[name] = all[name]
	}
	for site := range s.sites {
		funcs[stepFuncName(site)] = s.step(site)
	}
	return funcs
}

// replaceAll is Alertmanager's reReplaceAll, checking the size of the result
// before it is built: an expression that matches everywhere with a long
// replacement would otherwise multiply the text.
func (s *Meter) replaceAll(pattern, repl, text string) (string, error) {
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
	if n > MaxString {
		return "", overBudget("%s would return more than %d bytes, the longest string a title template handles: match less of the text or shorten the replacement", fn, MaxString)
	}
	return s.result(fn, len(repl)+len(text), c.re.ReplaceAllString(text, repl))
}

// amTitle is Alertmanager's title function, so titles are cased as its
// notifications are; nil if its type ever changes, which leaves title out
// (a test notices).
var amTitle, _ = meteredFuncs["title"].(func(string) string)

// meteredFuncs are Alertmanager's own template functions that a metered
// template may call: all but the one that reads the clock (since), so every
// receiver replica renders the same title for the same notification, and the
// HTML-only ones, since titles are text.
var meteredFuncs = func() texttemplate.FuncMap {
	funcs := texttemplate.FuncMap{}
	for name, fn := range amtemplate.DefaultFuncs {
		switch name {
		case "since", "safeHtml", "safeUrl":
			continue
		}
		funcs[name] = fn
	}
	return funcs
}()

package tmplbudget

import (
	texttemplate "text/template"

	"github.com/prometheus/alertmanager/template"
)

// meteredFuncs are Alertmanager's own template functions that a metered
// template may call: all but the one that reads the clock (since), so every
// receiver replica renders the same title for the same notification, and the
// HTML-only ones, since titles are text.
var meteredFuncs = func() texttemplate.FuncMap {
	funcs := texttemplate.FuncMap{}
	for name, fn := range template.DefaultFuncs {
		switch name {
		case "since", "safeHtml", "safeUrl":
			continue
		}
		funcs[name] = fn
	}
	return funcs
}()

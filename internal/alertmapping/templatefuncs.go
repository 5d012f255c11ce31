package alertmapping

import (
	texttemplate "text/template"

	"github.com/prometheus/alertmanager/template"
)

// templateFuncs are Alertmanager's own template functions, less the one that
// reads the clock (since), so every receiver replica renders the same title
// for the same notification, and the HTML-only ones, since titles are text.
var templateFuncs = func() texttemplate.FuncMap {
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

package alertmapping

import (
	"errors"
	"fmt"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/klaxon-dev/klaxon/internal/tmplbudget"
)

// A title template is written by whoever may edit an AlertRoute but runs in
// the shared receiver, so it gets a budget: CompileRoute refuses the
// constructs that can loop or recurse without bound, and every render
// counts its work (loop iterations, text handled by functions, regular
// expression matching) and stops past the limits of tmplbudget's metered
// mode, which keep any render to a few milliseconds and MiB. A trial render at compile time tells
// the route's author when a template cannot fit, rather than every delivery
// falling back to a default title.
const (
	// maxTitleTemplateLength is the MaxLength of spec.titleTemplate, in
	// characters; it bounds the size of a loop body, and so what one loop
	// iteration can cost.
	maxTitleTemplateLength = 1024
	// maxTemplateString is the longest string a title template handles:
	// longer values in the notification are cut to it, and functions refuse
	// longer arguments and results. Nothing longer than the render limit can
	// reach the title.
	maxTemplateString = tmplbudget.MaxString
)

// titleTemplate is a compiled, instrumented title template. It is safe for
// concurrent use: each render takes a renderer of its own from the pool.
type titleTemplate struct {
	base  *texttemplate.Template
	sites []tmplbudget.Site
	pool  sync.Pool // of *renderer
}

// renderer is a clone of the template whose functions count against its
// meter, so renders never share a budget.
type renderer struct {
	tmpl  *texttemplate.Template
	meter *tmplbudget.Meter
}

// compileTitleTemplate parses text, refuses what cannot be budgeted, counts
// the range bodies and tries the result on worst-case notifications. Its
// errors are sentences about spec.titleTemplate, ready for the Ready
// condition.
func compileTitleTemplate(text string) (*titleTemplate, error) {
	if n := utf8.RuneCountInString(text); n > maxTitleTemplateLength {
		return nil, fmt.Errorf("spec.titleTemplate is %d characters long; at most %d are allowed", n, maxTitleTemplateLength)
	}
	// Functions are bound to a render's state in each renderer; these bind
	// to a state that is never used, so the parser knows their names.
	base, err := texttemplate.New("titleTemplate").Option("missingkey=zero").Funcs(tmplbudget.NewMeter(nil).Funcs()).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("spec.titleTemplate is not a valid Go template: %w", err)
	}
	for _, t := range base.Templates() {
		if t != base {
			return nil, fmt.Errorf("spec.titleTemplate defines the template %q: named templates ({{define}}, {{block}}, {{template}}) are not available in a title; write the text inline", t.Name())
		}
	}
	sites, err := tmplbudget.Instrument(text, base.Tree)
	if err != nil {
		return nil, fmt.Errorf("spec.titleTemplate %w", err)
	}
	t := &titleTemplate{base: base, sites: sites}
	t.pool.New = t.newRenderer
	if err := t.trial(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *titleTemplate) newRenderer() any {
	m := tmplbudget.NewMeter(t.sites)
	// text/template's Clone returns no error.
	tmpl := texttemplate.Must(t.base.Clone())
	tmpl.Funcs(m.Funcs())
	return &renderer{tmpl: tmpl, meter: m}
}

// execute renders the template over the bounded view of msg into at most
// maxRenderBytes of output. Output reaching that limit stops the render
// without an error; the budget stopping it is an error of kind
// tmplbudget.ErrBudget.
func (t *titleTemplate) execute(msg *Message) (string, tmplbudget.Usage, error) {
	rd := t.pool.Get().(*renderer)
	defer t.pool.Put(rd)
	rd.meter.Reset()
	var out limitedBuffer
	err := rd.tmpl.Execute(&out, titleView(msg))
	usage := rd.meter.Usage()
	if errors.Is(err, errRenderFull) {
		err = nil
	}
	return out.String(), usage, tmplbudget.Cause(err)
}

// trial renders the template over worst-case notifications, so a template
// that can never fit its budget is refused when the route is compiled
// instead of falling back at every delivery. Errors other than the budget's
// depend on the data (an index past the end, say) and are left to delivery.
func (t *titleTemplate) trial() error {
	for _, msg := range trialMessages() {
		if _, _, err := t.execute(msg); errors.Is(err, tmplbudget.ErrBudget) {
			return fmt.Errorf("spec.titleTemplate exceeds the render budget on a %s notification of %d alerts with %d labels each: %w",
				msg.Status, len(msg.Alerts), len(msg.Alerts[0].Labels), err)
		}
	}
	return nil
}

// trialMessages are the notifications of the trial render: as many alerts
// and labels as a title template can see, all firing and then all
// resolved, with short values so that output fills up late, and a huge
// count of alerts left out.
var trialMessages = sync.OnceValue(func() []*Message {
	labels := func(prefix string, n int) KV {
		kv := KV{alertnameLabel: "TrialAlert", "severity": "critical", "instance": prefix + "-host:9100", "job": "node",
			"namespace": "default", "pod": prefix + "-pod", "service": "svc", "team": "team", "cluster": "c1"}
		for i := 0; len(kv) < n; i++ {
			kv[fmt.Sprintf("label_%02d", i)] = fmt.Sprintf("v%d", i)
		}
		return kv
	}
	annotations := KV{"summary": "trial summary", "description": "trial description", "runbook_url": "http://runbooks/x"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var msgs []*Message
	for _, status := range []string{StatusFiring, StatusResolved} {
		alerts := make([]Alert, 0, MaxAlertItems)
		for i := range MaxAlertItems {
			alerts = append(alerts, Alert{
				Status:       status,
				Labels:       labels(fmt.Sprintf("a%02d", i), maxViewPairs),
				Annotations:  annotations,
				StartsAt:     start,
				EndsAt:       start.Add(time.Hour),
				GeneratorURL: "http://prometheus/graph",
				Fingerprint:  fmt.Sprintf("%016x", i),
			})
		}
		msgs = append(msgs, &Message{
			Data: &template.Data{
				Receiver:          "klaxon",
				Status:            status,
				Alerts:            alerts,
				GroupLabels:       labels("g", 2),
				CommonLabels:      labels("c", maxViewPairs),
				CommonAnnotations: annotations,
				ExternalURL:       "http://alertmanager:9093",
			},
			Version:         PayloadVersion,
			GroupKey:        `{}:{alertname="TrialAlert"}`,
			TruncatedAlerts: 1 << 40,
		})
	}
	return msgs
})

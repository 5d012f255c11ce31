package alertmapping

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// Defaults of AlertRouteSpec, applied here as well as by the API server so a
// route built in a test or read before defaulting behaves the same.
const (
	DefaultSeverityLabel = "severity"
	DefaultSeverity      = klaxonv1alpha1.SeverityModerate
	DefaultTitleTemplate = `{{ .CommonLabels.alertname }}{{ with .CommonAnnotations.summary }}: {{ . }}{{ end }}`
	DefaultReopenWindow  = 30 * time.Minute
)

// parseMatchers is Alertmanager's default matcher parser: the UTF-8 parser,
// falling back to the classic one, so any matcher Alertmanager's own
// configuration accepts is accepted here. Its warnings are dropped; the
// receiver has no use for them.
var parseMatchers = compat.FallbackMatchersParser(slog.New(slog.DiscardHandler))

// Kinds of invalid routes, for errors.Is on CompileRoute's errors.
var (
	ErrInvalidMatcher       = errors.New("invalid matcher")
	ErrInvalidTitleTemplate = errors.New("invalid title template")
)

// kindError is an error of a kind (errors.Is) that keeps its own message.
type kindError struct {
	kind error
	error
}

func (e kindError) Is(target error) bool { return target == e.kind }
func (e kindError) Unwrap() error        { return e.error }

func invalid(kind, err error) error { return kindError{kind: kind, error: err} }

// Route is an AlertRoute compiled for the receiver: matchers parsed, title
// template parsed, defaults applied. It is safe for concurrent use.
type Route struct {
	matchers        labels.Matchers
	title           *titleTemplate
	severityLabel   string
	severityMap     map[string]klaxonv1alpha1.Severity
	defaultSeverity klaxonv1alpha1.Severity
	escalation      *klaxonv1alpha1.LocalObjectReference
	autoResolve     bool
	reopenWindow    time.Duration
}

// CompileRoute checks an AlertRoute spec and prepares it for use. The errors
// name the field and entry at fault, so the AlertRoute controller can put
// them in the Ready condition as they are.
func CompileRoute(spec klaxonv1alpha1.AlertRouteSpec) (*Route, error) {
	r := &Route{
		severityLabel:   spec.Severity.Label,
		defaultSeverity: spec.Severity.Default,
		autoResolve:     spec.AutoResolve == nil || *spec.AutoResolve,
		reopenWindow:    DefaultReopenWindow,
	}
	for i, m := range spec.Matchers {
		if strings.TrimSpace(m) == "" {
			return nil, invalid(ErrInvalidMatcher, fmt.Errorf("spec.matchers[%d] is empty: write a matcher such as severity=\"critical\" or remove the entry", i))
		}
		ms, err := parseMatchers(m, "alertroute")
		if err != nil {
			return nil, invalid(ErrInvalidMatcher, fmt.Errorf("spec.matchers[%d] %q is not a valid Alertmanager matcher: %w", i, m, err))
		}
		if len(ms) == 0 {
			return nil, invalid(ErrInvalidMatcher, fmt.Errorf("spec.matchers[%d] %q holds no matcher: write one such as severity=\"critical\" or remove the entry", i, m))
		}
		r.matchers = append(r.matchers, ms...)
	}

	if r.severityLabel == "" {
		r.severityLabel = DefaultSeverityLabel
	}
	if r.defaultSeverity == "" {
		r.defaultSeverity = DefaultSeverity
	}
	if !validSeverity(r.defaultSeverity) {
		return nil, fmt.Errorf("spec.severity.default %q is not a severity: want SEV1, SEV2, SEV3 or SEV4", r.defaultSeverity)
	}
	r.severityMap = make(map[string]klaxonv1alpha1.Severity, len(spec.Severity.Map))
	for value, sev := range spec.Severity.Map {
		if !validSeverity(sev) {
			return nil, fmt.Errorf("spec.severity.map[%q] is %q, not a severity: want SEV1, SEV2, SEV3 or SEV4", value, sev)
		}
		r.severityMap[value] = sev
	}

	if spec.EscalationPolicyRef != nil {
		r.escalation = spec.EscalationPolicyRef.DeepCopy()
	}

	if spec.ReopenWindow != nil {
		if spec.ReopenWindow.Duration < 0 {
			return nil, fmt.Errorf("spec.reopenWindow %s is negative: use 0s to never reopen", spec.ReopenWindow.Duration)
		}
		r.reopenWindow = spec.ReopenWindow.Duration
	}

	text := spec.TitleTemplate
	if strings.TrimSpace(text) == "" {
		text = DefaultTitleTemplate
	}
	title, err := compileTitleTemplate(text)
	if err != nil {
		return nil, invalid(ErrInvalidTitleTemplate, err)
	}
	r.title = title
	return r, nil
}

// Matches reports whether the group's common labels satisfy every matcher
// of the route. A route without matchers matches every group.
func (r *Route) Matches(msg *Message) bool {
	if len(r.matchers) == 0 {
		return true
	}
	lset := make(model.LabelSet, len(msg.CommonLabels))
	for k, v := range msg.CommonLabels {
		lset[model.LabelName(k)] = model.LabelValue(v)
	}
	return r.matchers.Matches(lset)
}

// Severity is the incident severity of the group: the mapped value of the
// route's severity label among the common labels, else the route's default.
func (r *Route) Severity(msg *Message) klaxonv1alpha1.Severity {
	if v, ok := msg.CommonLabels[r.severityLabel]; ok {
		if sev, ok := r.severityMap[v]; ok {
			return sev
		}
	}
	return r.defaultSeverity
}

// SeverityLabel is the label whose value maps to the incident's severity
// (spec.severity.label, DefaultSeverityLabel when unset): where intakes
// without labels of their own put their sender's severity or priority.
func (r *Route) SeverityLabel() string { return r.severityLabel }

// AutoResolve reports whether a resolved group resolves its incident.
func (r *Route) AutoResolve() bool { return r.autoResolve }

// ReopenWindow is how long after resolution a firing group reopens its
// incident rather than opening a new one.
func (r *Route) ReopenWindow() time.Duration { return r.reopenWindow }

func validSeverity(s klaxonv1alpha1.Severity) bool {
	switch s {
	case klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.SeverityHigh,
		klaxonv1alpha1.SeverityModerate, klaxonv1alpha1.SeverityLow:
		return true
	}
	return false
}

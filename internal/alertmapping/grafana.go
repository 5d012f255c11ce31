package alertmapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// GrafanaPayloadVersion is the payload version of Grafana-managed alerting's
// webhook contact point.
const GrafanaPayloadVersion = "1"

// Grafana's state of the group. Grafana-managed alerting sends only
// alerting (the group is firing) and ok (resolved); no_data and error are
// states of Grafana's legacy dashboard alerting, accepted as firing.
const (
	grafanaStateAlerting = "alerting"
	grafanaStateOK       = "ok"
	grafanaStateNoData   = "no_data"
	grafanaStateError    = "error"
)

// Grafana-managed alerting reports a rule it could not evaluate as an alert
// of its own, firing with the rule's labels and annotations under one of
// these alertnames; a DatasourceError alert of a failed query carries the
// failure in its Error annotation. See
// https://grafana.com/docs/grafana/latest/alerting/fundamentals/alert-rule-evaluation/nodata-and-error-states/
const (
	grafanaNoDataAlertname = "DatasourceNoData"
	grafanaErrorAlertname  = "DatasourceError"
	// grafanaRuleLabel names the rule a DatasourceNoData or DatasourceError
	// alert stands for.
	grafanaRuleLabel = "rulename"
	// grafanaDatasourceLabel is the UID of the data source that failed or
	// returned nothing.
	grafanaDatasourceLabel = "datasource_uid"
)

// grafanaCondition is what a firing group says of its rule's evaluation.
type grafanaCondition int

const (
	// evaluated: the rule's condition was checked.
	evaluated grafanaCondition = iota
	// noData: the rule's query returned nothing.
	noData
	// evaluationError: the rule's query or data source failed.
	evaluationError
)

// The annotations the Grafana mapping fills.
const (
	summaryAnnotation = "summary"
	// The per-alert fields of Grafana's payload, kept under their own names.
	grafanaDashboardURL = "dashboardURL"
	grafanaPanelURL     = "panelURL"
	grafanaSilenceURL   = "silenceURL"
	grafanaImageURL     = "imageURL"
	grafanaValueString  = "valueString"
	grafanaValues       = "values"
	// grafanaErrorAnnotation holds the failure of a DatasourceError alert.
	grafanaErrorAnnotation = "Error"
)

// Bounds of what the Grafana mapping keeps, in characters.
const (
	// maxSummaryLength bounds the summary taken from Grafana's title; a
	// title template keeps at most MaxTitleLength of it anyway.
	maxSummaryLength = 1024
	// maxValuesLength bounds valueString and the values' JSON.
	maxValuesLength = 1024
	// maxLinkLength: a longer link is left out rather than cut into a
	// broken one, as spec.source.externalURL is.
	maxLinkLength = maxExternalURLLength
	// maxLabelInSentence bounds a label value quoted in the description's
	// opening sentence (the rule's name, the data source's UID).
	maxLabelInSentence = 256
)

// grafanaLinks are the link fields of a Grafana alert, in the order the
// description lists them, with the words it lists them by.
var grafanaLinks = []struct{ annotation, label string }{
	{grafanaDashboardURL, "Dashboard"},
	{grafanaPanelURL, "Panel"},
	{grafanaImageURL, "Image"},
	{grafanaSilenceURL, "Silence"},
}

// grafanaMessage is the body of Grafana's webhook contact point (see
// https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/):
// Alertmanager's webhook message with Grafana's fields beside it. Fields
// Klaxon does not use (orgId, embeddedImage) are left undecoded, so their
// shape cannot get a payload refused.
type grafanaMessage struct {
	Version         string         `json:"version"`
	GroupKey        string         `json:"groupKey"`
	TruncatedAlerts uint64         `json:"truncatedAlerts"`
	Receiver        string         `json:"receiver"`
	Status          string         `json:"status"`
	Alerts          []grafanaAlert `json:"alerts"`
	GroupLabels     KV             `json:"groupLabels"`
	CommonLabels    KV             `json:"commonLabels"`
	CommonAnnots    KV             `json:"commonAnnotations"`
	ExternalURL     string         `json:"externalURL"`
	Title           string         `json:"title"`
	State           string         `json:"state"`
	Message         string         `json:"message"`
}

// grafanaAlert is one alert of Grafana's payload: Alertmanager's alert and
// Grafana's links and values.
type grafanaAlert struct {
	Status       string          `json:"status"`
	Labels       KV              `json:"labels"`
	Annotations  KV              `json:"annotations"`
	StartsAt     time.Time       `json:"startsAt"`
	EndsAt       time.Time       `json:"endsAt"`
	GeneratorURL string          `json:"generatorURL"`
	Fingerprint  string          `json:"fingerprint"`
	Values       json.RawMessage `json:"values"`
	ValueString  string          `json:"valueString"`
	DashboardURL string          `json:"dashboardURL"`
	PanelURL     string          `json:"panelURL"`
	SilenceURL   string          `json:"silenceURL"`
	ImageURL     string          `json:"imageURL"`
}

// ParseGrafana decodes and checks a Grafana webhook body (version "1") and
// maps it onto Alertmanager's message, so one Decide, title template and
// severity mapping serve it:
//
//   - every alert keeps its labels, annotations, times and fingerprint, and
//     gains its non-empty links (dashboardURL, panelURL, silenceURL,
//     imageURL), valueString and values (compact JSON) as annotations of
//     the same names, unless a rule's annotation already has the name;
//   - a link every alert has alike becomes a common annotation too, as
//     Alertmanager's commonAnnotations are those all alerts share;
//   - the common summary is the rules' own, or else Grafana's title; the
//     common description the rules' own, or else Grafana's message,
//     followed by the common links, so the incident's description shows
//     them;
//   - the state must agree with the group's status: ok is resolved,
//     alerting, no_data and error are firing;
//   - a firing group of a rule Grafana could not evaluate (see condition)
//     opens an incident as any firing group does, its summary starting
//     "No data" or "Evaluation error" and its description with a sentence
//     saying so, which names the rule, its data source and, for an error,
//     the Error annotation.
//
// Every value the mapping adds is bounded; errors say what to fix.
func ParseGrafana(body []byte) (*Message, error) {
	var g grafanaMessage
	if err := json.Unmarshal(body, &g); err != nil {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			return nil, fmt.Errorf("the request body is not valid JSON (at byte %d): %w", syntaxErr.Offset, err)
		}
		return nil, fmt.Errorf("the request body is not a Grafana webhook payload: %w", err)
	}
	if g.Version != GrafanaPayloadVersion {
		return nil, versionError(g.Version)
	}
	msg := g.message()
	if err := validateGroup(msg); err != nil {
		return nil, err
	}
	if err := checkGrafanaState(g.State, msg.Status); err != nil {
		return nil, err
	}
	g.annotate(msg)
	return msg, nil
}

// message is the payload in Alertmanager's shape, before annotate adds
// Grafana's fields.
func (g *grafanaMessage) message() *Message {
	msg := &Message{
		Version:         g.Version,
		GroupKey:        g.GroupKey,
		TruncatedAlerts: g.TruncatedAlerts,
		Data: &template.Data{
			Receiver:          g.Receiver,
			Status:            g.Status,
			Alerts:            make(template.Alerts, 0, len(g.Alerts)),
			GroupLabels:       orEmpty(g.GroupLabels),
			CommonLabels:      orEmpty(g.CommonLabels),
			CommonAnnotations: orEmpty(g.CommonAnnots),
			ExternalURL:       g.ExternalURL,
		},
	}
	for _, a := range g.Alerts {
		msg.Alerts = append(msg.Alerts, Alert{
			Status:       a.Status,
			Labels:       orEmpty(a.Labels),
			Annotations:  orEmpty(a.Annotations),
			StartsAt:     a.StartsAt,
			EndsAt:       a.EndsAt,
			GeneratorURL: a.GeneratorURL,
			Fingerprint:  a.Fingerprint,
		})
	}
	return msg
}

// checkGrafanaState refuses a state Klaxon does not know, and a state
// contradicting the group's status: ok is resolved, the others firing. No
// state at all is accepted (Grafana deprecates the field): the status says
// it all.
func checkGrafanaState(state, status string) error {
	switch state {
	case "":
		return nil
	case grafanaStateAlerting, grafanaStateNoData, grafanaStateError:
		if status == StatusFiring {
			return nil
		}
		return fmt.Errorf("the payload's state is %q but its status is %q: a group in state %s is firing", state, status, state)
	case grafanaStateOK:
		if status == StatusResolved {
			return nil
		}
		return fmt.Errorf("the payload's state is %q but its status is %q: a group in state ok is resolved", state, status)
	}
	return fmt.Errorf("the payload has state %q: want %q, %q, %q or %q", clip(state, 32),
		grafanaStateAlerting, grafanaStateOK, grafanaStateNoData, grafanaStateError)
}

// annotate adds Grafana's fields to msg as annotations (see ParseGrafana).
func (g *grafanaMessage) annotate(msg *Message) {
	for i, a := range g.Alerts {
		ann := msg.Alerts[i].Annotations
		for _, l := range grafanaLinks {
			if link := a.link(l.annotation); link != "" {
				setAbsent(ann, l.annotation, link)
			}
		}
		if a.ValueString != "" {
			setAbsent(ann, grafanaValueString, bounded.Runes(a.ValueString, maxValuesLength))
		}
		if values := compactValues(a.Values); values != "" {
			setAbsent(ann, grafanaValues, bounded.Runes(values, maxValuesLength))
		}
	}

	common := msg.CommonAnnotations
	var links []string
	for _, l := range grafanaLinks {
		link, ok := sharedLink(g.Alerts, l.annotation)
		if !ok {
			continue
		}
		setAbsent(common, l.annotation, link)
		links = append(links, l.label+": "+link)
	}

	if _, ok := common[summaryAnnotation]; !ok {
		if title := OneLine(g.Title); title != "" {
			common[summaryAnnotation] = bounded.Runes(title, maxSummaryLength)
		}
	}
	condition, by := g.condition()
	if prefix := condition.summaryPrefix(); prefix != "" {
		summary := prefix
		if s := common[summaryAnnotation]; s != "" {
			summary += ": " + s
		}
		common[summaryAnnotation] = bounded.Runes(summary, maxSummaryLength)
	}

	text, ok := common[descriptionAnnotation]
	if !ok {
		text = g.Message
	}
	if description := grafanaDescription(g.conditionSentence(condition, by), text, links); description != "" {
		common[descriptionAnnotation] = description
	}
}

// link is the alert's link of that annotation's name, "" when it has none
// or it is too long to keep whole.
func (a grafanaAlert) link(annotation string) string {
	var link string
	switch annotation {
	case grafanaDashboardURL:
		link = a.DashboardURL
	case grafanaPanelURL:
		link = a.PanelURL
	case grafanaSilenceURL:
		link = a.SilenceURL
	case grafanaImageURL:
		link = a.ImageURL
	}
	link = strings.TrimSpace(link)
	if utf8.RuneCountInString(link) > maxLinkLength || strings.ContainsAny(link, "\n\r") {
		return ""
	}
	return link
}

// sharedLink is the link every alert of the group has alike; false when
// there are no alerts, or one has none or another.
func sharedLink(alerts []grafanaAlert, annotation string) (string, bool) {
	if len(alerts) == 0 {
		return "", false
	}
	first := alerts[0].link(annotation)
	if first == "" {
		return "", false
	}
	for _, a := range alerts[1:] {
		if a.link(annotation) != first {
			return "", false
		}
	}
	return first, true
}

// grafanaDescription is the incident's description: the state's sentence,
// the text (cut so the links fit), and the links, a paragraph each; within
// maxDescriptionLength.
func grafanaDescription(sentence, text string, links []string) string {
	linkPart := strings.Join(links, "\n")
	room := maxDescriptionLength - utf8.RuneCountInString(sentence) - utf8.RuneCountInString(linkPart) - 4 // the paragraph breaks
	var parts []string
	for _, p := range []string{sentence, bounded.Runes(strings.TrimSpace(text), max(room, 0)), linkPart} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return bounded.Runes(strings.Join(parts, "\n\n"), maxDescriptionLength)
}

// condition is what the group says of its rule's evaluation, and by what
// it says so: the legacy state no_data or error; else the alertname
// DatasourceNoData or DatasourceError of the group (its common label, or
// the one all its alerts share), the way Grafana-managed alerting reports
// it. A resolved group, or one mixing these alerts with others, is
// evaluated.
func (g *grafanaMessage) condition() (grafanaCondition, string) {
	if g.Status != StatusFiring {
		return evaluated, ""
	}
	switch g.State {
	case grafanaStateNoData:
		return noData, "state " + grafanaStateNoData
	case grafanaStateError:
		return evaluationError, "state " + grafanaStateError
	}
	switch g.alertname() {
	case grafanaNoDataAlertname:
		return noData, grafanaNoDataAlertname
	case grafanaErrorAlertname:
		return evaluationError, grafanaErrorAlertname
	}
	return evaluated, ""
}

// alertname is the group's common alertname label, or else the one all
// its alerts share; "" when they differ.
func (g *grafanaMessage) alertname() string {
	if name := g.CommonLabels[alertnameLabel]; name != "" || len(g.Alerts) == 0 {
		return name
	}
	name := g.Alerts[0].Labels[alertnameLabel]
	for _, a := range g.Alerts[1:] {
		if a.Labels[alertnameLabel] != name {
			return ""
		}
	}
	return name
}

// summaryPrefix marks the summary of a rule that could not be evaluated,
// so the incident's title says so.
func (c grafanaCondition) summaryPrefix() string {
	switch c {
	case noData:
		return "No data"
	case evaluationError:
		return "Evaluation error"
	}
	return ""
}

// conditionSentence opens the description of a rule that could not be
// evaluated: which rule (the common rulename label), what told so (by), the
// data source (the common datasource_uid label) and, for an error, the
// Error annotation. "" for a rule that was evaluated.
func (g *grafanaMessage) conditionSentence(c grafanaCondition, by string) string {
	if c == evaluated {
		return ""
	}
	rule := "this alert rule"
	if name := OneLine(g.CommonLabels[grafanaRuleLabel]); name != "" {
		rule = fmt.Sprintf("the alert rule %q", bounded.Runes(name, maxLabelInSentence))
	}
	sentence := "Grafana could not evaluate " + rule + " (" + by + "): its query or data source failed."
	if c == noData {
		sentence = "Grafana reports no data for " + rule + " (" + by + "): its query returned nothing, so its condition could not be checked."
	}
	if uid := OneLine(g.CommonLabels[grafanaDatasourceLabel]); uid != "" {
		sentence += " Data source: " + bounded.Runes(uid, maxLabelInSentence) + "."
	}
	if c != evaluationError {
		return sentence
	}
	if cause, ofAll := g.errorCause(); cause != "" {
		label := grafanaErrorAnnotation
		if !ofAll {
			label += " of the first failing alert"
		}
		sentence += " " + label + ": " + bounded.Runes(cause, maxValuesLength)
	}
	return sentence
}

// errorCause is the Error annotation of a DatasourceError group on one
// line: the common one (true), or else the first firing alert's (false),
// as alerts of several queries fail each their own way.
func (g *grafanaMessage) errorCause() (string, bool) {
	if cause := OneLine(g.CommonAnnots[grafanaErrorAnnotation]); cause != "" {
		return cause, true
	}
	for _, a := range g.Alerts {
		if a.Status != StatusFiring {
			continue
		}
		if cause := OneLine(a.Annotations[grafanaErrorAnnotation]); cause != "" {
			return cause, false
		}
	}
	return "", false
}

// compactValues is the values' JSON without insignificant space; "" for
// none, null or an empty object.
func compactValues(raw json.RawMessage) string {
	var b bytes.Buffer
	if len(raw) == 0 || json.Compact(&b, raw) != nil {
		return ""
	}
	switch s := b.String(); s {
	case "null", "{}", "[]", `""`:
		return ""
	default:
		return s
	}
}

// setAbsent sets kv[name] unless kv has it: what the rules say stays.
func setAbsent(kv KV, name, value string) {
	if _, ok := kv[name]; !ok {
		kv[name] = value
	}
}

func orEmpty(kv KV) KV {
	if kv == nil {
		return KV{}
	}
	return kv
}

package opsgenie

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Opsgenie's bounds of the fields Klaxon keeps, in characters
// (https://docs.opsgenie.com/docs/alert-api). Longer values are cut, not
// refused, so a page is never lost to a long text; only the alias, which
// identifies the alert, is refused when too long (MaxAliasLength).
const (
	maxMessageLength     = 130
	maxDescriptionLength = 15000
	maxEntityLength      = 512
	maxSourceLength      = 100
	maxUserLength        = 100
	maxNoteLength        = 25000
	maxTags              = 20
	maxTagLength         = 50
	// maxDetailsBytes bounds the details annotation (JSON); Opsgenie keeps
	// 8000 characters of details.
	maxDetailsBytes = 8000
)

// Bounds of what becomes a label: the incident keeps 64 labels per alert
// (names cut to 128 characters, values to 256), so details give at most
// maxDetailLabels, leaving room for the labels the fields give.
const (
	maxDetailLabels     = 48
	maxLabelNameLength  = 128
	maxLabelValueLength = 256
)

// DefaultPriority is the priority of an alert created without one, as in
// Opsgenie.
const DefaultPriority = "P3"

var priorities = []string{"P1", "P2", "P3", "P4", "P5"}

// Label and annotation names the fields are kept under.
const (
	labelAlertname          = "alertname"
	labelEntity             = "entity"
	labelSource             = "source"
	labelTags               = "tags"
	annotationSummary       = "summary"
	annotationDescription   = "description"
	annotationDetails       = "details"
	annotationAlias         = "alias"
	annotationNote          = "note"
	annotationUser          = "user"
	receiverName            = "opsgenie"
	messageUpdateNotePrefix = "Message changed to: "
	descriptionNotePrefix   = "Description changed to: "
)

// createRequest is the body of Create Alert. Responders, visibleTo and
// actions are not read: Klaxon pages through the route's escalation
// policy.
type createRequest struct {
	Message     *string                    `json:"message"`
	Alias       string                     `json:"alias"`
	Description string                     `json:"description"`
	Tags        []string                   `json:"tags"`
	Details     map[string]json.RawMessage `json:"details"`
	Entity      string                     `json:"entity"`
	Source      string                     `json:"source"`
	Priority    string                     `json:"priority"`
	User        string                     `json:"user"`
	Note        string                     `json:"note"`
}

// actionRequest is the body of the actions on one alert: close,
// acknowledge, notes (note required), message and description updates.
type actionRequest struct {
	User        string  `json:"user"`
	Source      string  `json:"source"`
	Note        *string `json:"note"`
	Message     *string `json:"message"`
	Description *string `json:"description"`
}

// Parse reads the body of a request for t and returns the notifications
// it carries, in order: a create is one firing alert; a close resolves the
// alert and an acknowledge acknowledges it, each followed by a note when
// the body has one; notes and updates of the message or description are
// notes on the alert's open incident. None means the request is accepted
// and asks nothing (an update to an empty description).
//
// severityLabel is the route's spec.severity.label: the priority is put
// under it, so the route's severity map reads P1..P5 as it reads
// Alertmanager's severity values.
func Parse(t Target, body []byte, severityLabel string) ([]alertmapping.Notification, *Error) {
	if t.Action == ActionCreate {
		var req createRequest
		if e := decode(body, &req, true); e != nil {
			return nil, e
		}
		n, e := req.notification(severityLabel)
		if e != nil {
			return nil, e
		}
		return []alertmapping.Notification{n}, nil
	}
	var req actionRequest
	if e := decode(body, &req, false); e != nil {
		return nil, e
	}
	return req.notifications(t)
}

// decode reads a JSON object into v. A body that is not JSON is a 400, as
// Opsgenie answers syntax errors; JSON of the wrong shape is a 422 naming
// the field. An empty body is an empty object unless required.
func decode(body []byte, v any, required bool) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return &Error{Status: http.StatusBadRequest, Message: "the request body is empty: send the alert as a JSON object with at least a message"}
		}
		return nil
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return unprocessable(bounded.Runes(field, 64), fmt.Sprintf("should be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value))
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("the request body is not valid JSON (at byte %d): %v", syntaxErr.Offset, err)}
	}
	return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("the request body is not valid JSON: %v", err)}
}

// jsonKind names a Go kind as the JSON value it decodes.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "a " + kind
}

func (req createRequest) notification(severityLabel string) (alertmapping.Notification, *Error) {
	if req.Message == nil || strings.TrimSpace(*req.Message) == "" {
		return alertmapping.Notification{}, unprocessable("message", "Message can not be empty.")
	}
	priority := req.Priority
	switch {
	case priority == "":
		priority = DefaultPriority
	case !slices.Contains(priorities, priority):
		return alertmapping.Notification{}, unprocessable("priority", "should be one of [ P1, P2, P3, P4, P5 ]")
	}
	if n := utf8.RuneCountInString(req.Alias); n > MaxAliasLength {
		return alertmapping.Notification{}, unprocessable("alias", fmt.Sprintf("should be at most %d characters; it has %d", MaxAliasLength, n))
	}
	message := bounded.Runes(strings.TrimSpace(*req.Message), maxMessageLength)
	alias := req.Alias
	if alias == "" {
		// Opsgenie gives an alert without alias its own id as alias and
		// deduplicates nothing; Klaxon has no ids, and takes the message,
		// so repeats of one message are one alert and a sender can close
		// it by its message.
		alias = message
	}
	if severityLabel == "" {
		severityLabel = alertmapping.DefaultSeverityLabel
	}

	labels := template.KV{}
	details, detailsJSON := req.details()
	for _, name := range sortedKeys(details)[:min(len(details), maxDetailLabels)] {
		setIf(labels, bounded.Runes(name, maxLabelNameLength), bounded.Runes(details[name], maxLabelValueLength))
	}
	setIf(labels, labelEntity, bounded.Runes(req.Entity, min(maxEntityLength, maxLabelValueLength)))
	setIf(labels, labelSource, bounded.Runes(req.Source, maxSourceLength))
	setIf(labels, labelTags, bounded.Runes(joinTags(req.Tags), maxLabelValueLength))
	labels[severityLabel] = priority

	annotations := template.KV{annotationAlias: alias}
	// The title reads alertname and summary: the message is the alertname
	// unless the details name one (Alertmanager's notifier sends the
	// group's labels as details), and then the summary.
	if name := details[labelAlertname]; strings.TrimSpace(name) != "" {
		labels[labelAlertname] = bounded.Runes(name, maxLabelValueLength)
		annotations[annotationSummary] = message
	} else {
		labels[labelAlertname] = message
	}
	setIf(annotations, annotationDescription, bounded.Runes(req.Description, maxDescriptionLength))
	setIf(annotations, annotationDetails, detailsJSON)
	setIf(annotations, annotationNote, bounded.Runes(req.Note, maxNoteLength))
	setIf(annotations, annotationUser, bounded.Runes(req.User, maxUserLength))

	msg := newMessage(alias, alertmapping.StatusFiring, labels, annotations)
	return alertmapping.Notification{Message: msg, Intake: alertmapping.IntakeOpsgenie, Kind: alertmapping.KindAlerts, Timeless: true}, nil
}

// details returns the create's details as strings (a value that is not a
// string is kept as its JSON text; null is dropped) and as bounded JSON.
func (req createRequest) details() (map[string]string, string) {
	if len(req.Details) == 0 {
		return nil, ""
	}
	out := make(map[string]string, len(req.Details))
	for k, raw := range req.Details {
		if strings.TrimSpace(k) == "" {
			continue
		}
		var s string
		switch {
		case bytes.Equal(bytes.TrimSpace(raw), []byte("null")):
			continue
		case json.Unmarshal(raw, &s) == nil:
		default:
			var buf bytes.Buffer
			if json.Compact(&buf, raw) != nil {
				continue
			}
			s = buf.String()
		}
		out[k] = s
	}
	b, err := json.Marshal(out)
	if err != nil {
		return out, ""
	}
	return out, bounded.Bytes(string(b), maxDetailsBytes)
}

func (req actionRequest) notifications(t Target) ([]alertmapping.Notification, *Error) {
	key := alertmapping.GroupKeyFor(alertmapping.IntakeOpsgenie, t.Alias)
	note := func(text string) alertmapping.Notification {
		return alertmapping.Notification{Message: &alertmapping.Message{Data: &template.Data{}, Version: alertmapping.PayloadVersion, GroupKey: key},
			Intake: alertmapping.IntakeOpsgenie, Kind: alertmapping.KindNote, Note: text}
	}
	var out []alertmapping.Notification
	switch t.Action {
	case ActionClose:
		msg := newMessage(t.Alias, alertmapping.StatusResolved, template.KV{}, template.KV{annotationAlias: t.Alias})
		out = append(out, alertmapping.Notification{Message: msg, Intake: alertmapping.IntakeOpsgenie, Kind: alertmapping.KindAlerts, Timeless: true})
	case ActionAcknowledge:
		out = append(out, alertmapping.Notification{Message: &alertmapping.Message{Data: &template.Data{}, Version: alertmapping.PayloadVersion, GroupKey: key},
			Intake: alertmapping.IntakeOpsgenie, Kind: alertmapping.KindAcknowledge})
	case ActionAddNote:
		if req.Note == nil || strings.TrimSpace(*req.Note) == "" {
			return nil, unprocessable("note", "Note can not be empty.")
		}
	case ActionUpdateMessage:
		if req.Message == nil || strings.TrimSpace(*req.Message) == "" {
			return nil, unprocessable("message", "Message can not be empty.")
		}
		return []alertmapping.Notification{note(messageUpdateNotePrefix + bounded.Runes(strings.TrimSpace(*req.Message), maxMessageLength))}, nil
	case ActionUpdateDescription:
		// Alertmanager's notifier sends an empty description when its
		// template gives none; there is nothing to note.
		if req.Description == nil || strings.TrimSpace(*req.Description) == "" {
			return nil, nil
		}
		return []alertmapping.Notification{note(descriptionNotePrefix + bounded.Runes(strings.TrimSpace(*req.Description), maxDescriptionLength))}, nil
	}
	if req.Note != nil && strings.TrimSpace(*req.Note) != "" {
		out = append(out, note(req.signed(bounded.Runes(strings.TrimSpace(*req.Note), maxNoteLength))))
	}
	return out, nil
}

// signed prefixes a note with the user who made the request, when the
// body names one.
func (req actionRequest) signed(text string) string {
	if user := strings.TrimSpace(bounded.Runes(req.User, maxUserLength)); user != "" {
		return user + ": " + text
	}
	return text
}

// newMessage is the group of one alert, identified by alias, in
// Alertmanager's shape: the common labels and annotations are the alert's.
// Its times are left to the receiver (Notification.Timeless).
func newMessage(alias, status string, labels, annotations template.KV) *alertmapping.Message {
	groupLabels := template.KV{}
	if name, ok := labels[labelAlertname]; ok {
		groupLabels[labelAlertname] = name
	}
	return &alertmapping.Message{
		Version:  alertmapping.PayloadVersion,
		GroupKey: alertmapping.GroupKeyFor(alertmapping.IntakeOpsgenie, alias),
		Data: &template.Data{
			Receiver: receiverName,
			Status:   status,
			Alerts: template.Alerts{{
				Status:      status,
				Labels:      labels,
				Annotations: annotations,
				Fingerprint: alertmapping.FingerprintOf(alias),
			}},
			GroupLabels:       groupLabels,
			CommonLabels:      labels,
			CommonAnnotations: annotations,
		},
	}
}

func setIf(kv template.KV, name, value string) {
	if strings.TrimSpace(value) != "" {
		kv[name] = value
	}
}

// joinTags is the tags as one label value: at most maxTags tags, each cut
// to maxTagLength, joined by commas.
func joinTags(tags []string) string {
	var kept []string
	for _, tag := range tags {
		if tag = strings.TrimSpace(tag); tag != "" && len(kept) < maxTags {
			kept = append(kept, bounded.Runes(tag, maxTagLength))
		}
	}
	return strings.Join(kept, ",")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

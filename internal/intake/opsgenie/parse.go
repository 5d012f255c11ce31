package opsgenie

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/intake/jsonbody"
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
// severityLabel is the route's severity label (Route.SeverityLabel): the
// priority is put under it, so the route's severity map reads P1..P5 as it reads
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
	err := jsonbody.Decode(body, v)
	switch {
	case err == nil:
		return nil
	case err.Kind == jsonbody.Empty && required:
		return &Error{Status: http.StatusBadRequest, Message: "the request body is empty: send the alert as a JSON object with at least a message"}
	case err.Kind == jsonbody.Empty:
		return nil
	case err.Kind == jsonbody.WrongType:
		field := err.Field
		if field == "" {
			field = "body"
		}
		return unprocessable(bounded.Runes(field, 64), fmt.Sprintf("should be %s, not %s", err.Want, err.Got))
	case err.Kind == jsonbody.Syntax:
		return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("the request body is not valid JSON (at byte %d): %v", err.Offset, err.Err)}
	}
	return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("the request body is not valid JSON: %v", err.Err)}
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

	return alertmapping.SingleAlert(alertmapping.IntakeOpsgenie, alias, alertmapping.StatusFiring, labels, annotations), nil
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
	note := func(text string) alertmapping.Notification {
		return alertmapping.NoteOf(alertmapping.IntakeOpsgenie, t.Alias, text)
	}
	var out []alertmapping.Notification
	switch t.Action {
	case ActionClose:
		// A close names only the alias; the receiver gives it the labels
		// the incident stored (alertmapping.RestoreLabels).
		out = append(out, alertmapping.SingleAlert(alertmapping.IntakeOpsgenie, t.Alias, alertmapping.StatusResolved, nil, template.KV{annotationAlias: t.Alias}))
	case ActionAcknowledge:
		out = append(out, alertmapping.AcknowledgeOf(alertmapping.IntakeOpsgenie, t.Alias))
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

package pagerduty

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/intake/jsonbody"
)

// Limits PagerDuty documents for the Events API v2, enforced as it does.
const (
	// MaxEventBytes is the size limit of an event ("Events API payloads
	// are limited to 512 KB").
	MaxEventBytes = 512 << 10
	// MaxDedupKeyLength is the limit of dedup_key, in characters.
	MaxDedupKeyLength = 255
	// MaxSummaryLength is the limit of payload.summary, in characters.
	MaxSummaryLength = 1024
)

// Action is an alert event's event_action.
type Action string

// The event actions PagerDuty documents.
const (
	ActionTrigger     Action = "trigger"
	ActionAcknowledge Action = "acknowledge"
	ActionResolve     Action = "resolve"
)

// The severities PagerDuty documents for payload.severity.
var severities = []string{"critical", "error", "warning", "info"}

// Link is one entry of an event's links.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Image is one entry of an event's images.
type Image struct {
	Src  string `json:"src"`
	Href string `json:"href,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

// Payload is an alert event's payload (PagerDuty's Common Event Format).
type Payload struct {
	Summary   string `json:"summary"`
	Source    string `json:"source"`
	Severity  string `json:"severity"`
	Timestamp string `json:"timestamp"`
	Component string `json:"component"`
	Group     string `json:"group"`
	Class     string `json:"class"`
	// CustomDetails is the payload's custom_details as sent, any JSON
	// value (PagerDuty documents an object; senders also send strings).
	CustomDetails json.RawMessage `json:"custom_details"`
}

// Event is an alert event, checked.
type Event struct {
	RoutingKey string  `json:"routing_key"`
	Action     Action  `json:"event_action"`
	DedupKey   string  `json:"dedup_key"`
	Payload    Payload `json:"payload"`
	Client     string  `json:"client"`
	ClientURL  string  `json:"client_url"`
	Links      []Link  `json:"links"`
	Images     []Image `json:"images"`
	// GeneratedKey says DedupKey was generated: the trigger came without
	// one, and the answer tells the sender which it got.
	GeneratedKey bool `json:"-"`
}

// NewDedupKey generates the dedup_key of a trigger that came without one:
// 32 random hex digits, unique as PagerDuty's generated keys are, so every
// such trigger opens a new incident.
func NewDedupKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// ParseEvent decodes and checks the body of POST /v2/enqueue as PagerDuty
// does: the routing_key and a known event_action always; a dedup_key for
// acknowledge and resolve (a trigger without one gets newKey's); summary,
// source and severity for a trigger. Unknown fields are ignored. The
// payload of an acknowledge or resolve is not checked, since PagerDuty
// does not use it. An error is the 400 answer, listing every problem found.
func ParseEvent(body []byte, newKey func() string) (*Event, *EventError) {
	if err := checkSize(body); err != nil {
		return nil, err
	}
	e := &Event{}
	if err := decode(body, e); err != nil {
		return nil, err
	}
	// Surrounding whitespace is no part of a key (a key pasted with its
	// newline), as for the Bearer and GenieKey credentials.
	e.RoutingKey = strings.TrimSpace(e.RoutingKey)
	var errs []string
	if blank(e.RoutingKey) {
		errs = append(errs, "'routing_key' is missing or blank")
	}
	switch e.Action {
	case ActionTrigger, ActionAcknowledge, ActionResolve:
	case "":
		errs = append(errs, "'event_action' is missing or blank")
	default:
		errs = append(errs, fmt.Sprintf("'event_action' is invalid (must be one of: trigger, acknowledge, resolve; got %q)", clip(string(e.Action))))
	}
	switch {
	case utf8.RuneCountInString(e.DedupKey) > MaxDedupKeyLength:
		errs = append(errs, fmt.Sprintf("Length of 'dedup_key' is too long (maximum is %d characters)", MaxDedupKeyLength))
	case blank(e.DedupKey) && (e.Action == ActionAcknowledge || e.Action == ActionResolve):
		errs = append(errs, "'dedup_key' is missing or blank (acknowledge and resolve events name the alert they apply to)")
	}
	if e.Action == ActionTrigger {
		errs = append(errs, checkPayload(&e.Payload)...)
	} else {
		// Not checked, only kept: a known severity is mapped, another is
		// left out.
		if sev, ok := severity(e.Payload.Severity); ok {
			e.Payload.Severity = sev
		} else {
			e.Payload.Severity = ""
		}
	}
	if len(errs) > 0 {
		return nil, invalid(errs...)
	}
	if blank(e.DedupKey) {
		e.DedupKey, e.GeneratedKey = newKey(), true
	}
	return e, nil
}

func checkPayload(p *Payload) []string {
	var errs []string
	switch {
	case blank(p.Summary):
		errs = append(errs, "'payload.summary' is missing or blank")
	case utf8.RuneCountInString(p.Summary) > MaxSummaryLength:
		errs = append(errs, fmt.Sprintf("Length of 'payload.summary' is too long (maximum is %d characters)", MaxSummaryLength))
	}
	if blank(p.Source) {
		errs = append(errs, "'payload.source' is missing or blank")
	}
	sev, ok := severity(p.Severity)
	switch {
	case blank(p.Severity):
		errs = append(errs, "'payload.severity' is missing or blank")
	case !ok:
		errs = append(errs, fmt.Sprintf("'payload.severity' is invalid (must be one of: %s; got %q)", strings.Join(severities, ", "), clip(p.Severity)))
	default:
		p.Severity = sev
	}
	return errs
}

// severity is s as one of PagerDuty's severities, in any case.
func severity(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, v := range severities {
		if s == v {
			return v, true
		}
	}
	return "", false
}

func checkSize(body []byte) *EventError {
	if len(body) > MaxEventBytes {
		return invalid(fmt.Sprintf("Event is %d bytes; the limit is %d bytes (512 KB): send smaller custom_details", len(body), MaxEventBytes))
	}
	return nil
}

// decode reads body into v, answering as PagerDuty does for a body that
// is not a JSON object of the right shape.
func decode(body []byte, v any) *EventError {
	err := jsonbody.Decode(body, v)
	if err == nil {
		return nil
	}
	switch {
	case err.Kind == jsonbody.Empty:
		return unrecognized("JSON parse error: the request body is empty")
	case err.Kind == jsonbody.Syntax:
		return unrecognized(fmt.Sprintf("JSON parse error at byte %d: %s", err.Offset, err.Err.Error()))
	case err.Kind == jsonbody.WrongType && err.Field == "":
		return unrecognized(fmt.Sprintf("the event is a JSON %s, not an object", err.Got))
	case err.Kind == jsonbody.WrongType:
		return invalid(fmt.Sprintf("'%s' is invalid (must be %s, got a JSON %s)", clip(err.Field), err.Want, err.Got))
	}
	return unrecognized(fmt.Sprintf("JSON parse error: %s", clip(err.Error())))
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// clip shortens a sender's value for quoting in an error.
func clip(s string) string { return bounded.Runes(s, 64) }

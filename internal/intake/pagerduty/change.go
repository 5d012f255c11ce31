package pagerduty

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

// ChangePayload is a change event's payload.
type ChangePayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Timestamp     string          `json:"timestamp"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

// ChangeEvent is a change event (POST /v2/change/enqueue), checked.
type ChangeEvent struct {
	RoutingKey string        `json:"routing_key"`
	Payload    ChangePayload `json:"payload"`
	Links      []Link        `json:"links"`
	Images     []Image       `json:"images"`
}

// ParseChangeEvent decodes and checks the body of POST /v2/change/enqueue
// as PagerDuty does: a routing_key and a payload.summary of at most
// MaxSummaryLength characters. An error is the 400 answer.
func ParseChangeEvent(body []byte) (*ChangeEvent, *EventError) {
	if err := checkSize(body); err != nil {
		return nil, err
	}
	c := &ChangeEvent{}
	if err := decode(body, c); err != nil {
		return nil, err
	}
	c.RoutingKey = strings.TrimSpace(c.RoutingKey)
	var errs []string
	if blank(c.RoutingKey) {
		errs = append(errs, "'routing_key' is missing or blank")
	}
	switch {
	case blank(c.Payload.Summary):
		errs = append(errs, "'payload.summary' is missing or blank")
	case utf8.RuneCountInString(c.Payload.Summary) > MaxSummaryLength:
		errs = append(errs, fmt.Sprintf("Length of 'payload.summary' is too long (maximum is %d characters)", MaxSummaryLength))
	}
	if len(errs) > 0 {
		return nil, invalid(errs...)
	}
	return c, nil
}

// Notification is the note a change event leaves on the open incidents of
// its route: the summary, then its source, time, details and links, one
// line each. The timeline bounds the text (alertmapping.NoteEntry).
func (c *ChangeEvent) Notification() alertmapping.Notification {
	var b strings.Builder
	b.WriteString("Change: ")
	b.WriteString(c.Payload.Summary)
	line := func(name, value string) {
		if !blank(value) {
			fmt.Fprintf(&b, "\n%s: %s", name, value)
		}
	}
	line("Source", c.Payload.Source)
	line("At", c.Payload.Timestamp)
	line("Details", compactJSON(c.Payload.CustomDetails, maxDetailsBytes))
	for _, l := range usableLinks(c.Links) {
		line("Link", linkText(l))
	}
	return alertmapping.Notification{
		Message: &alertmapping.Message{Version: alertmapping.PayloadVersion, Data: &template.Data{}},
		Intake:  alertmapping.IntakePagerDuty,
		Kind:    alertmapping.KindNote,
		Note:    b.String(),
	}
}

package pagerduty

import (
	"encoding/json"
	"net/http"
)

// Response is the body of every answer, in the shape PagerDuty documents
// for the Events API v2 (components.responses Success and Error of
// https://github.com/PagerDuty/api-schema reference/events-v2/openapiv3.json):
// status, message, the event's dedup_key on success, and the specific
// errors of a refused event.
type Response struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// The statuses and messages PagerDuty answers with.
const (
	statusSuccess       = "success"
	messageProcessed    = "Event processed"
	statusInvalid       = "invalid event"
	messageInvalid      = "Event object is invalid"
	statusUnrecognized  = "Unrecognized object"
	messageUnrecognized = "Event object format is unrecognized"
)

// Accepted is the 202 answer to an alert event: the dedup_key names the
// alert for later acknowledge and resolve events, and is the generated one
// when a trigger came without.
func Accepted(dedupKey string) Response {
	return Response{Status: statusSuccess, Message: messageProcessed, DedupKey: dedupKey}
}

// ChangeAccepted is the 202 answer to a change event.
func ChangeAccepted() Response {
	return Response{Status: statusSuccess, Message: messageProcessed}
}

// Invalid is the 400 answer to an event that is not valid, listing what is
// wrong with it.
func Invalid(errs ...string) Response {
	return Response{Status: statusInvalid, Message: messageInvalid, Errors: errs}
}

// Failure is the answer to a request refused for another reason than the
// event's content: status is the HTTP reason phrase of code (429 Too Many
// Requests, 503 Service Unavailable ...) and message says what to do.
func Failure(code int, message string) Response {
	return Response{Status: http.StatusText(code), Message: message}
}

// Body is the JSON of r, one line.
func (r Response) Body() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		// A Response holds only strings, which always marshal.
		panic(err)
	}
	return append(b, '\n')
}

// EventError is why an event was refused: its answer, always 400 since
// PagerDuty answers every event it cannot take with 400.
type EventError struct {
	Response Response
}

func (e *EventError) Error() string {
	msg := e.Response.Message
	for i, s := range e.Response.Errors {
		if i == 0 {
			msg += ": "
		} else {
			msg += "; "
		}
		msg += s
	}
	return msg
}

func invalid(errs ...string) *EventError {
	return &EventError{Response: Invalid(errs...)}
}

func unrecognized(detail string) *EventError {
	return &EventError{Response: Response{Status: statusUnrecognized, Message: messageUnrecognized, Errors: []string{detail}}}
}

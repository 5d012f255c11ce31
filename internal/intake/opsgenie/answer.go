package opsgenie

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// acceptedResult is the result Opsgenie gives every accepted alert request
// (https://docs.opsgenie.com/docs/alert-api: requests are processed
// asynchronously and answered 202).
const acceptedResult = "Request will be processed"

// unprocessableMessage is the message of Opsgenie's 422 answers; the
// errors map says what is wrong with which field.
const unprocessableMessage = "Request body is not processable. Please check the errors."

// Error is a request Klaxon refuses, answered in Opsgenie's error shape
// (https://docs.opsgenie.com/docs/response):
// {"message":...,"errors":{field: problem},"took":...,"requestId":...}.
type Error struct {
	// Status is the HTTP status: 400 for a body that is not JSON, 401 for
	// a missing or wrong key, 404 for an unknown path or route, 405 for a
	// wrong method, 422 for a field Klaxon cannot take, 429 and 5xx for
	// what the sender should retry.
	Status int
	// Message says what was wrong, as a sentence.
	Message string
	// Errors names the fields at fault of a 422, as Opsgenie does.
	Errors map[string]string
	// Allow lists the methods of the path, for a 405.
	Allow string
}

func (e *Error) Error() string { return e.Message }

// Refusal is the answer to a request refused with code and message, for
// the answers the receiver decides (authentication, routes, the API
// server).
func Refusal(code int, message string) *Error {
	return &Error{Status: code, Message: message}
}

// unprocessable is a 422 naming field as the one at fault.
func unprocessable(field, problem string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Message: unprocessableMessage,
		Errors: map[string]string{field: problem}}
}

type acceptedBody struct {
	Result    string      `json:"result"`
	Took      json.Number `json:"took"`
	RequestID string      `json:"requestId"`
}

type errorBody struct {
	Message   string            `json:"message"`
	Errors    map[string]string `json:"errors,omitempty"`
	Took      json.Number       `json:"took"`
	RequestID string            `json:"requestId"`
}

// Accepted is the body of a 202: the request was taken.
func Accepted(requestID string, took time.Duration) []byte {
	return marshal(acceptedBody{Result: acceptedResult, Took: seconds(took), RequestID: requestID})
}

// Body is the error's answer body.
func (e *Error) Body(requestID string, took time.Duration) []byte {
	return marshal(errorBody{Message: e.Message, Errors: e.Errors, Took: seconds(took), RequestID: requestID})
}

// seconds is took as Opsgenie writes it: seconds, to the millisecond.
func seconds(d time.Duration) json.Number {
	return json.Number(strconv.FormatFloat(max(d, 0).Seconds(), 'f', 3, 64))
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Strings, a map of strings and a well-formed number always
		// marshal.
		panic(err)
	}
	return b
}

// NewRequestID is a request id as Opsgenie gives one: a random (version 4)
// UUID, which the answer's requestId and X-Request-ID header carry, so a
// sender's log line can be found in the receiver's.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

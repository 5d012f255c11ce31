// Package jsonbody decodes the JSON request bodies of the intakes and says
// why one does not decode (empty, not JSON, a value of the wrong type), so
// each intake can answer in its sender's own error shape.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Kind is why a body did not decode.
type Kind int

const (
	// Empty means the body is empty or only whitespace.
	Empty Kind = iota + 1
	// Syntax means the body is not JSON.
	Syntax
	// WrongType means the body, or one of its fields, is JSON of another type.
	WrongType
	// Other is anything else the decoder refused.
	Other
)

// Error says why a body did not decode.
type Error struct {
	Kind Kind
	// Field is the dotted path of the field of the wrong type (WrongType);
	// empty when the body itself is.
	Field string
	// Want is the JSON type the field takes ("a string", "an object").
	Want string
	// Got is the JSON type sent ("number", "array").
	Got string
	// Offset is the byte the syntax error is at (Syntax).
	Offset int64
	// Err is the decoder's error; nil for Empty.
	Err error
}

func (e *Error) Error() string {
	switch e.Kind {
	case Empty:
		return "the request body is empty"
	case WrongType:
		field := e.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Sprintf("%s should be %s, not %s", field, e.Want, e.Got)
	}
	if e.Err == nil {
		return "the request body is not valid JSON"
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Decode reads body, a JSON value, into v. Unknown fields are ignored.
func Decode(body []byte, v any) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &Error{Kind: Empty}
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return &Error{Kind: Syntax, Offset: syntaxErr.Offset, Err: err}
	case errors.As(err, &typeErr):
		return &Error{Kind: WrongType, Field: typeErr.Field, Want: jsonKind(typeErr.Type.Kind().String()), Got: typeErr.Value, Err: err}
	}
	return &Error{Kind: Other, Err: err}
}

// jsonKind names a Go kind as the JSON value it decodes from.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	return "a " + kind
}

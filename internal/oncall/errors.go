package oncall

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel causes, so that callers can pick a condition reason with
// errors.Is without parsing messages.
var (
	// ErrUnknownTimeZone: spec.timeZone is not a time zone the operator knows.
	ErrUnknownTimeZone = errors.New("unknown time zone")
	// ErrInvalidField: any other field the API server could not check fully.
	ErrInvalidField = errors.New("invalid value")
)

// FieldError says what is wrong with one field of an OnCallSchedule spec.
type FieldError struct {
	// Path is the field path, such as spec.layers[0].start.
	Path string
	// Value is the offending value as written.
	Value string
	// Err says what is wrong; errors.Is matches it against ErrUnknownTimeZone
	// or ErrInvalidField.
	Err error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s %q: %v", e.Path, e.Value, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// InvalidSpecError lists everything wrong with a spec, so that one status
// update tells the schedule's owner all of it.
type InvalidSpecError struct {
	Fields []*FieldError
}

func (e *InvalidSpecError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Error()
	}
	return "invalid on-call schedule: " + strings.Join(msgs, "; ")
}

// Unwrap lets errors.Is and errors.As reach each field's error.
func (e *InvalidSpecError) Unwrap() []error {
	errs := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		errs[i] = f
	}
	return errs
}

// fieldErrors collects field errors while a spec is compiled.
type fieldErrors []*FieldError

// add records that the field at path is wrong: cause is one of the
// sentinels, detail says why.
func (fe *fieldErrors) add(path, value string, cause, detail error) {
	*fe = append(*fe, &FieldError{
		Path:  path,
		Value: value,
		Err:   &classified{class: cause, err: detail},
	})
}

// classified is an error that also matches its class (a sentinel) with
// errors.Is, without repeating the class in its message.
type classified struct {
	class, err error
}

func (c *classified) Error() string { return c.err.Error() }

func (c *classified) Unwrap() []error { return []error{c.class, c.err} }

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &InvalidSpecError{Fields: fe}
}

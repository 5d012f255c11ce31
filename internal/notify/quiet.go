package notify

import (
	"errors"
	"strings"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/egress"
)

// maxLogDetailBytes bounds the detail LogDetail returns.
const maxLogDetailBytes = 2048

// quietError says what failed in Klaxon's words, fit for a status that
// anyone who may view the namespace reads; detail (what the other end
// answered, which address was refused) is only for the operator's log.
type quietError struct {
	msg    string
	detail string
	err    error
}

func (e *quietError) Error() string { return e.msg }
func (e *quietError) Unwrap() error { return e.err }

// Quiet is an error reading msg whose detail is for the log only: the
// answer of the other end may be anything the channel's URL reaches,
// secrets included. It unwraps to err, if any.
func Quiet(msg, detail string, err error) error {
	return &quietError{msg: msg, detail: detail, err: err}
}

// LogDetail is what an error chain holds beyond its message, for the
// operator's debug log: the answers quoted by Quiet errors, the addresses
// the egress policy refused, the causes of failed connections. It is cut
// to a bound; empty when there is nothing more.
func LogDetail(err error) string {
	var parts []string
	walk(err, func(e error) {
		switch e := e.(type) { //nolint:errorlint // walk visits every error of the chain
		case *quietError:
			if e.detail != "" {
				parts = append(parts, e.detail)
			}
		case *egress.RefusedError:
			parts = append(parts, "refused "+e.Detail)
		case *egress.ConnectError:
			if e.Err != nil {
				parts = append(parts, e.Err.Error())
			}
		}
	})
	return bounded.Bytes(strings.Join(parts, "; "), maxLogDetailBytes)
}

// walk visits every error of a chain, joined ones included.
func walk(err error, visit func(error)) {
	if err == nil {
		return
	}
	visit(err)
	switch u := err.(type) { //nolint:errorlint // walking the chain by hand
	case interface{ Unwrap() error }:
		walk(u.Unwrap(), visit)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, visit)
		}
	}
}

// refusedByEgress reports whether the egress policy refused the address,
// which no retry changes until an administrator does.
func refusedByEgress(err error) bool {
	return errors.Is(err, egress.ErrRefused)
}

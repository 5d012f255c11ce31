package alertmanager

import (
	"slices"
	"strings"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

const (
	// maxErrorBytes bounds the text of an error, which ends up in a status
	// (MaxNotificationErrorLength).
	maxErrorBytes = 512
	// minRedacted: shorter values are not looked for in error text,
	// where they would match ordinary words.
	minRedacted = 4
)

// sendError joins the failures; the page is worth retrying unless every
// failure is permanent. A retry sends through every integration again.
func (s *sender) sendError(failed []result) error {
	errs := make([]error, 0, len(failed))
	msgs := make([]string, 0, len(failed))
	permanent := true
	for _, r := range failed {
		quiet := quietNotifierError(r.err, s.secrets)
		errs = append(errs, quiet)
		msgs = append(msgs, r.name+": "+quiet.Error())
		permanent = permanent && !r.retry
	}
	err := boundError(&joinedError{msg: "alertmanager " + strings.Join(msgs, "; "), errs: errs}, s.secrets)
	if permanent {
		return notify.Permanent(err)
	}
	return err
}

type joinedError struct {
	msg  string
	errs []error
}

func (e *joinedError) Error() string   { return e.msg }
func (e *joinedError) Unwrap() []error { return e.errs }

// boundedError is an error whose text has secrets cut out and is short
// enough for a status; it still unwraps to the original.
type boundedError struct {
	msg string
	err error
}

func (e *boundedError) Error() string { return e.msg }
func (e *boundedError) Unwrap() error { return e.err }

func boundError(err error, secrets []string) error {
	return &boundedError{msg: bounded.Bytes(redact(err.Error(), secrets), maxErrorBytes), err: err}
}

// redact cuts the secrets out of msg.
func redact(msg string, secrets []string) string {
	// Longest first, so a secret containing another is cut whole.
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if len(s) >= minRedacted {
			msg = strings.ReplaceAll(msg, s, "<redacted>")
		}
	}
	return msg
}

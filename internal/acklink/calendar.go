package acklink

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// The kinds of calendar feed.
const (
	CalendarResponder = "responder"
	CalendarSchedule  = "schedule"
)

// The Secret of a namespace's calendar feed keys: one entry per feed (see
// CalendarKeyName). The receiver reads it only with the label, so a
// Secret of that name made for something else is never taken for keys.
const (
	CalendarKeysSecret = "klaxon-calendar-keys"
	CalendarKeysLabel  = "klaxon.dev/calendar-keys"
)

// NewCalendarKey returns a new random feed key.
func NewCalendarKey() []byte {
	key := make([]byte, MinKeyLength)
	// crypto/rand.Read never fails (Go 1.24).
	_, _ = rand.Read(key)
	return key
}

// calendarMACContext signs calendar tokens: it differs from every other
// token's context, so no other token verifies as a calendar's.
const calendarMACContext = "klaxon.dev/calendar\x00"

// CalendarClaims are what a calendar token says: its holder may read this
// feed. The token does not expire; it is revoked by replacing the feed's
// key.
type CalendarClaims struct {
	Namespace string
	// Kind is CalendarResponder or CalendarSchedule.
	Kind string
	Name string
}

// Validate reports whether the claims fit a token: a known kind, every
// field set and within its bound.
func (c CalendarClaims) Validate() error {
	if c.Kind != CalendarResponder && c.Kind != CalendarSchedule {
		return fmt.Errorf("%w: calendar kind %q is neither %q nor %q", ErrMalformed, c.Kind, CalendarResponder, CalendarSchedule)
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"namespace", c.Namespace, MaxNamespaceLength},
		{"name", c.Name, MaxNameLength},
	} {
		if f.value == "" || len(f.value) > f.max {
			return fmt.Errorf("%w: %s is empty or longer than %d bytes", ErrMalformed, f.name, f.max)
		}
	}
	return nil
}

// SignCalendar returns the token of c, laid out as Sign's. Sign with the
// feed's own key (see CalendarKeyName), so replacing it revokes the feed's
// tokens and no other's.
func (s *Signer) SignCalendar(c CalendarClaims) string {
	payload := encodeCalendar(c)
	return encoding.EncodeToString(payload) + "." + encoding.EncodeToString(s.macIn(calendarMACContext, payload))
}

// CalendarURL returns the feed's address under publicURL:
// publicURL/calendar/{namespace}/{kind}/{name}.ics?token=….
func (s *Signer) CalendarURL(publicURL string, c CalendarClaims) string {
	return strings.TrimRight(publicURL, "/") + "/calendar/" + url.PathEscape(c.Namespace) + "/" + c.Kind + "/" +
		url.PathEscape(c.Name) + ".ics?token=" + s.SignCalendar(c)
}

// VerifyCalendar is Verify for a calendar token: the error wraps
// ErrMalformed or ErrBadSignature. The caller compares the claims with the
// feed asked for.
func (s *Signer) VerifyCalendar(token string) (CalendarClaims, error) {
	payload, err := s.verifiedPayload(token, calendarMACContext)
	if err != nil {
		return CalendarClaims{}, err
	}
	return decodeCalendar(payload)
}

// ClaimedCalendar returns what a calendar token claims, without checking
// its signature: only to refuse at once, before any key is read, a token
// that does not even claim the feed asked for. Nothing else may trust it.
func ClaimedCalendar(token string) (CalendarClaims, error) {
	if len(token) > MaxTokenLength || !tokenChars(token) {
		return CalendarClaims{}, fmt.Errorf("%w: not a token", ErrMalformed)
	}
	p, _, ok := strings.Cut(token, ".")
	if !ok {
		return CalendarClaims{}, fmt.Errorf("%w: no payload and signature", ErrMalformed)
	}
	payload, err := encoding.DecodeString(p)
	if err != nil {
		return CalendarClaims{}, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	return decodeCalendar(payload)
}

// CalendarKeyName is the data key of a feed's key in the calendar keys
// Secret: "<kind>.<name>", or, when that is longer than a Secret's key may
// be, "<kind>.sha256-<hex of the name's SHA-256>".
func CalendarKeyName(kind, name string) string {
	key := kind + "." + name
	if len(key) <= MaxNameLength {
		return key
	}
	sum := sha256.Sum256([]byte(name))
	return kind + ".sha256-" + hex.EncodeToString(sum[:])
}

// encodeCalendar lays the claims out as encode does: the version, then
// each string as a uvarint length and its bytes.
func encodeCalendar(c CalendarClaims) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen16+len(c.Namespace)+len(c.Kind)+len(c.Name))
	b = append(b, version)
	for _, s := range []string{c.Namespace, c.Kind, c.Name} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodeCalendar is encodeCalendar's inverse; it accepts only what
// encodeCalendar makes of valid claims.
func decodeCalendar(b []byte) (CalendarClaims, error) {
	malformed := func(what string) (CalendarClaims, error) {
		return CalendarClaims{}, fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	if len(b) == 0 || b[0] != version {
		return malformed("unknown version")
	}
	b = b[1:]
	var fields [3]string
	for i := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return malformed("truncated")
		}
		fields[i], b = string(b[k:k+int(n)]), b[k+int(n):]
	}
	if len(b) != 0 {
		return malformed("trailing bytes")
	}
	c := CalendarClaims{Namespace: fields[0], Kind: fields[1], Name: fields[2]}
	if err := c.Validate(); err != nil {
		return CalendarClaims{}, err
	}
	return c, nil
}

package acklink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Bounds of a token and of its claims. A token of claims within the bounds
// is always shorter than MaxTokenLength, which Verify checks before it
// decodes anything.
const (
	MaxTokenLength = 1024
	// MaxNamespaceLength is a DNS label's.
	MaxNamespaceLength = 63
	// MaxNameLength is a DNS subdomain's.
	MaxNameLength = 253
	// MaxUIDLength is ample for the UUIDs Kubernetes gives objects (36).
	MaxUIDLength = 64
	// MaxResponderLength is the CRD's bound on a responder's name.
	MaxResponderLength = 253
	// MinKeyLength is HMAC-SHA256's block of security: a shorter key is
	// weaker than the hash.
	MinKeyLength = 32
)

// Errors of Verify; each wraps one of these.
var (
	// ErrMalformed: not a token this package made (bad length, encoding or
	// layout).
	ErrMalformed = errors.New("malformed acknowledge link token")
	// ErrBadSignature: well formed but not signed with this key, or altered.
	ErrBadSignature = errors.New("acknowledge link token has a bad signature")
	// ErrExpired: genuine but past its expiry.
	ErrExpired = errors.New("acknowledge link token has expired")
)

// version is the payload's first byte, so the layout can change without
// reading old tokens wrongly.
const version byte = 1

// macContext is written before the payload into the MAC, so the key signs
// nothing else by accident should it ever be used for another kind of token.
const macContext = "klaxon.dev/ack-link\x00"

var encoding = base64.RawURLEncoding.Strict()

// Claims are what a token says: the responder may acknowledge this episode
// of this incident (namespace, name and UID) until Expires.
type Claims struct {
	Namespace, Name, UID string
	Episode              int32
	Responder            string
	// Expires is kept to the second.
	Expires time.Time
}

// Validate reports whether the claims fit a token: every field set and
// within its bound.
func (c Claims) Validate() error {
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"namespace", c.Namespace, MaxNamespaceLength},
		{"name", c.Name, MaxNameLength},
		{"UID", c.UID, MaxUIDLength},
		{"responder", c.Responder, MaxResponderLength},
	} {
		if f.value == "" || len(f.value) > f.max {
			return fmt.Errorf("%w: %s is empty or longer than %d bytes", ErrMalformed, f.name, f.max)
		}
	}
	if c.Episode < 1 {
		return fmt.Errorf("%w: episode %d is not positive", ErrMalformed, c.Episode)
	}
	if c.Expires.Unix() <= 0 {
		return fmt.Errorf("%w: no expiry", ErrMalformed)
	}
	return nil
}

// Signer signs and verifies tokens with one HMAC-SHA256 key.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer of a copy of key, which must be at least
// MinKeyLength bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinKeyLength {
		return nil, fmt.Errorf("acknowledge link key has %d bytes, fewer than %d", len(key), MinKeyLength)
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Sign returns the token of c: base64url of the payload, a dot, base64url
// of its HMAC. Claims that fail Validate make a token Verify refuses as
// malformed, so check them first when they come from input.
func (s *Signer) Sign(c Claims) string {
	payload := encode(c)
	return encoding.EncodeToString(payload) + "." + encoding.EncodeToString(s.mac(payload))
}

// URL returns the acknowledge link of c under publicURL (without a trailing
// slash): publicURL + "/ack/" + token.
func (s *Signer) URL(publicURL string, c Claims) string {
	return linkURL(publicURL, s.Sign(c))
}

// Link is what a page carries to be acknowledged: the link, its token and
// the reply code.
type Link struct {
	URL, Token, Code string
}

// Link signs c once and returns its acknowledge link under publicURL (as
// URL makes it), the token and the reply code.
func (s *Signer) Link(publicURL string, c Claims) Link {
	token := s.Sign(c)
	return Link{URL: linkURL(publicURL, token), Token: token, Code: s.Code(c)}
}

// linkURL is the one form of an acknowledge link.
func linkURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/ack/" + token
}

// Verify checks the token's layout, signature and expiry, in that order,
// and returns its claims. The error wraps ErrMalformed, ErrBadSignature or
// ErrExpired. Nothing of the payload is interpreted before the signature
// is checked.
func (s *Signer) Verify(token string, now time.Time) (Claims, error) {
	payload, err := s.verifiedPayload(token, macContext)
	if err != nil {
		return Claims{}, err
	}
	c, err := decode(payload)
	if err != nil {
		return Claims{}, err
	}
	if !now.Before(c.Expires) {
		return Claims{}, fmt.Errorf("%w at %s", ErrExpired, c.Expires.UTC().Format(time.RFC3339))
	}
	return c, nil
}

// verifiedPayload checks the token's layout and its MAC under context, and
// returns the payload, not yet interpreted.
func (s *Signer) verifiedPayload(token, context string) ([]byte, error) {
	if len(token) > MaxTokenLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenLength)
	}
	if !tokenChars(token) {
		return nil, fmt.Errorf("%w: a character outside base64url and '.'", ErrMalformed)
	}
	p, sig, ok := strings.Cut(token, ".")
	if !ok || p == "" {
		return nil, fmt.Errorf("%w: no payload and signature", ErrMalformed)
	}
	payload, err := encoding.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	mac, err := encoding.DecodeString(sig)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	if len(mac) != sha256.Size {
		return nil, fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(mac))
	}
	if !hmac.Equal(mac, s.macIn(context, payload)) {
		return nil, ErrBadSignature
	}
	return payload, nil
}

func (s *Signer) mac(payload []byte) []byte { return s.macIn(macContext, payload) }

// macIn is the MAC of payload for one kind of token, named by context.
func (s *Signer) macIn(context string, payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(context))
	m.Write(payload)
	return m.Sum(nil)
}

// encode lays the claims out as the version, then each string as a uvarint
// length and its bytes, then the episode and the expiry in Unix seconds as
// varints.
func encode(c Claims) []byte {
	b := make([]byte, 0, 1+4*binary.MaxVarintLen16+len(c.Namespace)+len(c.Name)+len(c.UID)+len(c.Responder)+2*binary.MaxVarintLen64)
	b = append(b, version)
	for _, s := range []string{c.Namespace, c.Name, c.UID, c.Responder} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, int64(c.Episode))
	b = binary.AppendVarint(b, c.Expires.Unix())
	return b
}

// decode is encode's inverse; it accepts only what encode makes of valid
// claims.
func decode(b []byte) (Claims, error) {
	malformed := func(what string) (Claims, error) {
		return Claims{}, fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	if len(b) == 0 || b[0] != version {
		return malformed("unknown version")
	}
	b = b[1:]
	var fields [4]string
	for i := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return malformed("truncated")
		}
		fields[i], b = string(b[k:k+int(n)]), b[k+int(n):]
	}
	episode, k := binary.Varint(b)
	if k <= 0 || episode != int64(int32(episode)) {
		return malformed("bad episode")
	}
	b = b[k:]
	expires, k := binary.Varint(b)
	if k <= 0 || k != len(b) {
		return malformed("bad expiry or trailing bytes")
	}
	c := Claims{Namespace: fields[0], Name: fields[1], UID: fields[2], Responder: fields[3],
		Episode: int32(episode), Expires: time.Unix(expires, 0).UTC()}
	if err := c.Validate(); err != nil {
		return Claims{}, err
	}
	return c, nil
}

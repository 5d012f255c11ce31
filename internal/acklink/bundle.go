package acklink

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// MaxBundleLength bounds a bundle's ID, as the Incident status does.
const MaxBundleLength = 63

// bundleMACContext signs bundle tokens: it differs from macContext, so an
// acknowledge link's token never verifies as a bundle's, nor the reverse.
const bundleMACContext = "klaxon.dev/ack-all-link\x00"

// BundleClaims are what a bundle's token says: the responder may
// acknowledge every incident of the namespace that records the bundle as
// sent to them, in its current episode, until Expires.
type BundleClaims struct {
	Namespace, Bundle, Responder string
	// Expires is kept to the second.
	Expires time.Time
}

// Validate reports whether the claims fit a token: every field set and
// within its bound.
func (c BundleClaims) Validate() error {
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"namespace", c.Namespace, MaxNamespaceLength},
		{"bundle", c.Bundle, MaxBundleLength},
		{"responder", c.Responder, MaxResponderLength},
	} {
		if f.value == "" || len(f.value) > f.max {
			return fmt.Errorf("%w: %s is empty or longer than %d bytes", ErrMalformed, f.name, f.max)
		}
	}
	if c.Expires.Unix() <= 0 {
		return fmt.Errorf("%w: no expiry", ErrMalformed)
	}
	return nil
}

// SignBundle returns the token of c, laid out as Sign's. Claims that fail
// Validate make a token VerifyBundle refuses as malformed.
func (s *Signer) SignBundle(c BundleClaims) string {
	payload := encodeBundle(c)
	return encoding.EncodeToString(payload) + "." + encoding.EncodeToString(s.macIn(bundleMACContext, payload))
}

// BundleURL returns the acknowledge-all link of c under publicURL (without
// a trailing slash): publicURL + "/ack-all/" + token.
func (s *Signer) BundleURL(publicURL string, c BundleClaims) string {
	return strings.TrimRight(publicURL, "/") + "/ack-all/" + s.SignBundle(c)
}

// VerifyBundle is Verify for a bundle's token: the error wraps
// ErrMalformed, ErrBadSignature or ErrExpired.
func (s *Signer) VerifyBundle(token string, now time.Time) (BundleClaims, error) {
	payload, err := s.verifiedPayload(token, bundleMACContext)
	if err != nil {
		return BundleClaims{}, err
	}
	c, err := decodeBundle(payload)
	if err != nil {
		return BundleClaims{}, err
	}
	if !now.Before(c.Expires) {
		return BundleClaims{}, fmt.Errorf("%w at %s", ErrExpired, c.Expires.UTC().Format(time.RFC3339))
	}
	return c, nil
}

// encodeBundle lays the claims out as encode does: the version, each
// string as a uvarint length and its bytes, the expiry as a varint.
func encodeBundle(c BundleClaims) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen16+len(c.Namespace)+len(c.Bundle)+len(c.Responder)+binary.MaxVarintLen64)
	b = append(b, version)
	for _, s := range []string{c.Namespace, c.Bundle, c.Responder} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return binary.AppendVarint(b, c.Expires.Unix())
}

// decodeBundle is encodeBundle's inverse; it accepts only what encodeBundle
// makes of valid claims.
func decodeBundle(b []byte) (BundleClaims, error) {
	malformed := func(what string) (BundleClaims, error) {
		return BundleClaims{}, fmt.Errorf("%w: %s", ErrMalformed, what)
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
	expires, k := binary.Varint(b)
	if k <= 0 || k != len(b) {
		return malformed("bad expiry or trailing bytes")
	}
	c := BundleClaims{Namespace: fields[0], Bundle: fields[1], Responder: fields[2], Expires: time.Unix(expires, 0).UTC()}
	if err := c.Validate(); err != nil {
		return BundleClaims{}, err
	}
	return c, nil
}

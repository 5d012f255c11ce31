package acklink

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
)

// MaxSealedLength bounds what Open reads.
const MaxSealedLength = 2000

// Seal returns data with a MAC made with the signer's key for purpose, as
// base64url(data) "." base64url(MAC), so that data handed to someone else
// (the value of a Slack button, say) comes back unaltered. A purpose keeps
// a value sealed for one use from being accepted for another, or as an
// acknowledge link.
func (s *Signer) Seal(purpose string, data []byte) string {
	return encoding.EncodeToString(data) + "." + encoding.EncodeToString(s.sealMAC(purpose, data))
}

// Open returns the data of a value Seal made for purpose with the same key;
// ErrMalformed or ErrBadSignature otherwise.
func (s *Signer) Open(purpose, sealed string) ([]byte, error) {
	if len(sealed) > MaxSealedLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxSealedLength)
	}
	if !tokenChars(sealed) {
		return nil, fmt.Errorf("%w: a character outside base64url and '.'", ErrMalformed)
	}
	d, m, ok := strings.Cut(sealed, ".")
	if !ok {
		return nil, fmt.Errorf("%w: no data and MAC", ErrMalformed)
	}
	data, err := encoding.DecodeString(d)
	if err != nil {
		return nil, fmt.Errorf("%w: data: %w", ErrMalformed, err)
	}
	mac, err := encoding.DecodeString(m)
	if err != nil || len(mac) != sha256.Size {
		return nil, fmt.Errorf("%w: MAC", ErrMalformed)
	}
	if !hmac.Equal(mac, s.sealMAC(purpose, data)) {
		return nil, ErrBadSignature
	}
	return data, nil
}

func (s *Signer) sealMAC(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("klaxon.dev/sealed\x00" + purpose + "\x00"))
	m.Write(data)
	return m.Sum(nil)
}

// tokenChars reports whether s holds only base64url characters and dots:
// Go's base64 decoder skips line breaks, so without this check one token
// would have many spellings.
func tokenChars(s string) bool {
	for i := range len(s) {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

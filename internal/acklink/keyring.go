package acklink

import (
	"crypto/hmac"
	"sync/atomic"
	"time"
)

// Keyring holds the Signer once its key is loaded, for the receiver and the
// incident reconciler, which start before the key is read. Its zero value
// (and nil) holds none.
type Keyring struct {
	signer atomic.Pointer[Signer]
}

// Signer returns the Signer, or false until a key is loaded. A page sent
// before then carries no acknowledge link.
func (k *Keyring) Signer() (*Signer, bool) {
	if k == nil {
		return nil, false
	}
	s := k.signer.Load()
	return s, s != nil
}

// Set replaces the Signer; tokens of the previous key stop verifying.
func (k *Keyring) Set(s *Signer) {
	k.signer.Store(s)
}

// Equal reports whether two signers hold the same key.
func (s *Signer) Equal(o *Signer) bool {
	return s != nil && o != nil && hmac.Equal(s.key, o.key)
}

// DefaultTTL is how long a link stays valid unless configured otherwise:
// long enough to answer a page sent overnight.
const DefaultTTL = 24 * time.Hour
